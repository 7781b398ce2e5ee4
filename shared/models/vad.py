"""Voice activity detection with Silero VAD (weights shipped in the `silero-vad` pip package).

Used to answer "no speech detected" instead of letting an ASR model invent text for silence or noise, as the
speech detector of the built-in diarizer and Moonshine's chunking, and (one state per stream) by live transcription.

The model is Silero's "sequence" ONNX export: one onnxruntime call scores a block of 32 ms windows (its recurrent
state passed in and out), giving the same per-window probabilities as the streaming JIT model called window by
window (within 3e-6 here, so the same decisions) at 1/14 (30 s) to 1/7 (10 min) of its CPU cost
(bench/bench_app_overhead.py --vad). The state lives in the caller, not in the model, so one loaded session serves
concurrent requests without a lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from shared.models.device import Placement
from shared.models.registry import ModelSpec

VAD_MODEL_ID = "offline:silero-vad"
SAMPLE_RATE = 16_000
WINDOW = 512  # samples per Silero window at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window each window sees
BLOCK_WINDOWS = 64  # windows scored per onnxruntime call (2.05 s): the silence gate's early-stop granularity
MODEL_FILE = "silero_vad_16k_sequence.onnx"
STATE_SIZE = 128  # the LSTM's hidden size
THRESHOLD = 0.5  # speech probability that starts a region (silero's default)


@dataclass
class VadState:
    """One audio stream's recurrent state: LSTM hidden and cell, and the last CONTEXT samples seen."""

    hidden: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, STATE_SIZE), np.float32))
    cell: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, STATE_SIZE), np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(CONTEXT, np.float32))


class SileroVad:
    """Silero VAD over an onnxruntime session: speech probabilities per 32 ms window, speech segments, and the
    silence gate. Thread-safe (the session is; every call keeps its own state)."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.calls = 0  # onnxruntime calls so far (tests check the silence gate's early stop with it)

    def score(self, windows: np.ndarray, state: VadState) -> np.ndarray:
        """Speech probability of each whole 512-sample window in `windows` (1-D, 16 kHz, a multiple of WINDOW
        samples), continuing from `state`, which is updated in place."""
        frames = np.asarray(windows, np.float32).reshape(-1, WINDOW)
        if not len(frames):
            return np.zeros(0, np.float32)
        contexts = np.concatenate([state.context[None], frames[:-1, -CONTEXT:]])
        self.calls += 1
        probs, state.hidden, state.cell = self._session.run(
            ["speech_probs", "hn", "cn"],
            {"input": np.concatenate([contexts, frames], axis=1), "h": state.hidden, "c": state.cell})
        state.context = frames[-1, -CONTEXT:].copy()
        return np.asarray(probs, np.float32).reshape(-1)

    def probability_blocks(self, samples_16k: np.ndarray) -> Iterator[np.ndarray]:
        """The clip's window probabilities, BLOCK_WINDOWS at a time (the last window zero-padded), one state."""
        audio = np.ascontiguousarray(samples_16k, dtype=np.float32)
        state = VadState()
        block = BLOCK_WINDOWS * WINDOW
        for begin in range(0, len(audio), block):
            piece = audio[begin:begin + block]
            yield self.score(np.pad(piece, (0, -len(piece) % WINDOW)), state)

    def speech_segments(self, samples_16k: np.ndarray, threshold: float = THRESHOLD,
                        min_speech_s: float = 0.25) -> list[tuple[float, float]]:
        """Speech regions (start, end) in seconds, as silero's `get_speech_timestamps` finds them (its defaults:
        100 ms of silence ends a region, 30 ms padding)."""
        blocks = list(self.probability_blocks(samples_16k))
        probs = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        return segments_from_probabilities(probs, len(samples_16k), threshold, min_speech_s)

    def has_speech(self, samples_16k: np.ndarray, min_speech_s: float = 0.2) -> bool:
        """Is there at least `min_speech_s` s of speech (regions of at least 0.25 s)? The same answer as a full
        `speech_segments` scan, but it stops early once finished regions already add up to that. It checks after
        1, 2, 4, 8... blocks (each check re-reads all probabilities so far: doubling keeps the total linear), so it
        stops within twice the audio needed."""
        seen: list[np.ndarray] = []
        triggered = False
        for probs in self.probability_blocks(samples_16k):
            seen.append(probs)
            triggered = triggered or bool((probs >= THRESHOLD).any())
            due = len(seen) & (len(seen) - 1) == 0  # a power of two
            if triggered and due and settled_speech_s(np.concatenate(seen)) >= min_speech_s:
                return True
        probs = np.concatenate(seen) if seen else np.zeros(0, np.float32)
        return speech_seconds(segments_from_probabilities(probs, len(samples_16k))) >= min_speech_s


class StreamModel:
    """One audio stream's Silero model for silero's `VADIterator` (live transcription): its own `VadState` over
    the shared session, one 512-sample window per call."""

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self.state = VadState()

    def __call__(self, window: Any, sampling_rate: int) -> np.ndarray:
        """The window's speech probability (a 1-element array: VADIterator calls `.item()` on it)."""
        samples = window.numpy() if hasattr(window, "numpy") else np.asarray(window)
        return self._vad.score(np.asarray(samples, np.float32).reshape(-1), self.state)

    def reset_states(self) -> None:
        self.state = VadState()


def segments_from_probabilities(probs: np.ndarray, length: int, threshold: float = THRESHOLD,
                                min_speech_s: float = 0.25, pad_ms: int = 30) -> list[tuple[float, float]]:
    """Silero's own state machine (`get_speech_timestamps_from_probs`) over window probabilities of a clip of
    `length` samples: speech regions (start, end) in seconds."""
    from silero_vad import get_speech_timestamps_from_probs

    stamps = get_speech_timestamps_from_probs(
        probs.tolist(), sampling_rate=SAMPLE_RATE, threshold=threshold, min_speech_duration_ms=int(min_speech_s * 1000),
        speech_pad_ms=pad_ms, audio_length_samples=length)
    return [(stamp["start"] / SAMPLE_RATE, stamp["end"] / SAMPLE_RATE) for stamp in stamps]


def settled_speech_s(probs: np.ndarray) -> float:
    """Seconds of speech in the regions that have already ended within these probabilities (unpadded): a lower
    bound of what the whole clip's scan finds, since the state machine is causal and padding only adds."""
    length = len(probs) * WINDOW
    regions = segments_from_probabilities(probs, length, pad_ms=0)
    return speech_seconds([(start, end) for start, end in regions if end * SAMPLE_RATE < length])


def load_silero(spec: ModelSpec, placement: Placement, options: dict) -> SileroVad:
    """The sequence ONNX model from the silero-vad package, on CPU with one thread (the windows are tiny)."""
    import onnxruntime

    session_options = onnxruntime.SessionOptions()
    session_options.inter_op_num_threads = session_options.intra_op_num_threads = 1
    path = resources.files("silero_vad.data").joinpath(MODEL_FILE)
    return SileroVad(onnxruntime.InferenceSession(str(path), sess_options=session_options,
                                                  providers=["CPUExecutionProvider"]))


def speech_seconds(segments: list[tuple[float, float]]) -> float:
    """Total length (s) of (start, end) segments."""
    return float(sum(end - start for start, end in segments))
