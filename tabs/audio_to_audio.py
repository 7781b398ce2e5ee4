"""Audio → audio tab: voice conversion (SpeechT5), speech enhancement (MetricGAN+, SepFormer) and separation of
overlapping speakers (SepFormer). Every result: before/after players, spectrograms side by side, wav downloads,
compute time and real-time factor, objective scores, and "Inside the model"."""

from __future__ import annotations

import gradio as gr

from shared.audio_to_audio import run as a2a
from shared.audio_to_audio import views
from shared.audio_to_audio.inside import render_inside
from shared.models import registry
from shared.serving.estimates import estimate_from_audio
from shared.serving.uploads import CONSENT, forgets_uploads
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

SOURCES = 4  # output players of the separation: two speakers (SepFormer) or four stems (Demucs)


def shown(result: a2a.AudioResult, inside: bool) -> tuple:
    """What every job shows after its players: spectrograms, headline + scores, details JSON, its download, and
    the inside views (drawn now when `inside`, else recorded for when the section opens)."""
    return (views.side_by_side(result), views.info_markdown(result), result.to_json(), views.write_details(result),
            *inside_outputs(render_inside, result.recording, inside))


@forgets_uploads("target_audio")
@user_errors
@gpu_task(estimate_from_audio)
def convert_voice(audio: str | None, model: str = a2a.DEFAULT_MODELS[registry.VOICE_CONVERSION],
                  preset: str = a2a.DEFAULT_PRESET, target_audio: str | None = None, inside: bool = True,
                  progress: gr.Progress = gr.Progress()) -> tuple:
    """The converted wav first, then the input's wav and the shared outputs. `target_audio` (a recording of the
    voice to speak in; deleted after the request) wins over `preset`; `inside` draws the "Inside the model"
    pictures now (API default)."""
    result = a2a.convert_voice(audio, model, preset, target_audio, progress=lambda f, d: progress(f, desc=d))
    source, (converted,) = views.write_outputs(result)
    return converted, source, *shown(result, inside)


@user_errors
@gpu_task(estimate_from_audio)
def enhance(audio: str | None, model: str = a2a.DEFAULT_MODELS[registry.ENHANCE], reference: str | None = None,
            inside: bool = True, progress: gr.Progress = gr.Progress()) -> tuple:
    """The enhanced wav first, then the noisy input's wav and the shared outputs. `reference`: the clean recording
    of the same speech, for SI-SDR (without it the SNR is estimated)."""
    result = a2a.enhance(audio, model, reference, progress=lambda f, d: progress(f, desc=d))
    source, (enhanced,) = views.write_outputs(result)
    return enhanced, source, *shown(result, inside)


@user_errors
@gpu_task(estimate_from_audio)
def separate(audio: str | None, model: str = a2a.DEFAULT_MODELS[registry.SEPARATE], inside: bool = True,
             progress: gr.Progress = gr.Progress()) -> tuple:
    """One wav per separated source first (four slots: two speakers fill the first two, Demucs' drums, bass,
    other and vocals all four; unused ones are None), then the mixture's wav (at the model's rate) and the shared
    outputs."""
    result = a2a.separate(audio, model, progress=lambda f, d: progress(f, desc=d))
    source, outputs = views.write_outputs(result)
    return *[*outputs, *[None] * SOURCES][:SOURCES], source, *shown(result, inside)


def name_players(details: dict | None) -> list:
    """After a separation: each source player labelled with its source's name, the unused ones hidden (a private
    follow-up event, so the API's outputs stay plain files)."""
    outputs = (details or {}).get("outputs", [])
    return [gr.update(label=f"{outputs[index]['label']} (wav)", visible=True) if index < len(outputs)
            else gr.update(visible=index < 2) for index in range(SOURCES)]


def result_widgets(prefix: str, players: list[str]) -> tuple[list[gr.Audio], list]:
    """The players (outputs first, then the input), and the spectrogram, headline, details, download."""
    audios = [gr.Audio(label=label, type="filepath", interactive=False, buttons=["download"],
                       elem_id=f"{prefix}-{index}") for index, label in enumerate(players)]
    picture = gr.Image(label="Spectrograms, before and after", format="png", show_label=False,
                       elem_id=f"{prefix}-spectrograms")
    info = gr.Markdown(elem_id=f"{prefix}-info")
    details = gr.JSON(label="Details")
    details_file = gr.File(label="Download details (JSON)")
    return audios, [picture, info, details, details_file]


def build_convert() -> None:
    gr.Markdown("**SpeechT5 voice conversion**: the words of your recording, spoken in another voice — a CMU "
                "ARCTIC preset, or the voice of a second recording (its speechbrain x-vector). Scores: how close "
                "the output's voice is to the target (x-vector cosine, Resemblyzer voiceprint) next to the input's.")
    with gr.Row():
        with gr.Column():
            audio = audio_input("Speech to convert (up to 20 s)")
            model = model_dropdown(registry.VOICE_CONVERSION, default=a2a.DEFAULT_MODELS[registry.VOICE_CONVERSION])
            preset = gr.Dropdown(a2a.preset_choices(), value=a2a.DEFAULT_PRESET, label="Target voice (preset)")
            target = audio_input("…or a recording of the target voice (wins over the preset)")
            gr.Markdown(CONSENT, elem_id="a2a-convert-consent")
            run = gr.Button("Convert voice", variant="primary", elem_id="a2a-convert-run")
            gr.Examples([[path] for path in example_paths("speech_piper.wav", "speech_second_voice.wav")],
                        inputs=[audio])
            gr.Examples([example_paths("speech_second_voice.wav", "speech_piper.wav")], inputs=[audio, target],
                        label="Speech with a recording of the target voice")
        with gr.Column():
            audios, rest = result_widgets("a2a-convert", ["Converted (wav)", "Input (as the model heard it)"])
            section = inside_section("Convert a recording to see the mel spectrogram and the x-vectors.")
    event = run.click(convert_voice, [audio, model, preset, target, section.is_open],
                      [*audios, *rest, *section.outputs], api_name="convert_voice", **MODEL_EVENT)
    event.then(lambda: None, None, target, api_visibility="private")  # the target recording was deleted
    section.draw_on_open(render_inside, event)


def build_enhance() -> None:
    gr.Markdown("**Speech enhancement**: noise out, speech kept. Give the clean recording of the same speech as a "
                "reference to get SI-SDR before/after (its improvement in dB); without it the SNR is estimated "
                "from the quiet frames.")
    with gr.Row():
        with gr.Column():
            audio = audio_input("Noisy speech (up to 60 s)")
            model = model_dropdown(registry.ENHANCE, default=a2a.DEFAULT_MODELS[registry.ENHANCE])
            reference = audio_input("Clean reference, optional (the same speech, sample-aligned)")
            run = gr.Button("Enhance", variant="primary", elem_id="a2a-enhance-run")
            gr.Examples(example_paths("speech_noisy_5db.wav", "speech_piper.wav"), inputs=[audio])
            gr.Examples([example_paths("speech_noisy_5db.wav", "speech_piper.wav")], inputs=[audio, reference],
                        label="Noisy speech with its clean reference")
        with gr.Column():
            audios, rest = result_widgets("a2a-enhance", ["Enhanced (wav)", "Noisy input"])
            section = inside_section("Enhance a recording to see what the model removed.")
    event = run.click(enhance, [audio, model, reference, section.is_open], [*audios, *rest, *section.outputs],
                      api_name="enhance", **MODEL_EVENT)
    section.draw_on_open(render_inside, event)


def build_separate() -> None:
    gr.Markdown("**Source separation**: overlapping speakers with SepFormer (two sources, 8 kHz), or music into "
                "drums, bass, other and vocals with Hybrid Transformer Demucs (44.1 kHz). One track per source.")
    with gr.Row():
        with gr.Column():
            audio = audio_input("Mixture: two speakers, or music (up to 60 s)")
            model = model_dropdown(registry.SEPARATE, default=a2a.DEFAULT_MODELS[registry.SEPARATE])
            run = gr.Button("Separate", variant="primary", elem_id="a2a-separate-run")
            gr.Examples(example_paths("two_voices_mix_8k.wav", "chord_c_major.wav"), inputs=[audio])
        with gr.Column():
            audios, rest = result_widgets("a2a-separate", [*[f"Source {i + 1} (wav)" for i in range(SOURCES)],
                                                           "Mixture (at the model's rate)"])
            for player in audios[2:SOURCES]:  # shown when a model gives more than two sources (Demucs)
                player.visible = False
            section = inside_section("Separate a mixture to see the masks the model estimated.")
    event = run.click(separate, [audio, model, section.is_open], [*audios, *rest, *section.outputs],
                      api_name="separate", **MODEL_EVENT)
    event.then(name_players, [rest[2]], audios[:SOURCES], api_visibility="private")
    section.draw_on_open(render_inside, event)


def build() -> None:
    with gr.Tab("Convert voice", elem_id="a2a-convert"):
        build_convert()
    with gr.Tab("Enhance", elem_id="a2a-enhance"):
        build_enhance()
    with gr.Tab("Separate sources", elem_id="a2a-separate"):
        build_separate()
