"""What a diarization run records for the "Inside the model" pictures: `DiarizationInternals` (the arrays of the
three stages: local segmentation scores per chunk, the speaker embeddings and who each became, the clustering), and
`PyannoteCapture`, which records them during the one pyannote.audio pipeline call (the pipeline's hook artifacts, a
forward hook on the segmentation model it runs anyway, and the clustering's answer). The built-in diarizer builds
its `DiarizationInternals` itself (shared/diarize/offline.py); the end-to-end Nemotron engine records a
`FrameActivity` (shared/diarize/nemotron.py). No model is run again to draw a picture."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.inside import to_numpy


@dataclass
class LocalScores:
    """The local segmentation step as the pictures need it: the start of `DiarizationInternals`, and what the built-in
    diarizer hands its hook as soon as that step is done ("segmentation")."""

    scores: np.ndarray  # (chunks, frames, local speakers): how sure the segmentation model is each one speaks, 0..1
    chunk_starts_s: np.ndarray  # (chunks,) where each chunk starts in the file
    chunk_s: float  # chunk length (10 s)
    ran: np.ndarray  # (chunks,) bool: chunks the segmentation model ran on (the built-in one skips silent ones)


@dataclass
class DiarizationInternals(LocalScores):
    """What one diarization run computed on the way to its turns (arrays, no model): its local scores, then these."""

    embeddings: np.ndarray  # (n, dim) one voice print per (chunk, local speaker) that got one
    owners: np.ndarray  # (n, 2) the chunk and local speaker of each embedding
    speakers: list[str]  # (n,) the final speaker each embedding ended up as ("" = none)
    clustered: np.ndarray  # (n,) bool: took part in the clustering itself (the others were assigned afterwards)
    method: str  # the clustering, in words
    linkage: np.ndarray | None = None  # scipy linkage matrix of the clustered embeddings (built-in diarizer)
    threshold: float | None = None  # where that tree is cut
    request: str = ""  # the number of speakers asked for, in words ("" = automatic)
    note: str = ""  # why the number of speakers differs from the request ("" = it does not; built-in diarizer)
    drawn: dict[str, Any] = field(default_factory=dict, repr=False)  # step name → its picture, drawn during the run


@dataclass
class FrameActivity:
    """What an end-to-end diarizer (Nemotron) computed: each speaker's probability of speaking in every frame."""

    probabilities: np.ndarray  # (frames, speakers) 0..1; columns in the model's order (first arrival)
    frame_s: float  # seconds per frame (0.01)
    labels: list[str]  # (speakers,) the turn label each column became ("" = silent, or merged into another)
    threshold: float  # a speaker speaks in a frame above this probability
    note: str = ""  # why the number of speakers differs from the request ("" = it does not)
    request: str = ""  # the number of speakers asked for, in words ("" = automatic)


def speaker_request(num_speakers: int | None, min_speakers: int | None, max_speakers: int | None) -> str:
    """The number of speakers asked for, in words ("exactly 2", "between 1 and 3"; "" = automatic)."""
    if num_speakers:
        return f"exactly {num_speakers}"
    if min_speakers or max_speakers:
        return f"between {min_speakers or 1} and {max_speakers or 'any number of'}"
    return ""


class _ClusteringSpy:
    """Stands in for the pipeline's clustering step for one run: calls it and keeps its hard assignment."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.hard_clusters: np.ndarray | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.inner(*args, **kwargs)
        self.hard_clusters = np.array(result[0], copy=True)  # the pipeline later overwrites inactive ones in place
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


_MISSING = object()


class PyannoteCapture:
    """Records a pyannote.audio speaker-diarization run (use as a context manager around the one pipeline call, under
    the pipeline's lock): the hook's artifacts (`hook(...)` is passed to the pipeline), the segmentation model's soft
    scores via a forward hook (the pipeline itself only keeps the hard powerset decision), and the clustering's
    hard assignment via a stand-in for its clustering step."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.artifacts: dict[str, Any] = {}
        self.soft_batches: list[np.ndarray] = []
        self._spy: _ClusteringSpy | None = None
        self._previous: Any = _MISSING
        self._handle: Any = None

    def hook(self, step_name: str, artifact: Any, file: Any = None, total: int | None = None,
             completed: int | None = None) -> None:
        if completed is None and artifact is not None:  # the step's final result, not a progress tick
            self.artifacts[step_name] = artifact

    def _keep_scores(self, module: Any, args: Any, output: Any) -> None:
        if not hasattr(output, "detach"):  # a multi-task model: nothing we know how to draw
            return
        conversion = getattr(self.pipeline._segmentation, "conversion", None)
        soft = conversion.to_multilabel(output, soft=True) if hasattr(conversion, "to_multilabel") else output
        self.soft_batches.append(to_numpy(soft))

    def __enter__(self) -> PyannoteCapture:
        model = getattr(getattr(self.pipeline, "_segmentation", None), "model", None)
        if model is not None and hasattr(model, "register_forward_hook"):
            self._handle = model.register_forward_hook(self._keep_scores)
        try:
            inner = self.pipeline.clustering
        except AttributeError:
            return self
        # an instance attribute wins over pyannote's Pipeline.__getattr__ lookup of sub-pipelines
        self._previous = self.pipeline.__dict__.get("clustering", _MISSING)
        self._spy = _ClusteringSpy(inner)
        self.pipeline.__dict__["clustering"] = self._spy
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.remove()
        if self._spy is not None:
            if self._previous is _MISSING:
                self.pipeline.__dict__.pop("clustering", None)
            else:
                self.pipeline.__dict__["clustering"] = self._previous

    def internals(self, request: str = "") -> DiarizationInternals | None:
        """The recorded run as arrays (None when the segmentation step never finished)."""
        segmentation = self.artifacts.get("segmentation")
        if segmentation is None:
            return None
        hard = np.nan_to_num(np.asarray(segmentation.data, dtype=np.float32))  # (chunks, frames, local speakers)
        window = segmentation.sliding_window
        chunk_starts_s = float(window.start) + float(window.step) * np.arange(len(hard))
        embeddings, keep = self._voice_prints(hard)
        return DiarizationInternals(
            scores=self._soft_scores(hard), chunk_starts_s=chunk_starts_s, chunk_s=float(window.duration),
            ran=np.ones(len(hard), bool), embeddings=embeddings[keep], owners=np.argwhere(keep),
            speakers=self._speakers(keep), clustered=np.ones(int(keep.sum()), bool),
            method=_pyannote_method(self._spy.inner if self._spy is not None else None), request=request)

    def _soft_scores(self, hard: np.ndarray) -> np.ndarray:
        scores = np.concatenate(self.soft_batches) if self.soft_batches else hard
        return (scores if scores.shape == hard.shape else hard).astype(np.float32, copy=False)

    def _voice_prints(self, hard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chunks, local speakers, dim) embeddings, and which (chunk, local speaker) has a usable one."""
        active = hard.sum(axis=1) > 0  # (chunks, local speakers)
        embeddings = self.artifacts.get("embeddings")
        if embeddings is None:  # nobody ever spoke: the pipeline stopped before embedding
            chunks, _, slots = hard.shape
            embeddings = np.zeros((chunks, slots, 1), np.float32)
            active[:] = False
        embeddings = np.asarray(embeddings, dtype=np.float32)
        return embeddings, active & np.isfinite(embeddings).all(axis=2)

    def _speakers(self, keep: np.ndarray) -> list[str]:
        """The final speaker of each kept voice print, from the clustering's hard assignment ("" = none)."""
        hard_clusters = self._spy.hard_clusters if self._spy is not None else None
        if hard_clusters is None or hard_clusters.shape != keep.shape:
            return [""] * int(keep.sum())
        names = _pyannote_names(self.artifacts.get("discrete_diarization"))
        return [names.get(int(cluster), "") for cluster in hard_clusters[keep]]


def _pyannote_names(discrete: Any) -> dict[int, str]:
    """Cluster index → the label pyannote gives it: clusters with any speech, in index order, become SPEAKER_00…"""
    if discrete is None:
        return {}
    speaking = np.flatnonzero(np.nan_to_num(np.asarray(discrete.data)).any(axis=0))
    return {int(cluster): f"SPEAKER_{rank:02d}" for rank, cluster in enumerate(speaking)}


def _pyannote_method(clustering: Any) -> str:
    kind = type(clustering).__name__ if clustering is not None else "clustering"
    words = {"VBxClustering": "VBx (agglomerative start, then a Bayesian HMM on PLDA-transformed voice prints)",
             "AgglomerativeClustering": "agglomerative clustering"}.get(kind, kind)
    threshold = getattr(clustering, "threshold", None)
    return f"{words}, threshold {threshold:.3g}" if isinstance(threshold, float) else words
