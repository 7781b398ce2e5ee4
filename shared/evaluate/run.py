"""Evaluate registry models on a set of examples, one example at a time, through each task's own `run` function
(transcribe, classify, zero_shot, diarize, synthesize + round trip), so every number is the one the single-clip
tab shows for that clip. Each scored example becomes one record, written to a store as soon as it is done (the
command line resumes from them); `report.summarize` turns the records into the per-model table.

Timing: `wall_s` is the wall-clock time of one example (audio decoding + the task's run function), `audio_s` the
seconds of audio read (for TTS: made); RTFx = Σ audio_s ÷ Σ wall_s (for TTS: ÷ Σ synthesis_s, the voice's own
time without the round trip). The model is loaded once before its first
example (`load_s`, the loader's own load time, also when it was cached earlier) and `PeakMemory` watches the run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.audio.intake import load_audio
from shared.classify.run import SAMPLE_RATE as CLASSIFY_RATE
from shared.classify.run import classify
from shared.diarize.run import diarize
from shared.diarize.scoring import evaluate as score_turns
from shared.errors import ModelUnavailableError, UserError
from shared.evaluate import sources
from shared.evaluate.memory import PeakMemory
from shared.evaluate.metrics import same_label, text_errors
from shared.evaluate.sources import ASR, CLASSIFY, DIARIZE, TTS, ZERO_SHOT, Item, Source
from shared.evaluate.store import EXAMPLE, MODEL, MemoryStore
from shared.models import registry
from shared.models.loader import ModelLoader, get_loader
from shared.models.vad import VAD_MODEL_ID
from shared.models.voiceprint import VOICEPRINT_MODEL_ID
from shared.outputs.text_metrics import AUTO, NORMALIZERS
from shared.progress import Progress, no_progress
from shared.transcribe.run import SAMPLE_RATE as ASR_RATE
from shared.transcribe.run import TranscribeOptions, transcribe
from shared.tts.run import ASR_MODEL, round_trip, synthesize
from shared.zero_shot.run import DEFAULT_TEMPLATE, parse_labels, zero_shot
from shared.zero_shot.run import SAMPLE_RATE as ZERO_SHOT_RATE

log = logging.getLogger(__name__)
REGISTRY_TASK = {ASR: registry.ASR, CLASSIFY: registry.CLASSIFY, ZERO_SHOT: registry.ZERO_SHOT,
                 DIARIZE: registry.DIARIZE, TTS: registry.TTS}
MAX_MODELS = 8
DEFAULT_TOP_K = 5


@dataclass(frozen=True)
class Settings:
    """What the evaluation is asked to do besides the models: the task, and the options of its run function."""
    task: str
    normalise: str = AUTO  # WER/CER normaliser: "auto" (the tabs': Whisper's English one for English, else its
    # basic one), "english", "basic" or "none"
    language: str | None = None  # ASR: a language code, None = the model's default / detection
    top_k: int = DEFAULT_TOP_K  # classification: a hit when the reference is among the top k labels
    labels: str = ""  # zero-shot candidate labels; "" = every label the references use
    template: str = DEFAULT_TEMPLATE  # zero-shot prompt
    asr_model: str = ASR_MODEL  # TTS: the recogniser of the round trip
    voice_reference: str | None = None  # TTS: a recording to compare the voices with (None: each model's own mean)

    def checked(self) -> Settings:
        """Itself once valid; a UserError otherwise."""
        sources.check_task(self.task)
        if self.normalise not in NORMALIZERS:
            raise UserError(f"The normaliser must be one of {', '.join(NORMALIZERS)}.")
        if not 1 <= int(self.top_k) <= 20:
            raise UserError("Top-k must be between 1 and 20.")
        if self.task == TTS:
            check_models([self.asr_model], ASR)
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_models(models: list[str] | None, task: str) -> list[str]:
    """The chosen models (duplicates dropped, order kept), each a registry model of the task; 1 to MAX_MODELS."""
    chosen = list(dict.fromkeys(model for model in models or [] if model))
    if not 1 <= len(chosen) <= MAX_MODELS:
        raise UserError(f"Choose 1 to {MAX_MODELS} models to evaluate.")
    for model in chosen:
        try:
            registry.require_task(model, REGISTRY_TASK[task])
        except registry.UnknownModelError:
            raise UserError(f"Unknown model {model!r}: pick one from the list.") from None
    return chosen


def fetch_items(source: Source, keys: list[str] | None = None, progress: Progress = no_progress) -> list[Item]:
    """The examples of `keys` (default: all), fetched in order; a dataset split that ends early just gives fewer."""
    keys = source.keys if keys is None else keys
    items = []
    for index, key in enumerate(keys):
        progress(index / max(1, len(keys)), f"Fetching example {index + 1} of {len(keys)} from {source.name}")
        item = source.fetch(key)
        if item is None:
            break
        items.append(item)
    if not items and keys:
        raise UserError(f"{source.name} gave no examples.")
    return items


def candidate_labels(settings: Settings, items: list[Item]) -> list[str]:
    """Zero-shot labels: the ones typed in the settings, else every distinct label of the references."""
    if settings.labels.strip():
        return parse_labels(settings.labels)
    return parse_labels(sorted({item.reference for item in items if item.reference}, key=str.casefold))


class Eta:
    """Progress over `total` examples with the estimated time left (from the mean time per example so far)."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total, self.done, self.progress = max(1, total), 0, progress
        self.start = time.perf_counter()

    def step(self, what: str) -> None:
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        eta = f" · about {clock(left)} left" if left is not None else ""
        self.progress(self.done / self.total, f"{what} ({self.done}/{self.total}{eta})")

    def advance(self) -> None:
        self.done += 1


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def evaluate_model(model_id: str, items: list[Item], settings: Settings, write: Callable[[dict], None], *,
                   loader: ModelLoader | None = None, eta: Eta | None = None, labels: list[str] | None = None,
                   rank: int = 0) -> None:
    """Score every item with one model, writing one example record per item as it is done, then one model record
    (load time in s, peak memory in MiB, device). An example that fails for its own reasons (bad audio, too
    long…) gets its error in its record; a model that cannot load stops the evaluation."""
    loader = loader or get_loader()
    eta = eta or Eta(len(items), no_progress)
    eta.step(f"Loading {model_id}")
    for helper in helper_models(settings):  # loaded now, so their load is not timed as the first example's
        loader.entry(helper)
    entry = loader.entry(model_id)
    with PeakMemory(entry.placement.device) as peak:
        for item in items:
            eta.step(f"{model_id}: {item.key}")
            write(score_item(model_id, item, settings, loader, labels))
            eta.advance()
    write({"kind": MODEL, "model": model_id, "load_s": round(entry.load_s, 3), "peak_mb": round(peak.mb, 1),
           "memory": peak.kind, "device": entry.placement.device, "dtype": entry.placement.dtype, "rank": rank})


def helper_models(settings: Settings) -> list[str]:
    """The models a task's run function uses besides the evaluated one: Silero VAD (speech gate), and for TTS the
    round trip's recogniser and the voiceprint encoder."""
    if settings.task == ASR:
        return [VAD_MODEL_ID]
    return [settings.asr_model, VAD_MODEL_ID, VOICEPRINT_MODEL_ID] if settings.task == TTS else []


def score_item(model_id: str, item: Item, settings: Settings, loader: ModelLoader,
               labels: list[str] | None = None) -> dict[str, Any]:
    """One example's record: its key, reference, the model's answer and scores, seconds of audio and wall time."""
    record: dict[str, Any] = {"kind": EXAMPLE, "model": model_id, "key": item.key, "reference": item.reference}
    start = time.perf_counter()
    try:
        record.update(SCORERS[settings.task](model_id, item, settings, loader, labels))
    except ModelUnavailableError:
        raise
    except UserError as exc:
        record["error"] = str(exc)
    except Exception as exc:  # one broken example must not sink the evaluation; the details go to the log
        log.exception("evaluate: %s on %s failed", model_id, item.key)
        record["error"] = f"Something went wrong ({type(exc).__name__}); the details are in the log."
    record["wall_s"] = round(time.perf_counter() - start, 4)
    return record


def _asr(model_id: str, item: Item, settings: Settings, loader: ModelLoader, labels: Any) -> dict[str, Any]:
    clip = load_audio(item.audio, ASR_RATE)
    options = TranscribeOptions(language=settings.language, timestamps="none")
    heard = transcribe(clip, model_id, options, loader=loader).text
    errors = text_errors(item.reference, heard, settings.normalise, settings.language)
    return {"hypothesis": heard, **_errors_json(errors), "audio_s": round(clip.duration_s, 4)}


def _errors_json(errors: Any) -> dict[str, Any]:
    return {"normalised_reference": errors.reference, "normalised_hypothesis": errors.hypothesis,
            "word_errors": errors.errors, "words": errors.words, "char_errors": errors.char_errors,
            "chars": errors.chars}


def labelled(top: list[tuple[str, float]], reference: str, k: int) -> dict[str, Any]:
    """A classifier's answer scored: `top` is its (label, score) list, best first; a top-k hit when the reference
    is among the first k labels."""
    predicted = top[0][0] if top else "(silent)"
    return {"hypothesis": predicted, "top_k": [label for label, _ in top[:k]],
            "correct": same_label(predicted, reference),
            "correct_top_k": any(same_label(label, reference) for label, _ in top[:k])}


def _classify(model_id: str, item: Item, settings: Settings, loader: ModelLoader, labels: Any) -> dict[str, Any]:
    clip = load_audio(item.audio, CLASSIFY_RATE)
    result = classify(clip, model_id, loader=loader)
    return {**labelled(result.top_k(settings.top_k), item.reference, settings.top_k),
            "audio_s": round(clip.duration_s, 4)}


def _zero_shot(model_id: str, item: Item, settings: Settings, loader: ModelLoader,
               labels: list[str] | None) -> dict[str, Any]:
    clip = load_audio(item.audio, ZERO_SHOT_RATE)
    result = zero_shot(clip, model_id, labels or [item.reference], settings.template, loader=loader)
    return {**labelled(result.top_k(settings.top_k), item.reference, settings.top_k),
            "audio_s": round(clip.duration_s, 4)}


def _diarize(model_id: str, item: Item, settings: Settings, loader: ModelLoader, labels: Any) -> dict[str, Any]:
    clip = load_audio(item.audio, ASR_RATE)
    result = diarize(clip, model_id, loader=loader)
    scored = score_turns(list(item.turns), result.turns, clip.duration_s)
    return {"hypothesis": f"{len(result.speakers)} speakers, {len(result.turns)} turns",
            "reference": f"{len({turn.speaker for turn in item.turns})} speakers, {len(item.turns)} turns",
            "missed_s": scored.missed_s, "false_alarm_s": scored.false_alarm_s, "confusion_s": scored.confusion_s,
            "reference_s": scored.reference_s, "der": scored.der, "audio_s": round(clip.duration_s, 4)}


def _tts(model_id: str, item: Item, settings: Settings, loader: ModelLoader, labels: Any) -> dict[str, Any]:
    speech = synthesize(item.reference, model_id, loader=loader)
    heard, _ = round_trip(speech, settings.asr_model, loader=loader)
    errors = text_errors(item.reference, heard, settings.normalise)
    voice = load_audio((speech.sample_rate, speech.samples), ASR_RATE).samples
    with loader.use(VOICEPRINT_MODEL_ID) as printer:
        voiceprint = printer.embed(voice)
        if settings.voice_reference:
            target = printer.embed(load_audio(settings.voice_reference, ASR_RATE).samples)
            voice_fields: dict[str, Any] = {"similarity": round(float(voiceprint @ target), 4)}
        else:  # compared with the model's mean voice once all sentences are done (report.py)
            voice_fields = {"voiceprint": [round(float(value), 5) for value in voiceprint]}
    return {"hypothesis": heard, **_errors_json(errors), **voice_fields, "audio_s": round(speech.duration_s, 4),
            "synthesis_s": round(speech.compute_s, 4)}


SCORERS: dict[str, Callable[..., dict[str, Any]]] = {ASR: _asr, CLASSIFY: _classify, ZERO_SHOT: _zero_shot,
                                                     DIARIZE: _diarize, TTS: _tts}


@dataclass
class Evaluation:
    """A finished evaluation: what was asked, and every record (one per model × example, one per model)."""
    settings: Settings
    source: str
    models: list[str]
    records: list[dict[str, Any]]
    labels: list[str] | None = None


def evaluate(source: Source, models: list[str] | None, settings: Settings, *, store: MemoryStore | None = None,
             loader: ModelLoader | None = None, progress: Progress = no_progress) -> Evaluation:
    """Every example of `source` through every model (1 to MAX_MODELS registry models of `settings.task`), one
    model after another (each loaded once). Records go to `store` as they are made; pairs already in it are
    skipped (a resume). Progress reports the example being scored and the estimated time left; each report is
    also where a cancelled job stops."""
    settings = settings.checked()
    models = check_models(models, settings.task)
    store = store if store is not None else MemoryStore()
    items = fetch_items(source, progress=lambda f, d: progress(0.05 * f, d))
    labels = candidate_labels(settings, items) if settings.task == ZERO_SHOT else None
    done = store.done()
    todo = {model: [item for item in items if (model, item.key) not in done] for model in models}
    eta = Eta(sum(map(len, todo.values())), lambda f, d: progress(0.05 + 0.95 * f, d))
    for model in models:
        if todo[model]:
            evaluate_model(model, todo[model], settings, store.write, loader=loader, eta=eta, labels=labels)
    progress(1.0, "Done")
    return Evaluation(settings, source.name, models, store.records(), labels)
