"""Speech with known word boundaries, for measuring word timestamps: single words spoken by the built-in Piper voice,
each trimmed to where its sound starts and ends, joined by silences of known length. Also the measurement itself:
faster-whisper (the built-in tiny.en, real weights) with word timestamps against those boundaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16_000
WORDS = ("seven", "orange", "birds", "quietly", "crossed", "the", "frozen", "river", "before", "sunrise",
         "while", "children", "watched", "from", "a", "distant", "window", "laughing", "softly", "together")
GAPS_S = (0.25, 0.4, 0.55, 0.7)  # silences between words (s), cycled
EDGE_S = 0.5  # silence before the first and after the last word (s)
TRIM_DB = -40.0  # a word's sound starts/ends where its 5 ms frames rise above this, relative to its peak


@dataclass(frozen=True)
class KnownWord:
    text: str
    start: float  # s
    end: float  # s


def trimmed(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """The word's samples from the first to the last 5 ms frame louder than TRIM_DB under its peak frame."""
    frame = rate // 200
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    level = 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-12)
    loud = np.flatnonzero(level > level.max() + TRIM_DB)
    return samples[loud[0] * frame:(loud[-1] + 1) * frame]


def spaced_words(words: tuple[str, ...] = WORDS) -> tuple[np.ndarray, list[KnownWord]]:
    """16 kHz speech of `words` one by one with GAPS_S silences between them, and each word's true span (s)."""
    from shared.audio.intake import resample
    from tests.speech_data import synthesize

    pieces, known = [np.zeros(int(EDGE_S * RATE), np.float32)], []
    position = len(pieces[0])
    for index, word in enumerate(words):
        audio, rate = synthesize(word)
        sound = trimmed(resample(audio, rate, RATE))
        known.append(KnownWord(word, position / RATE, (position + len(sound)) / RATE))
        gap = np.zeros(int((GAPS_S[index % len(GAPS_S)] if index < len(words) - 1 else EDGE_S) * RATE), np.float32)
        pieces += [sound, gap]
        position += len(sound) + len(gap)
    return np.concatenate(pieces).astype(np.float32), known


def boundary_errors(found: list[tuple[str, float, float]], known: list[KnownWord]) -> tuple[np.ndarray, int]:
    """|found − true| (s) of the starts and ends of the words found in order (by text), and how many true words
    were not found."""
    errors, cursor, missed = [], 0, 0
    for word in known:
        match = next((i for i in range(cursor, len(found)) if _bare(found[i][0]) == word.text), None)
        if match is None:
            missed += 1
            continue
        errors += [abs(found[match][1] - word.start), abs(found[match][2] - word.end)]
        cursor = match + 1
    return np.asarray(errors), missed


def _bare(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def whisper_word_errors() -> tuple[np.ndarray, int, list[KnownWord]]:
    """The built-in faster-whisper tiny.en (real weights) with word timestamps on `spaced_words()`: boundary errors
    (s), words missed, and the truth."""
    from shared.audio.intake import load_audio
    from shared.transcribe.run import TranscribeOptions, transcribe

    samples, known = spaced_words()
    clip = load_audio((RATE, samples), RATE)
    result = transcribe(clip, "offline:whisper-tiny.en", TranscribeOptions(timestamps="word"))
    found = [(w.text, w.start, w.end) for w in result.words]
    errors, missed = boundary_errors(found, known)
    return errors, missed, known
