"""SpeechT5 voice conversion as an engine of the loader ("speecht5-vc"): `load_speecht5_vc` returns a
`VoiceConverter` whose `convert(samples_16k, xvector)` says the recording's words in the voice of a 512-d speaker
x-vector. SpeechT5ForSpeechToSpeech (speech encoder -> autoregressive mel decoder conditioned on the x-vector) and
the HiFi-GAN vocoder of the registry spec; safetensors only, no remote code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.models.device import Placement
from shared.models.registry import ModelSpec

SAMPLE_RATE = 16_000  # Hz, in and out
MEL_HOP_S = 256 / SAMPLE_RATE  # seconds per predicted mel frame (the vocoder makes 256 samples of each)
# decoder steps per encoder frame: the encoder sees 50 frames/s, each step predicts 2 mel frames (32 ms), so the same
# speech takes ~0.63 steps per frame; 1.2 lets the converted speech run up to ~1.9x the input's length
MAX_LEN_RATIO = 1.2
STOP_THRESHOLD = 0.5  # the stop head's probability that ends generation (the model's default)


@dataclass
class Converted:
    """One conversion: `samples` (float32 at SAMPLE_RATE) and the decoder's `mel` (frames, 80) before the vocoder."""

    samples: np.ndarray
    mel: np.ndarray


@dataclass
class VoiceConverter:
    """SpeechT5 speech-to-speech with its processor and vocoder (`model` is the torch module the loader weighs)."""

    model: Any
    processor: Any
    vocoder: Any
    device: str

    def convert(self, samples_16k: np.ndarray, xvector: np.ndarray) -> Converted:
        """`samples_16k` (mono float32, 16 kHz speech) spoken in the voice of `xvector` (512 floats)."""
        import torch

        dtype = self.model.dtype
        inputs = self.processor(audio=samples_16k, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        values = inputs["input_values"].to(self.device, dtype)
        speaker = torch.from_numpy(np.asarray(xvector, dtype=np.float32)).reshape(1, -1).to(self.device, dtype)
        with torch.inference_mode():
            mel = self.model.generate_speech(values, speaker, threshold=STOP_THRESHOLD, maxlenratio=MAX_LEN_RATIO)
            wave = self.vocoder(mel)
        return Converted(wave.reshape(-1).float().cpu().numpy(), mel.float().cpu().numpy())


def load_speecht5_vc(spec: ModelSpec, placement: Placement, options: dict) -> VoiceConverter:
    """SpeechT5ForSpeechToSpeech + SpeechT5Processor from `spec.id`, SpeechT5HifiGan from spec.options["vocoder"]."""
    from transformers import SpeechT5ForSpeechToSpeech, SpeechT5HifiGan, SpeechT5Processor

    common: dict[str, Any] = {"dtype": placement.torch_dtype, "use_safetensors": True, "trust_remote_code": False}
    processor = SpeechT5Processor.from_pretrained(spec.id)
    model = SpeechT5ForSpeechToSpeech.from_pretrained(spec.id, **common).to(placement.device).eval()
    vocoder = SpeechT5HifiGan.from_pretrained(spec.options["vocoder"], **common).to(placement.device).eval()
    return VoiceConverter(model, processor, vocoder, placement.device)
