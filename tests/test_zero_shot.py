"""Zero-shot (CLAP): label parsing and its errors, the template as plain text, every registry CLAP model on its
tiny model against CLAP's own forward pass, the text-embedding cache counter, silence, long clips, and the API."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.audio.windows import NO_EVENTS
from shared.errors import UserError
from shared.models import registry
from shared.models.loader import ModelLoader, get_loader
from shared.serving.widgets import EXAMPLES_DIR
from shared.zero_shot.capture import TEXT_EMBEDDINGS, TextEmbeddingCache
from shared.zero_shot.run import (
    DEFAULT_TEMPLATE,
    MAX_LABELS,
    SAMPLE_RATE,
    check_template,
    fill_template,
    parse_labels,
    zero_shot,
)
from shared.zero_shot.views import info_markdown, timeline_rows, write_outputs, zero_shot_timeline_image

CLAP_MODELS = [spec.id for spec in registry.models_for(registry.ZERO_SHOT)]
UNFUSED = "laion/clap-htsat-unfused"
SPEECH = EXAMPLES_DIR / "speech_piper.wav"
NOISE = EXAMPLES_DIR / "pink_noise.flac"
LABELS = "dog barking, speech\nmusic"


@pytest.fixture(scope="module")
def speech(tiny_hf_home) -> AudioClip:
    return load_audio(SPEECH, SAMPLE_RATE)


# ---- labels and template ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("dog, cat\nbird", ["dog", "cat", "bird"]),
    ("  dog ,, , \n\n  cat  \r\n", ["dog", "cat"]),
    ("Dog, dog, DOG , cat, Dog barking", ["Dog", "cat", "Dog barking"]),
    ("a   car\tengine, rain", ["a car engine", "rain"]),
    ("{0}, {}, %s, {label.__class__}", ["{0}", "{}", "%s", "{label.__class__}"]),
    (["siren", "dog, cat"], ["siren", "dog", "cat"]),
])
def test_parse_labels(text: str, expected: list[str]) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "Type the candidate labels"), ("   ", "Type the candidate labels"), (None, "Type the candidate labels"),
    (" , ,\n ,", "empty"), ("dog", "at least two"), ("dog, DOG", "at least two"),
    (", ".join(f"label {i}" for i in range(MAX_LABELS + 1)), "limit of 50"),
    ("dog, " + "x" * 101, "label 2 has 101"), ("a," * 6000, "limit is 10,000"),
])
def test_bad_labels_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_labels(text)


def test_template_is_plain_text() -> None:
    assert check_template("") == check_template(None) == DEFAULT_TEMPLATE
    template = check_template("{0} {__class__} sound of {} ({})")
    assert fill_template(template, ["a dog"]) == ["{0} {__class__} sound of a dog (a dog)"]
    assert fill_template(DEFAULT_TEMPLATE, ["rain", "wind"]) == ["This is a sound of rain.", "This is a sound of wind."]
    with pytest.raises(UserError, match="must contain"):
        check_template("This is a sound of {label}.")
    with pytest.raises(UserError, match="at most 200"):
        check_template("{}" + "x" * 250)


# ---- every CLAP model ------------------------------------------------------------------------------------------
def _clap_forward_probs(model_id: str, samples: np.ndarray, prompts: list[str]) -> np.ndarray:
    """Reference: the model's own forward (both towers: CLAP's logits_per_audio, PE-Audio's logits_audio_text) on
    the whole clip, softmax over labels."""
    import torch

    if registry.get_spec(model_id).family == "pe-audio":
        with get_loader().use(model_id) as pe:
            audio = pe.feature_extractor([samples], sampling_rate=SAMPLE_RATE, return_tensors="pt")
            text = pe.tokenizer(prompts, padding=True, return_tensors="pt")
            with torch.inference_mode():
                logits = pe.model(input_ids=text["input_ids"], attention_mask=text["attention_mask"],
                                  input_values=audio["input_values"],
                                  padding_mask=audio.get("padding_mask")).logits_audio_text
        return logits.softmax(dim=-1)[0].numpy()
    with get_loader().use(model_id) as pipe:
        audio = pipe.feature_extractor([samples], sampling_rate=SAMPLE_RATE, return_tensors="pt")
        audio["is_longer"] = torch.zeros((1, 1), dtype=torch.bool)
        text = pipe.tokenizer(prompts, padding=True, return_tensors="pt")
        with torch.inference_mode():
            logits = pipe.model(**text, **audio).logits_per_audio
    return logits.softmax(dim=-1)[0].numpy()


@pytest.mark.parametrize("model_id", CLAP_MODELS)
def test_every_clap_model_scores_are_a_softmax_over_labels(speech: AudioClip, model_id: str) -> None:
    result = zero_shot(speech, model_id, LABELS, window_s=2.0, hop_s=1.0, text_cache=None)
    assert result.labels == ["dog barking", "speech", "music"] and not result.text_from_cache
    assert result.clip_method.startswith("the whole clip")
    assert np.isclose(result.clip_scores.sum(), 1.0) and (result.clip_scores > 0).all()
    assert np.allclose(result.window_scores.sum(axis=1), 1.0)
    assert np.allclose(result.clip_scores, _clap_forward_probs(model_id, speech.samples, result.prompts), atol=1e-5)
    spans = [(w.start, w.end) for w in result.windows]
    assert spans[0][0] == 0 and spans[-1][1] == len(speech.samples)
    assert all(b[0] - a[0] == SAMPLE_RATE for a, b in itertools.pairwise(spans))
    assert set(result.label_value()) == set(result.labels)


def test_matches_the_transformers_pipeline(speech: AudioClip) -> None:
    result = zero_shot(speech, UNFUSED, LABELS)
    with get_loader().use(UNFUSED) as pipe:
        reference = pipe(speech.samples, candidate_labels=result.labels, hypothesis_template=DEFAULT_TEMPLATE)
    ours = result.label_value()
    assert all(abs(ours[item["label"]] - item["score"]) < 1e-5 for item in reference)


def test_text_embeddings_are_cached(speech: AudioClip) -> None:
    cache = TextEmbeddingCache()
    first = zero_shot(speech, UNFUSED, LABELS, text_cache=cache)
    assert (cache.hits, cache.misses) == (0, 1) and not first.text_from_cache
    second = zero_shot(speech, UNFUSED, "dog barking\nspeech, music", text_cache=cache)  # same labels, typed anew
    assert (cache.hits, cache.misses) == (1, 1) and second.text_from_cache
    assert np.allclose(first.clip_scores, second.clip_scores)
    zero_shot(speech, UNFUSED, LABELS, template="A recording of {}.", text_cache=cache)
    zero_shot(speech, "laion/clap-htsat-fused", LABELS, text_cache=cache)
    assert (cache.hits, cache.misses) == (1, 3) and len(cache) == 3
    assert "from the cache" in info_markdown(second)


def test_tab_handler_uses_the_shared_cache(tiny_hf_home) -> None:
    from tabs.zero_shot import run_zero_shot

    labels = "wind, rain, traffic noise"
    hits, misses = TEXT_EMBEDDINGS.hits, TEXT_EMBEDDINGS.misses
    value, info, image, rows, files, *_ = run_zero_shot(str(NOISE), labels)
    assert TEXT_EMBEDDINGS.misses == misses + 1
    assert set(value) == {"wind", "rain", "traffic noise"} and "real-time factor" in info and image.shape[2] == 3
    assert rows[0][:2] == [0.0, 3.0] and len(files) == 2
    run_zero_shot(str(NOISE), labels, window_s=1.0, hop_s=0.5)
    assert (TEXT_EMBEDDINGS.hits, TEXT_EMBEDDINGS.misses) == (hits + 1, misses + 1)
    with pytest.raises(Exception, match="at least two"):
        run_zero_shot(str(NOISE), "wind")


def test_long_clip_uses_the_mean_window_embedding_and_skips_silent_windows(speech: AudioClip) -> None:
    samples = np.concatenate([speech.samples, np.zeros(3 * SAMPLE_RATE, np.float32), speech.samples])  # ~13.6 s
    clip = AudioClip(samples, SAMPLE_RATE, SAMPLE_RATE, 1, "wav", "long.wav")
    result = zero_shot(clip, UNFUSED, LABELS, window_s=2.0, hop_s=1.0)
    silent = np.array([w.silent for w in result.windows])
    assert silent.any() and not silent[0]
    assert np.isnan(result.window_scores[silent]).all()
    assert np.allclose(result.window_scores[~silent].sum(axis=1), 1.0)
    assert result.clip_method == f"mean audio embedding of {(~silent).sum()} windows"
    assert np.isclose(result.clip_scores.sum(), 1.0)
    assert [row[2] for row in timeline_rows(result)].count("(silence)") == silent.sum()
    assert zero_shot_timeline_image(result).shape[2] == 3


def test_window_is_clamped_to_clap_input() -> None:
    rng = np.random.default_rng(1)
    clip = AudioClip((rng.standard_normal(12 * SAMPLE_RATE) * 0.1).astype(np.float32), SAMPLE_RATE, SAMPLE_RATE, 1,
                     "wav", "noise.wav")
    result = zero_shot(clip, UNFUSED, LABELS, window_s=12.0, hop_s=12.0)
    assert (result.window_s, result.hop_s) == (10.0, 10.0) and len(result.notes) == 2
    assert [(w.start_s, w.end_s) for w in result.windows] == [(0.0, 10.0), (10.0, 12.0)]


def test_silence_is_no_sound_events_without_a_model() -> None:
    loader = ModelLoader()
    clip = AudioClip(np.zeros(2 * SAMPLE_RATE, np.float32), SAMPLE_RATE, SAMPLE_RATE, 1, "wav", "silence.wav")
    result = zero_shot(clip, UNFUSED, LABELS, loader=loader)
    assert result.silent and result.label_value() == NO_EVENTS and loader.load_counts[UNFUSED] == 0
    assert "No sound events" in info_markdown(result)
    assert json.loads(Path(write_outputs(result)[0]).read_text())["scores"] is None


def test_outputs_keep_labels_as_plain_text(speech: AudioClip) -> None:
    labels = ['a "quoted" dog', "=1+1", "{0}", "$x^{2", "cost $5 or $\\frac{1}{2}$"]
    result = zero_shot(speech, UNFUSED, labels, template="{} — {}")
    assert result.prompts[0] == 'a "quoted" dog — a "quoted" dog'
    json_path, csv_path = write_outputs(result)
    payload = json.loads(Path(json_path).read_text())
    assert payload["labels"] == labels and set(payload["scores"]) == set(labels)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["start_s", "end_s", "silent", *labels] and len(rows) == len(result.windows) + 1
    assert zero_shot_timeline_image(result).shape[2] == 3  # "$" in a label is text, not matplotlib math


# ---- the API ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


@pytest.mark.parametrize("model_id", CLAP_MODELS)
def test_api_zero_shot_every_model(client: Client, model_id: str) -> None:
    label, info, image, table, files, *_ = client.predict(handle_file(str(SPEECH)), labels="siren; alarm, speech\n",
                                                      model=model_id, api_name="/zero_shot")
    confidences = {item["label"]: item["confidence"] for item in label["confidences"]}
    assert set(confidences) == {"siren; alarm", "speech"} and abs(sum(confidences.values()) - 1) < 1e-6
    assert "real-time factor" in info and Path(image).stat().st_size > 3_000 and table["data"]
    payload = json.loads(Path(next(path for path in files if path.endswith(".json"))).read_text())
    assert payload["model"] == model_id and payload["prompts"][1] == "This is a sound of speech."


def test_api_zero_shot_second_call_hits_the_cache_and_errors(client: Client) -> None:
    args = {"labels": "thunder, applause, typing", "template": "Sound: {}", "api_name": "/zero_shot"}
    _, first_info, *_ = client.predict(handle_file(str(NOISE)), **args)
    _, second_info, *_ = client.predict(handle_file(str(NOISE)), **args)
    assert "computed" in first_info and "from the cache" in second_info
    with pytest.raises(Exception, match="at least two"):
        client.predict(handle_file(str(NOISE)), labels=" , ", api_name="/zero_shot")
    with pytest.raises(Exception, match="must contain"):
        client.predict(handle_file(str(NOISE)), labels="a, b", template="no slot", api_name="/zero_shot")
