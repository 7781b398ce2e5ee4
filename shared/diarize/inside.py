"""Inside the diarizer: the three stages of one run (local segmentation scores per 10 s chunk, the speaker
embeddings in 2-D, the clustering), or for the end-to-end Nemotron model its frame × speaker activity matrix, as
pictures, drawn from what the run recorded (`Diarization.internals`, see
capture.py); no model is run again. The entry point is `render_inside`."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb
from shared.diarize.capture import DiarizationInternals, FrameActivity, LocalScores
from shared.diarize.run import Diarization
from shared.diarize.views import speaker_colors
from shared.inside import InsideView, gallery_value, in_background

MAX_CHUNKS_DRAWN = 80  # rows of the segmentation picture: a 30-minute file has 700-1800 chunks
FRAME_COLUMNS = 300  # columns per chunk in that picture (a chunk has ~590 frames)
MAX_MATRIX = 200  # embeddings in the similarity matrix
MAX_LEAVES = 60  # leaves of the dendrogram before it is truncated
ACTIVE = 0.5  # a local speaker "speaks" in a frame when its score is above this
UNASSIGNED = "#b0b0b0"


def render_inside(recording: Diarization, draw: bool = True) -> tuple[list[tuple[np.ndarray, str]], str]:
    """The "Inside the model" gallery (the run's three stages, with captions) and the architecture card; the run
    is its own recording (`Diarization.internals`). With `draw=False` only the card, no picture drawn."""
    internals = recording.internals if draw else None
    colors = speaker_colors(recording.speakers)
    if isinstance(internals, FrameActivity):
        views = [activity_view(internals, colors)]
    else:
        views = diarization_views(internals, colors) if internals else []
    card = recording.card or "No model ran."
    if recording.internals is None and recording.engine != "none":
        card += "  \n*No speech was found, so there are no intermediate steps to show.*"
    return gallery_value(views), card


class SegmentationAhead:
    """A `diarize(hook=...)` that draws the segmentation picture as soon as that step is done, in the background
    while the voice prints are computed (Resemblyzer's LSTM and onnxruntime release the GIL); `keep` puts the
    picture into the finished run, where `diarization_views` takes it instead of drawing it again."""

    def __init__(self) -> None:
        self.pending: Future | None = None

    def __call__(self, step_name: str, artifact: Any) -> None:
        if step_name == "segmentation":
            self.pending = in_background(lambda: segmentation_view(artifact))

    def keep(self, result: Diarization) -> Diarization:
        """The run with the picture drawn during it (waited for here: it is usually done already)."""
        if self.pending is not None and isinstance(result.internals, DiarizationInternals):
            result.internals.drawn["segmentation"] = self.pending.result()
        return result


def diarization_views(internals: DiarizationInternals, colors: dict[str, str]) -> list[InsideView]:
    """The three stages, each a picture with its caption; `colors` maps final speakers to the timeline's colours."""
    views = [internals.drawn.get("segmentation") or segmentation_view(internals)]
    for make in (embedding_view, clustering_view):
        view = make(internals, colors)
        if view is not None:
            views.append(view)
    return views


def segmentation_view(internals: LocalScores) -> InsideView:
    scores = internals.scores
    chunks, _, slots = scores.shape
    rows = np.unique(np.linspace(0, chunks - 1, min(chunks, MAX_CHUNKS_DRAWN)).round().astype(int))
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    fig = new_figure((10, 2.4 + min(len(rows), 40) * 0.03))
    axes = fig.subplots(1, slots, sharey=True, squeeze=False)[0]
    image = None
    for slot, ax in enumerate(axes):
        matrix = pool_columns(scores[rows, :, slot].astype(np.float32), FRAME_COLUMNS)
        matrix = np.ma.masked_where(~internals.ran[rows][:, None].repeat(matrix.shape[1], axis=1), matrix)
        image = ax.imshow(matrix, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                          extent=(0, internals.chunk_s, len(rows), 0))
        ax.set(title=f"local speaker {slot + 1}", xlabel="time inside the chunk (s)")
    ticks = np.unique(np.linspace(0, len(rows) - 1, min(len(rows), 6)).round().astype(int))
    axes[0].set_yticks(ticks + 0.5, [f"{internals.chunk_starts_s[rows[t]]:.0f} s" for t in ticks])
    axes[0].set_ylabel("chunk starting at")
    fig.colorbar(image, ax=list(axes), pad=0.01, label="score (0 = silent, 1 = speaks)")
    ran = scores[internals.ran]
    shares = ", ".join(f"{float(np.mean(ran[..., slot] > ACTIVE)):.0%}" for slot in range(slots)) if len(ran) else ""
    step = float(np.median(np.diff(internals.chunk_starts_s))) if chunks > 1 else internals.chunk_s
    caption = (f"Each row is one {internals.chunk_s:g} s chunk (a new one every {step:.3g} s), each panel one of the "
               f"model's {slots} local-speaker slots; bright = that slot speaks. Slot 1 in one chunk need not be the "
               "same person as slot 1 in the next: the clustering links them.")
    if shares:
        caption += f" The slots speak in {shares} of the frames."
    if len(rows) < chunks:
        caption += f" {len(rows)} of {chunks} chunks drawn, evenly spread."
    skipped = int((~internals.ran).sum())
    if skipped:
        caption += f" Grey rows: {skipped} chunk(s) without speech, which the model did not run on."
    return InsideView("Stage 1 — local segmentation", to_rgb(fig), caption)


def _speaker_color(name: str, colors: dict[str, str]) -> str:
    return colors.get(name, UNASSIGNED)


def project_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PCA of unit-length vectors (cosine geometry) → (n, 2) coordinates and the share of spread each axis holds."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centred = unit - unit.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((len(vectors), 2))
    kept = min(2, components.shape[0])
    coords[:, :kept] = centred @ components[:kept].T
    variance = singular**2
    share = np.zeros(2)
    share[:kept] = variance[:kept] / max(float(variance.sum()), 1e-12)
    return coords, share


def embedding_view(internals: DiarizationInternals, colors: dict[str, str]) -> InsideView | None:
    vectors = internals.embeddings
    if len(vectors) == 0:
        return None
    coords, share = project_2d(vectors)
    speakers = np.array(internals.speakers, dtype=object)
    fig = new_figure((10, 4.2))
    ax = fig.add_subplot()
    for name in [*colors, ""]:
        mine = speakers == name
        for clustered, filled in ((True, True), (False, False)):
            chosen = mine & (internals.clustered == clustered)
            if not chosen.any():
                continue
            color = _speaker_color(name, colors)
            label = (name or "no speaker (left out)") + ("" if clustered else " (assigned after clustering)")
            ax.scatter(coords[chosen, 0], coords[chosen, 1], s=28, label=label, alpha=0.85, linewidths=1.2,
                       facecolors=color if filled else "none", edgecolors=color)
    ax.set(xlabel=f"direction 1 ({share[0]:.0%} of the spread)", ylabel=f"direction 2 ({share[1]:.0%})",
           title=f"{len(vectors)} voice prints, {vectors.shape[1]} numbers each, flattened to 2-D")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    found = len({name for name in internals.speakers if name})
    caption = (f"Each dot is one local speaker in one chunk, turned into a voice print of {vectors.shape[1]} numbers "
               "and flattened to 2-D (PCA: the two directions in which the voice prints differ most). Colour = the "
               f"speaker it ended up as ({found} here, coloured as in the timeline); dots of one colour should sit "
               "together.")
    if not internals.clustered.all():
        caption += " Hollow dots had too little clean speech to take part in the clustering and were matched after."
    if "" in internals.speakers:
        caption += " Grey dots were left without a speaker (more local speakers in a chunk than speakers found)."
    return InsideView("Stage 2 — speaker embeddings", to_rgb(fig), caption)


def clustering_view(internals: DiarizationInternals, colors: dict[str, str]) -> InsideView | None:
    if internals.linkage is not None and len(internals.linkage) >= 1:
        return dendrogram_view(internals, colors)
    if int(internals.clustered.sum()) >= 2:
        return similarity_view(internals, colors)
    return None


def _majority(names: list[str]) -> str:
    return max(set(names), key=names.count) if names else ""


def dendrogram_view(internals: DiarizationInternals, colors: dict[str, str]) -> InsideView:
    from scipy.cluster.hierarchy import dendrogram, fcluster, to_tree

    tree = internals.linkage
    assert tree is not None
    leaves = len(tree) + 1
    names = [name for name, clustered in zip(internals.speakers, internals.clustered, strict=True) if clustered]
    truncated = leaves > MAX_LEAVES
    fig = new_figure((10, 3.8))
    ax = fig.add_subplot()
    drawn = dendrogram(tree, ax=ax, no_labels=True, link_color_func=lambda _: "#555555",
                       truncate_mode="lastp" if truncated else None, p=MAX_LEAVES)
    nodes = to_tree(tree, rd=True)[1]
    leaf_colors = [_speaker_color(_majority([names[i] for i in nodes[leaf].pre_order()]), colors)
                   for leaf in drawn["leaves"]]
    top = float(tree[:, 2].max()) if len(tree) else 1.0
    ax.scatter(5 + 10 * np.arange(len(leaf_colors)), np.full(len(leaf_colors), -0.03 * top), c=leaf_colors,
               marker="s", s=30, clip_on=False, zorder=3)
    threshold = internals.threshold
    caption_cut = ""
    if threshold is not None:
        groups = int(fcluster(tree, threshold, criterion="distance").max())
        ax.axhline(threshold, color="#d62728", ls="--", lw=1.2)
        ax.text(ax.get_xlim()[1], threshold, f" cut at {threshold:g} → {groups} group(s)", color="#d62728",
                va="bottom", ha="right", fontsize=9)
        caption_cut = (f" Branches that join below the dashed line ({threshold:g}) become one speaker: {groups} "
                       "group(s) here, before tiny groups join their nearest neighbour.")
        top = max(top, threshold)
    ax.set_ylim(-0.06 * top, top * 1.08)
    ax.set(ylabel="cosine distance (average linkage)", xlabel="voice prints (squares: the speaker each ended up as)",
           title=f"Clustering tree of {leaves} voice prints")
    found = len({name for name in names if name})
    caption = ("Agglomerative clustering joins the two closest groups of voice prints again and again; the height of "
               "each join is how different the groups are." + caption_cut + f" Final: {found} speaker(s).")
    if internals.request:
        caption += f" You asked for {internals.request} speakers, which overrides the dashed line when needed."
    if truncated:
        caption += f" Only the top {MAX_LEAVES} branches are drawn (each square: its members' majority speaker)."
    return InsideView("Stage 3 — clustering", to_rgb(fig), caption)


def similarity_view(internals: DiarizationInternals, colors: dict[str, str]) -> InsideView:
    chosen = np.flatnonzero(internals.clustered)
    rank = {name: index for index, name in enumerate(colors)}
    order = sorted(chosen, key=lambda i: (rank.get(internals.speakers[i], len(rank)), tuple(internals.owners[i])))
    total = len(order)
    if total > MAX_MATRIX:
        order = [order[i] for i in np.unique(np.linspace(0, total - 1, MAX_MATRIX).round().astype(int))]
    vectors = internals.embeddings[order]
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = np.clip(unit @ unit.T, -1, 1)
    names = [internals.speakers[i] for i in order]
    fig = new_figure((8, 5.4))
    ax = fig.add_subplot()
    image = ax.imshow(similarity, cmap="viridis", vmin=min(0.0, float(similarity.min())), vmax=1,
                      interpolation="nearest")
    starts = [i for i in range(len(names)) if i == 0 or names[i] != names[i - 1]]
    for start in starts[1:]:
        ax.axhline(start - 0.5, color="white", lw=1.2)
        ax.axvline(start - 0.5, color="white", lw=1.2)
    ends = [*starts[1:], len(names)]
    centres = [(start + end - 1) / 2 for start, end in zip(starts, ends, strict=True)]
    ax.set_yticks(centres, [names[s] or "no speaker" for s in starts])
    ax.set_xticks(centres, [names[s] or "no speaker" for s in starts], rotation=30, ha="right")
    for tick, start in zip(ax.get_yticklabels(), starts, strict=True):
        tick.set_color(_speaker_color(names[start], colors))
    fig.colorbar(image, ax=ax, pad=0.01, label="cosine similarity")
    found = len({name for name in names if name})
    ax.set_title(f"Similarity of {len(names)} voice prints, grouped by final speaker ({found})")
    caption = ("Cosine similarity between every pair of voice prints (bright = similar voices), sorted by the "
               "speaker each ended up as; white lines separate the speakers, so a clean result is bright squares on "
               f"the diagonal and dark elsewhere. Grouped by {internals.method}.")
    if internals.request:
        caption += f" You asked for {internals.request} speakers."
    if len(order) < total:
        caption += f" {len(order)} of {total} voice prints drawn, evenly spread."
    return InsideView("Stage 3 — clustering", to_rgb(fig), caption)


def activity_view(activity: FrameActivity, colors: dict[str, str]) -> InsideView:
    """The end-to-end model's answer before any rounding: each speaker slot's probability in every 10 ms frame."""
    probabilities = activity.probabilities
    frames, slots = probabilities.shape
    duration = frames * activity.frame_s
    matrix = pool_columns(probabilities.T.astype(np.float32), FRAME_COLUMNS * 4)
    fig = new_figure((10, 1.2 + 0.32 * slots))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
                      extent=(0, max(duration, 1e-3), slots, 0))
    names = [f"slot {slot + 1}" + (f" → {label}" if label else "") for slot, label in enumerate(activity.labels)]
    ax.set_yticks(np.arange(slots) + 0.5, names)
    for tick, label in zip(ax.get_yticklabels(), activity.labels, strict=True):
        tick.set_color(colors.get(label, UNASSIGNED))
    ax.set(xlabel="time (s)", title=f"Speaker activity: {frames} frames × {slots} speaker slots")
    fig.colorbar(image, ax=ax, pad=0.01, label="probability of speaking")
    speaking = sum(1 for label in activity.labels if label)
    caption = (f"Each row is one of the model's {slots} speaker slots, filled in order of first arrival; each column "
               f"a {activity.frame_s * 1000:.0f} ms frame (max-pooled to fit). Bright = that speaker talks; two "
               f"bright rows at once = overlapping speech. A slot speaks where its probability is above "
               f"{activity.threshold:g}; {speaking} slot(s) became speakers (tick colours as in the timeline).")
    if activity.note:
        caption += " " + activity.note
    return InsideView("The model's answer — frame × speaker activity", to_rgb(fig), caption)
