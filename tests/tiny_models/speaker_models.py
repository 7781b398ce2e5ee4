"""Tiny random speaker models (Nemotron diarization).

family -> builder, like transformers_models.BUILDERS. The Nemotron 3 Diarization stand-in keeps the real input and
output geometry (128 mel bins, 10 ms frames, subsampling 8, 8 arrival-ordered speakers, the offline chunking of 340
encoder frames with the speaker cache) but a 2-layer encoder of width 32; its processor is built locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.models.registry import ModelSpec
from tests.tiny_models import Builder
from tests.tiny_models.transformers_models import _save

SEED = 0


def build_nemotron_diarization(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """Nemotron3DiarizationForAudioFrameClassification (random, seeded) + Nemotron3DiarizationProcessor."""
    import torch
    from transformers import (
        Nemotron3DiarizationConfig,
        Nemotron3DiarizationForAudioFrameClassification,
        Nemotron3DiarizationProcessor,
        NemotronAsrStreamingFeatureExtractor,
    )

    torch.manual_seed(SEED)
    config = Nemotron3DiarizationConfig(
        audio_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                      "num_mel_bins": 128, "subsampling_factor": 8},
        head_config={"hidden_size": 16, "num_speakers": 8, "audio_hidden_size": 32, "subsampling_factor": 8})
    model = Nemotron3DiarizationForAudioFrameClassification(config).eval()
    processor = Nemotron3DiarizationProcessor(NemotronAsrStreamingFeatureExtractor(feature_size=128))
    _spread_logits(model, processor)
    return {spec.id: _save(work / "model", model, processor)}


def _spread_logits(model: Any, processor: Any, active: int = 2) -> None:
    """A random head's logits are ~1e-4 (every speaker at probability 0.5 everywhere): re-scale the output layer so
    the first `active` speakers' logits vary with the input (std 2.5 around 0, measured on seeded noise) and the
    others stay silent (logit about -6), so turns come and go like speech."""
    import numpy as np
    import torch

    noise = np.random.default_rng(SEED).standard_normal(16_000 * 12).astype(np.float32) * 0.1
    with torch.no_grad():
        logits = model(**processor(noise, sampling_rate=16_000, return_tensors="pt")).logits[0]
        mean, std = logits.mean(dim=0), logits.std(dim=0).clamp(min=1e-12)
        scale = torch.full_like(std, 2.5) / std
        out = model.classifier.out_proj
        out.weight.mul_(scale[:, None])
        out.bias.sub_(mean).mul_(scale)
        out.bias[active:] -= 6.0


BUILDERS: dict[str, Builder] = {"nemotron-diarization": build_nemotron_diarization}
