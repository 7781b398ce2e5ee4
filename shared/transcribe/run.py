"""Speech recognition: 16 kHz mono audio in, a `Transcript` out (text, timed segments and words, language,
timings). `transcribe` checks the request, gates silence (Silero VAD), and dispatches to the engine: faster-whisper
(CTranslate2, built-in or a hub repo), Whisper through transformers, CTC (wav2vec2 / HuBERT / Parakeet CTC), Moonshine
and Moonshine Streaming (one decode per speech chunk between VAD pauses), or the Parakeet Token-and-Duration
Transducer (per speech chunk; word times from the emitted tokens' frames). With `inside=True` the same run also
records what the "Inside the model" views need (capture.py). No Gradio here."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from shared.audio.intake import AudioClip, load_audio
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.fast_decoding import decoding_kwargs
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import ASR, ModelSpec, require_task
from shared.models.vad import VAD_MODEL_ID
from shared.progress import Progress, RealTimeFactor, Stopwatch, no_progress
from shared.transcribe import ctc
from shared.transcribe.capture import (
    AsrInside,
    CtcEmissions,
    DecodedToken,
    EncoderFrames,
    TdtStep,
    TokenRecorder,
    WhisperCapture,
    keep_faster_whisper,
    keep_whisper,
    language_note,
    start_faster_whisper_input,
)
from shared.transcribe.ctc import CtcFrames

SAMPLE_RATE = 16_000

# Whisper's language names (the generate() kwarg) by code; the tab offers these, plus auto-detect
LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "ar": "arabic",
    "hi": "hindi", "tr": "turkish", "pl": "polish", "uk": "ukrainian", "sv": "swedish", "fi": "finnish",
    "cs": "czech", "el": "greek", "he": "hebrew", "id": "indonesian", "vi": "vietnamese", "th": "thai",
}
TIMESTAMPS = ("none", "segment", "word")
TASKS = ("transcribe", "translate")
MAX_BEAM_SIZE = 10


@dataclass(frozen=True)
class Word:
    """One word and its span in the audio (s); `probability` where the engine gives one."""
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    """A subtitle-sized stretch of text (times in s), with its words when word timestamps were asked for."""
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class TranscribeOptions:
    """What the user chose in the tab (or the API): language, task, timestamps, decoding."""
    language: str | None = None  # a code from LANGUAGES, None = detect
    task: str = "transcribe"  # or "translate" (into English)
    timestamps: str = "segment"  # "none", "segment" or "word"
    beam_size: int = 1
    batch_size: int | None = None  # 30 s windows decoded together (None: 8 on GPU, 1 on CPU, where batching lost)
    detect_silence: bool = True


@dataclass
class Transcript(RealTimeFactor):
    """A transcription: text, segments, and how it ran (durations in s: audio, compute, model load)."""
    text: str
    segments: list[Segment]
    model_id: str
    engine: str
    device: str
    dtype: str
    audio_s: float
    compute_s: float
    load_s: float
    language: str | None = None
    language_probability: float | None = None
    no_speech: bool = False
    ctc: CtcFrames | None = field(default=None, repr=False)
    inside: AsrInside | None = field(default=None, repr=False)

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model_id, "engine": self.engine, "device": self.device, "dtype": self.dtype,
            "language": self.language, "language_probability": self.language_probability,
            "no_speech": self.no_speech, "text": self.text, "audio_s": round(self.audio_s, 3),
            "compute_s": round(self.compute_s, 3), "load_s": round(self.load_s, 3),
            "real_time_factor": round(self.real_time_factor, 4),
            "segments": [{**asdict(segment), "words": [asdict(word) for word in segment.words]}
                         for segment in self.segments],
        }


class _Recognized(NamedTuple):
    """What an engine returns: segments (with words), the language and its probability, the CTC greedy path."""
    segments: list[Segment]
    language: str | None
    language_probability: float | None
    ctc: CtcFrames | None = None


def heard_text(samples: np.ndarray, sample_rate: int, model_id: str, *, loader: ModelLoader | None = None) -> str:
    """What `model_id` hears in `samples` (float32 mono at `sample_rate` Hz, resampled to 16 kHz): the plain text,
    no timestamps. The recogniser of the round trips (TTS, voice conversion)."""
    clip = load_audio((sample_rate, samples), SAMPLE_RATE)
    return transcribe(clip, model_id, TranscribeOptions(timestamps="none"), loader=loader).text


def transcribe(clip: AudioClip, model_id: str, options: TranscribeOptions = TranscribeOptions(), *,
               loader: ModelLoader | None = None, progress: Progress = no_progress,
               inside: bool = False, draw_inside: bool = False) -> Transcript:
    """Transcribe (or translate into English) a 16 kHz mono clip with a registry ASR model. Returns the text, the
    segments/words with times in seconds, the language, and the device, dtype, compute and load times (s).
    Silence (under 0.2 s of speech by Silero VAD) returns an empty `no_speech` transcript without running the
    model. `inside=True` also keeps what the "Inside the model" views need (from this run; no extra forward pass);
    `draw_inside=True` says they will be drawn, so a picture that does not depend on the decoding may be drawn
    while the model runs.
    Raises UserError for a non-ASR model or options it cannot honour."""
    spec = validate(clip, model_id, options)
    loader = loader or get_loader()
    if options.detect_silence and not _has_speech(clip, loader, progress):
        return Transcript("", [], model_id, spec.engine, "cpu", "float32", clip.duration_s, 0.0, 0.0, no_speech=True)
    progress(0.05, f"Loading {model_id}")
    with Stopwatch() as load:
        entry = loader.entry(model_id)
    kept = AsrInside(draw_input=draw_inside) if inside else None
    with loader.use(model_id) as model:
        with Stopwatch() as compute:
            recognized = _recognize(spec, model, clip.samples, options, progress, kept, loader)
        if kept is not None:
            kept.card = architecture_card(spec.family, model, model_id)
    text = " ".join(segment.text.strip() for segment in recognized.segments).strip()
    return Transcript(text, _shaped(recognized.segments, text, options.timestamps, clip.duration_s), model_id,
                      spec.engine, entry.placement.device, _dtype(spec, entry), clip.duration_s, compute.seconds,
                      load.seconds, recognized.language, recognized.language_probability, not text, recognized.ctc,
                      kept)


def validate(clip: AudioClip, model_id: str, options: TranscribeOptions) -> ModelSpec:
    """The model's spec once the request is one `transcribe` can run: an ASR model, 16 kHz audio, known
    timestamps/task/language and a beam size of 1 to MAX_BEAM_SIZE; a UserError saying what is wrong otherwise
    (ValueError for audio not at SAMPLE_RATE Hz: callers resample when they load)."""
    spec = require_task(model_id, ASR)
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("transcribe() expects 16 kHz audio: load it with load_audio(path, 16_000)")
    _check_options(options)
    return spec


def _check_options(options: TranscribeOptions) -> None:
    if options.timestamps not in TIMESTAMPS:
        raise UserError(f"timestamps must be one of {TIMESTAMPS}.")
    if options.task not in TASKS:
        raise UserError("task must be 'transcribe' or 'translate'.")
    if options.language is not None and options.language not in LANGUAGES:
        raise UserError(f"Unsupported language code {options.language!r}.")
    if not 1 <= options.beam_size <= MAX_BEAM_SIZE:
        raise UserError(f"beam size must be between 1 and {MAX_BEAM_SIZE}.")


def _has_speech(clip: AudioClip, loader: ModelLoader, progress: Progress) -> bool:
    progress(0.02, "Checking for speech (Silero VAD)")
    with loader.use(VAD_MODEL_ID) as vad:
        return vad.has_speech(clip.samples)


def _recognize(spec: ModelSpec, model: Any, samples: np.ndarray, options: TranscribeOptions, progress: Progress,
               kept: AsrInside | None, loader: ModelLoader) -> _Recognized:
    if spec.engine == "faster-whisper":
        return _faster_whisper(model, samples, spec.id, options, progress, kept)
    if spec.family == "whisper":
        return _whisper_pipeline(model, samples, spec.id, options, progress, kept)
    if spec.family in ("ctc", "parakeet-ctc"):
        return _ctc(model, samples, progress, kept=kept)
    if spec.family in ("moonshine", "moonshine-streaming"):
        return _moonshine(model, samples, spec.id, options, progress, loader, kept)
    if spec.family == "parakeet-tdt":
        return _transducer(model, samples, spec.id, options, progress, loader, kept)
    raise UserError(f"No recognizer for {spec.id}.")  # pragma: no cover - the registry only holds the above


def _shaped(segments: list[Segment], text: str, timestamps: str, duration_s: float) -> list[Segment]:
    """The segments as asked for: one segment for the whole clip, segments without words, or with words."""
    if timestamps == "none":
        return [Segment(0.0, duration_s, text)] if text else []
    if timestamps == "segment":
        return [Segment(s.start, s.end, s.text) for s in segments]
    return segments


def _dtype(spec: ModelSpec, entry: Any) -> str:
    if spec.engine == "faster-whisper":  # CTranslate2 runs int8 on CPU
        return str(getattr(entry.model.model, "compute_type", entry.placement.dtype))
    return entry.placement.dtype


def _check_english_only(model_id: str, multilingual: bool, options: TranscribeOptions) -> None:
    if multilingual:
        return
    if options.task == "translate":
        raise UserError(f"{model_id} is English-only and cannot translate: pick a multilingual Whisper model.")
    if options.language not in (None, "en"):
        raise UserError(f"{model_id} is English-only: choose English or auto-detect, or a multilingual model.")


def segments_from_words(words: list[Word], max_words: int = 14, pause_s: float = 0.8) -> list[Segment]:
    """Group words into subtitle-sized segments: split after sentence ends, pauses over `pause_s` seconds, or
    `max_words` words."""
    segments: list[Segment] = []
    current: list[Word] = []
    for word in words:
        if current and (word.start - current[-1].end > pause_s or len(current) >= max_words):
            segments.append(_segment_of(current))
            current = []
        current.append(word)
        if word.text.rstrip().endswith((".", "?", "!")):
            segments.append(_segment_of(current))
            current = []
    if current:
        segments.append(_segment_of(current))
    return segments


def _segment_of(words: list[Word]) -> Segment:
    return Segment(words[0].start, words[-1].end, " ".join(w.text.strip() for w in words).strip(), tuple(words))


# ---- faster-whisper (CTranslate2) ----------------------------------------------------------------------------------
def _faster_whisper(model: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                    progress: Progress, kept: AsrInside | None = None) -> _Recognized:
    _check_english_only(model_id, model.model.is_multilingual, options)
    duration = len(samples) / SAMPLE_RATE
    word_level = options.timestamps == "word"
    if kept is not None:
        start_faster_whisper_input(kept, model, samples, duration)
    raw_segments, info = model.transcribe(
        samples, language=options.language, task=options.task, beam_size=options.beam_size,
        word_timestamps=word_level, condition_on_previous_text=False, vad_filter=False)
    segments, segment_tokens = [], []
    for raw in raw_segments:
        segments.append(_faster_whisper_segment(raw))
        # CTranslate2 gives per-word probabilities only with word timestamps; otherwise one per segment
        segment_tokens.append(DecodedToken(raw.text.strip(), float(raw.start), float(np.exp(raw.avg_logprob))))
        progress(0.1 + 0.9 * min(1.0, raw.end / duration), "Decoding with faster-whisper")
    if kept is not None:
        tokens = [DecodedToken(w.text, w.start, w.probability) for s in segments for w in s.words] \
            if word_level else segment_tokens
        keep_faster_whisper(kept, model, info, tokens, "word" if word_level else "segment", options.language)
    return _Recognized(segments, info.language, round(float(info.language_probability), 4))


def _faster_whisper_segment(raw: Any) -> Segment:
    words = tuple(Word(float(w.start), float(w.end), w.word.strip(), round(float(w.probability), 4))
                  for w in (raw.words or ()))
    return Segment(float(raw.start), float(raw.end), raw.text.strip(), words)


# ---- Whisper through transformers -----------------------------------------------------------------------------------
def _whisper_pipeline(pipe: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                      progress: Progress, kept: AsrInside | None = None) -> _Recognized:
    multilingual = bool(getattr(pipe.model.generation_config, "is_multilingual", True))
    _check_english_only(model_id, multilingual, options)
    duration = len(samples) / SAMPLE_RATE
    detect = multilingual and not options.language
    # greedy decoding only: the chosen token is then the step's argmax, whose probability the recorder keeps
    recorder = TokenRecorder() if kept is not None and options.beam_size == 1 else None
    progress(0.2, f"Decoding {max(1, int(np.ceil(duration / 30)))} window(s) with Whisper")
    # generate() detects the language itself (its first decoding step over the start token); the capture keeps
    # that step's probabilities and the encoder's input instead of running the model again
    with WhisperCapture(pipe.model, detect=detect, keep_input=kept is not None) as capture:
        output = pipe({"raw": samples, "sampling_rate": SAMPLE_RATE},
                      generate_kwargs={**_generate_kwargs(options, multilingual, recorder),
                                       **_fast_decoding_kwargs(pipe, options, duration, recorder)},
                      **_pipeline_kwargs(pipe, options, duration))
    language, probability = _detected(capture.languages) if detect else (options.language, None)
    if kept is not None:
        keep_whisper(kept, capture, recorder, pipe, language_note(multilingual, options.language))
    return _Recognized(_pipeline_segments(output, options.timestamps, duration), language if multilingual else "en",
                       probability)


def _generate_kwargs(options: TranscribeOptions, multilingual: bool, recorder: TokenRecorder | None) -> dict:
    generate_kwargs: dict[str, Any] = {"num_beams": options.beam_size}
    if multilingual:
        generate_kwargs["task"] = options.task
        if options.language:
            generate_kwargs["language"] = LANGUAGES[options.language]
    if recorder is not None:
        generate_kwargs["logits_processor"] = recorder.as_processors()
    return generate_kwargs


def _fast_decoding_kwargs(pipe: Any, options: TranscribeOptions, duration: float,
                          recorder: TokenRecorder | None) -> dict:
    """GPU decoding speed-ups set up at load (shared/models/fast_decoding.py): {} unless switched on. The assistant
    is left out while a TokenRecorder watches each step (assisted decoding scores drafted tokens it then drops)."""
    batch_size = _pipeline_kwargs(pipe, options, duration).get("batch_size", 1)
    return decoding_kwargs(pipe.model, batch_size=batch_size, num_beams=options.beam_size,
                           word_timestamps=options.timestamps == "word", recording=recorder is not None)


def _pipeline_kwargs(pipe: Any, options: TranscribeOptions, duration: float) -> dict:
    """Timestamps, and for audio over 30 s the chunked long-form mode (batched on GPU)."""
    kwargs: dict[str, Any] = {"return_timestamps": "word" if options.timestamps == "word" else True}
    if duration > 30:
        batch_size = options.batch_size or (1 if pipe.model.device.type == "cpu" else 8)
        kwargs.update(chunk_length_s=30, batch_size=batch_size)
    return kwargs


def _detected(languages: dict[str, float] | None) -> tuple[str | None, float | None]:
    if not languages:
        return None, None
    language = max(languages, key=languages.__getitem__)
    return language, round(languages[language], 4)


def _pipeline_segments(output: dict, timestamps: str, duration: float) -> list[Segment]:
    chunks = output.get("chunks") or []
    if not chunks and output.get("text", "").strip():
        return [Segment(0.0, duration, output["text"].strip())]
    if timestamps == "word":
        return segments_from_words([Word(*_span(chunk["timestamp"], duration), chunk["text"].strip())
                                    for chunk in chunks if chunk["text"].strip()])
    return [Segment(*_span(chunk["timestamp"], duration), chunk["text"].strip()) for chunk in chunks
            if chunk["text"].strip()]


def _span(timestamp: tuple, duration: float) -> tuple[float, float]:
    start, end = timestamp
    start = float(start or 0.0)
    return start, float(end) if end is not None else duration  # the last chunk may have no end


# ---- CTC (wav2vec2 / HuBERT / Parakeet CTC) -------------------------------------------------------------------------
def frame_samples(pipe: Any) -> int:
    """Samples per output frame of a CTC or transducer pipeline's encoder: wav2vec2's conv strides (320 → 20 ms),
    or the mel hop times the conformer's subsampling (Parakeet: 160 x 8 = 1280 → 80 ms)."""
    config = pipe.model.config
    if hasattr(config, "conv_stride"):
        return int(np.prod(config.conv_stride))
    return int(pipe.feature_extractor.hop_length * config.encoder_config.subsampling_factor)


def _ctc(pipe: Any, samples: np.ndarray, progress: Progress, chunk_s: float = 20.0, stride_s: float = 4.0,
         kept: AsrInside | None = None) -> _Recognized:
    """One forward pass per chunk with overlapping context (stride) trimmed off, so long files fit in memory."""
    ratio = frame_samples(pipe)
    chunk, stride = int(chunk_s * SAMPLE_RATE) // ratio * ratio, int(stride_s * SAMPLE_RATE) // ratio * ratio
    emissions = CtcEmissions(kept)
    frame_ids: list[np.ndarray] = []
    starts = list(range(0, len(samples), chunk)) or [0]
    for index, begin in enumerate(starts):
        frame_logits = _ctc_chunk_logits(pipe, samples, begin, chunk, stride, ratio)
        frame_ids.append(frame_logits.argmax(-1).cpu().numpy())
        emissions.add(frame_logits)
        progress(0.1 + 0.9 * (index + 1) / len(starts), "CTC forward pass")
    ids = np.concatenate(frame_ids) if frame_ids else np.zeros(0, int)
    tokenizer = pipe.tokenizer
    # wav2vec2 spells words with a "|" token between them; sentencepiece pieces (Parakeet) start a word with "▁"
    frames = CtcFrames(ratio / SAMPLE_RATE, tokenizer.convert_ids_to_tokens(ids.tolist()), tokenizer.pad_token,
                       getattr(tokenizer, "word_delimiter_token", None) or WORD_START)
    emissions.store(tokenizer)
    return _Recognized(segments_from_words(ctc_words(frames)), "en", None, frames)


def _ctc_chunk_logits(pipe: Any, samples: np.ndarray, begin: int, chunk: int, stride: int, ratio: int) -> Any:
    """The logits (frames × vocabulary) of the chunk starting at sample `begin`, without its context frames."""
    import torch

    left = min(stride, begin)
    window = samples[begin - left: begin + chunk + stride]
    inputs = pipe.feature_extractor(window, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    inputs = inputs.to(device=pipe.model.device, dtype=pipe.model.dtype)
    with torch.inference_mode():
        logits = pipe.model(**inputs).logits[0]
    keep_from = left // ratio
    return logits[keep_from: keep_from + int(np.ceil(min(chunk, len(samples) - begin) / ratio))]


def ctc_words(frames: CtcFrames) -> list[Word]:
    """Words with times (s) from the greedy path: a word spans its first to last kept token frame. A word ends at
    the word delimiter token ("|") or where a token starts with it (a sentencepiece "▁piece" starts a new word)."""
    words: list[Word] = []
    letters: list[str] = []
    first = last = 0
    _, steps = ctc.collapse(frames.tokens, frames.blank)
    for step in steps:
        if not step.kept and step.reason == "repeat" and letters:
            last = step.frame
        if not step.kept:
            continue
        token = step.token
        if token.startswith(frames.word_delimiter):
            if letters:
                words.append(Word(first * frames.frame_s, (last + 1) * frames.frame_s, "".join(letters).lower()))
            letters = []
            token = token[len(frames.word_delimiter):]
            if not token:
                continue
        if not letters:
            first = step.frame
        letters.append(token)
        last = step.frame
    if letters:
        words.append(Word(first * frames.frame_s, (last + 1) * frames.frame_s, "".join(letters).lower()))
    return words


# ---- Moonshine and Moonshine Streaming (transformers pipeline, one decode per speech chunk) --------------------------
MOONSHINE_MAX_CHUNK_S = 20.0  # longest chunk decoded at once (s); the decoder's position table ends at 81.9 s
MOONSHINE_JOIN_GAP_S = 0.5  # speech regions closer than this (s) are decoded together
MOONSHINE_TOKENS_PER_S = 6.5  # the model card's cap on generated tokens per second of audio (stops repetition loops)
MOONSHINE_MIN_TOKENS = 4
MOONSHINE_FRAME = 80  # samples per 5 ms input frame: the encoder reads whole frames only


def _speech_regions(samples: np.ndarray, loader: ModelLoader, progress: Progress) -> list[tuple[float, float]]:
    progress(0.1, "Finding the pauses between utterances (Silero VAD)")
    with loader.use(VAD_MODEL_ID) as vad:
        return vad.speech_segments(samples)


def speech_chunks(regions: list[tuple[float, float]], duration_s: float, max_s: float = MOONSHINE_MAX_CHUNK_S,
                  join_gap_s: float = MOONSHINE_JOIN_GAP_S) -> list[tuple[float, float]]:
    """The spans (s) to decode one at a time: speech regions (from VAD), neighbours less than `join_gap_s` s apart
    joined while the result stays within `max_s` s, longer regions cut into equal parts of at most `max_s` s; the
    whole clip, cut the same way, when there are no regions."""
    joined: list[list[float]] = []
    for start, end in regions or [(0.0, duration_s)]:
        if joined and start - joined[-1][1] < join_gap_s and end - joined[-1][0] <= max_s:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    chunks = []
    for start, end in joined:
        parts = max(1, math.ceil((end - start) / max_s))
        chunks += [(start + (end - start) * i / parts, start + (end - start) * (i + 1) / parts) for i in range(parts)]
    return chunks


def _moonshine(pipe: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions, progress: Progress,
               loader: ModelLoader, kept: AsrInside | None = None) -> _Recognized:
    """Moonshine (and Moonshine Streaming) gives text only (no timestamps): each speech chunk between VAD pauses
    (`speech_chunks`) is decoded on its own and becomes one segment spanning that chunk (s). No word timestamps:
    with timestamps="word" the segments come without words (never invented ones). English only. `kept` records
    how many encoder frames each chunk became (the encoder reads the chunk's own length, no 30 s padding)."""
    _check_english_only(model_id, False, options)
    chunks = speech_chunks(_speech_regions(samples, loader, progress), len(samples) / SAMPLE_RATE)
    segments = []
    with EncoderFrames(pipe.model.get_encoder(), kept, chunks):
        for index, (start, end) in enumerate(chunks):
            progress(0.15 + 0.85 * index / len(chunks), f"Decoding speech chunk {index + 1} of {len(chunks)}")
            text = _moonshine_chunk(pipe, samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)],
                                    options.beam_size)
            if text:
                segments.append(Segment(start, end, text))
    return _Recognized(segments, "en", None)


def _moonshine_chunk(pipe: Any, chunk: np.ndarray, beam_size: int) -> str:
    """The text of one chunk (16 kHz samples), zero-padded to whole 5 ms frames (the pipeline does not pad)."""
    padded = np.pad(chunk, (0, -len(chunk) % MOONSHINE_FRAME))
    max_tokens = max(MOONSHINE_MIN_TOKENS, math.ceil(len(chunk) / SAMPLE_RATE * MOONSHINE_TOKENS_PER_S))
    output = pipe({"raw": padded, "sampling_rate": SAMPLE_RATE},
                  generate_kwargs={"num_beams": beam_size, "max_new_tokens": max_tokens})
    return output["text"].strip()


# ---- Parakeet TDT (Token-and-Duration Transducer), one generate() per speech chunk ----------------------------------
WORD_START = "\u2581"  # "▁": a sentencepiece piece that starts a word


def _transducer(pipe: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions, progress: Progress,
                loader: ModelLoader, kept: AsrInside | None = None) -> _Recognized:
    """Parakeet TDT: each speech chunk between VAD pauses (`speech_chunks`, at most MOONSHINE_MAX_CHUNK_S s) is
    decoded by the transducer's own greedy loop, which emits a token or a blank and a duration (frames to skip) per
    step; a token's frame gives its time, so words get real start and end times (s). The multilingual v3 detects
    the language itself and names none; it transcribes, it does not translate."""
    if options.task == "translate":
        raise UserError(f"{model_id} transcribes only: pick a multilingual Whisper model to translate.")
    frame_s = frame_samples(pipe) / SAMPLE_RATE
    chunks = speech_chunks(_speech_regions(samples, loader, progress), len(samples) / SAMPLE_RATE)
    words: list[Word] = []
    for index, (start, end) in enumerate(chunks):
        progress(0.15 + 0.85 * index / len(chunks), f"Transducer decoding, speech chunk {index + 1} of {len(chunks)}")
        steps = _tdt_chunk(pipe, samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)])
        words += _tdt_words(pipe.tokenizer, steps, frame_s, start)
        if kept is not None:
            kept.tdt_steps += [replace(step, offset_s=start) for step in steps]
            kept.tdt_frame_s = frame_s
    return _Recognized(segments_from_words(words), options.language, None)


def _tdt_chunk(pipe: Any, chunk: np.ndarray) -> list[TdtStep]:
    """Every decoding step of one chunk (16 kHz samples): the frame it ran at, the token (or blank) it emitted and
    the duration (frames) it predicted; frames count from the chunk's start."""
    import torch

    inputs = pipe.feature_extractor(chunk, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    inputs = inputs.to(device=pipe.model.device, dtype=pipe.model.dtype)
    with torch.inference_mode():
        output = pipe.model.generate(**inputs)
    blank = pipe.model.config.blank_token_id
    ids, durations = output.sequences[0].tolist(), output.durations[0].tolist()
    steps, frame = [], durations[0]  # the first id is the decoder's start token (duration 0)
    for token_id, duration in zip(ids[1:], durations[1:], strict=True):
        steps.append(TdtStep(frame, "" if token_id == blank else pipe.tokenizer.convert_ids_to_tokens(token_id),
                             int(duration), token_id == blank))
        frame += duration
    return steps


def _tdt_words(tokenizer: Any, steps: list[TdtStep], frame_s: float, offset_s: float) -> list[Word]:
    """Words from the emitted pieces: a piece starting with "▁" starts a word; a word spans its first piece's frame
    to its last piece's frame plus that piece's duration (at least one frame), shifted by `offset_s` s."""
    words: list[Word] = []
    pieces: list[TdtStep] = []
    for step in [*[s for s in steps if not s.blank], None]:
        if pieces and (step is None or step.token.startswith(WORD_START)):
            text = tokenizer.convert_tokens_to_string([p.token for p in pieces]).strip()
            end_frame = pieces[-1].frame + max(1, pieces[-1].duration)
            if text:
                words.append(Word(round(offset_s + pieces[0].frame * frame_s, 3),
                                  round(offset_s + end_frame * frame_s, 3), text))
            pieces = []
        if step is not None:
            pieces.append(step)
    return words
