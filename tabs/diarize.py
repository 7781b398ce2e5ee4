"""Diarize tab: who spoke when (pyannote or the built-in offline diarizer), who said what, evaluation, listening."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from shared.audio.intake import load_audio
from shared.diarize import access, rttm, scoring, views
from shared.diarize import run as dz
from shared.diarize import who_said_what as wsw
from shared.diarize.access import OFFLINE_DIARIZER
from shared.diarize.batch import diarize_batch
from shared.diarize.inside import render_inside
from shared.diarize.views import DIARIZE_COLUMNS
from shared.diarize.who_said_what import OFFLINE_ASR
from shared.errors import UserError
from shared.models import registry
from shared.outputs.batch import preview, summary_columns
from shared.serving.dataset_source import dataset_source
from shared.serving.estimates import estimate_batch, estimate_from_audio
from shared.serving.widgets import MODEL_EVENT, audio_input, inside_outputs, inside_section, model_dropdown, user_errors
from shared.serving.zero_gpu import gpu_task

MAX_RTTM_BYTES = 5 * 2**20


def _read_rttm(path: str | None) -> str | None:
    if not path:
        return None
    file = Path(path)
    if file.stat().st_size > MAX_RTTM_BYTES:
        raise UserError("The reference RTTM is larger than 5 MB.")
    try:
        return file.read_text()
    except UnicodeDecodeError:
        raise UserError("The reference file is not a text RTTM file.") from None


@user_errors
@gpu_task(estimate_from_audio)
def run_diarize(audio: str | None, model: str = OFFLINE_DIARIZER, num_speakers: float | None = None,
                min_speakers: float | None = None, max_speakers: float | None = None,
                reference_rttm: str | None = None, hf_token: str = "", inside: bool = True,
                progress: gr.Progress = gr.Progress()) -> tuple:
    """`inside`: draw the "Inside the model" pictures now (API default); the UI passes whether the section is open."""
    progress(0.0, desc="Decoding audio")
    clip = load_audio(audio, 16_000, max_duration_s=dz.max_duration_s())
    reference_text = _read_rttm(reference_rttm)
    result = dz.diarize(clip, model, num_speakers, min_speakers, max_speakers, token=hf_token or None,
                        progress=lambda fraction, desc: progress(fraction, desc=desc))
    reference = rttm.parse_rttm(reference_text) if reference_text is not None else None
    evaluation = scoring.evaluate(reference, result.turns, clip.duration_s) if reference else None
    image = views.timeline_image(clip.samples, clip.sample_rate, result, reference, evaluation)
    return (rttm.turns_to_json(result.turns), views.info_markdown(result), image, views.turn_rows(result.turns),
            views.write_diarization_files(result, clip.name, evaluation),
            views.evaluation_markdown(evaluation) if evaluation else "", evaluation.to_json() if evaluation else None,
            *inside_outputs(render_inside, result, inside))


@user_errors
@gpu_task(estimate_from_audio)
def run_who_said_what(audio: str | None, model: str = OFFLINE_DIARIZER, asr_model: str = OFFLINE_ASR,
                      num_speakers: float | None = None, min_speakers: float | None = None,
                      max_speakers: float | None = None, speaker_names: str = "", turns: list | None = None,
                      hf_token: str = "", progress: gr.Progress = gr.Progress()) -> tuple:
    progress(0.0, desc="Decoding audio")
    clip = load_audio(audio, 16_000, max_duration_s=dz.max_duration_s())
    if turns:  # the turns of the last diarization (or your own): no need to diarize again
        diarization = dz.Diarization.from_turns(rttm.turns_from_json(turns), clip.duration_s)
    else:
        diarization = dz.diarize(clip, model, num_speakers, min_speakers, max_speakers, token=hf_token or None,
                                 progress=lambda fraction, desc: progress(0.5 * fraction, desc=desc))
    result = wsw.who_said_what(clip, diarization, asr_model,
                               progress=lambda fraction, desc: progress(0.5 + 0.5 * fraction, desc=desc))
    names = wsw.rename_speakers(diarization.speakers, speaker_names)
    rows = views.speaker_line_rows(result, names)
    return (views.speaker_lines_text(rows), views.who_said_what_info(result), rows,
            views.write_who_said_what_files(result, clip.name, names))


@user_errors
def listen_to_speaker(audio: str | None, turns: list | None, speaker: str | None) -> tuple[int, np.ndarray] | None:
    if not speaker or not turns:
        return None
    clip = load_audio(audio, max_duration_s=dz.max_duration_s())
    return clip.sample_rate, dz.speaker_audio(clip.samples, clip.sample_rate, rttm.turns_from_json(turns), speaker)


def speaker_choices(turns: list | None) -> gr.Dropdown:
    speakers = list(dict.fromkeys(turn["speaker"] for turn in turns or []))
    return gr.Dropdown(choices=speakers, value=None)


@user_errors
@gpu_task(estimate_batch)
def run_diarize_batch(files: list[str] | None, model: str = OFFLINE_DIARIZER, num_speakers: float | None = None,
                      hf_token: str = "", progress: gr.Progress = gr.Progress()) -> tuple:
    return preview(diarize_batch(files, model, num_speakers, token=hf_token or None,
                                 progress=lambda fraction, desc: progress(fraction, desc=desc)))


def build() -> None:
    sample = dz.pyannote_sample()
    with gr.Row():
        with gr.Column():
            audio = audio_input()
            dataset_source(audio)
            model = model_dropdown(registry.DIARIZE, default=access.default_diarizer())
            with gr.Row():
                num_speakers = gr.Number(label="Exact number of speakers (0 = find out)", value=None, precision=0,
                                         minimum=0)
                min_speakers = gr.Number(label="Min speakers (0 = any)", value=None, precision=0, minimum=0)
                max_speakers = gr.Number(label="Max speakers (0 = any)", value=None, precision=0, minimum=0)
            reference = gr.File(label="Reference RTTM (optional: then DER)", file_types=[".rttm", ".txt"],
                                type="filepath")
            with gr.Accordion("Gated pyannote models: token", open=False):
                gr.Markdown("pyannote pipelines are gated: accept their conditions on the hub, then set `HF_TOKEN` "
                            "or paste a read token here. It is used for this request only: never stored, logged "
                            "or shown. The built-in diarizer needs no token.")
                hf_token = gr.Textbox(value="", label="Hugging Face token", type="password", placeholder="hf_…")
            run = gr.Button("Diarize", variant="primary")
            if sample:
                gr.Examples([list(sample)], inputs=[audio, reference], label="pyannote's sample with its reference")
        with gr.Column():
            info = gr.Markdown()
            timeline = gr.Image(label="Timeline", format="png", interactive=False)
            der = gr.Markdown()
            table = gr.Dataframe(headers=["speaker", "start", "end", "duration"], interactive=False, label="Turns")
            with gr.Row():
                speaker = gr.Dropdown(label="Listen to one speaker", choices=[], value=None)
                speaker_clip = gr.Audio(label="That speaker's turns", interactive=False)
            files = gr.File(label="Download: RTTM, JSON", file_count="multiple")
            turns = gr.JSON(label="Turns (JSON)", visible=False)
            der_json = gr.JSON(label="Evaluation (JSON)", visible=False)
            inside = inside_section(
                "Run the diarizer to see its three stages: local segmentation, speaker embeddings, clustering.")
    with gr.Accordion("Who said what (speech recognition × speaker turns)", open=True):
        with gr.Row():
            asr_model = model_dropdown(registry.ASR, label="Speech recognizer", default=OFFLINE_ASR)
            names = gr.Textbox(value="", label="Speaker names (optional, in order of appearance)",
                               placeholder="Diane, Sheila")
        transcribe_button = gr.Button("Who said what")
        tagged = gr.Textbox(label="Speaker-tagged transcript", lines=8, buttons=["copy"])
        wsw_info = gr.Markdown()
        lines_table = gr.Dataframe(headers=["speaker", "start", "end", "text"], interactive=False)
        wsw_files = gr.File(label="Download: text, SRT with speaker names, JSON", file_count="multiple")

    event = run.click(run_diarize, [audio, model, num_speakers, min_speakers, max_speakers, reference, hf_token,
                                    inside.is_open],
                      [turns, info, timeline, table, files, der, der_json, *inside.outputs], api_name="diarize",
                      **MODEL_EVENT)
    event.then(speaker_choices, turns, speaker, api_visibility="private")
    inside.draw_on_open(render_inside, event)
    audio.change(lambda: (None, gr.Dropdown(choices=[], value=None)), None, [turns, speaker],
                 api_visibility="private")
    speaker.change(listen_to_speaker, [audio, turns, speaker], speaker_clip, api_visibility="private")
    transcribe_button.click(run_who_said_what, [audio, model, asr_model, num_speakers, min_speakers, max_speakers,
                                                names, turns, hf_token],
                            [tagged, wsw_info, lines_table, wsw_files], api_name="who_said_what",
                            **MODEL_EVENT)
    with gr.Accordion("Batch: several files → one zip", open=False):
        gr.Markdown("An RTTM per file and `summary.csv`; a file that fails is listed in the summary, the others "
                    "still run. Gated pyannote models use the token above.")
        with gr.Row():
            with gr.Column():
                batch_files = gr.File(file_count="multiple", file_types=["audio"], label="Audio files")
                batch_model = model_dropdown(registry.DIARIZE, default=access.default_diarizer())
                batch_speakers = gr.Number(label="Exact number of speakers (0 = find out)", value=None, precision=0,
                                           minimum=0)
                batch_run = gr.Button("Diarize all", variant="primary")
            with gr.Column():
                batch_info = gr.Markdown()
                batch_zip = gr.File(label="Download: zip")
        batch_table = gr.Dataframe(headers=summary_columns(DIARIZE_COLUMNS), interactive=False, label="summary.csv")
    batch_run.click(run_diarize_batch, [batch_files, batch_model, batch_speakers, hf_token],
                    [batch_zip, batch_table, batch_info], api_name="diarize_batch", **MODEL_EVENT)
