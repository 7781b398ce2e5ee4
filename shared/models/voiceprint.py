"""Speaker embeddings ("voiceprints") with Resemblyzer's GE2E voice encoder (weights shipped in the `resemblyzer`
pip package): one 256-d unit vector per recording, and the cosine similarity of two.

Used wherever the app asks "is this the same voice?": the built-in diarizer's clustering, known speakers,
speaker verification, and the speaker similarity of cloned or converted voices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.errors import ModelUnavailableError, UserError
from shared.models.device import Placement
from shared.models.registry import ModelSpec

VOICEPRINT_MODEL_ID = "offline:resemblyzer"
SAMPLE_RATE = 16_000
MEL_HOP = 160  # samples (10 ms): 40 mel bands every 10 ms
MEL_WINDOW = 400  # samples (25 ms)
PARTIAL_FRAMES = 160  # mel frames per partial utterance (1.6 s), as Resemblyzer was trained
PARTIAL_STEP = 80  # mel frames between partials (50 % overlap)
TARGET_DBFS = -30.0  # the level Resemblyzer's training speech was raised to (never lowered)
QUIET_DB = 40.0  # mel frames this far below the loudest are silence, left out of the voiceprint
MIN_VOICED_S = 0.5  # seconds of sound a voiceprint needs at least
# The one same-speaker threshold of the app (known speakers, verification, the speaker similarity of cloned and
# converted voices): the cosine at the equal error rate of these voiceprints on real voices
# (bench/bench_voiceprint_eer.py, bench/results/voiceprint_eer.json, 2026-12-01): 23 utterances of 1.5-3.5 s from
# 6 speakers (pyannote's sample.wav x2, Piper joe, Gradio's shipped recordings x3), 51 same-speaker and 202
# different-speaker pairs: EER 9.9 % at 0.6235 (same-speaker mean 0.82, different 0.50).
VERIFY_THRESHOLD = 0.62
VERIFY_EER = 0.099  # the equal error rate there (at 0.62 itself: 7.8 % same-speaker pairs missed, 10.4 % false accepts)


def resemblyzer_mel(samples_16k: np.ndarray) -> np.ndarray:
    """Resemblyzer's input: 40-band mel power (not log), 25 ms Hann windows every 10 ms, as (frames, 40). The same
    numbers as its librosa call, via the app's numpy STFT (librosa's first call costs seconds of JIT)."""
    from shared.audio.dsp import mel_filterbank, stft_power

    spec = stft_power(samples_16k, SAMPLE_RATE, MEL_WINDOW, MEL_HOP)
    filters = mel_filterbank(SAMPLE_RATE, MEL_WINDOW, 40, 0.0, SAMPLE_RATE / 2)
    return np.ascontiguousarray((filters @ spec.power).T)


def raise_level(samples: np.ndarray, voiced: np.ndarray | None = None) -> np.ndarray:
    """`samples` raised to -30 dBFS, measured on `voiced` (default: the samples themselves); never lowered."""
    reference = samples if voiced is None else voiced
    rms = float(np.sqrt(np.mean(np.square(reference, dtype=np.float64)))) if len(reference) else 0.0
    if rms < 1e-5:  # digital silence: nothing to raise
        return samples
    gain = 10 ** (TARGET_DBFS / 20) / rms
    return samples * np.float32(gain) if gain > 1 else samples


def partials(frames: np.ndarray, step: int = PARTIAL_FRAMES) -> list[np.ndarray]:
    """Cut mel frames into 1.6 s partials every `step` frames (the last ends at the end); a short input is tiled."""
    if len(frames) < PARTIAL_FRAMES:
        return [np.resize(frames, (PARTIAL_FRAMES, frames.shape[1]))]
    starts = sorted({*range(0, len(frames) - PARTIAL_FRAMES, step), len(frames) - PARTIAL_FRAMES})
    return [frames[start:start + PARTIAL_FRAMES] for start in starts]


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    """Cosine similarity of two vectors, in [-1, 1]."""
    norms = float(np.linalg.norm(first) * np.linalg.norm(second))
    return float(np.dot(first, second) / norms) if norms > 0 else 0.0


class VoicePrinter:
    """Resemblyzer's encoder (a small torch LSTM) turned into `embed(samples) -> unit 256-d vector`."""

    def __init__(self, encoder: Any, device: str) -> None:
        self.encoder = encoder  # resemblyzer.VoiceEncoder
        self.device = device

    def embed_partials(self, pieces: list[np.ndarray]) -> np.ndarray:
        """(n, 256) unit embeddings of 1.6 s mel partials, in batches of 64."""
        import torch

        outputs = []
        with torch.inference_mode():
            for first in range(0, len(pieces), 64):
                batch = torch.from_numpy(np.stack(pieces[first:first + 64])).to(self.device)
                outputs.append(self.encoder(batch).float().cpu().numpy())
        return np.concatenate(outputs)

    def embed(self, samples_16k: np.ndarray) -> np.ndarray:
        """The voiceprint of one recording (16 kHz mono float): its partials' mean embedding, unit length.
        Silences are left out; raises UserError when under half a second of sound remains."""
        mel = resemblyzer_mel(raise_level(samples_16k))
        loudness_db = 10 * np.log10(mel.sum(axis=1) + 1e-10)
        voiced = mel[loudness_db > loudness_db.max() - QUIET_DB] if len(mel) else mel
        if len(voiced) * MEL_HOP / SAMPLE_RATE < MIN_VOICED_S or loudness_db.max() < -60:
            raise UserError("The recording has too little sound to tell whose voice it is (at least 0.5 s of "
                            "speech is needed).")
        total = self.embed_partials(partials(voiced, PARTIAL_STEP)).mean(axis=0)
        return total / max(float(np.linalg.norm(total)), 1e-8)

    def similarity(self, first_16k: np.ndarray, second_16k: np.ndarray) -> float:
        """Cosine similarity of two recordings' voiceprints."""
        return cosine(self.embed(first_16k), self.embed(second_16k))


def load_voiceprint(spec: ModelSpec, placement: Placement, options: dict) -> VoicePrinter:
    """Resemblyzer's shipped GE2E encoder on the placement's device (CUDA or CPU)."""
    import torch

    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise ModelUnavailableError("Voiceprints need the pip package resemblyzer; install the requirements.") from exc
    device = placement.device if placement.device in ("cpu", "cuda") else "cpu"
    return VoicePrinter(VoiceEncoder(device=torch.device(device), verbose=False).eval(), device)
