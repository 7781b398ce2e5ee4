"""Constrained layout, remembered. matplotlib's constrained layout measures every title, axis label and tick label
twice per drawing to place the axes (a third to a half of a picture's drawing time); the app draws the same kinds of
pictures again and again, so the placement it found is kept, keyed by everything the placement depends on: the
figure's size, each axes' grid cell, limits, scales, titles, labels, tick positions and tick texts, colorbar
settings and free texts. A drawing whose key was seen before gets the kept placement and skips the measuring; any
other is laid out by matplotlib and remembered. Same key, same placement: pixel-identical pictures
(tests/test_audio_layout_memo.py). A figure with anything the key cannot describe (sub-figures, figure-level texts
or legends, unclipped artists other than texts) is always laid out by matplotlib.

In: a `Figure` whose layout engine is `memo_layout_engine()`; the engine is called by `Figure.draw`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

MAX_LAYOUTS = 512  # placements kept (a few hundred bytes each)
_layouts: OrderedDict[tuple, list[tuple]] = OrderedDict()
_lock = threading.Lock()
_engine_class: type | None = None
counts = {"hits": 0, "misses": 0, "unkeyed": 0}  # for the benchmark and the tests


def memo_layout_engine() -> Any:
    """A constrained layout engine that remembers placements (one instance per figure)."""
    global _engine_class
    if _engine_class is None:
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        class MemoConstrainedLayout(ConstrainedLayoutEngine):
            def execute(self, fig: Figure) -> Any:
                return _execute(self, fig, super().execute)

        _engine_class = MemoConstrainedLayout
    return _engine_class()


def forget() -> int:
    """Drop every kept placement; returns how many there were."""
    with _lock:
        count = len(_layouts)
        _layouts.clear()
    return count


def _execute(engine: Any, fig: Figure, lay_out: Any) -> Any:
    try:
        key = layout_key(fig, engine.get())
    except AttributeError:  # the key reads a few private attributes; another matplotlib may lack them
        key = None
    if key is None:
        counts["unkeyed"] += 1
        return lay_out(fig)
    with _lock:
        placement = _layouts.get(key)
        if placement is not None:
            _layouts.move_to_end(key)
    if placement is not None:  # the key has one part per axes: the placement fits
        counts["hits"] += 1
        return _place(fig, placement)
    counts["misses"] += 1
    result = lay_out(fig)
    _remember(key, [_placement_of(ax, fig) for ax in fig.axes])
    return result


def _remember(key: tuple, placement: list[tuple]) -> None:
    with _lock:
        _layouts[key] = placement
        while len(_layouts) > MAX_LAYOUTS:
            _layouts.popitem(last=False)


def _placement_of(ax: Axes, fig: Figure) -> tuple:
    """What constrained layout set on one axes: its position, and for a colorbar its anchor, box aspect, aspect
    and whether it was moved to the figure's coordinates."""
    return (ax.get_position(original=True).bounds, ax.get_anchor(), ax.get_box_aspect(), ax.get_aspect(),
            ax.get_transform() is fig.transSubfigure)


def _place(fig: Figure, placement: list[tuple]) -> None:
    for ax, (bounds, anchor, box_aspect, aspect, in_figure) in zip(fig.axes, placement, strict=True):
        if in_figure:
            ax.set_transform(fig.transSubfigure)
        ax.set_position(bounds)
        ax.set_in_layout(True)  # set_position takes an axes out of the layout; it is still laid out on a miss
        ax.set_anchor(anchor)
        ax.set_box_aspect(box_aspect)
        ax.set_aspect(aspect)


def layout_key(fig: Figure, params: dict) -> tuple | None:
    """Everything constrained layout reads, as a hashable tuple; None when the figure holds something it cannot
    describe."""
    if fig.subfigs or fig.texts or fig.legends or any(
            text is not None for text in (fig._suptitle, fig._supxlabel, fig._supylabel)):
        return None
    axes_keys = [_axes_key(ax, fig.axes) for ax in fig.axes]
    if any(key is None for key in axes_keys):
        return None
    return (tuple(fig.get_size_inches()), fig.dpi, tuple(sorted(params.items(), key=str)), *axes_keys)


def _axes_key(ax: Axes, all_axes: list) -> tuple | None:
    if _has_unkeyed_artists(ax):
        return None
    spec = ax.get_subplotspec()
    grid = None
    if spec is not None:
        gridspec = spec.get_gridspec()
        grid = (spec.get_geometry(), tuple(gridspec.get_width_ratios() or ()),
                tuple(gridspec.get_height_ratios() or ()), gridspec.wspace, gridspec.hspace)
    return (type(ax).__name__, ax.get_in_layout(), ax.get_visible(), ax.axison, grid, ax.get_xlim(), ax.get_ylim(),
            ax.get_xscale(), ax.get_yscale(), ax.get_aspect(), ax.get_box_aspect(),
            tuple(_text_key(text) for text in (ax.title, ax._left_title, ax._right_title, *ax.texts)),
            _axis_key(ax.xaxis), _axis_key(ax.yaxis), _colorbar_key(ax, all_axes), _legend_key(ax))


def _axis_key(axis: Any) -> tuple:
    ticks = axis._update_ticks()
    return (axis.get_visible(), _text_key(axis.label), axis.get_label_position(), axis.get_ticks_position(),
            tuple((tick.get_loc(), _text_key(tick.label1), _text_key(tick.label2), tick.get_tick_padding())
                  for tick in ticks))


def _text_key(text: Text) -> tuple:
    return (text.get_text(), text.get_visible(), text.get_in_layout(), text.get_clip_on(), text.get_position(),
            text.get_fontsize(), text.get_fontweight(), text.get_fontfamily()[0] if text.get_fontfamily() else "",
            text.get_rotation(), text.get_horizontalalignment(), text.get_verticalalignment())


def _colorbar_key(ax: Axes, all_axes: list) -> tuple | None:
    info = getattr(ax, "_colorbar_info", None)
    if info is None:
        return None
    parents = tuple(all_axes.index(parent) for parent in info["parents"])
    return (parents, *(repr(info[name]) for name in sorted(info) if name != "parents"),
            tuple(all_axes.index(bar) for bar in ax._colorbars))


def _legend_key(ax: Axes) -> tuple | None:
    legend = ax.get_legend()
    if legend is None:
        return None
    anchor = legend.get_bbox_to_anchor().bounds if legend._bbox_to_anchor is not None else None
    return (legend._loc, anchor, legend.get_visible(), tuple(_text_key(text) for text in legend.get_texts()))


def _has_unkeyed_artists(ax: Axes) -> bool:
    """Artists outside the axes box that the key does not describe (an unclipped line, say). A colorbar's
    dividers are unclipped but drawn inside its box."""
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend
    from matplotlib.spines import Spine
    from matplotlib.text import Text

    known = (Axis, Spine, Text, Legend)
    inside = (ax.patch, getattr(getattr(ax, "_colorbar", None), "dividers", None))
    return any(child.get_visible() and child.get_in_layout() and not child.get_clip_on()
               and not isinstance(child, known) and all(child is not part for part in inside)
               for child in ax.get_children())
