"""Overlapped conversations built from real voices, with their exact reference turns: the measurement set for the
built-in diarizer on overlapped speech (tests/test_diarize_offline.py, bench/bench_overlap.py).

The voices: the two telephone speakers of pyannote's `sample.wav` (the stretches where each speaks alone, cut by its
RTTM), the Piper voice (en_US-joe-medium, sentences synthesised deterministically) and the two film voices Gradio
ships as media assets (`cate_blanch.mp3`, `heath_ledger.mp3`), one utterance per speech region. One recording per
voice: a speaker's second recording (`cate_blanch_2.mp3`, another film) is 0.37 cosine distance from the first for
Resemblyzer, further than the two telephone speakers are from each other, and a conversation does not change rooms.

Each conversation alternates utterances of its speakers; a seeded coin decides whether the next one starts after a
pause or cuts into the previous one (never more than two voices at once), so 10-30 % of the speech is overlapped.
Every utterance is set to the same speech level (±3 dB). The reference turns are each utterance's voiced spans,
shifted to where it was placed: exact by construction. The voiced spans are sample.wav's own RTTM, and for the
single-voice recordings Silero VAD's on the clean recording (as mixture corpora like LibriMix take theirs from the
clean sources; the film clips carry background sound 20-30 dB under the voice, so frame energy would call all of it
speech). Everything is deterministic.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.audio.intake import load_audio, resample
from shared.diarize import rttm
from tests.speech_data import pyannote_sample_dir, sample_wav, synthesize

RATE = 16_000
LEVEL_DBFS = -26.0  # every utterance's voiced part is set to this level, then moved by ±GAIN_DB
GAIN_DB = 3.0
EDGE_S = 0.5  # silence before the first and after the last utterance
FRAME_S = 0.01  # frames of the overlap measures
BRIDGE_S = 0.3  # pauses shorter than this inside an utterance count as speech (as annotators do)
PAD_S = 0.15  # the recording's own sound kept around each speech region
OVERLAP_CHANCE = 0.45  # how often the next utterance cuts into the previous one
OVERLAP_S = (0.6, 2.0)  # how far it cuts in
PAUSE_S = (0.2, 0.9)  # otherwise, the pause before it
PIPER_LINES = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition is easier than you think.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "The weather today is sunny with a light breeze from the west.",
    "I think we should move the meeting to Thursday afternoon.",
    "No, wait, that does not work for me at all.",
    "Could you send the report before the end of the week?",
    "We tried that last year and it did not go very well.",
)
# (name, speakers, target seconds, seed): two-speaker pairs of every kind, and three-speaker rooms
PLAN = (
    ("phone_pair", ("speaker90", "speaker91"), 40.0, 1),
    ("phone_piper", ("speaker90", "piper"), 35.0, 2),
    ("phone_film", ("speaker91", "cate"), 35.0, 3),
    ("film_piper", ("cate", "piper"), 35.0, 4),
    ("three_mixed", ("speaker90", "speaker91", "piper"), 45.0, 5),
    ("three_film", ("piper", "cate", "heath"), 40.0, 8),
)

Span = tuple[float, float]  # seconds inside an utterance


@dataclass(frozen=True)
class Utterance:
    samples: np.ndarray  # 16 kHz float32
    spans: tuple[Span, ...]  # where the voice speaks, seconds from the utterance's start


@dataclass(frozen=True)
class Conversation:
    name: str
    samples: np.ndarray  # 16 kHz mono float32
    turns: list[rttm.Turn]  # the exact reference

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE


def overlap_set(names: tuple[str, ...] | None = None) -> list[Conversation]:
    """The conversations of PLAN (all, or those named), built the same way every time."""
    return [build_conversation(name, speakers, seconds, seed) for name, speakers, seconds, seed in PLAN
            if names is None or name in names]


def build_conversation(name: str, speakers: tuple[str, ...], seconds: float, seed: int) -> Conversation:
    """Alternating utterances of `speakers` until `seconds`, with seeded pauses and overlaps (at most two voices at
    once), mixed at one level; the reference turns are the utterances' voiced spans where they were placed."""
    rng = np.random.default_rng(seed)
    used = dict.fromkeys(speakers, 0)
    placed: list[tuple[float, str, Utterance]] = []
    speaker, cursor = speakers[0], EDGE_S
    while cursor < seconds - EDGE_S:
        utterance = _next_utterance(speaker, used[speaker])
        used[speaker] += 1
        start = _start_after(placed, cursor, rng)
        placed.append((start, speaker, utterance))
        cursor = start + len(utterance.samples) / RATE
        speaker = str(rng.choice([other for other in speakers if other != speaker]))
    return Conversation(name, _mix(placed, rng), _reference(placed))


def _start_after(placed: list[tuple[float, str, Utterance]], previous_end: float, rng: np.random.Generator) -> float:
    """Where the next utterance starts: after a pause, or cutting into the previous one, but never before the ones
    before that have ended (so at most two voices overlap) nor in the previous one's first half second."""
    if not placed or rng.random() >= OVERLAP_CHANCE:
        return previous_end + rng.uniform(*PAUSE_S)
    earlier_end = max((start + len(u.samples) / RATE for start, _, u in placed[:-1]), default=0.0)
    earliest = max(earlier_end, placed[-1][0] + 0.5)
    return max(earliest, previous_end - rng.uniform(*OVERLAP_S))


def _mix(placed: list[tuple[float, str, Utterance]], rng: np.random.Generator) -> np.ndarray:
    end = max(start + len(u.samples) / RATE for start, _, u in placed) + EDGE_S
    mixture = np.zeros(int(np.ceil(end * RATE)), np.float32)
    for start, _, utterance in placed:
        first = round(start * RATE)
        gain = 10 ** ((LEVEL_DBFS + rng.uniform(-GAIN_DB, GAIN_DB)) / 20) / _voiced_rms(utterance)
        mixture[first:first + len(utterance.samples)] += np.float32(gain) * utterance.samples
    return mixture


def _voiced_rms(utterance: Utterance) -> float:
    pieces = [utterance.samples[int(a * RATE):int(b * RATE)] for a, b in utterance.spans]
    return float(np.sqrt(np.mean(np.square(np.concatenate(pieces), dtype=np.float64))))


def _reference(placed: list[tuple[float, str, Utterance]]) -> list[rttm.Turn]:
    turns = [rttm.Turn(round(start + a, 3), round(start + b, 3), speaker)
             for start, speaker, utterance in placed for a, b in utterance.spans]
    return sorted(turns)


# ---- the voices ---------------------------------------------------------------------------------------------------
def _next_utterance(speaker: str, index: int) -> Utterance:
    """The voice's utterances in turn; Piper's are synthesised only when a conversation reaches them."""
    if speaker == "piper":
        return _piper_line(PIPER_LINES[index % len(PIPER_LINES)])
    pool = voice(speaker)
    return pool[index % len(pool)]


@functools.cache
def _piper_line(line: str) -> Utterance:
    return _utterances(resample(*synthesize(line), RATE))[0]  # one speech region per line


@functools.cache
def voice(speaker: str) -> tuple[Utterance, ...]:
    """A voice's utterances: "speaker90"/"speaker91" (sample.wav), "piper", "cate", "heath"."""
    if speaker.startswith("speaker"):
        return _sample_wav_alone(speaker)
    if speaker == "piper":
        return tuple(_piper_line(line) for line in PIPER_LINES)
    files = {"cate": ("cate_blanch.mp3",), "heath": ("heath_ledger.mp3",)}[speaker]
    return tuple(piece for name in files for piece in _utterances(load_audio(gradio_media(name), RATE).samples))


def gradio_media(name: str) -> Path:
    """A sound file Gradio ships in gradio/media_assets/audio."""
    spec = importlib.util.find_spec("gradio")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "media_assets" / "audio" / name


def _sample_wav_alone(speaker: str, min_s: float = 1.4) -> tuple[Utterance, ...]:
    """The stretches of sample.wav where `speaker` speaks and the other does not (per its RTTM), ≥ `min_s` long."""
    samples = load_audio(sample_wav(), RATE).samples
    turns = rttm.parse_rttm((pyannote_sample_dir() / "sample.rttm").read_text())
    others = [(t.start, t.end) for t in turns if t.speaker != speaker]
    pieces = []
    for turn in (t for t in turns if t.speaker == speaker):
        for a, b in _subtract((turn.start, turn.end), others):
            if b - a >= min_s:
                pieces.append(Utterance(samples[int(a * RATE):int(b * RATE)].copy(), ((0.0, round(b - a, 3)),)))
    return tuple(pieces)


def _subtract(span: Span, others: list[Span]) -> list[Span]:
    pieces = [span]
    for a, b in others:
        pieces = [part for start, end in pieces for part in ((start, min(end, a)), (max(start, b), end))
                  if part[1] - part[0] > 0]
    return pieces


def _utterances(samples: np.ndarray, min_s: float = 0.8) -> tuple[Utterance, ...]:
    """One utterance per speech region of a single-voice recording (Silero VAD on the clean recording, pauses under
    BRIDGE_S bridged), with PAD_S of the recording's own sound on each side."""
    from shared.diarize.offline import silero_speech

    regions: list[list[float]] = []
    for a, b in silero_speech(samples):
        if regions and a - regions[-1][1] < BRIDGE_S:
            regions[-1][1] = b
        else:
            regions.append([a, b])
    pieces = []
    for a, b in (region for region in regions if region[1] - region[0] >= min_s):
        first, last = max(0.0, a - PAD_S), min(len(samples) / RATE, b + PAD_S)
        span = (round(a - first, 3), round(b - first, 3))
        pieces.append(Utterance(samples[int(first * RATE):int(last * RATE)].astype(np.float32), (span,)))
    return tuple(pieces)


# ---- what the set is made of, and missed speech inside overlaps ---------------------------------------------------
def speaker_counts(turns: list[rttm.Turn], duration_s: float, step_s: float = FRAME_S) -> np.ndarray:
    """How many of `turns`' speakers speak in each `step_s` frame (frame i covers [i·step, (i+1)·step))."""
    counts = np.zeros(int(np.ceil(duration_s / step_s)), int)
    for speaker in {t.speaker for t in turns}:
        active = np.zeros(len(counts), bool)
        for turn in (t for t in turns if t.speaker == speaker):
            active[round(turn.start / step_s):round(turn.end / step_s)] = True
        counts += active
    return counts


def overlap_share(turns: list[rttm.Turn], duration_s: float) -> float:
    """Overlapped speech (≥ 2 voices) as a share of all speech (≥ 1 voice), by time."""
    counts = speaker_counts(turns, duration_s)
    return float((counts >= 2).sum() / max((counts >= 1).sum(), 1))


def missed_in_overlap(reference: list[rttm.Turn], hypothesis: list[rttm.Turn],
                      duration_s: float) -> tuple[float, float]:
    """(missed seconds, reference speaker-seconds) inside the reference's overlaps: where two voices speak and the
    hypothesis has fewer, the difference is missed (DER's missed detection, no collar, 10 ms frames)."""
    ref = speaker_counts(reference, duration_s)
    hyp = speaker_counts(hypothesis, duration_s)[:len(ref)]
    hyp = np.pad(hyp, (0, len(ref) - len(hyp)))
    overlap = ref >= 2
    return float(np.maximum(ref - hyp, 0)[overlap].sum() * FRAME_S), float(ref[overlap].sum() * FRAME_S)
