"""A real browser (Debian chromium driven by Playwright, no browser download) opens the app, draws a plot, and runs
every tab's model to show its "Inside the model" pictures."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS, chromium_page

pytestmark = [pytest.mark.browser]
TABS = ("Visualize", "Classify", "Zero-shot", "Transcribe", "Diarize", "Text-to-speech", "Models & device")


@pytest.fixture(scope="module")
def page(app_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One browser for the module, with Chromium's fake microphone playing speech (for the live tab)."""
    with chromium_page(app_url, extra_args=fake_microphone(tmp_path_factory.mktemp("mic"))) as page:
        page.context.grant_permissions(["microphone"])
        yield page


def fake_microphone(folder: Path) -> tuple[str, ...]:
    """Chromium flags for a fake microphone that plays the example speech, a 1 s pause after each repeat (the fake
    device loops the file), so every repeat ends an utterance."""
    import numpy as np
    import soundfile as sf

    speech, rate = sf.read(EXAMPLES_DIR / "speech_piper.wav", dtype="int16")
    wav = folder / "mic.wav"
    sf.write(wav, np.concatenate([speech, np.zeros(rate, np.int16)] * 3), rate, subtype="PCM_16")
    return ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}")


def test_page_has_all_tabs(page) -> None:
    for name in TABS:
        assert page.get_by_role("tab", name=name).count() == 1, name


def test_visualize_draws_after_upload(page) -> None:
    page.get_by_role("tab", name="Visualize").click()
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "chirp_100-8000Hz.wav"))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Visualize", exact=True).click()
    image = page.locator("#viz-spectrogram img")
    image.wait_for(state="visible", timeout=60_000)
    assert image.evaluate("img => img.naturalWidth") > 500
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "visualize.png"), full_page=True)


def test_transcribe_in_the_browser(page) -> None:
    page.get_by_role("tab", name="Transcribe", exact=True).click()
    panel = page.locator("#transcribe-file")
    panel.locator("input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "speech_piper.wav"))
    page.wait_for_timeout(1000)
    model = panel.get_by_label("Model")
    model.click()
    model.fill("faster-whisper")
    page.keyboard.press("Enter")
    panel.get_by_role("button", name="Transcribe", exact=True).click()
    transcript = page.locator("#transcript-text textarea")
    page.wait_for_function("el => el.value.includes('lazy dog')", arg=transcript.element_handle(), timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "transcribe.png"), full_page=True)


@pytest.mark.parametrize("tab", ["Classify", "Zero-shot", "Diarize", "Text-to-speech", "Models & device"])
def test_tab_renders(page, tab: str) -> None:
    page.get_by_role("tab", name=tab, exact=True).click()
    page.wait_for_timeout(800)
    assert page.get_by_role("tab", name=tab, exact=True).get_attribute("aria-selected") == "true"
    slug = tab.lower().replace(" & ", "-").replace(" ", "-")
    page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{slug}.png"), full_page=True)


INSIDE_RUNS = {  # tab -> (panel holding the main event, input file or None, button, model to pick or None)
    "Transcribe": ("#transcribe-file", EXAMPLES_DIR / "speech_piper.wav", "Transcribe", "faster-whisper"),
    "Classify": ("#classify-labels", EXAMPLES_DIR / "speech_piper.wav", "Classify", None),
    "Zero-shot": ("#tab-zero-shot", EXAMPLES_DIR / "chirp_100-8000Hz.wav", "Score labels", None),
    "Diarize": ("#tab-diarize", None, "Diarize", None),
    "Text-to-speech": ("#tts-synthesize", None, "Speak", None),
}


@pytest.mark.parametrize("tab", list(INSIDE_RUNS))
def test_inside_the_model_in_the_browser(page, tab: str) -> None:
    """Run the tab's model, open "Inside the model": its pictures and the architecture card with the parameter
    count appear; a screenshot of the section is kept for each tab."""
    from shared.diarize.run import pyannote_sample

    selector, audio, button, model_name = INSIDE_RUNS[tab]
    if tab == "Diarize":
        audio = Path(pyannote_sample()[0])
    page.get_by_role("tab", name=tab, exact=True).click()
    panel = page.locator(selector)
    if audio is not None:
        panel.locator("input[type=file]").first.set_input_files(str(audio))
        page.wait_for_timeout(1000)
    if model_name:
        model = panel.get_by_label("Model")
        model.click()
        model.fill(model_name)
        page.keyboard.press("Enter")
    panel.get_by_role("button", name=button, exact=True).click()
    section = panel.locator(".inside-model")
    section.get_by_text("Inside the model").first.click()
    images = section.locator("img")
    images.first.wait_for(state="visible", timeout=120_000)
    page.wait_for_timeout(500)
    assert images.first.evaluate("img => img.naturalWidth") > 300
    assert "parameters" in section.inner_text() or "not a PyTorch model" in section.inner_text()
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    slug = tab.lower().replace(" ", "-")
    section.screenshot(path=str(ARTIFACTS / "screenshots" / f"inside-{slug}.png"))


def test_live_microphone_in_the_browser(page) -> None:
    """Chromium's fake microphone plays speech: the live transcript's committed (black) text grows."""
    page.get_by_role("tab", name="Transcribe", exact=True).click()
    page.get_by_role("tab", name="Live microphone", exact=True).click()
    page.get_by_role("button", name="Record", exact=True).click()
    committed = page.locator("#live-transcript .live-committed")
    committed.first.wait_for(timeout=60_000)
    page.wait_for_function("() => (document.querySelector('#live-transcript .live-committed')?.textContent"
                           " || '').toLowerCase().includes('fox')", timeout=90_000)
    first = committed.first.text_content()
    page.wait_for_function("n => document.querySelector('#live-transcript .live-committed').textContent.length"
                           " > n", arg=len(first), timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "live.png"), full_page=True)
    page.get_by_role("button", name="Stop", exact=True).click()
