"""Classify tab: AST and friends — top-k labels, sound events over time, and classifiers side by side."""

from __future__ import annotations

import gradio as gr

from shared.audio.intake import load_audio
from shared.classify.batch import classify_batch
from shared.classify.inside import ClassifyRecording, render_inside
from shared.classify.run import SAMPLE_RATE, classify, compare_classifiers
from shared.classify.views import (
    CLASSIFY_COLUMNS,
    COMPARE_HEADERS,
    classify_timeline_image,
    compare_rows,
    info_markdown,
    timeline_rows,
    write_outputs,
)
from shared.models import registry
from shared.outputs.batch import preview, summary_columns
from shared.serving.estimates import estimate_batch, estimate_from_audio
from shared.serving.widgets import MODEL_EVENT, audio_input, example_paths, inside_outputs, model_dropdown, user_errors
from shared.serving.window_tab import EXAMPLES, WindowTabText, window_tab
from shared.serving.zero_gpu import gpu_task

DEFAULT_MODEL = "MIT/ast-finetuned-audioset-10-10-0.4593"
COMPARE_DEFAULT = [DEFAULT_MODEL, "MIT/ast-finetuned-speech-commands-v2", "superb/wav2vec2-base-superb-ks"]
LABELS_TAB = WindowTabText(window=(0.25, 10, 2.0, 0.25), hop=(0.25, 10, 1.0, 0.25), run="Classify",
                           answer="Top labels", timeline="Sound events over time",
                           table="Timeline as a table, and downloads", headers=["start (s)", "end (s)", "top labels"],
                           files="Download: JSON, timeline CSV")


@user_errors
@gpu_task(estimate_from_audio)
def run_classify(audio: str | None, model: str = DEFAULT_MODEL, top_k: float = 5, window_s: float = 2.0,
                 hop_s: float = 1.0, inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """`inside`: draw the "Inside the model" pictures now (API default); the UI passes whether the section is open."""
    progress(0.0, desc="Decoding audio")
    clip = load_audio(audio, SAMPLE_RATE)
    result = classify(clip, model, float(window_s), float(hop_s), progress=lambda f, d: progress(f, desc=d))
    k = int(top_k)
    timeline = classify_timeline_image(result)
    return (result.label_value(k), info_markdown(result), timeline, timeline_rows(result), write_outputs(result, k),
            *inside_outputs(render_inside, ClassifyRecording(result, timeline), inside))


@user_errors
@gpu_task(estimate_from_audio)
def run_compare(audio: str | None, models: list[str] | None = None, top_k: float = 3,
                progress: gr.Progress = gr.Progress()) -> tuple:
    clip = load_audio(audio, SAMPLE_RATE)
    results = compare_classifiers(clip, list(models or COMPARE_DEFAULT), progress=lambda f, d: progress(f, desc=d))
    values = [result.label_value(int(top_k)) for result in results]
    return (compare_rows(results, int(top_k)), *values, *[None] * (3 - len(values)))


@user_errors
@gpu_task(estimate_batch)
def run_classify_batch(files: list[str] | None, model: str = DEFAULT_MODEL, top_k: float = 5,
                       progress: gr.Progress = gr.Progress()) -> tuple:
    return preview(classify_batch(files, model, int(top_k), progress=lambda f, d: progress(f, desc=d)))


def compare_slots(models: list[str] | None) -> list[gr.Label]:
    """One result panel per chosen classifier, titled with its id (the rest hidden)."""
    models = list(dict.fromkeys(models or []))[:3]
    return [gr.Label(label=models[i] if i < len(models) else "", visible=i < len(models)) for i in range(3)]


def _label_settings() -> tuple[gr.Dropdown, gr.Slider]:
    return (model_dropdown(registry.CLASSIFY, default=DEFAULT_MODEL),
            gr.Slider(1, 20, value=5, step=1, label="Top-k labels"))


def build() -> None:
    gr.Markdown("An audio classifier maps a clip to labels. **AST** (Audio Spectrogram Transformer) cuts the "
                "log-mel spectrogram into 16×16 patches like an image; AudioSet models give independent "
                "(sigmoid) scores for 527 sounds, single-label models (Speech Commands, SUPERB) a softmax. "
                "Language identification is classification too: **MMS-LID** (126 languages) and Whisper's own "
                "language detection score languages. Sliding windows show which sounds (or languages) happen when. "
                "These models come from the Hugging Face hub (downloaded once, then cached for offline use).")
    with gr.Tab("Labels and timeline", elem_id="classify-labels"):
        tab = window_tab(LABELS_TAB, _label_settings)
        model, top_k = tab.settings
        tab.wire(run_classify, [model, top_k], "classify", render_inside)
    with gr.Tab("Compare classifiers", elem_id="classify-compare"):
        with gr.Row():
            with gr.Column():
                cmp_audio = audio_input()
                gr.Examples(example_paths(*EXAMPLES), inputs=[cmp_audio])
            with gr.Column():
                cmp_models = gr.Dropdown(registry.choices(registry.CLASSIFY), value=COMPARE_DEFAULT,
                                         multiselect=True, max_choices=3, label="Classifiers (1–3)")
                cmp_k = gr.Slider(1, 10, value=3, step=1, label="Top-k labels")
                cmp_run = gr.Button("Compare", variant="primary")
        with gr.Row():
            cmp_labels = compare_slots(COMPARE_DEFAULT)
        cmp_table = gr.Dataframe(headers=COMPARE_HEADERS, interactive=False, label="Side by side, with timings")
        cmp_run.click(run_compare, [cmp_audio, cmp_models, cmp_k], [cmp_table, *cmp_labels],
                      api_name="compare_classifiers", **MODEL_EVENT)
        cmp_models.change(compare_slots, cmp_models, cmp_labels, api_visibility="private")
    with gr.Tab("Batch", elem_id="classify-batch"):
        gr.Markdown("Several files → one zip: a JSON per file (top-k and the windows over time), and "
                    "`summary.csv`. A file that fails is listed in the summary; the others still run.")
        with gr.Row():
            with gr.Column():
                batch_files = gr.File(file_count="multiple", file_types=["audio"], label="Audio files")
                batch_model = model_dropdown(registry.CLASSIFY, default=DEFAULT_MODEL)
                batch_k = gr.Slider(1, 20, value=5, step=1, label="Top-k labels")
                batch_run = gr.Button("Classify all", variant="primary")
            with gr.Column():
                batch_info = gr.Markdown()
                batch_zip = gr.File(label="Download: zip")
        batch_table = gr.Dataframe(headers=summary_columns(CLASSIFY_COLUMNS), interactive=False, label="summary.csv")
        batch_run.click(run_classify_batch, [batch_files, batch_model, batch_k], [batch_zip, batch_table, batch_info],
                        api_name="classify_batch", **MODEL_EVENT)
