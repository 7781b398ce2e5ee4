"""Visualize, what the tab shows: the waveform, STFT spectrogram, mel power, log-mel (dB) and Whisper-input
pictures of an analysis (shared.visualize.run), and the summary as a JSON download."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.audio.intake import AudioClip
from shared.audio.plots import mel_image, spectrogram_image, waveform_image, whisper_input_image
from shared.outputs.results import write_json
from shared.visualize.run import Analysis, SpectrogramParams, analyse_clip


@dataclass(frozen=True)
class Visualization:
    """The page: one RGB image per picture and the summary shown beside them."""

    waveform: np.ndarray
    spectrogram: np.ndarray
    mel: np.ndarray
    log_mel_db: np.ndarray
    whisper_input: np.ndarray
    summary: dict


def visualize_clip(clip: AudioClip, params: SpectrogramParams = SpectrogramParams()) -> Visualization:
    """The clip analysed with `params` (samples, Hz, dB: see SpectrogramParams) and drawn."""
    return pictures(analyse_clip(clip, params))


def pictures(analysis: Analysis) -> Visualization:
    """The five pictures of an analysis, each titled with its settings."""
    params, spectrogram, mel = analysis.params, analysis.spectrogram, analysis.mel
    window_label = f"n_fft {params.n_fft}, hop {params.hop_length}, {params.window}"
    waveform_title = f"Waveform ({analysis.duration_s:.2f} s, {analysis.source_sample_rate} Hz)"
    return Visualization(
        waveform=waveform_image(analysis.samples, analysis.sample_rate, waveform_title),
        spectrogram=spectrogram_image(spectrogram, params.top_db, params.log_frequency, params.fmin, params.fmax,
                                      f"STFT power spectrogram ({window_label})"),
        mel=mel_image(mel, spectrogram.duration_s, params.fmin, params.fmax, as_db=False, top_db=params.top_db,
                      title=f"Mel spectrogram, power ({params.n_mels} bands): mostly dark, hence the log"),
        log_mel_db=mel_image(mel, spectrogram.duration_s, params.fmin, params.fmax, as_db=True, top_db=params.top_db,
                             title=f"Log-mel spectrogram (dB, top_db {params.top_db:g})"),
        whisper_input=whisper_input_image(analysis.whisper_log_mel, analysis.duration_s),
        summary=analysis.summary,
    )


def write_summary(view: Visualization) -> str:
    """The summary as audio_summary.json in the results folder; returns its path."""
    return write_json("audio_summary.json", view.summary)
