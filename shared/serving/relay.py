"""A streamed event whose work must stay on ONE thread: `relay(work)` runs `work(outlet)` in a worker thread and
yields what it sends through the outlet as it comes, then what it returns. Needed where the work installs
thread-scoped hooks (the "Inside the model" recordings) while Gradio may run each step of a generator on another
thread. While nothing comes it yields gr.skip() every POLL_S seconds, so a cancel closes the event at once; the worker
stops at its next send or progress check."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from shared.serving.cancel import POLL_S, Cancelled

STREAM_AHEAD = 4  # items the worker may run ahead of the event before it waits


class Outlet:
    """The streaming synthesis's way out of its worker thread: `send` hands one output tuple to the event (waiting
    while the event is `STREAM_AHEAD` behind), `check` raises Cancelled once the event has gone (closed or
    cancelled), so the worker stops at its next piece or progress update."""

    def __init__(self) -> None:
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=STREAM_AHEAD)
        self.closed = threading.Event()

    def offer(self, kind: str, value: Any) -> bool:
        """Queue (kind, value) unless the event has gone; False when it has."""
        while not self.closed.is_set():
            try:
                self.items.put((kind, value), timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def send(self, outputs: tuple) -> None:
        """Hand one output tuple to the event, or raise Cancelled when it has gone."""
        if not self.offer("piece", outputs):
            raise Cancelled("the streaming event has gone")

    def check(self) -> None:
        """Raise Cancelled when the event has gone (a cancellation point at every progress update)."""
        if self.closed.is_set():
            raise Cancelled("the streaming event has gone")


def relay(work: Callable[[Outlet], tuple]) -> Iterator[Any]:
    """Run `work(outlet)` in one worker thread and yield what it sends as it comes, then what it returns; gr.skip()
    every POLL_S seconds while waiting, so a cancel can close this generator at once. One thread because the capture
    hooks record only the thread that installed them, while Gradio may run each step of a generator on another."""
    outlet = Outlet()

    def run() -> None:
        try:
            outlet.offer("done", work(outlet))
        except BaseException as exc:  # handed to the event, which raises it (a Cancelled nobody reads is dropped)
            outlet.offer("error", exc)

    threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True, name="stream-relay").start()
    try:
        yield from _relayed(outlet)
    finally:
        outlet.closed.set()


def _relayed(outlet: Outlet) -> Iterator[Any]:
    """What the worker sends, then what it returns (or its error, raised here); gr.skip() while nothing comes."""
    while True:
        try:
            kind, value = outlet.items.get(timeout=POLL_S)
        except queue.Empty:
            yield gr.skip()
            continue
        if kind == "error":
            raise value
        yield value
        if kind == "done":
            return
