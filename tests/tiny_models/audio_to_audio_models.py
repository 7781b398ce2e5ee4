"""Tiny random audio-to-audio models.

family -> builder, like transformers_models.BUILDERS."""

from __future__ import annotations

from tests.tiny_models import Builder

BUILDERS: dict[str, Builder] = {}
