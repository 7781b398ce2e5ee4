"""Speech recognition: preprocess (16 kHz mono, silence gate) → forward (Whisper, CTC, faster-whisper) →
postprocess (segments, words, language, timings). No Gradio here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shared import ctc
from shared.audio import AudioClip
from shared.errors import UserError
from shared.loader import ModelLoader, get_loader
from shared.registry import ASR, get_spec
from shared.vad import VAD_MODEL_ID

SAMPLE_RATE = 16_000
Progress = Callable[[float, str], None]

# Whisper's language names (the generate() kwarg) by code; the tab offers these, plus auto-detect
LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "ar": "arabic",
    "hi": "hindi", "tr": "turkish", "pl": "polish", "uk": "ukrainian", "sv": "swedish", "fi": "finnish",
    "cs": "czech", "el": "greek", "he": "hebrew", "id": "indonesian", "vi": "vietnamese", "th": "thai",
}
TIMESTAMPS = ("none", "segment", "word")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class TranscribeOptions:
    language: str | None = None  # a code from LANGUAGES, None = detect
    task: str = "transcribe"  # or "translate" (into English)
    timestamps: str = "segment"  # "none", "segment" or "word"
    beam_size: int = 1
    batch_size: int | None = None  # 30 s windows decoded together (None: 8 on GPU, 1 on CPU, where batching lost)
    detect_silence: bool = True


@dataclass
class CtcFrames:
    """The greedy CTC path: one argmax token per frame, and which frames made it into the text."""
    frame_s: float
    tokens: list[str]
    blank: str
    word_delimiter: str


@dataclass
class Transcript:
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

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.audio_s if self.audio_s else 0.0

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


def _no_progress(fraction: float, desc: str) -> None:
    pass


def segments_from_words(words: list[Word], max_words: int = 14, pause_s: float = 0.8) -> list[Segment]:
    """Group words into subtitle-sized segments: split after sentence ends, long pauses, or max_words."""
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


def _check_english_only(model_id: str, multilingual: bool, options: TranscribeOptions) -> None:
    if multilingual:
        return
    if options.task == "translate":
        raise UserError(f"{model_id} is English-only and cannot translate: pick a multilingual Whisper model.")
    if options.language not in (None, "en"):
        raise UserError(f"{model_id} is English-only: choose English or auto-detect, or a multilingual model.")


def transcribe(clip: AudioClip, model_id: str, options: TranscribeOptions = TranscribeOptions(), *,
               loader: ModelLoader | None = None, progress: Progress = _no_progress) -> Transcript:
    spec = get_spec(model_id)
    if spec.task != ASR:
        raise UserError(f"{model_id} is not a speech-recognition model.")
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("transcribe() expects 16 kHz audio: load it with load_audio(path, 16_000)")
    if options.timestamps not in TIMESTAMPS:
        raise UserError(f"timestamps must be one of {TIMESTAMPS}.")
    if options.task not in ("transcribe", "translate"):
        raise UserError("task must be 'transcribe' or 'translate'.")
    if options.language is not None and options.language not in LANGUAGES:
        raise UserError(f"Unsupported language code {options.language!r}.")
    if not 1 <= options.beam_size <= 10:
        raise UserError("beam size must be between 1 and 10.")
    loader = loader or get_loader()
    samples = clip.samples
    if options.detect_silence:
        progress(0.02, "Checking for speech (Silero VAD)")
        with loader.use(VAD_MODEL_ID) as vad:
            if not vad.has_speech(samples):
                return Transcript("", [], model_id, spec.engine, "cpu", "float32", clip.duration_s, 0.0, 0.0,
                                  no_speech=True)
    progress(0.05, f"Loading {model_id}")
    load_start = time.perf_counter()
    entry = loader.entry(model_id)
    load_s = time.perf_counter() - load_start
    with loader.use(model_id) as model:
        start = time.perf_counter()
        if spec.engine == "faster-whisper":
            result = _faster_whisper(model, samples, model_id, options, progress)
        elif spec.family == "whisper":
            result = _whisper_pipeline(model, samples, model_id, options, progress)
        elif spec.family == "ctc":
            result = _ctc(model, samples, progress)
        else:  # pragma: no cover - the registry only holds the families above for ASR
            raise UserError(f"No recognizer for {model_id}.")
        compute_s = time.perf_counter() - start
    segments, language, language_probability, ctc_frames = result
    text = " ".join(segment.text.strip() for segment in segments).strip()
    if options.timestamps == "none":
        segments = [Segment(0.0, clip.duration_s, text)] if text else []
    elif options.timestamps == "segment":
        segments = [Segment(s.start, s.end, s.text) for s in segments]
    dtype = entry.placement.dtype
    if spec.engine == "faster-whisper":
        dtype = str(getattr(entry.model.model, "compute_type", dtype))  # CTranslate2 runs int8 on CPU
    return Transcript(text, segments, model_id, spec.engine, entry.placement.device, dtype,
                      clip.duration_s, compute_s, load_s, language, language_probability, not text, ctc_frames)


# ---- faster-whisper (CTranslate2) ----------------------------------------------------------------------------------
def _faster_whisper(model: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                    progress: Progress) -> tuple:
    _check_english_only(model_id, model.model.is_multilingual, options)
    duration = len(samples) / SAMPLE_RATE
    segments_iter, info = model.transcribe(
        samples, language=options.language, task=options.task, beam_size=options.beam_size,
        word_timestamps=options.timestamps == "word", condition_on_previous_text=False, vad_filter=False)
    segments = []
    for raw in segments_iter:
        words = tuple(Word(float(w.start), float(w.end), w.word.strip(), round(float(w.probability), 4))
                      for w in (raw.words or ()))
        segments.append(Segment(float(raw.start), float(raw.end), raw.text.strip(), words))
        progress(0.1 + 0.9 * min(1.0, raw.end / duration), "Decoding with faster-whisper")
    return segments, info.language, round(float(info.language_probability), 4), None


# ---- Whisper through transformers -----------------------------------------------------------------------------------
def _whisper_pipeline(pipe: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                      progress: Progress) -> tuple:
    multilingual = bool(getattr(pipe.model.generation_config, "is_multilingual", True))
    _check_english_only(model_id, multilingual, options)
    generate_kwargs: dict[str, Any] = {"num_beams": options.beam_size}
    if multilingual:
        generate_kwargs["task"] = options.task
        if options.language:
            generate_kwargs["language"] = LANGUAGES[options.language]
    duration = len(samples) / SAMPLE_RATE
    kwargs: dict[str, Any] = {"return_timestamps": "word" if options.timestamps == "word" else True}
    if duration > 30:
        batch_size = options.batch_size or (1 if pipe.model.device.type == "cpu" else 8)
        kwargs.update(chunk_length_s=30, batch_size=batch_size)
    language, probability = (options.language, None) if options.language or not multilingual else \
        detect_language(pipe, samples)
    progress(0.2, f"Decoding {max(1, int(np.ceil(duration / 30)))} window(s) with Whisper")
    output = pipe({"raw": samples, "sampling_rate": SAMPLE_RATE}, generate_kwargs=generate_kwargs, **kwargs)
    chunks = output.get("chunks") or []
    if options.timestamps == "word":
        words = [Word(*_span(chunk["timestamp"], duration), chunk["text"].strip()) for chunk in chunks
                 if chunk["text"].strip()]
        segments = segments_from_words(words)
    else:
        segments = [Segment(*_span(chunk["timestamp"], duration), chunk["text"].strip()) for chunk in chunks
                    if chunk["text"].strip()]
    if not chunks and output.get("text", "").strip():
        segments = [Segment(0.0, duration, output["text"].strip())]
    return segments, language if multilingual else "en", probability, None


def _span(timestamp: tuple, duration: float) -> tuple[float, float]:
    start, end = timestamp
    start = float(start or 0.0)
    return start, float(end) if end is not None else duration  # the last chunk may have no end


def detect_language(pipe: Any, samples: np.ndarray) -> tuple[str | None, float | None]:
    """Whisper's language guess from its first decoder step over the first 30 s window (code, probability)."""
    import torch

    model = pipe.model
    lang_to_id = getattr(model.generation_config, "lang_to_id", None) or {}
    if not lang_to_id:
        return None, None
    features = pipe.feature_extractor(samples[: 30 * SAMPLE_RATE], sampling_rate=SAMPLE_RATE,
                                      return_tensors="pt").input_features.to(model.device, model.dtype)
    start_token = model.generation_config.decoder_start_token_id
    with torch.inference_mode():
        logits = model(input_features=features,
                       decoder_input_ids=torch.tensor([[start_token]], device=model.device)).logits[0, -1]
    codes = list(lang_to_id)
    ids = torch.tensor([lang_to_id[code] for code in codes], device=logits.device)
    probabilities = torch.softmax(logits[ids].float(), dim=-1)
    best = int(torch.argmax(probabilities))
    return codes[best].strip("<|>"), round(float(probabilities[best]), 4)


# ---- CTC (wav2vec2 / HuBERT) ----------------------------------------------------------------------------------------
def _ctc(pipe: Any, samples: np.ndarray, progress: Progress, chunk_s: float = 20.0, stride_s: float = 4.0) -> tuple:
    """One forward pass per chunk with overlapping context (stride) trimmed off, so long files fit in memory."""
    import torch

    model, extractor, tokenizer = pipe.model, pipe.feature_extractor, pipe.tokenizer
    ratio = int(np.prod(model.config.conv_stride))  # samples per output frame (320 → 20 ms)
    chunk, stride = int(chunk_s * SAMPLE_RATE) // ratio * ratio, int(stride_s * SAMPLE_RATE) // ratio * ratio
    frame_ids: list[np.ndarray] = []
    starts = list(range(0, len(samples), chunk)) or [0]
    for index, begin in enumerate(starts):
        left = min(stride, begin)
        window = samples[begin - left: begin + chunk + stride]
        inputs = extractor(window, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        with torch.inference_mode():
            logits = model(inputs.input_values.to(model.device, model.dtype)).logits[0]
        keep_from = left // ratio
        keep_frames = int(np.ceil(min(chunk, len(samples) - begin) / ratio))
        frame_ids.append(logits[keep_from: keep_from + keep_frames].argmax(-1).cpu().numpy())
        progress(0.1 + 0.9 * (index + 1) / len(starts), "CTC forward pass")
    ids = np.concatenate(frame_ids) if frame_ids else np.zeros(0, int)
    tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
    frames = CtcFrames(ratio / SAMPLE_RATE, tokens, tokenizer.pad_token, tokenizer.word_delimiter_token)
    return segments_from_words(ctc_words(frames)), "en", None, frames


def ctc_words(frames: CtcFrames) -> list[Word]:
    """Words with times from the greedy path: a word spans its first to last kept character frame."""
    words: list[Word] = []
    letters: list[str] = []
    first = last = 0
    _, steps = ctc.collapse(frames.tokens, frames.blank)
    for step in steps:
        if not step.kept and step.reason == "repeat" and letters:
            last = step.frame
        if not step.kept:
            continue
        if step.token == frames.word_delimiter:
            if letters:
                words.append(Word(first * frames.frame_s, (last + 1) * frames.frame_s, "".join(letters).lower()))
            letters = []
            continue
        if not letters:
            first = step.frame
        letters.append(step.token)
        last = step.frame
    if letters:
        words.append(Word(first * frames.frame_s, (last + 1) * frames.frame_s, "".join(letters).lower()))
    return words
