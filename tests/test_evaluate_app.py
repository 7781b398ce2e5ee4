"""Evaluate through the launched app (gradio_client, api_name="evaluate"): a TTS evaluation end to end, your own
files with a references file, bad inputs as clear errors, and a cancelled evaluation that keeps its partial tables
and stops on the server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR
from tabs.evaluate import RUNNING
from tests.conftest import ARTIFACTS

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


def test_a_cancelled_evaluation_stops_on_the_server(app_url: str, client: Client) -> None:
    """60 sentences (about a minute of work here) cancelled once the first partial tables have come: those tables
    are the event's last output (what the browser keeps after Stop), the server's worker stops at its next example
    (logged with how many were done), and the next evaluation runs at once."""
    sentences = "\n".join(f"This is sentence number {index} of the long list." for index in range(1, 61))
    job = Client(app_url, verbose=False).submit(task="tts", models=[PIPER], sentences=sentences,
                                                 api_name="/evaluate")
    deadline = time.monotonic() + 120
    while not any(RUNNING in str(output[0]) for output in job.outputs()):
        assert time.monotonic() < deadline and not job.done(), "no partial tables before the evaluation ended"
        time.sleep(0.2)
    partial = [output for output in job.outputs() if RUNNING in str(output[0])][-1]
    assert partial[1]["data"][0][0] == PIPER and 1 <= partial[1]["data"][0][1] < 60
    job.cancel()
    log = ARTIFACTS / "app-server.log"
    while "evaluate: stopped" not in log.read_text():
        assert time.monotonic() < deadline, "the server's evaluation did not stop"
        time.sleep(0.2)
    stopped = [line for line in log.read_text().splitlines() if "evaluate: stopped" in line][-1]
    assert int(stopped.split("stopped, ")[1].split()[0]) < 60, stopped
    start = time.monotonic()
    summary, table, *_ = client.predict(task="tts", models=[PIPER], sentences="Good morning.", api_name="/evaluate")
    assert table["data"][0][1] == 1 and time.monotonic() - start < 30, summary
