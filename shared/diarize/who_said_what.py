"""Who said what: speech recognition with word times (shared.transcribe.run's `transcribe`) merged with the speaker
turns. Every word goes to the speaker whose turns overlap it most; consecutive words of one speaker form a line;
the lines become speaker-tagged text and SRT. Times are in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.audio.intake import AudioClip
from shared.diarize.rttm import Turn
from shared.diarize.run import Diarization, clock
from shared.models.loader import ModelLoader
from shared.outputs.subtitles import Cue, to_srt
from shared.progress import Progress, no_progress
from shared.transcribe.run import TranscribeOptions, Word, transcribe

OFFLINE_ASR = "offline:whisper-tiny.en"
UNKNOWN_SPEAKER = "UNKNOWN"


@dataclass(frozen=True)
class SpeakerLine:
    start: float
    end: float
    speaker: str
    text: str


@dataclass
class WhoSaidWhat:
    lines: list[SpeakerLine]
    words: list[tuple[Word, str]]  # every recognised word with its speaker
    diarization: Diarization
    asr_model_id: str
    asr_compute_s: float
    asr_load_s: float
    asr_device: str
    asr_dtype: str

    def to_json(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        names = names or {}
        return {"asr_model": self.asr_model_id, "diarization_model": self.diarization.model_id,
                "lines": [{"start": round(line.start, 3), "end": round(line.end, 3),
                           "speaker": names.get(line.speaker, line.speaker), "text": line.text}
                          for line in self.lines]}


def who_said_what(clip: AudioClip, diarization: Diarization, asr_model_id: str = OFFLINE_ASR, *,
                  loader: ModelLoader | None = None, progress: Progress = no_progress) -> WhoSaidWhat:
    """Transcribe a 16 kHz clip with word timestamps and give every word the speaker whose turn covers it most:
    the words, their lines per speaker, and the recognizer's compute and load times in seconds."""
    transcript = transcribe(clip, asr_model_id, TranscribeOptions(timestamps="word"), loader=loader,
                            progress=progress)
    words = transcript.words
    if not words and transcript.segments:  # an engine without word times: attribute whole segments
        words = [Word(s.start, s.end, s.text) for s in transcript.segments]
    assigned = assign_words(words, diarization.turns)
    return WhoSaidWhat(speaker_lines(assigned), assigned, diarization, asr_model_id, transcript.compute_s,
                       transcript.load_s, transcript.device, transcript.dtype)


def speaker_of(start: float, end: float, turns: list[Turn]) -> str | None:
    """The speaker whose turns overlap [start, end] seconds most; else the nearest turn's speaker (None without
    turns)."""
    if not turns:
        return None
    overlap: dict[str, float] = {}
    for turn in turns:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    if overlap:
        return max(overlap, key=lambda name: overlap[name])
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: max(t.start - middle, middle - t.end, 0.0))
    return nearest.speaker


def assign_words(words: list[Word], turns: list[Turn]) -> list[tuple[Word, str]]:
    """Each word with its speaker (`speaker_of`; "UNKNOWN" when there are no turns)."""
    return [(word, speaker_of(word.start, word.end, turns) or UNKNOWN_SPEAKER) for word in words]


def speaker_lines(assigned: list[tuple[Word, str]], pause_s: float = 1.5, max_words: int = 30) -> list[SpeakerLine]:
    """Consecutive words of one speaker form a line; a pause over `pause_s` seconds or `max_words` words starts a
    new one."""
    lines: list[SpeakerLine] = []
    current: list[Word] = []
    speaker = ""
    for word, name in assigned:
        if current and (name != speaker or word.start - current[-1].end > pause_s or len(current) >= max_words):
            lines.append(_line(current, speaker))
            current = []
        current.append(word)
        speaker = name
    if current:
        lines.append(_line(current, speaker))
    return lines


def _line(words: list[Word], speaker: str) -> SpeakerLine:
    return SpeakerLine(words[0].start, words[-1].end, speaker, " ".join(w.text.strip() for w in words).strip())


def rename_speakers(speakers: list[str], names: str) -> dict[str, str]:
    """'Diane, Sheila' → {SPEAKER_00: Diane, SPEAKER_01: Sheila} in order of first appearance; others unchanged."""
    given = [name.strip() for name in (names or "").split(",")]
    return {label: (given[index] if index < len(given) and given[index] else label)
            for index, label in enumerate(speakers)}


def tagged_text(lines: list[SpeakerLine], names: dict[str, str] | None = None) -> str:
    """One "[00:12.5] Diane: text" line per speaker line (`names` renames speakers)."""
    names = names or {}
    return "\n".join(f"[{clock(line.start)}] {names.get(line.speaker, line.speaker)}: {line.text}" for line in lines)


def tagged_srt(lines: list[SpeakerLine], names: dict[str, str] | None = None) -> str:
    """SRT subtitles, one cue per speaker line, its text prefixed with the speaker's name."""
    names = names or {}
    return to_srt([Cue(line.start, line.end, f"{names.get(line.speaker, line.speaker)}: {line.text}")
                   for line in lines])
