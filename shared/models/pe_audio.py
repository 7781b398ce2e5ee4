"""Meta's Perception Encoder audio (PE-Audio) for zero-shot audio classification (engine "pe-audio").

transformers' zero-shot audio pipeline expects CLAP's outputs (`logits_per_audio`), which PE-Audio does not give, so
this engine loads the model class itself (`AutoModel`: `PeAudioModel`, or the text-audio part `.audio_model` of a
`PeAudioVideoModel` such as facebook/pe-av-large) with its tokenizer and 48 kHz feature extractor, and exposes what
the Zero-shot code calls: `embed_text(prompts)`, `embed_audio(batch)` and `logit_scale`, plus a pipeline-style call.
Scores are the model's own: projected audio embedding · projected text embedding × its logit scale (+ its bias, which
a softmax over the labels cancels). Safetensors only, no remote code, only registry ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.models.device import Placement
from shared.models.registry import ModelSpec


@dataclass
class PeAudioZeroShot:
    """PE-Audio's text and audio towers (`model`: a PeAudioModel), its tokenizer and feature extractor."""

    model: Any
    tokenizer: Any
    feature_extractor: Any

    @property
    def logit_scale(self) -> float:
        """The factor the model multiplies its audio · text products by (no exp: the model uses it as stored)."""
        return float(self.model.text_audio_logit_scale.detach().float().cpu()[0])

    def embed_text(self, prompts: list[str]) -> np.ndarray:
        """(prompts × dimensions): the projected text embedding of each prompt (its first token's last hidden state)."""
        import torch

        inputs = self.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt").to(self.model.device)
        with torch.inference_mode():  # as PeAudioModel.forward does (get_text_audio_embeds asks no hidden states)
            outputs = self.model.text_model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"),
                                            output_hidden_states=True, return_dict=True)
            embeds = self.model.text_audio_head(outputs.hidden_states[-1][:, 0])
        return embeds.float().cpu().numpy()

    def embed_audio(self, batch: list[np.ndarray]) -> np.ndarray:
        """(items × dimensions): the projected audio embedding of each item (samples at the extractor's 48 kHz)."""
        import torch

        extractor = self.feature_extractor
        inputs = extractor(batch, sampling_rate=extractor.sampling_rate, return_tensors="pt")
        inputs = inputs.to(device=self.model.device, dtype=self.model.dtype)
        with torch.inference_mode():
            embeds = self.model.get_audio_embeds(inputs["input_values"], inputs.get("padding_mask"))
        return embeds.float().cpu().numpy()

    def __call__(self, audio: np.ndarray, candidate_labels: list[str],
                 hypothesis_template: str = "This is a sound of {}.") -> list[dict[str, Any]]:
        """Like transformers' zero-shot audio pipeline: labels with softmax scores, best first."""
        prompts = [hypothesis_template.replace("{}", label) for label in candidate_labels]
        logits = self.logit_scale * (self.embed_audio([audio]) @ self.embed_text(prompts).T)[0]
        scores = np.exp(logits - logits.max())
        scores /= scores.sum()
        order = np.argsort(-scores)
        return [{"label": candidate_labels[i], "score": float(scores[i])} for i in order]


def load_pe_audio(spec: ModelSpec, placement: Placement, options: dict) -> PeAudioZeroShot:
    """PE-Audio's text-audio model from the registry repo (safetensors, no remote code)."""
    from transformers import AutoFeatureExtractor, AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(spec.id, dtype=placement.torch_dtype, use_safetensors=True,
                                      trust_remote_code=False)
    text_audio = getattr(model, "audio_model", model)  # PeAudioVideoModel holds a PeAudioModel
    return PeAudioZeroShot(text_audio.eval().to(placement.device), AutoTokenizer.from_pretrained(spec.id),
                           AutoFeatureExtractor.from_pretrained(spec.id))
