"""The one shared, cached model loader.

- models are cached by (model id, task, device, dtype, options); a second request never reloads;
- single flight: concurrent first requests for one key wait on one load (a per-key lock);
- a memory budget: least-recently-used models that are not in use are evicted to make room, GPU memory freed;
- engines beyond transformers (faster-whisper, Piper, pyannote, ...) plug in by name;
- load failures become `ModelUnavailableError`s with a message a person can act on, and are not cached.
"""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.config import SETTINGS
from shared.errors import ModelUnavailableError
from shared.models.device import Placement, default_placement
from shared.models.modules import module_memory_mb
from shared.models.registry import (
    ASR,
    CLASSIFY,
    DIARIZE,
    TTS,
    ZERO_SHOT,
    ModelSpec,
    UnknownModelError,
    get_spec,
    models_for,
)
from shared.progress import Stopwatch

log = logging.getLogger(__name__)

EngineFn = Callable[[ModelSpec, Placement, dict], Any]

# engine name -> "module:function"; imported on first use so that importing the loader stays cheap
ENGINE_PATHS: dict[str, str] = {
    "transformers": "shared.models.engines:load_transformers",
    "faster-whisper": "shared.models.engines:load_faster_whisper",
    "piper": "shared.models.engines:load_piper",
    "pyannote": "shared.models.engines:load_pyannote",
    "offline-diarizer": "shared.diarize.offline:load_offline_diarizer",
    "silero-vad": "shared.models.vad:load_silero",
    "resemblyzer": "shared.models.voiceprint:load_voiceprint",
    "whisper-language-id": "shared.models.whisper_lid:load_whisper_language_id",
    "pe-audio": "shared.models.pe_audio:load_pe_audio",
    "torchaudio": "shared.models.engines:load_torchaudio",
    "speechbrain": "shared.models.speechbrain_models:load_speechbrain",
    "speecht5-vc": "shared.audio_to_audio.convert:load_speecht5_vc",
    "demucs": "shared.models.demucs_models:load_demucs",
    "nemotron-diarization": "shared.diarize.nemotron:load_nemotron",
    "codec-lm": "shared.tts.codec_lm:load_codec_lm",
}

CacheKey = tuple[str, str, str, str, tuple]


@dataclass
class LoadedModel:
    key: CacheKey
    spec: ModelSpec
    model: Any
    placement: Placement
    memory_mb: float
    load_s: float
    last_used: float = field(default_factory=time.monotonic)
    in_use: int = 0

    def describe(self) -> dict:
        return {
            "id": self.spec.id,
            "task": self.spec.task,
            "engine": self.spec.engine,
            "device": self.placement.device,
            "dtype": self.placement.dtype,
            "memory_mb": round(self.memory_mb, 1),
            "load_s": round(self.load_s, 2),
            "in_use": self.in_use,
        }


def explain_load_error(spec: ModelSpec, exc: BaseException) -> str:
    """Turn whatever a loader raised into a message that says what to do (never echoes tokens)."""
    names = set()
    chain: BaseException | None = exc
    texts = []
    while chain is not None:
        names.add(type(chain).__name__)
        texts.append(str(chain))
        chain = chain.__cause__ or chain.__context__
    text = " ".join(texts).lower()
    if names & {"OutOfMemoryError", "MemoryError"} or "out of memory" in text:
        return (f"Out of memory while loading {spec.id} (about {spec.size_mb:.0f} MB in fp32). "
                "Unload other models (Settings → Unload all) or pick a smaller model.")
    if "GatedRepoError" in names or "gated" in text or "401" in text or "403" in text:
        return (f"{spec.id} is a gated model: accept its conditions at https://huggingface.co/{spec.id} "
                "and provide a Hugging Face token (HF_TOKEN) that has access.")
    if names & {"LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectionError", "ConnectTimeout"} or any(
        marker in text for marker in ("offline", "couldn't connect", "connection", "cannot find the requested files",
                                      "not a valid model identifier", "local_files_only")
    ):
        return f"Model {spec.id} is not downloaded and the Hugging Face hub is unreachable. " + offline_advice(spec)
    if "safetensors" in text:
        return (f"{spec.id} publishes no safetensors weights; this app loads safetensors only (pickled weights "
                "can run code).")
    if "RepositoryNotFoundError" in names:
        return f"Model {spec.id} was not found on the Hugging Face hub."
    return f"Could not load {spec.id}: {type(exc).__name__}. See the server log for details."


# the tab each task's models are offered in (for messages that point the user somewhere)
TAB_OF_TASK = {ASR: "Transcribe", CLASSIFY: "Classify", ZERO_SHOT: "Zero-shot", TTS: "Text-to-speech",
               DIARIZE: "Diarize"}


def offline_advice(spec: ModelSpec) -> str:
    """What to do about a model missing offline: where the task has a built-in model, pick it; where it has none
    (Classify, Zero-shot), say that this tab needs the hub once and which tabs work offline."""
    built_in = [model for model in models_for(spec.task) if model.offline]
    if built_in:
        return (f"Connect to the internet once to download it, or pick a built-in offline model "
                f"({built_in[0].title}).")
    offline_tabs = [TAB_OF_TASK[task] for task in TAB_OF_TASK if any(m.offline for m in models_for(task))]
    tab = TAB_OF_TASK.get(spec.task, "This")
    return (f"The {tab} tab has no built-in model: its models come from the Hugging Face hub, so connect to the "
            "internet once to download this one (it is cached and then works offline). Without the hub, "
            f"Visualize and the built-in models of {', '.join(offline_tabs)} work.")


class ModelLoader:
    """The app's one model cache (one per process: `get_loader()`); every tab loads through it.

    `use(model_id)` is a context manager yielding the loaded model (a transformers pipeline, a faster-whisper
    model, a Piper voice, a pyannote pipeline...), pinned so it cannot be evicted inside the block; `entry(model_id)`
    gives the cache entry (placement, memory, load time) without pinning. Loads go through the registry spec's
    engine; a failed load raises ModelUnavailableError with a message for the user. `budget_mb` (MiB, default
    ADS_MEMORY_BUDGET_MB) bounds the summed memory of the cached models; `placement` overrides the device/dtype
    choice; `engines` replaces engine functions by name (tests)."""

    def __init__(self, budget_mb: float | None = None, placement: Placement | None = None,
                 engines: dict[str, EngineFn] | None = None) -> None:
        self.budget_mb = SETTINGS.memory_budget_mb if budget_mb is None else budget_mb
        self._placement = placement
        self._engines: dict[str, EngineFn] = dict(engines or {})
        self._entries: dict[CacheKey, LoadedModel] = {}
        self._key_locks: dict[CacheKey, threading.Lock] = {}
        self._lock = threading.Lock()
        self.load_counts: Counter[str] = Counter()  # model id -> number of real loads (tests assert on it)
        self.evictions: list[str] = []

    @property
    def placement(self) -> Placement:
        if self._placement is None:
            self._placement = default_placement()
        return self._placement

    def register_engine(self, name: str, fn: EngineFn) -> None:
        self._engines[name] = fn

    def _engine(self, name: str) -> EngineFn:
        if name not in self._engines:
            module_name, func_name = ENGINE_PATHS[name].split(":")
            self._engines[name] = getattr(importlib.import_module(module_name), func_name)
        return self._engines[name]

    def _key(self, spec: ModelSpec, placement: Placement, options: dict) -> CacheKey:
        return (spec.id, spec.task, placement.device, placement.dtype, tuple(sorted(options.items())))

    @contextmanager
    def use(self, model_id: str, placement: Placement | None = None, **options: Any) -> Iterator[Any]:
        """Yield the loaded model, loading it once if needed; it cannot be evicted inside the block."""
        entry = self._acquire(model_id, placement, options)
        try:
            yield entry.model
        finally:
            with self._lock:
                entry.in_use -= 1
                entry.last_used = time.monotonic()

    def entry(self, model_id: str, placement: Placement | None = None, **options: Any) -> LoadedModel:
        """The cache entry (loaded if needed) without pinning it; for status and timing displays."""
        entry = self._acquire(model_id, placement, options)
        with self._lock:
            entry.in_use -= 1
        return entry

    def _acquire(self, model_id: str, placement: Placement | None, options: dict) -> LoadedModel:
        try:
            spec = get_spec(model_id)
        except UnknownModelError as exc:
            raise ModelUnavailableError(str(exc.args[0])) from None
        placement = placement or self.placement
        key = self._key(spec, placement, options)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.in_use += 1
                    entry.last_used = time.monotonic()
                    return entry
            entry = self._load(spec, placement, options, key)
            with self._lock:
                self._entries[key] = entry
                entry.in_use += 1
            self._make_room(0.0, keep=key)  # the real size may exceed the hint
            return entry

    def _load(self, spec: ModelSpec, placement: Placement, options: dict, key: CacheKey) -> LoadedModel:
        needed_mb = spec.memory_mb(placement.dtype)
        if needed_mb > self.budget_mb:
            raise ModelUnavailableError(
                f"{spec.id} needs about {needed_mb:.0f} MB in {placement.dtype}, more than the memory budget of "
                f"{self.budget_mb:.0f} MB (ADS_MEMORY_BUDGET_MB).")
        self._make_room(needed_mb, keep=key)
        try:
            with Stopwatch() as load:
                model = self._engine(spec.engine)(spec, placement, options)
        except ModelUnavailableError:
            raise
        except Exception as exc:
            log.warning("loading %s failed: %s: %s", spec.id, type(exc).__name__, exc)
            self._free_memory(placement)
            raise ModelUnavailableError(explain_load_error(spec, exc)) from exc
        load_s = load.seconds
        self.load_counts[spec.id] += 1
        memory_mb = module_memory_mb(model) or needed_mb
        log.info("loaded %s on %s/%s in %.2fs (%.0f MB)", spec.id, placement.device, placement.dtype, load_s,
                 memory_mb)
        return LoadedModel(key, spec, model, placement, memory_mb, load_s)

    def used_mb(self) -> float:
        with self._lock:
            return sum(entry.memory_mb for entry in self._entries.values())

    def _make_room(self, needed_mb: float, keep: CacheKey) -> None:
        evicted = []
        with self._lock:
            while sum(e.memory_mb for e in self._entries.values()) + needed_mb > self.budget_mb:
                idle = [e for e in self._entries.values() if e.in_use == 0 and e.key != keep]
                if not idle:
                    log.warning("memory budget %.0f MB exceeded but every other model is in use", self.budget_mb)
                    break
                victim = min(idle, key=lambda e: e.last_used)
                del self._entries[victim.key]
                evicted.append(victim)
                self.evictions.append(victim.spec.id)
        for victim in evicted:
            log.info("evicted %s (%.0f MB) to stay within the memory budget", victim.spec.id, victim.memory_mb)
            placement = victim.placement
            del victim
            self._free_memory(placement)

    def unload_all(self) -> int:
        """Drop every idle model; returns how many were unloaded (models in use stay)."""
        with self._lock:
            idle = [key for key, entry in self._entries.items() if entry.in_use == 0]
            for key in idle:
                del self._entries[key]
        if idle:
            self._free_memory(self.placement)
        return len(idle)

    def is_loaded(self, model_id: str) -> bool:
        with self._lock:
            return any(key[0] == model_id for key in self._entries)

    def status(self) -> list[dict]:
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: -e.last_used)
            return [entry.describe() for entry in entries]

    @staticmethod
    def _free_memory(placement: Placement) -> None:
        gc.collect()
        if placement.device == "cuda":
            import torch

            torch.cuda.empty_cache()
        elif placement.device == "mps":
            import torch

            torch.mps.empty_cache()


@functools.cache


def get_loader() -> ModelLoader:
    """The process-wide loader every tab shares."""
    return ModelLoader()
