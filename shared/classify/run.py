"""Audio classification: preprocess (resample, sliding windows, silence gate) → forward (one batched pass over all
windows) → postprocess (sigmoid or softmax as the model defines, clip-level top-k, timeline). No Gradio here.

Choices worth knowing:

- Scores. `config.problem_type == "multi_label_classification"` → independent sigmoids (AudioSet: several sounds
  at once, scores need not sum to 1); `"single_label_classification"` → softmax (a distribution over the labels).
  When a checkpoint leaves `problem_type` unset, a 527-label head is the AudioSet ontology, which is multi-label, so
  it gets sigmoids; any other head gets softmax (what the transformers pipeline does).
- Windows. Starts at 0, hop, 2·hop, … until a window reaches the end of the clip, so the windows cover the whole
  clip with exactly the stated hop; the last one may be shorter. A window longer than what the model sees (AST
  Speech Commands: 1.28 s, AST AudioSet: 10.24 s) would be silently truncated by the feature extractor, so it is
  clamped to the model's input length (and the hop to the window) and the result says so.
- One run. Every window goes through the feature extractor and the model in batches (`BATCH_SIZE`), not one
  pipeline call per window. The clip-level scores come from the same run: when the whole clip fits the model's
  input (≤ its input length; ≤ `WHOLE_CLIP_MAX_S` for wav2vec2-style models that take any length) it is one more
  item of the batch (or the single window, when one window already covers it), exactly what the pipeline would
  give; when it is longer, the window scores are aggregated — max over windows for sigmoid models ("this sound
  occurs somewhere"), mean for softmax models (still a distribution).
- Silence. A clip, or a window, whose RMS stays below `SILENCE_DBFS` (-60 dBFS, `shared.audio.intake.is_silent`) is not
  sent to the model: a silent clip answers "no sound events" instead of inventing labels, silent windows show as
  gaps in the timeline.
- Inside the model. While the batches run, `InputKeeper` keeps a copy of the input the model got for its most
  confident window (AST's filterbank, or the normalised waveform); `shared.classify.inside` draws it, so the
  pictures cost no second forward pass.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, is_silent, resample
from shared.audio.plots import CMAP, new_figure, to_rgb
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import CLASSIFY, get_spec
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line

SAMPLE_RATE = 16_000  # every classifier in the registry takes 16 kHz; others are resampled to their own rate
SILENCE_DBFS = -60.0
BATCH_SIZE = 8
MAX_WINDOWS = 600
MIN_WINDOW_S = 0.25
MAX_WINDOW_S = 30.0
WHOLE_CLIP_MAX_S = 30.0  # models without a fixed input length still get windows aggregated beyond this
MIN_INPUT_S = 0.1  # shorter pieces (a clip's last sliver) are zero-padded: wav2vec2's conv stack needs 25 ms
TIMELINE_ROWS = 12
NO_EVENTS = "No sound events (the clip is silent)"

Progress = Callable[[float, str], None]


def no_progress(fraction: float, desc: str) -> None:
    pass


# ---- windows ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    start: int  # samples
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
    """Clamp the window to the model's input length (and the hop to the window); notes say what changed."""
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
    return [Window(start, end, sample_rate, is_silent(samples[start:end], silence_dbfs))
            for start, end in sliding_windows(len(samples), sample_rate, window_s, hop_s)]


# ---- model facts -----------------------------------------------------------------------------------------------
def activation_for(config: Any) -> str:
    """'sigmoid' (multi-label) or 'softmax' (single-label), as the model's config defines (see module doc)."""
    problem = getattr(config, "problem_type", None)
    if problem == "multi_label_classification":
        return "sigmoid"
    if problem == "single_label_classification":
        return "softmax"
    if problem == "regression":
        raise UserError("This model predicts numbers (regression), not labels.")
    return "sigmoid" if config.num_labels == 527 else "softmax"


def input_seconds(feature_extractor: Any) -> float | None:
    """The longest audio the model sees at once, or None when it takes any length (wav2vec2 / HuBERT)."""
    if getattr(feature_extractor, "nb_max_samples", None):  # CLAP
        return feature_extractor.nb_max_samples / feature_extractor.sampling_rate
    if getattr(feature_extractor, "max_length", None) and hasattr(feature_extractor, "num_mel_bins"):  # AST
        return feature_extractor.max_length / 100  # Kaldi fbank frames every 10 ms
    return None


def apply_activation(logits: np.ndarray, activation: str) -> np.ndarray:
    logits = logits.astype(np.float64)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


# ---- forward ---------------------------------------------------------------------------------------------------
def _min_length(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    needed = int(MIN_INPUT_S * sample_rate)
    return samples if len(samples) >= needed else np.pad(samples, (0, needed - len(samples)))


def batched_forward(items: list[np.ndarray], batch_size: int, fixed_size: bool,
                    run_batch: Callable[[list[np.ndarray]], np.ndarray], progress: Progress = no_progress,
                    desc: str = "Classifying windows") -> np.ndarray:
    """Run `run_batch` over `items` in batches and return the rows in the input order. Feature extractors that
    pad to a fixed size take any mix of lengths; for the others, items are grouped by length so nothing is padded
    (padding changes wav2vec2-style outputs)."""
    order = list(range(len(items))) if fixed_size else sorted(range(len(items)), key=lambda i: len(items[i]))
    batches: list[list[int]] = []
    for index in order:
        if batches and len(batches[-1]) < batch_size and (fixed_size or len(items[batches[-1][0]]) ==
                                                           len(items[index])):
            batches[-1].append(index)
        else:
            batches.append([index])
    rows: list[np.ndarray | None] = [None] * len(items)
    for number, batch in enumerate(batches):
        progress(0.1 + 0.85 * number / len(batches), f"{desc}: batch {number + 1} of {len(batches)}")
        outputs = run_batch([items[i] for i in batch])
        for index, row in zip(batch, outputs, strict=True):
            rows[index] = row
    return np.stack(rows) if rows else np.zeros((0, 0))


def _classifier_batch(pipe: Any, sample_rate: int,
                      keeper: InputKeeper | None = None) -> Callable[[list[np.ndarray]], np.ndarray]:
    import torch

    model = pipe.model

    def run(batch: list[np.ndarray]) -> np.ndarray:
        inputs = pipe.feature_extractor(batch, sampling_rate=sample_rate, return_tensors="pt")
        inputs = inputs.to(device=model.device, dtype=model.dtype)
        with torch.inference_mode():
            logits = model(**inputs).logits.float().cpu().numpy()
        if keeper is not None:
            keeper.offer(batch, inputs["input_values"], logits)
        return logits

    return run


# ---- what the model got ("Inside the model", shared.classify.inside) ---------------------------------------------
@dataclass(frozen=True)
class PatchGrid:
    """AST's patch embedding: `patch`×`patch` squares (mel bands × frames), a new one every `frequency_stride`
    bands and every `time_stride` frames, so neighbours overlap."""

    patch: int
    frequency_stride: int
    time_stride: int

    def counts(self, bands: int, frames: int) -> tuple[int, int]:
        """(patches down the frequency axis, patches along time), as ASTEmbeddings.get_shape computes them."""
        return ((bands - self.patch) // self.frequency_stride + 1, (frames - self.patch) // self.time_stride + 1)


@dataclass
class ModelInput:
    """The input the model got for its most confident window, kept from the batch the forward pass used (no second
    pass): AST's normalised filterbank (frames × mel bands), or a wav2vec2-style model's normalised waveform."""

    values: np.ndarray
    window_index: int
    n_samples: int  # the window's own length, before the feature extractor padded it
    sample_rate: int
    label: str  # the window's top label and its score
    score: float
    patch_grid: PatchGrid | None = None  # AST only
    frames: int | None = None  # wav2vec2-style: the 20 ms frame vectors the conv stack made of the window


class InputKeeper:
    """Offered every batch's inputs and logits, keeps a copy of the input of the most confident window (highest
    top score; the first on ties). Items are recognised by identity: the whole-clip item is not a window."""

    def __init__(self, windows: list[np.ndarray], activation: str) -> None:
        self._index = {id(item): index for index, item in enumerate(windows)}
        self._activation = activation
        self.item = -1
        self.label = -1
        self.score = -np.inf
        self.values: np.ndarray | None = None
        self.n_samples = 0

    def offer(self, batch: list[np.ndarray], values: Any, logits: np.ndarray) -> None:
        scores = apply_activation(logits, self._activation)
        for row, item in enumerate(batch):
            index = self._index.get(id(item))
            if index is not None and scores[row].max() > self.score:
                self.item, self.label, self.score = index, int(scores[row].argmax()), float(scores[row].max())
                self.values = values[row].float().cpu().numpy()  # a copy, so the batch can be freed
                self.n_samples = len(item)


def _conv_frames(config: Any, n_samples: int) -> int | None:
    """Frames a wav2vec2 / HuBERT conv feature encoder makes of `n_samples` (one per 20 ms at 16 kHz)."""
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if not kernels or not strides:
        return None
    frames = n_samples
    for kernel, stride in zip(kernels, strides, strict=True):
        frames = (frames - kernel) // stride + 1
    return max(frames, 0)


def _model_input(keeper: InputKeeper, config: Any, labels: list[str], audible: list[int],
                 sample_rate: int) -> ModelInput | None:
    if keeper.values is None:
        return None
    grid = None
    if hasattr(config, "frequency_stride") and hasattr(config, "patch_size"):
        grid = PatchGrid(config.patch_size, config.frequency_stride, config.time_stride)
    return ModelInput(keeper.values, audible[keeper.item], keeper.n_samples, sample_rate, labels[keeper.label],
                      keeper.score, grid, None if grid else _conv_frames(config, keeper.n_samples))


# ---- result ----------------------------------------------------------------------------------------------------
@dataclass
class ClassifyResult:
    model_id: str
    labels: list[str]
    activation: str  # "sigmoid" or "softmax"
    clip_scores: np.ndarray | None  # (num_labels,), None when the clip is silent
    clip_method: str  # how the clip scores were obtained (see module doc)
    windows: list[Window]
    window_scores: np.ndarray  # (num_windows, num_labels), NaN rows for silent windows
    window_s: float
    hop_s: float
    device: str
    dtype: str
    audio_s: float
    compute_s: float
    load_s: float
    notes: list[str] = field(default_factory=list)
    family: str = ""  # registry family: "ast", "wav2vec2-cls"
    card: str | None = None  # architecture card with the loaded model's parameter count; None when not loaded
    model_input: ModelInput | None = None  # the most confident window's input, kept from the forward pass

    @property
    def silent(self) -> bool:
        return self.clip_scores is None

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.audio_s if self.audio_s else 0.0

    def top_k(self, k: int) -> list[tuple[str, float]]:
        if self.clip_scores is None:
            return []
        return top_labels(self.clip_scores, self.labels, k)

    def label_value(self, k: int) -> dict[str, float] | str:
        """What a `gr.Label` shows: label → score, or the no-events sentence for a silent clip."""
        return NO_EVENTS if self.silent else dict(self.top_k(k))

    def to_json(self, k: int) -> dict[str, Any]:
        return {
            "model": self.model_id, "activation": self.activation, "clip_scores_from": self.clip_method,
            "silent": self.silent, "device": self.device, "dtype": self.dtype, "audio_s": round(self.audio_s, 3),
            "compute_s": round(self.compute_s, 4), "load_s": round(self.load_s, 3),
            "real_time_factor": round(self.real_time_factor, 4), "window_s": self.window_s, "hop_s": self.hop_s,
            "silence_threshold_dbfs": SILENCE_DBFS, "notes": self.notes,
            "top_k": [{"label": label, "score": round(score, 6)} for label, score in self.top_k(k)],
            "windows": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "silent": w.silent,
                         "top_k": [] if w.silent else [{"label": label, "score": round(score, 6)} for label, score
                                                       in top_labels(scores, self.labels, k)]}
                        for w, scores in zip(self.windows, self.window_scores, strict=True)],
        }


def top_labels(scores: np.ndarray, labels: list[str], k: int) -> list[tuple[str, float]]:
    k = max(1, min(int(k), len(labels)))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(labels[i], float(scores[i])) for i in order]


def classify(clip: AudioClip, model_id: str, window_s: float = 2.0, hop_s: float = 1.0, *,
             loader: ModelLoader | None = None, progress: Progress = no_progress) -> ClassifyResult:
    """Clip-level scores and the sound events over time, from one batched pass over the windows."""
    spec = get_spec(model_id)
    if spec.task != CLASSIFY:
        raise UserError(f"{model_id} is not an audio-classification model.")
    check_window(window_s, hop_s)
    loader = loader or get_loader()
    if is_silent(clip.samples, SILENCE_DBFS):
        windows = make_windows(clip.samples, clip.sample_rate, window_s, hop_s)
        return ClassifyResult(model_id, [], "", None, "silent clip: the model was not run", windows,
                              np.zeros((len(windows), 0)), window_s, hop_s, "—", "—", clip.duration_s, 0.0, 0.0,
                              family=spec.family)
    progress(0.02, f"Loading {model_id}")
    load_start = time.perf_counter()
    entry = loader.entry(model_id)
    load_s = time.perf_counter() - load_start
    with loader.use(model_id) as pipe:
        start = time.perf_counter()
        rate = pipe.feature_extractor.sampling_rate
        samples = resample(clip.samples, clip.sample_rate, rate)
        config = pipe.model.config
        labels = [config.id2label[i] for i in range(config.num_labels)]
        activation = activation_for(config)
        input_s = input_seconds(pipe.feature_extractor)
        window_s, hop_s, notes = effective_window(window_s, hop_s, input_s)
        windows = make_windows(samples, rate, window_s, hop_s)
        items = [_min_length(samples[w.start:w.end], rate) for w in windows if not w.silent]
        keeper = InputKeeper(list(items), activation)
        duration = len(samples) / rate
        whole_clip = duration <= (input_s or WHOLE_CLIP_MAX_S) + 1e-6
        extra = whole_clip and len(windows) > 1  # a single window already is the whole clip
        if extra:
            items.append(_min_length(samples, rate))
        logits = batched_forward(items, BATCH_SIZE, input_s is not None, _classifier_batch(pipe, rate, keeper),
                                 progress)
        compute_s = time.perf_counter() - start
        card = architecture_card(spec.family, pipe.model, model_id)
    audible_index = [i for i, w in enumerate(windows) if not w.silent]
    model_input = _model_input(keeper, config, labels, audible_index, rate)
    scores = apply_activation(logits, activation) if items else np.zeros((0, len(labels)))
    window_scores = np.full((len(windows), len(labels)), np.nan)
    window_scores[audible_index] = scores[: len(scores) - extra]
    audible = window_scores[~np.isnan(window_scores[:, 0])]
    clip_scores: np.ndarray | None
    if whole_clip:
        clip_scores, method = scores[-1], "the whole clip in one forward pass"
    elif len(audible) == 0:
        clip_scores, method = None, "every window is silent"
    elif activation == "sigmoid":
        clip_scores, method = audible.max(axis=0), f"max over {len(audible)} windows (multi-label)"
    else:
        clip_scores, method = audible.mean(axis=0), f"mean over {len(audible)} windows"
    return ClassifyResult(model_id, labels, activation, clip_scores, method, windows, window_scores, window_s,
                          hop_s, entry.placement.device, entry.placement.dtype, clip.duration_s, compute_s, load_s,
                          notes, spec.family, card, model_input)


def compare_classifiers(clip: AudioClip, model_ids: list[str], window_s: float = 2.0, hop_s: float = 1.0, *,
                        loader: ModelLoader | None = None,
                        progress: Progress = no_progress) -> list[ClassifyResult]:
    model_ids = list(dict.fromkeys(model_ids))
    if not 1 <= len(model_ids) <= 3:
        raise UserError("Choose one to three classifiers to compare.")
    results = []
    for index, model_id in enumerate(model_ids):
        def step(fraction: float, desc: str, index: int = index, model_id: str = model_id) -> None:
            progress((index + fraction) / len(model_ids), f"{model_id}: {desc}")

        results.append(classify(clip, model_id, window_s, hop_s, loader=loader, progress=step))
    return results


# ---- views -----------------------------------------------------------------------------------------------------
def windows_phrase(windows: list[Window], window_s: float, hop_s: float) -> str:
    silent = sum(w.silent for w in windows)
    text = f"{len(windows)} window{'s' * (len(windows) != 1)} of {window_s:g} s every {hop_s:g} s"
    return text + (f" ({silent} silent)" if silent else "")


def info_markdown(result: ClassifyResult) -> str:
    lines = [timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s)]
    if result.silent:
        lines.append(f"No sound events: the clip is silent (RMS below {SILENCE_DBFS:g} dBFS), so no labels are "
                     "given and the model was not run." if result.clip_method.startswith("silent") else
                     f"No sound events: every window is silent (RMS below {SILENCE_DBFS:g} dBFS).")
    else:
        meaning = "independent per label (multi-label)" if result.activation == "sigmoid" else "they sum to 1"
        lines.append(f"Scores: **{result.activation}** — {meaning}. Clip scores from {result.clip_method}; "
                     f"{windows_phrase(result.windows, result.window_s, result.hop_s)}.")
    lines += [f"Note: {note}." for note in result.notes]
    return "\n\n".join(lines)


COMPARE_HEADERS = ["model", "top labels", "compute (s)", "RTF", "load (s)", "device", "scores", "clip scores from"]


def compare_rows(results: list[ClassifyResult], k: int) -> list[list[Any]]:
    rows = []
    for result in results:
        top = result.top_k(k)
        rows.append([result.model_id, " · ".join(f"{label} {score:.2f}" for label, score in top) or NO_EVENTS,
                     round(result.compute_s, 3), round(result.real_time_factor, 4), round(result.load_s, 2),
                     f"{result.device} / {result.dtype}", result.activation or "—", result.clip_method])
    return rows


def timeline_rows(result: ClassifyResult, k: int = 3) -> list[list[Any]]:
    rows = []
    for window, scores in zip(result.windows, result.window_scores, strict=True):
        text = "(silence)" if window.silent else " · ".join(
            f"{label} {score:.2f}" for label, score in top_labels(scores, result.labels, k))
        rows.append([round(window.start_s, 2), round(window.end_s, 2), text])
    return rows


def timeline_labels(window_scores: np.ndarray, labels: list[str], max_rows: int = TIMELINE_ROWS) -> list[int]:
    """The label rows worth drawing: every window's winner, then the strongest others; ordered by when each
    peaks, so a dog, then speech, then music reads top to bottom in that order."""
    audible = window_scores[~np.isnan(window_scores).any(axis=1)]
    if len(audible) == 0 or not labels:
        return []
    chosen = list(dict.fromkeys(int(i) for i in audible.argmax(axis=1)))[:max_rows]
    for index in np.argsort(-audible.max(axis=0), kind="stable"):
        if len(chosen) >= min(max_rows, len(labels)):
            break
        if int(index) not in chosen:
            chosen.append(int(index))
    peak_window = audible.argmax(axis=0)
    return sorted(chosen, key=lambda i: (peak_window[i], -audible[:, i].max()))


def timeline_image(window_scores: np.ndarray, labels: list[str], windows: list[Window], duration_s: float,
                   rows: list[int], title: str, colorbar_label: str = "score",
                   vmax: float | None = 1.0) -> np.ndarray:
    """Label × time heatmap: one column per window, centred on it and one hop wide; silent windows grey.
    `vmax=None` scales the colours to the largest score drawn (softmax over many labels stays far below 1)."""
    import matplotlib

    fig = new_figure((10, 1.4 + 0.27 * max(len(rows), 1)))
    ax = fig.add_subplot()
    if not rows or not windows:
        ax.text(0.5, 0.5, NO_EVENTS, ha="center", va="center", transform=ax.transAxes)
        ax.set(xlim=(0, max(duration_s, 1e-3)), yticks=[], xlabel="time (s)", title=title)
        return to_rgb(fig)
    centres = np.array([(w.start_s + w.end_s) / 2 for w in windows])
    edges = np.concatenate([[0.0], (centres[:-1] + centres[1:]) / 2, [duration_s]])
    values = np.ma.masked_invalid(window_scores[:, rows].T)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad="#d9d9d9")
    if vmax is None:
        vmax = max(float(values.max()) if values.count() else 1.0, 1e-6)
    mesh = ax.pcolormesh(edges, np.arange(len(rows) + 1), values, cmap=cmap, vmin=0.0, vmax=vmax, shading="flat")
    ax.set_yticks(np.arange(len(rows)) + 0.5, [short_label(labels[i]) for i in rows])
    ax.invert_yaxis()
    ax.set(xlim=(0, duration_s), xlabel="time (s)", title=title)
    fig.colorbar(mesh, ax=ax, pad=0.01, label=colorbar_label)
    return to_rgb(fig)


def short_label(label: str, limit: int = 32) -> str:
    """Shortened for a tick label, and "$" escaped: matplotlib would read "$...$" in a user's label as math."""
    label = label if len(label) <= limit else label[: limit - 1] + "…"
    return label.replace("$", r"\$")


def classify_timeline_image(result: ClassifyResult) -> np.ndarray:
    kind = "sigmoid: independent" if result.activation == "sigmoid" else "softmax: sums to 1 over all labels"
    title = (f"Sound events over time — {result.window_s:g} s windows every {result.hop_s:g} s · {result.model_id}\n"
             f"{kind}")
    rows = timeline_labels(result.window_scores, result.labels)
    return timeline_image(result.window_scores, result.labels, result.windows, result.audio_s, rows, title,
                          vmax=1.0 if result.activation == "sigmoid" else None)


def write_outputs(result: ClassifyResult, k: int) -> list[str]:
    """JSON of everything, and the timeline as CSV (one row per window, its top-k labels and scores)."""
    json_path = write_json("classification.json", result.to_json(k))
    csv_path = new_result_path("timeline.csv")
    k = max(1, min(int(k), len(result.labels) or 1))
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_s", "end_s", "silent", *(f"{part}_{i}" for i in range(1, k + 1)
                                                          for part in ("label", "score"))])
        for window, scores in zip(result.windows, result.window_scores, strict=True):
            cells: list[Any] = []
            if not window.silent:
                for label, score in top_labels(scores, result.labels, k):
                    cells += [label, f"{score:.6f}"]
            writer.writerow([f"{window.start_s:.3f}", f"{window.end_s:.3f}", int(window.silent), *cells])
    return [json_path, str(csv_path)]
