"""Transcribe through the launched app (gradio_client), on the offline engine and the tiny hub models."""

from __future__ import annotations

import itertools

import pytest
from gradio_client import Client, handle_file

from shared.outputs.subtitles import parse_cues
from shared.outputs.text_metrics import wer
from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe.views import COMPARE_HEADERS

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think."


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_transcribe_offline_engine_defaults(client: Client) -> None:
    text, payload, info, table, files, *_ = client.predict(handle_file(SPEECH), model="offline:whisper-tiny.en",
                                                           api_name="/transcribe")
    assert wer(SPEECH_TEXT, text) <= 0.1
    assert payload["model"] == "offline:whisper-tiny.en" and payload["segments"]
    assert "real-time factor" in info and "cpu" in info
    assert len(table["data"]) == len(payload["segments"])
    srt = next(path for path in files if path.endswith(".srt"))
    assert parse_cues(open(srt).read())


def test_transcribe_real_whisper_weights_through_transformers(client: Client) -> None:
    text, payload, *_ = client.predict(handle_file(SPEECH), model="openai/whisper-tiny.en", timestamps="word",
                                       api_name="/transcribe")
    assert wer(SPEECH_TEXT, text) <= 0.1
    assert payload["segments"][0]["words"]


def test_transcribe_ctc_shows_the_collapse(client: Client) -> None:
    _text, payload, _, _, _, ctc_md, ctc_rows, *_inside = client.predict(handle_file(SPEECH),
                                                                         model="facebook/wav2vec2-base-960h",
                                                                         api_name="/transcribe")
    assert "drop blanks" in ctc_md and ctc_rows["data"]
    assert payload["engine"] == "transformers"


def test_compare_transcripts(client: Client) -> None:
    rows, diff_html = client.predict(handle_file(SPEECH), models=["offline:whisper-tiny.en",
                                                                  "openai/whisper-tiny.en"],
                                     reference=SPEECH_TEXT, api_name="/compare_transcripts")
    assert [row[0] for row in rows["data"]] == ["offline:whisper-tiny.en", "openai/whisper-tiny.en"]
    assert rows["headers"] == COMPARE_HEADERS
    wer_column = COMPARE_HEADERS.index("WER")
    assert all(row[wer_column] <= 0.1 for row in rows["data"])
    assert "reference text" in diff_html


def test_transcribe_errors(client: Client) -> None:
    with pytest.raises(Exception, match="English-only"):
        client.predict(handle_file(SPEECH), model="offline:whisper-tiny.en", task="translate",
                       api_name="/transcribe")
    with pytest.raises(Exception, match=r"unknown model|not in the list of choices"):
        client.predict(handle_file(SPEECH), model="evil/repo", api_name="/transcribe")


def _committed(view: str) -> str:
    return view.split('live-committed">')[1].split("</span>")[0] if "live-committed" in view else ""


def test_transcribe_stream_endpoint_grows_committed_text(client: Client) -> None:
    """/transcribe_stream plays a file as a live stream: committed text only grows, and it ends with the downloads."""
    job = client.submit(handle_file(SPEECH), model="offline:whisper-tiny.en", chunk_s=0.5,
                        api_name="/transcribe_stream")
    views = [view for view, *_ in job]
    final_view, stats, segments, files = job.outputs()[-1]
    committed = [_committed(view) for view in views]
    assert len(views) > 5 and all(later.startswith(earlier) for earlier, later in itertools.pairwise(committed))
    assert wer(SPEECH_TEXT, _committed(final_view)) <= 0.15 and "words" in stats and "latency" in stats
    assert segments["data"] and sorted(path.rsplit(".", 1)[1] for path in files) == ["json", "srt", "vtt"]


def test_transcribe_stream_refuses_bad_chunks(client: Client) -> None:
    with pytest.raises(Exception, match=r"minimum value 0\.1"):
        client.predict(handle_file(SPEECH), model="offline:whisper-tiny.en", chunk_s=0, api_name="/transcribe_stream")
