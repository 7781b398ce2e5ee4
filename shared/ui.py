"""Small Gradio helpers the tabs share: error translation, model dropdowns, the models/status panel."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from shared import registry
from shared.cancel import MODELS_GROUP, Cancelled
from shared.config import SETTINGS
from shared.errors import UserError

log = logging.getLogger("audio_demo_suite")
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
F = TypeVar("F", bound=Callable[..., Any])

# keyword arguments for every model-bound event: one shared concurrency group (one GPU, or the CPU's cores)
MODEL_EVENT: dict[str, Any] = {"concurrency_id": MODELS_GROUP, "concurrency_limit": SETTINGS.gpu_concurrency}


def _is_out_of_memory(exc: BaseException) -> bool:
    return type(exc).__name__ in ("OutOfMemoryError", "MemoryError") or "out of memory" in str(exc).lower()


def user_errors(fn: F) -> F:
    """Every failure reaches the user as a clear gr.Error; unexpected ones are logged, never shown as a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (gr.Error, Cancelled):
            raise
        except UserError as exc:
            # Gradio renders toasts as (sanitised) HTML; messages may quote user text, so show it as text
            raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
        except Exception as exc:
            if _is_out_of_memory(exc):
                from shared.loader import get_loader

                get_loader().unload_all()
                raise gr.Error("Out of memory: idle models were unloaded, please try again (or use a shorter "
                               "clip / smaller model).", print_exception=False) from None
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}); the details are in the server log.",
                           print_exception=False) from None

    return wrapper  # type: ignore[return-value]


def model_dropdown(task: str, label: str = "Model", default: str | None = None) -> gr.Dropdown:
    choices = registry.choices(task)
    return gr.Dropdown(choices=choices, value=default or choices[0][1], label=label)


def example_paths(*names: str) -> list[str]:
    return [str(EXAMPLES_DIR / name) for name in names if (EXAMPLES_DIR / name).is_file()]


def audio_input(label: str = "Audio") -> gr.Audio:
    return gr.Audio(sources=["upload", "microphone"], type="filepath", label=label)


def inside_section(hint: str = "Run the model to see how it reached its answer.") -> tuple[gr.Gallery, gr.Markdown]:
    """The collapsible "Inside the model" section every tab shows: the pictures of the intermediate steps (one run,
    no second inference) with their captions, and the model family's architecture card."""
    with gr.Accordion("Inside the model", open=False, elem_classes=["inside-model"]):
        card = gr.Markdown(hint)
        gallery = gr.Gallery(label="Intermediate steps", columns=1, height="auto", object_fit="contain",
                             show_label=False, preview=False)
    return gallery, card


# the inside section's gallery: pictures at their own aspect ratio, captions in full under each picture (Gradio's
# gallery crops thumbnails square and cuts captions to one line)
INSIDE_CSS = """
.inside-model .thumbnail-item { aspect-ratio: auto !important; height: auto !important; }
.inside-model .thumbnail-lg > img { height: auto !important; object-fit: contain !important; }
.inside-model .caption-label { position: static !important; white-space: normal !important; max-width: 100% !important;
  text-overflow: clip !important; font-size: var(--text-md) !important; opacity: 1 !important; }
.inside-model .grid-wrap { overflow-y: visible !important; max-height: none !important; }
.inside-model .grid-container { grid-auto-rows: auto !important; grid-template-rows: none !important; }
"""
