"""Known speakers: enrol a voice by name from a short clip, put those names on a diarization's speakers, and verify
whether two clips hold the same voice. Voiceprints come from shared/models/voiceprint.py (Resemblyzer GE2E through
the loader); a speaker is named when the cosine similarity of its voiceprint to an enrolled one reaches
VERIFY_THRESHOLD (calibrated in shared/models/voiceprint.py), and stays "unknown" below it.

Enrolled voices are plain values (`Voice`, JSON-able): the app keeps them in the user's page, never on disk and
never shared between users; each request hands them back in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip
from shared.diarize.rttm import Turn
from shared.diarize.run import SAMPLE_RATE, Diarization
from shared.errors import UserError
from shared.models.loader import ModelLoader, get_loader
from shared.models.voiceprint import VERIFY_THRESHOLD, VOICEPRINT_MODEL_ID, cosine

MIN_ENROL_S, MAX_ENROL_S = 5.0, 30.0  # seconds of audio an enrolment clip may have
MAX_NAME_CHARS = 40
MAX_VOICES = 20
MAX_SPEAKER_AUDIO_S = 60.0  # seconds of a diarized speaker's clean speech used for its voiceprint (longest first)
UNKNOWN = "unknown"
VOICEPRINT_DIM = 256


@dataclass(frozen=True)
class Voice:
    """One enrolled speaker: a name and the voiceprint of their clip (unit 256-d vector)."""

    name: str
    voiceprint: np.ndarray
    seconds: float  # length of the enrolment clip

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "seconds": round(self.seconds, 2),
                "voiceprint": [round(float(value), 6) for value in self.voiceprint]}


@dataclass(frozen=True)
class SpeakerMatch:
    """How a diarized speaker was named: the closest enrolled voice and its cosine similarity."""

    speaker: str  # the diarizer's label, e.g. SPEAKER_00
    name: str  # the enrolled name, or "unknown (SPEAKER_00)" below the threshold
    closest: str  # the closest enrolled name ("" when no voice could be measured)
    similarity: float  # cosine similarity to `closest`, -1..1

    def to_json(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "name": self.name, "closest": self.closest,
                "similarity": round(self.similarity, 4)}


@dataclass(frozen=True)
class Verification:
    """Two clips compared: same speaker when the similarity reaches the threshold."""

    similarity: float
    threshold: float

    @property
    def same(self) -> bool:
        return self.similarity >= self.threshold

    def meaning(self) -> str:
        """The verdict in words, with what the threshold means."""
        verdict = "the same speaker" if self.same else "different speakers"
        margin = abs(self.similarity - self.threshold)
        confidence = "clearly" if margin >= 0.1 else "narrowly" if margin < 0.03 else "probably"
        return (f"**{confidence.capitalize()} {verdict}**: cosine similarity {self.similarity:.3f} "
                f"{'≥' if self.same else '<'} threshold {self.threshold:.3f}. The threshold sits at the equal error "
                "rate measured on real voices: there, as many different-speaker pairs score above it as same-speaker "
                "pairs score below it. Short, noisy or telephone clips lower the similarity of one voice with itself.")

    def to_json(self) -> dict[str, Any]:
        return {"similarity": round(self.similarity, 4), "threshold": self.threshold, "same_speaker": self.same}


def check_name(name: str | None) -> str:
    """A display name: trimmed, 1..40 characters, not 'unknown'. Raises UserError."""
    name = " ".join((name or "").split())
    if not name:
        raise UserError("Give the speaker a name before enrolling their voice.")
    if len(name) > MAX_NAME_CHARS or name.lower().startswith(UNKNOWN):
        raise UserError(f"A speaker's name must be 1–{MAX_NAME_CHARS} characters and not start with 'unknown'.")
    return name


def enrol(clip: AudioClip, name: str | None, *, loader: ModelLoader | None = None) -> Voice:
    """One voice from a 5–30 s 16 kHz clip. Raises UserError for a bad name, length or a clip without speech."""
    name = check_name(name)
    _check_rate(clip)
    if not MIN_ENROL_S <= clip.duration_s <= MAX_ENROL_S:
        raise UserError(f"The enrolment clip is {clip.duration_s:.1f} s long; use {MIN_ENROL_S:g}–{MAX_ENROL_S:g} s "
                        "of that person speaking alone.")
    with (loader or get_loader()).use(VOICEPRINT_MODEL_ID) as printer:
        voiceprint = printer.embed(clip.samples)
    return Voice(name, voiceprint, clip.duration_s)


def with_voice(voices: list[Voice], voice: Voice) -> list[Voice]:
    """The list with `voice` added (replacing an earlier voice of the same name); at most MAX_VOICES."""
    kept = [known for known in voices if known.name.lower() != voice.name.lower()]
    if len(kept) >= MAX_VOICES:
        raise UserError(f"At most {MAX_VOICES} voices can be enrolled at once; clear some first.")
    return [*kept, voice]


def voices_from_json(items: Any) -> list[Voice]:
    """Enrolled voices from [{"name", "voiceprint": 256 numbers, "seconds"}] (None or [] = none). Raises UserError."""
    if items in (None, "", []):
        return []
    if isinstance(items, dict) and "voices" in items:
        items = items["voices"]
    if not isinstance(items, list) or len(items) > MAX_VOICES:
        raise UserError(f"Enrolled voices must be a JSON list of at most {MAX_VOICES} "
                        "{\"name\", \"voiceprint\"} objects (as /enrol_speaker returns them).")
    return [_voice_from_json(index, item) for index, item in enumerate(items)]


def _voice_from_json(index: int, item: Any) -> Voice:
    try:
        vector = np.asarray(item["voiceprint"], dtype=np.float32)
        name = check_name(str(item["name"]))
        seconds = float(item.get("seconds", 0.0))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UserError(f"Enrolled voice {index + 1} needs a name and a voiceprint of {VOICEPRINT_DIM} "
                        "numbers.") from None
    norm = float(np.linalg.norm(vector)) if vector.shape == (VOICEPRINT_DIM,) else 0.0
    if not np.isfinite(norm) or norm < 1e-6:
        raise UserError(f"Enrolled voice {index + 1} ({name}) needs a voiceprint of {VOICEPRINT_DIM} finite numbers.")
    return Voice(name, vector / norm, seconds)


def clean_spans(turns: list[Turn], speaker: str) -> list[tuple[float, float]]:
    """[start, end] seconds where `speaker` talks and nobody else does, longest first."""
    others = [(turn.start, turn.end) for turn in turns if turn.speaker != speaker]
    spans: list[tuple[float, float]] = []
    for turn in (turn for turn in turns if turn.speaker == speaker):
        pieces = [(turn.start, turn.end)]
        for other_start, other_end in others:
            pieces = [part for start, end in pieces
                      for part in ((start, min(end, other_start)), (max(start, other_end), end)) if part[1] > part[0]]
        spans += pieces
    return sorted(spans, key=lambda span: span[0] - span[1])


def speaker_samples(samples: np.ndarray, turns: list[Turn], speaker: str) -> np.ndarray:
    """Up to MAX_SPEAKER_AUDIO_S seconds of the speaker talking alone (all their speech when they never do)."""
    spans = clean_spans(turns, speaker) or [(t.start, t.end) for t in turns if t.speaker == speaker]
    pieces, total = [], 0.0
    for start, end in spans:
        pieces.append(samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)])
        total += end - start
        if total >= MAX_SPEAKER_AUDIO_S:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def match_speakers(clip: AudioClip, turns: list[Turn], voices: list[Voice], threshold: float = VERIFY_THRESHOLD, *,
                   loader: ModelLoader | None = None) -> list[SpeakerMatch]:
    """Each diarized speaker's closest enrolled voice; named when the similarity reaches `threshold`. Two speakers
    may get one name (a diarizer that split one person in two)."""
    _check_rate(clip)
    labels = list(dict.fromkeys(turn.speaker for turn in sorted(turns)))
    enrolled = np.stack([voice.voiceprint for voice in voices])
    matches = []
    with (loader or get_loader()).use(VOICEPRINT_MODEL_ID) as printer:
        for label in labels:
            try:
                voiceprint = printer.embed(speaker_samples(clip.samples, turns, label))
            except UserError:  # too little sound to tell
                matches.append(SpeakerMatch(label, f"{UNKNOWN} ({label})", "", -1.0))
                continue
            scores = [cosine(voiceprint, row) for row in enrolled]
            best = int(np.argmax(scores))
            name = voices[best].name if scores[best] >= threshold else f"{UNKNOWN} ({label})"
            matches.append(SpeakerMatch(label, name, voices[best].name, scores[best]))
    return matches


def name_diarization(diarization: Diarization, clip: AudioClip, voices: list[Voice], *,
                     threshold: float = VERIFY_THRESHOLD, loader: ModelLoader | None = None) -> Diarization:
    """The diarization with enrolled names on its turns (and in what it recorded), the matches kept in `.naming`;
    unchanged without voices or turns."""
    if not voices or not diarization.turns:
        return diarization
    matches = match_speakers(clip, diarization.turns, voices, threshold, loader=loader)
    names = {match.speaker: match.name for match in matches}
    turns = sorted(Turn(turn.start, turn.end, names[turn.speaker]) for turn in diarization.turns)
    return dataclasses.replace(diarization, turns=turns, naming=[match.to_json() for match in matches],
                               internals=_renamed_internals(diarization.internals, names))


def _renamed_internals(internals: Any, names: dict[str, str]) -> Any:
    """What the run recorded, its speaker labels renamed (the pictures colour by the final names)."""
    if internals is None:
        return None
    field = "speakers" if hasattr(internals, "speakers") else "labels"
    renamed = [names.get(label, label) for label in getattr(internals, field)]
    return dataclasses.replace(internals, **{field: renamed})


def verify(first: AudioClip, second: AudioClip, threshold: float = VERIFY_THRESHOLD, *,
           loader: ModelLoader | None = None) -> Verification:
    """Are two 16 kHz clips the same speaker? Their voiceprints' cosine similarity against `threshold`."""
    _check_rate(first)
    _check_rate(second)
    with (loader or get_loader()).use(VOICEPRINT_MODEL_ID) as printer:
        return Verification(printer.similarity(first.samples, second.samples), threshold)


def _check_rate(clip: AudioClip) -> None:
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("known speakers expect 16 kHz audio: load it with load_audio(path, 16_000)")


def equal_error_rate(same: np.ndarray, different: np.ndarray) -> tuple[float, float]:
    """(EER, threshold) of verification trials' similarities: the threshold where the share of same-speaker pairs
    scoring below it (misses) equals the share of different-speaker pairs scoring at or above it (false accepts);
    the two rates are averaged where no threshold makes them exactly equal."""
    same, different = np.sort(np.asarray(same, float)), np.sort(np.asarray(different, float))
    if len(same) == 0 or len(different) == 0:
        raise ValueError("equal_error_rate needs same-speaker and different-speaker trials")
    candidates = np.unique(np.concatenate([same, different, [same.max() + 1e-6]]))
    misses = np.searchsorted(same, candidates, side="left") / len(same)
    false_accepts = 1 - np.searchsorted(different, candidates, side="left") / len(different)
    best = int(np.argmin(np.abs(misses - false_accepts)))
    return float((misses[best] + false_accepts[best]) / 2), float(candidates[best])
