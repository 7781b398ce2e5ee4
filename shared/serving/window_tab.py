"""The layout and wiring the windowed-scoring tabs share (Classify's "Labels and timeline", Zero-shot): audio with
a dataset source, the task's own settings, window and hop sliders, the run button and examples on the left; the
scores, the info line and "Inside the model" on the right; the timeline picture and an accordion with the table and
downloads below. The tabs pass what differs (words, slider ranges, the settings, the handler and its api_name), so
their components, labels and API stay exactly as each tab defines them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from shared.audio.datasets import info_with_label_check
from shared.serving.dataset_source import dataset_source
from shared.serving.widgets import (
    MODEL_EVENT,
    InsideRender,
    InsideSection,
    audio_input,
    example_paths,
    inside_section,
)

EXAMPLES = ("chirp_100-8000Hz.wav", "chord_c_major.wav", "pink_noise.flac", "speech_piper.wav")
SliderRange = tuple[float, float, float, float]  # minimum, maximum, default, step (seconds)


@dataclass(frozen=True)
class WindowTabText:
    """What differs between the tabs' shared layout: the window and hop slider ranges, and the words shown."""

    window: SliderRange
    hop: SliderRange
    run: str  # the run button
    answer: str  # the gr.Label with the clip's scores
    timeline: str  # the timeline picture
    table: str  # the accordion holding the table and downloads
    headers: list[str]
    files: str


@dataclass
class WindowTab:
    """The components of one windowed-scoring tab; `settings` are the task's own, in the order it made them."""

    audio: gr.Audio
    reference: gr.Textbox
    settings: tuple[Any, ...]
    window: gr.Slider
    hop: gr.Slider
    run: gr.Button
    answer: gr.Label
    info: gr.Markdown
    inside: InsideSection
    timeline: gr.Image
    table: gr.Dataframe
    files: gr.File

    def wire(self, handler: Callable[..., tuple], settings: list[Any], api_name: str, render: InsideRender) -> None:
        """The run: audio, `settings` (in the handler's order), window, hop and whether "Inside the model" is open →
        scores, info, timeline, table, files and the inside section; then the reference-label check on the info
        line and the lazy inside pictures."""
        event = self.run.click(handler, [self.audio, *settings, self.window, self.hop, self.inside.is_open],
                               [self.answer, self.info, self.timeline, self.table, self.files, *self.inside.outputs],
                               api_name=api_name, **MODEL_EVENT)
        event.success(info_with_label_check, [self.info, self.reference, self.answer], self.info,
                      api_visibility="private")
        self.inside.draw_on_open(render, event)


def _seconds_slider(span: SliderRange, label: str) -> gr.Slider:
    minimum, maximum, value, step = span
    return gr.Slider(minimum, maximum, value=value, step=step, label=label)


def window_tab(text: WindowTabText, settings: Callable[[], tuple[Any, ...]]) -> WindowTab:
    """Lay out the tab; `settings()` makes the task's own inputs (placed between the dataset source and the
    window sliders). Call `.wire(...)` on the result."""
    with gr.Row():
        with gr.Column():
            audio = audio_input()
            reference = dataset_source(audio, prefer="label")
            chosen = settings()
            with gr.Row():
                window = _seconds_slider(text.window, "Window (s)")
                hop = _seconds_slider(text.hop, "Hop (s)")
            run = gr.Button(text.run, variant="primary")
            gr.Examples(example_paths(*EXAMPLES), inputs=[audio])
        with gr.Column():
            answer = gr.Label(label=text.answer)
            info = gr.Markdown()
            inside = inside_section()
    timeline = gr.Image(label=text.timeline, format="png", show_label=False)
    with gr.Accordion(text.table, open=False):
        table = gr.Dataframe(headers=text.headers, interactive=False)
        files = gr.File(label=text.files, file_count="multiple")
    return WindowTab(audio, reference, chosen, window, hop, run, answer, info, inside, timeline, table, files)
