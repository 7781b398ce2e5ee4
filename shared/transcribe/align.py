"""CTC forced alignment, the algorithm: a transcript's characters against a CTC model's per-frame log-probabilities
(frames × vocabulary) → the best path through the trellis (Viterbi over the blank-interleaved token sequence, the
same recursion as `torchaudio.functional.forced_align`) → a frame span per character → a time span and a score per
word. Long audio stays in bounded memory: past FULL_TRELLIS_CELLS the search keeps to a band around where the text
is expected (from where the emissions' own non-blank frames lie). Pure numpy; no model, no Gradio, no drawing."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

FULL_TRELLIS_CELLS = 40_000_000  # frames × states searched exactly (1 byte of back-pointer each: 40 MB)
BAND_S = 30.0  # beyond that, the band reaches this many seconds' worth of text either side of the expected point
BAND_MIN_STATES = 64  # never a narrower band than this many trellis states either side
EVEN_SHARE = 1e-3  # weight of every frame, beside 1 for a non-blank frame, when placing the band
STAY, STEP, SKIP = 0, 1, 2  # back-pointers: same state, previous state, two states back (over a blank)


class NoAlignment(ValueError):
    """No path fits: the text needs more frames than the audio (or the band) holds. The message says so."""


@dataclass(frozen=True)
class TokenSpan:
    """One transcript token's frames on the best path: [start, end) and the mean probability there."""
    token: int  # index into the target sequence
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class AlignedWord:
    """A word with its span (s) and score (mean probability of its characters' frames); `score` None: the word
    had no character the model knows, its times are filled in from its neighbours."""
    start: float
    end: float
    text: str
    score: float | None


@dataclass(frozen=True)
class TargetText:
    """A transcript as the aligner sees it: the words as written, the token ids to align and which word each token
    belongs to (-1: the word delimiter between words), and the characters dropped because the vocabulary lacks them."""
    words: tuple[str, ...]
    tokens: tuple[int, ...]
    token_word: tuple[int, ...]
    dropped: str = ""


def prepare_text(text: str, vocabulary: dict[str, int], delimiter: str | None = None,
                 romanize: Callable[[str], str] | None = None) -> TargetText:
    """Split `text` at white space and map each word's characters into `vocabulary` (as written, then lower or
    upper case, then without accents); `romanize` (e.g. uroman) first where given; characters still unknown are
    dropped and listed. The `delimiter` token, when the vocabulary has one, goes between words."""
    words = tuple(text.split())
    tokens: list[int] = []
    token_word: list[int] = []
    dropped: list[str] = []
    for index, word in enumerate(words):
        ids, lost = _word_ids(romanize(word) if romanize else word, vocabulary)
        dropped += lost
        if ids and tokens and delimiter in vocabulary:
            tokens.append(vocabulary[delimiter])
            token_word.append(-1)
        tokens += ids
        token_word += [index] * len(ids)
    return TargetText(words, tuple(tokens), tuple(token_word), "".join(dict.fromkeys(dropped)))


def _word_ids(word: str, vocabulary: dict[str, int]) -> tuple[list[int], list[str]]:
    ids, lost = [], []
    for char in word:
        found = _char_id(char, vocabulary)
        if found is None:
            lost.append(char)
        else:
            ids += found
    return ids, lost


def _char_id(char: str, vocabulary: dict[str, int]) -> list[int] | None:
    for variant in (char, char.lower(), char.upper()):
        if variant in vocabulary:
            return [vocabulary[variant]]
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if bare and bare != char:
        pieces = [_char_id(c, vocabulary) for c in bare]
        if all(piece is not None for piece in pieces):
            return [i for piece in pieces for i in piece]
    return None


def min_frames(tokens: Sequence[int]) -> int:
    """Frames a CTC path needs for `tokens`: one per token, plus a blank between two equal neighbours."""
    return len(tokens) + sum(a == b for a, b in pairwise(tokens))


def expected_states(log_probs: np.ndarray, blank: int, states: int) -> np.ndarray:
    """Where the path should be at each frame if the text were spread evenly over the frames whose most likely
    label is not the blank (a character is being said there); a trickle (EVEN_SHARE) spreads it over all frames
    when the model hears no character at all."""
    speech = (np.argmax(log_probs, axis=1) != blank).astype(np.float64)
    cumulative = np.cumsum(speech + EVEN_SHARE)
    return (states - 1) * cumulative / cumulative[-1]


def band_limits(log_probs: np.ndarray, blank: int, states: int, half_width: int | None) -> tuple[np.ndarray, ...]:
    """Per frame, the lowest and one-past-highest trellis state searched: all of them, or a band of `half_width`
    states around `expected_states` (starting at state 0, ending with the last state in reach)."""
    frames = len(log_probs)
    if half_width is None or 2 * half_width + 1 >= states:
        return np.zeros(frames, int), np.full(frames, states)
    centre = expected_states(log_probs, blank, states)
    low = np.maximum(0, np.floor(centre).astype(int) - half_width)
    high = np.minimum(states, np.ceil(centre).astype(int) + half_width + 1)
    low[0], high[-1] = 0, states
    low[-1] = min(low[-1], states - 2) if states > 1 else 0
    return np.minimum.accumulate(low[::-1])[::-1], np.maximum.accumulate(high)


def default_half_width(frames: int, states: int, frame_s: float) -> int | None:
    """None (search everything) while frames × states fits FULL_TRELLIS_CELLS; else BAND_S seconds' worth."""
    if frames * states <= FULL_TRELLIS_CELLS:
        return None
    return max(BAND_MIN_STATES, int(states * BAND_S / max(frames * frame_s, 1e-9)))


def viterbi(log_probs: np.ndarray, tokens: Sequence[int], blank: int = 0,
            half_width: int | None = None) -> tuple[np.ndarray, float]:
    """The best CTC path for `tokens` through `log_probs` (frames × vocabulary, log-probabilities): the trellis
    state of every frame (state 2i+1 is token i, even states are blanks) and the path's total log-probability.
    `half_width` limits the search to a band (see `band_limits`). Raises NoAlignment when no path fits."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    frames, tokens = len(log_probs), list(tokens)
    if not tokens:
        raise NoAlignment("There is no text to align.")
    if min_frames(tokens) > frames:
        raise NoAlignment(f"The text needs at least {min_frames(tokens)} frames but the audio has {frames}.")
    extended = np.full(2 * len(tokens) + 1, blank)
    extended[1::2] = tokens
    skip = np.zeros(len(extended), bool)
    skip[3::2] = np.asarray(tokens[1:]) != np.asarray(tokens[:-1])
    low, high = band_limits(log_probs, blank, len(extended), half_width)
    pointers, score = _forward(log_probs, extended, skip, low, high)
    return _backtrack(pointers, low, high, score, len(extended)), float(np.max(score[-2:]))


def _forward(log_probs: np.ndarray, extended: np.ndarray, skip: np.ndarray, low: np.ndarray,
             high: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Fill the trellis frame by frame within the band; returns the back-pointers per frame and the last frame's
    scores (index s + 2 holds state s: two -inf cells in front stand for "before the first state")."""
    states = len(extended)
    score = np.full(states + 2, -np.inf)
    score[2:4] = log_probs[0, extended[:2]]
    pointers = [np.zeros(high[0] - low[0], np.int8)]
    for frame in range(1, len(log_probs)):
        a, b = low[frame], high[frame]
        stay, step, skip_over = score[a + 2:b + 2], score[a + 1:b + 1], np.where(skip[a:b], score[a:b], -np.inf)
        choice = (step > stay).astype(np.int8)  # ties keep the earlier candidate, as an argmax would
        best = np.maximum(stay, step)
        skipping = skip_over > best
        choice[skipping] = SKIP
        best = np.where(skipping, skip_over, best) + log_probs[frame, extended[a:b]]
        score[low[frame - 1] + 2:a + 2] = -np.inf
        score[a + 2:b + 2] = best
        pointers.append(choice)
    return pointers, score[2:]


def _backtrack(pointers: list[np.ndarray], low: np.ndarray, high: np.ndarray, score: np.ndarray,
               states: int) -> np.ndarray:
    ends = [states - 1] + ([states - 2] if states > 1 else [])
    state = max(ends, key=lambda s: score[s])
    if not np.isfinite(score[state]):
        raise NoAlignment("No path fits the text into the audio (too much text for its length, or for the band).")
    path = np.zeros(len(pointers), int)
    for frame in range(len(pointers) - 1, 0, -1):
        path[frame] = state
        state -= int(pointers[frame][state - low[frame]])
    path[0] = state
    return path


def path_labels(path: np.ndarray, tokens: Sequence[int], blank: int = 0) -> np.ndarray:
    """The label of every frame on the path (the blank id on blank frames): torchaudio's `forced_align` output."""
    extended = np.full(2 * len(tokens) + 1, blank)
    extended[1::2] = tokens
    return extended[path]


def token_spans(path: np.ndarray, log_probs: np.ndarray, tokens: Sequence[int]) -> list[TokenSpan]:
    """Each token's frames on the path ([start, end)) and its score: the mean probability the model gave that token
    over those frames."""
    frames = np.arange(len(path))
    spans = []
    for index, token in enumerate(tokens):
        mine = frames[path == 2 * index + 1]
        score = float(np.mean(np.exp(log_probs[mine, token])))
        spans.append(TokenSpan(index, int(mine[0]), int(mine[-1]) + 1, score))
    return spans


def word_spans(target: TargetText, spans: list[TokenSpan], frame_s: float) -> list[AlignedWord]:
    """Each word's span (s): from its first character's first frame to its last character's last frame; its score
    the mean of its characters' scores. Words with no known character sit between their neighbours, unscored."""
    by_word: dict[int, list[TokenSpan]] = {}
    for span in spans:
        word = target.token_word[span.token]
        if word >= 0:
            by_word.setdefault(word, []).append(span)
    words: list[AlignedWord | None] = [
        AlignedWord(mine[0].start * frame_s, mine[-1].end * frame_s, text,
                    float(np.mean([span.score for span in mine])))
        if (mine := by_word.get(index)) else None for index, text in enumerate(target.words)]
    return _fill_unaligned(words, target.words)


def _fill_unaligned(words: list[AlignedWord | None], texts: tuple[str, ...]) -> list[AlignedWord]:
    filled: list[AlignedWord] = []
    for index, word in enumerate(words):
        if word is not None:
            filled.append(word)
            continue
        before = filled[-1].end if filled else 0.0
        after = next((w.start for w in words[index + 1:] if w is not None), before)
        filled.append(AlignedWord(before, max(before, after), texts[index], None))
    return filled
