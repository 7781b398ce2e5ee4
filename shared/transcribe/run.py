"""Speech recognition: preprocess (16 kHz mono, silence gate) → forward (Whisper, CTC, faster-whisper) →
postprocess (segments, words, language, timings). No Gradio here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shared.audio.dsp import whisper_log_mel
from shared.audio.intake import AudioClip
from shared.errors import UserError
from shared.inside import ThreadHooks, architecture_card, to_numpy
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import ASR, get_spec
from shared.models.vad import VAD_MODEL_ID
from shared.transcribe import ctc

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


@dataclass(frozen=True)
class DecodedToken:
    """One token the Whisper decoder wrote (or, where the engine reports no tokens, one word or segment)."""
    text: str
    time: float | None  # a timestamp token's own time; a text token's segment start (s)
    probability: float | None  # softmax probability of the chosen token at its step
    timestamp: bool = False


@dataclass
class AsrInside:
    """What the run kept for the "Inside the model" views: tensors it had anyway, no second forward pass."""
    card: str = ""  # architecture card with the loaded model's parameter count
    log_mel: np.ndarray | None = None  # the first 30 s window's model input (mel bins × 10 ms frames)
    languages: dict[str, float] | None = None  # language code → probability (first window), when detected
    language_note: str = ""  # why there are no language probabilities (English-only, language given)
    tokens: list[DecodedToken] = field(default_factory=list)
    tokens_unit: str = "token"  # "token", "word" or "segment": what one entry of `tokens` is
    tokens_note: str = ""  # why there are no per-token probabilities (beam search)
    emissions: np.ndarray | None = None  # CTC log-probabilities, frames × vocabulary (first CTC_VIEW_FRAMES)
    emission_labels: list[str] = field(default_factory=list)  # the vocabulary, row labels of `emissions`
    blank_id: int = 0


CTC_VIEW_FRAMES = 1000  # frames kept for the emission picture (20 s at 20 ms): about the plot width in pixels


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
    inside: AsrInside | None = field(default=None, repr=False)

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
               loader: ModelLoader | None = None, progress: Progress = _no_progress,
               inside: bool = False) -> Transcript:
    """`inside=True` also keeps what the "Inside the model" views need (from this run; no extra forward pass)."""
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
    kept = AsrInside() if inside else None
    with loader.use(model_id) as model:
        start = time.perf_counter()
        if spec.engine == "faster-whisper":
            result = _faster_whisper(model, samples, model_id, options, progress, kept)
        elif spec.family == "whisper":
            result = _whisper_pipeline(model, samples, model_id, options, progress, kept)
        elif spec.family == "ctc":
            result = _ctc(model, samples, progress, kept=kept)
        else:  # pragma: no cover - the registry only holds the families above for ASR
            raise UserError(f"No recognizer for {model_id}.")
        compute_s = time.perf_counter() - start
        if kept is not None:
            kept.card = architecture_card(spec.family, model, model_id)
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
                      clip.duration_s, compute_s, load_s, language, language_probability, not text, ctc_frames, kept)


# ---- faster-whisper (CTranslate2) ----------------------------------------------------------------------------------
def _faster_whisper(model: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                    progress: Progress, kept: AsrInside | None = None) -> tuple:
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
        if kept is not None and not words:  # CTranslate2 gives per-word probabilities only with word timestamps
            kept.tokens.append(DecodedToken(raw.text.strip(), float(raw.start), float(np.exp(raw.avg_logprob))))
        progress(0.1 + 0.9 * min(1.0, raw.end / duration), "Decoding with faster-whisper")
    if kept is not None:
        # CTranslate2 computes its features internally and does not return them; computing the log-mel is
        # signal processing, not a forward pass
        kept.log_mel = whisper_log_mel(samples, model.feature_extractor.mel_filters.shape[0])
        if options.timestamps == "word":
            kept.tokens, kept.tokens_unit = [DecodedToken(w.text, w.start, w.probability) for s in segments
                                             for w in s.words], "word"
        else:
            kept.tokens_unit = "segment"
        if info.all_language_probs:  # only when the engine detected the language (the same run's first step)
            kept.languages = {code: float(p) for code, p in info.all_language_probs}
        else:
            kept.language_note = _language_note(model.model.is_multilingual, options.language)
    return segments, info.language, round(float(info.language_probability), 4), None


# ---- Whisper through transformers -----------------------------------------------------------------------------------
def _language_note(multilingual: bool, language: str | None) -> str:
    if not multilingual:
        return "English-only model: no language was detected (it always writes English)."
    return f"Language given ({language}): no detection ran." if language else "No language probabilities."


def _whisper_pipeline(pipe: Any, samples: np.ndarray, model_id: str, options: TranscribeOptions,
                      progress: Progress, kept: AsrInside | None = None) -> tuple:
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
    detect = multilingual and not options.language
    recorder = None
    if kept is not None and options.beam_size == 1:  # greedy: the chosen token is the step's argmax
        from transformers import LogitsProcessorList

        recorder = TokenRecorder()
        generate_kwargs["logits_processor"] = LogitsProcessorList([recorder])
    progress(0.2, f"Decoding {max(1, int(np.ceil(duration / 30)))} window(s) with Whisper")
    # generate() detects the language itself (its first decoding step over the start token); the capture keeps
    # that step's probabilities and the encoder's input instead of running the model again
    with WhisperCapture(pipe.model, detect=detect, keep_input=kept is not None) as capture:
        output = pipe({"raw": samples, "sampling_rate": SAMPLE_RATE}, generate_kwargs=generate_kwargs, **kwargs)
    language, probability = options.language, None
    if detect:
        language, probability = None, None
        if capture.languages:
            language = max(capture.languages, key=capture.languages.__getitem__)
            probability = round(capture.languages[language], 4)
    if kept is not None:
        kept.log_mel = capture.log_mel
        kept.languages = capture.languages if detect else None
        kept.language_note = "" if detect else _language_note(multilingual, options.language)
        if recorder is not None:
            kept.tokens = recorder.first_window_tokens(pipe.tokenizer, pipe.model.generation_config)
        else:
            kept.tokens_note = ("Per-token probabilities are recorded for greedy decoding (beam size 1); beam "
                                "search keeps several candidate texts at once.")
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


class WhisperCapture:
    """Keeps, from the run itself, the first window's encoder input and the language probabilities of
    generate()'s own detection step (a decoder call over just the start token, without cache). Hooks on the shared
    model only record calls made by this thread: a concurrent request on the same model is not mixed in."""

    def __init__(self, model: Any, *, detect: bool, keep_input: bool) -> None:
        self.model = model
        self.detect = detect
        self.keep_input = keep_input
        self.languages: dict[str, float] | None = None
        self.log_mel: np.ndarray | None = None
        self._hooks = ThreadHooks()

    def __enter__(self) -> WhisperCapture:
        if self.detect:
            self._hooks.after_with_kwargs(self.model, self._language_hook)
        if self.keep_input:
            self._hooks.before(self.model.get_encoder(), self._input_hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)

    def _input_hook(self, args: tuple, kwargs: dict) -> None:
        if self.log_mel is not None:
            return
        features = args[0] if args else kwargs.get("input_features")
        if features is not None:
            self.log_mel = to_numpy(features[0])

    def _language_hook(self, kwargs: dict, output: Any) -> None:
        decoder_ids = kwargs.get("decoder_input_ids")
        if (self.languages is not None or kwargs.get("use_cache", True)
                or decoder_ids is None or decoder_ids.shape[-1] != 1):
            return
        import torch

        lang_to_id = getattr(self.model.generation_config, "lang_to_id", None) or {}
        if not lang_to_id:
            return
        codes = list(lang_to_id)
        logits = output.logits[0, -1]
        ids = torch.tensor([lang_to_id[code] for code in codes], device=logits.device)
        probabilities = torch.softmax(logits[ids].float(), dim=-1).cpu().numpy()
        self.languages = {code.strip("<|>"): float(p) for code, p in zip(codes, probabilities, strict=True)}


class TokenRecorder:
    """A logits processor that only watches: per decoding step, the top log-probabilities of each row, after
    Whisper's own rules (timestamps, suppressed tokens) have been applied. Greedy decoding chooses each step's
    argmax, so the chosen token's probability is among them."""

    def __init__(self, top_k: int = 4) -> None:
        self.top_k = top_k
        self.calls: list[dict[str, Any]] = []  # one per generate() call: begin index, steps, last input ids

    def set_begin_index(self, begin_index: int) -> None:  # Whisper calls this before each generate() call
        self.calls.append({"begin": begin_index, "steps": [], "input_ids": None})

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if not self.calls:
            self.set_begin_index(input_ids.shape[-1])
        top = torch.log_softmax(scores.float(), dim=-1).topk(self.top_k, dim=-1)
        call = self.calls[-1]
        call["steps"].append((top.indices.cpu().numpy(), top.values.cpu().numpy()))
        call["input_ids"] = input_ids
        return scores

    def first_window_tokens(self, tokenizer: Any, generation_config: Any) -> list[DecodedToken]:
        """The first window's tokens (row 0 of the first call) with their probabilities and segment times."""
        if not self.calls or not self.calls[0]["steps"]:
            return []
        call = self.calls[0]
        steps = call["steps"]
        prefix = [] if call["input_ids"] is None else call["input_ids"][0, call["begin"]:].tolist()
        chosen = [*prefix, int(steps[-1][0][0, 0])]
        timestamp_begin = getattr(generation_config, "no_timestamps_token_id", None)
        timestamp_begin = None if timestamp_begin is None else timestamp_begin + 1
        eos = generation_config.eos_token_id
        eos_ids = set(eos) if isinstance(eos, list) else {eos}
        tokens: list[DecodedToken] = []
        segment_start: float | None = None
        for step, token_id in enumerate(chosen):
            if token_id in eos_ids:
                break
            ids, logprobs = steps[step][0][0], steps[step][1][0]
            match = np.flatnonzero(ids == token_id)
            probability = float(np.exp(logprobs[match[0]])) if len(match) else None
            if timestamp_begin is not None and token_id >= timestamp_begin:
                segment_start = round((token_id - timestamp_begin) * 0.02, 2)
                tokens.append(DecodedToken(f"[{segment_start:.2f}s]", segment_start, probability, True))
            else:
                tokens.append(DecodedToken(tokenizer.decode([token_id]), segment_start, probability))
        return tokens


# ---- CTC (wav2vec2 / HuBERT) ----------------------------------------------------------------------------------------
def _ctc(pipe: Any, samples: np.ndarray, progress: Progress, chunk_s: float = 20.0, stride_s: float = 4.0,
         kept: AsrInside | None = None) -> tuple:
    """One forward pass per chunk with overlapping context (stride) trimmed off, so long files fit in memory."""
    import torch

    model, extractor, tokenizer = pipe.model, pipe.feature_extractor, pipe.tokenizer
    ratio = int(np.prod(model.config.conv_stride))  # samples per output frame (320 → 20 ms)
    chunk, stride = int(chunk_s * SAMPLE_RATE) // ratio * ratio, int(stride_s * SAMPLE_RATE) // ratio * ratio
    frame_ids: list[np.ndarray] = []
    emissions: list[np.ndarray] = []  # log-probabilities of the first CTC_VIEW_FRAMES frames, for the picture
    starts = list(range(0, len(samples), chunk)) or [0]
    for index, begin in enumerate(starts):
        left = min(stride, begin)
        window = samples[begin - left: begin + chunk + stride]
        inputs = extractor(window, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        with torch.inference_mode():
            logits = model(inputs.input_values.to(model.device, model.dtype)).logits[0]
        keep_from = left // ratio
        keep_frames = int(np.ceil(min(chunk, len(samples) - begin) / ratio))
        frame_logits = logits[keep_from: keep_from + keep_frames]
        frame_ids.append(frame_logits.argmax(-1).cpu().numpy())
        still_wanted = CTC_VIEW_FRAMES - sum(len(e) for e in emissions)
        if kept is not None and still_wanted > 0:
            emissions.append(torch.log_softmax(frame_logits[:still_wanted].float(), dim=-1).cpu().numpy())
        progress(0.1 + 0.9 * (index + 1) / len(starts), "CTC forward pass")
    ids = np.concatenate(frame_ids) if frame_ids else np.zeros(0, int)
    tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
    frames = CtcFrames(ratio / SAMPLE_RATE, tokens, tokenizer.pad_token, tokenizer.word_delimiter_token)
    if kept is not None and emissions:
        kept.emissions = np.concatenate(emissions)
        kept.emission_labels = tokenizer.convert_ids_to_tokens(list(range(kept.emissions.shape[1])))
        kept.blank_id = tokenizer.pad_token_id
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
