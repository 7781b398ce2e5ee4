"""Whisper's own language detection as an audio classifier (engine "whisper-language-id").

Whisper detects the language with its first decoding step: the decoder reads only the start-of-transcript token
and the encoded 30 s window, and the language tokens' logits are its answer. `WhisperLanguageClassifier` runs that
one step and returns the logits of the language tokens only, with a config naming them (`id2label`: language codes,
single-label, so the Classify tab applies a softmax over the languages, as `generate()` does). The loaded object
looks like a transformers audio-classification pipeline to the Classify code (`.model`, `.feature_extractor`, and a
call that returns the top-k labels with scores). Loaded from the spec's `options["repo"]` (a multilingual Whisper
registry repo), safetensors only.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from shared.errors import ModelUnavailableError
from shared.models.device import Placement
from shared.models.registry import ModelSpec


def _classifier_class() -> type:
    """The torch module class, defined on first use so that importing this module does not import torch."""
    import torch

    class WhisperLanguageClassifier(torch.nn.Module):
        """One decoding step of a Whisper model over the start token: logits of the language tokens (batch ×
        languages), in the order of `config.id2label`."""

        def __init__(self, whisper: Any, lang_to_id: dict[str, int]) -> None:
            super().__init__()
            self.model = whisper
            codes = [token.strip("<|>") for token in lang_to_id]
            self.register_buffer("language_ids", torch.tensor(list(lang_to_id.values())), persistent=False)
            self.config = SimpleNamespace(id2label=dict(enumerate(codes)),
                                          label2id={code: i for i, code in enumerate(codes)},
                                          num_labels=len(codes), problem_type="single_label_classification")
            self.start_id = int(whisper.generation_config.decoder_start_token_id)

        @property
        def device(self) -> Any:
            return self.model.device

        @property
        def dtype(self) -> Any:
            return self.model.dtype

        def forward(self, input_features: Any, **_: Any) -> Any:
            start = torch.full((input_features.shape[0], 1), self.start_id, device=input_features.device)
            logits = self.model(input_features=input_features, decoder_input_ids=start, use_cache=False).logits
            return SimpleNamespace(logits=logits[:, -1, self.language_ids])

    return WhisperLanguageClassifier


@dataclass
class WhisperLanguageId:
    """The loaded classifier and Whisper's feature extractor (80 or 128 mel bins, 30 s windows at 16 kHz)."""

    model: Any
    feature_extractor: Any

    def __call__(self, inputs: dict[str, Any], top_k: int = 5) -> list[dict[str, Any]]:
        """{"raw": 16 kHz samples, "sampling_rate": 16000} → the top-k languages with their probabilities, as a
        transformers audio-classification pipeline answers."""
        import torch

        features = self.feature_extractor(inputs["raw"], sampling_rate=inputs["sampling_rate"], return_tensors="pt")
        features = features.to(device=self.model.device, dtype=self.model.dtype)
        with torch.inference_mode():
            logits = self.model(**features).logits[0].float()
        probabilities = torch.softmax(logits, dim=-1).cpu().numpy()
        order = np.argsort(-probabilities)[:top_k]
        return [{"label": self.model.config.id2label[int(i)], "score": float(probabilities[i])} for i in order]


def load_whisper_language_id(spec: ModelSpec, placement: Placement, options: dict) -> WhisperLanguageId:
    """Whisper's language detection from the registry repo `spec.options["repo"]` (safetensors, no remote code)."""
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    repo = spec.options["repo"]
    whisper = WhisperForConditionalGeneration.from_pretrained(repo, dtype=placement.torch_dtype,
                                                              use_safetensors=True, trust_remote_code=False)
    lang_to_id = getattr(whisper.generation_config, "lang_to_id", None)
    if not lang_to_id:
        raise ModelUnavailableError(f"{repo} is an English-only Whisper: it has no language tokens to detect with.")
    model = _classifier_class()(whisper.eval(), lang_to_id).to(placement.device)
    return WhisperLanguageId(model, WhisperFeatureExtractor.from_pretrained(repo))
