"""Cancelling a running model job. Gradio cannot stop a sync handler that has started: its worker thread runs to the
end and the queue's concurrency slot stays taken until it does. It can stop a coroutine at its next await. So every
model-bound event runs its handler in a worker thread behind a coroutine that awaits the worker's outcome: a cancel
(gradio_client's `job.cancel()`, a cancelled event in the browser) ends the event at once, which frees the slot, and
tells the worker, which stops at its next progress update — handlers report progress between chunks, windows,
files and models, so that is where jobs stop. (An earlier version was a generator yielding gr.skip() every POLL_S
seconds; each yield made Gradio rebuild and postprocess every output component: ~0.2 s per 2 s request.)"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)
POLL_S = 0.25  # seconds: how often a waiting event tells its worker it is still there (relay: how often it yields)
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


def cancellable(fn: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Wrap a sync handler as a coroutine event: the handler runs in a worker thread while the event awaits its
    outcome (nothing is sent to the client meanwhile); a cancel of the event stops the worker at its next progress
    update. Generator handlers (their own yields are their cancellation points) are returned as they are."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return fn

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        import gradio as gr

        token = _Token()
        args = tuple(_checked(value, token) for value in args)
        kwargs = {name: _checked(value, token) for name, value in kwargs.items()}
        outcome = _start_worker(fn, args, kwargs, token)
        try:
            while not outcome.done():
                await asyncio.wait({outcome}, timeout=POLL_S)
                token.poll()
        finally:
            token.cancelled.set()  # a no-op once the worker is done; on a cancel, the worker stops at its next update
        succeeded, value = outcome.result()
        if not succeeded:
            if value is None:
                raise gr.Error("The job was cancelled.", print_exception=False)
            raise value
        return value

    return run


def _start_worker(fn: Callable[..., Any], args: tuple, kwargs: dict, token: _Token) -> asyncio.Future:
    """Start `fn(*args, **kwargs)` in a daemon thread (with this context's variables); the future gets (True,
    result), (False, the exception) or (False, None) when it stopped at a cancellation point."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future = loop.create_future()

    def settle(result: tuple[bool, Any]) -> None:
        if not outcome.done():
            outcome.set_result(result)

    def work() -> None:
        _CURRENT.set(token)
        try:
            result: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Cancelled:
            log.info("%s: cancelled, stopped at a progress update", getattr(fn, "__name__", "handler"))
            result = (False, None)
        except BaseException as exc:  # handed to the event, which raises it there
            result = (False, exc)
        try:
            loop.call_soon_threadsafe(settle, result)
        except RuntimeError:  # the event loop has closed (shutdown): nobody is waiting
            pass

    worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                              name=f"job-{getattr(fn, '__name__', 'handler')}")
    worker.start()
    return outcome


def make_model_events_cancellable(demo: Any) -> int:
    """Turn every event of the shared model concurrency group into a cancellable coroutine event; returns how many.
    Done once after the UI is built, so the tabs' handlers stay plain functions (tests call them directly)."""
    changed = 0
    for block_fn in demo.fns.values():
        if block_fn.concurrency_id == MODELS_GROUP and not block_fn.types_generator:
            block_fn.fn = cancellable(block_fn.fn)
            changed += 1
    return changed
