"""Tiny random ASR, language-ID and zero-shot models of the models issue.

family -> builder, like transformers_models.BUILDERS."""

from __future__ import annotations

from tests.tiny_models import Builder

BUILDERS: dict[str, Builder] = {}
