"""Text to speech, the task itself: preprocess (clean, validate, split at sentence boundaries: shared.tts.text) →
forward (Piper, SpeechT5, Bark or MMS/VITS, one chunk at a time, recording what the "Inside the model" views draw:
shared.tts.capture) → postprocess (join with short pauses, check the audio, time it) into a `Speech`. The same run
streams (`synthesize_stream`): each piece is handed on as soon as the engine has made it, the `Speech` last. Also the
comparison of several models with its ASR round trip. No Gradio and no pictures here (shared.tts.views,
shared.tts.inside)."""

from __future__ import annotations

import collections
import contextlib
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.errors import UserError
from shared.models.loader import LoadedModel, ModelLoader, get_loader
from shared.models.registry import TTS, UnknownModelError, models_for, require_task
from shared.outputs.text_metrics import uroman_romanizer, wer
from shared.progress import Progress, RealTimeFactor, Stopwatch, no_progress
from shared.transcribe.run import heard_text
from shared.tts import capture, codec_lm, voices
from shared.tts.reference import VoiceReference, voice_similarity
from shared.tts.text import MAX_CHARS, chunk_text, validate_text

OFFLINE_VOICE = "offline:piper-en_US-joe-medium"
ASR_MODEL = "offline:whisper-tiny.en"
MAX_CHARS_BARK = 600  # Bark is slow: about 40 s of speech, several generations
MAX_CHARS_COMPARE = 600
MAX_CHARS_STREAM = 10_000  # about 12 minutes of speech: pieces play as they come, only the finished audio is kept
PAUSE_S = 0.25  # silence put between chunks
# characters per generation: SpeechT5 reads at most 600 tokens (one per character) and its decoder 1876 frames;
# Bark generates at most ~13 s per call; Piper and VITS have no hard limit, chunks bound memory and latency
CHUNK_CHARS = {"piper": 500, "speecht5": 300, "bark": 180, "vits": 400, "csm": 200, "dia": 200}


# ---- models -------------------------------------------------------------------------------------------------------
def engine_of(model_id: str) -> str:
    """'piper', 'speecht5', 'bark' or 'vits' (MMS) for a TTS registry id."""
    try:
        spec = require_task(model_id, TTS)
    except UnknownModelError:
        raise UserError(f"Unknown model {model_id!r}: pick one from the list.") from None
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
class Speech(RealTimeFactor):
    """One synthesis: the audio (float32 mono in [-1, 1] at `sample_rate` Hz), what was spoken and how, the times in
    seconds (`compute_s` the synthesis, `load_s` the model load) and this run's recording for the inside views."""

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
    inside: capture.Trace | None = None  # what the model computed on the way, captured during this run
    architecture: str = ""  # markdown card of the model family, with the loaded model's parameter count

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def audio_s(self) -> float:
        """The real-time factor of synthesis is measured against the audio it made."""
        return self.duration_s

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model_id, "voice": self.voice, "sample_rate": self.sample_rate,
                "duration_s": round(self.duration_s, 3), "synthesis_s": round(self.compute_s, 3),
                "real_time_factor": round(self.real_time_factor, 4), "load_s": round(self.load_s, 3),
                "device": self.device, "dtype": self.dtype, "chunks": self.chunks, "notes": self.notes}

    def recording(self) -> capture.TtsRecording:
        """What the "Inside the model" section draws for this run (its trace and card, not the audio)."""
        return capture.TtsRecording(self.inside, self.architecture)


@dataclass
class SpeechPiece:
    """One piece of a streamed synthesis (a sentence for Piper, a chunk for the others), handed on as soon as the
    engine has made it: `audio` float32 mono at `sample_rate` Hz, `pause_s` seconds of silence before it (the pause
    `synthesize` puts between two pieces; 0 for the first). Not yet peak-normalised: the whole is, only if it clips."""

    audio: np.ndarray
    sample_rate: int
    index: int  # 0, 1, 2 ... in speaking order
    pause_s: float

    @property
    def samples(self) -> np.ndarray:
        """The pause, then the audio: all pieces' samples one after another are the speech's audio."""
        gap = np.zeros(round(self.pause_s * self.sample_rate), np.float32)
        return np.concatenate([gap, self.audio]) if gap.size else self.audio


@dataclass
class _Forward:
    """What an engine says about its run once its last piece is made."""

    voice: str
    english: bool = True
    notes: list[str] = field(default_factory=list)
    trace: capture.Trace | None = None


# an engine: yields (float32 samples, sample rate in Hz) per piece as it makes them, returns the _Forward
_Pieces = Generator[tuple[np.ndarray, int], None, _Forward]


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


def _piper(voice: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Pieces:
    trace = capture.PiperTrace(voice.config.sample_rate)
    for chunk in _each_chunk(chunks, progress):
        # one AudioChunk per sentence; alignments cost nothing and come only from voices exported with them
        for audio in voice.synthesize(chunk, include_alignments=True):
            trace.add(audio)
            yield audio.audio_float_array, voice.config.sample_rate
    if not trace.sentences:
        raise UserError("The Piper voice found nothing to pronounce in this text.")
    return _Forward("joe (en_US, medium)", notes=["Piper's voice noise is not seeded: two runs differ slightly."],
                    trace=trace)


def _speecht5(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Pieces:
    return (yield from _speecht5_as(pipe, chunks, voices.speecht5_speaker(voice_name, seed), seed, progress))


def _speecht5_clone(pipe: Any, chunks: list[str], reference: VoiceReference, seed: int, progress: Progress) -> _Pieces:
    """SpeechT5 in the reference's voice: its x-vector (computed before the run) instead of a preset's."""
    if reference.xvector is None:
        raise ValueError("the reference's x-vector must be computed before SpeechT5 speaks in its voice")
    speaker = voices.SpeakerChoice(reference.xvector, "your recording (its speechbrain x-vector)")
    forward = yield from _speecht5_as(pipe, chunks, speaker, seed, progress)
    if isinstance(forward.trace, capture.SpeechT5Trace):
        forward.trace.xvector = reference.xvector
        forward.trace.nearest_preset = voices.nearest_preset(reference.xvector)
    return forward


def _speecht5_as(pipe: Any, chunks: list[str], speaker: voices.SpeakerChoice, seed: int,
                 progress: Progress) -> _Pieces:
    import torch

    embedding = torch.from_numpy(speaker.embedding)[None].to(pipe.model.dtype)
    readable, skipped = _speecht5_readable(chunks, pipe.tokenizer.get_vocab())
    notes = ([speaker.fallback_note] if speaker.fallback_note else []) + skipped
    config = pipe.model.config
    _seed_torch(seed)
    with capture.trace_speecht5(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            tokens = len(pipe.tokenizer(chunk)["input_ids"])
            # the decoder has max_speech_positions steps; the default maxlenratio (20) could run past them
            ratio = min(20.0, (config.max_speech_positions - 1) * config.reduction_factor / tokens)
            yield _run_pipeline(pipe, chunk, {"speaker_embeddings": embedding, "maxlenratio": ratio,
                                              "threshold": trace.threshold})
    return _Forward(speaker.description, notes=notes, trace=trace)


def _speecht5_readable(chunks: list[str], vocabulary: dict[str, int]) -> tuple[list[str], list[str]]:
    """The chunks without the characters SpeechT5's character-level vocabulary lacks (dropped instead of fed as
    <unk>), and a note naming what was skipped."""
    readable = []
    unknown: set[str] = set()
    for chunk in chunks:
        kept = "".join(char for char in chunk if char == " " or char in vocabulary)
        unknown |= {char for char in chunk if char != " " and char not in vocabulary}
        if any(char.isalnum() for char in kept):
            readable.append(kept.strip())
    if not readable:
        raise UserError("SpeechT5 reads English letters only and knows none of the characters of this text.")
    if not unknown:
        return readable, []
    shown = " ".join(sorted(unknown)[:20])
    return readable, [f"SpeechT5 skipped characters it cannot read: {shown} (write numbers and symbols as words)."]


def _speakable_tokens(tokenizer: Any, text: str) -> int:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids)
    return sum(1 for token in tokenizer.convert_ids_to_tokens([i for i in ids if i not in special])
               if token.strip("▁ #"))


def _bark_forward(pipe: Any, preset: str) -> dict[str, Any]:
    """The generation parameters: suno's sampling defaults (greedy Bark loops and mumbles) and the preset's prompt."""
    forward: dict[str, Any] = {"do_sample": True, "semantic_temperature": 0.7, "coarse_temperature": 0.7,
                               "fine_temperature": 0.5}
    if preset == voices.NO_PRESET:
        return forward
    available = pipe.processor.available_voice_presets if pipe.processor is not None else []
    if preset not in available:  # also keeps any other string away from the processor (it np.loads paths)
        raise UserError(f"Voice preset {preset!r} is not in this Bark repository's presets "
                        f"({len(available)} available, e.g. {', '.join(sorted(available)[:3])}).")
    forward["history_prompt"] = dict(pipe.processor("", voice_preset=preset)["history_prompt"])
    return forward


def _bark(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Pieces:
    preset = (voice_name or voices.DEFAULT_BARK_PRESET).strip()
    readable = [chunk for chunk in chunks if _speakable_tokens(pipe.tokenizer, chunk)]
    if not readable:
        raise UserError("Bark's tokenizer knows none of the characters of this text.")
    forward = _bark_forward(pipe, preset)
    _seed_torch(seed)
    with capture.trace_bark(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            with Stopwatch() as generation:
                piece = _run_pipeline(pipe, chunk, forward)
            trace.part_seconds.append(generation.seconds)
            yield piece
    language = voices.bark_preset_language(preset)
    described = preset if preset != voices.NO_PRESET else "no preset (Bark picks a voice)"
    return _Forward(f"{described}, seed {seed}", english=language in (None, "en"), trace=trace)


_NON_ROMAN = re.compile(r"[^\x00-\x7F]")


def _vits_readable(tokenizer: Any, chunks: list[str]) -> tuple[list[str], list[str]]:
    """The chunks the voice's alphabet can read something of (romanised first where the model reads uroman), and
    a note per romanised chunk."""
    notes = []
    readable = []
    for chunk in chunks:
        if tokenizer.is_uroman and _NON_ROMAN.search(chunk):
            chunk = uroman_romanizer().romanize_string(chunk)  # what the tokenizer would do, with a cached romaniser
            notes.append(f"Romanised with uroman (the model reads Latin letters): “{chunk[:200]}”")
        kept, _ = tokenizer.prepare_for_tokenization(chunk)  # lower-cases and drops what the vocabulary lacks
        if kept.strip():
            readable.append(chunk)
    return readable, notes


def _vits(pipe: Any, chunks: list[str], voice_name: str, seed: int, progress: Progress) -> _Pieces:
    tokenizer = pipe.tokenizer
    language = getattr(tokenizer, "language", None) or "?"
    readable, notes = _vits_readable(tokenizer, chunks)
    if not readable:
        name = voices.mms_languages().get(language, language)
        raise UserError(f"None of the characters of this text are in the alphabet of the {name} MMS voice "
                        f"({language}); VITS cannot speak an empty input. Type {name} text in its usual script.")
    _seed_torch(seed)  # VITS samples its durations and noise
    with capture.trace_vits(pipe) as trace:
        for chunk in _each_chunk(readable, progress):
            yield _run_pipeline(pipe, chunk, {})
    return _Forward(f"MMS {language} (single speaker), seed {seed}", english=language == "eng", notes=notes,
                    trace=trace)


def _codec_lm(lm: codec_lm.CodecLm, chunks: list[str], reference: VoiceReference | None, seed: int,
              progress: Progress) -> _Pieces:
    """CSM or Dia, each chunk one generation continuing the reference (recording + transcript) when there is one."""
    recording = reference.at(lm.sample_rate) if reference is not None else None
    trace = codec_lm.new_trace(lm, reference.transcript if reference is not None else "")
    _seed_torch(seed)
    for index, chunk in enumerate(_each_chunk(chunks, progress)):
        def report(frames: int, most: int, index: int = index) -> None:
            progress(0.05 + 0.9 * (index + frames / most) / len(chunks),
                     f"Part {index + 1} of {len(chunks)}: codec frame {frames} (at most {most})")

        yield codec_lm.speak(lm, chunk, recording, trace.prompt_text, trace, report), lm.sample_rate
    if reference is None:
        return _Forward(f"the model's own voice, seed {seed}", trace=trace)
    return _Forward(f"your recording ({reference.duration_s:.1f} s), seed {seed}", trace=trace)


def _codec_lm_own_voice(lm: codec_lm.CodecLm, chunks: list[str], voice_name: str, seed: int,
                        progress: Progress) -> _Pieces:
    return (yield from _codec_lm(lm, chunks, None, seed, progress))


_ENGINES: dict[str, Callable[[Any, list[str], str, int, Progress], _Pieces]] = {
    "piper": _piper, "speecht5": _speecht5, "bark": _bark, "vits": _vits, "csm": _codec_lm_own_voice,
    "dia": _codec_lm_own_voice}
# the engines that can speak in a recorded voice: (model, chunks, reference, seed, progress)
_CLONERS: dict[str, Callable[[Any, list[str], VoiceReference, int, Progress], _Pieces]] = {
    "csm": _codec_lm, "dia": _codec_lm, "speecht5": _speecht5_clone}
CLONING_ENGINES = tuple(_CLONERS)


# ---- postprocess --------------------------------------------------------------------------------------------------
def join_with_pauses(pieces: list[np.ndarray], sample_rate: int, pause_s: float = PAUSE_S) -> np.ndarray:
    """The pieces (float32 at `sample_rate` Hz) one after another, `pause_s` seconds of silence between two."""
    gap = np.zeros(round(pause_s * sample_rate), np.float32)
    joined: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if index:
            joined.append(gap)
        joined.append(np.asarray(piece, np.float32).reshape(-1))
    return np.concatenate(joined) if joined else np.zeros(0, np.float32)


def check_finite(samples: np.ndarray) -> np.ndarray:
    """The samples, or a UserError when one is NaN or infinite (checked per piece, before a stream hands it on)."""
    if not np.isfinite(samples).all():
        raise UserError("The model produced invalid audio (NaN or infinite samples). This can happen in float16: "
                        "try ADS_DTYPE=float32.")
    return samples


def finish_audio(samples: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Checked audio in [-1, 1]: an error when empty or not finite; peak-normalised only when it clips."""
    if samples.size == 0:
        raise UserError("The model produced no audio for this text.")
    check_finite(samples)
    notes = []
    peak = max(float(samples.max()), -float(samples.min()))  # no |samples| copy of a long text's audio
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


def measured_rtf(model_id: str, device: str) -> float | None:
    """The real-time factor of this server's last synthesis with the model on the device, if any ran."""
    return _MEASURED_RTF.get((model_id, device))


def serving_device() -> str:
    """The device ('cpu', 'cuda', 'mps') the shared loader puts models on."""
    return get_loader().placement.device


def synthesize(text: str | None, model_id: str = OFFLINE_VOICE, voice: str = "", language: str = "", seed: int = 0,
               *, loader: ModelLoader | None = None, progress: Progress = no_progress,
               max_chars: int = MAX_CHARS, reference: VoiceReference | None = None) -> Speech:
    """Speak `text` (at most `max_chars` characters) with a TTS registry model. `voice`: a SpeechT5 speaker or Bark
    preset (others have one voice); `language`: for MMS, the ISO 639-3 code that picks facebook/mms-tts-<code>
    (from the registry only); `seed` (0 to 2**32 - 1) makes sampled voices repeatable. Returns the audio at the
    model's sample rate (Hz) with its timings in seconds. `reference`: a checked recording (shared.tts.reference)
    whose voice a cloning engine (CSM, Dia, SpeechT5 with the reference's x-vector set) speaks in; `voice` is
    then ignored."""
    request = _request(text, model_id, voice, language, seed, max_chars, reference)
    last = collections.deque(_stream(request, loader or get_loader(), progress), maxlen=1).pop()
    if not isinstance(last, Speech):  # _stream ends with the Speech or raises
        raise TypeError(f"a synthesis stream ended with {type(last).__name__}")
    return last


def synthesize_stream(text: str | None, model_id: str = OFFLINE_VOICE, voice: str = "", language: str = "",
                      seed: int = 0, *, loader: ModelLoader | None = None, progress: Progress = no_progress,
                      max_chars: int = MAX_CHARS_STREAM) -> Iterator[SpeechPiece | Speech]:
    """`synthesize`, streamed: the same checks (here, at the call: a UserError before any model loads), seed, chunks
    and pauses, but each `SpeechPiece` (a sentence for Piper, a chunk for the others; seconds of audio at the model's
    rate in Hz) is yielded as soon as the engine has made it, and the finished `Speech` last (the whole audio, peak-
    normalised only if it clips, with its timings and inside recording). `max_chars` defaults to MAX_CHARS_STREAM
    (Bark: MAX_CHARS_BARK). Iterate it in one thread: the inside recording hooks only see their own thread."""
    return _stream(_request(text, model_id, voice, language, seed, max_chars), loader or get_loader(), progress)


@dataclass(frozen=True)
class _Request:
    model_id: str  # resolved (an MMS language picks its model)
    engine: str
    text: str  # cleaned
    voice: str
    seed: int
    reference: VoiceReference | None = None  # the recorded voice to speak in (cloning engines only)


def _request(text: str | None, model_id: str, voice: str, language: str, seed: Any, max_chars: int,
             reference: VoiceReference | None = None) -> _Request:
    """The checked request, or a UserError saying what is wrong with it (before any model loads)."""
    model_id = resolve_model(model_id, language)
    engine = engine_of(model_id)
    if reference is not None and engine not in _CLONERS:
        raise UserError(f"{model_id} cannot speak in a recorded voice: choose one of {', '.join(clone_models())}.")
    cleaned = validate_text(text, min(max_chars, MAX_CHARS_BARK) if engine == "bark" else max_chars)
    seed = _valid_seed(seed)
    voice = "reference" if reference is not None else _valid_voice(engine, voice)
    return _Request(model_id, engine, cleaned, voice, seed, reference)


def clone_models() -> list[str]:
    """The TTS registry ids that can speak in a recorded voice (CSM, Dia, SpeechT5)."""
    return [spec.id for spec in models_for(TTS) if ("piper" if spec.engine == "piper" else spec.family) in _CLONERS]


@dataclass
class _Made:
    """What the engine made so far: the pieces (float32 at `sample_rate` Hz) and the seconds spent making them."""

    pieces: list[np.ndarray] = field(default_factory=list)
    sample_rate: int = 0
    compute_s: float = 0.0

    def add(self, samples: np.ndarray, sample_rate: int) -> SpeechPiece:
        """Keep a checked piece (for the whole audio at the end) and describe it for the stream."""
        samples = check_finite(np.asarray(samples, np.float32).reshape(-1))
        self.pieces.append(samples)
        self.sample_rate = sample_rate
        return SpeechPiece(samples, sample_rate, len(self.pieces) - 1, PAUSE_S if len(self.pieces) > 1 else 0.0)


def _collect(engine: _Pieces, made: _Made) -> Generator[SpeechPiece, None, _Forward]:
    """Step the engine piece by piece, timing only its own work (not the consumer's between two pieces)."""
    with contextlib.closing(engine):
        while True:
            start = time.perf_counter()
            try:
                samples, rate = next(engine)
            except StopIteration as done:
                return done.value
            finally:
                made.compute_s += time.perf_counter() - start
            yield made.add(samples, rate)


def _stream(request: _Request, loader: ModelLoader, progress: Progress) -> Iterator[SpeechPiece | Speech]:
    """Load (timed), run the engine piece by piece under the loader's pin, then the finished Speech."""
    chunks = chunk_text(request.text, CHUNK_CHARS[request.engine])
    progress(0.02, f"Loading {request.model_id}")
    with Stopwatch() as load:
        entry = loader.entry(request.model_id)
    made = _Made()
    with loader.use(request.model_id) as model:
        if request.reference is None:
            engine = _ENGINES[request.engine](model, chunks, request.voice, request.seed, progress)
        else:
            engine = _CLONERS[request.engine](model, chunks, request.reference, request.seed, progress)
        forward = yield from _collect(engine, made)
        architecture = capture.card(entry.spec.family, model, request.model_id, request.engine)
        device, dtype = _device_dtype(entry, request.engine, model)
    parts = len(made.pieces) if request.engine != "piper" else len(chunks)
    joined = join_with_pauses(made.pieces, made.sample_rate)
    made.pieces.clear()  # the joined audio is the one copy kept
    samples, notes = finish_audio(joined)
    speech = Speech(samples, made.sample_rate, request.model_id, request.text, forward.voice, device, dtype,
                    made.compute_s, load.seconds, parts, forward.english, forward.notes + notes, forward.trace,
                    architecture)
    _MEASURED_RTF[(request.model_id, device)] = speech.real_time_factor
    yield speech


def _valid_voice(engine: str, voice: str) -> str:
    voice = (voice or "").strip()
    if engine in ("piper", "vits"):
        return "default"  # single-speaker models
    if engine == "speecht5":
        return voices.validate_speecht5_voice(voice)  # before the model loads
    return voice


def _valid_seed(seed: Any) -> int:
    try:
        value = int(seed if seed not in (None, "") else 0)
    except (TypeError, ValueError):
        raise UserError(f"The seed must be a whole number, got {seed!r}.") from None
    if not 0 <= value < 2**32:
        raise UserError("The seed must be between 0 and 4294967295.")
    return value


# ---- comparison with the ASR round trip ---------------------------------------------------------------------------
@dataclass
class Comparison:
    """One model's row of a comparison: its speech (None when it failed, with `error` saying why), what the
    recogniser heard and the word error rate (0 = every word heard)."""

    model_id: str
    speech: Speech | None
    transcript: str = ""
    wer: float | None = None
    error: str = ""
    similarity: float | None = None  # speaker similarity to the reference voice (compare with a reference only)
    cloned: bool = False  # spoke in the reference's voice


def round_trip(speech: Speech, asr_model: str = ASR_MODEL, *, loader: ModelLoader | None = None) -> tuple[str, float]:
    """Transcribe the speech back (16 kHz) and score it against the text: word error rate, 0 = every word heard."""
    heard = heard_text(speech.samples, speech.sample_rate, asr_model, loader=loader)
    return heard, wer(speech.text, heard)


def compare(text: str | None, models: list[str] | None, seed: int = 0, asr_model: str = ASR_MODEL, *,
            loader: ModelLoader | None = None, progress: Progress = no_progress,
            reference: VoiceReference | None = None) -> list[Comparison]:
    """The same text (at most MAX_CHARS_COMPARE characters) through 2-4 models, each transcribed back. A model that
    cannot speak this text gets its error in its row; the others still run. With a checked `reference` recording
    (its x-vector set when SpeechT5 is compared), the models that can clone speak in its voice and every row gets
    its output's speaker similarity to the reference (cosine of Resemblyzer voiceprints)."""
    models = list(dict.fromkeys(model for model in models or [] if model))
    if not 2 <= len(models) <= 4:
        raise UserError("Choose 2 to 4 models to compare.")
    for model in models:
        engine_of(model)
    validate_text(text, MAX_CHARS_COMPARE)
    loader = loader or get_loader()
    return [_compare_one(text, model, index, len(models), seed, asr_model, loader, progress, reference)
            for index, model in enumerate(models)]


def _compare_one(text: str | None, model: str, index: int, count: int, seed: int, asr_model: str,
                 loader: ModelLoader, progress: Progress, reference: VoiceReference | None) -> Comparison:
    def step(fraction: float, desc: str) -> None:
        progress((index + 0.8 * fraction) / count, f"{model}: {desc}")

    clone = reference if reference is not None and engine_of(model) in _CLONERS else None
    try:
        speech = synthesize(text, model, seed=seed, loader=loader, progress=step, max_chars=MAX_CHARS_COMPARE,
                            reference=clone)
    except UserError as exc:
        return Comparison(model, None, error=str(exc))
    progress((index + 0.85) / count, f"{model}: transcribing the output back ({asr_model})")
    heard, score = round_trip(speech, asr_model, loader=loader)
    similarity = voice_similarity(reference, speech.samples, speech.sample_rate, loader) if reference else None
    return Comparison(model, speech, heard, score, similarity=similarity, cloned=clone is not None)
