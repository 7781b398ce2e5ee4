""""Inside the model" for Classify (AST, wav2vec2-style) and Zero-shot (CLAP): every view is drawn on the tiny models
from what the run already holds (forward passes counted), figures are cleared, captions and cards are there, and the
gallery and card come back through the launched app."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.audio.windows import BATCH_SIZE
from shared.classify import inside as inside_classify
from shared.classify.inside import classify_inside, timeline_view
from shared.classify.run import MIN_INPUT_S, ClassifyResult, classify
from shared.classify.views import classify_timeline_image
from shared.inside import ForwardCounter, format_count
from shared.models.loader import ModelLoader, get_loader
from shared.serving.widgets import EXAMPLES_DIR
from shared.zero_shot import inside as inside_zero_shot
from shared.zero_shot.capture import TextEmbeddingCache
from shared.zero_shot.inside import zero_shot_inside
from shared.zero_shot.run import SAMPLE_RATE as CLAP_RATE
from shared.zero_shot.run import zero_shot
from tests.conftest import record_figures

AUDIOSET = "MIT/ast-finetuned-audioset-10-10-0.4593"
COMMANDS = "MIT/ast-finetuned-speech-commands-v2"
KEYWORDS = "superb/wav2vec2-base-superb-ks"
CLAP = "laion/clap-htsat-unfused"
SPEECH = EXAMPLES_DIR / "speech_piper.wav"
LABELS = "dog barking, speech, music"


@pytest.fixture(scope="module")
def speech(tiny_hf_home) -> AudioClip:
    return load_audio(SPEECH, 16_000)


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every figure the views make, to check each was cleared (closed) once rasterised."""
    return record_figures(monkeypatch, inside_classify, inside_zero_shot)


def _parameters(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def _items(result: ClassifyResult) -> list[int]:
    """Lengths of what the plain run sends to the model: the audible windows, plus the whole clip when it fits the
    model's input and more than one window was needed."""
    rate = result.windows[0].sample_rate
    lengths = [max(w.end - w.start, int(MIN_INPUT_S * rate)) for w in result.windows if not w.silent]
    if result.clip_method.startswith("the whole clip") and len(result.windows) > 1:
        lengths.append(result.windows[-1].end)
    return lengths


def _check_views(views, figures: list, titles: list[str]) -> None:
    assert [view.title for view in views] == titles
    for view in views:
        assert view.image.dtype == np.uint8 and view.image.ndim == 3 and view.image.shape[2] == 3
        assert view.image.shape[0] > 100 and view.image.shape[1] > 300 and view.image.std() > 0
        assert len(view.caption) > 40
    assert figures and all(not fig.axes for fig in figures)  # to_rgb cleared every figure


# ---- Classify: AST ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("model_id", "patches"), [(AUDIOSET, "1,212"), (COMMANDS, "144")])
def test_ast_filterbank_and_patch_grid_from_the_one_run(speech: AudioClip, figures: list, model_id: str,
                                                        patches: str) -> None:
    loader = get_loader()
    pipe = loader.entry(model_id).model
    with ForwardCounter(pipe.model) as counter:
        result = classify(speech, model_id, 1.0, 0.5, loader=loader)
        plain_calls = counter.calls
        timeline = classify_timeline_image(result)
        views, card = classify_inside(result, timeline)
    items = _items(result)
    assert len(items) > BATCH_SIZE  # more than one batch, so the count means something
    assert counter.calls == plain_calls == math.ceil(len(items) / BATCH_SIZE)  # the views cost no forward pass

    kept = result.model_input
    extractor = pipe.feature_extractor
    assert kept is not None and kept.patch_grid is not None
    assert kept.values.shape == (extractor.max_length, extractor.num_mel_bins) and np.isfinite(kept.values).all()
    # the kept input is the most confident window's (never the whole-clip item), exactly as the model got it
    assert kept.window_index == int(np.nanmax(result.window_scores, axis=1).argmax())
    window = result.windows[kept.window_index]
    assert kept.n_samples == window.end - window.start
    features = extractor([speech.samples[window.start:window.end]], sampling_rate=16_000, return_tensors="np")
    assert np.allclose(kept.values, features["input_values"][0], atol=1e-5)
    assert kept.label == result.labels[int(result.window_scores[kept.window_index].argmax())]

    _check_views(views, figures, ["Filterbank input and patch grid", "Scores per window"])
    assert f"{patches} overlapping 16×16 patches" in views[0].caption
    assert views[1].image is timeline  # the tab's timeline image, not drawn again
    assert "Audio Spectrogram Transformer" in card and format_count(_parameters(pipe.model)) in card


# ---- Classify: wav2vec2-style -----------------------------------------------------------------------------------
def test_waveform_classifier_shows_its_input_and_the_timeline(speech: AudioClip, figures: list) -> None:
    loader = get_loader()
    pipe = loader.entry(KEYWORDS).model
    with ForwardCounter(pipe.model) as counter:
        result = classify(speech, KEYWORDS, 2.0, 1.0, loader=loader)
        views, card = classify_inside(result, classify_timeline_image(result))
    # variable-length inputs are batched by equal length (no padding): one pass per group of up to BATCH_SIZE
    groups = Counter(_items(result)).values()
    assert counter.calls == sum(math.ceil(size / BATCH_SIZE) for size in groups)

    kept = result.model_input
    assert kept is not None and kept.patch_grid is None and kept.values.ndim == 1
    assert len(kept.values) == kept.n_samples and np.isfinite(kept.values).all()
    expected_frames = int(pipe.model._get_feat_extract_output_lengths(kept.n_samples))
    assert kept.frames == expected_frames
    _check_views(views, figures, ["Waveform input", "Scores per window"])
    assert f"{kept.n_samples:,} samples" in views[0].caption and f"{expected_frames} frames" in views[0].caption
    assert "pooled classifier" in card and format_count(_parameters(pipe.model)) in card


# ---- Classify: language identification (models issue) ------------------------------------------------------------
@pytest.mark.parametrize("model_id", ["facebook/mms-lid-126", "openai/whisper-small#language-id"])
def test_language_id_shows_languages_over_time(speech: AudioClip, figures: list, model_id: str) -> None:
    """The top languages' probabilities per window (the run's own window scores), beside the input the model got:
    MMS reads the waveform, Whisper its log-mel window; the card counts the loaded model."""
    loader = get_loader()
    result = classify(speech, model_id, 2.0, 1.0, loader=loader)
    views, card = classify_inside(result, classify_timeline_image(result))
    first = "Waveform input" if "mms" in model_id else "Whisper's input"
    _check_views(views, figures, [first, "Scores per window", "Languages over time"])
    top = inside_classify.top_languages(result)
    means = np.nanmean(result.window_scores, axis=0)
    assert len(top) == 3 and means[top[0]] == means.max()
    assert f"softmax over all {len(result.labels)} languages" in views[-1].caption
    assert format_count(_parameters(loader.entry(model_id).model.model)) in card


def test_timeline_caption_counts_winners_and_silent_windows(speech: AudioClip) -> None:
    samples = np.concatenate([speech.samples, np.zeros(3 * 16_000, np.float32)])
    result = classify(AudioClip(samples, 16_000, 16_000, 1, "wav", "gap.wav"), COMMANDS, 1.0, 1.0)
    image = np.zeros((10, 10, 3), np.uint8)
    view = timeline_view(result, image)
    audible = sum(not w.silent for w in result.windows)
    assert view.image is image and f"of the {audible} windows" in view.caption
    assert f"{len(result.windows) - audible} silent windows" in view.caption


def test_silent_clip_has_no_views_and_a_card_without_loading(tiny_hf_home) -> None:
    loader = ModelLoader()
    quiet = AudioClip(np.zeros(2 * 16_000, np.float32), 16_000, 16_000, 1, "wav", "quiet.wav")
    result = classify(quiet, AUDIOSET, loader=loader)
    views, card = classify_inside(result, classify_timeline_image(result))
    assert views == [] and "not loaded" in card and "Spectrogram Transformer" in card
    assert loader.load_counts[AUDIOSET] == 0


# ---- Zero-shot: CLAP ----------------------------------------------------------------------------------------------
def test_clap_similarity_matrix_from_the_one_run(tiny_hf_home, figures: list) -> None:
    clip = load_audio(SPEECH, CLAP_RATE)
    loader = get_loader()
    model = loader.entry(CLAP).model.model
    cache = TextEmbeddingCache()
    with ForwardCounter(model.audio_model) as audio_calls, ForwardCounter(model.text_model) as text_calls:
        result = zero_shot(clip, CLAP, LABELS, window_s=1.0, hop_s=0.5, loader=loader, text_cache=cache)
        views, card = zero_shot_inside(result)
        items = sum(not w.silent for w in result.windows) + 1  # + the whole clip (5.3 s fits CLAP's 10 s)
        assert items > BATCH_SIZE
        assert audio_calls.calls == math.ceil(items / BATCH_SIZE) and text_calls.calls == 1
        again = zero_shot(clip, CLAP, LABELS, window_s=1.0, hop_s=0.5, loader=loader, text_cache=cache)
        again_views, _ = zero_shot_inside(again)
        assert text_calls.calls == 1 and audio_calls.calls == 2 * math.ceil(items / BATCH_SIZE)  # labels cached

    matrix = result.window_similarity.T
    assert matrix.shape == (3, len(result.windows)) and np.isfinite(matrix).all() and (np.abs(matrix) <= 1).all()
    _check_views(views + again_views, figures, ["Audio × text similarity"] * 2)
    assert "The text tower ran once for the 3 prompts" in views[0].caption
    assert "came from the cache" in again_views[0].caption
    best = result.labels[int(np.bincount(matrix.argmax(axis=0)).argmax())]
    assert f"'{best}' is the closest prompt" in views[0].caption
    assert "Contrastive audio-text" in card and format_count(_parameters(model)) in card


def test_pe_audio_similarity_matrix_is_the_models_own_product(tiny_hf_home, figures: list) -> None:
    """PE-Audio beside CLAP: the same labels × windows view, from one audio pass over the windows and one text pass;
    its values are the model's audio · text products (said in the caption and the info note)."""
    clip = load_audio(SPEECH, CLAP_RATE)
    loader = get_loader()
    model = loader.entry("facebook/pe-av-large").model.model
    with ForwardCounter(model.audio_encoder) as audio_calls, ForwardCounter(model.text_model) as text_calls:
        result = zero_shot(clip, "facebook/pe-av-large", LABELS, window_s=2.0, hop_s=1.0, loader=loader,
                           text_cache=TextEmbeddingCache())
    items = sum(not w.silent for w in result.windows) + 1  # + the whole clip
    assert audio_calls.calls == math.ceil(items / BATCH_SIZE) and text_calls.calls == 1
    views, card = zero_shot_inside(result)
    _check_views(views, figures, ["Audio × text similarity"])
    assert "audio · text product" in views[0].caption and "PE-Audio scores" in result.notes[-1]
    assert "Perception Encoder" in card and format_count(_parameters(model)) in card


def test_clap_silent_windows_are_grey_and_silence_has_no_views(tiny_hf_home) -> None:
    speech48 = load_audio(SPEECH, CLAP_RATE).samples
    samples = np.concatenate([speech48, np.zeros(3 * CLAP_RATE, np.float32)])
    result = zero_shot(AudioClip(samples, CLAP_RATE, CLAP_RATE, 1, "wav", "gap.wav"), CLAP, LABELS, window_s=2.0,
                       hop_s=1.0)
    views, _ = zero_shot_inside(result)
    assert len(views) == 1 and "grey = silent window" in views[0].caption
    quiet = AudioClip(np.zeros(CLAP_RATE, np.float32), CLAP_RATE, CLAP_RATE, 1, "wav", "quiet.wav")
    views, card = zero_shot_inside(zero_shot(quiet, CLAP, LABELS, loader=ModelLoader()))
    assert views == [] and "not loaded" in card


# ---- tab handlers and the API -------------------------------------------------------------------------------------
def test_tab_handlers_append_gallery_and_card(tiny_hf_home) -> None:
    from tabs.classify import run_classify
    from tabs.zero_shot import run_zero_shot

    *_, gallery, card = run_classify(str(SPEECH), COMMANDS, top_k=3)
    assert [caption.split(":")[0] for _, caption in gallery] == ["Filterbank input and patch grid",
                                                                 "Scores per window"]
    assert all(image.ndim == 3 for image, _ in gallery) and "parameters" in card
    *_, gallery, card = run_zero_shot(str(SPEECH), LABELS)
    assert len(gallery) == 1 and gallery[0][1].startswith("Audio × text similarity: ") and "parameters" in card
    with pytest.raises(gr.Error):
        run_classify(None, COMMANDS)


def test_api_returns_the_gallery_and_card(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    outputs = client.predict(handle_file(str(SPEECH)), model=COMMANDS, top_k=3, api_name="/classify")
    assert len(outputs) == 7
    gallery, card = outputs[5], outputs[6]
    assert [item["caption"].split(":")[0] for item in gallery] == ["Filterbank input and patch grid",
                                                                  "Scores per window"]
    assert all(Path(item["image"]).stat().st_size > 5_000 for item in gallery) and "parameters" in card
    outputs = client.predict(handle_file(str(SPEECH)), labels=LABELS, api_name="/zero_shot")
    assert len(outputs) == 7 and len(outputs[5]) == 1 and "Contrastive audio-text" in outputs[6]
