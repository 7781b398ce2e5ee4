"""Transcribe tab: Whisper / CTC / faster-whisper, subtitles, CTC view, word alignment (karaoke view, word-level
subtitles, a pasted transcript aligned to its audio), live microphone, model comparison. UI wiring only: the work is
in shared/transcribe (run, views, inside, aligner, align_views, live, batch)."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr
import numpy as np

from shared.audio.datasets import info_with_wer
from shared.audio.intake import AudioClip, load_audio, to_mono
from shared.audio.play_timeline import file_url
from shared.config import SETTINGS
from shared.errors import UserError
from shared.models import registry
from shared.models.availability import default_model
from shared.outputs.batch import preview, summary_columns
from shared.serving.dataset_source import dataset_source
from shared.serving.estimates import estimate_batch, estimate_from_audio
from shared.serving.timeline_widget import segments_timeline, timeline_component
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
from shared.transcribe.align_views import (
    alignment_markdown,
    karaoke_html,
    render_alignment_inside,
    word_rows,
    write_word_outputs,
)
from shared.transcribe.aligner import AUTO, align_words, aligner_ids
from shared.transcribe.batch import transcribe_batch
from shared.transcribe.inside import render_inside
from shared.transcribe.live import LiveStream
from shared.transcribe.run import LANGUAGES, SAMPLE_RATE, TIMESTAMPS, TranscribeOptions, Transcript, transcribe
from shared.transcribe.views import (
    COMPARE_HEADERS,
    TRANSCRIBE_COLUMNS,
    compare_rows,
    ctc_view_markdown,
    ctc_view_rows,
    info_markdown,
    live_ending,
    live_html,
    live_stats,
    segment_rows,
    write_outputs,
)

OFFLINE = "offline:whisper-tiny.en"
LANGUAGE_CHOICES = [("auto-detect", "auto")] + [(name, code) for code, name in LANGUAGES.items()]
ALIGNER_CHOICES = [("auto (English: wav2vec2 base 960h; other languages: MMS_FA)", AUTO)] + \
    [(registry.get_spec(model_id).label, model_id) for model_id in aligner_ids()]
# the karaoke view's behaviour: a click on a word plays from its start; the word being played is highlighted.
# Listeners sit on the component's root (the audio's timeupdate caught in the capture phase), so they survive the
# re-render that every new alignment causes.
KARAOKE_JS = """
const words = () => element.querySelectorAll('.kw');
element.addEventListener('click', (event) => {
  const word = event.target.closest('.kw');
  const audio = element.querySelector('audio');
  if (!word || !audio) return;
  audio.currentTime = parseFloat(word.dataset.start);
  audio.play();
});
element.addEventListener('timeupdate', (event) => {
  if (event.target.tagName !== 'AUDIO') return;
  const now = event.target.currentTime;
  words().forEach((w) => w.classList.toggle('kw-now', now >= +w.dataset.start && now < +w.dataset.end));
}, true);
"""
KARAOKE_CSS = """
.kw { cursor: pointer; border-radius: 3px; padding: 0 1px; }
.kw:hover { outline: 1px solid #90caf9; }
.kw-now { background: #ffd54f; color: #000; }
.kw-low { text-decoration: underline dotted #d7301f; }
.karaoke-audio { width: 100%; margin-bottom: 0.5em; }
.karaoke-words { line-height: 1.9; }
.karaoke-warning { color: #d7301f; }
"""


def _options(language: str, task: str, timestamps: str, beam_size: float) -> TranscribeOptions:
    return TranscribeOptions(None if language in (None, "", "auto") else language, task, timestamps,
                             int(beam_size))


def render_transcribe_inside(recording: Transcript | tuple | None, draw: bool = True) -> tuple[list, str]:
    """The Transcribe tab's gallery and card for a transcript (what `render_inside` draws), or for (transcript, word
    alignment): the recogniser's views, then the trellis."""
    if recording is None:
        return [], ""
    if not isinstance(recording, tuple):
        return render_inside(recording, draw)
    result, alignment = recording
    gallery, card = render_inside(result, draw)
    extra_gallery, extra_card = render_alignment_inside(alignment, draw)
    return gallery + extra_gallery, "\n\n".join(part for part in (card, extra_card) if part)


def _aligned(clip: AudioClip, result: Transcript, aligner: str, audio: str | None, progress: gr.Progress) -> tuple:
    """The transcript's words aligned (karaoke HTML, word files, the alignment); a problem with the alignment is
    shown in the karaoke area, and the transcript still comes back."""
    if result.no_speech or not result.text:
        return karaoke_html(None, message="No speech detected: nothing to align."), None, None
    try:
        alignment = align_words(clip, result.text, aligner, language=result.language,
                                progress=lambda f, d: progress(f, desc=f"Aligning words: {d}"))
    except UserError as exc:
        return karaoke_html(None, message=f"Word alignment failed: {exc}"), None, None
    return (alignment_markdown(alignment) + karaoke_html(alignment, file_url(audio)),
            write_word_outputs(alignment), alignment)


@user_errors
@gpu_task(estimate_from_audio)
def run_transcribe(audio: str | None, model: str = OFFLINE, language: str = "auto", task: str = "transcribe",
                   timestamps: str = "segment", beam_size: float = 1, align: bool = False, aligner: str = AUTO,
                   inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """`align`: also time every word with a CTC aligner (`aligner`, see align_words): the karaoke view and
    word-level SRT/VTT/JSON. `inside`: draw the "Inside the model" pictures now (API default); the UI passes
    whether the section is open. The run records what they need either way."""
    progress(0.0, desc="Decoding audio")
    clip = load_audio(audio, SAMPLE_RATE)
    result = transcribe(clip, model, _options(language, task, timestamps, beam_size),
                        progress=lambda f, d: progress(f, desc=d), inside=True, draw_inside=inside)
    karaoke, word_files, alignment = _aligned(clip, result, aligner, audio, progress) if align \
        else (karaoke_html(None), None, None)
    payload = result.to_json()
    rows = segment_rows(result)
    text = result.text or "(no speech detected)"
    return (text, payload, info_markdown(result), rows, write_outputs(result), ctc_view_markdown(result),
            ctc_view_rows(result), karaoke, word_files,
            *inside_outputs(render_transcribe_inside, (result, alignment) if alignment else result, inside))


@user_errors
@gpu_task(estimate_from_audio)
def run_align_words(audio: str | None, text: str = "", aligner: str = AUTO, inside: bool = True,
                    progress: gr.Progress = gr.Progress()) -> tuple:
    """A known transcript (pasted) aligned to its audio: the words with start/end (s) and score as rows, the
    karaoke view with its info line, word-level SRT/VTT/JSON, then the trellis picture and its card."""
    clip = load_audio(audio, SAMPLE_RATE)
    alignment = align_words(clip, text, aligner, progress=lambda f, d: progress(f, desc=d))
    return (word_rows(alignment), alignment_markdown(alignment) + karaoke_html(alignment, file_url(audio)),
            write_word_outputs(alignment), *inside_outputs(render_alignment_inside, alignment, inside))


@user_errors
def play_segment(audio: str | None, rows: list, event: gr.SelectData) -> tuple[int, np.ndarray]:
    row = rows.values.tolist()[event.index[0]] if hasattr(rows, "values") else rows[event.index[0]]
    start, end = float(row[0]), float(row[1])
    clip = load_audio(audio)
    return clip.sample_rate, clip.samples[int(start * clip.sample_rate): int(end * clip.sample_rate)]


@user_errors
@gpu_task(estimate_from_audio)
def run_compare(audio: str | None, models: list[str] | None = None, reference: str = "",
                progress: gr.Progress = gr.Progress()) -> tuple:
    models = list(dict.fromkeys(models or []))
    if not 1 <= len(models) <= 4:
        raise gr.Error("Choose between 1 and 4 models to compare.")
    clip = load_audio(audio, SAMPLE_RATE)
    results = []
    for index, model in enumerate(models):
        progress(index / len(models), desc=f"Transcribing with {model}")
        results.append(transcribe(clip, model, TranscribeOptions(timestamps="none")))
    rows, diff_html = compare_rows(results, reference)
    return rows, diff_html


@user_errors
def live_step(chunk: tuple | None, stream: LiveStream | None, model: str) -> tuple:
    """Streaming microphone: one chunk (rate, samples) into the session's LiveStream (made on the first chunk)."""
    if chunk is None:
        return gr.skip(), gr.skip(), stream
    stream = stream if stream is not None and not stream.finished else LiveStream(model)
    update = stream.feed(to_mono(chunk[1]), chunk[0])
    return live_html(update), live_stats(stream), stream


@user_errors
def live_stop(stream: LiveStream | None) -> tuple:
    """The microphone stopped: commit the rest; the full transcript with its segments and downloads."""
    if stream is None:
        return gr.skip(), gr.skip(), [], None, None
    return *live_ending(stream.finish(), stream), None


@user_errors
@gpu_task(estimate_from_audio)
def run_transcribe_stream(audio: str | None, model: str = OFFLINE, chunk_s: float = 0.5) -> Iterator[tuple]:
    """A file played as a live stream: every `chunk_s` seconds of it go into a LiveStream; yields the live view
    (committed, tentative), the stats line, and at the end the segments and the SRT/VTT/JSON downloads."""
    if not 0.01 <= float(chunk_s) <= 10:
        raise UserError("chunk_s must be between 0.01 and 10 seconds.")
    clip = load_audio(audio)
    stream, step = LiveStream(model), max(1, int(float(chunk_s) * clip.sample_rate))
    for begin in range(0, len(clip.samples), step):
        update = stream.feed(clip.samples[begin:begin + step], clip.sample_rate)
        yield live_html(update), live_stats(stream), gr.skip(), gr.skip()
    yield live_ending(stream.finish(), stream)


@user_errors
@gpu_task(estimate_batch)
def run_transcribe_batch(files: list[str] | None, model: str = OFFLINE, language: str = "auto",
                         timestamps: str = "segment", progress: gr.Progress = gr.Progress()) -> tuple:
    zip_path = transcribe_batch(files, model, _options(language, "transcribe", timestamps, 1),
                                progress=lambda f, d: progress(f, desc=d))
    return preview(zip_path)


def build() -> None:
    default = default_model("openai/whisper-base", OFFLINE)
    with gr.Tab("Transcribe file", elem_id="transcribe-file"):
        with gr.Row():
            with gr.Column():
                audio = audio_input()
                reference_text = dataset_source(audio)
                model = model_dropdown(registry.ASR, default=default)
                with gr.Row():
                    language = gr.Dropdown(LANGUAGE_CHOICES, value="auto", label="Language")
                    task = gr.Radio(["transcribe", "translate"], value="transcribe", label="Task")
                with gr.Row():
                    timestamps = gr.Radio(list(TIMESTAMPS), value="segment", label="Timestamps")
                    beam = gr.Slider(1, 8, value=1, step=1, label="Beam size")
                with gr.Row():
                    align = gr.Checkbox(False, label="Align words (forced alignment: word times for any model)")
                    aligner = gr.Dropdown(ALIGNER_CHOICES, value=AUTO, label="Aligner (a CTC model)")
                run = gr.Button("Transcribe", variant="primary")
                gr.Examples(example_paths("speech_piper.wav"), inputs=[audio])
            with gr.Column():
                text = gr.Textbox(label="Transcript", lines=6, buttons=["copy"], elem_id="transcript-text")
                info = gr.Markdown()
                table = gr.Dataframe(headers=["start", "end", "text"], interactive=False,
                                     label="Segments (click a row to hear it)")
                snippet = gr.Audio(label="Selected segment", interactive=False)
                segments_timeline_html = timeline_component(elem_id="transcribe-timeline")
                files = gr.File(label="Download: SRT, VTT, JSON", file_count="multiple")
                with gr.Accordion("Words, aligned (karaoke)", open=False):
                    karaoke = gr.HTML(karaoke_html(None), js_on_load=KARAOKE_JS, css_template=KARAOKE_CSS,
                                      elem_id="karaoke")
                    word_files = gr.File(label="Download: word-level SRT, VTT, JSON", file_count="multiple")
                segments_json = gr.JSON(label="Segments (JSON)", visible=False)
                inside = inside_section()
        with gr.Accordion("How CTC turns frames into text (wav2vec2 / HuBERT)", open=False):
            ctc_md = gr.Markdown("Pick a CTC model and transcribe to see its frame-by-frame decisions.")
            ctc_table = gr.Dataframe(headers=["frames", "time (s)", "argmax token", "what happens"],
                                     interactive=False)
        event = run.click(run_transcribe,
                          [audio, model, language, task, timestamps, beam, align, aligner, inside.is_open],
                          [text, segments_json, info, table, files, ctc_md, ctc_table, karaoke, word_files,
                           *inside.outputs], api_name="transcribe", **MODEL_EVENT)
        event.success(info_with_wer, [info, reference_text, text], info, api_visibility="private")
        event.success(segments_timeline, [audio, segments_json], segments_timeline_html, api_visibility="private")
        inside.draw_on_open(render_transcribe_inside, event)
        table.select(play_segment, [audio, table], snippet, api_visibility="private")
    with gr.Tab("Align a transcript", elem_id="transcribe-align"):
        _align_tab()
    with gr.Tab("Live microphone"):
        gr.Markdown("Speak: finished words turn black, words that may still change are grey. Silero VAD cuts the "
                    "talk into utterances and a word is committed once two transcriptions in a row agree on it, so "
                    "the work per second stays flat however long you talk (up to "
                    f"{SETTINGS.live_time_limit_s / 60:.0f} minutes). Stop gives the full transcript and its "
                    "subtitles.")
        live_model = model_dropdown(registry.ASR, default=OFFLINE)
        live_audio = gr.Audio(sources=["microphone"], streaming=True, type="numpy", label="Microphone")
        live_view = gr.HTML(live_html(None), elem_id="live-transcript")
        live_info = gr.Markdown()
        with gr.Accordion("Segments and downloads", open=False):
            live_table = gr.Dataframe(headers=["start (s)", "end (s)", "text"], interactive=False)
            live_files = gr.File(label="Download: SRT, VTT, JSON", file_count="multiple")
        live_state = gr.State(None)
        live_audio.stream(live_step, [live_audio, live_state, live_model], [live_view, live_info, live_state],
                          stream_every=0.5, time_limit=SETTINGS.live_time_limit_s, api_visibility="private",
                          concurrency_limit=SETTINGS.gpu_concurrency, show_progress="hidden")
        live_audio.start_recording(lambda: (live_html(None), "", None), None, [live_view, live_info, live_state],
                                   api_visibility="private")
        live_audio.stop_recording(live_stop, live_state, [live_view, live_info, live_table, live_files, live_state],
                                  api_visibility="private")
        with gr.Accordion("No microphone? Play a file as a live stream", open=False):
            stream_audio = audio_input()
            stream_chunk = gr.Slider(0.1, 5, value=0.5, step=0.1, label="Chunk (s)")
            stream_run = gr.Button("Stream it")
            gr.Examples(example_paths("speech_piper.wav"), inputs=[stream_audio])
        stream_run.click(run_transcribe_stream, [stream_audio, live_model, stream_chunk],
                         [live_view, live_info, live_table, live_files], api_name="transcribe_stream",
                         show_progress="minimal", **MODEL_EVENT)
    with gr.Tab("Compare models"):
        with gr.Row():
            with gr.Column():
                cmp_audio = audio_input()
                cmp_models = gr.Dropdown([(s.label, s.id) for s in registry.models_for(registry.ASR)],
                                         value=[OFFLINE] + [m for m in (default,) if m != OFFLINE],
                                         multiselect=True, max_choices=4, label="Models (2–4)")
                reference = gr.Textbox(label="Reference text (optional: then WER and CER)", lines=2)
                cmp_run = gr.Button("Compare", variant="primary")
                gr.Examples(example_paths("speech_piper.wav"), inputs=[cmp_audio])
            with gr.Column():
                cmp_table = gr.Dataframe(headers=COMPARE_HEADERS, interactive=False)
                cmp_diff = gr.HTML()
        cmp_run.click(run_compare, [cmp_audio, cmp_models, reference], [cmp_table, cmp_diff],
                      api_name="compare_transcripts", **MODEL_EVENT)
    with gr.Tab("Batch", elem_id="transcribe-batch"):
        gr.Markdown("Several files → one zip: an SRT and a JSON per file, and `summary.csv`. A file that fails is "
                    "listed in the summary; the others still run.")
        with gr.Row():
            with gr.Column():
                batch_files = gr.File(file_count="multiple", file_types=["audio"], label="Audio files")
                batch_model = model_dropdown(registry.ASR, default=default)
                with gr.Row():
                    batch_language = gr.Dropdown(LANGUAGE_CHOICES, value="auto", label="Language")
                    batch_timestamps = gr.Radio(list(TIMESTAMPS), value="segment", label="Timestamps")
                batch_run = gr.Button("Transcribe all", variant="primary")
            with gr.Column():
                batch_info = gr.Markdown()
                batch_zip = gr.File(label="Download: zip")
                batch_table = gr.Dataframe(headers=summary_columns(TRANSCRIBE_COLUMNS), interactive=False,
                                           label="summary.csv")
        batch_run.click(run_transcribe_batch, [batch_files, batch_model, batch_language, batch_timestamps],
                        [batch_zip, batch_table, batch_info], api_name="transcribe_batch", **MODEL_EVENT)


def _align_tab() -> None:
    """A known text (pasted) timed word by word against its audio: subtitle timing for a known script."""
    gr.Markdown("Paste what is said and get each word's start and end: forced alignment with a CTC model (the text "
                "is known, only the timing is searched). Words light up as the audio plays; click one to hear it. "
                "Other languages and scripts: MMS_FA (text romanised with uroman).")
    with gr.Row():
        with gr.Column():
            audio = audio_input()
            text = gr.Textbox(label="Transcript", lines=5, placeholder="The words spoken in the audio, in order.")
            aligner = gr.Dropdown(ALIGNER_CHOICES, value=AUTO, label="Aligner (a CTC model)")
            run = gr.Button("Align words", variant="primary")
            gr.Examples([[path, "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you "
                          "think."] for path in example_paths("speech_piper.wav")], inputs=[audio, text])
        with gr.Column():
            karaoke = gr.HTML(karaoke_html(None, message="Align a transcript to see its words here."),
                              js_on_load=KARAOKE_JS, css_template=KARAOKE_CSS, elem_id="align-karaoke")
            words = gr.Dataframe(headers=["start (s)", "end (s)", "word", "score"], interactive=False,
                                 label="Words")
            files = gr.File(label="Download: word-level SRT, VTT, JSON", file_count="multiple")
            inside = inside_section("Align a transcript to see the trellis the alignment searched.")
    event = run.click(run_align_words, [audio, text, aligner, inside.is_open],
                      [words, karaoke, files, *inside.outputs], api_name="align_words", **MODEL_EVENT)
    inside.draw_on_open(render_alignment_inside, event)
