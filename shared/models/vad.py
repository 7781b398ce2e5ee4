"""Voice activity detection with Silero VAD (weights shipped in the `silero-vad` pip package).

Used to answer "no speech detected" instead of letting an ASR model invent text for silence or noise, and as
the speech detector of the built-in diarizer.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from shared.models.device import Placement
from shared.models.registry import ModelSpec

VAD_MODEL_ID = "offline:silero-vad"
SAMPLE_RATE = 16_000


class SileroVad:
    """The JIT model keeps recurrent state between windows, so one call runs at a time per instance."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()

    def speech_segments(self, samples_16k: np.ndarray, threshold: float = 0.5,
                        min_speech_s: float = 0.25) -> list[tuple[float, float]]:
        import torch
        from silero_vad import get_speech_timestamps

        audio = torch.from_numpy(np.ascontiguousarray(samples_16k, dtype=np.float32))
        with self._lock, torch.inference_mode():
            stamps = get_speech_timestamps(audio, self._model, threshold=threshold, sampling_rate=SAMPLE_RATE,
                                           min_speech_duration_ms=int(min_speech_s * 1000), return_seconds=False)
        return [(stamp["start"] / SAMPLE_RATE, stamp["end"] / SAMPLE_RATE) for stamp in stamps]


    def has_speech(self, samples_16k: np.ndarray, min_speech_s: float = 0.2, block_s: float = 30.0) -> bool:
        """Scan block by block and stop at the first with enough speech: near-free for files that have speech."""
        block = int(block_s * SAMPLE_RATE)
        for begin in range(0, len(samples_16k), block):
            if speech_seconds(self.speech_segments(samples_16k[begin:begin + block])) >= min_speech_s:
                return True
        return False


def load_silero(spec: ModelSpec, placement: Placement, options: dict) -> SileroVad:
    from silero_vad import load_silero_vad

    return SileroVad(load_silero_vad(onnx=False))


def speech_seconds(segments: list[tuple[float, float]]) -> float:
    return float(sum(end - start for start, end in segments))
