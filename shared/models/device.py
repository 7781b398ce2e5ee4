"""Pick the compute device and dtype once (CUDA > MPS > CPU; fp16/bf16 on GPU), overridable by env vars."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared.config import SETTINGS

_DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda", "mps" or "cpu"
    dtype: str  # "float32", "float16" or "bfloat16"

    @property
    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)

    @property
    def on_gpu(self) -> bool:
        return self.device != "cpu"


def choose_placement(device: str = "auto", dtype: str = "auto") -> Placement:
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    if device not in ("cuda", "mps", "cpu"):
        raise ValueError(f"ADS_DEVICE must be auto, cuda, mps or cpu, got {device!r}")
    if dtype == "auto":
        if device == "cuda":
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        elif device == "mps":
            dtype = "float16"
        else:
            dtype = "float32"
    if dtype not in _DTYPES:
        raise ValueError(f"ADS_DTYPE must be auto or one of {_DTYPES}, got {dtype!r}")
    return Placement(device, dtype)


@functools.cache
def default_placement() -> Placement:
    return choose_placement(SETTINGS.device, SETTINGS.dtype)
