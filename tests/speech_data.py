"""Real speech for tests: pyannote's shipped sample (+ its transcript) and sentences spoken by the Piper voice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PIPER_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition is easier than you think.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "The weather today is sunny with a light breeze from the west.",
)
# Piper's voice noise is not seeded, so what the built-in Whisper hears varies from run to run: over 75 syntheses of
# the first three sentences it misheard 0-2 of sentence 2's 7 words ("Each recognition", "reach recognition this")
# and 0-1 of sentence 3's 15; a CI run heard 3 errors in sentences 1-2. Round-trip bounds catch a broken path (WER
# near 1), so they leave room above the worst seen.
PIPER_ROUND_TRIP_WER = 0.2


def pyannote_sample_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pyannote.audio")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "sample"


def sample_wav() -> Path:
    return pyannote_sample_dir() / "sample.wav"


def sample_transcript() -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, text) lines of sample.stm."""
    lines = []
    for line in (pyannote_sample_dir() / "sample.stm").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            lines.append((parts[2], float(parts[3]), float(parts[4]), parts[5]))
    return lines


def sample_reference_text() -> str:
    return " ".join(text for *_, text in sample_transcript())


def synthesize(text: str) -> tuple[np.ndarray, int]:
    """Deterministic Piper speech (noise scales 0): float32 mono at 22.05 kHz."""
    from tests.tiny_models.ct2_whisper import synthesize_piper

    return synthesize_piper(text)


def sample_wav_speaker_turns(min_s: float = 1.5) -> dict[str, list[np.ndarray]]:
    """sample.wav cut by its reference RTTM: {speaker: [16 kHz samples of each turn of at least `min_s` seconds]},
    overlapped parts included as the RTTM has them."""
    import soundfile as sf

    samples, rate = sf.read(sample_wav(), dtype="float32")
    assert rate == 16_000
    turns: dict[str, list[np.ndarray]] = {}
    for line in (pyannote_sample_dir() / "sample.rttm").read_text().splitlines():
        fields = line.split()
        start, duration, speaker = float(fields[3]), float(fields[4]), fields[7]
        if duration >= min_s:
            turns.setdefault(speaker, []).append(samples[int(start * rate):int((start + duration) * rate)])
    return turns
