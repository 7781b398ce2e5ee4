"""Probes against running apps: HTML in error messages in the real browser, uploads over the size limit, a
cancelled job freeing its concurrency slot, and model ids that are not in the registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS, chromium_page, launched_app

SPEECH = EXAMPLES_DIR / "speech_piper.wav"
OFFLINE_ASR = "offline:whisper-tiny.en"
XSS_FILE_NAME = "<img src=x onerror=window.__xss=1>.wav"
DIALOGS: list[str] = []  # messages of every alert/confirm/prompt the page opened
XSS_TEXT = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"


# --- an error message carrying HTML does not execute in the browser ---------------------------------------------------

@pytest.fixture(scope="module")
def page(app_url: str):
    """The browser of tests/test_app_browser.py, plus a record of every dialog the page opens."""
    DIALOGS.clear()
    with chromium_page(app_url, lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss())) as page:
        yield page


def _toast_text(page) -> str:
    toast = page.locator(".toast-body").last
    toast.wait_for(state="visible", timeout=30_000)
    return toast.inner_text()


@pytest.mark.browser
def test_html_in_an_error_message_does_not_execute(page, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Visualize").click()
    # 1. the file name: a text document under an HTML file name, so the app's error echoes the name ({path.name!r})
    evil = tmp_path / XSS_FILE_NAME
    evil.write_text("<html><body><img src=x onerror=window.__xss=3></body></html>\n")
    page.locator("input[type=file]").first.set_input_files(str(evil))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Visualize", exact=True).click()
    name_message = _toast_text(page)
    assert "text or HTML document" in name_message, name_message
    assert "<" not in name_message  # Gradio's upload route strips <>:"/\\|?* etc. from file names
    # 2. a free-text field whose error echoes the text as typed (the dataset spec, a dropdown with custom values)
    page.get_by_text("Stream an example from a dataset").first.click()
    spec = page.get_by_label("Dataset", exact=False).first
    spec.click()
    spec.fill(XSS_TEXT)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Next example").first.click()
    page.wait_for_function("() => [...document.querySelectorAll('.toast-body')].some("
                           "el => el.innerText.includes('is not a hub dataset'))", timeout=30_000)
    spec_toast = page.locator(".toast-body", has_text="is not a hub dataset").last
    page.wait_for_timeout(500)  # give an injected handler time to fire
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "xss-probe.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    assert DIALOGS == []
    # Gradio renders toast text as sanitised HTML: no script element and no on* handler may survive in any toast
    scripted = page.evaluate("""() => [...document.querySelectorAll('.toast-body, .toast-body *')].filter(
        el => el.tagName === 'SCRIPT' || [...el.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length""")
    assert scripted == 0, spec_toast.inner_html()


# --- an app with a 1 MB upload limit and one model slot ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_limit_app(tiny_hf_home: Path) -> Iterator[str]:
    with launched_app("probe-app-server.log", HF_HOME=str(tiny_hf_home), ADS_MAX_FILE_MB="1",
                      ADS_GPU_CONCURRENCY="1") as (url, _):
        yield url


def test_upload_over_the_size_limit_is_refused(small_limit_app: str, tmp_path: Path) -> None:
    big = tmp_path / "two_mb.wav"
    sf.write(big, np.zeros(16_000 * 66, np.int16), 16_000, subtype="PCM_16")  # 2.0 MiB
    assert big.stat().st_size > 2 * 2**20
    client = Client(small_limit_app, verbose=False, download_files=False)
    with pytest.raises(Exception) as refused:
        client.predict(handle_file(str(big)), api_name="/visualize")
    message = str(refused.value)
    assert "Something went wrong" not in message
    assert "exceeds the maximum file size of 1048576 bytes" in message, message  # gradio_client checks first
    # a caller that skips the client's check: the server's upload route refuses it too
    with open(big, "rb") as handle:
        response = httpx.post(small_limit_app + "gradio_api/upload", files={"files": ("two_mb.wav", handle)},
                              timeout=30)
    assert response.status_code == 413, (response.status_code, response.text[:300])
    # still serving a small file
    summary = client.predict(handle_file(str(SPEECH)), api_name="/visualize")
    assert summary is not None


# --- model ids outside the registry -----------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["https://evil.example/model", "../../etc/passwd", "openai/whisper-tiny; rm -rf /"])
def test_model_ids_outside_the_registry_are_refused(app_url: str, model: str) -> None:
    client = Client(app_url, verbose=False, download_files=False)
    with pytest.raises(Exception, match=r"not in the list of choices|[Uu]nknown model"):
        client.predict(handle_file(str(SPEECH)), model=model, api_name="/transcribe")
    log = (ARTIFACTS / "app-server.log").read_text(errors="replace")
    # Gradio logs the refused value; the loader logs "loading <id> failed" / "loaded <id>" for anything it tried
    attempts = [line for line in log.splitlines() if model in line and ("loading" in line or "loaded" in line)]
    assert not attempts, attempts
