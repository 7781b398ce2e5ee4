"""Evaluate tab: several models on a whole dataset (a streamed hub split, your own files with references, or
sentences for TTS), one table — metric with its 95 % interval, RTFx, load time, peak memory — a metric-vs-speed
scatter, confusion matrices, and every example worst first. Pure logic in shared/evaluate."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from shared.audio import datasets as streaming
from shared.diarize.run import pyannote_sample
from shared.evaluate import report, run, sources, views
from shared.evaluate.store import MemoryStore
from shared.models import registry
from shared.outputs.text_metrics import AUTO, NORMALIZERS
from shared.serving.cancel import Cancelled
from shared.serving.estimates import estimate_batch
from shared.serving.relay import Outlet, relay
from shared.serving.widgets import MODEL_EVENT, user_errors
from shared.serving.zero_gpu import gpu_task

TASK_CHOICES = [("Speech recognition (WER, CER)", sources.ASR), ("Classification (accuracy)", sources.CLASSIFY),
                ("Zero-shot classification (accuracy)", sources.ZERO_SHOT), ("Diarization (DER)", sources.DIARIZE),
                ("Text to speech (round-trip WER, speaker similarity)", sources.TTS)]
SOURCE_CHOICES = [("A hub dataset split (streamed)", "dataset"), ("Your files + a references file", "files")]
DEFAULT_MODELS = {sources.ASR: ["offline:whisper-tiny.en"], sources.DIARIZE: ["offline:diarizer"],
                  sources.TTS: ["offline:piper-en_US-joe-medium"]}
DEFAULT_SENTENCES = "The quick brown fox jumps over the lazy dog.\nSpeech recognition is easier than you think."
MAX_LIMIT = 1000  # examples of a dataset split the tab streams at most (the command line takes more)
PARTIAL_EVERY_S = 2.0  # seconds between updates of the tables while an evaluation runs
RUNNING = "**Running** — the tables show the examples scored so far; Stop keeps them."
STOPPED = ("**Stopped** — partial results: the examples scored up to the last update before Stop (the scatter "
           "and the downloads come with a finished run).")
log = logging.getLogger(__name__)


def model_choices(task: str) -> gr.Dropdown:
    """The models dropdown for a task: its registry models, the built-in one chosen when there is one."""
    choices = registry.choices(run.REGISTRY_TASK[task])
    value = DEFAULT_MODELS.get(task) or [choices[0][1]]
    return gr.Dropdown(choices=choices, value=value)


def source_for(task: str, source: str, dataset: str, limit: float | None, files: list[str] | None,
               references: str | None, sentences: str) -> sources.Source:
    if task == sources.TTS:
        return sources.sentences_source(sentences)
    if source == "dataset":
        if not 1 <= int(limit or 0) <= MAX_LIMIT:
            raise gr.Error(f"Examples: between 1 and {MAX_LIMIT} here (the command line takes more).")
        return sources.dataset_source(dataset, int(limit or 0), task)
    return sources.files_source(list(files or []), references, task)


@user_errors
@gpu_task(estimate_batch)
def run_evaluate(task: str = sources.ASR, models: list[str] | None = None, source: str = "dataset",
                 dataset: str = streaming.CURATED[0].source.spec, limit: float = 20, files: list[str] | None = None,
                 references: str | None = None, sentences: str = DEFAULT_SENTENCES, normaliser: str = AUTO,
                 language: str = "", top_k: float = 5, labels: str = "", asr_model: str = run.ASR_MODEL,
                 voice_reference: str | None = None, progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    """Every example through every model; returns the summary line, the per-model table, the scatter, the
    confusion matrices, the per-example table (worst first) and the CSV/JSON files. While it runs, the two tables
    show the examples scored so far (every PARTIAL_EVERY_S seconds): Stop keeps them."""
    settings = run.Settings(task, normaliser, language or None, int(top_k or 5), labels or "",
                            asr_model=asr_model or run.ASR_MODEL, voice_reference=voice_reference or None)
    chosen = source_for(task, source, dataset, limit, files, references, sentences)
    yield from relay(functools.partial(evaluate_in_worker, chosen, models, settings, progress))


def evaluate_in_worker(chosen: sources.Source, models: list[str] | None, settings: run.Settings,
                       progress: gr.Progress, outlet: Outlet) -> tuple:
    """The evaluation in relay's worker: progress with the time left, the partial tables sent now and then, the
    full outputs returned. A Stop (or a closed page) ends it at its next example, logged with what was done."""
    store, sent = MemoryStore(), time.monotonic()
    checked_models = run.check_models(models, settings.task)

    def report_progress(fraction: float, what: str) -> None:
        nonlocal sent
        outlet.check()
        progress(fraction, desc=what)
        if time.monotonic() - sent >= PARTIAL_EVERY_S and report.examples_of(store.records()):
            outlet.send(partial_outputs(settings, chosen.name, checked_models, store.records(), what))
            sent = time.monotonic()

    try:
        evaluation = run.evaluate(chosen, checked_models, settings, store=store, progress=report_progress)
    except Cancelled:
        log.info("evaluate: stopped, %d example(s) scored before the stop", len(report.examples_of(store.records())))
        raise
    return final_outputs(evaluation)


def partial_outputs(settings: run.Settings, source_name: str, models: list[str], records: list[dict],
                    doing: str) -> tuple:
    """The summary (marked RUNNING, with the progress line `doing`), the models table and the examples table of
    the records so far; the scatter, matrices and downloads wait for the end."""
    evaluation = run.Evaluation(settings, source_name, models, records)
    rows = report.summarize(settings.task, models, records)
    table = {"headers": views.table_headers(settings.task), "data": views.table_rows(settings.task, rows)}
    return (f"{RUNNING} At this update: {doing}.\n\n{views.summary_markdown(evaluation, rows)}", table,
            gr.skip(), gr.skip(), views.example_rows(settings.task, records), gr.skip())


def final_outputs(evaluation: run.Evaluation) -> tuple:
    task = evaluation.settings.task
    rows = report.summarize(task, evaluation.models, evaluation.records)
    matrices = [(image, model) for model in evaluation.models
                if (image := views.confusion_image(evaluation, model)) is not None] \
        if task in (sources.CLASSIFY, sources.ZERO_SHOT) else []
    table = {"headers": views.table_headers(task), "data": views.table_rows(task, rows)}
    return (views.summary_markdown(evaluation, rows), table,
            views.scatter_image(task, rows), matrices, views.example_rows(task, evaluation.records),
            views.write_downloads(evaluation, rows))


def stopped(summary: str) -> Any:
    """Stop: the summary of a running evaluation says that the tables hold only what was scored before it."""
    return summary.replace(RUNNING, STOPPED) if RUNNING in (summary or "") else gr.skip()


def visibility(task: str, source: str) -> tuple[Any, ...]:
    """Show what the task and source need: dataset or files, sentences for TTS, the task's options."""
    speech = task == sources.TTS
    return (gr.update(visible=not speech), gr.update(visible=not speech and source == "dataset"),
            gr.update(visible=not speech and source == "files"), gr.update(visible=speech),
            gr.update(visible=task == sources.ZERO_SHOT), gr.update(visible=speech), gr.update(visible=speech),
            gr.update(visible=task in (sources.CLASSIFY, sources.ZERO_SHOT)))


def on_task(task: str, source: str) -> tuple[Any, ...]:
    return (model_choices(task), gr.update(headers=views.table_headers(task), value=None), *visibility(task, source))


def _examples() -> list[list[Any]]:
    """Task, source, files, references, sentences (choosing the task picks its built-in model)."""
    rows: list[list[Any]] = [[sources.ASR, "dataset", None, None, ""],
                             [sources.TTS, "dataset", None, None, DEFAULT_SENTENCES]]
    sample = pyannote_sample()
    if sample:
        rows.append([sources.DIARIZE, "files", [sample[0]], sample[1], ""])
    return rows


def build() -> None:
    gr.Markdown("Compare models on **many** examples, not one clip: a streamed hub dataset split (first N "
                "examples) or your own audio with a references file, through the same code as the single-clip "
                "tabs. Per model: the metric with a 95 % bootstrap interval, RTFx (seconds of audio per second of "
                "wall-clock), load time and peak memory. At scale: `python -m shared.evaluate` (README).")
    with gr.Row():
        with gr.Column():
            task = gr.Radio(TASK_CHOICES, value=sources.ASR, label="Task")
            models = gr.Dropdown(registry.choices(registry.ASR), value=DEFAULT_MODELS[sources.ASR],
                                 multiselect=True, max_choices=run.MAX_MODELS, label=f"Models (1–{run.MAX_MODELS})",
                                 allow_custom_value=True)  # the choices follow the task; ids are checked on run
            with gr.Group() as source_group:
                source = gr.Radio(SOURCE_CHOICES, value="dataset", label="Examples from")
            with gr.Group() as dataset_group:
                curated = streaming.curated_choices()
                dataset = gr.Dropdown(curated, value=curated[0][1], allow_custom_value=True,
                                      label=f"Dataset ({streaming.SPEC_HELP})")
                limit = gr.Number(20, minimum=1, maximum=MAX_LIMIT, precision=0, label="First N examples")
            with gr.Group(visible=False) as files_group:
                files = gr.File(file_count="multiple", label="Audio files, or a zip of them (may hold the references)")
                references = gr.File(file_types=[".csv", ".tsv", ".rttm"],
                                     label="References: CSV/TSV `file,text` or `file,label`; RTTM for diarization")
            sentences = gr.Textbox(DEFAULT_SENTENCES, lines=5, visible=False, label="Sentences to speak, one per line")
            with gr.Accordion("Options", open=False):
                normaliser = gr.Radio(list(NORMALIZERS), value=AUTO,
                                      label="Text normaliser (auto, as the other tabs: Whisper's English one — the "
                                            "Open ASR Leaderboard's — for English, its basic one otherwise)")
                language = gr.Textbox("", label="ASR language code (empty: the model's default / detection)")
                top_k = gr.Slider(1, 20, value=5, step=1, label="Top-k (classification)")
                labels = gr.Textbox("", visible=False, label="Zero-shot labels (empty: the references' labels)")
                asr_model = gr.Dropdown(registry.choices(registry.ASR), value=run.ASR_MODEL, visible=False,
                                        label="Round-trip recogniser (TTS)")
                voice = gr.Audio(type="filepath", visible=False,
                                 label="Reference voice (TTS; empty: each model's own mean voice)")
            with gr.Row():
                run_button = gr.Button("Evaluate", variant="primary")
                stop_button = gr.Button("Stop", variant="stop")
        with gr.Column():
            summary = gr.Markdown()
            table = gr.Dataframe(headers=views.table_headers(sources.ASR), interactive=False, label="Models",
                                 elem_id="evaluate-table")
            scatter = gr.Image(label="Metric vs speed", type="numpy", elem_id="evaluate-scatter")
            confusion = gr.Gallery(label="Confusion matrices", columns=2, height="auto", visible=False)
            downloads = gr.File(label="Download: models.csv, examples.csv, evaluation.json", file_count="multiple")
    examples = gr.Dataframe(headers=views.EXAMPLE_HEADERS, datatype=["str", "str", "number", "str", "str", "html"],
                            interactive=False, wrap=True, label="Every example, worst first")
    gr.Examples(_examples(), inputs=[task, source, files, references, sentences])
    inputs = [task, models, source, dataset, limit, files, references, sentences, normaliser, language, top_k,
              labels, asr_model, voice]
    running = run_button.click(run_evaluate, inputs, [summary, table, scatter, confusion, examples, downloads],
                               api_name="evaluate", **MODEL_EVENT)
    stop_button.click(stopped, summary, summary, cancels=[running], api_visibility="private")
    shown = [source_group, dataset_group, files_group, sentences, labels, asr_model, voice, confusion]
    task.change(on_task, [task, source], [models, table, *shown], api_visibility="private")
    source.change(visibility, [task, source], shown, api_visibility="private")
