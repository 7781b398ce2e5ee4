"""Label × time pictures of windowed scores (Classify, Zero-shot): one column per window, centred on it and meeting
its neighbours half-way, one row per label; silent windows grey. Also the tick-label shortening both tabs' pictures
use. No Gradio here."""

from __future__ import annotations

import numpy as np

from shared.audio.plots import CMAP, new_figure, to_rgb
from shared.audio.windows import NO_EVENTS, Window


def short_label(label: str, limit: int = 32) -> str:
    """Shortened for a tick label, and "$" escaped: matplotlib would read "$...$" in a user's label as math."""
    label = label if len(label) <= limit else label[: limit - 1] + "…"
    return label.replace("$", r"\$")


def column_edges(windows: list[Window], duration_s: float, min_last_s: float = 0.0) -> np.ndarray:
    """Time edges (seconds) of one column per window: 0, the midpoints between window centres, and the clip's end
    (at least `min_last_s` past the last centre)."""
    centres = np.array([(w.start_s + w.end_s) / 2 for w in windows])
    return np.concatenate([[0.0], (centres[:-1] + centres[1:]) / 2, [max(duration_s, centres[-1] + min_last_s)]])


def timeline_image(window_scores: np.ndarray, labels: list[str], windows: list[Window], duration_s: float,
                   rows: list[int], title: str, colorbar_label: str = "score",
                   vmax: float | None = 1.0) -> np.ndarray:
    """Label × time heatmap of `window_scores` (windows × labels) for the label indices `rows`, over a clip of
    `duration_s` seconds; silent windows grey. `vmax=None` scales the colours to the largest score drawn (softmax
    over many labels stays far below 1)."""
    import matplotlib

    fig = new_figure((10, 1.4 + 0.27 * max(len(rows), 1)))
    ax = fig.add_subplot()
    if not rows or not windows:
        ax.text(0.5, 0.5, NO_EVENTS, ha="center", va="center", transform=ax.transAxes)
        ax.set(xlim=(0, max(duration_s, 1e-3)), yticks=[], xlabel="time (s)", title=title)
        return to_rgb(fig)
    values = np.ma.masked_invalid(window_scores[:, rows].T)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad="#d9d9d9")
    if vmax is None:
        vmax = max(float(values.max()) if values.count() else 1.0, 1e-6)
    mesh = ax.pcolormesh(column_edges(windows, duration_s), np.arange(len(rows) + 1), values, cmap=cmap, vmin=0.0,
                         vmax=vmax, shading="flat")
    ax.set_yticks(np.arange(len(rows)) + 0.5, [short_label(labels[i]) for i in rows])
    ax.invert_yaxis()
    ax.set(xlim=(0, duration_s), xlabel="time (s)", title=title)
    fig.colorbar(mesh, ax=ax, pad=0.01, label=colorbar_label)
    return to_rgb(fig)
