"""CTC decoding made visible: frame-wise argmax → merge repeats → drop blanks → text. `CtcFrames` is a run's
greedy path (one argmax token per frame); `collapse`, `runs` and `tokens_to_text` turn it into text and explain each
step for the "How CTC turns frames into text" table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CtcFrames:
    """The greedy CTC path: one argmax token per frame (`frame_s` seconds each), the blank and the word break."""
    frame_s: float
    tokens: list[str]
    blank: str
    word_delimiter: str


@dataclass(frozen=True)
class CtcStep:
    frame: int
    token: str
    kept: bool  # False when the frame repeats its predecessor or is the blank
    reason: str  # "blank", "repeat" or "new"


def collapse(frame_tokens: list[str], blank: str = "<pad>") -> tuple[str, list[CtcStep]]:
    """Greedy CTC collapse of per-frame tokens; returns the token string and why each frame was kept or dropped.

    A repeat merges only while there is no blank between: "l l <blank> l" → "ll" (how CTC spells double letters).
    """
    steps = []
    kept = []
    previous = None
    for frame, token in enumerate(frame_tokens):
        if token == blank:
            steps.append(CtcStep(frame, token, False, "blank"))
        elif token == previous:
            steps.append(CtcStep(frame, token, False, "repeat"))
        else:
            steps.append(CtcStep(frame, token, True, "new"))
            kept.append(token)
        previous = token
    return "".join(kept), steps


def tokens_to_text(tokens: str, word_delimiter: str = "|") -> str:
    """Collapsed tokens → text: the word delimiter becomes a space, runs of spaces one."""
    return " ".join(tokens.replace(word_delimiter, " ").split())


def runs(frame_tokens: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive identical frames as (token, first frame, last frame): the compact view for a table/plot."""
    result: list[tuple[str, int, int]] = []
    for frame, token in enumerate(frame_tokens):
        if result and result[-1][0] == token:
            result[-1] = (token, result[-1][1], frame)
        else:
            result.append((token, frame, frame))
    return result
