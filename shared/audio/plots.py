"""Figures as RGB arrays. matplotlib's object API (Figure + Agg canvas, no pyplot state) so renders are safe
under concurrent requests; every figure is cleared once rasterised. Long signals are reduced to the display
resolution before drawing (min/max envelopes, max-pooled spectrogram columns): that is what keeps a
10-minute file interactive.

Rasterised figures are cleared and kept for reuse (a few per size, one request at a time each): a reused figure
keeps its Agg renderer, and matplotlib caches text metrics per renderer, so tick labels and titles are not laid out
from scratch on every request — a third to a half of the drawing time, with pixel-identical pictures
(bench/bench_app_overhead.py --pictures)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from shared.audio.dsp import Spectrogram, mel_frequencies, power_to_db
from shared.audio.layout_memo import memo_layout_engine

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DISPLAY_COLUMNS = 1000  # time columns kept for drawing: about the plot width in pixels
FIGSIZE = (10, 3.2)
DPI = 96
CMAP = "magma"
_FREQ_TICKS = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
POOLED_PER_SIZE = 4  # cleared figures kept for reuse per figure size (each holds a ~1 MB canvas)
_pool: dict[tuple[float, float], list[Figure]] = {}
_pool_lock = threading.Lock()


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """An empty figure of `figsize` inches at DPI with constrained layout (remembered per picture: layout_memo.py):
    a pooled one when free, else a new one.
    It is the caller's alone until `to_rgb` rasterises (and pools) it."""
    with _pool_lock:
        free = _pool.get(tuple(figsize))
        if free:
            return free.pop()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported on first plot: faster app start-up
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout=memo_layout_engine())
    FigureCanvasAgg(fig)
    return fig


def to_rgb(fig: Figure) -> np.ndarray:
    """Rasterise the figure, clear it and give it back to the pool (when it was made by `new_figure`)."""
    canvas = fig.canvas
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    fig.clear()
    _give_back(fig)
    return image


def empty_pool() -> int:
    """Drop every pooled figure (the next pictures are drawn on new ones); returns how many were pooled."""
    with _pool_lock:
        count = sum(len(free) for free in _pool.values())
        _pool.clear()
    return count


def _give_back(fig: Figure) -> None:
    size = tuple(float(inches) for inches in fig.get_size_inches())
    if fig.get_dpi() != DPI or fig.get_layout_engine() is None:
        return  # not one of ours (or changed): let it go
    with _pool_lock:
        free = _pool.setdefault(size, [])
        if len(free) < POOLED_PER_SIZE and all(other is not fig for other in free):
            free.append(fig)


def _fmt_hz(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def pool_columns(matrix: np.ndarray, columns: int = DISPLAY_COLUMNS) -> np.ndarray:
    """Max-pool along time down to `columns` (transients stay visible); short inputs pass through."""
    n = matrix.shape[1]
    if n <= columns:
        return matrix
    edges = np.linspace(0, n, columns + 1).astype(int)
    return np.maximum.reduceat(matrix, edges[:-1], axis=1)


def waveform_envelope(samples: np.ndarray, columns: int = 2 * DISPLAY_COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) per column: what a waveform looks like at screen resolution, without drawing every sample."""
    usable = len(samples) // columns * columns
    if usable == 0:
        return samples, samples
    blocks = samples[:usable].reshape(columns, -1)
    return blocks.min(axis=1), blocks.max(axis=1)


def waveform_image(samples: np.ndarray, sample_rate: int, title: str = "Waveform") -> np.ndarray:
    fig = new_figure((10, 2.4))
    ax = fig.add_subplot()
    duration = len(samples) / sample_rate
    if len(samples) <= 4 * DISPLAY_COLUMNS:
        ax.plot(np.arange(len(samples)) / sample_rate, samples, lw=0.7, color="#1f77b4")
    else:
        low, high = waveform_envelope(samples)
        times = np.linspace(0, duration, len(low))
        ax.fill_between(times, low, high, color="#1f77b4", lw=0, step="mid")
    peak = max(1.0, float(np.max(np.abs(samples))) if len(samples) else 1.0)
    ax.set(xlim=(0, duration), ylim=(-peak, peak), xlabel="time (s)", ylabel="amplitude", title=title)
    ax.grid(alpha=0.3)
    return to_rgb(fig)


def _log_frequency_rows(db: np.ndarray, freqs: np.ndarray, fmin: float, rows: int = 384) -> tuple[np.ndarray, float]:
    """Resample frequency rows onto a log-spaced grid (linear interpolation between FFT bins)."""
    low = max(fmin, freqs[1])
    grid = np.geomspace(low, freqs[-1], rows)
    position = np.interp(grid, freqs, np.arange(len(freqs)))
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, len(freqs) - 1)
    weight = (position - lower)[:, None].astype(np.float32)
    return db[lower] * (1 - weight) + db[upper] * weight, low


def spectrogram_image(spec: Spectrogram, top_db: float, log_frequency: bool, fmin: float = 0.0,
                      fmax: float | None = None, title: str = "STFT spectrogram") -> np.ndarray:
    fmax = fmax or spec.sample_rate / 2
    freqs = spec.frequencies
    keep = freqs <= fmax + 1e-6
    db = power_to_db(pool_columns(spec.power[keep]), top_db)
    fig = new_figure()
    ax = fig.add_subplot()
    if log_frequency:
        db, low = _log_frequency_rows(db, freqs[keep], max(fmin, 20.0))
        extent = (0, spec.duration_s, np.log10(low), np.log10(freqs[keep][-1]))
        ticks = [f for f in _FREQ_TICKS if low <= f <= freqs[keep][-1]]
        ax.set_yticks(np.log10(ticks), [_fmt_hz(f) for f in ticks])
    else:
        extent = (0, spec.duration_s, 0, freqs[keep][-1])
    image = ax.imshow(db, origin="lower", aspect="auto", extent=extent, cmap=CMAP, vmin=-top_db, vmax=0,
                      interpolation="nearest")
    ax.set(xlabel="time (s)", ylabel="frequency (Hz)", title=title)
    fig.colorbar(image, ax=ax, format="%+.0f dB", pad=0.01)
    return to_rgb(fig)


def mel_image(mel: np.ndarray, duration_s: float, fmin: float, fmax: float, *, as_db: bool, top_db: float,
              title: str) -> np.ndarray:
    pooled = pool_columns(mel)
    values = power_to_db(pooled, top_db) if as_db else pooled / max(float(pooled.max(initial=0)), 1e-10)
    fig = new_figure()
    ax = fig.add_subplot()
    n_mels = mel.shape[0]
    image = ax.imshow(values, origin="lower", aspect="auto", extent=(0, duration_s, 0, n_mels), cmap=CMAP,
                      interpolation="nearest", vmin=-top_db if as_db else 0, vmax=0 if as_db else 1)
    centres = mel_frequencies(n_mels, fmin, fmax)
    tick_bins = np.linspace(0, n_mels - 1, 6).astype(int)
    ax.set_yticks(tick_bins + 0.5, [_fmt_hz(round(float(centres[b]), -1)) for b in tick_bins])
    ax.set(xlabel="time (s)", ylabel=f"mel bands ({n_mels}), Hz", title=title)
    fig.colorbar(image, ax=ax, format="%+.0f dB" if as_db else "%.1f", pad=0.01,
                 label=None if as_db else "power / max")
    return to_rgb(fig)


def whisper_window_image(log_mel: np.ndarray, audio_s: float) -> np.ndarray:
    """Whisper's 30 s input window (mel bins × 10 ms frames, `audio_s` of it sound), its columns max-pooled to the
    display width first."""
    return whisper_input_image(pool_columns(log_mel), audio_s)


def whisper_input_image(log_mel: np.ndarray, audio_s: float) -> np.ndarray:
    fig = new_figure()
    ax = fig.add_subplot()
    image = ax.imshow(log_mel, origin="lower", aspect="auto", extent=(0, 30, 0, log_mel.shape[0]), cmap="viridis",
                      interpolation="nearest")
    if audio_s < 30:
        ax.axvline(audio_s, color="white", ls="--", lw=1)
        ax.text(audio_s, log_mel.shape[0] * 0.9, "  zero padding →", color="white", fontsize=9)
    title = f"What Whisper sees: {log_mel.shape[0]}-bin log-mel, 16 kHz, 10 ms hop, one 30 s window"
    if audio_s > 30:
        title += " (first of several)"
    ax.set(xlabel="time (s)", ylabel="mel bin", title=title)
    fig.colorbar(image, ax=ax, pad=0.01, label="(log10 + 4) / 4")
    return to_rgb(fig)
