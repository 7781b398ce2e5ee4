"""Live transcription benchmark (issue 16): `shared.transcribe.live.LiveStream` with the built-in engine on CPU.

    python bench/bench_live.py [--minutes 10] [--loops 6] [--chunk 0.5] [--out bench/results/live.txt]

The input is Piper-synthesised paragraphs (known text, made from a seeded word list) with 1-2.5 s pauses between
them; its last minute repeats its first, so "compute per chunk, last minute vs first minute" compares the same
speech. It is fed in `--chunk` s chunks at Piper's 22.05 kHz (so the stream resamples), `--loops` times through ONE
stream (6 x 10 min = an hour), as fast as the machine allows. Reported, all from this one run:

- compute per chunk in the last minute / the first minute, of the first 10 minutes and of the hour (goal <= 1.3);
- the working buffer after every chunk (goal: never above max_buffer_s) and the longest buffer transcribed;
- WER of the first 10 minutes' live transcript and of `transcribe()` on the whole 10-minute file, both against the
  known text (goal: live within 3 points of offline);
- commit latency per word (stream time at commit + that call's compute - the word's end): median and p90;
- RSS before the stream, after the first 10 minutes and at the end of the hour (goal: growth < 100 MB).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from shared.transcribe.live import LiveUpdate

MODEL = "offline:whisper-tiny.en"
PIPER_RATE = 22_050  # Hz, the Piper voice's rate
SUBJECTS = ("the old farmer", "my younger sister", "a tired engineer", "the school teacher", "our neighbour",
            "the small dog", "a young doctor", "the city council", "the train driver", "my best friend",
            "the museum guide", "a quiet student", "the baker", "her grandfather", "the new manager")
VERBS = ("carried", "painted", "repaired", "found", "sold", "cleaned", "opened", "watched", "described", "forgot",
         "borrowed", "delivered", "noticed", "packed", "moved")
OBJECTS = ("a wooden box", "the broken window", "some green apples", "an old map of the town", "the kitchen table",
           "a letter from her brother", "the red bicycle", "a basket of fresh bread", "the heavy winter coat",
           "a bright yellow umbrella", "the garden gate", "a small silver key", "the photographs from the trip",
           "a pair of muddy boots", "the blue notebook")
TAILS = ("before the sun went down", "on a quiet Sunday morning", "after the long meeting", "near the river bank",
         "during the summer holidays", "without saying a word", "while it was raining outside",
         "in the middle of the night", "at the end of the street", "just before lunch", "with great care",
         "for the first time", "behind the old church", "as the wind grew stronger", "under the kitchen window")


def paragraph(rng: np.random.Generator) -> str:
    """Two to eight sentences of the pattern "Subject verb object tail." (long ones outgrow a 20 s buffer)."""
    count = int(rng.integers(2, 9))
    return " ".join(f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                    f"{rng.choice(TAILS)}." for _ in range(count))


@dataclass
class Talk:
    """The benchmark input: 22.05 kHz samples, its text, and the length of the opening it ends with again (s)."""
    samples: np.ndarray
    rate: int
    text: str
    opening_s: float


def build_talk(minutes: float, seed: int = 16) -> Talk:
    """Paragraphs with pauses until `minutes` long; the paragraphs of the first minute come again at the end."""
    from tests.speech_data import synthesize

    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = []
    texts: list[str] = []
    opening, rate = 0, PIPER_RATE
    while not opening or sum(map(len, pieces + pieces[:opening])) < minutes * 60 * rate:
        text = paragraph(rng)
        speech, rate = synthesize(text)
        pieces.append(np.concatenate([speech, np.zeros(int(rng.uniform(1.0, 2.5) * rate), np.float32)]))
        texts.append(text)
        if not opening and sum(map(len, pieces)) >= 60 * rate:
            opening = len(pieces)
    return Talk(np.concatenate(pieces + pieces[:opening]), rate, " ".join(texts + texts[:opening]),
                sum(map(len, pieces[:opening])) / rate)


def offline_text(talk: Talk) -> tuple[str, float]:
    """The whole file through `transcribe()` (the file mode's path): text and compute seconds."""
    from shared.audio.intake import load_audio
    from shared.transcribe.run import TranscribeOptions, transcribe

    result = transcribe(load_audio((talk.rate, talk.samples), 16_000, max_duration_s=7200), MODEL,
                        TranscribeOptions(timestamps="segment"))
    return result.text, result.compute_s


@dataclass
class Run:
    """What the stream did: per chunk (arrival time s, compute s, buffer s), committed words with their latency."""
    arrivals: list[float] = field(default_factory=list)
    computes: list[float] = field(default_factory=list)
    buffers: list[float] = field(default_factory=list)
    words: list = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)  # before the stream, then after each loop
    peak_buffer_s: float = 0.0
    wall_s: float = 0.0


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def stream_talk(talk: Talk, loops: int, chunk_s: float) -> Run:
    """Feed the talk `loops` times through one LiveStream, chunk by chunk, recording every update."""
    from shared.transcribe.live import LiveStream

    run, stream, step = Run(), LiveStream(MODEL), int(chunk_s * talk.rate)
    run.rss_mb.append(rss_mb())
    start = time.perf_counter()
    for loop in range(loops):
        for begin in range(0, len(talk.samples), step):
            record(run, stream.feed(talk.samples[begin:begin + step], talk.rate))
        run.rss_mb.append(rss_mb())
        print(f"  loop {loop + 1}/{loops}: {stream.audio_s / 60:.0f} min fed, {time.perf_counter() - start:.0f} s "
              f"wall, RSS {run.rss_mb[-1]:.0f} MB", file=sys.stderr, flush=True)
    record(run, stream.finish())
    run.wall_s, run.peak_buffer_s = time.perf_counter() - start, stream.peak_buffer_s
    return run


def record(run: Run, update: LiveUpdate) -> None:
    run.arrivals.append(update.audio_s)
    run.computes.append(update.compute_s)
    run.buffers.append(update.buffer_s)
    run.words += update.words
    run.latencies += update.latencies_s


def per_chunk_ms(run: Run, start_s: float, end_s: float) -> float:
    """Mean compute per chunk (ms) of the chunks that arrived in (start_s, end_s] of stream time."""
    arrivals, computes = np.array(run.arrivals), np.array(run.computes)
    chosen = (arrivals > start_s) & (arrivals <= end_s)
    return float(computes[chosen].mean() * 1000)


def text_between(run: Run, start_s: float, end_s: float) -> str:
    return " ".join(word.text for word in run.words if start_s <= word.start < end_s)


def report(talk: Talk, offline: tuple[str, float], run: Run, loops: int, chunk_s: float) -> list[str]:
    from shared.outputs.text_metrics import wer

    length = len(talk.samples) / talk.rate
    first = per_chunk_ms(run, 0, talk.opening_s)
    last = per_chunk_ms(run, length - talk.opening_s, length)
    hour_last = per_chunk_ms(run, loops * length - talk.opening_s, loops * length)
    live_wer, offline_wer = wer(talk.text, text_between(run, 0, length)), wer(talk.text, offline[0])
    hour_wer = wer(" ".join([talk.text] * loops), " ".join(word.text for word in run.words))
    median, p90 = np.percentile(run.latencies, [50, 90])
    compute = float(np.sum(run.computes))
    return [
        f"Live transcription, {MODEL} on CPU, LiveStream defaults (max_buffer_s 20, min_step_s 1, VAD silence 0.5 s)",
        f"input: {length / 60:.1f} min of Piper paragraphs ({len(talk.text.split())} words, pauses 1-2.5 s; its "
        f"last {talk.opening_s:.0f} s repeat its first), fed in {chunk_s:g} s chunks at {talk.rate} Hz, "
        f"{loops} loop(s) through one stream ({loops * length / 60:.0f} min)",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| compute per chunk, first {talk.opening_s:.0f} s | {first:.0f} ms | |",
        f"| compute per chunk, last {talk.opening_s:.0f} s of the first loop (same speech) | {last:.0f} ms "
        f"(**{last / first:.2f}x** the first) | <= 1.3x |",
        f"| compute per chunk, last {talk.opening_s:.0f} s of the whole run (same speech) | {hour_last:.0f} ms "
        f"(**{hour_last / first:.2f}x** the first) | <= 1.3x |",
        f"| real-time factor of the stream (compute / audio) | {compute / (loops * length):.3f} "
        f"(offline file mode {offline[1] / length:.3f}) | |",
        f"| working buffer after a chunk, max | {max(run.buffers):.2f} s | <= 20 s |",
        f"| longest buffer transcribed | {run.peak_buffer_s:.2f} s | <= 20 s + one chunk |",
        f"| WER, offline `transcribe()` of the {length / 60:.0f}-minute file | {offline_wer:.2%} | |",
        f"| WER, live, first loop | {live_wer:.2%} ({(live_wer - offline_wer) * 100:+.1f} points) | within 3 points |",
        f"| WER, live, whole run | {hour_wer:.2%} | |",
        f"| commit latency per word, median / p90 | {median:.2f} s / {p90:.2f} s | report |",
        f"| RSS before the stream / after loop 1 / at the end | {run.rss_mb[0]:.0f} / {run.rss_mb[1]:.0f} / "
        f"{run.rss_mb[-1]:.0f} MB | |",
        f"| RSS growth over the run (from loop 1's end) | {run.rss_mb[-1] - run.rss_mb[0]:+.0f} MB "
        f"({run.rss_mb[-1] - run.rss_mb[1]:+.0f} MB) | < 100 MB |",
        f"| wall time of the stream | {run.wall_s:.0f} s for {loops * length:.0f} s of audio | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--loops", type=int, default=6)
    parser.add_argument("--chunk", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    talk = build_talk(args.minutes)
    offline = offline_text(talk)  # also loads the model, so the stream's first minute does not pay for it
    lines = report(talk, offline, stream_talk(talk, args.loops, args.chunk), args.loops, args.chunk)
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
