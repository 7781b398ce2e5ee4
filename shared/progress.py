"""What every task function shares about time: the progress callback it reports to, the stopwatch that times a
model load or a forward pass, the real-time factor, and the one timing line every result shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

Progress = Callable[[float, str], None]
"""progress(fraction in [0, 1], what is happening now): the tabs pass a gr.Progress, tests and batch jobs pass
nothing (`no_progress`)."""


def no_progress(fraction: float, desc: str) -> None:
    """The progress callback for callers that show none."""


class Stopwatch:
    """`with Stopwatch() as load: entry = loader.entry(model_id)` → `load.seconds` (wall-clock, perf_counter)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.seconds = time.perf_counter() - self._start


def real_time_factor(compute_s: float, audio_s: float) -> float:
    """Seconds of compute per second of audio (0 when there is no audio); below 1 is faster than real time."""
    return compute_s / audio_s if audio_s else 0.0


class RealTimeFactor:
    """Mixin for results with `compute_s` and `audio_s` fields (seconds): adds the `real_time_factor` property."""

    compute_s: float
    audio_s: float

    @property
    def real_time_factor(self) -> float:
        return real_time_factor(self.compute_s, self.audio_s)


def timing_line(device: str, dtype: str, compute_s: float, audio_s: float, load_s: float) -> str:
    """The markdown line under every result. `audio_s` is the audio processed (the input for recognition and
    classification, the output for synthesis); all times in seconds."""
    rtf = real_time_factor(compute_s, audio_s)
    loaded = f" · model load {load_s:.2f} s" if load_s >= 0.01 else " · model from cache"
    return (f"`{device}` · `{dtype}` · compute {compute_s:.2f} s for {audio_s:.1f} s of audio · "
            f"real-time factor {rtf:.3f}{loaded}")
