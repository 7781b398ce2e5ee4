"""Zero-shot tab: CLAP scores your own labels against the sound, over the clip and over time."""

from __future__ import annotations

import gradio as gr

from shared.audio.datasets import info_with_label_check
from shared.audio.intake import load_audio
from shared.classify.inside import render_zero_shot
from shared.models import registry
from shared.serving.dataset_source import dataset_source
from shared.serving.estimates import estimate_from_audio
from shared.serving.widgets import (
    MODEL_EVENT,
    audio_input,
    example_paths,
    inside_outputs,
    inside_section,
    model_dropdown,
    user_errors,
)
from shared.serving.zero_gpu import gpu_task
from shared.zero_shot.run import (
    DEFAULT_LABELS,
    DEFAULT_TEMPLATE,
    SAMPLE_RATE,
    info_markdown,
    timeline_rows,
    write_outputs,
    zero_shot,
    zero_shot_timeline_image,
)

DEFAULT_MODEL = "laion/clap-htsat-unfused"
EXAMPLES = ("chirp_100-8000Hz.wav", "chord_c_major.wav", "pink_noise.flac", "speech_piper.wav")


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
            write_outputs(result), *inside_outputs(render_zero_shot, result, inside))


def build() -> None:
    gr.Markdown("**CLAP** embeds sound and text in one space. Type any labels: each is put into the prompt "
                "template, and the clip is scored by how close its embedding is to each prompt's (a softmax over "
                "your labels, so the scores sum to 1). The label embeddings are cached, so trying the same labels "
                "on another clip only runs the audio side.")
    with gr.Row():
        with gr.Column():
            audio = audio_input()
            reference = dataset_source(audio, prefer="label")
            labels = gr.Textbox(value=DEFAULT_LABELS, lines=3, label="Candidate labels (comma or newline separated)")
            template = gr.Textbox(value=DEFAULT_TEMPLATE, label="Prompt template ({} is replaced by each label)")
            model = model_dropdown(registry.ZERO_SHOT, default=DEFAULT_MODEL)
            with gr.Row():
                window = gr.Slider(0.5, 10, value=3.0, step=0.5, label="Window (s)")
                hop = gr.Slider(0.25, 10, value=1.5, step=0.25, label="Hop (s)")
            run = gr.Button("Score labels", variant="primary")
            gr.Examples(example_paths(*EXAMPLES), inputs=[audio])
        with gr.Column():
            scores = gr.Label(label="Label scores")
            info = gr.Markdown()
            inside = inside_section()
    timeline = gr.Image(label="Label × window scores", format="png", show_label=False)
    with gr.Accordion("Best label per window, and downloads", open=False):
        table = gr.Dataframe(headers=["start (s)", "end (s)", "best label"], interactive=False)
        files = gr.File(label="Download: JSON, label × window CSV", file_count="multiple")
    event = run.click(run_zero_shot, [audio, labels, model, template, window, hop, inside.is_open],
                      [scores, info, timeline, table, files, *inside.outputs], api_name="zero_shot", **MODEL_EVENT)
    event.success(info_with_label_check, [info, reference, scores], info, api_visibility="private")
    inside.draw_on_open(render_zero_shot, event)
