"""Objective scores of audio-to-audio results: SI-SDR against a clean reference (and the best pairing of separated
sources with references), and a reference-free SNR estimate from the quiet frames' noise floor. All in dB."""

from __future__ import annotations

import itertools

import numpy as np

EPS = 1e-10
FRAME_S = 0.02  # seconds per frame of the SNR estimate
NOISE_QUANTILE = 0.1  # the quietest 10 % of frames stand for the noise floor
SIGNAL_QUANTILE = 0.5  # the loudest half of the frames stand for speech + noise


def align(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals cut to the shorter length, as float64."""
    length = min(len(first), len(second))
    return np.asarray(first[:length], dtype=np.float64), np.asarray(second[:length], dtype=np.float64)


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio (dB) of `estimate` against `reference` (same rate; the longer one
    is cut). Both are made zero-mean; the reference is scaled to its best fit to the estimate."""
    estimate, reference = align(estimate, reference)
    estimate, reference = estimate - estimate.mean(), reference - reference.mean()
    scale = np.dot(estimate, reference) / (np.dot(reference, reference) + EPS)
    target = scale * reference
    noise = estimate - target
    return float(10 * np.log10((np.dot(target, target) + EPS) / (np.dot(noise, noise) + EPS)))


def best_pairing(estimates: np.ndarray, references: np.ndarray) -> tuple[list[int], list[float]]:
    """The order of `estimates` (sources, samples) that matches `references` (sources, samples) best (highest mean
    SI-SDR; separation has no fixed order) and the SI-SDR of each pair in that order."""
    best: tuple[float, list[int], list[float]] = (-np.inf, [], [])
    for order in itertools.permutations(range(len(estimates)), len(references)):
        values = [si_sdr(estimates[index], reference) for index, reference in zip(order, references, strict=True)]
        if np.mean(values) > best[0]:
            best = (float(np.mean(values)), list(order), values)
    return best[1], best[2]


def frame_powers(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power of consecutive FRAME_S frames (the last partial frame dropped; one frame for short clips)."""
    size = max(1, int(FRAME_S * sample_rate))
    count = max(1, len(samples) // size)
    frames = np.resize(np.asarray(samples, dtype=np.float64), count * size).reshape(count, size)
    return np.mean(frames ** 2, axis=1)


def snr_estimate(samples: np.ndarray, sample_rate: int) -> float:
    """A reference-free SNR estimate (dB): the quietest NOISE_QUANTILE of 20 ms frames give the noise power, the
    loudest SIGNAL_QUANTILE give speech + noise; SNR = 10 log10((loud - noise) / noise). Rough: it assumes the
    noise is steady and the speech has pauses; continuous speech or bursty noise make it read low."""
    powers = np.sort(frame_powers(samples, sample_rate))
    noise = float(np.mean(powers[: max(1, int(len(powers) * NOISE_QUANTILE))])) + EPS
    loud = float(np.mean(powers[int(len(powers) * (1 - SIGNAL_QUANTILE)):]))
    return float(10 * np.log10(max(loud - noise, EPS) / noise))
