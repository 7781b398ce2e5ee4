"""Evaluate through the launched app (gradio_client, api_name="evaluate"): a TTS evaluation end to end, your own
files with a references file, and bad inputs as clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR

PIPER = "offline:piper-en_US-joe-medium"


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_evaluate_tts_through_the_api(client: Client) -> None:
    summary, table, scatter, confusion, examples, files = client.predict(
        task="tts", models=[PIPER], sentences="The quick brown fox jumps over the lazy dog.\nGood morning.",
        api_name="/evaluate")
    assert PIPER in summary and table["data"][0][0] == PIPER
    assert table["headers"][3] == "round-trip WER" and table["data"][0][1] == 2
    assert Path(scatter).is_file() and confusion == []
    assert {row[1] for row in examples["data"]} == {"sentence 1", "sentence 2"}
    assert sorted(Path(path).name for path in files) == ["evaluation.json", "examples.csv", "models.csv"]


def test_evaluate_your_files_and_bad_references(client: Client, tmp_path: Path) -> None:
    references = tmp_path / "references.csv"
    references.write_text("file,text\nspeech_piper.wav,the quick brown fox jumps over the lazy dog\n")
    audio = handle_file(str(EXAMPLES_DIR / "speech_piper.wav"))
    summary, table, *_ = client.predict(task="asr", models=["offline:whisper-tiny.en"], source="files",
                                        files=[audio], references=handle_file(str(references)), api_name="/evaluate")
    assert table["data"][0][1] == 1 and table["data"][0][2] == 0, summary
    references.write_text("file,transcript\nspeech_piper.wav,hello\n")
    with pytest.raises(Exception, match="no `text` column"):
        client.predict(task="asr", models=["offline:whisper-tiny.en"], source="files", files=[audio],
                       references=handle_file(str(references)), api_name="/evaluate")
    with pytest.raises(Exception, match="not a speech-recognition model"):
        client.predict(task="asr", models=[PIPER], api_name="/evaluate")
