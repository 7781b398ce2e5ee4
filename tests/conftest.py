"""Test set-up. Before anything imports huggingface_hub, point HF_HOME at a private folder and go offline, so
no test can touch the network and every hub model resolves to the tiny models built into that folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ADS_TINY_HF_HOME reuses a folder built earlier by `python -m tests.tiny_models --out DIR` (faster local runs)
_REUSED_HF_HOME = os.environ.get("ADS_TINY_HF_HOME")
TINY_HF_HOME = Path(_REUSED_HF_HOME) if _REUSED_HF_HOME else Path(tempfile.mkdtemp(prefix="ads-tiny-hf-"))
os.environ["HF_HOME"] = str(TINY_HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# one BLAS/OpenMP thread per process: the test process and the launched app share 2 cores, and oversubscribed
# OpenMP spin-waits made tiny-model runs 10-30x slower
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.pop("HF_TOKEN", None)
ARTIFACTS = ROOT / "artifacts"
FAKE_HF_TOKEN = "hf_FAKEadsTOKENneverSHOWN0123456789"  # the launched app gets it; no output or log may contain it
APP_MEMORY_BUDGET_MB = 16_000  # the session app's budget (MB of registry size hints): CSM and Dia fit


def record_figures(monkeypatch: pytest.MonkeyPatch, *modules: Any, at: str = "new_figure") -> list:
    """Every figure the given modules make (`at="new_figure"`) or rasterise (`at="to_rgb"`): tests check afterwards
    that each one was cleared."""
    figures: list = []
    for module in modules:
        def recording(*args: Any, _original: Callable = getattr(module, at), **kwargs: Any) -> Any:
            result = _original(*args, **kwargs)
            figures.append(result if at == "new_figure" else args[0])
            return result

        monkeypatch.setattr(module, at, recording)
    return figures


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models on a busy 2-core machine: two torch threads spin against each other (Bark 10x slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_hf_home() -> Path:
    """HF_HOME holding a tiny random model for every hub model in the registry (built once per session)."""
    marker = TINY_HF_HOME / "built"
    if not marker.exists():
        from tests.tiny_models import build_all

        build_all(TINY_HF_HOME)
        marker.write_text("ok")
    return TINY_HF_HOME


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _REUSED_HF_HOME:
        shutil.rmtree(TINY_HF_HOME, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout_s: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s}s")


@contextmanager
def launched_app(log_name: str, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python app.py` as users launch it, on a free port, offline, with `env` on top of this process's environment;
    its output goes to artifacts/<log_name>. Yields (url, process); the app is stopped on exit."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
    full_env.pop("ADS_TINY_HF_HOME", None)
    with open(ARTIFACTS / log_name, "w") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=full_env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, 90, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(tiny_hf_home: Path) -> Iterator[str]:
    """The app with the tiny models as its hub cache, a fake HF_TOKEN (that no output may show) and a memory budget
    above CSM's and Dia's registry sizes (6.2 and 6.7 GB in fp32; their tiny stand-ins weigh a few MB), so /tts_clone
    runs them. The loader's eviction is tested on a ModelLoader of its own (test_app_faults.py)."""
    with launched_app("app-server.log", HF_HOME=str(tiny_hf_home), HF_TOKEN=FAKE_HF_TOKEN,
                      ADS_MEMORY_BUDGET_MB=str(APP_MEMORY_BUDGET_MB)) as (url, _):
        yield url


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def chromium_page(url: str, on_dialog: Callable[[Any], None] | None = None,
                  extra_args: tuple[str, ...] = ()) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download), headless, on the app's first tab;
    `extra_args` are more Chromium flags (e.g. a fake microphone)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test` (it installs it) or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, viewport={"width": 1400, "height": 1800},
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", *extra_args])
        page = browser.new_page()
        if on_dialog is not None:
            page.on("dialog", on_dialog)
        page.goto(url, wait_until="load")
        page.get_by_role("tab", name="Visualize").wait_for(timeout=30_000)
        yield page
        browser.close()
