"""The models issue's new models through the launched app (gradio_client, the session's `app_url`): every new ASR
model in /transcribe with its "Inside the model" pictures and the card's parameter count, a transducer's word
timestamps, the comparison table's new columns across engines and generations, a CTC model in the batch endpoint,
the language-ID classifiers (languages over time, single and batch) and PE-Audio's zero-shot view. (Classify and
Zero-shot's every-model API tests in tests/test_classify.py and tests/test_zero_shot.py check their outputs.)"""

from __future__ import annotations

import json
import zipfile

import pytest
from gradio_client import Client, handle_file

from shared.inside import format_count
from shared.models.loader import get_loader
from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe.views import COMPARE_HEADERS

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
PE_AUDIO = "facebook/pe-av-large"
SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think."


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_transducer_words_and_its_inside_view(client: Client) -> None:
    text, payload, *_, gallery, card = client.predict(handle_file(SPEECH), model="nvidia/parakeet-tdt-0.6b-v3",
                                                      timestamps="word", api_name="/transcribe")
    words = [word for segment in payload["segments"] for word in segment["words"]]
    assert text and words and all(word["start"] < word["end"] for word in words)
    assert [item["caption"].split(":")[0] for item in gallery] == ["Token-and-Duration Transducer"]
    assert "Token-and-Duration Transducer" in card


def test_compare_across_engines_and_generations(client: Client) -> None:
    models = ["Systran/faster-whisper-tiny.en", "openai/whisper-tiny.en", "UsefulSensors/moonshine-tiny",
              "nvidia/parakeet-ctc-0.6b"]
    table, _ = client.predict(handle_file(SPEECH), models=models, reference=SPEECH_TEXT,
                              api_name="/compare_transcripts")
    assert table["headers"] == COMPARE_HEADERS
    rows = [dict(zip(COMPARE_HEADERS, row, strict=True)) for row in table["data"]]
    assert [(row["engine"], row["architecture"], row["year"]) for row in rows] == [
        ("faster-whisper", "seq2seq", 2022), ("transformers", "seq2seq", 2022), ("transformers", "seq2seq", 2024),
        ("transformers", "CTC", 2024)]
    assert rows[0]["text"] == rows[1]["text"] and rows[0]["WER"] <= 0.1  # same real weights, two engines
    assert all(row["compute (s)"] > 0 and row["RTF"] > 0 for row in rows)


def test_batch_with_a_parakeet_ctc_model(client: Client) -> None:
    zip_path, table, info = client.predict([handle_file(SPEECH)], model="nvidia/parakeet-ctc-1.1b",
                                           api_name="/transcribe_batch")
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["speech_piper.json", "speech_piper.srt", "summary.csv"]
    assert table["data"][0][:2] == ["speech_piper.wav", "ok"] and "1 of 1 file(s) done" in info


# ---- every new model through its endpoint, with its inside view and the card's parameter count ---------------------
CT2_COUNTS = {"Systran/faster-whisper-large-v3": "1.55 B parameters in the CTranslate2 weights (the registry's"}


def _parameters(model_id: str) -> str:
    """The card's size line for the model the app loaded, counted here on the same tiny model (its torch module's
    parameters), or the registry's count for a CTranslate2 model, which has no tensors to count."""
    if model_id in CT2_COUNTS:
        return CT2_COUNTS[model_id]
    with get_loader().use(model_id) as loaded:
        return format_count(sum(parameter.numel() for parameter in loaded.model.parameters()))


NEW_ASR = {"nvidia/parakeet-ctc-0.6b": ["CTC emission matrix"], "nvidia/parakeet-ctc-1.1b": ["CTC emission matrix"],
           "nvidia/parakeet-tdt-0.6b-v3": ["Token-and-Duration Transducer"],
           "UsefulSensors/moonshine-tiny": ["Variable-length encoder"],
           "UsefulSensors/moonshine-base": ["Variable-length encoder"],
           # English-only weights with large-v3's multilingual tokenizer: generate() still detects the language
           "distil-whisper/distil-large-v3.5": ["Whisper's input", "Decoded tokens and their probabilities",
                                                "Language detection"],
           "Systran/faster-whisper-large-v3": ["Whisper's input", "Decoded tokens and their probabilities"]}


def _titles(gallery: list[dict]) -> list[str]:
    return [item["caption"].split(":")[0] for item in gallery]


@pytest.mark.parametrize("model_id", NEW_ASR)
def test_transcribe_every_new_model(client: Client, model_id: str) -> None:
    text, _payload, *_, gallery, card = client.predict(handle_file(SPEECH), model=model_id, api_name="/transcribe")
    assert isinstance(text, str) and text
    assert _titles(gallery) == NEW_ASR[model_id]
    assert f"`{model_id}`" in card and _parameters(model_id) in card


@pytest.mark.parametrize("model_id", ["facebook/mms-lid-126", "openai/whisper-small#language-id"])
def test_classify_language_id(client: Client, model_id: str) -> None:
    label, info, _image, _table, _files, gallery, card = client.predict(handle_file(SPEECH), model=model_id, top_k=3,
                                                                        api_name="/classify")
    assert len(label["confidences"]) == 3 and "real-time factor" in info
    assert _titles(gallery)[-1] == "Languages over time" and len(gallery) == 3
    assert _parameters(model_id) in card


def test_zero_shot_with_perception_encoder(client: Client) -> None:
    label, *_, gallery, card = client.predict(handle_file(SPEECH), labels="speech, music", model=PE_AUDIO,
                                              api_name="/zero_shot")
    assert {item["label"] for item in label["confidences"]} == {"speech", "music"}
    assert _titles(gallery) == ["Audio × text similarity"]
    assert "Perception Encoder" in card and _parameters(PE_AUDIO) in card


def test_classify_batch_with_a_language_id_model(client: Client) -> None:
    zip_path, table, info = client.predict([handle_file(SPEECH)], model="facebook/mms-lid-126", top_k=2,
                                           api_name="/classify_batch")
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["speech_piper.json", "summary.csv"]
        payload = json.loads(archive.read("speech_piper.json"))
    row = dict(zip(table["headers"], table["data"][0], strict=True))
    assert payload["model"] == "facebook/mms-lid-126" and len(payload["top_k"]) == 2
    assert row["status"] == "ok" and row["top_label"] == payload["top_k"][0]["label"] and "1 of 1" in info


def test_compare_transducer_distil_and_moonshine_base(client: Client) -> None:
    models = ["nvidia/parakeet-tdt-0.6b-v3", "distil-whisper/distil-large-v3.5", "UsefulSensors/moonshine-base"]
    table, _ = client.predict(handle_file(SPEECH), models=models, reference=SPEECH_TEXT,
                              api_name="/compare_transcripts")
    rows = [dict(zip(COMPARE_HEADERS, row, strict=True)) for row in table["data"]]
    assert [(row["model"], row["architecture"], row["year"], row["params (M)"], row["languages"]) for row in rows] == [
        ("nvidia/parakeet-tdt-0.6b-v3", "transducer", 2025, 600, "25 European languages"),
        ("distil-whisper/distil-large-v3.5", "seq2seq", 2025, 756, "English"),
        ("UsefulSensors/moonshine-base", "seq2seq", 2024, 61, "English")]
    assert all(isinstance(row["text"], str) and 0 <= row["WER"] and row["compute (s)"] > 0 for row in rows)
