"""Zero-shot audio classification with CLAP: your labels, a prompt template, scores over the clip and over time.

preprocess (parse and validate the labels, fill the template, resample to the feature extractor's 48 kHz, sliding
windows, silence gate) → forward (text embeddings, cached; audio embeddings of every window in one batched pass)
→ postprocess (cosine similarity × the model's `logit_scale_a`, softmax over the labels). No Gradio here.

- Labels and the template are plain text: the template is filled with `str.replace("{}", label)` — never
  `str.format`, which would interpret braces in what the user typed.
- Text embeddings are cached per (model, device, dtype, template, labels) in `TEXT_EMBEDDINGS` (LRU, with a
  hit/miss counter), so asking about the same labels again only runs the audio tower.
- Clip-level scores: a clip up to the model's input length (10 s) is one more item of the batched pass, or the
  single window when one covers it (CLAP pads it by repeating it, as the pipeline does); a longer clip uses the
  mean of its windows' audio embeddings (re-normalised), rather than CLAP's random 10 s crop, so the answer is
  deterministic.
- `is_longer` (the fused model's switch for its 4-view fusion input) is set from the real lengths — the feature
  extractor otherwise marks a random item "longer" when none is — so results do not change from call to call.
- Silence (RMS below -60 dBFS, `shared.audio.intake.is_silent`): "no sound events", the model is not run.
"""

from __future__ import annotations

import csv
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, is_silent, resample
from shared.classify.run import (
    BATCH_SIZE,
    NO_EVENTS,
    SILENCE_DBFS,
    Progress,
    Window,
    batched_forward,
    check_window,
    effective_window,
    input_seconds,
    make_windows,
    no_progress,
    timeline_image,
    windows_phrase,
)
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import ZERO_SHOT, get_spec
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line

SAMPLE_RATE = 48_000  # CLAP's feature extractors; other rates are resampled to the model's own
DEFAULT_TEMPLATE = "This is a sound of {}."
DEFAULT_LABELS = "dog barking, people talking, music, birds singing, car engine, rain, silence"
MAX_LABELS = 50
MAX_LABEL_CHARS = 100
MAX_TEMPLATE_CHARS = 200
MAX_INPUT_CHARS = 10_000
_SEPARATORS = re.compile(r"[,\n\r]+")


# ---- labels and template ---------------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """Control and formatting characters become spaces; runs of whitespace one space."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return " ".join(text.split())


def parse_labels(text: str | list[str] | None) -> list[str]:
    """Candidate labels from what the user typed: comma or newline separated, trimmed, blanks dropped, duplicates
    (ignoring case) removed, at least 2 and at most `MAX_LABELS`, each at most `MAX_LABEL_CHARS` characters."""
    if isinstance(text, (list, tuple)):
        text = "\n".join(str(item) for item in text)
    if not isinstance(text, str) or not text.strip():
        raise UserError("Type the candidate labels, separated by commas or new lines (e.g. dog, siren, music).")
    if len(text) > MAX_INPUT_CHARS:
        raise UserError(f"The labels text is {len(text):,} characters long; the limit is {MAX_INPUT_CHARS:,}.")
    labels: dict[str, str] = {}
    for part in _SEPARATORS.split(text):
        label = _clean(part)
        if label:
            labels.setdefault(label.casefold(), label)
    if not labels:
        raise UserError("The labels are empty (only commas, spaces or line breaks): type at least two labels.")
    if len(labels) < 2:
        raise UserError("Give at least two different labels: the scores are shared out among the labels, so a "
                        "single label would always get 100%.")
    if len(labels) > MAX_LABELS:
        raise UserError(f"{len(labels)} labels is more than the limit of {MAX_LABELS}.")
    for number, label in enumerate(labels.values(), start=1):
        if len(label) > MAX_LABEL_CHARS:
            raise UserError(f"Labels can be at most {MAX_LABEL_CHARS} characters; label {number} has {len(label)}.")
    return list(labels.values())


def check_template(template: str | None) -> str:
    """The prompt template, plain text with "{}" where each label goes (blank → the default)."""
    template = _clean(template or "")
    if not template:
        return DEFAULT_TEMPLATE
    if len(template) > MAX_TEMPLATE_CHARS:
        raise UserError(f"The prompt template can be at most {MAX_TEMPLATE_CHARS} characters.")
    if "{}" not in template:
        raise UserError('The prompt template must contain {} where the label goes, e.g. "This is a sound of {}."')
    return template


def fill_template(template: str, labels: list[str]) -> list[str]:
    return [template.replace("{}", label) for label in labels]


# ---- text-embedding cache --------------------------------------------------------------------------------------
class TextEmbeddingCache:
    """Small thread-safe LRU of label text embeddings; `hits` / `misses` count lookups."""

    def __init__(self, max_entries: int = 128) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, bool]:
        """(embeddings, True when they came from the cache)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key], True
            self.misses += 1
        value = compute()  # outside the lock: two first requests may both compute, never block each other
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value, False

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


TEXT_EMBEDDINGS = TextEmbeddingCache()


# ---- result ----------------------------------------------------------------------------------------------------
@dataclass
class ZeroShotResult:
    model_id: str
    labels: list[str]
    template: str
    prompts: list[str]
    clip_scores: np.ndarray | None  # softmax over the labels; None when the clip is silent
    clip_similarity: np.ndarray | None  # cosine similarity of the clip to each prompt
    clip_method: str
    windows: list[Window]
    window_scores: np.ndarray  # (num_windows, num_labels), NaN rows for silent windows
    window_similarity: np.ndarray
    logit_scale: float
    text_from_cache: bool
    window_s: float
    hop_s: float
    device: str
    dtype: str
    audio_s: float
    compute_s: float
    load_s: float
    notes: list[str] = field(default_factory=list)
    family: str = "clap"
    card: str | None = None  # architecture card with the loaded model's parameter count; None when not loaded

    @property
    def silent(self) -> bool:
        return self.clip_scores is None

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.audio_s if self.audio_s else 0.0

    def label_value(self) -> dict[str, float] | str:
        if self.clip_scores is None:
            return NO_EVENTS
        return {label: float(score) for label, score in zip(self.labels, self.clip_scores, strict=True)}

    def to_json(self) -> dict[str, Any]:
        def per_label(values: np.ndarray | None) -> dict[str, float] | None:
            if values is None or np.isnan(values).any():
                return None
            return {label: round(float(v), 6) for label, v in zip(self.labels, values, strict=True)}

        return {
            "model": self.model_id, "template": self.template, "labels": self.labels, "prompts": self.prompts,
            "silent": self.silent, "clip_scores_from": self.clip_method, "scores": per_label(self.clip_scores),
            "cosine_similarity": per_label(self.clip_similarity), "logit_scale": round(self.logit_scale, 4),
            "text_embeddings_from_cache": self.text_from_cache, "device": self.device, "dtype": self.dtype,
            "audio_s": round(self.audio_s, 3), "compute_s": round(self.compute_s, 4),
            "load_s": round(self.load_s, 3), "real_time_factor": round(self.real_time_factor, 4),
            "window_s": self.window_s, "hop_s": self.hop_s, "silence_threshold_dbfs": SILENCE_DBFS,
            "notes": self.notes,
            "windows": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "silent": w.silent,
                         "scores": per_label(scores), "cosine_similarity": per_label(similarity)}
                        for w, scores, similarity in zip(self.windows, self.window_scores, self.window_similarity,
                                                         strict=True)],
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _text_embeddings(pipe: Any, prompts: list[str]) -> np.ndarray:
    import torch

    inputs = pipe.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt").to(pipe.model.device)
    with torch.inference_mode():
        features = pipe.model.get_text_features(**inputs).pooler_output  # projected and L2-normalised
    return features.float().cpu().numpy()


def _audio_batch(pipe: Any, sample_rate: int) -> Callable[[list[np.ndarray]], np.ndarray]:
    import torch

    model, extractor = pipe.model, pipe.feature_extractor

    def run(batch: list[np.ndarray]) -> np.ndarray:
        inputs = extractor(batch, sampling_rate=sample_rate, return_tensors="pt")
        inputs["is_longer"] = torch.tensor([[len(x) > extractor.nb_max_samples] for x in batch])
        inputs = inputs.to(device=model.device, dtype=model.dtype)
        with torch.inference_mode():
            return model.get_audio_features(**inputs).pooler_output.float().cpu().numpy()

    return run


def zero_shot(clip: AudioClip, model_id: str, labels: str | list[str], template: str = DEFAULT_TEMPLATE,
              window_s: float = 3.0, hop_s: float = 1.5, *, loader: ModelLoader | None = None,
              text_cache: TextEmbeddingCache | None = TEXT_EMBEDDINGS,
              progress: Progress = no_progress) -> ZeroShotResult:
    """Scores for every label over the clip and per window. `text_cache=None` recomputes the label embeddings."""
    spec = get_spec(model_id)
    if spec.task != ZERO_SHOT:
        raise UserError(f"{model_id} is not a zero-shot audio model.")
    labels = parse_labels(labels)
    template = check_template(template)
    prompts = fill_template(template, labels)
    check_window(window_s, hop_s)
    loader = loader or get_loader()
    if is_silent(clip.samples, SILENCE_DBFS):
        windows = make_windows(clip.samples, clip.sample_rate, window_s, hop_s)
        empty = np.full((len(windows), len(labels)), np.nan)
        return ZeroShotResult(model_id, labels, template, prompts, None, None, "silent clip: the model was not run",
                              windows, empty, empty, 0.0, False, window_s, hop_s, "—", "—", clip.duration_s, 0.0,
                              0.0, family=spec.family)
    progress(0.02, f"Loading {model_id}")
    load_start = time.perf_counter()
    entry = loader.entry(model_id)
    load_s = time.perf_counter() - load_start
    with loader.use(model_id) as pipe:
        start = time.perf_counter()
        progress(0.05, "Embedding the labels")
        key = (model_id, entry.placement.device, entry.placement.dtype, template, tuple(labels))
        if text_cache is None:
            text, cached = _text_embeddings(pipe, prompts), False
        else:
            text, cached = text_cache.get_or_compute(key, lambda: _text_embeddings(pipe, prompts))
        extractor = pipe.feature_extractor
        rate = extractor.sampling_rate
        samples = resample(clip.samples, clip.sample_rate, rate)
        input_s = input_seconds(extractor)
        window_s, hop_s, notes = effective_window(window_s, hop_s, input_s)
        windows = make_windows(samples, rate, window_s, hop_s)
        items = [samples[w.start:w.end] for w in windows if not w.silent]
        whole_clip = len(samples) <= extractor.nb_max_samples
        if whole_clip and len(windows) > 1:  # a single window already is the whole clip
            items.append(samples)
        audio = batched_forward(items, BATCH_SIZE, True, _audio_batch(pipe, rate), progress,
                                desc="Embedding the audio windows") if items else np.zeros((0, text.shape[1]))
        logit_scale = float(pipe.model.logit_scale_a.detach().exp().float().cpu())
        compute_s = time.perf_counter() - start
        card = architecture_card(spec.family, pipe.model, model_id)
    similarity = audio.astype(np.float64) @ text.astype(np.float64).T
    audible_index = [i for i, w in enumerate(windows) if not w.silent]
    window_similarity = np.full((len(windows), len(labels)), np.nan)
    window_similarity[audible_index] = similarity[: len(audible_index)]
    window_scores = np.full_like(window_similarity, np.nan)
    window_scores[audible_index] = softmax(logit_scale * similarity[: len(audible_index)])
    clip_similarity: np.ndarray | None
    if whole_clip:
        clip_similarity, method = similarity[-1], "the whole clip in one forward pass"
    elif audible_index:
        mean = _normalise(audio[: len(audible_index)].mean(axis=0, keepdims=True).astype(np.float64))
        clip_similarity = (mean @ text.astype(np.float64).T)[0]
        method = f"mean audio embedding of {len(audible_index)} windows"
    else:
        clip_similarity, method = None, "every window is silent"
    clip_scores = None if clip_similarity is None else softmax(logit_scale * clip_similarity)
    return ZeroShotResult(model_id, labels, template, prompts, clip_scores, clip_similarity, method, windows,
                          window_scores, window_similarity, logit_scale, cached, window_s, hop_s,
                          entry.placement.device, entry.placement.dtype, clip.duration_s, compute_s, load_s, notes,
                          spec.family, card)


# ---- views -----------------------------------------------------------------------------------------------------
def info_markdown(result: ZeroShotResult) -> str:
    lines = [timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s)]
    if result.silent:
        lines.append(f"No sound events: the clip is silent (RMS below {SILENCE_DBFS:g} dBFS), so no label is "
                     "scored.")
    else:
        source = "from the cache" if result.text_from_cache else "computed (cached for next time)"
        lines.append(f"Scores: softmax over your {len(result.labels)} labels of cosine similarity × "
                     f"{result.logit_scale:.1f} (the model's logit scale). Clip scores from {result.clip_method}; "
                     f"{windows_phrase(result.windows, result.window_s, result.hop_s)}. "
                     f"Label text embeddings: {source}.")
    lines += [f"Note: {note}." for note in result.notes]
    return "\n\n".join(lines)


def zero_shot_timeline_image(result: ZeroShotResult) -> np.ndarray:
    title = (f"Label × window scores — {result.window_s:g} s windows every {result.hop_s:g} s · {result.model_id}\n"
             "softmax over your labels of CLAP's scaled cosine similarity")
    rows = [] if result.silent else list(range(len(result.labels)))
    return timeline_image(result.window_scores, result.labels, result.windows, result.audio_s, rows, title,
                          colorbar_label="probability", vmax=None)


def timeline_rows(result: ZeroShotResult) -> list[list[Any]]:
    rows = []
    for window, scores in zip(result.windows, result.window_scores, strict=True):
        if window.silent or result.silent:
            text = "(silence)"
        else:
            best = int(np.argmax(scores))
            text = f"{result.labels[best]} {scores[best]:.2f}"
        rows.append([round(window.start_s, 2), round(window.end_s, 2), text])
    return rows


def write_outputs(result: ZeroShotResult) -> list[str]:
    """JSON of everything, and the label × window scores as CSV (one row per window, one column per label)."""
    json_path = write_json("zero_shot.json", result.to_json())
    csv_path = new_result_path("zero_shot_timeline.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_s", "end_s", "silent", *result.labels])
        for window, scores in zip(result.windows, result.window_scores, strict=True):
            cells = [] if window.silent or result.silent else [f"{score:.6f}" for score in scores]
            writer.writerow([f"{window.start_s:.3f}", f"{window.end_s:.3f}", int(window.silent), *cells])
    return [json_path, str(csv_path)]
