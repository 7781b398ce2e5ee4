"""Visualize on a 10-minute file: the app's full page vs the same plots drawn with librosa.display.

    python bench/bench_visualize.py [--minutes 10] [--rate 22050] [--repeats 3]

Both sides start from the same decoded samples and end with PNG bytes: waveform, STFT spectrogram (log
frequency, dB), mel power, log-mel dB (the app also draws Whisper's input on top). Prints the median times, the
ratio app / librosa (goal ≤ 0.25) and the image payload the browser receives (goal < 1 MB).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.audio.intake import AudioClip
from shared.visualize.views import visualize_clip


def test_signal(minutes: float, rate: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(minutes * 60 * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * (200 + 150 * np.sin(2 * np.pi * 0.05 * t)) * t)
    bursts = (np.sin(2 * np.pi * 0.2 * t) > 0.6) * rng.standard_normal(len(t)) * 0.1
    return (tone + bursts).astype(np.float32)


def png_bytes(image: np.ndarray) -> int:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="png")
    return len(buffer.getvalue())


def app_page(samples: np.ndarray, rate: int) -> int:
    view = visualize_clip(AudioClip(samples, rate, rate, 1, "wav", "bench.wav"))
    return sum(png_bytes(img) for img in (view.waveform, view.spectrogram, view.mel, view.log_mel_db,
                                          view.whisper_input))


def librosa_page(samples: np.ndarray, rate: int) -> int:
    import librosa
    import librosa.display
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    total = 0
    stft_db = librosa.amplitude_to_db(np.abs(librosa.stft(samples, n_fft=2048, hop_length=512)), ref=np.max)
    mel = librosa.feature.melspectrogram(y=samples, sr=rate, n_fft=2048, hop_length=512, n_mels=128)
    for draw in ("wave", "stft", "mel", "logmel"):
        fig = Figure(figsize=(10, 3.2), dpi=96)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if draw == "wave":
            librosa.display.waveshow(samples, sr=rate, ax=ax)
        elif draw == "stft":
            librosa.display.specshow(stft_db, sr=rate, hop_length=512, x_axis="time", y_axis="log", ax=ax)
        elif draw == "mel":
            librosa.display.specshow(mel, sr=rate, hop_length=512, x_axis="time", y_axis="mel", ax=ax)
        else:
            librosa.display.specshow(librosa.power_to_db(mel, ref=np.max), sr=rate, hop_length=512,
                                     x_axis="time", y_axis="mel", ax=ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        total += len(buffer.getvalue())
    return total


def median_time(fn, *args) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(ARGS.repeats):
        start = time.perf_counter()
        size = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=22_050)
    parser.add_argument("--repeats", type=int, default=3)
    ARGS = parser.parse_args()
    samples = test_signal(ARGS.minutes, ARGS.rate)
    app_page(samples[: ARGS.rate], ARGS.rate)  # warm imports and caches on both sides
    librosa_page(samples[: ARGS.rate], ARGS.rate)
    app_s, app_bytes = median_time(app_page, samples, ARGS.rate)
    lib_s, lib_bytes = median_time(librosa_page, samples, ARGS.rate)
    print(f"{ARGS.minutes:g} min at {ARGS.rate} Hz, median of {ARGS.repeats}")
    print(f"app page (5 plots):        {app_s:6.2f} s   payload {app_bytes / 1e6:.2f} MB")
    print(f"librosa.display (4 plots): {lib_s:6.2f} s   payload {lib_bytes / 1e6:.2f} MB")
    print(f"ratio app / librosa: {app_s / lib_s:.3f}  (goal ≤ 0.25)")
