"""Tiny random voice-cloning TTS models (CSM, Dia, SpeechT5 x-vector).

family -> builder, like transformers_models.BUILDERS."""

from __future__ import annotations

from tests.tiny_models import Builder

BUILDERS: dict[str, Builder] = {}
