"""Visualize tab: waveform, STFT, mel, log-mel and Whisper's input for any clip."""

from __future__ import annotations

import gradio as gr

from shared.audio.dsp import WINDOWS
from shared.audio.intake import load_audio
from shared.serving.dataset_source import dataset_source
from shared.serving.widgets import audio_input, example_paths, user_errors
from shared.visualize.run import N_FFT_CHOICES, SpectrogramParams
from shared.visualize.views import visualize_clip, write_summary

DEFAULTS = SpectrogramParams()


@user_errors
def visualize(audio: str | None, n_fft: int = DEFAULTS.n_fft, hop_length: int = DEFAULTS.hop_length,
              window: str = DEFAULTS.window, n_mels: int = DEFAULTS.n_mels, fmin: float = DEFAULTS.fmin,
              fmax: float = DEFAULTS.fmax, top_db: float = DEFAULTS.top_db, frequency_scale: str = "log",
              progress: gr.Progress = gr.Progress()) -> tuple:
    progress(0.1, desc="Decoding audio")
    clip = load_audio(audio)
    progress(0.4, desc="STFT and mel")
    params = SpectrogramParams(n_fft, hop_length, window, n_mels, fmin or 0.0, fmax or 0.0, top_db,
                               frequency_scale == "log")
    view = visualize_clip(clip, params)
    return (view.summary, view.waveform, view.spectrogram, view.log_mel_db, view.mel, view.whisper_input,
            write_summary(view))


def _plot(label: str, elem_id: str) -> gr.Image:
    return gr.Image(label=label, format="png", show_label=False, elem_id=elem_id)  # the figure carries its title


def build() -> None:
    gr.Markdown("Drop in a sound to see it four ways. The STFT cuts the signal into overlapping windows of "
                "`n_fft` samples every `hop_length` samples; the mel filterbank squeezes frequencies the way "
                "the ear does; the log (dB) makes quiet detail visible. Models mostly see the log-mel.")
    with gr.Row():
        with gr.Column(scale=1):
            audio = audio_input()
            dataset_source(audio)
            with gr.Accordion("STFT and mel settings", open=False):
                n_fft = gr.Dropdown(list(N_FFT_CHOICES), value=DEFAULTS.n_fft, label="n_fft (window length)")
                hop = gr.Slider(16, 8192, value=DEFAULTS.hop_length, step=16, label="hop_length (samples)")
                window = gr.Dropdown(list(WINDOWS), value=DEFAULTS.window, label="window")
                n_mels = gr.Slider(8, 256, value=DEFAULTS.n_mels, step=8, label="n_mels")
                fmin = gr.Number(value=0, label="fmin (Hz)")
                fmax = gr.Number(value=0, label="fmax (Hz, 0 = Nyquist)")
                top_db = gr.Slider(10, 120, value=DEFAULTS.top_db, step=5, label="top_db (dynamic range)")
                scale = gr.Radio(["log", "linear"], value="log", label="frequency axis")
            run = gr.Button("Visualize", variant="primary")
            summary = gr.JSON(label="Summary")
            summary_file = gr.File(label="Download summary (JSON)")
        with gr.Column(scale=2):
            waveform = _plot("Waveform", "viz-waveform")
            spectrogram = _plot("STFT spectrogram (dB)", "viz-spectrogram")
            log_mel = _plot("Log-mel spectrogram (dB)", "viz-log-mel")
            with gr.Accordion("Mel power before the log, and what Whisper sees", open=False):
                mel = _plot("Mel spectrogram (power)", "viz-mel")
                whisper = _plot("Whisper's 80-bin log-mel input", "viz-whisper")
    inputs = [audio, n_fft, hop, window, n_mels, fmin, fmax, top_db, scale]
    outputs = [summary, waveform, spectrogram, log_mel, mel, whisper, summary_file]
    gr.Examples(example_paths("speech_piper.wav", "chirp_100-8000Hz.wav", "chord_c_major.wav", "pink_noise.flac",
                              "stereo_chirp_and_chord.ogg"), inputs=[audio])
    run.click(visualize, inputs, outputs, api_name="visualize", concurrency_limit=4)
