"""Nemotron 3 Diarization as a diarization engine: activity → turns and the speaker-count rules on hand-built
matrices with known answers, the tiny random model through the shared loader (transformers' own
Nemotron3DiarizationForAudioFrameClassification + processor, offline chunking with its speaker cache), its "Inside
the model" activity matrix drawn from the one run, and the Diarize tab's API through the launched app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.diarize import nemotron
from shared.diarize import run as dz
from shared.diarize.capture import FrameActivity
from shared.diarize.inside import render_inside
from shared.inside import ForwardCounter
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.models.registry import get_spec
from tests.speech_data import sample_wav

NEMOTRON = "nvidia/Nemotron-3-Diarization"
FRAME_S = 0.01


def spans(binary_rows: dict[int, list[tuple[float, float]]], seconds: float, speakers: int = 8) -> np.ndarray:
    """(frames, speakers) bool with each column active over the given [start, end) seconds."""
    active = np.zeros((round(seconds / FRAME_S), speakers), bool)
    for column, ranges in binary_rows.items():
        for start, end in ranges:
            active[round(start / FRAME_S):round(end / FRAME_S), column] = True
    return active


def test_activity_turns_on_a_hand_built_matrix() -> None:
    # speaker slot 1 arrives first; slot 0 overlaps it; a 0.1 s gap is bridged, a 0.05 s island dropped
    active = spans({1: [(0.5, 2.0), (2.1, 3.0), (5.0, 5.05)], 0: [(2.5, 4.0)]}, 6.0)
    turns, names = nemotron.activity_turns(active, FRAME_S, 6.0)
    assert turns == [(0.5, 3.0, "SPEAKER_00"), (2.5, 4.0, "SPEAKER_01")]  # overlap kept, labels by arrival
    assert names == {1: "SPEAKER_00", 0: "SPEAKER_01"} and all(isinstance(t[0], float) for t in turns)
    assert nemotron.activity_turns(np.zeros((100, 8), bool), FRAME_S, 1.0) == ([], {})


def test_speaker_counts_are_honoured_or_explained() -> None:
    active = spans({0: [(0, 4)], 1: [(4, 5)], 2: [(5, 7), (8, 9)]}, 10.0)  # 4 s, 1 s, 3 s of speech
    probabilities = np.where(active, 0.9, 0.1)
    probabilities[4 * 100:5 * 100, 2] = 0.4  # where slot 1 speaks, slot 2 is the likelier of the other two
    plan = nemotron.plan_speakers(active, probabilities, FRAME_S, 2, None, None)
    assert plan.kept == [0, 2] and "heard 3 speakers" in plan.note
    merged = nemotron.merge_dropped(active, probabilities, plan.kept)
    assert not merged[:, 1].any() and merged[450, 2] and merged.any(axis=1).sum() == active.any(axis=1).sum()
    assert nemotron.plan_speakers(active, probabilities, FRAME_S, None, None, 3).note == ""
    assert nemotron.plan_speakers(active, probabilities, FRAME_S, None, None, 1).kept == [0]
    fewer = nemotron.plan_speakers(active, probabilities, FRAME_S, 5, None, None)
    assert fewer.kept == [0, 1, 2] and "only 3 speaker(s)" in fewer.note and "exactly 5" in fewer.note
    assert "only 3" in nemotron.plan_speakers(active, probabilities, FRAME_S, None, 4, None).note
    assert "at most 8" in nemotron.plan_speakers(active, probabilities, FRAME_S, 12, None, None).note


def test_registry_label_says_licence_and_gating() -> None:
    spec = get_spec(NEMOTRON)
    assert not spec.gated and "licence: see model card" in spec.label and "no token" in spec.label
    assert spec.engine == "nemotron-diarization" and spec.architecture == "frame classifier"


@pytest.fixture(scope="module")
def tiny_loader(tiny_hf_home: Path) -> ModelLoader:
    return ModelLoader(budget_mb=100_000, placement=Placement("cpu", "float32"))


def test_tiny_model_through_the_loader_and_inside_view(tiny_loader: ModelLoader) -> None:
    clip = load_audio(str(sample_wav()), 16_000)
    long_clip = AudioClip(np.tile(clip.samples, 2), 16_000, 16_000, 1, "wav", "twice")  # 60 s: 3 chunks of 27.2 s
    steps: list[str] = []
    diarizer = tiny_loader.entry(NEMOTRON).model
    with ForwardCounter(diarizer.model.model) as counter:
        result = dz.diarize(long_clip, NEMOTRON, loader=tiny_loader, progress=lambda f, desc: steps.append(desc))
        calls = counter.calls
        gallery, card = render_inside(result)
        assert counter.calls == calls == 3  # one encoder pass per chunk, none for the picture
    assert tiny_loader.load_counts[NEMOTRON] == 1 and result.engine == "nemotron-diarization"
    assert "Nemotron: chunk 3 of 3" in steps
    assert result.turns and all(0 <= t.start < t.end <= long_clip.duration_s for t in result.turns)
    activity = result.internals
    assert isinstance(activity, FrameActivity) and activity.probabilities.shape == (6001, 8)
    assert set(result.speakers) == {label for label in activity.labels if label}
    assert len(gallery) == 1 and gallery[0][1].startswith("The model's answer — frame × speaker activity")
    assert "Streaming Sortformer" in card and "parameters" in card
    one = dz.diarize(clip, NEMOTRON, num_speakers=1, loader=tiny_loader)
    assert len(one.speakers) == 1 and tiny_loader.load_counts[NEMOTRON] == 1


def test_api_diarize_with_nemotron(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    outputs = client.predict(handle_file(str(sample_wav())), model=NEMOTRON, max_speakers=8, api_name="/diarize")
    turns, info, gallery, card = outputs[0], outputs[1], outputs[-2], outputs[-1]
    assert turns and all(0 <= t["start"] < t["end"] <= 30.0 for t in turns) and NEMOTRON in info
    assert gallery[0]["caption"].startswith("The model's answer — frame × speaker activity")
    assert "Streaming Sortformer" in card
