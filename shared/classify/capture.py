"""What a Classify run keeps for "Inside the model": while the batches run, `InputKeeper` is offered every batch's
inputs and logits and keeps a copy of the input the model got for its most confident window (AST's normalised
filterbank, or a wav2vec2-style model's normalised waveform), so the pictures cost no second forward pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.audio.windows import apply_activation


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
    sample_rate: int  # Hz
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
        """One batch: its items (audio), the feature extractor's `input_values` tensor and the model's logits."""
        scores = apply_activation(logits, self._activation)
        for row, item in enumerate(batch):
            index = self._index.get(id(item))
            if index is not None and scores[row].max() > self.score:
                self.item, self.label, self.score = index, int(scores[row].argmax()), float(scores[row].max())
                self.values = values[row].float().cpu().numpy()  # a copy, so the batch can be freed
                self.n_samples = len(item)

    def model_input(self, config: Any, labels: list[str], audible: list[int], sample_rate: int) -> ModelInput | None:
        """What was kept, for the model with `config`: `audible` maps the kept item to its window's index (the
        items were the audible windows, in order). None when no window went through the model."""
        if self.values is None:
            return None
        grid = None
        if hasattr(config, "frequency_stride") and hasattr(config, "patch_size"):
            grid = PatchGrid(config.patch_size, config.frequency_stride, config.time_stride)
        return ModelInput(self.values, audible[self.item], self.n_samples, sample_rate, labels[self.label],
                          self.score, grid, None if grid else conv_frames(config, self.n_samples))


def conv_frames(config: Any, n_samples: int) -> int | None:
    """Frames a wav2vec2 / HuBERT conv feature encoder makes of `n_samples` (one per 20 ms at 16 kHz)."""
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if not kernels or not strides:
        return None
    frames = n_samples
    for kernel, stride in zip(kernels, strides, strict=True):
        frames = (frames - kernel) // stride + 1
    return max(frames, 0)
