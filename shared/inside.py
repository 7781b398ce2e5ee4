""""Inside the model": the pictures of a pipeline's intermediate steps and a short architecture card per model
family. Views are computed from the run that produced the answer (no second forward pass); `ForwardCounter`
lets tests prove it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.models.modules import parameter_count
from shared.models.registry import UnknownModelError, get_spec

# plain-language architecture cards, one per registry family
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "whisper": (
        "Encoder-decoder (seq2seq) transformer",
        "The encoder reads 30 s of log-mel spectrogram (two convolutions halve the frame rate to 50 per second) "
        "and turns it into a sequence of vectors. The decoder writes text one token at a time, attending to those "
        "vectors; special tokens at the start choose the language and the task (transcribe or translate), and "
        "timestamp tokens mark where segments begin and end. Long audio is cut into 30 s windows.",
    ),
    "ctc": (
        "Encoder-only transformer with a CTC head",
        "A convolutional feature encoder turns the raw waveform into one frame per 20 ms; a transformer gives each "
        "frame context; a linear layer scores every character (plus a 'blank') for every frame. Decoding is the "
        "greedy path: take each frame's best character, merge repeats, drop blanks. No language model, no "
        "decoder loop: one forward pass for the whole clip.",
    ),
    "moonshine-streaming": (
        "Streaming encoder-decoder on raw audio",
        "5 ms frames of the waveform go through two stride-2 convolutions (50 vectors per second); a sliding-window "
        "encoder looks 16 frames back and at most 4 ahead, so it can run while the audio arrives; an adapter adds "
        "positions and an autoregressive decoder writes the text. Here the clip is cut at Silero VAD pauses and "
        "each piece is decoded on its own (no timestamps inside a piece).",
    ),
    # models issue: Parakeet, Moonshine, language ID, PE-Audio
    "parakeet-ctc": (
        "FastConformer encoder with a CTC head (Parakeet CTC)",
        "An 80-band log-mel spectrogram (10 ms frames) goes through three stride-2 convolutions, so each encoder "
        "frame covers 80 ms; conformer blocks (self-attention for the whole clip plus convolution for local detail) "
        "give each frame context, and a linear layer scores every sentencepiece token plus a 'blank' per frame. "
        "Decoding is CTC's greedy path: best token per frame, repeats merged, blanks dropped. One forward pass.",
    ),
    "parakeet-tdt": (
        "FastConformer encoder with a Token-and-Duration Transducer (Parakeet TDT)",
        "The same 80 ms conformer encoder as Parakeet CTC; a small LSTM prediction network remembers the tokens "
        "written so far, and a joint network combines it with one encoder frame to predict both the next token "
        "(or 'blank') and a duration: how many frames to skip before the next step. Skipping frames makes "
        "decoding fast, and each token's frame is its timestamp.",
    ),
    "moonshine": (
        "Encoder-decoder on raw audio, variable length (Moonshine)",
        "Three convolutions (strides 64, 3, 2) turn the 16 kHz waveform into one vector per 24 ms, for exactly as "
        "long as the audio is: no 30 s padding as in Whisper, so short clips cost little. A transformer encoder "
        "with rotary positions gives each frame context and an autoregressive decoder writes the text. Here the "
        "clip is cut at Silero VAD pauses and each piece is decoded on its own (no timestamps inside a piece).",
    ),
    "mms-lid": (
        "wav2vec2 (MMS, XLS-R family) with a language-ID head",
        "The MMS-1B wav2vec2 encoder, pretrained on 1,400 languages of unlabelled speech: a convolutional encoder "
        "makes one frame per 20 ms of waveform and a 48-layer transformer gives each frame context; the frames are "
        "averaged over time and a linear layer scores each of the 126 languages (softmax).",
    ),
    "whisper-lid": (
        "Whisper's language detection as a classifier",
        "Whisper's encoder reads a 30 s log-mel window; its decoder then reads only the start-of-transcript token "
        "and predicts the next token, which in transcription is the language tag. The probabilities of the "
        "language tokens at that one step, renormalised over the languages, are the scores: the same step "
        "Whisper runs before it transcribes. No text is decoded.",
    ),
    "pe-audio": (
        "Perception Encoder audio: contrastive audio-text model (two towers)",
        "The audio tower turns the 48 kHz waveform into DAC codec features (one frame per 40 ms), adds a class "
        "token and runs a transformer with rotary positions; the text tower is ModernBERT. Each side's first "
        "token goes through a small projection into one shared space, trained (sigmoid loss, like SigLIP) so that "
        "a sound and its description score high. Zero-shot: the clip's embedding against each label prompt's, "
        "times the model's logit scale, softmaxed over your labels.",
    ),
    "wav2vec2-cls": (
        "Encoder-only transformer with a pooled classifier",
        "The same waveform encoder as wav2vec2 / HuBERT speech recognition, but the frame vectors are averaged "
        "over time into one vector that a linear layer maps to the classes.",
    ),
    "ast": (
        "Audio Spectrogram Transformer (ViT on spectrograms)",
        "A 128-band filterbank of the clip is cut into overlapping 16×16 patches, like an image; each patch becomes "
        "a token, a learned position is added, and a vision-transformer encoder mixes them. The [CLS] and "
        "distillation tokens are averaged and a linear layer scores each label (sigmoid for AudioSet's "
        "multi-label classes).",
    ),
    "clap": (
        "Contrastive audio-text model (two towers)",
        "An audio encoder (HTSAT, a Swin transformer over the mel spectrogram) and a text encoder (RoBERTa) each "
        "map their input to a vector in one shared space, trained so that a sound and its description point the "
        "same way. Zero-shot classification is the cosine similarity between the clip's vector and each label "
        "prompt's vector, turned into probabilities with a softmax.",
    ),
    "speecht5": (
        "Encoder-decoder transformer + HiFi-GAN vocoder",
        "A text encoder reads characters; an autoregressive decoder predicts mel-spectrogram frames one step at a "
        "time, conditioned on a speaker embedding (the voice), and a stop head says when to end. A separate "
        "HiFi-GAN vocoder turns the mel spectrogram into a waveform.",
    ),
    "bark": (
        "Three GPT-style transformers over audio codec tokens",
        "Text → semantic tokens (what is said) → coarse acoustic tokens (the first two EnCodec codebooks: voice "
        "and prosody) → fine tokens (the remaining six codebooks, predicted non-autoregressively) → EnCodec's "
        "decoder makes the waveform. Sampling makes each run different; a seed makes it repeatable.",
    ),
    "vits": (
        "VITS: end-to-end TTS with a duration predictor",
        "A text encoder reads the characters; a stochastic duration predictor decides how many spectrogram frames "
        "each character lasts; a normalising flow and a HiFi-GAN style decoder produce the waveform directly, in "
        "one non-autoregressive pass.",
    ),
    "pyannote": (
        "pyannote: segmentation → embeddings → clustering",
        "A small segmentation network (SincNet + LSTM) scores up to three local speakers every ~17 ms inside "
        "sliding 10 s chunks; a speaker-embedding network (ResNet) turns each local speaker's speech into a "
        "voice-print vector; agglomerative clustering groups the vectors across chunks into global speakers.",
    ),
    "pyannote-recipe": (
        "Built-in diarizer: VAD → segmentation → embeddings → clustering",
        "Silero VAD finds speech; pyannote's segmentation-3.0 (ONNX) scores up to three local speakers in 10 s "
        "chunks; Resemblyzer (an LSTM speaker encoder) embeds each speaker's speech; agglomerative clustering "
        "with a distance threshold decides how many speakers there are.",
    ),
    "nemotron-diarization": (
        "End-to-end diarization transformer (Streaming Sortformer)",
        "A 128-bin log-mel spectrogram every 10 ms, 8 frames stacked into one 80 ms encoder frame, a transformer "
        "encoder, then a head that upsamples back to 10 ms and gives each of 8 speaker slots a probability per frame "
        "(slots ordered by first arrival). Long audio goes through in 27 s chunks that also see a cache of earlier "
        "frames chosen per speaker, so a speaker keeps their slot across chunks; no VAD, embeddings or clustering.",
    ),
}


def format_count(count: int | None) -> str:
    if count is None:
        return "not a PyTorch model (ONNX / CTranslate2 weights)"
    if count >= 1e9:
        return f"{count / 1e9:.2f} B parameters"
    if count >= 1e6:
        return f"{count / 1e6:.1f} M parameters"
    return f"{count:,} parameters"


def _ctranslate2_count(model_id: str) -> str | None:
    """The registry's parameter count for a CTranslate2 (faster-whisper) model, labelled as such: CTranslate2 keeps
    its weights in native code, so the loaded model has no tensors to count."""
    try:
        spec = get_spec(model_id)
    except UnknownModelError:
        return None
    if spec.engine != "faster-whisper" or not spec.params_m:
        return None
    count = f"{spec.params_m / 1000:g} B" if spec.params_m >= 1000 else f"{spec.params_m:g} M"
    return (f"{count} parameters in the CTranslate2 weights (the registry's published count for this checkpoint: "
            "CTranslate2 keeps its tensors in native code, out of reach of a count)")


def architecture_card(family: str, model: Any = None, model_id: str = "") -> str:
    """Markdown: the family's title, how it works, and the parameter count read from the loaded model (for a
    CTranslate2 model, the registry's count, labelled as such)."""
    title, body = ARCHITECTURES.get(family, ("Model", "No description for this model family."))
    name = f" — `{model_id}`" if model_id else ""
    count = parameter_count(model)
    size = (count is None and _ctranslate2_count(model_id)) or format_count(count)
    return f"**{title}**{name}  \n{body}  \n*Size:* {size}."


@dataclass
class InsideView:
    """One picture of an intermediate step with the caption shown under it."""

    title: str
    image: np.ndarray  # RGB uint8, from shared.audio.plots.to_rgb (which closes the figure)
    caption: str

    def gallery_item(self) -> tuple[np.ndarray, str]:
        return self.image, f"{self.title}: {self.caption}"


def gallery_value(views: list[InsideView]) -> list[tuple[np.ndarray, str]]:
    return [view.gallery_item() for view in views]


class ForwardCounter:
    """Counts calls of a torch module's forward (tests assert the inside views cost no extra pass)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.calls = 0
        self._handle = None

    def _hook(self, *args: Any) -> None:
        self.calls += 1

    def __enter__(self) -> ForwardCounter:
        self._handle = self.module.register_forward_pre_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.remove()


BACKGROUND_THREADS = 2  # pictures drawn at once while models run (each request starts at most one)
_background: ThreadPoolExecutor | None = None
_background_lock = threading.Lock()


def in_background(work: Callable[[], Any]) -> Future:
    """Start `work` on a small shared thread pool: a picture drawn while a model decodes in native code, which
    releases the GIL, so on an idle core it costs no wall time. The caller collects it with `.result()`."""
    global _background
    with _background_lock:
        if _background is None:
            _background = ThreadPoolExecutor(BACKGROUND_THREADS, thread_name_prefix="inside-ahead")
    return _background.submit(work)


def to_numpy(tensor: Any) -> np.ndarray:
    """A captured tensor as float32 numpy, off the GPU and out of autograd."""
    return tensor.detach().float().cpu().numpy()


class ThreadHooks:
    """Forward hooks on torch modules that record only calls made by the thread that created this object: loaded
    models are shared, and a concurrent request on the same model must not be mixed into this run's recording."""

    def __init__(self) -> None:
        self._thread = threading.get_ident()
        self._handles: list[Any] = []

    def before(self, module: Any, record: Callable[[tuple, dict], None]) -> None:
        """record(args, kwargs) before each of this thread's calls of module.forward."""

        def hook(_module: Any, args: tuple, kwargs: dict) -> None:
            if threading.get_ident() == self._thread:
                record(args, kwargs)

        self._handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    def after(self, module: Any, record: Callable[[Any], None]) -> None:
        """record(output) after each of this thread's calls of module.forward."""
        self.after_with_kwargs(module, lambda _kwargs, output: record(output))

    def after_with_kwargs(self, module: Any, record: Callable[[dict, Any], None]) -> None:
        """record(kwargs, output) after each of this thread's calls of module.forward."""

        def hook(_module: Any, _args: tuple, kwargs: dict, output: Any) -> None:
            if threading.get_ident() == self._thread:
                record(kwargs, output)

        self._handles.append(module.register_forward_hook(hook, with_kwargs=True))

    def __enter__(self) -> ThreadHooks:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
