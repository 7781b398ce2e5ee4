"""Cancelling a running model job. Gradio cannot stop a sync handler that has started: its worker thread runs to the
end and the queue's concurrency slot stays taken until it does. It can stop a generator between two yields (and
closes it). So every model-bound event runs its handler in a worker thread behind a generator that yields while
the work goes on: a cancel (gradio_client's `job.cancel()`, a cancelled event in the browser) ends the event
within `POLL_S`, which frees the slot, and closing the generator tells the worker, which stops at its next progress
update — handlers report progress between chunks, windows, files and models, so that is where jobs stop."""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)
POLL_S = 0.25  # how often the event yields while the worker runs: the upper bound on freeing the slot
ABANDONED_S = 30.0  # no poll for this long (the event was dropped without a close): the worker stops too
MODELS_GROUP = "models"


class Cancelled(Exception):
    """Raised inside a worker at a progress update once its event was cancelled."""


class _Token:
    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.last_poll = time.monotonic()

    def poll(self) -> None:
        self.last_poll = time.monotonic()

    def check(self) -> None:
        if self.cancelled.is_set() or time.monotonic() - self.last_poll > ABANDONED_S:
            raise Cancelled("the job was cancelled")


_CURRENT: contextvars.ContextVar[_Token | None] = contextvars.ContextVar("ads_cancel_token", default=None)


def check_cancelled() -> None:
    """Stop here if the running job was cancelled (a no-op outside a cancellable job)."""
    token = _CURRENT.get()
    if token is not None:
        token.check()


class _CheckedProgress:
    """A gr.Progress whose every update is also a cancellation point."""

    def __init__(self, progress: Any, token: _Token) -> None:
        self._progress = progress
        self._token = token

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._token.check()
        return self._progress(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress, name)


def _checked(value: Any, token: _Token) -> Any:
    import gradio as gr

    return _CheckedProgress(value, token) if isinstance(value, gr.Progress) else value


def cancellable(fn: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    """Wrap a sync handler as a generator event: yields `gr.skip()` while the handler runs, then its result."""
    if inspect.isgeneratorfunction(fn):
        return fn

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
        import gradio as gr

        token = _Token()
        args = tuple(_checked(value, token) for value in args)
        kwargs = {name: _checked(value, token) for name, value in kwargs.items()}
        outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

        def work() -> None:
            _CURRENT.set(token)
            try:
                outcome.put((True, fn(*args, **kwargs)))
            except Cancelled:
                log.info("%s: cancelled, stopped at a progress update", fn.__name__)
                outcome.put((False, None))
            except BaseException as exc:  # handed to the event, which raises it there
                outcome.put((False, exc))

        worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                                  name=f"job-{fn.__name__}")
        worker.start()
        try:
            while True:
                try:
                    succeeded, value = outcome.get(timeout=POLL_S)
                    break
                except queue.Empty:
                    token.poll()
                    yield gr.skip()
        finally:
            token.cancelled.set()  # a no-op once the worker is done; on close, the worker stops at its next update
        if not succeeded:
            if value is None:
                raise gr.Error("The job was cancelled.", print_exception=False)
            raise value
        yield value

    return run


def make_model_events_cancellable(demo: Any) -> int:
    """Turn every event of the shared model concurrency group into a cancellable generator event; returns how many.
    Done once after the UI is built, so the tabs' handlers stay plain functions (tests call them directly)."""
    changed = 0
    for block_fn in demo.fns.values():
        if block_fn.concurrency_id == MODELS_GROUP and not block_fn.types_generator:
            block_fn.fn = cancellable(block_fn.fn)
            block_fn.types_generator = True
            changed += 1
    return changed
