"""Demucs (music source separation) as an engine of the loader: `load_demucs` returns a `MusicSeparator` whose
`separate(samples) -> Separation` splits music into its stems (drums, bass, other, vocals for HTDemucs).

The weights come from the author's hub repo by registry id (adefossez/HTDemucs: a bag definition `<name>.yaml` and
one `<signature>.safetensors` per model; the pip package demucs >= 4.1 holds the model code). Safety: safetensors
only (no pickle); each file's metadata names the class to build and its init arguments (JSON), so before demucs
reads a file its class must be one of ALLOWED_CLASSES and packed (quantized) states, whose metadata can name more
classes, are refused; the yaml is read with yaml.safe_load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import ModelUnavailableError
from shared.models.device import Placement
from shared.models.registry import ModelSpec
from shared.models.speechbrain_models import Separation

ALLOWED_CLASSES = frozenset({"demucs.htdemucs.HTDemucs", "demucs.hdemucs.HDemucs", "demucs.demucs.Demucs"})
OVERLAP = 0.25  # share of each segment overlapping the next (demucs' default)


class UnsafeDemucsFileError(ModelUnavailableError):
    """A Demucs weights file asks for a class this engine does not build."""


def check_metadata(path: Path) -> None:
    """Refuse a safetensors file whose metadata names a class outside ALLOWED_CLASSES or a packed state."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if metadata.get("klass") not in ALLOWED_CLASSES or "structure" in metadata:
        raise UnsafeDemucsFileError(f"{path.name} asks for {metadata.get('klass')!r}"
                                    f"{' with a packed state' if 'structure' in metadata else ''}; this app only "
                                    "builds the Demucs model classes from plain safetensors.")
    json.loads(metadata["args"]), json.loads(metadata["kwargs"])  # plain JSON, or the file is refused here


@dataclass
class MusicSeparator:
    """A Demucs bag of models (`model`, a torch module) at `sample_rate` Hz; `stems` names its outputs."""

    model: Any
    sample_rate: int
    device: str

    @property
    def stems(self) -> list[str]:
        return list(self.model.sources)

    def separate(self, samples: np.ndarray) -> Separation:
        """Stems of mono float samples at `sample_rate` (fed as two equal channels, each stem downmixed back to
        mono); Demucs predicts the stems directly, so there are no masks."""
        import torch
        from demucs.apply import apply_model

        mix = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).reshape(1, 1, -1).repeat(1, 2, 1)
        mean, std = float(mix.mean()), float(mix.std()) or 1.0
        with torch.inference_mode():
            stems = apply_model(self.model, (mix - mean) / std, shifts=0, split=True, overlap=OVERLAP,
                                device=self.device)[0]
        mono = (stems * std + mean).mean(dim=1).float().cpu().numpy()  # undo the normalisation, as demucs does
        return Separation(mono, None, self.sample_rate, 0.0)


def load_demucs(spec: ModelSpec, placement: Placement, options: dict) -> MusicSeparator:
    """The bag spec.options["bag"] (e.g. "htdemucs") from the spec's hub repo, checked, fp32, on CUDA or CPU."""
    import yaml
    from huggingface_hub import snapshot_download

    try:
        from demucs.apply import BagOfModels
        from demucs.hf import load_safetensors_model
    except ImportError as exc:
        raise ModelUnavailableError(f"{spec.id} needs the pip package demucs (4.1 or newer).") from exc
    folder = Path(snapshot_download(spec.id, allow_patterns=["*.yaml", "*.safetensors"]))
    bag = yaml.safe_load((folder / f"{spec.options['bag']}.yaml").read_text())
    paths = [folder / f"{signature}.safetensors" for signature in bag["models"]]
    for path in paths:
        check_metadata(path)
    model = BagOfModels([load_safetensors_model(path) for path in paths], bag.get("weights"), bag.get("segment"))
    device = placement.device if placement.device in ("cpu", "cuda") else "cpu"
    return MusicSeparator(model.to(device).eval(), int(model.samplerate), device)
