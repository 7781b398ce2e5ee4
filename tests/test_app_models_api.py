"""The models issue's new speech models through the launched app (gradio_client, the session's `app_url`): a
transducer with word timestamps and its "Inside the model" picture, the comparison table's new columns across
engines and generations, and a CTC model in the batch endpoint. (Classify and Zero-shot's new models run in
tests/test_classify.py's and tests/test_zero_shot.py's every-model API tests.)"""

from __future__ import annotations

import zipfile

import pytest
from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe.views import COMPARE_HEADERS

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
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
