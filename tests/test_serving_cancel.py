"""Model events as cancellable coroutines (shared/serving/cancel.py): the handler's result and errors come back
unchanged, nothing is yielded while it runs (no per-poll postprocessing of every output), and a cancel of the event
ends it at once and stops the worker at its next progress update."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

import gradio as gr
import pytest

from shared.serving import cancel


def test_a_model_event_becomes_a_coroutine_with_the_handlers_signature() -> None:
    def handler(text: str, progress: gr.Progress = gr.Progress()) -> str:
        """doc"""
        return text.upper()

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(handler, box, out, concurrency_id=cancel.MODELS_GROUP)
        box.change(handler, box, out)  # not model-bound: left as it is
    assert cancel.make_model_events_cancellable(demo) == 1
    wrapped, plain = (block_fn.fn for block_fn in demo.fns.values())
    assert inspect.iscoroutinefunction(wrapped) and plain is handler
    assert not any(block_fn.types_generator for block_fn in demo.fns.values())
    assert list(inspect.signature(wrapped).parameters) == ["text", "progress"]  # Gradio still finds the progress
    assert asyncio.run(wrapped("abc", gr.Progress())) == "ABC"


def test_the_handlers_error_is_raised_by_the_event() -> None:
    def handler() -> str:
        raise gr.Error("bad input")

    with pytest.raises(gr.Error, match="bad input"):
        asyncio.run(cancel.cancellable(handler)())


def test_a_cancelled_event_ends_at_once_and_its_worker_stops_at_the_next_progress_update() -> None:
    steps: list[int] = []
    stopped = threading.Event()

    def handler(progress: gr.Progress = gr.Progress()) -> str:
        try:
            for step in range(500):  # 5 s of work unless cancelled
                progress(step / 500)
                steps.append(step)
                time.sleep(0.01)
        except cancel.Cancelled:
            stopped.set()
            raise
        return "finished"

    async def cancel_after(seconds: float) -> float:
        task = asyncio.create_task(cancel.cancellable(handler)(gr.Progress()))
        await asyncio.sleep(seconds)
        task.cancel()
        start = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(cancel_after(0.3)) < 0.1  # the event ends without waiting for the worker
    assert stopped.wait(2), "the worker did not stop at its next progress update"
    assert 0 < len(steps) < 500
