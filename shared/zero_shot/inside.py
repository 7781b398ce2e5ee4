""""Inside the model" for the Zero-shot tab (CLAP, PE-Audio): the labels × windows matrix of similarities between the
audio and text embeddings, drawn from what the run already holds (the result is its own recording), never from a
second forward pass. No Gradio here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shared.audio.plots import CMAP, new_figure, to_rgb
from shared.audio.timeline import column_edges, short_label
from shared.inside import InsideView, gallery_value
from shared.zero_shot.run import ZeroShotResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_ANNOTATED_CELLS = 120  # similarity values written in the cells only for small matrices
MAX_DOTS = 120  # best-label dots only for this many windows


def _annotate(ax: Axes, values: np.ndarray, xs: np.ndarray, low: float, high: float,
              bold_rows: np.ndarray | None = None) -> None:
    """Write each finite value in its cell; `bold_rows[col]` is the row written in bold in that column."""
    for row, col in zip(*np.nonzero(np.isfinite(values)), strict=True):
        value = values[row, col]
        dark = (value - low) / (high - low) < 0.6  # magma is dark at the low end
        bold = bold_rows is not None and bold_rows[col] == row
        ax.text(xs[col], row + 0.5, f"{value:.3f}", ha="center", va="center", fontsize=8 if bold else 7,
                fontweight="bold" if bold else "normal", color="white" if dark else "black")


def _colour_range(matrix: np.ndarray, clip: np.ndarray | None) -> tuple[float, float]:
    """CLAP's similarities bunch together (e.g. all 0.1-0.3): the colours span this run's range, not [-1, 1]."""
    drawn = np.concatenate([matrix[np.isfinite(matrix)], clip if clip is not None else []])
    low, high = float(drawn.min()), float(drawn.max())
    if high - low < 1e-6:
        low, high = low - 1e-3, high + 1e-3
    return low, high


def _mark_closest(ax: Axes, matrix: np.ndarray, centres: np.ndarray, closest: np.ndarray, audible: np.ndarray,
                  low: float, high: float) -> str:
    """Mark each window's closest label (numbers in small matrices, dots in medium ones); says how, for the caption."""
    labels, windows = matrix.shape
    if labels * windows <= MAX_ANNOTATED_CELLS:
        _annotate(ax, matrix, centres, low, high, bold_rows=closest)
        return "bold numbers mark"
    if windows <= MAX_DOTS:
        ax.scatter(centres[audible], closest[audible] + 0.5, s=12, c="#00e5ff", edgecolors="black", linewidths=0.5)
        return "dots mark"
    return ""


def _similarity_caption(result: ZeroShotResult, low: float, high: float, marked: str, closest: np.ndarray,
                        audible: np.ndarray) -> str:
    labels = len(result.labels)
    marks = f"; {marked} each window's closest label" if marked else ""
    caption = (f"Each cell is the {result.similarity_name} between one window's audio embedding and one label "
               f"prompt's text embedding (brighter = closer; the colours span this run's {low:.3f} to {high:.3f}{marks}"
               f"{'; grey = silent window' if not audible.all() else ''}). Times the logit scale "
               f"{result.logit_scale:.1f} and softmaxed over your "
               f"{labels} labels, these become the scores.")
    if audible.any():
        winners = closest[audible]
        best = int(np.bincount(winners).argmax())
        caption += (f" '{result.labels[best]}' is the closest prompt in {int((winners == best).sum())} of "
                    f"{int(audible.sum())} windows.")
    return caption + (" The prompts' text embeddings came from the cache (the text tower did not run)."
                      if result.text_from_cache else f" The text tower ran once for the {labels} prompts.")


def similarity_view(result: ZeroShotResult) -> InsideView:
    """Labels × windows heatmap of the cosine similarities the run computed, with the whole clip's column."""
    import matplotlib

    matrix = result.window_similarity.T  # (labels, windows), NaN columns for silent windows
    clip = result.clip_similarity
    labels = matrix.shape[0]
    low, high = _colour_range(matrix, clip)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad="#d9d9d9")

    fig = new_figure((10, 1.5 + 0.22 * max(labels, 3)))
    main, whole = fig.subplots(1, 2, width_ratios=[9, 1], sharey=True)
    edges = column_edges(result.windows, result.audio_s, min_last_s=1e-3)
    mesh = main.pcolormesh(edges, np.arange(labels + 1), np.ma.masked_invalid(matrix), cmap=cmap, vmin=low,
                           vmax=high, shading="flat")
    audible = np.isfinite(matrix).all(axis=0)
    closest = np.argmax(np.where(audible, matrix, -np.inf), axis=0)  # each window's closest label
    marked = _mark_closest(main, matrix, (edges[:-1] + edges[1:]) / 2, closest, audible, low, high)
    main.set_yticks(np.arange(labels) + 0.5, [short_label(label) for label in result.labels])
    main.invert_yaxis()
    main.set(xlim=(edges[0], edges[-1]), xlabel="time (s) — one column per window",
             title=f"Cosine similarity: audio windows × label prompts · {result.model_id}")
    if clip is not None:
        column = clip[:, None]
        whole.pcolormesh([0, 1], np.arange(labels + 1), column, cmap=cmap, vmin=low, vmax=high, shading="flat")
        if labels <= MAX_ANNOTATED_CELLS:
            _annotate(whole, column, np.array([0.5]), low, high, bold_rows=np.array([int(np.argmax(clip))]))
    whole.set(xlim=(0, 1), xticks=[], xlabel="whole clip")
    fig.colorbar(mesh, ax=[main, whole], pad=0.01, label=result.similarity_name)
    caption = _similarity_caption(result, low, high, marked, closest, audible)
    return InsideView("Audio × text similarity", to_rgb(fig), caption)


def zero_shot_inside(result: ZeroShotResult) -> tuple[list[InsideView], str]:
    """The Zero-shot tab's views and architecture card for one run."""
    card = result.card_markdown()
    if result.silent or not result.windows:
        return [], card
    return [similarity_view(result)], card


def render_inside(result: ZeroShotResult, draw: bool = True) -> tuple[list, str]:
    """The Zero-shot tab's gallery and card; the run is its own recording (the similarities it computed). With
    `draw=False` only the card, no picture drawn."""
    if not draw:
        return [], result.card_markdown()
    views, card = zero_shot_inside(result)
    return gallery_value(views), card
