"""The recordings people upload, forgotten after their request: a voice to clone, convert to, enrol or verify is
used for that one request and then deleted from Gradio's upload folder (the app keeps no copy; Gradio's own cache
clean-up would keep it up to an hour)."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from shared.serving.widgets import EXAMPLES_DIR

F = TypeVar("F", bound=Callable[..., Any])
# shown next to every input that takes someone's voice (clone reference, comparison reference, conversion target)
CONSENT = ("**Consent.** Give only a voice you may use: your own, or that of someone who agreed. The recording is "
           "used for this one request and then deleted; the app keeps no copy of it.")


def forgets_uploads(*parameters: str) -> Callable[[F], F]:
    """Decorate a handler so the recordings passed as `parameters` are deleted (`forget_upload`) once it returns or
    raises. Plain functions only: a generator's body runs after the call returns."""

    def decorate(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            raise TypeError(f"{fn.__name__} is a generator: its uploads would be deleted before it runs")
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = signature.bind_partial(*args, **kwargs).arguments
            try:
                return fn(*args, **kwargs)
            finally:
                for name in parameters:
                    forget_upload(given.get(name))

        return run  # type: ignore[return-value]

    return decorate


def forget_upload(path: str | None) -> None:
    """Delete the reference recording Gradio saved for this request (only a file inside Gradio's upload folder:
    never one a caller passed from elsewhere, nor a copy of one of the app's example files, which other tabs' example
    buttons share), and its folder when that is left empty."""
    if not path:
        return
    upload_root = Path(gr.utils.get_upload_folder()).resolve()
    file = Path(path).resolve()
    if upload_root not in file.parents or not file.is_file() or file_digest(file) in example_digests():
        return
    file.unlink(missing_ok=True)
    if file.parent != upload_root and not any(file.parent.iterdir()):
        os.rmdir(file.parent)


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@functools.cache
def example_digests() -> frozenset[str]:
    """SHA-256 of every example file the app ships (Gradio's cache shares one copy per content)."""
    return frozenset(file_digest(path) for path in EXAMPLES_DIR.iterdir() if path.is_file())
