"""Audio classification: preprocess (resample, sliding windows, silence gate) → forward (one batched pass over all
windows) → postprocess (sigmoid or softmax as the model defines, clip-level top-k, timeline). No Gradio here.

Choices worth knowing:

- Scores. `config.problem_type == "multi_label_classification"` → independent sigmoids (AudioSet: several sounds
  at once, scores need not sum to 1); `"single_label_classification"` → softmax (a distribution over the labels).
  When a checkpoint leaves `problem_type` unset, a 527-label head is the AudioSet ontology, which is multi-label, so
  it gets sigmoids; any other head gets softmax (what the transformers pipeline does).
- Windows (`shared.audio.windows`). Starts at 0, hop, 2·hop, … until a window reaches the end of the clip, so the
  windows cover the whole clip with exactly the stated hop; the last one may be shorter. A window longer than what
  the model sees (AST Speech Commands: 1.28 s, AST AudioSet: 10.24 s) would be silently truncated by the feature
  extractor, so it is clamped to the model's input length (and the hop to the window) and the result says so.
- One run. Every window goes through the feature extractor and the model in batches (`BATCH_SIZE`), not one
  pipeline call per window. The clip-level scores come from the same run: when the whole clip fits the model's
  input (≤ its input length; ≤ `WHOLE_CLIP_MAX_S` for wav2vec2-style models that take any length) it is one more
  item of the batch (or the single window, when one window already covers it), exactly what the pipeline would
  give; when it is longer, the window scores are aggregated — max over windows for sigmoid models ("this sound
  occurs somewhere"), mean for softmax models (still a distribution).
- Silence. A clip, or a window, whose RMS stays below `SILENCE_DBFS` (-60 dBFS, `shared.audio.intake.is_silent`) is not
  sent to the model: a silent clip answers "no sound events" instead of inventing labels, silent windows show as
  gaps in the timeline.
- Inside the model. While the batches run, `capture.InputKeeper` keeps a copy of the input the model got for its most
  confident window (AST's filterbank, or the normalised waveform); `shared.classify.inside` draws it, so the
  pictures cost no second forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, is_silent, resample
from shared.audio.windows import (
    BATCH_SIZE,
    SILENCE_DBFS,
    WindowPlan,
    WindowScores,
    apply_activation,
    batched_forward,
    check_window,
    input_seconds,
    silent_clip_fields,
    top_labels,
    window_json,
)
from shared.classify.capture import InputKeeper, ModelInput
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import CLASSIFY, require_task
from shared.progress import Progress, Stopwatch, no_progress

SAMPLE_RATE = 16_000  # every classifier in the registry takes 16 kHz; others are resampled to their own rate
WHOLE_CLIP_MAX_S = 30.0  # models without a fixed input length still get windows aggregated beyond this
MIN_INPUT_S = 0.1  # shorter pieces (a clip's last sliver) are zero-padded: wav2vec2's conv stack needs 25 ms


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


@dataclass(kw_only=True)
class ClassifyResult(WindowScores):
    """Clip-level and per-window label scores of one classifier (see `WindowScores` for the shared fields)."""

    activation: str  # "sigmoid" or "softmax"; "" when the model was not run
    model_input: ModelInput | None = None  # the most confident window's input, kept from the forward pass

    def to_json(self, k: int) -> dict[str, Any]:
        """Everything, with the clip's and each audible window's top `k` labels, as the JSON download writes it."""
        def top(scores: np.ndarray) -> list[dict[str, Any]]:
            return [{"label": label, "score": round(score, 6)} for label, score in top_labels(scores, self.labels, k)]

        return {"model": self.model_id, "activation": self.activation, "clip_scores_from": self.clip_method,
                "silent": self.silent, **self.run_json(),
                "top_k": [{"label": label, "score": round(score, 6)} for label, score in self.top_k(k)],
                "windows": [{**window_json(w), "top_k": [] if w.silent else top(scores)}
                            for w, scores in zip(self.windows, self.window_scores, strict=True)]}


@dataclass
class _Pass:
    """What the one batched pass gives: the labels and their activation, the windows it used, the scores of every
    item sent (the audible windows, then the whole clip when `whole_clip` and more than one window) and the input
    kept for the inside view."""

    labels: list[str]
    activation: str
    plan: WindowPlan
    scores: np.ndarray
    whole_clip: bool
    model_input: ModelInput | None

    @cached_property
    def window_scores(self) -> np.ndarray:
        return self.plan.per_window(self.scores[: len(self.plan.audible())], len(self.labels))

    def clip_scores(self) -> tuple[np.ndarray | None, str]:
        """The clip's scores and how they were obtained (see module doc)."""
        audible = self.window_scores[~np.isnan(self.window_scores[:, 0])]
        if self.whole_clip:
            return self.scores[-1], "the whole clip in one forward pass"
        if len(audible) == 0:
            return None, "every window is silent"
        if self.activation == "sigmoid":
            return audible.max(axis=0), f"max over {len(audible)} windows (multi-label)"
        return audible.mean(axis=0), f"mean over {len(audible)} windows"


def _min_length(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    needed = int(MIN_INPUT_S * sample_rate)
    return samples if len(samples) >= needed else np.pad(samples, (0, needed - len(samples)))


def _classifier_batch(pipe: Any, sample_rate: int,
                      keeper: InputKeeper | None = None) -> Callable[[list[np.ndarray]], np.ndarray]:
    import torch

    model = pipe.model

    def run(batch: list[np.ndarray]) -> np.ndarray:
        inputs = pipe.feature_extractor(batch, sampling_rate=sample_rate, return_tensors="pt")
        inputs = inputs.to(device=model.device, dtype=model.dtype)
        with torch.inference_mode():
            logits = model(**inputs).logits.float().cpu().numpy()
        if keeper is not None:  # a waveform (wav2vec2-style) or features (AST filterbank, Whisper log-mel)
            keeper.offer(batch, inputs.get("input_values", inputs.get("input_features")), logits)
        return logits

    return run


def _forward(pipe: Any, clip: AudioClip, window_s: float, hop_s: float, progress: Progress) -> _Pass:
    rate = pipe.feature_extractor.sampling_rate
    samples = resample(clip.samples, clip.sample_rate, rate)
    config = pipe.model.config
    labels = [config.id2label[i] for i in range(config.num_labels)]
    activation = activation_for(config)
    input_s = input_seconds(pipe.feature_extractor)
    plan = WindowPlan.over(samples, rate, window_s, hop_s, input_s)
    items = [_min_length(window, rate) for window in plan.audible_samples(samples)]
    keeper = InputKeeper(list(items), activation)
    whole_clip = len(samples) / rate <= (input_s or WHOLE_CLIP_MAX_S) + 1e-6
    if whole_clip and len(plan.windows) > 1:  # a single window already is the whole clip
        items.append(_min_length(samples, rate))
    logits = batched_forward(items, BATCH_SIZE, input_s is not None, _classifier_batch(pipe, rate, keeper), progress)
    scores = apply_activation(logits, activation) if items else np.zeros((0, len(labels)))
    return _Pass(labels, activation, plan, scores, whole_clip,
                 keeper.model_input(config, labels, plan.audible(), rate))


def classify(clip: AudioClip, model_id: str, window_s: float = 2.0, hop_s: float = 1.0, *,
             loader: ModelLoader | None = None, progress: Progress = no_progress) -> ClassifyResult:
    """Clip-level scores and the sound events over time, from one batched pass over the windows. `window_s` and
    `hop_s` are seconds (the window is clamped to the model's input length); the clip is resampled to the model's
    rate (Hz). A silent clip (RMS below `SILENCE_DBFS` dBFS) gets no scores and never loads the model."""
    spec = require_task(model_id, CLASSIFY)
    check_window(window_s, hop_s)
    loader = loader or get_loader()
    if is_silent(clip.samples, SILENCE_DBFS):
        return ClassifyResult(model_id=model_id, activation="", family=spec.family,
                              **silent_clip_fields(clip, [], window_s, hop_s))
    progress(0.02, f"Loading {model_id}")
    with Stopwatch() as load:
        entry = loader.entry(model_id)
    with loader.use(model_id) as pipe:
        with Stopwatch() as compute:
            run = _forward(pipe, clip, window_s, hop_s, progress)
        card = architecture_card(spec.family, pipe.model, model_id)
    clip_scores, method = run.clip_scores()
    return ClassifyResult(model_id=model_id, labels=run.labels, activation=run.activation, clip_scores=clip_scores,
                          clip_method=method, window_scores=run.window_scores, **run.plan.fields(),
                          device=entry.placement.device, dtype=entry.placement.dtype, audio_s=clip.duration_s,
                          compute_s=compute.seconds, load_s=load.seconds, family=spec.family, card=card,
                          model_input=run.model_input)


def compare_classifiers(clip: AudioClip, model_ids: list[str], window_s: float = 2.0, hop_s: float = 1.0, *,
                        loader: ModelLoader | None = None,
                        progress: Progress = no_progress) -> list[ClassifyResult]:
    """`classify` with one to three models (duplicates dropped, order kept) on the same clip, windows and hop
    (seconds); progress runs once across all of them."""
    model_ids = list(dict.fromkeys(model_ids))
    if not 1 <= len(model_ids) <= 3:
        raise UserError("Choose one to three classifiers to compare.")
    results = []
    for index, model_id in enumerate(model_ids):
        def step(fraction: float, desc: str, index: int = index, model_id: str = model_id) -> None:
            progress((index + fraction) / len(model_ids), f"{model_id}: {desc}")

        results.append(classify(clip, model_id, window_s, hop_s, loader=loader, progress=step))
    return results
