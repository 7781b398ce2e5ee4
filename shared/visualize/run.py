"""Visualize, the computation: a clip and the STFT / mel settings → the power spectrogram, the mel power, Whisper's
80-bin log-mel input and a summary of the signal. Pure numpy, no pictures (shared.visualize.views) and no Gradio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.audio.dsp import (
    WHISPER_SAMPLE_RATE,
    WINDOWS,
    Spectrogram,
    audio_summary,
    mel_power,
    stft_power,
    whisper_log_mel,
)
from shared.audio.intake import AudioClip, resample
from shared.errors import UserError

N_FFT_CHOICES = (256, 512, 1024, 2048, 4096, 8192)
MAX_ANALYSIS_RATE = 96_000  # above this the picture gains nothing and the STFT costs a lot


@dataclass(frozen=True)
class SpectrogramParams:
    """STFT and mel settings: `n_fft` and `hop_length` in samples, `fmin` / `fmax` in Hz (fmax 0 = Nyquist),
    `top_db` the dynamic range shown in dB, `log_frequency` the STFT picture's frequency axis."""

    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float = 0.0  # 0 → Nyquist
    top_db: float = 80.0
    log_frequency: bool = True

    def validated(self, sample_rate: int) -> SpectrogramParams:
        """The settings checked against a signal at `sample_rate` Hz (fmax clamped to Nyquist), or a UserError."""
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
class Analysis:
    """What the pictures are drawn from. `samples` at `sample_rate` Hz is the signal analysed (the clip, resampled
    to MAX_ANALYSIS_RATE when above it); `params` are the validated settings."""

    samples: np.ndarray
    sample_rate: int
    params: SpectrogramParams
    spectrogram: Spectrogram  # |STFT|², (frequency bins, frames)
    mel: np.ndarray  # mel power, (n_mels, frames)
    whisper_log_mel: np.ndarray  # Whisper's (80, frames) input for the first 30 s, at 16 kHz
    duration_s: float  # of the clip
    source_sample_rate: int  # Hz, as decoded from the file
    summary: dict


def analyse_clip(clip: AudioClip, params: SpectrogramParams = SpectrogramParams()) -> Analysis:
    """The clip's power spectrogram (n_fft / hop in samples), mel power between fmin and fmax Hz, Whisper's
    log-mel input and summary (duration in s, peak / RMS in dBFS, silence share); a UserError for bad settings."""
    samples, rate = clip.samples, clip.sample_rate
    if rate > MAX_ANALYSIS_RATE:
        samples, rate = resample(samples, rate, MAX_ANALYSIS_RATE), MAX_ANALYSIS_RATE
    params = params.validated(rate)
    spectrogram = stft_power(samples, rate, params.n_fft, params.hop_length, params.window)
    mel = mel_power(spectrogram, params.n_mels, params.fmin, params.fmax)
    samples_16k = resample(samples[: rate * 30 + rate], rate, WHISPER_SAMPLE_RATE)
    return Analysis(samples, rate, params, spectrogram, mel, whisper_log_mel(samples_16k), clip.duration_s,
                    clip.source_sample_rate, summarise(clip))


def summarise(clip: AudioClip) -> dict:
    """The file (name, format, sample rate in Hz, channels) and the signal (see shared.audio.dsp.audio_summary)."""
    return {
        "name": clip.name,
        "format": clip.source_format,
        "sample_rate": clip.source_sample_rate,
        "channels": clip.source_channels,
        **audio_summary(clip.samples, clip.sample_rate),
    }
