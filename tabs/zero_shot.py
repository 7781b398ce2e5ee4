"""Zero-shot tab: CLAP or Perception Encoder audio scores your own labels against the sound, over the clip and over
time."""

from __future__ import annotations

import gradio as gr

from shared.audio.intake import load_audio
from shared.models import registry
from shared.serving.estimates import estimate_from_audio
from shared.serving.widgets import inside_outputs, model_dropdown, user_errors
from shared.serving.window_tab import WindowTabText, window_tab
from shared.serving.zero_gpu import gpu_task
from shared.zero_shot.inside import render_inside
from shared.zero_shot.run import DEFAULT_LABELS, DEFAULT_TEMPLATE, SAMPLE_RATE, zero_shot
from shared.zero_shot.views import info_markdown, timeline_rows, write_outputs, zero_shot_timeline_image

DEFAULT_MODEL = "laion/clap-htsat-unfused"
LAYOUT = WindowTabText(window=(0.5, 10, 3.0, 0.5), hop=(0.25, 10, 1.5, 0.25), run="Score labels",
                       answer="Label scores", timeline="Label × window scores",
                       table="Best label per window, and downloads", headers=["start (s)", "end (s)", "best label"],
                       files="Download: JSON, label × window CSV")


@user_errors
@gpu_task(estimate_from_audio)
def run_zero_shot(audio: str | None, labels: str = DEFAULT_LABELS, model: str = DEFAULT_MODEL,
                  template: str = DEFAULT_TEMPLATE, window_s: float = 3.0, hop_s: float = 1.5, inside: bool = True,
                  progress: gr.Progress = gr.Progress()) -> tuple:
    """`inside`: draw the "Inside the model" pictures now (API default); the UI passes whether the section is open."""
    progress(0.0, desc="Decoding audio")
    clip = load_audio(audio, SAMPLE_RATE)
    result = zero_shot(clip, model, labels, template, float(window_s), float(hop_s),
                       progress=lambda f, d: progress(f, desc=d))
    return (result.label_value(), info_markdown(result), zero_shot_timeline_image(result), timeline_rows(result),
            write_outputs(result), *inside_outputs(render_inside, result, inside))


def build() -> None:
    gr.Markdown("**CLAP** (2022–23) and Meta's **Perception Encoder audio** (PE-Audio, 2025) embed sound and text "
                "in one space. Type any labels: each is put into the prompt template, and the clip is scored by how "
                "close its embedding is to each prompt's (a softmax over your labels, so the scores sum to 1). The "
                "label embeddings are cached, so trying the same labels on another clip only runs the audio side. "
                "These models come from the Hugging Face hub (downloaded once, then cached for offline use).")
    tab = window_tab(LAYOUT, _settings)
    labels, template, model = tab.settings
    tab.wire(run_zero_shot, [labels, model, template], "zero_shot", render_inside)


def _settings() -> tuple[gr.Textbox, gr.Textbox, gr.Dropdown]:
    return (gr.Textbox(value=DEFAULT_LABELS, lines=3, label="Candidate labels (comma or newline separated)"),
            gr.Textbox(value=DEFAULT_TEMPLATE, label="Prompt template ({} is replaced by each label)"),
            model_dropdown(registry.ZERO_SHOT, default=DEFAULT_MODEL))
