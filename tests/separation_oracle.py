"""A separation check that needs no hub: mixtures of two different real recordings (pyannote's sample.wav speakers,
the Piper voice) and an oracle separator (the ideal ratio mask, computed from the true sources) with the same
`separate(samples) -> Separation` interface as the app's SepFormer, so the app's separation code path
(shared.audio_to_audio.run.separate_samples) and its SI-SDR scoring run on real speech with a known-good "model".
Used by tests/test_audio_to_audio.py and bench/bench_separation_oracle.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.models.speechbrain_models import Separation

RATE = 8_000  # Hz: the WSJ0-2mix / WHAM! SepFormers' rate
N_FFT = 256  # samples (32 ms at 8 kHz)
HOP = 64  # samples (8 ms)
MIX_S = 4.0  # seconds of each mixture (the shorter recording sets it when shorter)


@dataclass
class Mixture:
    """Two real recordings (sources, samples) at RATE, at equal level, and their sum."""

    name: str
    sources: np.ndarray
    mixture: np.ndarray


class IdealRatioMask:
    """The oracle: knows the true sources and gives each the Wiener-like mask |S_i|^2 / sum_j |S_j|^2 of the
    mixture's STFT. Only the separation plumbing and the scoring are "real" here; no model is involved."""

    def __init__(self, sources: np.ndarray, sample_rate: int = RATE) -> None:
        self.sources = sources
        self.sample_rate = sample_rate

    def separate(self, samples: np.ndarray) -> Separation:
        from scipy.signal import istft, stft

        def spectrum(signal: np.ndarray) -> np.ndarray:
            return stft(signal, nperseg=N_FFT, noverlap=N_FFT - HOP)[2]

        powers = np.stack([np.abs(spectrum(source)) ** 2 for source in self.sources])
        masks = powers / (powers.sum(axis=0, keepdims=True) + 1e-12)
        mixed = spectrum(samples)
        estimates = np.stack([istft(mask * mixed, nperseg=N_FFT, noverlap=N_FFT - HOP)[1][: len(samples)]
                              for mask in masks])
        return Separation(estimates.astype(np.float32), masks.astype(np.float32), self.sample_rate,
                          HOP / self.sample_rate)


def equal_level_mix(name: str, first: np.ndarray, second: np.ndarray) -> Mixture:
    """The two recordings cut to MIX_S seconds (or the shorter), scaled to the same RMS, and summed."""
    length = min(len(first), len(second), int(MIX_S * RATE))
    scaled = [signal[:length] / (np.std(signal[:length]) + 1e-9) * 0.1 for signal in (first, second)]
    sources = np.stack(scaled).astype(np.float32)
    return Mixture(name, sources, sources.sum(axis=0))


def real_mixtures() -> list[Mixture]:
    """Two mixtures of different real voices: sample.wav's two telephone speakers (their longest turns), and the
    Piper voice with sample.wav's first speaker."""
    from shared.audio.intake import resample
    from tests.speech_data import PIPER_SENTENCES, sample_wav_speaker_turns, synthesize

    turns = sample_wav_speaker_turns(min_s=2.0)
    first, second = (max(turns[speaker], key=len) for speaker in sorted(turns)[:2])
    piper, piper_rate = synthesize(" ".join(PIPER_SENTENCES[:2]))
    at_8k = [resample(signal, rate, RATE) for signal, rate in ((first, 16_000), (second, 16_000), (piper, piper_rate))]
    return [equal_level_mix("sample.wav speaker A + speaker B", at_8k[0], at_8k[1]),
            equal_level_mix("Piper joe + sample.wav speaker A", at_8k[2], at_8k[0])]
