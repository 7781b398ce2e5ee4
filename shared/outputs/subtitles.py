"""Subtitle and transcript files: SRT, WebVTT (written and parsed back), and plain text with speaker tags."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def format_timestamp(seconds: float, decimal: str = ",") -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _clean(text: str) -> str:
    return " ".join(text.replace("-->", "->").split())  # a cue's text must not contain the arrow or blank lines


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{index}\n{format_timestamp(cue.start)} --> {format_timestamp(max(cue.end, cue.start))}\n"
              f"{_clean(cue.text)}\n" for index, cue in enumerate(cues, 1)]
    return "\n".join(blocks)


def to_vtt(cues: list[Cue]) -> str:
    blocks = [f"{format_timestamp(cue.start, '.')} --> {format_timestamp(max(cue.end, cue.start), '.')}\n"
              f"{_clean(cue.text)}\n" for cue in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


_TIME = r"(\d+):(\d{2}):(\d{2})[,.](\d{3})"
_CUE_LINE = re.compile(rf"^{_TIME} --> {_TIME}$")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_cues(text: str) -> list[Cue]:
    """Parse SRT or WebVTT back into cues (raises ValueError on malformed timing lines)."""
    cues = []
    lines = text.strip().splitlines()
    index = 0
    while index < len(lines):
        match = _CUE_LINE.match(lines[index].strip())
        if match is None:
            if "-->" in lines[index]:
                raise ValueError(f"malformed timing line: {lines[index]!r}")
            index += 1
            continue
        groups = match.groups()
        body = []
        index += 1
        while index < len(lines) and lines[index].strip():
            body.append(lines[index].strip())
            index += 1
        cues.append(Cue(_seconds(*groups[:4]), _seconds(*groups[4:]), " ".join(body)))
    return cues
