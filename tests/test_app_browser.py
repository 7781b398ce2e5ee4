"""A real browser (Debian chromium driven by Playwright, no browser download) opens the app, draws a plot, and runs
every tab's model to show its "Inside the model" pictures."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.serving.widgets import EXAMPLES_DIR
from tests.conftest import ARTIFACTS, chromium_page

pytestmark = [pytest.mark.browser]
TABS = ("Visualize", "Classify", "Zero-shot", "Transcribe", "Diarize", "Text-to-speech", "Evaluate",
        "Models & device")


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
    model = panel.get_by_label("Model", exact=True)
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
        model = panel.get_by_label("Model", exact=True)
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


def test_playable_timeline_in_the_browser(page) -> None:
    """Diarize, then the timeline: hovering a bar shows its speaker and times, clicking it seeks the player there."""
    from shared.diarize.run import pyannote_sample

    page.get_by_role("tab", name="Diarize", exact=True).click()
    panel = page.locator("#tab-diarize")
    panel.locator("input[type=file]").first.set_input_files(pyannote_sample()[0])
    page.wait_for_timeout(1000)
    panel.get_by_role("button", name="Diarize", exact=True).click()
    bars = page.locator("#diarize-timeline .tl-item")
    bars.first.wait_for(state="visible", timeout=120_000)
    bar = bars.last
    bar.hover()
    tip = page.locator("#diarize-timeline .tl-tip")
    assert tip.inner_text().startswith(bar.get_attribute("data-tip").split(" · ")[0]) and "–" in tip.inner_text()
    assert "SPEAKER_" in bar.locator("title").text_content()
    start = float(bar.get_attribute("data-start"))
    bar.click()
    audio = page.locator("#diarize-timeline audio.tl-audio")
    page.wait_for_function("s => { const a = document.querySelector('#diarize-timeline audio.tl-audio');"
                           " return a && a.readyState > 0 && Math.abs(a.currentTime - s) < 2; }", arg=start,
                           timeout=30_000)
    assert audio.evaluate("a => a.currentTime") >= start - 0.05 and start > 0


def test_align_words_karaoke_in_the_browser(page) -> None:
    """Align a pasted transcript (tiny wav2vec2): the words appear as a karaoke view; a click on a word moves the
    view's own audio player to that word's start and highlights it while it plays."""
    page.get_by_role("tab", name="Transcribe", exact=True).click()
    page.get_by_role("tab", name="Align a transcript").click()
    panel = page.locator("#transcribe-align")
    panel.locator("input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "speech_piper.wav"))
    page.wait_for_timeout(1000)
    panel.get_by_label("Transcript").fill("The quick brown fox jumps over the lazy dog.")
    aligner = panel.get_by_label("Aligner (a CTC model)")
    aligner.click()
    aligner.fill("Wav2Vec2 base")
    page.keyboard.press("Enter")
    panel.get_by_role("button", name="Align words", exact=True).click()
    words = panel.locator("#align-karaoke .kw")
    words.first.wait_for(state="visible", timeout=120_000)
    assert words.count() == 9
    fox = words.nth(3)
    start = float(fox.get_attribute("data-start"))
    panel.locator("#align-karaoke audio").evaluate("audio => { audio.muted = true; }")
    fox.click()
    page.wait_for_function("s => { const a = document.querySelector('#align-karaoke audio');"
                           " return a && a.readyState > 0 && Math.abs(a.currentTime - s) < 0.5; }", arg=start,
                           timeout=30_000)
    panel.locator("#align-karaoke .kw-now").first.wait_for(state="attached", timeout=10_000)


def test_evaluate_in_the_browser(page) -> None:
    """Evaluate: pick text to speech (its built-in voice), run it on the default sentences; the models table, the
    scatter and the per-example rows appear."""
    page.get_by_role("tab", name="Evaluate", exact=True).click()
    panel = page.locator("#tab-evaluate")
    panel.get_by_label("Text to speech (round-trip WER, speaker similarity)").check()
    panel.get_by_text("Piper en_US joe").first.wait_for(timeout=30_000)  # the task's models came back
    panel.get_by_role("button", name="Evaluate", exact=True).click()
    page.locator("#evaluate-table").get_by_text("offline:piper-en_US-joe-medium").first.wait_for(timeout=120_000)
    assert page.locator("#evaluate-scatter img").first.evaluate("img => img.naturalWidth") > 300
    assert "sentence 2" in panel.inner_text()
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "evaluate.png"), full_page=True)


def test_audio_to_audio_separation_in_the_browser(page) -> None:
    """Audio → audio: the Separate sub-tab's example mixture through the tiny SepFormer; two source players, the
    before/after spectrograms and the scores appear."""
    page.get_by_role("tab", name="Audio → audio", exact=True).click()
    page.get_by_role("tab", name="Separate sources", exact=True).click()
    panel = page.locator("#a2a-separate")
    panel.locator("input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "two_voices_mix_8k.wav"))
    page.wait_for_timeout(1000)
    panel.get_by_role("button", name="Separate", exact=True).click()
    picture = panel.locator("#a2a-separate-spectrograms img")
    picture.wait_for(state="visible", timeout=120_000)
    assert picture.evaluate("img => img.naturalWidth") > 800  # three panels side by side
    assert "energy share" in panel.locator("#a2a-separate-info").inner_text()
    for player in ("#a2a-separate-0", "#a2a-separate-1"):  # each source player holds its wav
        html = panel.locator(player).inner_html()
        assert "source_" in html or panel.locator(player).locator("audio").evaluate_all(
            "els => els.some(a => (a.currentSrc || a.src || '').includes('source_'))"), (player, html[:3000])
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "audio-to-audio.png"), full_page=True)


def test_voice_from_a_recording_in_the_browser(page) -> None:
    """Text-to-speech → Voice from a recording: upload the example voice, type its transcript, SpeechT5 speaks in
    its x-vector; the scores appear and the reference input is cleared (the recording is not kept)."""
    page.get_by_role("tab", name="Text-to-speech", exact=True).click()
    page.get_by_role("tab", name="Voice from a recording", exact=True).click()
    panel = page.locator("#tts-clone")
    assert "Consent" in panel.locator("#tts-clone-consent").inner_text()
    panel.locator("#tts-clone-reference input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "speech_piper.wav"))
    page.wait_for_timeout(1000)
    panel.get_by_label("What the recording says").fill("The quick brown fox jumps over the lazy dog.")
    model = panel.get_by_label("Model", exact=True)
    model.click()
    model.fill("SpeechT5")
    page.keyboard.press("Enter")
    panel.locator("#tts-clone-run").click()
    info = panel.locator("#tts-clone-info")
    page.wait_for_function("el => el.innerText.includes('speaker similarity')", arg=info.element_handle(),
                           timeout=120_000)
    assert "cloned.wav" in panel.locator("#tts-clone-audio a.download-link").get_attribute("href")
    reference_cleared = panel.locator("#tts-clone-reference [data-testid=upload-text]")
    reference_cleared.wait_for(state="visible", timeout=10_000)
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "voice-from-a-recording.png"), full_page=True)
