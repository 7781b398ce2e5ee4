"""Scoring a clip window by window, whatever the model: sliding windows that cover the clip with the stated hop
(clamped to the model's input length, silent ones gated out), one batched forward pass over all of them, scores →
top labels, and `WindowScores`, the fields every windowed result shares (Classify, Zero-shot). Windows start at 0,
hop, 2·hop, … until one reaches the end of the clip, so the last may be shorter. No Gradio, no task package here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, is_silent
from shared.errors import UserError
from shared.inside import ARCHITECTURES, architecture_card
from shared.progress import Progress, RealTimeFactor, no_progress

SILENCE_DBFS = -60.0  # a clip or window whose RMS stays below this is not sent to the model
BATCH_SIZE = 8
MAX_WINDOWS = 600
MIN_WINDOW_S = 0.25
MAX_WINDOW_S = 30.0
NO_EVENTS = "No sound events (the clip is silent)"
NOT_RUN = "silent clip: the model was not run"


@dataclass(frozen=True)
class Window:
    """One window of the clip: samples [start, end) at `sample_rate` Hz; `silent` ones are not sent to the model."""

    start: int
    end: int
    sample_rate: int
    silent: bool = False

    @property
    def start_s(self) -> float:
        return self.start / self.sample_rate

    @property
    def end_s(self) -> float:
        return self.end / self.sample_rate


def check_window(window_s: float, hop_s: float) -> None:
    """Raise a UserError unless the window (seconds) is in range and the hop (seconds) is positive and no longer."""
    if not MIN_WINDOW_S <= window_s <= MAX_WINDOW_S:
        raise UserError(f"The window must be between {MIN_WINDOW_S:g} and {MAX_WINDOW_S:g} seconds.")
    if hop_s <= 0:
        raise UserError("The hop must be a positive number of seconds.")
    if hop_s > window_s:
        raise UserError(f"The hop ({hop_s:g} s) must not exceed the window ({window_s:g} s), or parts of the clip "
                        "would fall between windows.")


def sliding_windows(n_samples: int, sample_rate: int, window_s: float, hop_s: float,
                    max_windows: int = MAX_WINDOWS) -> list[tuple[int, int]]:
    """(start, end) sample ranges: starts every `hop_s`, each `window_s` long (the last may be shorter), until a
    window reaches the end, so together they cover [0, n_samples). A clip shorter than one window is one window."""
    check_window(window_s, hop_s)
    window = max(1, round(window_s * sample_rate))
    hop = max(1, round(hop_s * sample_rate))
    count = 1 + max(0, -(-(n_samples - window) // hop))  # ceil division
    if count > max_windows:
        needed = (n_samples - window) / sample_rate / (max_windows - 1)
        raise UserError(f"{count} windows is more than the limit of {max_windows}: use a hop of at least "
                        f"{needed:.2f} s for this {n_samples / sample_rate:.0f} s clip.")
    return [(i * hop, min(i * hop + window, n_samples)) for i in range(count)]


def effective_window(window_s: float, hop_s: float, input_s: float | None) -> tuple[float, float, list[str]]:
    """Clamp the window to the model's input length `input_s` (seconds; None: any length) and the hop to the
    window: a longer window would be silently truncated by the feature extractor. Notes say what changed."""
    check_window(window_s, hop_s)
    notes = []
    if input_s is not None and window_s > input_s + 1e-6:
        notes.append(f"window shortened from {window_s:g} s to {input_s:g} s, the longest input this model sees")
        window_s = input_s
        if hop_s > window_s:
            notes.append(f"hop shortened from {hop_s:g} s to {window_s:g} s so the windows still cover the clip")
            hop_s = window_s
    return window_s, hop_s, notes


def make_windows(samples: np.ndarray, sample_rate: int, window_s: float, hop_s: float,
                 silence_dbfs: float = SILENCE_DBFS) -> list[Window]:
    """The sliding windows over `samples` (at `sample_rate` Hz), each marked silent when its RMS stays below
    `silence_dbfs` (dBFS)."""
    return [Window(start, end, sample_rate, is_silent(samples[start:end], silence_dbfs))
            for start, end in sliding_windows(len(samples), sample_rate, window_s, hop_s)]


@dataclass(frozen=True)
class WindowPlan:
    """The windows a run uses, after clamping to the model's input length (`window_s`, `hop_s` in seconds), and
    notes saying what the clamping changed."""

    windows: list[Window]
    window_s: float
    hop_s: float
    notes: list[str]

    @classmethod
    def over(cls, samples: np.ndarray, sample_rate: int, window_s: float, hop_s: float,
             input_s: float | None = None) -> WindowPlan:
        """Windows over `samples` (at `sample_rate` Hz) for a model that sees at most `input_s` seconds (None: any)."""
        window_s, hop_s, notes = effective_window(window_s, hop_s, input_s)
        return cls(make_windows(samples, sample_rate, window_s, hop_s), window_s, hop_s, notes)

    def audible(self) -> list[int]:
        """The indices of the windows that are not silent (the ones sent to the model)."""
        return [i for i, w in enumerate(self.windows) if not w.silent]

    def audible_samples(self, samples: np.ndarray) -> list[np.ndarray]:
        return [samples[w.start:w.end] for w in self.windows if not w.silent]

    def per_window(self, rows: np.ndarray, width: int) -> np.ndarray:
        """(num_windows, width): the audible windows' `rows` in order, NaN rows for the silent windows."""
        matrix = np.full((len(self.windows), width), np.nan)
        matrix[self.audible()] = rows
        return matrix

    def fields(self) -> dict[str, Any]:
        """The `WindowScores` fields this plan fills."""
        return {"windows": self.windows, "window_s": self.window_s, "hop_s": self.hop_s, "notes": self.notes}


def input_seconds(feature_extractor: Any) -> float | None:
    """The longest audio the model sees at once, or None when it takes any length (wav2vec2 / HuBERT)."""
    if getattr(feature_extractor, "nb_max_samples", None):  # CLAP
        return feature_extractor.nb_max_samples / feature_extractor.sampling_rate
    if getattr(feature_extractor, "max_length", None) and hasattr(feature_extractor, "num_mel_bins"):  # AST
        return feature_extractor.max_length / 100  # Kaldi fbank frames every 10 ms
    return None


def _batches(items: list[np.ndarray], batch_size: int, fixed_size: bool) -> list[list[int]]:
    """Item indices in batches of up to `batch_size`; unless `fixed_size`, only items of one length share a batch."""
    order = list(range(len(items))) if fixed_size else sorted(range(len(items)), key=lambda i: len(items[i]))
    batches: list[list[int]] = []
    for index in order:
        if batches and len(batches[-1]) < batch_size and (fixed_size or len(items[batches[-1][0]]) ==
                                                           len(items[index])):
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def batched_forward(items: list[np.ndarray], batch_size: int, fixed_size: bool,
                    run_batch: Callable[[list[np.ndarray]], np.ndarray], progress: Progress = no_progress,
                    desc: str = "Classifying windows") -> np.ndarray:
    """Run `run_batch` over `items` in batches and return the rows in the input order. Feature extractors that
    pad to a fixed size take any mix of lengths; for the others, items are grouped by length so nothing is padded
    (padding changes wav2vec2-style outputs)."""
    batches = _batches(items, batch_size, fixed_size)
    rows: list[np.ndarray | None] = [None] * len(items)
    for number, batch in enumerate(batches):
        progress(0.1 + 0.85 * number / len(batches), f"{desc}: batch {number + 1} of {len(batches)}")
        outputs = run_batch([items[i] for i in batch])
        for index, row in zip(batch, outputs, strict=True):
            rows[index] = row
    return np.stack(rows) if rows else np.zeros((0, 0))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (a distribution over the labels)."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def apply_activation(logits: np.ndarray, activation: str) -> np.ndarray:
    """Scores from logits: independent sigmoids (`activation="sigmoid"`) or a softmax over the labels."""
    logits = logits.astype(np.float64)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-logits))
    return softmax(logits)


def top_labels(scores: np.ndarray, labels: list[str], k: int) -> list[tuple[str, float]]:
    """The `k` best (label, score) pairs, best first (ties in label order); k is clamped to [1, len(labels)]."""
    k = max(1, min(int(k), len(labels)))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(labels[i], float(scores[i])) for i in order]


def windows_phrase(windows: list[Window], window_s: float, hop_s: float) -> str:
    """E.g. "5 windows of 2 s every 1 s (1 silent)"."""
    silent = sum(w.silent for w in windows)
    text = f"{len(windows)} window{'s' * (len(windows) != 1)} of {window_s:g} s every {hop_s:g} s"
    return text + (f" ({silent} silent)" if silent else "")


def silent_clip_fields(clip: AudioClip, labels: list[str], window_s: float, hop_s: float) -> dict[str, Any]:
    """The `WindowScores` fields of a silent clip: the windows (`window_s`, `hop_s` in seconds), every one without
    scores (NaN), and no device or time spent, since the model never ran."""
    plan = WindowPlan.over(clip.samples, clip.sample_rate, window_s, hop_s)
    return {"labels": labels, "clip_scores": None, "clip_method": NOT_RUN, **plan.fields(),
            "window_scores": np.full((len(plan.windows), len(labels)), np.nan), "device": "—", "dtype": "—",
            "audio_s": clip.duration_s, "compute_s": 0.0, "load_s": 0.0}


@dataclass(kw_only=True)
class WindowScores(RealTimeFactor):
    """What every windowed scoring run returns: scores over `labels` for the whole clip and per window, the windows
    actually used, where the model ran and how long it took (all times in seconds)."""

    model_id: str
    labels: list[str]
    clip_scores: np.ndarray | None  # (num_labels,), None when the clip is silent
    clip_method: str  # how the clip scores were obtained
    windows: list[Window]
    window_scores: np.ndarray  # (num_windows, num_labels), NaN rows for silent windows
    window_s: float  # after clamping to the model's input length
    hop_s: float
    device: str
    dtype: str
    audio_s: float
    compute_s: float
    load_s: float
    notes: list[str] = field(default_factory=list)
    family: str = ""  # registry family: "ast", "wav2vec2-cls", "clap"
    card: str | None = None  # architecture card with the loaded model's parameter count; None when not loaded

    @property
    def silent(self) -> bool:
        return self.clip_scores is None

    def top_k(self, k: int) -> list[tuple[str, float]]:
        """The clip's `k` best (label, score) pairs; none for a silent clip."""
        return [] if self.clip_scores is None else top_labels(self.clip_scores, self.labels, k)

    def label_value(self, k: int | None = None) -> dict[str, float] | str:
        """What a `gr.Label` shows: label → score (the top `k`, or every label in order), or the no-events sentence
        for a silent clip."""
        if self.clip_scores is None:
            return NO_EVENTS
        return dict(self.top_k(k) if k is not None else zip(self.labels, self.clip_scores.tolist(), strict=True))

    def card_markdown(self) -> str:
        """The run's architecture card; a silent clip never loaded the model, so its card says so instead of a
        parameter count."""
        if self.card:
            return self.card
        if self.family not in ARCHITECTURES:
            return architecture_card(self.family, None, self.model_id)
        title, body = ARCHITECTURES[self.family]
        return (f"**{title}** — `{self.model_id}`  \n{body}  \n*Size:* not loaded — the clip is silent, so the model "
                "was not run.")

    def run_json(self) -> dict[str, Any]:
        """Where and how the run went, as the JSON downloads write it (times rounded, seconds)."""
        return {"device": self.device, "dtype": self.dtype, "audio_s": round(self.audio_s, 3),
                "compute_s": round(self.compute_s, 4), "load_s": round(self.load_s, 3),
                "real_time_factor": round(self.real_time_factor, 4), "window_s": self.window_s, "hop_s": self.hop_s,
                "silence_threshold_dbfs": SILENCE_DBFS, "notes": self.notes}


def window_json(window: Window) -> dict[str, Any]:
    """A window's span (seconds, rounded to ms) and whether it was silent, as the JSON downloads write it."""
    return {"start_s": round(window.start_s, 3), "end_s": round(window.end_s, 3), "silent": window.silent}
