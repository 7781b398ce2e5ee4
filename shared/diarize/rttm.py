"""Speaker turns and the two forms they travel in: the JSON list the /diarize endpoint returns (and takes back), and
NIST RTTM files (the download, and the reference a run is scored against). Times are in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.errors import UserError


@dataclass(frozen=True, order=True)
class Turn:  # ordered by start, end, speaker
    start: float  # seconds from the start of the file
    end: float  # seconds
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": self.speaker}


def turns_to_json(turns: list[Turn]) -> list[dict[str, Any]]:
    """Turns → [{"start": s, "end": s, "speaker": label}], times rounded to the millisecond."""
    return [turn.to_json() for turn in turns]


def turns_from_json(items: Any) -> list[Turn]:
    """Turns from a list of {"start", "end", "speaker"} (the /diarize output); raises UserError when malformed."""
    if isinstance(items, dict) and "turns" in items:
        items = items["turns"]
    if not isinstance(items, list):
        raise UserError("Turns must be a JSON list of {\"start\": s, \"end\": s, \"speaker\": label}.")
    return sorted(_turn_from_json(index, item) for index, item in enumerate(items))


def _turn_from_json(index: int, item: Any) -> Turn:
    try:
        turn = Turn(float(item["start"]), float(item["end"]), str(item["speaker"]))
    except (KeyError, TypeError, ValueError):
        raise UserError(f"Turn {index + 1} needs numeric start/end and a speaker label.") from None
    if not (np.isfinite(turn.start) and np.isfinite(turn.end)) or turn.end < turn.start or turn.start < 0:
        raise UserError(f"Turn {index + 1} has an invalid time span ({turn.start}–{turn.end}).")
    return turn


def to_rttm(turns: list[Turn], uri: str = "audio") -> str:
    """NIST RTTM: one SPEAKER line per turn (names cannot contain spaces in RTTM, so spaces become '_')."""
    uri = "_".join(uri.split()) or "audio"
    lines = [f"SPEAKER {uri} 1 {turn.start:.3f} {turn.duration:.3f} <NA> <NA> {'_'.join(turn.speaker.split())} "
             "<NA> <NA>" for turn in sorted(turns)]
    return "\n".join(lines) + ("\n" if lines else "")


def parse_rttm(text: str) -> list[Turn]:
    """SPEAKER lines of an RTTM file (one recording) → turns; comments and other line types are skipped."""
    turns = []
    uris = set()
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith(";") or fields[0] != "SPEAKER":
            continue
        turns.append(_rttm_turn(number, fields))
        uris.add(fields[1])
    if len(uris) > 1:
        raise UserError(f"The RTTM describes {len(uris)} recordings ({', '.join(sorted(uris)[:3])}…); upload the "
                        "lines of one recording.")
    if not turns:
        raise UserError("The RTTM file has no SPEAKER lines.")
    return sorted(turns)


def _rttm_turn(number: int, fields: list[str]) -> Turn:
    if len(fields) < 8:
        raise UserError(f"RTTM line {number} has {len(fields)} fields; a SPEAKER line needs at least 8.")
    try:
        start, duration = float(fields[3]), float(fields[4])
    except ValueError:
        raise UserError(f"RTTM line {number}: onset and duration must be numbers.") from None
    if not (np.isfinite(start) and np.isfinite(duration)) or start < 0 or duration < 0:
        raise UserError(f"RTTM line {number}: onset and duration must be non-negative.")
    return Turn(round(start, 3), round(start + duration, 3), fields[7])
