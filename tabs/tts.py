"""Text-to-speech tab: Piper, SpeechT5, Bark, MMS, CSM and Dia; one model at a time (whole, or streamed sentence by
sentence while the rest is synthesised), in a voice from a recording (CSM and Dia continue its codec tokens, SpeechT5
reads its x-vector; scored by speaker similarity), or 2–4 side by side with a round trip through speech recognition
(WER of what the recogniser hears against the text) and, given a reference voice, the speaker similarity."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from shared import config
from shared.models import registry
from shared.models.availability import default_model
from shared.models.loader import get_loader
from shared.serving.estimates import audio_seconds, estimate_from_text
from shared.serving.relay import Outlet, relay
from shared.serving.uploads import CONSENT, forgets_uploads
from shared.serving.widgets import (
    MODEL_EVENT,
    draw_pending,
    example_paths,
    inside_outputs,
    inside_section,
    model_dropdown,
    user_errors,
)
from shared.serving.zero_gpu import gpu_task
from shared.tts import clone, views, voices
from shared.tts import inside as inside_tts
from shared.tts import run as tts
from shared.tts.reference import MAX_REFERENCE_S, MIN_REFERENCE_S
from shared.tts.text import MAX_CHARS

SLOTS = 4  # players / spectrograms in the comparison
WHOLE_OUTPUTS = 7  # the streaming event's outputs after its player: wav, spectrogram, info, details, inside (3)
EXAMPLES = [
    "The quick brown fox jumps over the lazy dog. Speech synthesis has come a long way.",
    "Please call Stella. Ask her to bring these things with her from the store: six spoons of fresh snow peas.",
    "नमस्ते दुनिया। यह एक परीक्षण है।",
]


@user_errors
@gpu_task(estimate_from_text)
def run_tts(text: str, model: str = tts.OFFLINE_VOICE, voice: str = "", language: str = "", seed: float = 0,
            inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """`inside`: draw the "Inside the model" pictures now (API default); the UI passes whether the section is open."""
    def report(fraction: float, desc: str) -> None:
        progress(fraction, desc=desc)

    return whole_outputs(tts.synthesize(text, model, voice, language, int(seed or 0), progress=report), inside,
                         report)


def whole_outputs(speech: tts.Speech, inside: bool, report: Callable[[float, str], None]) -> tuple:
    """A finished synthesis's outputs: the wav file, spectrogram, timing line, details and inside views (drawn now
    when `inside`, else its recording kept for when the section opens; no second pass either way)."""
    report(0.97, "Spectrogram")
    spectrogram = views.spectrogram(speech)
    report(0.98, "Inside the model")
    return (views.write_wav(speech), spectrogram, views.info_markdown(speech), speech.to_json(),
            *inside_outputs(inside_tts.render_inside, speech.recording(), inside))


def speak_streaming(text: str, model: str, voice: str, language: str, seed: float, inside: bool, outlet: Outlet,
                    progress: gr.Progress) -> tuple:
    """The whole streamed synthesis, in the calling thread: each piece goes to `outlet` as 16-bit wav bytes for the
    streaming player (other outputs unchanged) as soon as it is made; returns the outputs `run_tts` returns."""
    def report(fraction: float, desc: str) -> None:
        outlet.check()
        progress(fraction, desc=desc)

    for item in tts.synthesize_stream(text, model, voice, language, int(seed or 0), progress=report):
        if isinstance(item, tts.Speech):
            return gr.skip(), *whole_outputs(item, inside, report)
        outlet.send((views.wav_bytes(item), *[gr.skip()] * WHOLE_OUTPUTS))
    raise RuntimeError("the synthesis stream ended without its Speech")


@user_errors
@gpu_task(estimate_from_text)
def run_tts_stream(text: str, model: str = tts.OFFLINE_VOICE, voice: str = "", language: str = "", seed: float = 0,
                   inside: bool = True, progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    """Streamed speech (up to tts.MAX_CHARS_STREAM characters): yields each piece (a sentence for Piper, a chunk for
    the others) as 16-bit wav bytes for the streaming player while the rest is synthesised, then the full wav,
    spectrogram, timing line, details and inside views as `/tts` returns them. A cancel or a closed page stops the
    synthesis at its next piece or progress update."""
    yield from relay(functools.partial(speak_streaming, text, model, voice, language, seed, inside, progress=progress))


_draw_stream_inside = user_errors(functools.partial(draw_pending, inside_tts.render_inside))


def _draw_now_if_open(is_open: bool, recording: Any) -> tuple:
    """After a streamed run: draw its recording when the section was opened while it ran."""
    return _draw_stream_inside(recording) if is_open else (gr.skip(), gr.skip(), gr.skip())


@forgets_uploads("reference")
@user_errors
@gpu_task(estimate_from_text)
def run_compare(text: str, models: list[str] | None = None, seed: float = 0, asr_model: str = tts.ASR_MODEL,
                reference: str | None = None, progress: gr.Progress = gr.Progress()) -> tuple:
    """2–4 models on one text with the round-trip WER; with a `reference` recording (deleted after the request) the
    cloning models speak in its voice and every row gets its speaker similarity to it."""
    results = clone.compare_in_voice(text, models, reference, int(seed or 0), asr_model,
                                     progress=lambda f, d: progress(f, desc=d))
    players, pictures = [], []
    for result in results:
        speech = result.speech
        slug = result.model_id.replace("/", "_").replace(":", "_")
        players.append(gr.update(value=views.write_wav(speech, f"{slug}.wav") if speech else None, visible=True,
                                 label=result.model_id))
        pictures.append(gr.update(value=views.spectrogram(speech) if speech else None, visible=True))
    unused = range(SLOTS - len(results))
    players += [gr.update(value=None, visible=False) for _ in unused]
    pictures += [gr.update(value=None, visible=False) for _ in unused]
    return (views.compare_rows(results), *players, *pictures)


CLONE_EXAMPLE = "Now I can say anything you type, in the voice of the recording."
REFERENCE_EXAMPLES = ["speech_piper.wav"]
CLONE_FALLBACK = "microsoft/speecht5_tts"  # the small cloning model, when the codec LMs exceed the memory budget


def clone_estimate(text: str | None = None, reference: str | None = None, model: str = "", *args: Any,
                   **kwargs: Any) -> float:
    """GPU seconds for speaking in a recorded voice: the synthesis, plus reading the reference."""
    return estimate_from_text(text, model) + 0.5 * min(audio_seconds(reference), MAX_REFERENCE_S)


@forgets_uploads("reference")
@user_errors
@gpu_task(clone_estimate)
def run_clone(text: str, reference: str | None = None, model: str = clone.DEFAULT_CLONE_MODEL, transcript: str = "",
              seed: float = 0, inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """`text` spoken in the voice of `reference` (3–20 s of one person; deleted after the request) with CSM, Dia or
    SpeechT5; `transcript`: what the reference says (the built-in recogniser fills it in when empty). Returns the
    wav, spectrogram, scores + timing, details and the inside views, as /tts does."""
    def report(fraction: float, desc: str) -> None:
        progress(fraction, desc=desc)

    result = clone.clone_voice(text, reference, model, transcript, int(seed or 0), progress=report)
    speech = result.speech
    return (views.write_wav(speech, "cloned.wav"), views.spectrogram(speech), views.clone_markdown(result),
            result.to_json(), *inside_outputs(inside_tts.render_inside, speech.recording(), inside))


@user_errors
def on_model_change(model: str, text: str) -> tuple:
    choices, default = tts.voice_choices(model)
    is_mms = model.startswith(voices.MMS_PREFIX)
    language = registry.get_spec(model).options.get("language", "") if is_mms else ""
    return (gr.update(choices=choices, value=default, interactive=len(choices) > 1), views.model_notes(model, text),
            gr.update(value=language, visible=is_mms))


@user_errors
def on_language_pick(language: str, model: str) -> str | dict:
    if not model.startswith(voices.MMS_PREFIX) or not (language or "").strip():
        return gr.skip()
    model_id = voices.resolve_mms_language(language)
    return gr.update(choices=registry.choices(registry.TTS), value=model_id)  # a new language joins the list


def streaming_widgets(controls: gr.Column, run: gr.Button, results: gr.Column,
                      audio: gr.Audio) -> tuple[gr.Button, gr.Audio]:
    """The "Stream while synthesising" button (with its note) under `run` and the streaming player above `audio`.
    Built after the rest of the tab, then moved into place: an unlabelled output's API name is "value_<block id>",
    so blocks built earlier would renumber the inside card that `/tts` returns (pinned in tests/api_snapshot.json)."""
    with controls:
        stream = gr.Button("Stream while synthesising", elem_id="tts-stream-run")
        note = gr.Markdown(f"Streaming plays each sentence as soon as it is ready and reads up to "
                           f"{tts.MAX_CHARS_STREAM:,} characters (Bark: {tts.MAX_CHARS_BARK}).")
    with results:
        streamed = gr.Audio(label="Speech as it is synthesised", streaming=True, autoplay=True, interactive=False,
                            elem_id="tts-stream")
    move_to(controls, controls.children.index(run) + 1, stream, note)
    move_to(results, results.children.index(audio), streamed)
    return stream, streamed


def move_to(container: gr.Column, position: int, *blocks: Any) -> None:
    """Move `blocks` (children of `container`) to `position` among its children, in the order given."""
    for block in blocks:
        container.children.remove(block)
    container.children[position:position] = blocks


def build() -> None:
    default = default_model("microsoft/speecht5_tts", tts.OFFLINE_VOICE)
    with gr.Tab("Synthesize", elem_id="tts-synthesize"):
        with gr.Row():
            with gr.Column() as controls:
                text = gr.Textbox(label="Text", lines=4, value=EXAMPLES[0],
                                  info=f"Up to {MAX_CHARS} characters; long text is read sentence by sentence.")
                model = model_dropdown(registry.TTS, default=default)
                notes = gr.Markdown(views.model_notes(default))
                choices, voice_default = tts.voice_choices(default)
                voice = gr.Dropdown(choices, value=voice_default, label="Voice", allow_custom_value=True)
                language = gr.Dropdown(voices.mms_language_choices(), value="", allow_custom_value=True,
                                       label="MMS language (pick, or type an ISO 639-3 code)", visible=False,
                                       elem_id="tts-language")
                seed = gr.Number(0, precision=0, label="Seed (Bark, VITS, SpeechT5's random voice)")
                run = gr.Button("Speak", variant="primary")
                gr.Examples([[example] for example in EXAMPLES], inputs=[text])
            with gr.Column() as results:
                audio = gr.Audio(label="Speech (wav)", type="filepath", interactive=False, buttons=["download"],
                                 elem_id="tts-audio")
                info = gr.Markdown(label="Timing")
                picture = gr.Image(label="Spectrogram", format="png", show_label=False, elem_id="tts-spectrogram")
                details = gr.JSON(label="Details")
                inside = inside_section("Speak some text to see what the model computed on the way.")
            stream, streamed = streaming_widgets(controls, run, results, audio)
        # the inside views go last: the API's existing output positions stay as they were
        event = run.click(run_tts, [text, model, voice, language, seed, inside.is_open],
                          [audio, picture, info, details, *inside.outputs], api_name="tts", **MODEL_EVENT)
        inside.draw_on_open(inside_tts.render_inside, event)
        streaming = stream.click(run_tts_stream, [text, model, voice, language, seed, inside.is_open],
                                 [streamed, audio, picture, info, details, *inside.outputs], api_name="tts_stream",
                                 show_progress_on=[audio], **MODEL_EVENT)
        streaming.then(_draw_now_if_open, [inside.is_open, inside.recorded], inside.outputs, api_visibility="private")
        model.change(on_model_change, [model, text], [voice, notes, language], api_visibility="private")
        text.blur(lambda m, t: views.model_notes(m, t), [model, text], notes, api_visibility="private")
        language.change(on_language_pick, [language, model], model, api_visibility="private")
    build_clone_tab()
    with gr.Tab("Compare models", elem_id="tts-compare"):
        gr.Markdown("The same text through 2–4 models with their default voices. Each result is transcribed back by a "
                    "speech recogniser: the word error rate (WER) against your text is a number for intelligibility "
                    "(0 = every word understood; the English recogniser only judges English).")
        with gr.Row():
            cmp_text = gr.Textbox(label="Text", lines=5, value=EXAMPLES[0], scale=3,
                                  info=f"Up to {tts.MAX_CHARS_COMPARE} characters.")
            with gr.Column(scale=2):
                cmp_models = gr.Dropdown(registry.choices(registry.TTS), multiselect=True, max_choices=SLOTS,
                                         value=list(dict.fromkeys([tts.OFFLINE_VOICE, default])), label="Models (2–4)")
                with gr.Row():
                    cmp_seed = gr.Number(0, precision=0, label="Seed", min_width=80)
                    asr = gr.Dropdown(registry.choices(registry.ASR), value=tts.ASR_MODEL,
                                      label="Recogniser for the WER")
                cmp_reference = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                         label="Reference voice (optional): the cloning models speak in it, and every "
                                               "row gets its speaker similarity to it", elem_id="tts-compare-reference")
                gr.Markdown(CONSENT, elem_id="tts-compare-consent")
                cmp_run = gr.Button("Compare", variant="primary")
        table = gr.Dataframe(headers=views.COMPARE_HEADERS, interactive=False, wrap=True, label="Comparison")
        with gr.Row():
            players, pictures = [], []
            for slot in range(1, SLOTS + 1):
                with gr.Column(min_width=240):
                    players.append(gr.Audio(type="filepath", interactive=False, visible=False, buttons=["download"],
                                            label=f"Speech {slot}"))
                    pictures.append(gr.Image(format="png", show_label=False, visible=False,
                                             label=f"Spectrogram {slot}"))
        comparing = cmp_run.click(run_compare, [cmp_text, cmp_models, cmp_seed, asr, cmp_reference],
                                  [table, *players, *pictures], api_name="compare_tts", **MODEL_EVENT)
        comparing.then(lambda: None, None, cmp_reference, api_visibility="private")  # the recording was deleted


def build_clone_tab() -> None:
    """The "Voice from a recording" tab: text, a 3–20 s reference with its consent line and optional transcript,
    a cloning model; the speech with its speaker similarity and round-trip WER, and the inside views."""
    clone_models = tts.clone_models()
    fits = (registry.get_spec(clone.DEFAULT_CLONE_MODEL).memory_mb(get_loader().placement.dtype)
            <= config.current().memory_budget_mb)
    default = default_model(clone.DEFAULT_CLONE_MODEL if fits else CLONE_FALLBACK, CLONE_FALLBACK)
    with gr.Tab("Voice from a recording", elem_id="tts-clone"):
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label="Text to say in that voice", lines=3, value=CLONE_EXAMPLE,
                                  info=f"Up to {clone.MAX_CHARS_CLONE} characters.")
                reference = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="tts-clone-reference",
                                     label=f"Voice reference: {MIN_REFERENCE_S:.0f}–{MAX_REFERENCE_S:.0f} s of one "
                                           "person speaking")
                gr.Markdown(CONSENT, elem_id="tts-clone-consent")
                transcript = gr.Textbox("", label="What the recording says (optional)", lines=2,
                                        info="Left empty, the built-in recogniser (Whisper tiny.en) writes it.")
                model = gr.Dropdown([(registry.get_spec(m).label, m) for m in clone_models], value=default,
                                    label="Model")
                notes = gr.Markdown(views.clone_notes(default))
                seed = gr.Number(0, precision=0, label="Seed")
                run = gr.Button("Speak in this voice", variant="primary", elem_id="tts-clone-run")
                gr.Examples([[CLONE_EXAMPLE, path] for path in example_paths(*REFERENCE_EXAMPLES)],
                            inputs=[text, reference])
            with gr.Column():
                audio = gr.Audio(label="Speech in that voice (wav)", type="filepath", interactive=False,
                                 buttons=["download"], elem_id="tts-clone-audio")
                info = gr.Markdown(elem_id="tts-clone-info")
                picture = gr.Image(label="Spectrogram", format="png", show_label=False)
                details = gr.JSON(label="Details")
                inside = inside_section("Speak in a recorded voice to see the codec tokens the model continued.")
        event = run.click(run_clone, [text, reference, model, transcript, seed, inside.is_open],
                          [audio, picture, info, details, *inside.outputs], api_name="tts_clone", **MODEL_EVENT)
        event.then(lambda: None, None, reference, api_visibility="private")  # the recording was deleted
        inside.draw_on_open(inside_tts.render_inside, event)
        model.change(user_errors(views.clone_notes), model, notes, api_visibility="private")
