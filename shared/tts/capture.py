"""What a text-to-speech run records for the "Inside the model" views, captured during the one synthesis run
(forward hooks and the engines' own return values; never a second pass):

- SpeechT5: the mel spectrogram the decoder predicted (what the vocoder was given) and the stop head's score per
  decoder step.
- Bark: tokens written by each of the three models (semantic → coarse → fine) and the time each one took.
- MMS / VITS: the duration the model chose for every input character.
- Piper: the espeak-ng phonemes it spoke, per sentence (and per-phoneme durations when the ONNX voice exposes them).

A loaded model can serve two requests at once (the shared concurrency group allows it), so every hook records only
the calls made by the thread that installed it: each run's pictures show its own pass. The pictures are drawn from
these recordings in shared.tts.inside.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.inside import ThreadHooks, architecture_card, format_count, to_numpy
from shared.models.modules import parameter_count
from shared.progress import Stopwatch

SPEECHT5_STOP_THRESHOLD = 0.5  # the decoder stops once a step's stop probabilities add up to this


# ---- SpeechT5 -----------------------------------------------------------------------------------------------------
@dataclass
class SpeechT5Part:
    mel: np.ndarray  # (frames, mel bins): the decoder's prediction after the postnet, exactly what the vocoder read
    stop: np.ndarray  # (decoder steps,): per step, the sum of its frames' stop probabilities


@dataclass
class SpeechT5Trace:
    reduction_factor: int  # mel frames written per decoder step
    frame_s: float  # seconds of audio per mel frame (the vocoder's hop)
    threshold: float = SPEECHT5_STOP_THRESHOLD
    parts: list[SpeechT5Part] = field(default_factory=list)
    xvector: np.ndarray | None = None  # (512,) the recording's x-vector when SpeechT5 spoke in a recorded voice
    nearest_preset: tuple[str, np.ndarray] | None = None  # the CMU ARCTIC preset closest to it (name, x-vector)


@contextmanager
def trace_speecht5(pipe: Any) -> Iterator[SpeechT5Trace]:
    """Record, while the pipeline runs, the stop head's output of every decoder step and the spectrogram handed to
    the vocoder (one part per pipeline call)."""
    model, vocoder = pipe.model, pipe.vocoder
    trace = SpeechT5Trace(int(model.config.reduction_factor),
                          float(np.prod(vocoder.config.upsample_rates)) / vocoder.config.sampling_rate)
    stop_logits: list[Any] = []

    def on_stop(logits: Any) -> None:
        stop_logits.append(logits.detach())

    def on_vocoder(args: tuple, kwargs: dict) -> None:
        import torch

        mel = args[0] if args else kwargs["spectrogram"]
        stop = torch.sigmoid(torch.cat(stop_logits).float()).sum(-1) if stop_logits else torch.zeros(0)
        trace.parts.append(SpeechT5Part(to_numpy(mel).reshape(-1, mel.shape[-1]), to_numpy(stop).reshape(-1)))
        stop_logits.clear()

    with ThreadHooks() as hooks:
        hooks.after(model.speech_decoder_postnet.prob_out, on_stop)
        hooks.before(vocoder, on_vocoder)
        yield trace


# ---- VITS (MMS) ---------------------------------------------------------------------------------------------------
@dataclass
class VitsPart:
    tokens: list[str]  # what the model read, one per input id (the tokenizer's blanks included)
    blank: list[bool]  # which of them are blanks
    frames: np.ndarray  # (tokens,) spectrogram frames the duration predictor gave each token


@dataclass
class VitsTrace:
    frame_s: float  # seconds of audio per spectrogram frame (the decoder's upsampling)
    parts: list[VitsPart] = field(default_factory=list)


@contextmanager
def trace_vits(pipe: Any) -> Iterator[VitsTrace]:
    """Record the input ids of every forward pass and the durations its duration predictor chose."""
    model, tokenizer = pipe.model, pipe.tokenizer
    trace = VitsTrace(float(np.prod(model.config.upsample_rates)) / model.config.sampling_rate)
    pending: dict[str, Any] = {}
    interleaved = bool(getattr(tokenizer, "add_blank", False))  # the tokenizer puts a blank around every character

    def on_model(args: tuple, kwargs: dict) -> None:
        pending["ids"] = kwargs["input_ids"] if "input_ids" in kwargs else args[0]
        pending["rate"] = kwargs.get("speaking_rate") or model.speaking_rate

    def on_durations(log_duration: Any) -> None:
        import torch

        # the same rounding VitsModel.forward applies to the predictor's output
        frames = torch.ceil(torch.exp(log_duration.float()) / pending["rate"])
        ids = pending["ids"][0].tolist()
        tokens = tokenizer.convert_ids_to_tokens(ids)
        blank = [interleaved and index % 2 == 0 for index in range(len(ids))]
        trace.parts.append(VitsPart(tokens, blank, to_numpy(frames).reshape(-1)[:len(ids)]))

    with ThreadHooks() as hooks:
        hooks.before(model, on_model)
        hooks.after(model.duration_predictor, on_durations)
        yield trace


# ---- Bark ---------------------------------------------------------------------------------------------------------
BARK_STAGES = (("semantic", "semantic"), ("coarse_acoustics", "coarse"), ("fine_acoustics", "fine"))


@dataclass
class BarkStage:
    name: str  # "semantic", "coarse" or "fine"
    shape: tuple[int, ...]  # of the tokens it returned, without the batch dimension
    seconds: float

    @property
    def tokens(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class BarkTrace:
    coarse_codebooks: int
    fine_codebooks: int
    frame_rate: float  # EnCodec frames per second of audio
    parts: list[list[BarkStage]] = field(default_factory=list)  # per chunk, the stages in order
    part_seconds: list[float] = field(default_factory=list)  # per chunk, the whole generation (+ EnCodec decoding)


_BARK_RUN = threading.local()
_BARK_INSTALL = threading.Lock()


def _timed_generate(stage: str, generate: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        trace: BarkTrace | None = getattr(_BARK_RUN, "trace", None)
        with Stopwatch() as generation:
            output = generate(*args, **kwargs)
        if trace is not None:
            tokens = output[0] if isinstance(output, tuple) else getattr(output, "sequences", output)
            if stage == "semantic":
                trace.parts.append([])
            trace.parts[-1].append(BarkStage(stage, tuple(int(n) for n in tokens.shape[1:]), generation.seconds))
        return output

    return timed


def _install_bark_timers(model: Any) -> None:
    """Wrap the three sub-models' generate once per loaded Bark model (an instance attribute BarkModel.generate
    calls); the wrapper records into the calling thread's trace, if it has one, and otherwise just passes through.
    Installed once, never removed: swapping methods per run would race between concurrent requests."""
    with _BARK_INSTALL:
        for attribute, stage in BARK_STAGES:
            sub_model = getattr(model, attribute)
            if not getattr(sub_model, "_ads_stage_timer", False):
                sub_model.generate = _timed_generate(stage, sub_model.generate)
                sub_model._ads_stage_timer = True


@contextmanager
def trace_bark(pipe: Any) -> Iterator[BarkTrace]:
    """Record, for every chunk the calling thread generates, the tokens and seconds of Bark's three stages (the
    caller appends each chunk's whole generation time to `part_seconds`)."""
    model = pipe.model
    _install_bark_timers(model)
    config = model.generation_config
    codec = model.codec_model.config
    frame_rate = codec.sampling_rate / float(np.prod(codec.upsampling_ratios))
    trace = BarkTrace(int(config.coarse_acoustics_config["n_coarse_codebooks"]),
                      int(config.fine_acoustics_config["n_fine_codebooks"]), frame_rate)
    _BARK_RUN.trace = trace
    try:
        yield trace
    finally:
        _BARK_RUN.trace = None


# ---- Piper --------------------------------------------------------------------------------------------------------
@dataclass
class PiperSentence:
    phonemes: list[str]  # espeak-ng's IPA phonemes, as the voice read them
    samples: int  # audio samples the sentence became
    phoneme_samples: list[tuple[str, int]] | None = None  # per phoneme, when the ONNX voice exposes alignments


@dataclass
class PiperTrace:
    sample_rate: int
    sentences: list[PiperSentence] = field(default_factory=list)

    def add(self, chunk: Any) -> None:
        """One piper AudioChunk (one sentence) of the synthesis."""
        alignments = getattr(chunk, "phoneme_alignments", None)
        per_phoneme = [(a.phoneme, int(a.num_samples)) for a in alignments] if alignments else None
        self.sentences.append(PiperSentence(list(chunk.phonemes), len(chunk.audio_float_array), per_phoneme))


# ---- codec language models (CSM, Dia) ---------------------------------------------------------------------------
@dataclass
class CodecLmPart:
    """One generation: the codes of the voice reference the model continued and the codes it wrote."""

    prompt: np.ndarray  # (codebooks, frames) of the reference recording; (codebooks, 0) without one
    generated: np.ndarray  # (codebooks, frames) written for this part's text (delay pattern undone for Dia)


@dataclass
class CodecLmTrace:
    """What a CSM or Dia run recorded: per part the token grids, and the seconds of each stage summed over the
    parts ("encode the reference", "generate tokens", "decode to audio")."""

    family: str  # "csm" or "dia"
    codec: str  # "Mimi" (CSM) or "DAC" (Dia)
    codebook_size: int  # codes per codebook
    frame_rate: float  # codec frames per second of audio
    prompt_text: str = ""  # the reference's transcript the model read before the new text
    parts: list[CodecLmPart] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


_ENCODE_RUN = threading.local()
_ENCODE_INSTALL = threading.Lock()


def _recorded_encode(encode: Callable[..., Any]) -> Callable[..., Any]:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        with Stopwatch() as watch:
            output = encode(*args, **kwargs)
        calls: list | None = getattr(_ENCODE_RUN, "calls", None)
        if calls is not None:
            calls.append((to_numpy(output.audio_codes[0]), watch.seconds))  # (codebooks, frames)
        return output

    return recorded


@contextmanager
def record_codec_encode(codec: Any) -> Iterator[list[tuple[np.ndarray, float]]]:
    """While the block runs, the codes (codebooks × frames) and seconds of every `codec.encode` call made by this
    thread: the reference recording as CSM's generate encodes it (Mimi), no second encoding. The wrapper is
    installed once per loaded codec and passes calls of other threads straight through."""
    with _ENCODE_INSTALL:
        if not getattr(codec, "_ads_encode_recorder", False):
            codec.encode = _recorded_encode(codec.encode)
            codec._ads_encode_recorder = True
    calls: list[tuple[np.ndarray, float]] = []
    _ENCODE_RUN.calls = calls
    try:
        yield calls
    finally:
        _ENCODE_RUN.calls = None


Trace = SpeechT5Trace | BarkTrace | VitsTrace | PiperTrace | CodecLmTrace


# ---- the card -----------------------------------------------------------------------------------------------------
PIPER_NOTE = ("Piper runs this architecture exported to ONNX (onnxruntime) and reads phonemes, not letters: "
              "espeak-ng turns the text into IPA first.")


CODEC_LM_CARDS = {
    "csm": ("Codec language model (CSM: Llama backbone + depth decoder over Mimi tokens)",
            "Text and audio share one sequence: a 1B Llama backbone reads the conversation (each turn's text, then "
            "its audio as Mimi codec frames, 12.5 per second) and predicts the first of 32 codebooks of the next "
            "frame; a small depth decoder fills in the other 31. Given a recording and its transcript as an "
            "earlier turn, it continues in that voice. Mimi turns the frames back into 24 kHz audio."),
    "dia": ("Codec language model (Dia: encoder-decoder over DAC tokens)",
            "An encoder reads the script's bytes ([S1]/[S2] mark speakers); a decoder writes 9 DAC codebooks per "
            "frame (86 frames per second) with a delay pattern, codebook k lagging 8–15 frames behind the first, "
            "under classifier-free guidance. A recording's DAC frames put first in the decoder (its transcript "
            "first in the script) set the voice. DAC turns the frames back into 44.1 kHz audio."),
}


def card(family: str, model: Any, model_id: str, engine: str) -> str:
    """The architecture card of the loaded model (markdown)."""
    if family in CODEC_LM_CARDS:
        title, body = CODEC_LM_CARDS[family]
        return f"**{title}** — `{model_id}`  \n{body}  \n*Size:* {format_count(parameter_count(model))}."
    text = architecture_card(family, model, model_id)
    return f"{text}  \n{PIPER_NOTE}" if engine == "piper" else text


@dataclass
class TtsRecording:
    """What a synthesis run keeps for its pictures: the trace captured during the run and the architecture card
    (not the audio itself)."""

    trace: Trace | None
    card: str
