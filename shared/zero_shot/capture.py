"""The two towers of a contrastive model (CLAP, or PE-Audio through its engine's `embed_text` / `embed_audio`) as the
one Zero-shot run calls them: the label prompts' text embeddings (cached per model, device, dtype, template and
labels in `TEXT_EMBEDDINGS`, so asking about the same labels again only runs the audio tower) and the audio
embeddings of a batch of windows. Their similarities are what the result keeps and the "Inside the model" view
draws; `text_from_cache` records whether the text tower ran."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


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


def text_embeddings(pipe: Any, prompts: list[str]) -> np.ndarray:
    """(prompts × dimensions): the text tower's projected embedding of each prompt (L2-normalised for CLAP; as the
    model gives it for PE-Audio, whose engine object embeds its own)."""
    if hasattr(pipe, "embed_text"):
        return pipe.embed_text(prompts)
    import torch

    inputs = pipe.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt").to(pipe.model.device)
    with torch.inference_mode():
        features = pipe.model.get_text_features(**inputs).pooler_output  # projected and L2-normalised
    return features.float().cpu().numpy()


def cached_text_embeddings(pipe: Any, prompts: list[str], key: Hashable,
                           cache: TextEmbeddingCache | None) -> tuple[np.ndarray, bool]:
    """The prompts' embeddings from `cache` under `key` (computed on a miss), or always computed when `cache` is
    None; with True when they came from the cache (the text tower did not run)."""
    if cache is None:
        return text_embeddings(pipe, prompts), False
    return cache.get_or_compute(key, lambda: text_embeddings(pipe, prompts))


def audio_batch(pipe: Any, sample_rate: int) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The audio tower over a batch of windows (samples at `sample_rate` Hz) → (windows × dimensions). `is_longer`
    (the fused model's switch for its 4-view fusion input) is set from the real lengths: the feature extractor
    otherwise marks a random item "longer" when none is, and results would change from call to call."""
    if hasattr(pipe, "embed_audio"):  # PE-Audio: any length, no fusion switch
        return pipe.embed_audio
    import torch

    model, extractor = pipe.model, pipe.feature_extractor

    def run(batch: list[np.ndarray]) -> np.ndarray:
        inputs = extractor(batch, sampling_rate=sample_rate, return_tensors="pt")
        inputs["is_longer"] = torch.tensor([[len(x) > extractor.nb_max_samples] for x in batch])
        inputs = inputs.to(device=model.device, dtype=model.dtype)
        with torch.inference_mode():
            return model.get_audio_features(**inputs).pooler_output.float().cpu().numpy()

    return run


def logit_scale(pipe: Any) -> float:
    """The factor similarities are multiplied by before the softmax: CLAP's exp(logit_scale_a), or PE-Audio's own."""
    if hasattr(pipe, "logit_scale"):
        return float(pipe.logit_scale)
    return float(pipe.model.logit_scale_a.detach().exp().float().cpu())
