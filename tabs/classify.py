"""Classify tab (placeholder until its issue lands)."""

from __future__ import annotations

from shared import registry
from tabs import coming


def build() -> None:
    coming.build(registry.CLASSIFY, "Audio Spectrogram Transformer and friends: AudioSet labels, top-k, sound "
                 "events over time.")
