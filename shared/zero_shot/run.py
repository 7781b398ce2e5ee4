"""Zero-shot audio classification with CLAP: your labels, a prompt template, scores over the clip and over time.

preprocess (parse and validate the labels, fill the template, resample to the feature extractor's 48 kHz, sliding
windows, silence gate) → forward (text embeddings, cached; audio embeddings of every window in one batched pass;
`capture`) → postprocess (cosine similarity × the model's `logit_scale_a`, softmax over the labels). No Gradio here.

- Labels and the template are plain text: the template is filled with `str.replace("{}", label)` — never
  `str.format`, which would interpret braces in what the user typed.
- Text embeddings are cached per (model, device, dtype, template, labels) in `capture.TEXT_EMBEDDINGS` (LRU, with a
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

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, is_silent, resample
from shared.audio.windows import (
    BATCH_SIZE,
    SILENCE_DBFS,
    WindowPlan,
    WindowScores,
    batched_forward,
    check_window,
    input_seconds,
    silent_clip_fields,
    softmax,
    window_json,
)
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import ZERO_SHOT, require_task
from shared.progress import Progress, Stopwatch, no_progress
from shared.zero_shot.capture import (
    TEXT_EMBEDDINGS,
    TextEmbeddingCache,
    audio_batch,
    cached_text_embeddings,
    logit_scale,
)

SAMPLE_RATE = 48_000  # CLAP's feature extractors; other rates are resampled to the model's own
DEFAULT_TEMPLATE = "This is a sound of {}."
DEFAULT_LABELS = "dog barking, people talking, music, birds singing, car engine, rain, silence"
MAX_LABELS = 50
MAX_LABEL_CHARS = 100
MAX_TEMPLATE_CHARS = 200
MAX_INPUT_CHARS = 10_000
WHOLE_CLIP_MAX_S = 30.0  # a model that takes any length (PE-Audio) embeds clips up to this long whole (s)
PE_AUDIO_NOTE = ("PE-Audio scores are the model's own logits: its projected audio and text embeddings' dot product "
                 "times its logit scale (the 'similarity' values are those dot products, not cosines), softmaxed over "
                 "your labels")
_SEPARATORS = re.compile(r"[,\n\r]+")


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
    """One prompt per label: the template with every "{}" replaced by the label (plain text, never `str.format`)."""
    return [template.replace("{}", label) for label in labels]


@dataclass(kw_only=True)
class ZeroShotResult(WindowScores):
    """Scores of your labels over the clip and per window (softmax over the labels; see `WindowScores` for the shared
    fields), with the cosine similarities and logit scale they came from."""

    template: str
    prompts: list[str]
    clip_similarity: np.ndarray | None  # cosine similarity of the clip to each prompt; None when silent
    window_similarity: np.ndarray  # (num_windows, num_labels), NaN rows for silent windows
    logit_scale: float
    text_from_cache: bool

    @property
    def similarity_name(self) -> str:
        """What `clip_similarity` / `window_similarity` hold: CLAP's cosine similarity, or PE-Audio's own product."""
        return "audio · text product" if self.family == "pe-audio" else "cosine similarity"

    def to_json(self) -> dict[str, Any]:
        """Everything, per label (scores and cosine similarities), as the JSON download writes it."""
        def per_label(values: np.ndarray | None) -> dict[str, float] | None:
            if values is None or np.isnan(values).any():
                return None
            return {label: round(float(v), 6) for label, v in zip(self.labels, values, strict=True)}

        return {
            "model": self.model_id, "template": self.template, "labels": self.labels, "prompts": self.prompts,
            "silent": self.silent, "clip_scores_from": self.clip_method, "scores": per_label(self.clip_scores),
            "cosine_similarity": per_label(self.clip_similarity), "logit_scale": round(self.logit_scale, 4),
            "text_embeddings_from_cache": self.text_from_cache, **self.run_json(),
            "windows": [{**window_json(w), "scores": per_label(scores), "cosine_similarity": per_label(similarity)}
                        for w, scores, similarity in zip(self.windows, self.window_scores, self.window_similarity,
                                                         strict=True)],
        }


@dataclass
class _Embedded:
    """The audio side of one run: the windows it used and the audio embedding of every item sent (the audible
    windows, then the whole clip when `whole_clip` and more than one window)."""

    plan: WindowPlan
    audio: np.ndarray
    whole_clip: bool

    def similarities(self, text: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, str]:
        """(windows × labels cosine similarity, NaN rows for silent windows; the clip's, None when every window is
        silent; how the clip's was obtained)."""
        text = text.astype(np.float64)
        similarity = self.audio.astype(np.float64) @ text.T
        audible = len(self.plan.audible())
        window_similarity = self.plan.per_window(similarity[:audible], len(text))
        if self.whole_clip:
            return window_similarity, similarity[-1], "the whole clip in one forward pass"
        if not audible:
            return window_similarity, None, "every window is silent"
        mean = _normalise(self.audio[:audible].mean(axis=0, keepdims=True).astype(np.float64))
        return window_similarity, (mean @ text.T)[0], f"mean audio embedding of {audible} windows"


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _embed_audio(pipe: Any, clip: AudioClip, window_s: float, hop_s: float, dimensions: int,
                 progress: Progress) -> _Embedded:
    extractor = pipe.feature_extractor
    rate = extractor.sampling_rate
    samples = resample(clip.samples, clip.sample_rate, rate)
    plan = WindowPlan.over(samples, rate, window_s, hop_s, input_seconds(extractor))
    items = plan.audible_samples(samples)
    whole_clip = len(samples) <= (input_seconds(extractor) or WHOLE_CLIP_MAX_S) * rate
    if whole_clip and len(plan.windows) > 1:  # a single window already is the whole clip
        items.append(samples)
    audio = batched_forward(items, BATCH_SIZE, True, audio_batch(pipe, rate), progress,
                            desc="Embedding the audio windows") if items else np.zeros((0, dimensions))
    return _Embedded(plan, audio, whole_clip)


def zero_shot(clip: AudioClip, model_id: str, labels: str | list[str], template: str = DEFAULT_TEMPLATE,
              window_s: float = 3.0, hop_s: float = 1.5, *, loader: ModelLoader | None = None,
              text_cache: TextEmbeddingCache | None = TEXT_EMBEDDINGS,
              progress: Progress = no_progress) -> ZeroShotResult:
    """Scores for every label over the clip and per window. `labels`: text separated by commas or new lines (or a
    list); `template`: "{}" marks where each label goes; `window_s` and `hop_s` in seconds (the window is clamped to
    the model's 10 s input); the clip is resampled to the model's rate (Hz). `text_cache=None` recomputes the label
    embeddings. A silent clip (RMS below `SILENCE_DBFS` dBFS) gets no scores and never loads the model."""
    spec = require_task(model_id, ZERO_SHOT)
    labels = parse_labels(labels)
    template = check_template(template)
    prompts = fill_template(template, labels)
    check_window(window_s, hop_s)
    loader = loader or get_loader()
    if is_silent(clip.samples, SILENCE_DBFS):
        fields = silent_clip_fields(clip, labels, window_s, hop_s)
        return ZeroShotResult(model_id=model_id, template=template, prompts=prompts, clip_similarity=None,
                              window_similarity=fields["window_scores"], logit_scale=0.0, text_from_cache=False,
                              family=spec.family, **fields)
    progress(0.02, f"Loading {model_id}")
    with Stopwatch() as load:
        entry = loader.entry(model_id)
    with loader.use(model_id) as pipe:
        with Stopwatch() as compute:
            progress(0.05, "Embedding the labels")
            key = (model_id, entry.placement.device, entry.placement.dtype, template, tuple(labels))
            text, cached = cached_text_embeddings(pipe, prompts, key, text_cache)
            embedded = _embed_audio(pipe, clip, window_s, hop_s, text.shape[1], progress)
            scale = logit_scale(pipe)
        card = architecture_card(spec.family, pipe.model, model_id)
    window_similarity, clip_similarity, method = embedded.similarities(text)
    # row by row, so the silent windows' NaN rows stay NaN
    result = ZeroShotResult(
        model_id=model_id, labels=labels, template=template, prompts=prompts,
        clip_scores=None if clip_similarity is None else softmax(scale * clip_similarity),
        clip_similarity=clip_similarity, clip_method=method, window_scores=softmax(scale * window_similarity),
        window_similarity=window_similarity, logit_scale=scale, text_from_cache=cached,
        **embedded.plan.fields(), device=entry.placement.device, dtype=entry.placement.dtype,
        audio_s=clip.duration_s, compute_s=compute.seconds, load_s=load.seconds, family=spec.family, card=card)
    if spec.family == "pe-audio":
        result.notes.append(PE_AUDIO_NOTE)
    return result
