"""A bounded queue: callers beyond ADS_QUEUE_SIZE get a clear "busy" answer instead of waiting forever; a cancelled
running job gives its slot back at once and its worker stops."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.utils import Status

from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS, launched_app

LOG = ARTIFACTS / "small-queue-app.log"


@pytest.fixture(scope="module")
def small_queue_app(tiny_hf_home: Path) -> Iterator[str]:
    with launched_app(LOG.name, HF_HOME=str(tiny_hf_home), ADS_QUEUE_SIZE="1", ADS_GPU_CONCURRENCY="1") as (url, _):
        yield url


def test_overflow_gets_a_busy_message_and_the_rest_succeed(small_queue_app: str) -> None:
    def call(_: int) -> str:
        try:
            Client(small_queue_app, verbose=False, download_files=False).predict(
                handle_file(str(EXAMPLES_DIR / "speech_piper.wav")), model="offline:whisper-tiny.en",
                api_name="/transcribe")
            return "ok"
        except Exception as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(call, range(8)))
    assert "ok" in outcomes
    refused = [outcome for outcome in outcomes if outcome != "ok"]
    assert refused and all("queue is full" in outcome.lower() for outcome in refused), outcomes


def test_a_cancelled_running_job_frees_its_slot(small_queue_app: str, tmp_path: Path) -> None:
    """One model slot (ADS_GPU_CONCURRENCY=1). A 30-minute transcription (over a minute of work here) is cancelled
    while it runs: a short job then gets the slot and finishes long before the first one could have, the first
    one's worker stops at its next progress update, and the slot limit holds throughout."""
    speech, rate = sf.read(EXAMPLES_DIR / "speech_piper.wav", dtype="float32")
    long_path = tmp_path / "thirty_minutes.wav"
    sf.write(long_path, np.resize(speech, 30 * 60 * rate), rate, subtype="PCM_16")

    long_job = Client(small_queue_app, verbose=False, download_files=False).submit(
        handle_file(str(long_path)), model="offline:whisper-tiny.en", api_name="/transcribe")
    deadline = time.monotonic() + 90
    while long_job.status().code not in (Status.PROGRESS, Status.ITERATING):
        assert time.monotonic() < deadline, long_job.status()
        assert not long_job.done(), "the 30-minute job ended before it could be cancelled"
        time.sleep(0.2)
    time.sleep(2)  # well inside the decoding loop
    long_job.cancel()

    start = time.monotonic()
    text = Client(small_queue_app, verbose=False, download_files=False).predict(
        handle_file(str(EXAMPLES_DIR / "speech_piper.wav")), model="offline:whisper-tiny.en",
        api_name="/transcribe")[0]
    waited = time.monotonic() - start
    assert text and "no speech" not in text
    assert waited < 30, f"the short job waited {waited:.1f} s: the cancelled job still held the slot"
    log = LOG.read_text()
    assert "run_transcribe: cancelled, stopped at a progress update" in log
    assert "in flight: 2" not in log  # the cancelled worker never ran beside the next one
