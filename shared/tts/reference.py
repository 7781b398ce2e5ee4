"""A voice reference for cloning: the user's 3–20 s recording of one voice, checked (length, silence, speech rather
than music or noise, by Silero VAD) and its transcript (typed, or heard by the built-in recogniser when left empty).
Held in memory for one request only: nothing here writes the recording anywhere."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from shared.audio.intake import AudioClip, AudioInputError, is_silent, load_audio, resample
from shared.errors import UserError
from shared.models.loader import ModelLoader
from shared.models.vad import VAD_MODEL_ID, speech_seconds
from shared.models.voiceprint import VOICEPRINT_MODEL_ID
from shared.progress import Progress, no_progress
from shared.transcribe.run import TranscribeOptions, transcribe

MIN_REFERENCE_S = 3.0  # shorter recordings give the codec LMs too few tokens of the voice
MAX_REFERENCE_S = 20.0  # longer prompts cost generation time (and CSM's context) without helping the voice much
MIN_SPEECH_S = 1.5  # seconds of the recording Silero VAD must call speech
MAX_TRANSCRIPT_CHARS = 600
ASR_FOR_TRANSCRIPT = "offline:whisper-tiny.en"
ANALYSIS_RATE = 16_000  # Hz: VAD, recogniser, voiceprint and x-vector all read 16 kHz
WHAT_TO_GIVE = "A voice reference is 3–20 s of one person speaking (no music), recorded or uploaded."


@dataclass
class VoiceReference:
    """The checked recording (float32 mono at `sample_rate` Hz, as uploaded), its 16 kHz copy for the analysers,
    the transcript and where it came from ("typed" or the recogniser's id), and the seconds of speech VAD found.
    `xvector`: the recording's 512-d speaker x-vector, set when SpeechT5 speaks in this voice."""

    samples: np.ndarray
    sample_rate: int
    samples_16k: np.ndarray
    transcript: str
    transcript_source: str
    speech_s: float
    xvector: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def at(self, rate: int) -> np.ndarray:
        """The recording at `rate` Hz (what a codec model reads)."""
        return self.samples if rate == self.sample_rate else resample(self.samples, self.sample_rate, rate)


def load_reference(source: str | os.PathLike | tuple[int, np.ndarray] | None, transcript: str | None,
                   loader: ModelLoader, progress: Progress = no_progress) -> VoiceReference:
    """Decode and check the recording, then fill in its transcript when none was typed. Raises UserError saying
    what is wrong: missing, unreadable, under MIN_REFERENCE_S or over MAX_REFERENCE_S seconds, silent, or with
    under MIN_SPEECH_S seconds of speech (music, noise)."""
    try:
        clip = load_audio(source, max_duration_s=MAX_REFERENCE_S)
    except AudioInputError as exc:
        raise UserError(f"Voice reference: {exc} {WHAT_TO_GIVE}") from None
    if clip.duration_s < MIN_REFERENCE_S:
        raise UserError(f"The voice reference is only {clip.duration_s:.1f} s long. {WHAT_TO_GIVE}")
    samples_16k = resample(clip.samples, clip.sample_rate, ANALYSIS_RATE)
    if is_silent(samples_16k):
        raise UserError(f"The voice reference is silent. {WHAT_TO_GIVE}")
    progress(0.03, "Checking the reference for speech (Silero VAD)")
    speech_s = _speech_s(samples_16k, loader)
    if speech_s < MIN_SPEECH_S:
        raise UserError(f"Only {speech_s:.1f} s of the voice reference is speech (Silero VAD): it sounds like music, "
                        f"noise or silence. {WHAT_TO_GIVE}")
    typed = " ".join((transcript or "").split())
    if len(typed) > MAX_TRANSCRIPT_CHARS:
        raise UserError(f"The reference transcript is {len(typed)} characters; at most {MAX_TRANSCRIPT_CHARS}.")
    text, source_name = (typed, "typed") if typed else (_heard(samples_16k, loader, progress), ASR_FOR_TRANSCRIPT)
    return VoiceReference(clip.samples, clip.sample_rate, samples_16k, text, source_name, speech_s)


def _speech_s(samples_16k: np.ndarray, loader: ModelLoader) -> float:
    with loader.use(VAD_MODEL_ID) as vad:
        return speech_seconds(vad.speech_segments(samples_16k))


def _heard(samples_16k: np.ndarray, loader: ModelLoader, progress: Progress) -> str:
    """The transcript the built-in recogniser hears, or a UserError asking for a typed one when it hears nothing."""
    progress(0.06, f"Transcribing the reference ({ASR_FOR_TRANSCRIPT})")
    clip = AudioClip(samples_16k, ANALYSIS_RATE, ANALYSIS_RATE, 1, "array", "reference")
    heard = transcribe(clip, ASR_FOR_TRANSCRIPT, TranscribeOptions(timestamps="none"), loader=loader).text.strip()
    if not heard:
        raise UserError("The recogniser heard no words in the voice reference: type what it says in the "
                        "transcript box.")
    return heard


def add_xvector(reference: VoiceReference, loader: ModelLoader) -> VoiceReference:
    """Set the reference's 512-d x-vector (speechbrain/spkrec-xvect-voxceleb, the model that made SpeechT5's CMU
    ARCTIC presets, L2-normalised like them), so SpeechT5 can speak in this voice."""
    from shared.models.speechbrain_models import XVECTOR_MODEL_ID

    if reference.xvector is None:
        with loader.use(XVECTOR_MODEL_ID) as encoder:
            reference.xvector = np.asarray(encoder.xvector(reference.samples_16k), np.float32).reshape(-1)
    return reference


def voice_similarity(reference: VoiceReference, samples: np.ndarray, sample_rate: int,
                     loader: ModelLoader) -> float | None:
    """Cosine similarity (-1 to 1; same voice ≈ 0.8 and up) of the Resemblyzer voiceprints of the reference and of
    `samples` (float32 mono at `sample_rate` Hz), or None when the output has too little sound to tell."""
    speech_16k = resample(np.asarray(samples, np.float32), sample_rate, ANALYSIS_RATE)
    with loader.use(VOICEPRINT_MODEL_ID) as printer:
        try:
            return printer.similarity(reference.samples_16k, speech_16k)
        except UserError:
            return None
