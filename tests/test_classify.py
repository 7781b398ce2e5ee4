"""Classify: windows, scores, every registry classifier on its tiny model (pure functions and tab handlers), the
batched pass against the transformers pipeline, silence, and the API through the launched app."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.audio.windows import NO_EVENTS, batched_forward, effective_window, sliding_windows
from shared.classify.run import SAMPLE_RATE, activation_for, classify, compare_classifiers
from shared.classify.views import (
    COMPARE_HEADERS,
    classify_timeline_image,
    compare_rows,
    info_markdown,
    timeline_labels,
    timeline_rows,
    write_outputs,
)
from shared.errors import UserError
from shared.models import registry
from shared.models.loader import ModelLoader, get_loader
from shared.serving.widgets import EXAMPLES_DIR

CLASSIFIERS = [spec.id for spec in registry.models_for(registry.CLASSIFY)]
AUDIOSET = "MIT/ast-finetuned-audioset-10-10-0.4593"
COMMANDS = "MIT/ast-finetuned-speech-commands-v2"
SPEECH = EXAMPLES_DIR / "speech_piper.wav"
CHORD = EXAMPLES_DIR / "chord_c_major.wav"


@pytest.fixture(scope="module")
def speech(tiny_hf_home) -> AudioClip:
    return load_audio(SPEECH, SAMPLE_RATE)


def _covered(spans: list[tuple[int, int]], n: int) -> bool:
    mask = np.zeros(n, bool)
    for start, end in spans:
        mask[start:end] = True
    return bool(mask.all())


# ---- windows ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "window_s", "hop_s"), [
    (5 * 16_000, 2.0, 1.0), (5 * 16_000 + 123, 2.0, 0.75), (8_000, 2.0, 1.0), (3 * 16_000, 1.0, 1.0),
    (10 * 16_000, 1.28, 0.5), (1, 0.25, 0.25), (16_000 * 61, 3.0, 0.3),
])
def test_windows_cover_the_whole_clip_with_the_stated_hop(n: int, window_s: float, hop_s: float) -> None:
    spans = sliding_windows(n, 16_000, window_s, hop_s)
    hop, window = round(hop_s * 16_000), round(window_s * 16_000)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(b[0] - a[0] == hop for a, b in itertools.pairwise(spans))
    assert all(0 < end - start <= window for start, end in spans)
    assert all(end - start == window for start, end in spans[:-1])
    assert _covered(spans, n)
    assert len(spans) == 1 or spans[-2][1] < n  # no window after the one that reaches the end


@pytest.mark.parametrize(("window_s", "hop_s", "message"), [
    (2.0, 3.0, "must not exceed the window"), (0.1, 0.1, "between"), (2.0, 0.0, "positive"), (60.0, 1.0, "between"),
])
def test_bad_windows_are_clear_errors(window_s: float, hop_s: float, message: str) -> None:
    with pytest.raises(UserError, match=message):
        sliding_windows(16_000, 16_000, window_s, hop_s)


def test_too_many_windows_names_the_hop_needed() -> None:
    with pytest.raises(UserError, match=r"hop of at least 1\.\d\d s"):
        sliding_windows(16_000 * 600, 16_000, 2.0, 0.5, max_windows=500)


def test_window_longer_than_the_model_input_is_clamped() -> None:
    assert effective_window(2.0, 1.0, 10.24) == (2.0, 1.0, [])
    window_s, hop_s, notes = effective_window(3.0, 2.0, 1.28)
    assert (window_s, hop_s) == (1.28, 1.28) and len(notes) == 2


def test_batched_forward_keeps_the_order_and_never_pads_variable_inputs() -> None:
    items = [np.full(n, i, np.float32) for i, n in enumerate([3, 5, 3, 5, 5, 2, 5])]
    batches: list[list[int]] = []

    def run(batch: list[np.ndarray]) -> np.ndarray:
        batches.append([len(item) for item in batch])
        return np.array([[item[0]] for item in batch])

    assert batched_forward(items, 2, False, run)[:, 0].tolist() == list(range(7))
    assert all(len(set(batch)) == 1 and len(batch) <= 2 for batch in batches) and len(batches) == 4
    batches.clear()
    assert batched_forward(items, 4, True, run)[:, 0].tolist() == list(range(7))
    assert [len(batch) for batch in batches] == [4, 3]


def test_activation_follows_the_config() -> None:
    config = SimpleNamespace
    assert activation_for(config(problem_type="multi_label_classification", num_labels=10)) == "sigmoid"
    assert activation_for(config(problem_type="single_label_classification", num_labels=527)) == "softmax"
    assert activation_for(config(problem_type=None, num_labels=527)) == "sigmoid"  # AudioSet ontology
    assert activation_for(config(problem_type=None, num_labels=35)) == "softmax"
    with pytest.raises(UserError, match="regression"):
        activation_for(config(problem_type="regression", num_labels=1))


# ---- every classifier ------------------------------------------------------------------------------------------
def _pipeline_scores(pipe, samples: np.ndarray) -> dict[str, float]:
    top = pipe({"raw": samples, "sampling_rate": SAMPLE_RATE}, top_k=pipe.model.config.num_labels)
    return {item["label"]: item["score"] for item in top}


@pytest.mark.parametrize("model_id", CLASSIFIERS)
def test_every_classifier_scores_match_the_pipeline(speech: AudioClip, model_id: str) -> None:
    result = classify(speech, model_id, 2.0, 1.0)
    expected_activation = "sigmoid" if model_id == AUDIOSET else "softmax"
    assert result.activation == expected_activation
    assert result.window_scores.shape == (len(result.windows), len(result.labels))
    assert not result.silent and not np.isnan(result.window_scores).any()
    spans = [(w.start, w.end) for w in result.windows]
    assert _covered(spans, len(speech.samples)) and spans[-1][1] == len(speech.samples)
    if result.activation == "softmax":
        assert np.allclose(result.window_scores.sum(axis=1), 1.0) and np.isclose(result.clip_scores.sum(), 1.0)
    else:
        assert (result.window_scores >= 0).all() and (result.window_scores <= 1).all()
        assert ((result.clip_scores >= 0) & (result.clip_scores <= 1)).all()
    # the one batched pass gives what one pipeline call per window gives
    with get_loader().use(model_id) as pipe:
        for window, scores in list(zip(result.windows, result.window_scores, strict=True))[:3]:
            reference = _pipeline_scores(pipe, speech.samples[window.start:window.end])
            ours = dict(zip(result.labels, scores, strict=True))
            assert all(abs(ours[label] - score) < 2e-4 for label, score in reference.items())
        if result.clip_method.startswith("the whole clip"):
            reference = _pipeline_scores(pipe, speech.samples)
            assert [label for label, _ in result.top_k(5)] == list(reference)[:5]
    if model_id == COMMANDS:  # 1.28 s input: the 2 s window is clamped, the clip scores are the windows' mean
        assert result.window_s == 1.28 and result.notes
        assert np.allclose(result.clip_scores, result.window_scores.mean(axis=0))


def test_long_clip_with_silence_aggregates_the_audible_windows(speech: AudioClip) -> None:
    chord = load_audio(CHORD, SAMPLE_RATE).samples
    samples = np.concatenate([speech.samples, np.zeros(3 * SAMPLE_RATE, np.float32), chord])  # ~11.3 s > 10.24 s
    clip = AudioClip(samples, SAMPLE_RATE, SAMPLE_RATE, 1, "wav", "long.wav")
    result = classify(clip, AUDIOSET, 2.0, 1.0)
    silent = [w.silent for w in result.windows]
    assert any(silent) and not silent[0] and not silent[-1]
    assert np.isnan(result.window_scores[silent]).all()
    assert result.clip_method.startswith("max over") and "1 silent" in info_markdown(result)
    assert np.allclose(result.clip_scores, np.nanmax(result.window_scores, axis=0))
    rows = timeline_labels(result.window_scores, result.labels)
    assert 0 < len(rows) <= 12
    image = classify_timeline_image(result)
    assert image.ndim == 3 and image.shape[2] == 3
    assert [row[2] for row in timeline_rows(result)].count("(silence)") == sum(silent)


def test_clip_shorter_than_a_window_is_one_forward_item(speech: AudioClip) -> None:
    result = classify(speech, "superb/wav2vec2-base-superb-ks", 10.0, 5.0)
    assert [(w.start, w.end) for w in result.windows] == [(0, len(speech.samples))]
    assert result.clip_method.startswith("the whole clip") and np.array_equal(result.clip_scores,
                                                                              result.window_scores[0])


def test_silence_says_no_sound_events_without_loading_a_model() -> None:
    rng = np.random.default_rng(0)
    quiet = (rng.standard_normal(3 * SAMPLE_RATE) * 1e-4).astype(np.float32)  # -80 dBFS
    loader = ModelLoader()
    result = classify(AudioClip(quiet, SAMPLE_RATE, SAMPLE_RATE, 1, "wav", "quiet.wav"), AUDIOSET, loader=loader)
    assert result.silent and result.label_value(5) == NO_EVENTS and result.top_k(5) == []
    assert loader.load_counts[AUDIOSET] == 0
    assert "No sound events" in info_markdown(result)
    assert all(w.silent for w in result.windows)


def test_outputs_json_and_csv(speech: AudioClip) -> None:
    result = classify(speech, COMMANDS, 1.0, 0.5)
    json_path, csv_path = write_outputs(result, 3)
    payload = json.loads(Path(json_path).read_text())
    assert payload["activation"] == "softmax" and len(payload["top_k"]) == 3
    assert len(payload["windows"]) == len(result.windows)
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["start_s", "end_s", "silent", "label_1", "score_1", "label_2", "score_2", "label_3",
                       "score_3"]
    assert len(rows) == len(result.windows) + 1 and float(rows[-1][1]) == pytest.approx(speech.duration_s, abs=1e-3)


def test_compare_two_to_three_classifiers(speech: AudioClip) -> None:
    results = compare_classifiers(speech, [AUDIOSET, COMMANDS, AUDIOSET])
    rows = compare_rows(results, 3)
    assert [row[0] for row in rows] == [AUDIOSET, COMMANDS]
    assert all(row[2] > 0 and row[3] > 0 for row in rows)  # compute time and RTF
    assert [row[6] for row in rows] == ["sigmoid", "softmax"]
    with pytest.raises(UserError, match="one to three"):
        compare_classifiers(speech, CLASSIFIERS)


def test_not_a_classifier(speech: AudioClip) -> None:
    with pytest.raises(UserError, match="not an audio-classification"):
        classify(speech, "laion/clap-htsat-unfused")


# ---- the tab handlers ------------------------------------------------------------------------------------------
def test_tab_handlers(tiny_hf_home) -> None:
    from tabs.classify import compare_slots, run_classify, run_compare

    labels, info, image, rows, files, *_ = run_classify(str(CHORD), COMMANDS, top_k=4, window_s=1.0, hop_s=0.5)
    assert len(labels) == 4 and "real-time factor" in info and image.shape[2] == 3
    assert rows[0][:2] == [0.0, 1.0] and len(files) == 2
    table, *values = run_compare(str(CHORD), [AUDIOSET, COMMANDS], top_k=2)
    assert len(table) == 2 and [len(value) for value in values[:2]] == [2, 2] and values[2] is None
    slots = compare_slots([COMMANDS, AUDIOSET, COMMANDS])
    assert [(slot.label, slot.visible) for slot in slots] == [(COMMANDS, True), (AUDIOSET, True), ("", False)]


# ---- language identification (models issue) ------------------------------------------------------------------------
MMS_LID = "facebook/mms-lid-126"
WHISPER_LID = "openai/whisper-small#language-id"


def test_whisper_language_id_equals_generates_own_detection_step(speech: AudioClip) -> None:
    """The classifier's clip scores (one 30 s window, softmax over the language tokens) are the probabilities that
    Transcribe records from generate()'s own language-detection step on the same Whisper weights."""
    from shared.transcribe.run import transcribe

    result = classify(speech, WHISPER_LID, 2.0, 1.0)
    detected = transcribe(speech, "openai/whisper-small", inside=True).inside.languages
    assert result.activation == "softmax" and result.labels == list(detected)
    assert np.allclose(result.clip_scores, [detected[code] for code in result.labels], atol=1e-4)
    assert result.top_k(1)[0][0] == max(detected, key=detected.__getitem__) == "en"
    assert registry.get_spec(WHISPER_LID).options["repo"] == "openai/whisper-small"


def test_mms_language_id_scores_languages(speech: AudioClip) -> None:
    result = classify(speech, MMS_LID, 2.0, 1.0)
    assert result.activation == "softmax" and {"eng", "deu", "fra"} <= set(result.labels)
    assert np.isclose(result.clip_scores.sum(), 1.0) and result.family == "mms-lid"
    rows = compare_rows([result], 3)
    cells = dict(zip(COMPARE_HEADERS, rows[0], strict=True))
    assert (cells["architecture"], cells["year"], cells["params (M)"], cells["languages"]) == (
        "encoder classifier", 2023, 965, "126 languages")


def test_english_only_whisper_cannot_detect_languages(tmp_path) -> None:
    from shared.models.device import Placement
    from shared.models.registry import ModelSpec
    from shared.models.whisper_lid import load_whisper_language_id

    spec = ModelSpec("x", registry.CLASSIFY, "whisper-language-id", "whisper-lid", 1, "mit",
                     options={"repo": "openai/whisper-tiny.en"})
    with pytest.raises(Exception, match="English-only"):
        load_whisper_language_id(spec, Placement("cpu", "float32"), {})


def test_offline_message_does_not_offer_a_built_in_model() -> None:
    """Classify and Zero-shot have no built-in model: the message says the tab needs the hub once and what works
    offline, never "pick a built-in offline model"; Transcribe's still names its built-in one."""
    from shared.models.loader import explain_load_error

    offline = OSError("offline mode is enabled")
    for model_id in (AUDIOSET, MMS_LID, "laion/clap-htsat-unfused", "facebook/pe-av-large"):
        message = explain_load_error(registry.get_spec(model_id), offline)
        assert "is not downloaded and the Hugging Face hub is unreachable" in message
        assert "built-in offline model" not in message and "has no built-in model" in message
        assert "connect to the internet once" in message and "Transcribe" in message
    asr = explain_load_error(registry.get_spec("openai/whisper-tiny"), offline)
    assert "pick a built-in offline model (Whisper tiny.en (faster-whisper))" in asr


# ---- the API -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


@pytest.mark.parametrize("model_id", CLASSIFIERS)
def test_api_classify_every_model(client: Client, model_id: str) -> None:
    label, info, image, table, files, *_ = client.predict(handle_file(str(SPEECH)), model=model_id, top_k=3,
                                                      api_name="/classify")
    confidences = {item["label"]: item["confidence"] for item in label["confidences"]}
    assert len(confidences) == 3 and all(0 <= value <= 1 for value in confidences.values())
    assert "real-time factor" in info and Path(image).stat().st_size > 5_000
    payload = json.loads(Path(next(path for path in files if path.endswith(".json"))).read_text())
    assert payload["model"] == model_id
    assert {item["label"] for item in payload["top_k"]} == set(confidences)
    assert len(table["data"]) == len(payload["windows"])


def test_api_classify_defaults_and_errors(client: Client) -> None:
    label, *_ = client.predict(handle_file(str(CHORD)), api_name="/classify")
    assert len(label["confidences"]) == 5
    with pytest.raises(Exception, match="must not exceed the window"):
        client.predict(handle_file(str(CHORD)), window_s=1.0, hop_s=2.0, api_name="/classify")
    with pytest.raises(Exception, match=r"unknown model|not in the list of choices"):
        client.predict(handle_file(str(CHORD)), model="evil/repo", api_name="/classify")


def test_api_compare_classifiers(client: Client) -> None:
    table, first, second, third = client.predict(handle_file(str(SPEECH)), models=[AUDIOSET, COMMANDS], top_k=2,
                                                 api_name="/compare_classifiers")
    assert [row[0] for row in table["data"]] == [AUDIOSET, COMMANDS]
    assert len(first["confidences"]) == 2 and len(second["confidences"]) == 2 and not third
