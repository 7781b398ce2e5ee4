"""Faults the app must survive: out of memory during inference, hundreds of sequential requests (memory and temp
files bounded), offline with an empty model cache (only hub models unavailable), LRU eviction of real models."""

from __future__ import annotations

import gc
import subprocess
import weakref
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import psutil
import pytest
import torch
from gradio_client import Client, handle_file

from shared.models.device import Placement
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import get_spec
from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS, launched_app

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
OFFLINE_ASR = "offline:whisper-tiny.en"
PIPER = "offline:piper-en_US-joe-medium"
UNREACHABLE = "not downloaded and the Hugging Face hub is unreachable"


# ---- 1. out of memory during inference -----------------------------------------------------------------------------
def test_out_of_memory_during_inference_is_explained_and_the_next_request_succeeds(monkeypatch) -> None:
    import tabs.transcribe  # imported here: other tests reload this module

    loader = get_loader()
    calls = []
    with loader.use(OFFLINE_ASR) as model:
        real_transcribe = model.transcribe

        def out_of_memory_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return real_transcribe(*args, **kwargs)

        monkeypatch.setattr(model, "transcribe", out_of_memory_once)

    with pytest.raises(gr.Error) as raised:
        tabs.transcribe.run_transcribe(SPEECH, OFFLINE_ASR)
    assert calls == [1]  # the fault came from the model's forward pass, not from decoding or loading
    assert "out of memory" in raised.value.message.lower()
    assert "Traceback" not in raised.value.message
    assert loader.status() == []  # every idle model unloaded (the recogniser and the VAD)

    text = tabs.transcribe.run_transcribe(SPEECH, OFFLINE_ASR)[0]
    assert calls == [1]  # a freshly loaded model answered, not the patched one
    assert text and text != "(no speech detected)"
    assert loader.is_loaded(OFFLINE_ASR)


# ---- a private launch: empty model cache, offline, its own temp folders ---------------------------------------------
class LaunchedApp:
    def __init__(self, url: str, process: subprocess.Popen, temp_dirs: tuple[Path, ...]) -> None:
        self.url = url
        self.process = process
        self.temp_dirs = temp_dirs

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def temp_usage(self) -> tuple[int, int]:
        """(files, bytes) under the app's temp folders: Gradio's cache and the app's results folder."""
        files = size = 0
        for folder in self.temp_dirs:
            for path in folder.rglob("*"):
                if path.is_file():
                    files += 1
                    size += path.stat().st_size
        return files, size


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaunchedApp]:
    """`python app.py` with nothing in its Hugging Face cache and the hub unreachable. Its Gradio cache and results
    folder are private so that file growth is this app's alone (other apps on the machine share /tmp/gradio)."""
    base = tmp_path_factory.mktemp("offline-app")
    hf_home, gradio_temp, results = base / "hf", base / "gradio", base / "results"
    for folder in (hf_home, gradio_temp, results):
        folder.mkdir()
    with launched_app("offline-app-server.log", HF_HOME=str(hf_home), GRADIO_TEMP_DIR=str(gradio_temp),
                      ADS_RESULTS_DIR=str(results)) as (url, process):
        yield LaunchedApp(url, process, (gradio_temp, results))
    assert not any(hf_home.rglob("*.safetensors"))  # nothing was downloaded


# ---- 3. offline with an empty cache ---------------------------------------------------------------------------------
def test_offline_empty_cache_only_hub_models_are_unavailable(offline_app: LaunchedApp) -> None:
    client = Client(offline_app.url, verbose=False, download_files=False)
    summary = client.predict(handle_file(SPEECH), api_name="/visualize")[0]
    assert summary["duration_s"] == pytest.approx(5.29, abs=0.01)
    text = client.predict(handle_file(SPEECH), model=OFFLINE_ASR, api_name="/transcribe")[0]
    assert text and text != "(no speech detected)"
    speech = client.predict("Hello there.", model=PIPER, api_name="/tts")[0]
    assert Path(speech["path"] if isinstance(speech, dict) else speech).stat().st_size > 10_000
    turns = client.predict(handle_file(SPEECH), model="offline:diarizer", api_name="/diarize")[0]
    assert turns

    for endpoint, kwargs in (("/classify", {"model": "MIT/ast-finetuned-audioset-10-10-0.4593"}),
                             ("/zero_shot", {"labels": "speech, music", "model": "laion/clap-htsat-unfused"})):
        with pytest.raises(Exception) as raised:
            client.predict(handle_file(SPEECH), api_name=endpoint, **kwargs)
        assert UNREACHABLE in str(raised.value), (endpoint, str(raised.value))
        assert "Traceback" not in str(raised.value)

    # still serving, and the failures did not take the working models down
    assert client.predict(handle_file(SPEECH), model=OFFLINE_ASR, api_name="/transcribe")[0] == text
    assert client.predict(handle_file(SPEECH), api_name="/visualize")[0] == summary


# ---- 2. many sequential requests ------------------------------------------------------------------------------------
WARM_UP, REQUESTS = 20, 500


def test_sequential_requests_keep_memory_and_temp_files_bounded(offline_app: LaunchedApp) -> None:
    client = Client(offline_app.url, verbose=False, download_files=False)

    def call() -> list[Path]:
        """One cheap model-bound request; returns the files its answer points at (on the server). As the browser
        sends it with "Inside the model" closed: no pictures drawn, the run's recording kept in the session."""
        outputs = client.predict("Hi.", model=PIPER, inside=False, api_name="/tts")
        return [Path(item["path"]) for item in outputs if isinstance(item, dict) and item.get("path")]

    for _ in range(WARM_UP):
        one_answer = call()
    answer_bytes = sum(path.stat().st_size for path in one_answer)
    rss_before, (files_before, bytes_before) = offline_app.rss_mb(), offline_app.temp_usage()
    for _ in range(REQUESTS):
        call()
    rss_after, (files_after, bytes_after) = offline_app.rss_mb(), offline_app.temp_usage()

    files_per_request = (files_after - files_before) / REQUESTS
    bytes_per_request = (bytes_after - bytes_before) / REQUESTS
    figures = (f"{REQUESTS} requests after {WARM_UP} warm-up: RSS {rss_before:.0f} -> {rss_after:.0f} MB; "
               f"temp +{files_after - files_before} files, +{bytes_after - bytes_before} bytes "
               f"({files_per_request:.2f} files, {bytes_per_request:.0f} bytes per request; "
               f"one answer's files: {answer_bytes} bytes)")
    print(figures)
    (ARTIFACTS / "faults-sequential.txt").write_text(figures + "\n")
    assert rss_after - rss_before < 100, figures
    # Files are pruned after an hour by design, so in the short run the temp folders grow linearly. The bound: each
    # request may leave at most its own answer's files twice (the app's results copy and Gradio's cache copy) plus
    # 4 KB, and at most 4 files; anything else kept per request (uploads, intermediates, leaks) breaks it.
    assert bytes_per_request <= 2 * answer_bytes + 4096, figures
    assert files_per_request <= 4, figures


# ---- 4. LRU eviction with real tiny models ---------------------------------------------------------------------------
def test_lru_eviction_of_real_models_frees_the_evicted_one(tiny_hf_home: Path) -> None:
    first, second, third = ("MIT/ast-finetuned-speech-commands-v2", "superb/wav2vec2-base-superb-ks",
                            "facebook/wav2vec2-base-960h")
    # the loader refuses a model whose registry size hint exceeds the budget, so the budget starts at the hint
    loader = ModelLoader(budget_mb=get_spec(third).size_mb + 1, placement=Placement("cpu", "float32"))
    with loader.use(first) as pipeline:
        assert pipeline.model.device.type == "cpu"
    with loader.use(second) as pipeline:
        second_model = weakref.ref(pipeline.model)
    del pipeline
    first_mb, second_mb = loader.entry(first).memory_mb, loader.entry(second).memory_mb
    assert 0 < first_mb < 50 and 0 < second_mb < 50  # measured from the tensors, not the registry hint
    with loader.use(first):  # `first` is now the most recently used; `second` the least
        pass
    # a budget the two loaded models plus the third's hint exceed, while the first plus the third fit
    loader.budget_mb = get_spec(third).size_mb + first_mb + second_mb / 2

    with loader.use(third) as pipeline:
        assert pipeline.model.device.type == "cpu"
    del pipeline
    assert loader.evictions == [second]
    assert loader.is_loaded(first) and loader.is_loaded(third) and not loader.is_loaded(second)
    assert loader.used_mb() <= loader.budget_mb
    gc.collect()
    assert second_model() is None, "the evicted model is still referenced somewhere"
    assert dict(loader.load_counts) == {first: 1, second: 1, third: 1}
