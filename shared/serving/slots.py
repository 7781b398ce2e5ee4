"""How many model-bound handlers run at once (ADS_GPU_CONCURRENCY slots), logged at each new maximum."""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from shared.config import SETTINGS
from shared.serving.cancel import check_cancelled

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


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


def counted(fn: F) -> F:
    """`fn` holding one of the IN_FLIGHT slots while it runs (a generator handler: while it is iterated)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            with IN_FLIGHT:
                yield from fn(*args, **kwargs)

        return streaming  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with IN_FLIGHT:
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]
