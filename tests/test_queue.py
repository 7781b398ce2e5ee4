"""A bounded queue: callers beyond ADS_QUEUE_SIZE get a clear "busy" answer instead of waiting forever."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file

from shared.ui import EXAMPLES_DIR
from tests.conftest import ROOT, free_port, wait_for_http


@pytest.fixture(scope="module")
def small_queue_app(tiny_hf_home) -> str:
    port = free_port()
    env = {**os.environ, "HF_HOME": str(tiny_hf_home), "ADS_QUEUE_SIZE": "1", "ADS_GPU_CONCURRENCY": "1"}
    env.pop("ADS_TINY_HF_HOME", None)
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", 90, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=15)


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
