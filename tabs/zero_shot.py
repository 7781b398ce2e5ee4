"""Zero-shot tab (placeholder until its issue lands)."""

from __future__ import annotations

from shared import registry
from tabs import coming


def build() -> None:
    coming.build(registry.ZERO_SHOT, "CLAP scores your own labels against the sound.")
