"""Load against the launched app: mixed concurrent jobs all succeed; simultaneous first calls load a model once."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
CHIRP = str(EXAMPLES_DIR / "chirp_100-8000Hz.wav")


def server_log() -> str:
    return (ARTIFACTS / "app-server.log").read_text(errors="replace")


def test_ten_simultaneous_first_calls_load_the_model_once(app_url: str) -> None:
    """Ten clients ask at once for a classifier the app has not loaded yet (when other tests of this session have
    loaded them all, it still checks that no request reloaded the model); the log shows one load."""
    from shared.models import registry

    candidates = [spec.id for spec in registry.models_for(registry.CLASSIFY)]
    loaded = {model for model in candidates if f"loaded {model} on" in server_log()}
    model = next((model for model in candidates if model not in loaded), candidates[-1])
    # identical concurrent results used to break downloads (Gradio rewrote the shared cached image in place while
    # serving it); app.py now writes those atomically, so the results' files are downloaded here too
    clients = [Client(app_url, verbose=False) for _ in range(10)]
    jobs = [client.submit(handle_file(SPEECH), model=model, api_name="/classify") for client in clients]
    results = [job.result(timeout=300) for job in jobs]
    assert all(result[0]["label"] for result in results)
    time.sleep(0.5)
    assert len(re.findall(rf"loaded {re.escape(model)} on", server_log())) == 1


def test_twenty_mixed_jobs_at_once_all_succeed(app_url: str) -> None:
    calls = [
        (handle_file(SPEECH), {"api_name": "/visualize"}),
        (handle_file(SPEECH), {"model": "offline:whisper-tiny.en", "api_name": "/transcribe"}),
        (handle_file(CHIRP), {"labels": "a siren, music", "api_name": "/zero_shot"}),
        (handle_file(SPEECH), {"model": "MIT/ast-finetuned-speech-commands-v2", "api_name": "/classify"}),
        ("Hello there.", {"model": "offline:piper-en_US-joe-medium", "api_name": "/tts"}),
    ] * 4

    def run(call: tuple) -> object:
        first, kwargs = call
        return Client(app_url, verbose=False).predict(first, **kwargs)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(run, calls))
    assert len(results) == 20 and all(result is not None for result in results)
    # the app's model-bound handlers share one concurrency group (ADS_GPU_CONCURRENCY, 2 by default): over this
    # whole session the most that ever ran at once is logged by shared.serving.slots.IN_FLIGHT
    maxima = [int(n) for n in re.findall(r"model-bound handlers in flight: (\d+)", server_log())]
    assert maxima and max(maxima) <= 2
