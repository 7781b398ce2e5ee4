"""Small Gradio helpers the tabs share: error translation, model dropdowns, the models/status panel."""

from __future__ import annotations

import contextlib
import functools
import html
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from shared.config import SETTINGS
from shared.errors import UserError
from shared.models import registry
from shared.serving.cancel import MODELS_GROUP, Cancelled

log = logging.getLogger("audio_demo_suite")
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
F = TypeVar("F", bound=Callable[..., Any])

# keyword arguments for every model-bound event: one shared concurrency group (one GPU, or the CPU's cores)
MODEL_EVENT: dict[str, Any] = {"concurrency_id": MODELS_GROUP, "concurrency_limit": SETTINGS.gpu_concurrency}


def _is_out_of_memory(exc: BaseException) -> bool:
    return type(exc).__name__ in ("OutOfMemoryError", "MemoryError") or "out of memory" in str(exc).lower()


def user_errors(fn: F) -> F:
    """Every failure reaches the user as a clear gr.Error; unexpected ones are logged, never shown as a traceback.
    Generator handlers (streamed outputs) are covered while they are iterated."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            with _as_gradio_errors(getattr(fn, "__name__", "handler")):
                yield from fn(*args, **kwargs)

        return streaming  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _as_gradio_errors(getattr(fn, "__name__", "handler")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def _as_gradio_errors(name: str) -> Iterator[None]:
    try:
        yield
    except (gr.Error, Cancelled, GeneratorExit):
        raise
    except UserError as exc:
        # Gradio renders toasts as (sanitised) HTML; messages may quote user text, so show it as text
        raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
    except Exception as exc:
        if _is_out_of_memory(exc):
            from shared.models.loader import get_loader

            get_loader().unload_all()
            raise gr.Error("Out of memory: idle models were unloaded, please try again (or use a shorter "
                           "clip / smaller model).", print_exception=False) from None
        log.exception("unexpected error in %s", name)
        raise gr.Error(f"Something went wrong ({type(exc).__name__}); the details are in the server log.",
                       print_exception=False) from None


def model_dropdown(task: str, label: str = "Model", default: str | None = None) -> gr.Dropdown:
    choices = registry.choices(task)
    return gr.Dropdown(choices=choices, value=default or choices[0][1], label=label)


def example_paths(*names: str) -> list[str]:
    return [str(EXAMPLES_DIR / name) for name in names if (EXAMPLES_DIR / name).is_file()]


def audio_input(label: str = "Audio") -> gr.Audio:
    return gr.Audio(sources=["upload", "microphone"], type="filepath", label=label)


# what a tab's "Inside the model" render function does: the recording of one run → (gallery value, card markdown);
# with draw=False it only writes the card (cheap) and draws no picture
InsideRender = Callable[..., tuple[list, str]]
RECORDING_TTL_S = 3600  # an undrawn recording is dropped after this long (like the result files)


@dataclass
class InsideSection:
    """The collapsible "Inside the model" section every tab shows: the pictures of the intermediate steps (one run,
    no second inference) with their captions, and the model family's architecture card.

    The pictures are drawn only when someone looks. The main event records the intermediates (cheap arrays) on every
    run, but draws the pictures only when `is_open` (its last input) says the section is open; otherwise it returns
    an empty gallery and leaves the recording in `recorded` (None once drawn). Opening the section draws that
    recording, and so does a run that ends while the section is open although it started closed.

    `is_open` is a hidden checkbox rather than a gr.State: a State input is not part of the API, so API callers
    could not ask for the pictures and would get the session's closed default. As a checkbox it is the API's
    `inside` parameter with the default True (the gallery comes back as before); in the browser a page-load event
    sets it to False and expand / collapse flip it, all in the browser (no server round trip, no race with a run)."""

    accordion: gr.Accordion
    gallery: gr.Gallery
    card: gr.Markdown
    is_open: gr.Checkbox
    recorded: gr.State

    @property
    def outputs(self) -> list[gr.components.Component]:
        """The main event's last outputs, in the order `inside_outputs` returns them: the State first, so the API's
        outputs (which leave States out) and code unpacking `*_, gallery, card` see the same last two."""
        return [self.recorded, self.gallery, self.card]

    def draw_on_open(self, render: InsideRender, run: Any) -> None:
        """Wire the lazy drawing: opening the section draws the pending recording, and so does `run` (the main
        event's dependency) when it ends with the section open. Never in the models group: no model is called."""
        draw = user_errors(functools.partial(draw_pending, render))
        draw.__name__ = f"draw_inside_{getattr(render, '__name__', 'views')}"
        self.accordion.expand(draw, [self.recorded], self.outputs, api_visibility="private")
        run.then(functools.partial(_draw_if_open, draw), [self.is_open, self.recorded], self.outputs,
                 api_visibility="private")


def inside_section(hint: str = "Run the model to see how it reached its answer.") -> InsideSection:
    """Build the section (call it in the tab's results column), then pass `section.is_open` as the main event's last
    input, `*section.outputs` as its last outputs, and call `section.draw_on_open(render, event)`."""
    with gr.Accordion("Inside the model", open=False, elem_classes=["inside-model"]) as accordion:
        card = gr.Markdown(hint)
        gallery = gr.Gallery(label="Intermediate steps", columns=1, height="auto", object_fit="contain",
                             show_label=False, preview=False)
    # True until the page has loaded: API callers (no browser, no page-load event) get the pictures by default
    is_open = gr.Checkbox(True, visible=False, label="Draw the 'Inside the model' pictures")
    recorded = gr.State(None, time_to_live=RECORDING_TTL_S)
    gr.on(None, None, None, is_open, js="() => false", api_visibility="private")
    accordion.expand(None, None, is_open, js="() => true", api_visibility="private")
    accordion.collapse(None, None, is_open, js="() => false", api_visibility="private")
    return InsideSection(accordion, gallery, card, is_open, recorded)


def inside_outputs(render: InsideRender, recording: Any, draw: bool) -> tuple[Any, list, str]:
    """The main handler's last outputs (recorded, gallery, card): the pictures when `draw` (the section is open, or
    an API call), else an empty gallery — never the pictures of an older run under a new answer — and the recording
    kept for when the section is opened."""
    gallery, card = render(recording, draw=draw)
    return (None if draw else recording), gallery, card


def draw_pending(render: InsideRender, recording: Any) -> tuple:
    """Draw a recording that has not been drawn yet; nothing to do (gr.skip) when there is none."""
    if recording is None:
        return gr.skip(), gr.skip(), gr.skip()
    gallery, card = render(recording, draw=True)
    return None, gallery, card


def _draw_if_open(draw: Callable[[Any], tuple], is_open: bool, recording: Any) -> tuple:
    return draw(recording) if is_open else (gr.skip(), gr.skip(), gr.skip())


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
