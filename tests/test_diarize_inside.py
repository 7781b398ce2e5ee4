"""Diarize tab, "Inside the model": the three stages (local segmentation scores, speaker embeddings in 2-D, the
clustering) drawn from the run that produced the turns, for the built-in diarizer (real speech) and the pyannote
pipelines (tiny random models); no model runs a second time (counted), figures are cleared, long inputs are capped,
and the gallery comes back through the API."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.diarize import capture, inside, views
from shared.diarize import offline as offline_diarizer
from shared.diarize import run as dz
from shared.inside import ForwardCounter, format_count
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.models.vad import VAD_MODEL_ID
from tests.conftest import record_figures
from tests.speech_data import sample_wav

COMMUNITY = "pyannote/speaker-diarization-community-1"
LEGACY = "pyannote/speaker-diarization-3.1"


class CountingSession:
    """Stands in for the built-in diarizer's onnxruntime session and counts its runs."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.calls = 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.session.run(*args, **kwargs)


@pytest.fixture
def cleared_figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every figure the views rasterise, to check afterwards that each was cleared."""
    return record_figures(monkeypatch, inside, at="to_rgb")


@pytest.fixture(scope="module")
def sample_clip() -> AudioClip:
    return load_audio(sample_wav(), 16_000)


@pytest.fixture(scope="module")
def cpu_loader(tiny_hf_home: Path) -> ModelLoader:
    return ModelLoader(budget_mb=100_000, placement=Placement("cpu", "float32"))


def _parameters(*modules: torch.nn.Module) -> int:
    seen: dict[int, int] = {}
    for module in modules:
        for parameter in module.parameters():
            seen[id(parameter)] = parameter.numel()
    return sum(seen.values())


def _check_gallery(gallery: list, figures: list, count: int) -> None:
    assert len(gallery) == count and len(figures) == count
    for image, caption in gallery:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8 and image.shape[0] > 100
        assert image.std() > 0  # something was drawn
        title, _, text = caption.partition(": ")
        assert title.startswith("Stage ") and len(text) > 40
    assert all(not fig.axes for fig in figures)  # rasterised, then cleared


def _check_internals(internals: capture.DiarizationInternals, speakers: list[str]) -> None:
    chunks, frames, slots = internals.scores.shape
    assert slots == 3 and frames > 500 and chunks == len(internals.chunk_starts_s) == len(internals.ran)
    assert np.isfinite(internals.scores).all() and 0 <= internals.scores.min() and internals.scores.max() <= 1
    assert np.all(np.diff(internals.chunk_starts_s) > 0) and internals.chunk_s == pytest.approx(10, abs=0.1)
    count = len(internals.embeddings)
    assert count >= 2 and np.isfinite(internals.embeddings).all()
    assert internals.owners.shape == (count, 2) and len(internals.speakers) == len(internals.clustered) == count
    assert set(internals.speakers) - {""} <= set(speakers)
    coords, share = inside.project_2d(internals.embeddings)
    assert coords.shape == (count, 2) and np.isfinite(coords).all() and 0 < share.sum() <= 1 + 1e-9


# ---- the built-in diarizer on real speech ------------------------------------------------------------------------
def test_offline_views_come_from_the_one_run(sample_clip: AudioClip, cpu_loader: ModelLoader,
                                            cleared_figures: list, monkeypatch: pytest.MonkeyPatch) -> None:
    with cpu_loader.use(VAD_MODEL_ID) as vad:
        speech = vad.speech_segments(sample_clip.samples)
    with cpu_loader.use(dz.OFFLINE_DIARIZER) as diarizer:  # loaded (and warmed up) before counting
        session = CountingSession(diarizer._segmentation)
        monkeypatch.setattr(diarizer, "_segmentation", session)
        with ForwardCounter(diarizer._encoder) as encoder:
            plain_turns = diarizer(sample_clip.samples, speech=speech)  # the answer alone
        plain = (session.calls, encoder.calls)
        session.calls = 0
        with ForwardCounter(diarizer._encoder) as encoder:
            result = dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, loader=cpu_loader)
            gallery, card = inside.render_inside(result)
        assert (session.calls, encoder.calls) == plain and encoder.calls >= 1
        internals = result.internals
        assert internals is not None
        assert session.calls == math.ceil(internals.ran.sum() / offline_diarizer.BATCH)  # one pass per batch
        encoder_parameters = _parameters(diarizer._encoder)
    assert [(t.start, t.end, t.speaker) for t in result.turns] == plain_turns
    _check_internals(internals, result.speakers)
    assert internals.linkage is not None and internals.linkage.shape == (internals.clustered.sum() - 1, 4)
    assert internals.threshold == offline_diarizer.THRESHOLD and internals.request == ""
    assert 0 < internals.ran.sum() <= len(internals.ran)
    _check_gallery(gallery, cleared_figures, 3)
    assert [caption.split(":")[0] for _, caption in gallery] == [
        "Stage 1 — local segmentation", "Stage 2 — speaker embeddings", "Stage 3 — clustering"]
    assert f"dashed line ({offline_diarizer.THRESHOLD:g})" in gallery[2][1]
    assert "Built-in diarizer" in card and format_count(encoder_parameters) in card and "ONNX" in card


def test_segmentation_picture_drawn_during_the_run_is_the_one_drawn_after(
        sample_clip: AudioClip, cpu_loader: ModelLoader, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook hears of the segmentation before the embeddings are computed, the picture is drawn in the
    background pool, and the gallery is the one drawing the finished run gives."""
    events: list[tuple[str, str, int]] = []
    original_embed, original_view = offline_diarizer.OfflineDiarizer.embed, inside.segmentation_view

    def embed(self: Any, *args: Any) -> Any:
        events.append(("embed", threading.current_thread().name, 0))
        return original_embed(self, *args)

    def view(scores: Any) -> Any:
        events.append(("draw", threading.current_thread().name, len(scores.ran)))
        return original_view(scores)

    monkeypatch.setattr(offline_diarizer.OfflineDiarizer, "embed", embed)
    monkeypatch.setattr(inside, "segmentation_view", view)
    ahead = inside.SegmentationAhead()

    def hook(step_name: str, artifact: Any) -> None:
        events.append((f"hook {step_name}", threading.current_thread().name, 0))
        ahead(step_name, artifact)

    result = ahead.keep(dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, loader=cpu_loader, hook=hook))
    drawn = result.internals.drawn["segmentation"]
    in_run = [event for event, thread, _ in events if not thread.startswith("inside-ahead")]
    assert in_run == ["hook segmentation", "embed"]  # told before the embeddings are computed
    draws = [event for event in events if event[0] == "draw"]
    assert len(draws) == 1 and draws[0][1].startswith("inside-ahead") and draws[0][2] == len(result.internals.ran)
    gallery, _ = inside.render_inside(result)
    assert len(events) == 3  # the gallery took the picture drawn during the run
    result.internals.drawn.clear()
    again, _ = inside.render_inside(result)
    assert np.array_equal(gallery[0][0], drawn.image) and np.array_equal(again[0][0], drawn.image)
    assert [caption for _, caption in gallery] == [caption for _, caption in again]


def test_offline_silence_has_a_card_and_no_pictures() -> None:
    silence = AudioClip(np.zeros(5 * 16_000, np.float32), 16_000, 16_000, 1, "array", "silence")
    result = dz.diarize(silence, dz.OFFLINE_DIARIZER)
    gallery, card = inside.render_inside(result)
    assert result.internals is None and gallery == []
    assert "No speech was found" in card and "parameters" in card


# ---- pyannote pipelines on the tiny random models ----------------------------------------------------------------
@pytest.mark.parametrize("model_id", [COMMUNITY, LEGACY])
def test_pyannote_views_come_from_the_one_run(model_id: str, sample_clip: AudioClip, cpu_loader: ModelLoader,
                                              cleared_figures: list) -> None:
    clip = AudioClip(sample_clip.samples[: 12 * 16_000], 16_000, 16_000, 1, "wav", "piece")
    with cpu_loader.use(model_id) as pipeline:
        segmentation_model, embedding_model = pipeline._segmentation.model, pipeline._embedding.model_
        waveform = {"waveform": torch.from_numpy(clip.samples)[None], "sample_rate": 16_000}
        with torch.inference_mode():  # pyannote probes its embedding model on first use (cached): not counted
            pipeline(waveform, max_speakers=2)
        with ForwardCounter(segmentation_model) as segment, ForwardCounter(embedding_model) as embed, \
                torch.inference_mode():
            pipeline(waveform, max_speakers=2)  # the answer alone, straight from pyannote
        plain = (segment.calls, embed.calls)
        with ForwardCounter(segmentation_model) as segment, ForwardCounter(embedding_model) as embed:
            result = dz.diarize(clip, model_id, max_speakers=2, loader=cpu_loader)
            gallery, card = inside.render_inside(result)
        assert (segment.calls, embed.calls) == plain and min(plain) >= 1
        assert "clustering" not in pipeline.__dict__ and pipeline.clustering is not None  # the stand-in is gone
        assert not segmentation_model._forward_hooks  # and so is the score recorder
        parameters = _parameters(segmentation_model, embedding_model)
    internals = result.internals
    assert internals is not None
    _check_internals(internals, result.speakers)
    assert internals.linkage is None and internals.request == "between 1 and 2"
    assert not np.isin(internals.scores, (0.0, 1.0)).all()  # the model's soft scores, not the hard decision
    assert {name for name in internals.speakers if name} and "threshold" in internals.method
    _check_gallery(gallery, cleared_figures, 3)
    assert "Cosine similarity" in gallery[2][1] and "between 1 and 2" in gallery[2][1]
    assert "pyannote" in card and format_count(parameters) in card


# ---- long inputs are drawn at display size -----------------------------------------------------------------------
def test_long_runs_are_capped_in_the_pictures(cleared_figures: list) -> None:
    from scipy.cluster.hierarchy import linkage

    rng = np.random.default_rng(0)
    chunks, count = 1_000, 900
    embeddings = rng.normal(size=(count, 16)).astype(np.float32)
    speakers = [f"SPEAKER_{i % 3:02d}" for i in range(count)]
    internals = capture.DiarizationInternals(
        scores=rng.random((chunks, 589, 3), dtype=np.float32), chunk_starts_s=np.arange(chunks) * 2.5,
        chunk_s=10.0, ran=np.arange(chunks) % 7 != 0, embeddings=embeddings,
        owners=np.stack([np.arange(count) // 3, np.arange(count) % 3], axis=1), speakers=speakers,
        clustered=np.ones(count, bool), method="test", linkage=linkage(embeddings, "average", "cosine"),
        threshold=0.9, request="exactly 3")
    colors = views.speaker_colors(["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"])
    stages = inside.diarization_views(internals, colors)
    assert f"{inside.MAX_CHUNKS_DRAWN} of {chunks} chunks drawn" in stages[0].caption
    assert "Grey rows" in stages[0].caption
    assert f"top {inside.MAX_LEAVES} branches" in stages[2].caption and "exactly 3" in stages[2].caption
    internals.linkage = None  # pyannote's case: the similarity matrix instead of the tree
    matrix = inside.clustering_view(internals, colors)
    assert matrix is not None and f"{inside.MAX_MATRIX} of {count} voice prints drawn" in matrix.caption
    _check_gallery([view.gallery_item() for view in [*stages, matrix]], cleared_figures, 4)


# ---- through the launched app ------------------------------------------------------------------------------------
def test_api_diarize_returns_the_inside_gallery(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    outputs = client.predict(handle_file(str(sample_wav())), model=dz.OFFLINE_DIARIZER, api_name="/diarize")
    turns, gallery, card = outputs[0], outputs[-2], outputs[-1]
    assert {t["speaker"] for t in turns} == {"SPEAKER_00", "SPEAKER_01"}
    assert len(gallery) == 3 and all(Path(item["image"]).is_file() for item in gallery)
    assert [item["caption"].split(":")[0] for item in gallery] == [
        "Stage 1 — local segmentation", "Stage 2 — speaker embeddings", "Stage 3 — clustering"]
    assert "Built-in diarizer" in card and "parameters" in card
