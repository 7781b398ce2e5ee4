"""Visualize: waveform, STFT, mel and log-mel, Whisper's input, and a summary — pure function, no Gradio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.audio.dsp import WHISPER_SAMPLE_RATE, WINDOWS, audio_summary, mel_power, stft_power, whisper_log_mel
from shared.audio.intake import AudioClip, resample
from shared.audio.plots import mel_image, spectrogram_image, waveform_image, whisper_input_image
from shared.errors import UserError

N_FFT_CHOICES = (256, 512, 1024, 2048, 4096, 8192)
MAX_ANALYSIS_RATE = 96_000  # above this the picture gains nothing and the STFT costs a lot


@dataclass(frozen=True)
class SpectrogramParams:
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float = 0.0  # 0 → Nyquist
    top_db: float = 80.0
    log_frequency: bool = True

    def validated(self, sample_rate: int) -> SpectrogramParams:
        nyquist = sample_rate / 2
        n_fft, hop, n_mels = int(self.n_fft), int(self.hop_length), int(self.n_mels)
        fmin, fmax, top_db = float(self.fmin), float(self.fmax or nyquist), float(self.top_db)
        if n_fft not in N_FFT_CHOICES:
            raise UserError(f"n_fft must be one of {N_FFT_CHOICES}, got {n_fft}.")
        if not 16 <= hop <= n_fft:
            raise UserError(f"hop length must be between 16 and n_fft ({n_fft}), got {hop}.")
        if self.window not in WINDOWS:
            raise UserError(f"window must be one of {WINDOWS}, got {self.window!r}.")
        if not 8 <= n_mels <= 256:
            raise UserError(f"n_mels must be between 8 and 256, got {n_mels}.")
        if fmax > nyquist:
            fmax = nyquist  # asking for more than the file holds is harmless; clamp rather than fail
        if not 0 <= fmin < fmax:
            raise UserError(f"fmin must be ≥ 0 and below fmax ({fmax:.0f} Hz), got {fmin:.0f} Hz.")
        if not 10 <= top_db <= 200:
            raise UserError(f"top_db must be between 10 and 200 dB, got {top_db:g}.")
        return SpectrogramParams(n_fft, hop, self.window, n_mels, fmin, fmax, top_db, bool(self.log_frequency))


@dataclass(frozen=True)
class Visualization:
    waveform: np.ndarray
    spectrogram: np.ndarray
    mel: np.ndarray
    log_mel_db: np.ndarray
    whisper_input: np.ndarray
    summary: dict


def visualize_clip(clip: AudioClip, params: SpectrogramParams = SpectrogramParams()) -> Visualization:
    samples, rate = clip.samples, clip.sample_rate
    if rate > MAX_ANALYSIS_RATE:
        samples, rate = resample(samples, rate, MAX_ANALYSIS_RATE), MAX_ANALYSIS_RATE
    params = params.validated(rate)
    spec = stft_power(samples, rate, params.n_fft, params.hop_length, params.window)
    mel = mel_power(spec, params.n_mels, params.fmin, params.fmax)
    samples_16k = resample(samples[: rate * 30 + rate], rate, WHISPER_SAMPLE_RATE)
    summary = {
        "name": clip.name,
        "format": clip.source_format,
        "sample_rate": clip.source_sample_rate,
        "channels": clip.source_channels,
        **audio_summary(clip.samples, clip.sample_rate),
    }
    window_label = f"n_fft {params.n_fft}, hop {params.hop_length}, {params.window}"
    return Visualization(
        waveform=waveform_image(samples, rate, f"Waveform ({clip.duration_s:.2f} s, {clip.source_sample_rate} Hz)"),
        spectrogram=spectrogram_image(spec, params.top_db, params.log_frequency, params.fmin, params.fmax,
                                      f"STFT power spectrogram ({window_label})"),
        mel=mel_image(mel, spec.duration_s, params.fmin, params.fmax, as_db=False, top_db=params.top_db,
                      title=f"Mel spectrogram, power ({params.n_mels} bands): mostly dark, hence the log"),
        log_mel_db=mel_image(mel, spec.duration_s, params.fmin, params.fmax, as_db=True, top_db=params.top_db,
                             title=f"Log-mel spectrogram (dB, top_db {params.top_db:g})"),
        whisper_input=whisper_input_image(whisper_log_mel(samples_16k), clip.duration_s),
        summary=summary,
    )
