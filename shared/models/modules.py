"""The torch modules a loaded model holds (a transformers pipeline's `.model` and `.vocoder`, pyannote's sub-models,
the built-in diarizer's encoder), and what they weigh: parameter count and memory. One walk serves the loader's
memory budget and the architecture cards."""

from __future__ import annotations

import sys
from typing import Any

# "model_": pyannote's speaker-embedding wrapper; "_encoder": the built-in diarizer's Resemblyzer encoder
_HOLDERS = ("model", "vocoder", "_segmentation", "_embedding", "segmentation_model", "embedding_model", "model_",
            "_encoder")


def torch_modules(model: Any) -> list[Any]:
    """Every torch.nn.Module reachable from `model` through the attributes above (`model` itself if it is one);
    empty when torch is not imported (ONNX, CTranslate2 engines)."""
    if "torch" not in sys.modules:
        return []
    import torch

    return _walk(model, torch.nn.Module)


def _walk(model: Any, module_type: type) -> list[Any]:
    if isinstance(model, module_type):
        return [model]
    found = []
    for name in _HOLDERS:
        candidate = getattr(model, name, None)
        if candidate is not None and candidate is not model:
            found.extend(_walk(candidate, module_type))
    return found


def _unique_tensors(modules: list[Any], with_buffers: bool) -> list[Any]:
    """Tied weights (e.g. embeddings and output layer) count once."""
    seen: dict[int, Any] = {}
    for module in modules:
        for tensor in [*module.parameters(), *(module.buffers() if with_buffers else ())]:
            seen.setdefault(id(tensor), tensor)
    return list(seen.values())


def parameter_count(model: Any) -> int | None:
    """Parameters of a loaded model's torch modules; None for engines without torch weights."""
    return sum(tensor.numel() for tensor in _unique_tensors(torch_modules(model), False)) or None


def module_memory_mb(model: Any) -> float | None:
    """MiB of parameters and buffers of a loaded model's torch modules; None when it holds none."""
    tensors = _unique_tensors(torch_modules(model), True)
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors) / 2**20 or None
