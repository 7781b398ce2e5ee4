"""Diarize tab: who spoke when (pyannote, the built-in offline diarizer or Nemotron), who said what, evaluation,
listening, a timeline you can play, and known speakers (enrol voices by name, verify two clips)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from shared.audio.intake import load_audio
from shared.diarize import access, rttm, scoring, views
from shared.diarize import known_speakers as ks
from shared.diarize import run as dz
from shared.diarize import who_said_what as wsw
from shared.diarize.access import OFFLINE_DIARIZER
from shared.diarize.batch import diarize_batch
from shared.diarize.inside import SegmentationAhead, render_inside
from shared.diarize.views import DIARIZE_COLUMNS
from shared.diarize.who_said_what import OFFLINE_ASR
from shared.errors import UserError
from shared.models import registry
from shared.outputs.batch import preview, summary_columns
from shared.serving.dataset_source import dataset_source
from shared.serving.estimates import estimate_batch, estimate_from_audio
from shared.serving.timeline_widget import timeline_component
from shared.serving.uploads import forgets_uploads
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

MAX_RTTM_BYTES = 5 * 2**20
GRADIO_VOICES = Path(gr.__file__).parent / "media_assets" / "audio"  # real recordings Gradio ships


def shipped_voice_pairs() -> list[list[str]]:
    """Verification examples from Gradio's shipped recordings: the same speaker, then two different speakers."""
    pairs = [("cate_blanch.mp3", "cate_blanch_2.mp3"), ("cate_blanch.mp3", "heath_ledger.mp3")]
    return [[str(GRADIO_VOICES / a), str(GRADIO_VOICES / b)] for a, b in pairs
            if (GRADIO_VOICES / a).is_file() and (GRADIO_VOICES / b).is_file()]


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
                reference_rttm: str | None = None, hf_token: str = "", enrolled: list | None = None,
                inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """`enrolled`: known voices (/enrol_speaker's list) whose names the speakers get when they match; `inside`: draw
    the "Inside the model" pictures now (API default); the UI passes whether the section is open."""
    progress(0.0, desc="Decoding audio")
    voices = ks.voices_from_json(enrolled)
    clip = load_audio(audio, 16_000, max_duration_s=dz.max_duration_s())
    reference_text = _read_rttm(reference_rttm)
    ahead = SegmentationAhead() if inside else None  # the pictures will be shown: start one during the run
    result = dz.diarize(clip, model, num_speakers, min_speakers, max_speakers, token=hf_token or None,
                        progress=lambda fraction, desc: progress(0.95 * fraction, desc=desc), hook=ahead)
    if ahead is not None:
        result = ahead.keep(result)
    if voices:
        progress(0.95, desc="Naming known speakers")
        result = ks.name_diarization(result, clip, voices)
    reference = rttm.parse_rttm(reference_text) if reference_text is not None else None
    evaluation = scoring.evaluate(reference, result.turns, clip.duration_s) if reference else None
    image = views.timeline_image(clip.samples, clip.sample_rate, result, reference, evaluation)
    return (rttm.turns_to_json(result.turns), views.info_markdown(result), image, views.turn_rows(result.turns),
            views.write_diarization_files(result, clip.name, evaluation),
            views.evaluation_markdown(evaluation) if evaluation else "", evaluation.to_json() if evaluation else None,
            views.playable_timeline(result, audio, reference), *inside_outputs(render_inside, result, inside))


@user_errors
@gpu_task(estimate_from_audio)
def run_who_said_what(audio: str | None, model: str = OFFLINE_DIARIZER, asr_model: str = OFFLINE_ASR,
                      num_speakers: float | None = None, min_speakers: float | None = None,
                      max_speakers: float | None = None, speaker_names: str = "", turns: list | None = None,
                      hf_token: str = "", enrolled: list | None = None, progress: gr.Progress = gr.Progress()) -> tuple:
    """`turns`: the last diarization's turns (then no new diarization); `enrolled`: known voices to name a new
    diarization's speakers with (turns passed in keep their names)."""
    progress(0.0, desc="Decoding audio")
    voices = ks.voices_from_json(enrolled)
    clip = load_audio(audio, 16_000, max_duration_s=dz.max_duration_s())
    if turns:  # the turns of the last diarization (or your own): no need to diarize again
        diarization = dz.Diarization.from_turns(rttm.turns_from_json(turns), clip.duration_s)
    else:
        diarization = dz.diarize(clip, model, num_speakers, min_speakers, max_speakers, token=hf_token or None,
                                 progress=lambda fraction, desc: progress(0.45 * fraction, desc=desc))
        diarization = ks.name_diarization(diarization, clip, voices)
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


def _timeline_duration(audio: str, ends: list[float]) -> float:
    """Seconds the timeline spans: the file's length from its header (or the last span's end when unreadable)."""
    last = max(ends, default=0.0)
    try:
        import soundfile as sf

        return max(float(sf.info(audio).duration), last)
    except Exception:  # a format libsndfile cannot read: the spans are all there is to go by
        return last


@user_errors
def who_said_what_timeline(audio: str | None, rows: Any) -> str:
    """The playable timeline of the who-said-what lines (hover: the words)."""
    data = rows.values.tolist() if hasattr(rows, "values") else (rows or [])
    if not audio or not data:
        return ""
    duration = _timeline_duration(audio, [float(row[2]) for row in data])
    return views.lines_timeline(data, duration, audio)


@forgets_uploads("audio")
@user_errors
@gpu_task(estimate_from_audio)
def enrol_speaker(audio: str | None, name: str = "", enrolled: list | None = None) -> tuple:
    """Enrol one voice: a 5–30 s clip of one person and their name → the enrolled list (this one added or
    replacing the same name), its table, a line saying what happened. The clip is deleted after the request: only
    its voiceprint stays, in the page."""
    voices = ks.voices_from_json(enrolled)
    if not audio:
        raise UserError("Record or upload 5–30 s of that person speaking alone.")
    clip = load_audio(audio, 16_000, max_duration_s=ks.MAX_ENROL_S + 1)
    voices = ks.with_voice(voices, ks.enrol(clip, name))
    return ([voice.to_json() for voice in voices], views.voice_rows(voices),
            f"Enrolled **{voices[-1].name}** ({voices[-1].seconds:.1f} s). Diarizations now name matching speakers.")


def forget_voices() -> tuple:
    return [], [], "No voices enrolled."


@forgets_uploads("first", "second")
@user_errors
@gpu_task(estimate_from_audio)
def verify_speakers(first: str | None, second: str | None, threshold: float | None = ks.VERIFY_THRESHOLD) -> tuple:
    """Two clips → same speaker or not: the verdict in words and {similarity, threshold, same_speaker}. Both clips
    are deleted after the request."""
    if not first or not second:
        raise UserError("Give two clips to compare.")
    if threshold is None or not -1.0 <= float(threshold) <= 1.0:
        raise UserError("The threshold is a cosine similarity between -1 and 1.")
    clips = [load_audio(path, 16_000, max_duration_s=dz.max_duration_s()) for path in (first, second)]
    verification = ks.verify(*clips, threshold=float(threshold))
    return verification.meaning(), verification.to_json()


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
            playable = timeline_component(elem_id="diarize-timeline")
            timeline = gr.Image(label="Timeline (picture to download)", format="png", interactive=False)
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
    voices = known_speakers_section()
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
        wsw_playable = timeline_component("Who said what — hover for the words, click to play", "wsw-timeline")

    playable_html = gr.State("")  # the timeline's markup: a State, so the API's outputs stay as they were
    event = run.click(run_diarize, [audio, model, num_speakers, min_speakers, max_speakers, reference, hf_token,
                                    voices, inside.is_open],
                      [turns, info, timeline, table, files, der, der_json, playable_html, *inside.outputs],
                      api_name="diarize", **MODEL_EVENT)
    event.then(speaker_choices, turns, speaker, api_visibility="private")
    event.then(lambda markup: markup, playable_html, playable, api_visibility="private")
    inside.draw_on_open(render_inside, event)
    audio.change(lambda: (None, gr.Dropdown(choices=[], value=None), "", ""), None,
                 [turns, speaker, playable, wsw_playable], api_visibility="private")
    speaker.change(listen_to_speaker, [audio, turns, speaker], speaker_clip, api_visibility="private")
    transcribe_button.click(run_who_said_what, [audio, model, asr_model, num_speakers, min_speakers, max_speakers,
                                                names, turns, hf_token, voices],
                            [tagged, wsw_info, lines_table, wsw_files], api_name="who_said_what",
                            **MODEL_EVENT).then(who_said_what_timeline, [audio, lines_table], wsw_playable,
                                                api_visibility="private")
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


def known_speakers_section() -> gr.JSON:
    """Enrol voices by name and verify two clips; returns the (hidden) enrolled-voices list the diarize events
    take. It lives in this browser page only: the server keeps no copy and no other user sees it."""
    with gr.Accordion("Known speakers: enrol voices by name · verify two clips", open=False):
        gr.Markdown(f"Enrol each person from {ks.MIN_ENROL_S:g}–{ks.MAX_ENROL_S:g} s of them speaking alone (upload "
                    "or microphone). Diarizations then name a speaker when their voiceprint's cosine similarity to "
                    f"an enrolled voice reaches {ks.VERIFY_THRESHOLD:.2f} (the equal-error-rate point measured on "
                    "real voices), else *unknown*. The voiceprints stay in this page: the server keeps none and no "
                    "other user sees them; the clips you enrol or verify are deleted once they are read.")
        with gr.Row():
            with gr.Column():
                enrol_audio = audio_input("A clip of one person (5–30 s)")
                enrol_name = gr.Textbox(label="Their name", placeholder="Diane")
                with gr.Row():
                    enrol_button = gr.Button("Enrol", variant="primary")
                    forget_button = gr.Button("Forget all")
                gr.Examples([[path, "Joe (Piper voice)"] for path in example_paths("speech_piper.wav")],
                            inputs=[enrol_audio, enrol_name], label="Example")
            with gr.Column():
                enrol_status = gr.Markdown("No voices enrolled.")
                voices_table = gr.Dataframe(headers=["name", "clip (s)"], interactive=False,
                                            label="Enrolled voices (this page only)")
        voices = gr.JSON(value=[], visible=False, label="Enrolled voices (JSON)")
        gr.Markdown("#### Verify: are two clips the same speaker?")
        with gr.Row():
            first, second = audio_input("First clip"), audio_input("Second clip")
        with gr.Row():
            threshold = gr.Slider(0.3, 0.95, value=ks.VERIFY_THRESHOLD, step=0.01, scale=3,
                                  label="Threshold (cosine similarity; default: the equal-error-rate point)")
            verify_button = gr.Button("Verify", scale=1)
        verdict = gr.Markdown()
        verdict_json = gr.JSON(label="Verification (JSON)", visible=False)
        shipped = shipped_voice_pairs()
        if shipped:
            gr.Examples(shipped, inputs=[first, second], label="Real voices shipped with Gradio: one actress twice; "
                                                               "an actress and an actor")
    enrol_button.click(enrol_speaker, [enrol_audio, enrol_name, voices], [voices, voices_table, enrol_status],
                       api_name="enrol_speaker", **MODEL_EVENT)
    forget_button.click(forget_voices, None, [voices, voices_table, enrol_status], api_visibility="private")
    verify_button.click(verify_speakers, [first, second, threshold], [verdict, verdict_json],
                        api_name="verify_speakers", **MODEL_EVENT)
    return voices
