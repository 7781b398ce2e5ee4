""""Inside the model" for text to speech: what each engine computed on its way to the waveform, captured during
the one synthesis run (forward hooks and the engines' own return values; never a second pass) and drawn as
pictures with plain-language captions.

- SpeechT5: the mel spectrogram the decoder predicted (what the vocoder was given) and the stop head's score per
  decoder step.
- Bark: tokens written by each of the three models (semantic → coarse → fine) and the time each one took.
- MMS / VITS: the duration the model chose for every input character.
- Piper: the espeak-ng phonemes it spoke, per sentence (and per-phoneme durations when the ONNX voice exposes them).

A loaded model can serve two requests at once (the shared concurrency group allows it), so every hook records only
the calls made by the thread that installed it: each run's pictures show its own pass.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb
from shared.inside import InsideView, ThreadHooks, architecture_card, gallery_value, to_numpy

SPEECHT5_STOP_THRESHOLD = 0.5  # the decoder stops once a step's stop probabilities add up to this
MAX_DURATION_BARS = 120  # characters / phonemes drawn in a duration chart; the caption says when there are more
MAX_PIPER_ROWS = 12  # sentences drawn in the phoneme picture
MAX_STOP_CURVES = 8  # SpeechT5 parts drawn in the stop-score chart
SPACE, BLANK = "␣", "∅"


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
        start = time.perf_counter()
        output = generate(*args, **kwargs)
        if trace is not None:
            tokens = output[0] if isinstance(output, tuple) else getattr(output, "sequences", output)
            if stage == "semantic":
                trace.parts.append([])
            trace.parts[-1].append(BarkStage(stage, tuple(int(n) for n in tokens.shape[1:]),
                                             time.perf_counter() - start))
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


Trace = SpeechT5Trace | BarkTrace | VitsTrace | PiperTrace


# ---- the card -----------------------------------------------------------------------------------------------------
PIPER_NOTE = ("Piper runs this architecture exported to ONNX (onnxruntime) and reads phonemes, not letters: "
              "espeak-ng turns the text into IPA first.")


def card(family: str, model: Any, model_id: str, engine: str) -> str:
    """The architecture card of the loaded model (markdown)."""
    text = architecture_card(family, model, model_id)
    return f"{text}  \n{PIPER_NOTE}" if engine == "piper" else text


# ---- pictures -----------------------------------------------------------------------------------------------------
def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def speecht5_views(trace: SpeechT5Trace) -> list[InsideView]:
    parts = [part for part in trace.parts if part.mel.size]
    if not parts:
        return []
    mel = np.nan_to_num(np.concatenate([part.mel for part in parts]).T.astype(np.float32))  # (bins, frames)
    frames = mel.shape[1]
    fig = new_figure()
    ax = fig.add_subplot()
    low, high = (float(v) for v in np.percentile(mel, [1, 99]))
    image = ax.imshow(pool_columns(mel), origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                      extent=(0, frames * trace.frame_s, 0, mel.shape[0]), vmin=low, vmax=max(high, low + 1e-6))
    border = 0
    for part in parts[:-1]:
        border += len(part.mel)
        ax.axvline(border * trace.frame_s, color="white", ls="--", lw=1)
    ax.set(xlabel="time (s)", ylabel=f"mel band (of {mel.shape[0]})",
           title="SpeechT5: mel spectrogram predicted by the decoder, before the vocoder")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-mel (model units)")
    steps = sum(len(part.stop) for part in parts)
    in_parts = f" in {len(parts)} parts (dashed lines)" if len(parts) > 1 else ""
    mel_view = InsideView(
        "Predicted mel spectrogram",
        to_rgb(fig),
        f"The decoder wrote {frames} frames × {mel.shape[0]} mel bands ({frames * trace.frame_s:.2f} s){in_parts}, "
        f"{trace.reduction_factor} frames per step over {steps} steps; the HiFi-GAN vocoder turned exactly this "
        "picture into the waveform. Time runs left to right, low pitches at the bottom, brighter = louder.")

    fig = new_figure((10, 2.8))
    ax = fig.add_subplot()
    peak = trace.threshold
    stopped = 0
    for index, part in enumerate(parts[:MAX_STOP_CURVES]):
        score = np.nan_to_num(part.stop)
        steps_axis = np.arange(1, len(score) + 1)
        ax.plot(steps_axis, score, marker="." if len(score) < 60 else None, lw=1.2,
                label=f"part {index + 1}" if len(parts) > 1 else None)
        peak = max(peak, float(score.max(initial=0)))
    for part in parts:
        stopped += bool(len(part.stop)) and float(part.stop[-1]) >= trace.threshold
    ax.axhline(trace.threshold, color="black", ls="--", lw=1, label=f"stop threshold {trace.threshold:g}")
    ax.set(xlabel="decoder step", ylabel="stop score", ylim=(0, peak * 1.08),
           title=f"SpeechT5: stop head per decoder step (Σ of the step's {trace.reduction_factor} frame "
                 "probabilities)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    if len(parts) == 1:
        how = (f"it reached {trace.threshold:g} at step {len(parts[0].stop)}, so the decoder stopped there"
               if stopped else f"it never reached {trace.threshold:g}: the decoder was stopped at its length limit "
               f"after {len(parts[0].stop)} steps")
    else:
        how = f"{stopped} of {len(parts)} parts were ended by the stop head, the others by the length limit"
    stop_view = InsideView(
        "Stop probability",
        to_rgb(fig),
        f"After each decoder step a small 'stop' layer scores whether the speech is finished; {how}. "
        "Up = more sure it is done; the dashed line is the threshold.")
    return [mel_view, stop_view]


def _duration_bars(labels: list[str], own_s: np.ndarray, extra_s: np.ndarray | None, title: str,
                   xlabel: str, own_label: str, extra_label: str) -> np.ndarray:
    fig = new_figure((10, 3.2))
    ax = fig.add_subplot()
    positions = np.arange(len(labels))
    ax.bar(positions, own_s, color="#1f77b4", width=0.8, label=own_label if extra_s is not None else None)
    if extra_s is not None:
        ax.bar(positions, extra_s, bottom=own_s, color="#aec7e8", width=0.8, label=extra_label)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xticks(positions, labels, fontsize=8 if len(labels) <= 60 else 6)
    ax.set(xlim=(-0.6, max(len(labels), 1) - 0.4), xlabel=xlabel, ylabel="seconds", title=title)
    ax.grid(axis="y", alpha=0.3)
    return to_rgb(fig)


def _shown(token: str) -> str:
    return SPACE if token.isspace() else token


def vits_views(trace: VitsTrace) -> list[InsideView]:
    labels: list[str] = []
    own: list[float] = []
    blank: list[float] = []
    for part in trace.parts:
        for token, is_blank, frames in zip(part.tokens, part.blank, part.frames, strict=True):
            if is_blank and labels:
                blank[-1] += float(frames)
            elif is_blank:  # the blank before the first character
                labels.append(BLANK)
                own.append(0.0)
                blank.append(float(frames))
            else:
                labels.append(_shown(token))
                own.append(float(frames))
                blank.append(0.0)
    if not labels:
        return []
    own_s, blank_s = np.array(own) * trace.frame_s, np.array(blank) * trace.frame_s
    has_blanks = any(any(part.blank) for part in trace.parts)
    shown = min(len(labels), MAX_DURATION_BARS)
    image = _duration_bars(labels[:shown], own_s[:shown], blank_s[:shown] if has_blanks else None,
                           "VITS: how long each input character lasts (the duration predictor's choice)",
                           "input character (as the model reads it)", "the character", "the blank after it")
    characters = sum(1 for label in labels if label != BLANK)
    longest = int(np.argmax(own_s))
    more = f" (the first {shown} of {len(labels)} are drawn)" if shown < len(labels) else ""
    colours = ("Dark: the character's own frames; light: the blank token the tokenizer puts after it (pauses and "
               "transitions). " if has_blanks else "")
    caption = (f"Each bar is the time VITS gave one input character{more}: {characters} characters, "
               f"{float(own_s.sum() + blank_s.sum()):.2f} s in all; the longest is ‘{labels[longest]}’ "
               f"({own_s[longest]:.2f} s). {colours}One frame = {trace.frame_s * 1000:.0f} ms. The durations are "
               "sampled, so another seed changes them.")
    return [InsideView("Duration per character", image, caption)]


BARK_STAGE_LABELS = {"semantic": "semantic\n(what is said)", "coarse": "coarse\n(voice, prosody)",
                     "fine": "fine\n(detail)"}


def bark_views(trace: BarkTrace) -> list[InsideView]:
    parts = [part for part in trace.parts if part]
    if not parts:
        return []
    names = [name for _, name in BARK_STAGES]
    tokens = {name: sum(stage.tokens for part in parts for stage in part if stage.name == name) for name in names}
    seconds = {name: sum(stage.seconds for part in parts for stage in part if stage.name == name) for name in names}
    total_s = sum(trace.part_seconds) if trace.part_seconds else sum(seconds.values())
    decode_s = max(0.0, total_s - sum(seconds.values()))
    fine_frames = sum(stage.shape[-1] for part in parts for stage in part if stage.name == "fine")
    coarse_frames = tokens["coarse"] // max(trace.coarse_codebooks, 1)

    fig = new_figure((10, 3.0))
    left, right = fig.subplots(1, 2)
    rows = np.arange(len(names))[::-1]
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    left.barh(rows, [tokens[name] for name in names], color=colours)
    for row, name in zip(rows, names, strict=True):
        left.text(tokens[name], row, f" {tokens[name]:,}", va="center", fontsize=8)
    left.set_yticks(rows, [BARK_STAGE_LABELS[name] for name in names], fontsize=8)
    left.set(xlabel="tokens generated", title="Bark: tokens per stage", xlim=(0, max(tokens.values()) * 1.25 + 1))
    time_names = [*names, "decode"]
    time_rows = np.arange(len(time_names))[::-1]
    values = [seconds[name] for name in names] + [decode_s]
    right.barh(time_rows, values, color=[*colours, "#7f7f7f"])
    for row, value in zip(time_rows, values, strict=True):
        right.text(value, row, f" {value:.2f} s", va="center", fontsize=8)
    right.set_yticks(time_rows, [*(name for name in names), "EnCodec decode\n& the rest"], fontsize=8)
    right.set(xlabel="seconds", title="time per stage", xlim=(0, max(values) * 1.3 + 1e-3))
    image = to_rgb(fig)

    slowest = max(names, key=lambda name: seconds[name])
    chunks = f" over {len(parts)} parts of the text" if len(parts) > 1 else ""
    caption = (f"Bark runs three models in a row{chunks}: {tokens['semantic']} semantic tokens (what is said), then "
               f"{trace.coarse_codebooks} × {coarse_frames} coarse codec tokens (voice and prosody), then "
               f"{trace.fine_codebooks} × {fine_frames} fine tokens (the fine model fills in the other "
               f"{trace.fine_codebooks - trace.coarse_codebooks} codebooks); EnCodec decodes {trace.frame_rate:g} "
               f"frames per second of audio. The {slowest} stage took longest: {seconds[slowest]:.2f} of "
               f"{total_s:.2f} s.")
    return [InsideView("Tokens and time per stage", image, caption)]


def _ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def piper_views(trace: PiperTrace) -> list[InsideView]:
    sentences = [sentence for sentence in trace.sentences if sentence.phonemes]
    if not sentences:
        return []
    rows = sentences[:MAX_PIPER_ROWS]
    durations = np.array([sentence.samples / trace.sample_rate for sentence in rows])
    fig = new_figure((10, 0.9 + 0.42 * len(rows)))
    ax = fig.add_subplot()
    positions = np.arange(len(rows))[::-1]
    ax.barh(positions, durations, color="#c6dbef", height=0.8)
    for position, sentence in zip(positions, rows, strict=True):
        ax.text(0.01 * max(durations.max(), 1e-3), position, "/" + _ellipsis("".join(sentence.phonemes), 90) + "/",
                va="center", fontsize=9)
    ax.set_yticks(positions, [str(index + 1) for index in range(len(rows))], fontsize=8)
    ax.set(xlabel="seconds of audio", ylabel="sentence", xlim=(0, max(durations.max(), 1e-3) * 1.02),
           title="Piper: the phonemes it spoke (espeak-ng IPA), one bar per sentence")
    image = to_rgb(fig)
    # sounds only: stress (ˈ) and length (ː) marks are modifier letters, spaces and punctuation are not letters
    phonemes = sum(1 for sentence in sentences for phoneme in sentence.phonemes
                   if unicodedata.category(phoneme[:1] or " ") in ("Ll", "Lu", "Lo"))
    seconds = sum(sentence.samples for sentence in sentences) / trace.sample_rate
    more = f" (the first {MAX_PIPER_ROWS} are drawn)" if len(sentences) > MAX_PIPER_ROWS else ""
    caption = (f"Piper does not read letters: espeak-ng turned the text into {phonemes} IPA phonemes in "
               f"{_plural(len(sentences), 'sentence')}{more} (ˈ marks the stressed syllable, ː a long sound), and "
               f"the voice spoke them in {seconds:.2f} s, {phonemes / max(seconds, 1e-9):.0f} phonemes per second. "
               f"Each bar's length is that sentence's audio. First: /{_ellipsis(''.join(sentences[0].phonemes), 120)}/")
    views = [InsideView("Phonemes spoken", image, caption)]

    aligned = [pair for sentence in sentences for pair in sentence.phoneme_samples or []]
    if aligned:  # only voices exported with an alignment output have these
        shown = aligned[:MAX_DURATION_BARS]
        image = _duration_bars([_shown(phoneme) for phoneme, _ in shown],
                               np.array([samples for _, samples in shown]) / trace.sample_rate, None,
                               "Piper: how long each phoneme lasts", "phoneme", "", "")
        views.append(InsideView("Duration per phoneme", image,
                                f"The audio the voice gave each phoneme (from its alignment output), "
                                f"{len(shown)} of {len(aligned)} drawn; ^ and $ are the start and end markers."))
    return views


def inside_views(trace: Trace | None) -> list[InsideView]:
    """The pictures for one synthesis run's trace (none when there is nothing to show)."""
    if isinstance(trace, SpeechT5Trace):
        return speecht5_views(trace)
    if isinstance(trace, BarkTrace):
        return bark_views(trace)
    if isinstance(trace, VitsTrace):
        return vits_views(trace)
    if isinstance(trace, PiperTrace):
        return piper_views(trace)
    return []


@dataclass
class TtsRecording:
    """What a synthesis run keeps for its pictures: the trace captured during the run and the architecture card
    (not the audio itself)."""

    trace: Trace | None
    card: str


def render_inside(recording: TtsRecording, draw: bool = True) -> tuple[list, str]:
    """The TTS tab's gallery and card for a recorded run; with `draw=False` only the card, no picture drawn."""
    return (gallery_value(inside_views(recording.trace)) if draw else []), recording.card
