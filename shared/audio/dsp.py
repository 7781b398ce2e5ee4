"""Signal processing for the views: framed STFT power, mel filterbank, dB scaling, Whisper's log-mel, stats.

Plain numpy on purpose: it is the code a learner reads next to the pictures, and it avoids importing torch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

WINDOWS = ("hann", "hamming", "blackman", "rectangular")
WHISPER_SAMPLE_RATE = 16_000
WHISPER_N_FFT = 400
WHISPER_HOP = 160
WHISPER_CHUNK_S = 30


@dataclass(frozen=True)
class Spectrogram:
    power: np.ndarray  # (freq bins, frames), float32, |STFT|^2
    sample_rate: int
    n_fft: int
    hop_length: int

    @property
    def frequencies(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate).astype(np.float32)

    @property
    def duration_s(self) -> float:
        return self.power.shape[1] * self.hop_length / self.sample_rate


@functools.lru_cache(maxsize=16)
def window_function(name: str, n_fft: int) -> np.ndarray:
    if name not in WINDOWS:
        raise ValueError(f"unknown window {name!r}; choose one of {WINDOWS}")
    if name == "rectangular":
        return np.ones(n_fft, np.float32)
    import scipy.signal

    return scipy.signal.get_window(name, n_fft, fftbins=True).astype(np.float32)  # periodic, as librosa/torch


def stft_power(samples: np.ndarray, sample_rate: int, n_fft: int, hop_length: int, window: str = "hann",
               chunk_frames: int = 4096) -> Spectrogram:
    """Centered STFT power (frames like librosa's center=True), computed in chunks to bound memory."""
    pad = n_fft // 2
    mode = "reflect" if len(samples) > pad else "constant"
    padded = np.pad(samples.astype(np.float32, copy=False), (pad, pad), mode=mode)
    if len(padded) < n_fft:
        padded = np.pad(padded, (0, n_fft - len(padded)))
    n_frames = 1 + (len(padded) - n_fft) // hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length][:n_frames]
    win = window_function(window, n_fft)
    power = np.empty((n_fft // 2 + 1, n_frames), np.float32)
    for start in range(0, n_frames, chunk_frames):
        spectrum = np.fft.rfft(frames[start:start + chunk_frames] * win, axis=1)
        power[:, start:start + chunk_frames] = (spectrum.real ** 2 + spectrum.imag ** 2).T
    return Spectrogram(power, sample_rate, n_fft, hop_length)


@functools.lru_cache(maxsize=32)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-style mel filters (librosa's defaults, which Whisper and most HF feature extractors use)."""
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


def mel_frequencies(n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    import librosa

    return librosa.mel_frequencies(n_mels=n_mels, fmin=fmin, fmax=fmax)


def mel_power(spec: Spectrogram, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    return mel_filterbank(spec.sample_rate, spec.n_fft, n_mels, float(fmin), float(fmax)) @ spec.power


def power_to_db(power: np.ndarray, top_db: float | None = 80.0, amin: float = 1e-10) -> np.ndarray:
    """10·log10(power / max), floored at -top_db (0 dB is the loudest cell)."""
    reference = max(float(power.max(initial=0.0)), amin)
    db = 10.0 * np.log10(np.maximum(power, amin) / reference)
    if top_db is not None:
        np.maximum(db, -float(top_db), out=db)
    return db.astype(np.float32, copy=False)


def whisper_log_mel(samples_16k: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """Whisper's input for the first 30 s window: pad/trim to 30 s, log10 mel, clamp to max-8, scale (x+4)/4."""
    length = WHISPER_SAMPLE_RATE * WHISPER_CHUNK_S
    window_samples = np.zeros(length, np.float32)
    window_samples[:min(length, len(samples_16k))] = samples_16k[:length]
    spec = stft_power(window_samples, WHISPER_SAMPLE_RATE, WHISPER_N_FFT, WHISPER_HOP, "hann")
    mel = mel_filterbank(WHISPER_SAMPLE_RATE, WHISPER_N_FFT, n_mels, 0.0, WHISPER_SAMPLE_RATE / 2)
    log_spec = np.log10(np.maximum(mel @ spec.power[:, :-1], 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


def dbfs(value: float) -> float:
    return float(20 * np.log10(max(value, 1e-10)))


def audio_summary(samples: np.ndarray, sample_rate: int, frame_s: float = 0.05,
                  silence_dbfs: float = -50.0) -> dict[str, float]:
    """Duration, peak, RMS (dBFS), the share of 50 ms frames quieter than `silence_dbfs`, clipping, DC offset."""
    frame = max(1, int(frame_s * sample_rate))
    usable = len(samples) // frame * frame
    if usable:
        frame_rms = np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, frame), dtype=np.float64), axis=1))
        silence_ratio = float(np.mean(frame_rms < 10 ** (silence_dbfs / 20)))
    else:
        silence_ratio = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) < 10 ** (silence_dbfs / 20))
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return {
        "duration_s": round(len(samples) / sample_rate, 3),
        "peak": round(peak, 4),
        "peak_dbfs": round(dbfs(peak), 2),
        "rms_dbfs": round(dbfs(rms), 2),
        "silence_ratio": round(silence_ratio, 3),
        "clipped_ratio": round(float(np.mean(np.abs(samples) >= 0.999)) if len(samples) else 0.0, 5),
        "dc_offset": round(float(np.mean(samples, dtype=np.float64)) if len(samples) else 0.0, 5),
    }
