"""Diarize tab (placeholder until its issue lands)."""

from __future__ import annotations

from shared import registry
from tabs import coming


def build() -> None:
    coming.build(registry.DIARIZE, "Who spoke when: segmentation → embeddings → clustering.")
