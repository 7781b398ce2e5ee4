"""ZeroGPU (Hugging Face Spaces): GPU-bound handlers run under `@spaces.GPU` with a duration estimated from their
input (shared/serving/estimates.py); everywhere else `gpu_task` only counts the handler in the in-flight slots."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from shared import config
from shared.serving.slots import counted

F = TypeVar("F", bound=Callable[..., Any])
MIN_S, MAX_S = 15, 300  # seconds: ZeroGPU bills the declared duration; keep it between a warm-up and a sane ceiling


def _spaces() -> Any | None:
    if not config.on_zero_gpu():
        return None
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


def clamp_duration(seconds: float) -> int:
    """A ZeroGPU duration in whole seconds, within [MIN_S, MAX_S]."""
    return int(min(MAX_S, max(MIN_S, seconds)))


def gpu_task(estimate_s: Callable[..., float]) -> Callable[[F], F]:
    """Decorate a GPU-bound handler. `estimate_s` gets the handler's arguments and returns seconds of GPU time
    (e.g. from audio length, text length and model size). Calls are counted in the in-flight slots everywhere."""

    def decorate(fn: F) -> F:
        fn = counted(fn)
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
