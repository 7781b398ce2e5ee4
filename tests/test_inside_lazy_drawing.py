""""Inside the model" is drawn only when someone looks: every run records its intermediates, but with the section
closed (`inside=False`, what the UI passes) no figure is made; drawing the recording later gives the gallery an
open section (or an API call, `inside=True` by default) gets straight away. The section's events stay out of the
models group, and the API's inputs and outputs keep their positions."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client

from shared.classify import inside as inside_classify
from shared.diarize import inside as inside_diarize
from shared.diarize.run import OFFLINE_DIARIZER
from shared.serving.cancel import MODELS_GROUP
from shared.serving.widgets import (
    EXAMPLES_DIR,
    MODEL_EVENT,
    InsideSection,
    draw_pending,
    inside_outputs,
    inside_section,
)
from shared.transcribe import inside as inside_asr
from shared.tts import inside as inside_tts
from shared.tts import run as tts
from shared.zero_shot import inside as inside_zero_shot

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
PIPER = tts.OFFLINE_VOICE
COMMANDS = "MIT/ast-finetuned-speech-commands-v2"
WHISPER = "openai/whisper-tiny"


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the inside modules' figure makers as they are called (the tabs' own pictures — timeline,
    spectrogram — are not counted: they are drawn on every run by design)."""
    made: list[str] = []

    def counting(module: Any, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            made.append(f"{module.__name__}.{name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for module in (inside_asr, inside_classify, inside_diarize, inside_tts, inside_zero_shot):
        counting(module, "new_figure")
    counting(inside_asr, "whisper_window_image")
    return made


def _same_gallery(drawn: list[tuple[np.ndarray, str]], expected: list[tuple[np.ndarray, str]]) -> None:
    assert [caption for _, caption in drawn] == [caption for _, caption in expected]
    for (image, _), (expected_image, _) in zip(drawn, expected, strict=True):
        assert image.shape == expected_image.shape and np.array_equal(image, expected_image)


def _run_tts(inside: bool) -> tuple:
    from tabs.tts import run_tts

    return run_tts("Hi. Bye.", PIPER, inside=inside)


def _run_classify(inside: bool) -> tuple:
    from tabs.classify import run_classify

    return run_classify(SPEECH, COMMANDS, top_k=3, inside=inside)


def _run_zero_shot(inside: bool) -> tuple:
    from tabs.zero_shot import run_zero_shot

    return run_zero_shot(SPEECH, "speech, music, dog barking", inside=inside)


def _run_transcribe(inside: bool) -> tuple:
    from tabs.transcribe import run_transcribe

    return run_transcribe(SPEECH, WHISPER, inside=inside)


def _run_diarize(inside: bool) -> tuple:
    from tabs.diarize import run_diarize

    return run_diarize(SPEECH, OFFLINE_DIARIZER, inside=inside)


RUNS: dict[str, tuple[Callable[[bool], tuple], Callable[..., tuple[list, str]], int]] = {
    # tab: (its handler, the render function its section draws with, the pictures this clip gives)
    "tts": (_run_tts, inside_tts.render_inside, 1),
    "classify": (_run_classify, inside_classify.render_inside, 2),
    "zero_shot": (_run_zero_shot, inside_zero_shot.render_inside, 1),
    "transcribe": (_run_transcribe, inside_asr.render_inside, 3),
    "diarize": (_run_diarize, inside_diarize.render_inside, 2),  # one speaker: no clustering picture
}


@pytest.mark.parametrize("tab", list(RUNS))
def test_closed_section_records_without_drawing_and_the_recording_draws_the_same_gallery(
        tab: str, tiny_hf_home: Path, figures: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    run, render, pictures = RUNS[tab]
    *answer, recording, gallery, card = run(False)
    assert figures == [], f"{tab}: pictures drawn for a closed section"
    assert gallery == [] and recording is not None
    assert card and ("parameters" in card or "not a PyTorch model" in card)
    assert answer[0] is not None  # the answer itself is all there
    drawn, drawn_card = render(recording)  # what opening the section does
    assert figures and drawn_card == card and len(drawn) == pictures

    # an open section (or an API call) draws in the run: the same gallery as drawing that run's recording later
    # (compared on the same run: Piper's durations are sampled, so two runs differ)
    module = importlib.import_module(f"tabs.{tab}")
    recordings: list[Any] = []

    def spy(render: Callable[..., tuple[list, str]], recording: Any, draw: bool) -> tuple:
        recordings.append(recording)
        return inside_outputs(render, recording, draw)

    monkeypatch.setattr(module, "inside_outputs", spy)
    *_, nothing_kept, drawn_in_run, run_card = run(True)
    assert nothing_kept is None and len(drawn_in_run) == pictures  # drawn: nothing left to draw on opening
    drawn_later, later_card = render(recordings[0])
    assert later_card == run_card
    _same_gallery(drawn_later, drawn_in_run)


def test_inside_outputs_and_draw_pending() -> None:
    calls: list[tuple[Any, bool]] = []

    def render(recording: Any, draw: bool = True) -> tuple[list, str]:
        calls.append((recording, draw))
        return ([("picture", "caption")] if draw else []), f"card of {recording}"

    assert inside_outputs(render, "run 1", draw=False) == ("run 1", [], "card of run 1")
    assert inside_outputs(render, "run 2", draw=True) == (None, [("picture", "caption")], "card of run 2")
    assert draw_pending(render, "run 1") == (None, [("picture", "caption")], "card of run 1")
    assert calls == [("run 1", False), ("run 2", True), ("run 1", True)]
    skipped = draw_pending(render, None)  # nothing recorded, or already drawn: the gallery stays as it is
    assert len(skipped) == 3 and all(value == gr.skip() for value in skipped) and len(calls) == 3


def test_section_events_are_private_and_outside_the_models_group() -> None:
    with gr.Blocks() as demo:
        button = gr.Button()
        answer = gr.Textbox()
        section = inside_section()
        assert isinstance(section, InsideSection)
        event = button.click(lambda inside: ("answer", None, [], "card"), [section.is_open],
                             [answer, *section.outputs], api_name="run", **MODEL_EVENT)
        section.draw_on_open(lambda recording, draw=True: ([], "card"), event)
    assert isinstance(section.is_open, gr.Checkbox) and section.is_open.value is True and not section.is_open.visible
    assert isinstance(section.recorded, gr.State) and section.recorded.value is None
    models = [fn for fn in demo.fns.values() if fn.concurrency_id == MODELS_GROUP]
    section_fns = [fn for fn in demo.fns.values() if fn.concurrency_id != MODELS_GROUP]
    assert len(models) == 1 and models[0].api_visibility == "public"  # the run only
    # page load, expand, collapse flip is_open in the browser; opening and the end of a run draw on the server
    flips = [fn for fn in section_fns if fn.fn is None]
    assert len(flips) == 3 and all(fn.js and fn.outputs == [section.is_open] for fn in flips)
    draws = [fn for fn in section_fns if fn.fn is not None]
    assert len(draws) == 2 and all(section.recorded in fn.inputs for fn in draws)
    assert len(section_fns) == 5
    for fn in section_fns:
        assert fn.api_visibility == "private"


def test_api_keeps_its_outputs_and_takes_inside(app_url: str) -> None:
    client = Client(app_url, verbose=False, download_files=False)
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint, outputs in (("/tts", 6), ("/classify", 7), ("/zero_shot", 7), ("/transcribe", 11),
                              ("/diarize", 9)):
        parameters = api[endpoint]["parameters"]
        assert parameters[-1]["parameter_name"] == "inside" and parameters[-1]["parameter_default"] is True
        assert len(api[endpoint]["returns"]) == outputs, endpoint  # the recording (a State) is not an output
    closed = client.predict("Hi.", model=PIPER, inside=False, api_name="/tts")
    assert len(closed) == 6 and closed[4] == [] and "not a PyTorch model" in closed[5]  # ONNX voice: the card
    assert Path(closed[0]["path"]).is_file()
    open_ = client.predict("Hi.", model=PIPER, api_name="/tts")
    assert len(open_[4]) == 1 and open_[4][0]["caption"].startswith("Phonemes spoken")
