"""Text-to-speech tab (placeholder until its issue lands)."""

from __future__ import annotations

from shared import registry
from tabs import coming


def build() -> None:
    coming.build(registry.TTS, "SpeechT5, Bark, MMS and a built-in Piper voice, side by side.")
