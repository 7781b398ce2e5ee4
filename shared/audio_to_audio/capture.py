"""What an audio-to-audio run records for "Inside the model" (cheap arrays, taken from the run itself: no second
forward pass) and the architecture card of each model family: SpeechT5's predicted mel spectrogram and the three
x-vectors (source, target, output), SepFormer's estimated masks and sources, MetricGAN+'s input and output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.inside import format_count
from shared.models.modules import parameter_count

# plain-language architecture cards, one per registry family of the Audio -> audio tab
CARDS: dict[str, tuple[str, str]] = {
    "speecht5-vc": (
        "SpeechT5 speech-to-speech: speech encoder + mel decoder + HiFi-GAN vocoder",
        "A convolutional prenet turns the waveform into 50 frames per second and a transformer encoder reads them; "
        "an autoregressive decoder predicts mel-spectrogram frames, two per step, conditioned on a 512-d speaker "
        "x-vector (the target voice) and attending to the encoder, until its stop head fires; HiFi-GAN turns the mel "
        "spectrogram into a waveform. The words come from the input, the voice from the x-vector.",
    ),
    "sb-metricgan": (
        "MetricGAN+: a spectral mask from a BLSTM",
        "The noisy STFT magnitude (512-point frames) goes through a bidirectional LSTM and two linear layers that "
        "output a gain between 0 and 1 for every time-frequency bin; the masked magnitude with the noisy phase is "
        "turned back into a waveform. It was trained adversarially to maximise a learned PESQ predictor.",
    ),
    "sb-sepformer": (
        "SepFormer: learned encoder, dual-path transformer masks, decoder",
        "A 1-D convolution turns the waveform into a learned 'spectrogram' (256 bases every 1 ms at 8 kHz). A "
        "dual-path transformer looks within 250-frame chunks and across chunks and estimates one mask per source "
        "over those bases; each masked copy is decoded back to a waveform by a transposed convolution. No STFT, no "
        "phase problem: the basis is learned.",
    ),
    "demucs": (
        "Hybrid Transformer Demucs: a waveform U-Net and a spectrogram U-Net joined by a transformer",
        "One encoder reads the waveform, another the complex spectrogram (real and imaginary parts as channels); "
        "a cross-domain transformer lets the two exchange information at their deepest layer; the decoders predict "
        "every stem directly (no mask) in both domains and their outputs are summed. Long music is processed in "
        "overlapping 7.8 s segments.",
    ),
}


@dataclass(frozen=True)
class ConversionTrace:
    """SpeechT5's mel before the vocoder (frames, 80) every `mel_hop_s` s, and the x-vectors (512,) of the input,
    the target voice and the converted output (unit length; the output's is None when it could not be taken)."""

    mel: np.ndarray
    mel_hop_s: float
    source_xvector: np.ndarray | None
    target_xvector: np.ndarray
    output_xvector: np.ndarray | None
    target_label: str


@dataclass(frozen=True)
class SeparationTrace:
    """The separator's masks (sources, bases, frames) every `frame_hop_s` s (None for Demucs, which predicts the
    sources directly) and its sources (sources, samples) at `sample_rate` Hz, with the mixture they came from."""

    masks: np.ndarray | None
    frame_hop_s: float
    sources: np.ndarray
    mixture: np.ndarray
    sample_rate: int
    labels: tuple[str, ...] = ()  # one name per source


@dataclass(frozen=True)
class EnhancementTrace:
    """The noisy input and the enhanced output (same length, `sample_rate` Hz); SepFormer enhancers add their
    masks (1, bases, frames) every `frame_hop_s` s."""

    noisy: np.ndarray
    enhanced: np.ndarray
    sample_rate: int
    masks: np.ndarray | None = None
    frame_hop_s: float = 0.0


Trace = ConversionTrace | SeparationTrace | EnhancementTrace


@dataclass(frozen=True)
class A2ARecording:
    """What one run keeps for its pictures: the trace and the architecture card (written while the model was
    loaded, so it can state the real parameter count)."""

    trace: Trace
    card: str


def card(family: str, model: Any, model_id: str) -> str:
    """Markdown: how the family works and the loaded model's parameter count."""
    title, body = CARDS.get(family, ("Model", "No description for this model family."))
    return f"**{title}** — `{model_id}`  \n{body}  \n*Size:* {format_count(parameter_count(model))}."
