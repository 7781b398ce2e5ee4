"""NVIDIA Nemotron 3 Diarization (Streaming Sortformer, native in transformers 5.24) as a diarization engine: 16 kHz
audio → 128-bin log-mel every 10 ms → one forward → per-frame activity of up to 8 speakers, ordered by first arrival
→ turns. No token, no VAD, no clustering: the model itself decides who speaks when, overlaps included.

Long files: the model's offline forward already cuts the recording into chunks of 340 encoder frames (27.2 s) and
carries an Arrival-Order Speaker Cache from chunk to chunk, so speaker 2 in the last chunk is speaker 2 of the first;
no windows or voiceprint linking are needed on top. A forward hook on the per-chunk encoder reports progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.diarize.capture import FrameActivity, speaker_request
from shared.models.device import Placement
from shared.models.registry import ModelSpec
from shared.progress import Progress, no_progress

SAMPLE_RATE = 16_000
ACTIVE_PROBABILITY = 0.5  # a speaker speaks in a frame when the model's probability is above this
MIN_GAP_S = 0.25  # seconds: shorter silences inside one speaker's speech are bridged
MIN_TURN_S = 0.1  # seconds: shorter islands of activity are dropped

RawTurn = tuple[float, float, str]


@dataclass
class SpeakerPlan:
    """Which of the model's output columns become speakers, and why the count may differ from the request."""

    kept: list[int]  # columns kept, in arrival order
    note: str = ""  # "" when the request was met (or there was none)


class NemotronDiarizer:
    """The loaded model and its processor: `run(samples)` → turns and the frame × speaker activity."""

    def __init__(self, model: Any, processor: Any, device: str, dtype: Any) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype

    @property
    def frame_s(self) -> float:
        """Seconds per output frame (the spectrogram hop: 10 ms)."""
        extractor = self.processor.feature_extractor
        return extractor.hop_length / extractor.sampling_rate

    def activity(self, samples: np.ndarray, progress: Progress = no_progress) -> np.ndarray:
        """(frames, speakers) probabilities 0..1 for 16 kHz mono float samples, one frame per 10 ms."""
        import torch

        inputs = self.processor(samples, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        inputs = inputs.to(self.device)
        inputs["input_features"] = inputs["input_features"].to(self.dtype)
        chunk = self.model.config.chunk_length * self.model.config.audio_config.subsampling_factor
        total = max(1, -(-inputs["input_features"].shape[1] // chunk))
        done = [0]

        def tick(*_: Any) -> None:
            done[0] += 1
            progress(min(done[0] / total, 1.0), f"Nemotron: chunk {min(done[0], total)} of {total}")

        handle = self.model.model.register_forward_hook(tick)
        try:
            with torch.inference_mode():
                logits = self.model(**inputs).logits[0]
        finally:
            handle.remove()
        return logits.float().sigmoid().cpu().numpy()

    def run(self, samples: np.ndarray, *, num_speakers: int | None = None, min_speakers: int | None = None,
            max_speakers: int | None = None, progress: Progress = no_progress) -> tuple[list[RawTurn], FrameActivity]:
        """Turns (start s, end s, SPEAKER_xx) and the activity matrix they came from, honouring the speaker counts
        where the model's answer allows (see `plan_speakers`)."""
        probabilities = self.activity(samples, progress)
        active = probabilities > ACTIVE_PROBABILITY
        plan = plan_speakers(active, probabilities, self.frame_s, num_speakers, min_speakers, max_speakers)
        binary = merge_dropped(active, probabilities, plan.kept)
        raw, names = activity_turns(binary, self.frame_s, len(samples) / SAMPLE_RATE)
        labels = [names.get(column, "") for column in range(probabilities.shape[1])]
        request = speaker_request(num_speakers, min_speakers, max_speakers)
        return raw, FrameActivity(probabilities.astype(np.float32), self.frame_s, labels, ACTIVE_PROBABILITY,
                                  plan.note, request)


def speaking_columns(active: np.ndarray, frame_s: float) -> list[int]:
    """Columns (speakers) active for at least MIN_TURN_S seconds in total, in arrival order."""
    return [int(column) for column in np.flatnonzero(active.sum(axis=0) * frame_s >= MIN_TURN_S)]


def plan_speakers(active: np.ndarray, probabilities: np.ndarray, frame_s: float, num_speakers: int | None,
                  min_speakers: int | None, max_speakers: int | None) -> SpeakerPlan:
    """Keep at most the requested number of speakers (the ones that speak longest). The model cannot invent a voice:
    with fewer speakers heard than the exact or minimum number asked for, the note says so."""
    found = speaking_columns(active, frame_s)
    upper, lower = num_speakers or max_speakers, num_speakers or min_speakers
    columns = probabilities.shape[1]
    if upper is not None and upper > columns:
        return SpeakerPlan(found, f"Nemotron 3 Diarization tells at most {columns} speakers apart; it found "
                                  f"{len(found)}.")
    if upper is not None and len(found) > upper:
        seconds = active.sum(axis=0)
        kept = sorted(sorted(found, key=lambda column: -seconds[column])[:upper])
        return SpeakerPlan(kept, f"The model heard {len(found)} speakers; the {len(found) - upper} speaker(s) who "
                                 "spoke least were given to the most likely of the others, as you asked for "
                                 f"{speaker_request(num_speakers, min_speakers, max_speakers)}.")
    if lower is not None and len(found) < lower:
        return SpeakerPlan(found, f"The model heard only {len(found)} speaker(s), fewer than the "
                                  f"{speaker_request(num_speakers, min_speakers, max_speakers)} you asked for: an "
                                  "end-to-end diarizer does not invent voices it does not hear.")
    return SpeakerPlan(found)


def merge_dropped(active: np.ndarray, probabilities: np.ndarray, kept: list[int]) -> np.ndarray:
    """(frames, speakers) bool with only the kept columns; a frame where only a dropped speaker was active goes to
    the kept speaker the model found most likely there."""
    binary = np.zeros_like(active)
    if not kept:
        return binary
    binary[:, kept] = active[:, kept]
    orphan = active.any(axis=1) & ~binary.any(axis=1)
    best = np.asarray(kept)[np.argmax(probabilities[:, kept], axis=1)]
    binary[np.flatnonzero(orphan), best[orphan]] = True
    return binary


def activity_turns(binary: np.ndarray, frame_s: float, duration_s: float) -> tuple[list[RawTurn], dict[int, str]]:
    """Runs of active frames per column → (start s, end s, label) turns, gaps under MIN_GAP_S bridged and turns
    under MIN_TURN_S dropped; labels SPEAKER_00… by first appearance, and each column's label."""
    raw: list[tuple[float, float, int]] = []
    for column in range(binary.shape[1]):
        raw += [(start, end, column) for start, end in _runs(binary[:, column], frame_s, duration_s)]
    raw.sort()
    names: dict[int, str] = {}
    for _, _, column in raw:
        names.setdefault(column, f"SPEAKER_{len(names):02d}")
    return [(round(start, 3), round(end, 3), names[column]) for start, end, column in raw], names


def _runs(active: np.ndarray, frame_s: float, duration_s: float) -> list[tuple[float, float]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    runs: list[list[float]] = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start_s, end_s = float(first * frame_s), float(min(stop * frame_s, duration_s))
        if runs and start_s - runs[-1][1] < MIN_GAP_S:
            runs[-1][1] = end_s
        else:
            runs.append([start_s, end_s])
    return [(start, end) for start, end in runs if end - start >= MIN_TURN_S]


def load_nemotron(spec: ModelSpec, placement: Placement, options: dict) -> NemotronDiarizer:
    """The model (safetensors only, no remote code) and its processor, on the placement's device and dtype."""
    from transformers import AutoModelForAudioFrameClassification, AutoProcessor

    processor = AutoProcessor.from_pretrained(spec.id, trust_remote_code=False)
    model = AutoModelForAudioFrameClassification.from_pretrained(
        spec.id, dtype=placement.torch_dtype, use_safetensors=True, trust_remote_code=False)
    return NemotronDiarizer(model.to(placement.device).eval(), processor, placement.device, placement.torch_dtype)
