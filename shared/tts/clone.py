"""Text to speech in a voice from a recording: check the 3–20 s reference and fill in its transcript
(shared.tts.reference), let a cloning engine speak the new text in that voice (CSM and Dia continue the
reference's codec tokens; SpeechT5 reads the reference's x-vector), then score the result: the speaker similarity
of the output to the reference (Resemblyzer voiceprints, cosine) and the round-trip word error rate. The recording
lives in memory for this one call; nothing here writes it anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import UserError
from shared.models.loader import ModelLoader, get_loader
from shared.progress import Progress, no_progress
from shared.tts import run
from shared.tts.reference import VoiceReference, add_xvector, load_reference, voice_similarity
from shared.tts.text import validate_text

MAX_CHARS_CLONE = 600  # codec LMs write tens to hundreds of tokens per second of speech: keep a request bounded
DEFAULT_CLONE_MODEL = "nari-labs/Dia-1.6B-0626"  # open weights, no token needed (CSM is gated)


@dataclass
class ClonedSpeech:
    """A synthesis in a recorded voice and its scores: `similarity` the cosine of the reference's and the output's
    voiceprints (-1 to 1, None when the output has too little sound), `heard`/`wer` the round trip through the
    recogniser (None when the output is not English). `reference_*` describe the recording that was used (and then
    dropped): its transcript and where it came from, its length and seconds of speech."""

    speech: run.Speech
    similarity: float | None
    heard: str
    wer: float | None
    reference_transcript: str
    transcript_source: str  # "typed" or the recogniser's registry id
    reference_s: float
    reference_speech_s: float

    def to_json(self) -> dict[str, Any]:
        return {**self.speech.to_json(), "speaker_similarity": _rounded(self.similarity),
                "round_trip_wer": _rounded(self.wer), "heard_by_asr": self.heard,
                "reference": {"transcript": self.reference_transcript, "transcript_from": self.transcript_source,
                              "duration_s": round(self.reference_s, 2),
                              "speech_s": round(self.reference_speech_s, 2)}}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def check_clone_model(model_id: str) -> str:
    """The engine of a model that can speak in a recorded voice, or a UserError naming the ones that can."""
    engine = run.engine_of(model_id)
    if engine not in run.CLONING_ENGINES:
        raise UserError(f"{model_id} cannot speak in a recorded voice: choose one of "
                        f"{', '.join(run.clone_models())}.")
    return engine


def prepare_reference(recording: Any, transcript: str | None, engines: set[str], loader: ModelLoader,
                      progress: Progress = no_progress) -> VoiceReference:
    """The checked reference with its transcript, and its x-vector when SpeechT5 is among `engines`."""
    reference = load_reference(recording, transcript, loader, progress)
    if "speecht5" in engines:
        progress(0.08, "The recording's x-vector (speechbrain)")
        add_xvector(reference, loader)
    return reference


def clone_voice(text: str | None, recording: Any, model_id: str = DEFAULT_CLONE_MODEL, transcript: str | None = "",
                seed: int = 0, asr_model: str = run.ASR_MODEL, *, loader: ModelLoader | None = None,
                progress: Progress = no_progress) -> ClonedSpeech:
    """Speak `text` (at most MAX_CHARS_CLONE characters) in the voice of `recording` (a file path or a
    (rate in Hz, samples) pair; 3–20 s of one person speaking) with CSM, Dia or SpeechT5. `transcript`: what the
    recording says (the built-in recogniser fills it in when empty). Returns the speech with its speaker
    similarity to the recording and its round-trip WER; UserError for a bad recording, text or model."""
    engine = check_clone_model(model_id)
    validate_text(text, MAX_CHARS_CLONE)
    loader = loader or get_loader()
    reference = prepare_reference(recording, transcript, {engine}, loader, progress)
    speech = run.synthesize(text, model_id, seed=seed, loader=loader, max_chars=MAX_CHARS_CLONE,
                            reference=reference, progress=lambda f, d: progress(0.1 + 0.75 * f, d))
    progress(0.87, "Speaker similarity (Resemblyzer voiceprints)")
    similarity = voice_similarity(reference, speech.samples, speech.sample_rate, loader)
    heard, score = "", None
    if speech.english:
        progress(0.92, f"Transcribing the output back ({asr_model})")
        heard, score = run.round_trip(speech, asr_model, loader=loader)
    return ClonedSpeech(speech, similarity, heard, score, reference.transcript, reference.transcript_source,
                        reference.duration_s, reference.speech_s)


def compare_in_voice(text: str | None, models: list[str] | None, recording: Any, seed: int = 0,
                     asr_model: str = run.ASR_MODEL, *, loader: ModelLoader | None = None,
                     progress: Progress = no_progress) -> list[run.Comparison]:
    """`run.compare` with a voice reference (a path or (rate, samples); None or empty: a plain comparison): the
    models that can clone speak in the recording's voice, and every row gets its speaker similarity to it."""
    if recording is None or (isinstance(recording, str) and not recording.strip()):
        return run.compare(text, models, seed, asr_model, loader=loader, progress=progress)
    validate_text(text, run.MAX_CHARS_COMPARE)
    loader = loader or get_loader()
    engines = {run.engine_of(model) for model in models or [] if model}
    reference = prepare_reference(recording, "", engines, loader, progress)
    return run.compare(text, models, seed, asr_model, loader=loader, progress=progress, reference=reference)
