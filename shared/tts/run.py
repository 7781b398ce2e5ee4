"""Text to speech: preprocess (clean, validate, split at sentence boundaries) → forward (Piper, SpeechT5, Bark or
MMS/VITS, one chunk at a time) → postprocess (join with short pauses, check the audio, time it, wav + spectrogram).
Also the comparison of several models with its ASR round trip, and the trace of each run that the "Inside the
model" views draw (shared.tts.inside). No Gradio here."""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.errors import UserError
from shared.models.loader import LoadedModel, ModelLoader, get_loader
from shared.models.registry import TTS, UnknownModelError, get_spec
from shared.tts import inside as inside_tts
from shared.tts import voices

OFFLINE_VOICE = "offline:piper-en_US-joe-medium"
ASR_MODEL = "offline:whisper-tiny.en"
MAX_CHARS = 2000  # about two and a half minutes of speech
MAX_CHARS_BARK = 600  # Bark is slow: about 40 s of speech, several generations
MAX_CHARS_COMPARE = 600
PAUSE_S = 0.25  # silence put between chunks
# characters per generation: SpeechT5 reads at most 600 tokens (one per character) and its decoder 1876 frames;
# Bark generates at most ~13 s per call; Piper and VITS have no hard limit, chunks bound memory and latency
CHUNK_CHARS = {"piper": 500, "speecht5": 300, "bark": 180, "vits": 400}
SPEAKING_RATE_CPS = 14.0  # characters per second of ordinary English speech, for estimates only
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, desc: str) -> None:
    pass


# ---- text ---------------------------------------------------------------------------------------------------------
_DROPPED_CATEGORIES = {"So", "Sk", "Me", "Cs", "Co", "Cn", "Cf", "Cc"}  # emoji & symbols, unassigned, format, control
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners spell words in Indic and Arabic scripts
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")  # the emoji 1️⃣ holds a real digit
_STRAY_JOINER = re.compile(r"(?<!\w)\u200d|\u200d(?!\w)")
_ENDS = ".!?…।॥؟"
_BOUNDARY = re.compile(rf"\s*\n\s*|(?<=[{_ENDS}][\"'”’»)\]])\s+|(?<=[{_ENDS}])\s+|(?<=[。！？])\s*")
_CLAUSE = re.compile(r"(?<=[,;:，；、])\s*")


def clean_text(text: str) -> str:
    """NFC, emoji / symbols / control characters dropped, spaces squeezed; line breaks kept (sentence breaks)."""
    kept = []
    for char in _VARIATION_SELECTORS.sub("", _KEYCAP.sub("", unicodedata.normalize("NFC", text))):
        if char.isspace():
            kept.append("\n" if char in "\n\r\u2028\u2029\x0b\x0c" else " ")
        elif char in _KEPT_FORMAT or unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    cleaned = _STRAY_JOINER.sub("", "".join(kept))
    cleaned = re.sub(r" +", " ", cleaned)
    return re.sub(r" *\n[\n ]*", "\n", cleaned).strip()


def validate_text(text: str | None, max_chars: int = MAX_CHARS) -> str:
    """The cleaned text, or a UserError that says what is wrong with it."""
    if text is None or not str(text).strip():
        raise UserError("Type some text to speak: the text box is empty.")
    text = str(text)
    if len(text) > max_chars:
        raise UserError(f"The text is {len(text)} characters long; the limit here is {max_chars} (about "
                        f"{max_chars / SPEAKING_RATE_CPS / 60:.1f} minutes of speech). Shorten it or split it up.")
    cleaned = clean_text(text)
    if not any(char.isalnum() for char in cleaned):
        raise UserError("The text has nothing to speak: no letters or digits, only emoji, symbols or punctuation.")
    return cleaned


def split_sentences(text: str) -> list[str]:
    """Sentences (and lines): after . ! ? … । ॥ ؟ followed by a space, after 。！？, at line breaks."""
    return [part.strip() for part in _BOUNDARY.split(text) if part and part.strip()]


def _pack(pieces: list[str], max_chars: int, joiner: str = " ") -> list[str]:
    packed: list[str] = []
    for piece in pieces:
        if packed and len(packed[-1]) + len(joiner) + len(piece) <= max_chars:
            packed[-1] = packed[-1] + joiner + piece
        else:
            packed.append(piece)
    return packed


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than max_chars: at clause punctuation, then between words, then (one huge word) anywhere."""
    if len(sentence) <= max_chars:
        return [sentence]
    parts = []
    for clause in _pack([c for c in _CLAUSE.split(sentence) if c.strip()], max_chars):
        if len(clause) <= max_chars:
            parts.append(clause)
            continue
        words = []
        for word in clause.split():
            words.extend(word[i:i + max_chars] for i in range(0, len(word), max_chars))
        parts.extend(_pack(words, max_chars))
    return parts


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Whole sentences packed into chunks of at most max_chars (a longer sentence is split at commas/words)."""
    pieces = [piece for sentence in split_sentences(text) for piece in _split_long(sentence, max_chars)]
    return _pack(pieces, max_chars)


# ---- models -------------------------------------------------------------------------------------------------------
def engine_of(model_id: str) -> str:
    """'piper', 'speecht5', 'bark' or 'vits' (MMS) for a TTS registry id."""
    try:
        spec = get_spec(model_id)
    except UnknownModelError:
        raise UserError(f"Unknown model {model_id!r}: pick one from the list.") from None
    if spec.task != TTS:
        raise UserError(f"{model_id} is not a text-to-speech model.")
    return "piper" if spec.engine == "piper" else spec.family


def resolve_model(model_id: str, language: str = "") -> str:
    """The registry id to load: for an MMS model, `language` (an ISO 639-3 code or name) picks the MMS voice."""
    engine = engine_of(model_id)
    if engine == "vits" and model_id.startswith(voices.MMS_PREFIX) and (language or "").strip():
        return voices.resolve_mms_language(language)
    return model_id


def voice_choices(model_id: str) -> tuple[list[tuple[str, str]], str]:
    """(label, value) choices of the voice picker for a model, and the default."""
    engine = engine_of(model_id)
    if engine == "speecht5":
        return voices.speecht5_voice_choices(), voices.DEFAULT_SPEECHT5_SPEAKER
    if engine == "bark":
        return voices.bark_voice_choices(), voices.DEFAULT_BARK_PRESET
    return [("the model's only voice", "default")], "default"


@dataclass
class Speech:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    model_id: str
    text: str  # what was spoken: the cleaned text
    voice: str
    device: str
    dtype: str
    compute_s: float
    load_s: float
    chunks: int
    english: bool  # round-trip WER with an English recogniser is meaningful only then
    notes: list[str] = field(default_factory=list)
    inside: inside_tts.Trace | None = None  # what the model computed on the way, captured during this run
    architecture: str = ""  # markdown card of the model family, with the loaded model's parameter count

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.duration_s if self.duration_s else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model_id, "voice": self.voice, "sample_rate": self.sample_rate,
                "duration_s": round(self.duration_s, 3), "synthesis_s": round(self.compute_s, 3),
                "real_time_factor": round(self.real_time_factor, 4), "load_s": round(self.load_s, 3),
                "device": self.device, "dtype": self.dtype, "chunks": self.chunks, "notes": self.notes}


@dataclass
class _Forward:
    pieces: list[np.ndarray]
    sample_rate: int
    voice: str
    english: bool = True
    notes: list[str] = field(default_factory=list)
    trace: inside_tts.Trace | None = None


def _seed_torch(seed: int) -> None:
    import torch

    torch.manual_seed(seed)  # process-wide: concurrent requests can make sampled voices differ between runs


def _run_pipeline(pipe: Any, text: str, forward_params: dict) -> tuple[np.ndarray, int]:
    output = pipe(text, forward_params=forward_params)
    return np.asarray(output["audio"], dtype=np.float32).reshape(-1), int(output["sampling_rate"])


def _each_chunk(chunks: list[str], progress: Progress) -> Iterator[str]:
    for index, chunk in enumerate(chunks):
        progress(0.05 + 0.9 * index / len(chunks), f"Synthesising part {index + 1} of {len(chunks)}")
        yield chunk


def _piper(voice: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Forward:
    pieces = []
    trace = inside_tts.PiperTrace(voice.config.sample_rate)
    for chunk in _each_chunk(chunks, progress):
        # one AudioChunk per sentence; alignments cost nothing and come only from voices exported with them
        for audio in voice.synthesize(chunk, include_alignments=True):
            pieces.append(audio.audio_float_array)
            trace.add(audio)
    if not pieces:
        raise UserError("The Piper voice found nothing to pronounce in this text.")
    return _Forward(pieces, voice.config.sample_rate, "joe (en_US, medium)",
                    notes=["Piper's voice noise is not seeded: two runs differ slightly."], trace=trace)


def _speecht5(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Forward:
    import torch

    speaker = voices.speecht5_speaker(voice_name, seed)
    embedding = torch.from_numpy(speaker.embedding)[None].to(pipe.model.dtype)
    vocabulary = pipe.tokenizer.get_vocab()
    notes = [speaker.fallback_note] if speaker.fallback_note else []
    readable = []
    unknown: set[str] = set()
    for chunk in chunks:  # a character-level vocabulary: drop what it cannot read instead of feeding <unk>
        kept = "".join(char for char in chunk if char == " " or char in vocabulary)
        unknown |= {char for char in chunk if char != " " and char not in vocabulary}
        if any(char.isalnum() for char in kept):
            readable.append(kept.strip())
    if not readable:
        raise UserError("SpeechT5 reads English letters only and knows none of the characters of this text.")
    if unknown:
        shown = " ".join(sorted(unknown)[:20])
        notes.append(f"SpeechT5 skipped characters it cannot read: {shown} (write numbers and symbols as words).")
    config = pipe.model.config
    _seed_torch(seed)
    pieces, rate = [], 16_000
    with inside_tts.trace_speecht5(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            tokens = len(pipe.tokenizer(chunk)["input_ids"])
            # the decoder has max_speech_positions steps; the default maxlenratio (20) could run past them
            ratio = min(20.0, (config.max_speech_positions - 1) * config.reduction_factor / tokens)
            samples, rate = _run_pipeline(pipe, chunk, {"speaker_embeddings": embedding, "maxlenratio": ratio,
                                                        "threshold": trace.threshold})
            pieces.append(samples)
    return _Forward(pieces, rate, speaker.description, notes=notes, trace=trace)


def _speakable_tokens(tokenizer: Any, text: str) -> int:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids)
    return sum(1 for token in tokenizer.convert_ids_to_tokens([i for i in ids if i not in special])
               if token.strip("▁ #"))


def _bark(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Forward:
    preset = (voice_name or voices.DEFAULT_BARK_PRESET).strip()
    readable = [chunk for chunk in chunks if _speakable_tokens(pipe.tokenizer, chunk)]
    if not readable:
        raise UserError("Bark's tokenizer knows none of the characters of this text.")
    forward: dict[str, Any] = {"do_sample": True, "semantic_temperature": 0.7, "coarse_temperature": 0.7,
                               "fine_temperature": 0.5}  # suno's defaults; greedy Bark loops and mumbles
    if preset != voices.NO_PRESET:
        available = pipe.processor.available_voice_presets if pipe.processor is not None else []
        if preset not in available:  # also keeps any other string away from the processor (it np.loads paths)
            raise UserError(f"Voice preset {preset!r} is not in this Bark repository's presets "
                            f"({len(available)} available, e.g. {', '.join(sorted(available)[:3])}).")
        forward["history_prompt"] = dict(pipe.processor("", voice_preset=preset)["history_prompt"])
    _seed_torch(seed)
    pieces, rate = [], 24_000
    with inside_tts.trace_bark(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            start = time.perf_counter()
            samples, rate = _run_pipeline(pipe, chunk, forward)
            trace.part_seconds.append(time.perf_counter() - start)
            pieces.append(samples)
    language = voices.bark_preset_language(preset)
    described = preset if preset != voices.NO_PRESET else "no preset (Bark picks a voice)"
    return _Forward(pieces, rate, f"{described}, seed {seed}", english=language in (None, "en"), trace=trace)


_NON_ROMAN = re.compile(r"[^\x00-\x7F]")


@functools.cache
def _uroman() -> Any:
    import uroman

    return uroman.Uroman()  # ~2.5 s to build; transformers' VitsTokenizer builds a new one for every call


def _vits(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Forward:
    tokenizer = pipe.tokenizer
    language = getattr(tokenizer, "language", None) or "?"
    notes = []
    readable = []
    for chunk in chunks:
        if tokenizer.is_uroman and _NON_ROMAN.search(chunk):
            chunk = _uroman().romanize_string(chunk)  # what the tokenizer would do, with a cached romaniser
            notes.append(f"Romanised with uroman (the model reads Latin letters): “{chunk[:200]}”")
        kept, _ = tokenizer.prepare_for_tokenization(chunk)  # lower-cases and drops what the vocabulary lacks
        if kept.strip():
            readable.append(chunk)
    if not readable:
        name = voices.mms_languages().get(language, language)
        raise UserError(f"None of the characters of this text are in the alphabet of the {name} MMS voice "
                        f"({language}); VITS cannot speak an empty input. Type {name} text in its usual script.")
    _seed_torch(seed)  # VITS samples its durations and noise
    pieces, rate = [], 16_000
    with inside_tts.trace_vits(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            samples, rate = _run_pipeline(pipe, chunk, {})
            pieces.append(samples)
    return _Forward(pieces, rate, f"MMS {language} (single speaker), seed {seed}", english=language == "eng",
                    notes=notes, trace=trace)


_ENGINES: dict[str, Callable[[Any, list[str], str, int, Progress], _Forward]] = {
    "piper": _piper, "speecht5": _speecht5, "bark": _bark, "vits": _vits}


# ---- postprocess --------------------------------------------------------------------------------------------------
def join_with_pauses(pieces: list[np.ndarray], sample_rate: int, pause_s: float = PAUSE_S) -> np.ndarray:
    gap = np.zeros(round(pause_s * sample_rate), np.float32)
    joined: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if index:
            joined.append(gap)
        joined.append(np.asarray(piece, np.float32).reshape(-1))
    return np.concatenate(joined) if joined else np.zeros(0, np.float32)


def finish_audio(samples: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Checked audio in [-1, 1]: an error when empty or not finite; peak-normalised only when it clips."""
    if samples.size == 0:
        raise UserError("The model produced no audio for this text.")
    if not np.isfinite(samples).all():
        raise UserError("The model produced invalid audio (NaN or infinite samples). This can happen in float16: "
                        "try ADS_DTYPE=float32.")
    notes = []
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        samples = samples * np.float32(0.99 / peak)
        notes.append(f"The model's output clipped (peak {peak:.2f}), so it was peak-normalised to 0.99.")
    elif peak < 1e-4:
        notes.append("The output is (nearly) silent.")
    return samples.astype(np.float32, copy=False), notes


def _device_dtype(entry: LoadedModel, engine: str, model: Any) -> tuple[str, str]:
    if engine == "piper":
        providers = model.session.get_providers()
        return ("cuda" if "CUDAExecutionProvider" in providers else "cpu"), "float32 (onnxruntime)"
    return entry.placement.device, entry.placement.dtype


_MEASURED_RTF: dict[tuple[str, str], float] = {}  # (model, device) -> last real-time factor, for Bark's estimate


def synthesize(text: str | None, model_id: str = OFFLINE_VOICE, voice: str = "", language: str = "", seed: int = 0,
               *, loader: ModelLoader | None = None, progress: Progress = _no_progress,
               max_chars: int = MAX_CHARS) -> Speech:
    """Speak `text` with a TTS registry model. `voice`: a SpeechT5 speaker or Bark preset (others have one voice);
    `language`: for MMS, the ISO 639-3 code that picks facebook/mms-tts-<code> (from the registry only)."""
    model_id = resolve_model(model_id, language)
    engine = engine_of(model_id)
    cleaned = validate_text(text, min(max_chars, MAX_CHARS_BARK) if engine == "bark" else max_chars)
    seed = _valid_seed(seed)
    voice = (voice or "").strip()
    if engine in ("piper", "vits"):
        voice = "default"  # single-speaker models
    elif engine == "speecht5":
        voice = voices.validate_speecht5_voice(voice)  # before the model loads
    chunks = chunk_text(cleaned, CHUNK_CHARS[engine])
    loader = loader or get_loader()
    progress(0.02, f"Loading {model_id}")
    load_start = time.perf_counter()
    entry = loader.entry(model_id)
    load_s = time.perf_counter() - load_start
    with loader.use(model_id) as model:
        start = time.perf_counter()
        forward = _ENGINES[engine](model, chunks, voice, seed, progress)
        compute_s = time.perf_counter() - start
        architecture = inside_tts.card(entry.spec.family, model, model_id, engine)
    samples, notes = finish_audio(join_with_pauses(forward.pieces, forward.sample_rate))
    device, dtype = _device_dtype(entry, engine, model)
    speech = Speech(samples, forward.sample_rate, model_id, cleaned, forward.voice, device, dtype, compute_s, load_s,
                    len(forward.pieces) if engine != "piper" else len(chunks), forward.english,
                    forward.notes + notes, forward.trace, architecture)
    _MEASURED_RTF[(model_id, device)] = speech.real_time_factor
    return speech


def _valid_seed(seed: Any) -> int:
    try:
        value = int(seed if seed not in (None, "") else 0)
    except (TypeError, ValueError):
        raise UserError(f"The seed must be a whole number, got {seed!r}.") from None
    if not 0 <= value < 2**32:
        raise UserError("The seed must be between 0 and 4294967295.")
    return value


# ---- what the UI shows --------------------------------------------------------------------------------------------
BARK_RTF_GUESS = {"suno/bark-small": {"cpu": 10.0, "cuda": 1.0}, "suno/bark": {"cpu": 30.0, "cuda": 2.0}}


def bark_estimate(model_id: str, text: str, device: str) -> str:
    """A rough wall-clock estimate for Bark: from this server's last run, else from a guessed real-time factor."""
    audio_s = max(1.0, len((text or "").strip()) / SPEAKING_RATE_CPS)
    measured = _MEASURED_RTF.get((model_id, device))
    if measured is not None:
        rtf, source = measured, "measured on this server"
    else:
        guesses = BARK_RTF_GUESS.get(model_id, BARK_RTF_GUESS["suno/bark"])
        rtf, source = guesses.get(device, guesses["cpu"]), "a rough guess, nothing measured here yet"
    return (f"≈ {audio_s:.0f} s of speech → roughly {audio_s * rtf:.0f} s to generate on `{device}` "
            f"(real-time factor {rtf:.1f}, {source})")


def model_notes(model_id: str, text: str = "") -> str:
    """Markdown shown under the model picker."""
    engine = engine_of(model_id)
    if engine == "piper":
        return "Built-in Piper voice (onnxruntime, CPU): works offline, fast, English only."
    if engine == "speecht5":
        return ("SpeechT5 + HiFi-GAN vocoder, English. " + voices.speecht5_presets_status()
                + " Numbers and symbols are skipped: write them as words.")
    if engine == "bark":
        device = get_loader().placement.device
        slow = "**Bark is slow on CPU.** " if device == "cpu" else ""
        return (f"{slow}{bark_estimate(model_id, text, device)}. Voice presets pick speaker and language; the seed "
                f"makes a run repeatable. Bark adds its own pauses, laughs and noises. At most {MAX_CHARS_BARK} "
                "characters.")
    spec = get_spec(model_id)
    name = voices.mms_languages().get(spec.options.get("language", ""), "")
    return (f"MMS-TTS (VITS) for {name or model_id}: one voice per language, 16 kHz, licence CC-BY-NC 4.0. Type an "
            "ISO 639-3 code in the language box to switch language; non-Latin scripts are romanised with uroman "
            "where the model was trained on romanised text.")


def info_markdown(speech: Speech) -> str:
    from shared.progress import timing_line

    lines = [f"**{speech.model_id}** · voice {speech.voice} · {speech.duration_s:.2f} s at {speech.sample_rate} Hz "
             f"· {speech.chunks} part{'s' if speech.chunks != 1 else ''}",
             timing_line(speech.device, speech.dtype, speech.compute_s, speech.duration_s, speech.load_s)]
    lines += [f"- {note}" for note in speech.notes]
    return "\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")


def spectrogram(speech: Speech) -> np.ndarray:
    from shared.audio.dsp import stft_power
    from shared.audio.plots import spectrogram_image

    n_fft = 1024 if speech.sample_rate > 16_000 else 512
    power = stft_power(speech.samples, speech.sample_rate, n_fft, n_fft // 4)
    return spectrogram_image(power, top_db=80.0, log_frequency=False, title=f"{speech.model_id}: spectrogram")


def write_wav(speech: Speech, name: str = "speech.wav") -> str:
    import soundfile as sf

    from shared.outputs.results import new_result_path

    path = new_result_path(name)
    sf.write(path, speech.samples, speech.sample_rate, subtype="PCM_16")
    return str(path)


# ---- comparison with the ASR round trip ---------------------------------------------------------------------------
@dataclass
class Comparison:
    model_id: str
    speech: Speech | None
    transcript: str = ""
    wer: float | None = None
    error: str = ""


def round_trip(speech: Speech, asr_model: str = ASR_MODEL, *, loader: ModelLoader | None = None) -> tuple[str, float]:
    """Transcribe the speech back (16 kHz) and score it against the text: word error rate, 0 = every word heard."""
    from shared.audio.intake import load_audio
    from shared.outputs.text_metrics import wer
    from shared.transcribe.run import TranscribeOptions, transcribe

    clip = load_audio((speech.sample_rate, speech.samples), 16_000)
    heard = transcribe(clip, asr_model, TranscribeOptions(timestamps="none"), loader=loader).text
    return heard, wer(speech.text, heard)


def compare(text: str | None, models: list[str] | None, seed: int = 0, asr_model: str = ASR_MODEL, *,
            loader: ModelLoader | None = None, progress: Progress = _no_progress) -> list[Comparison]:
    """The same text through 2-4 models, each transcribed back. A model that cannot speak this text gets its
    error in its row; the others still run."""
    models = list(dict.fromkeys(model for model in models or [] if model))
    if not 2 <= len(models) <= 4:
        raise UserError("Choose 2 to 4 models to compare.")
    for model in models:
        engine_of(model)
    validate_text(text, MAX_CHARS_COMPARE)
    results = []
    for index, model in enumerate(models):
        def step(fraction: float, desc: str, index: int = index, model: str = model) -> None:
            progress((index + 0.8 * fraction) / len(models), f"{model}: {desc}")

        try:
            speech = synthesize(text, model, seed=seed, loader=loader, progress=step, max_chars=MAX_CHARS_COMPARE)
        except UserError as exc:
            results.append(Comparison(model, None, error=str(exc)))
            continue
        progress((index + 0.85) / len(models), f"{model}: transcribing the output back ({asr_model})")
        heard, score = round_trip(speech, asr_model, loader=loader)
        results.append(Comparison(model, speech, heard, score))
    return results


COMPARE_HEADERS = ["model", "WER", "heard by ASR", "audio (s)", "synthesis (s)", "RTF", "device · dtype", "voice",
                   "notes"]


def compare_rows(results: list[Comparison]) -> list[list]:
    rows = []
    for result in results:
        speech = result.speech
        if speech is None:
            rows.append([result.model_id, None, "", None, None, None, "", "", result.error])
            continue
        notes = list(speech.notes)
        if not speech.english:
            notes.insert(0, "not English: the English recogniser's WER says little here")
        rows.append([result.model_id, round(result.wer, 3) if result.wer is not None else None, result.transcript,
                     round(speech.duration_s, 2), round(speech.compute_s, 2), round(speech.real_time_factor, 3),
                     f"{speech.device} · {speech.dtype}", speech.voice, " · ".join(notes)])
    return rows
