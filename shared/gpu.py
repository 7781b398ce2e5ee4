"""ZeroGPU (Hugging Face Spaces) support: GPU-bound handlers run under `@spaces.GPU` with a duration estimated
from the input; everywhere else the decorator changes nothing."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from shared.config import SETTINGS

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
MIN_S, MAX_S = 15, 300  # ZeroGPU bills the declared duration; keep it between a warm-up and a sane ceiling


def on_zero_gpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def _spaces() -> Any | None:
    if not on_zero_gpu():
        return None
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


def clamp_duration(seconds: float) -> int:
    return int(min(MAX_S, max(MIN_S, seconds)))


class InFlight:
    """How many model-bound handlers run at once; logs each new maximum so the limit can be checked from outside.
    The queue's concurrency group caps the events; the slots here cap the work itself, which matters after a
    cancel: the event (and its queue slot) ends at once, while its worker stops only at its next progress update,
    so the next job's worker waits here for it rather than run beside it."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limit)
        self.current = 0
        self.maximum = 0

    def __enter__(self) -> None:
        from shared.cancel import check_cancelled

        while not self._slots.acquire(timeout=0.25):
            check_cancelled()  # a job cancelled while it waited gives up its turn
        with self._lock:
            self.current += 1
            if self.current > self.maximum:
                self.maximum = self.current
                log.info("model-bound handlers in flight: %d (new maximum)", self.maximum)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.current -= 1
        self._slots.release()


IN_FLIGHT = InFlight(SETTINGS.gpu_concurrency)


def _counted(fn: F) -> F:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with IN_FLIGHT:
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


def gpu_task(estimate_s: Callable[..., float]) -> Callable[[F], F]:
    """Decorate a GPU-bound handler. `estimate_s` gets the handler's arguments and returns seconds of GPU time
    (e.g. from audio length, text length and model size). Calls are counted in IN_FLIGHT everywhere."""

    def decorate(fn: F) -> F:
        fn = _counted(fn)
        spaces = _spaces()
        if spaces is None:
            return fn

        def duration(*args: Any, **kwargs: Any) -> int:
            try:
                return clamp_duration(estimate_s(*args, **kwargs))
            except Exception:  # a bad estimate must not break the request
                return MAX_S // 2

        wrapped = spaces.GPU(duration=duration)(fn)
        return functools.wraps(fn)(wrapped)

    return decorate


def audio_seconds(path: str | None) -> float:
    """Cheap duration from the header (0 when unknown): the input size the estimates scale with."""
    if not path:
        return 0.0
    try:
        import soundfile as sf

        return float(sf.info(path).duration)
    except Exception:  # formats libsndfile cannot read get a neutral estimate
        return 60.0


def model_scale(*args: Any, **kwargs: Any) -> float:
    """1 for models up to 1 GB, growing with the size of the largest registry model among the arguments."""
    from shared.registry import UnknownModelError, get_spec

    sizes = []
    for value in (*args, *kwargs.values()):
        for candidate in value if isinstance(value, list | tuple) else (value,):
            if isinstance(candidate, str):
                try:
                    sizes.append(get_spec(candidate).size_mb)
                except UnknownModelError:
                    pass
    return max(1.0, max(sizes, default=0.0) / 1000)


def estimate_from_audio(audio: str | None = None, *args: Any, **kwargs: Any) -> float:
    """GPU seconds for an audio handler: warm-up plus a share of the audio's length, scaled by the model's size."""
    return 20 + 0.25 * audio_seconds(audio) * model_scale(*args, **kwargs)


def estimate_from_text(text: str | None = None, model: str = "", *args: Any, **kwargs: Any) -> float:
    """GPU seconds for speech synthesis: Bark generates slowly (three models, token by token)."""
    per_char = 0.5 if "bark" in (model or "") else 0.05
    return 20 + per_char * len(text or "")
