"""Streaming text to speech: how soon the first audio is ready, as a ratio of the whole synthesis.

    python bench/bench_tts_stream.py [--long-chars 10000] [--out bench/results/tts_stream.txt]

The built-in Piper voice on a 10-sentence text (the model loaded first; one run each): the time from the call to
`synthesize_stream` to its first piece as wav bytes (what the tab hands the streaming player) against the wall time of
`synthesize` on the same text (the baseline: nothing plays before it returns). Goal: first audio ≤ 0.25× the full
synthesis. Then the same for a long text (10,000 characters, the streaming limit), with the peak of traced (numpy)
memory against the size of its audio and the process's peak RSS growth. Prints the table and writes it to `--out`.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_tts import SENTENCES  # the script's folder is on sys.path

TEN = (*SENTENCES, "The committee will meet again next Thursday to discuss the budget for the coming year.",
       "Thank you for listening, and have a wonderful evening.")
RESULTS = Path(__file__).resolve().parent / "results" / "tts_stream.txt"


def first_and_total(text: str) -> tuple[float, float, float]:
    """(seconds to the first piece as wav bytes, seconds to the finished Speech, seconds of audio) of one stream."""
    from shared.tts import run as tts
    from shared.tts import views

    start = time.perf_counter()
    first = 0.0
    for item in tts.synthesize_stream(text, tts.OFFLINE_VOICE):
        if isinstance(item, tts.SpeechPiece):
            views.wav_bytes(item)  # as the tab does before the player gets it
            first = first or time.perf_counter() - start
    return first, time.perf_counter() - start, item.duration_s


def synthesize_s(text: str) -> float:
    """Wall seconds of `synthesize` on the text (the baseline)."""
    from shared.tts import run as tts

    start = time.perf_counter()
    tts.synthesize(text, tts.OFFLINE_VOICE, max_chars=tts.MAX_CHARS_STREAM)
    return time.perf_counter() - start


def traced_peak(text: str) -> tuple[float, float]:
    """(peak traced MB while streaming the text and dropping each piece, MB of the finished audio)."""
    from shared.tts import run as tts

    tracemalloc.start()
    try:
        speech = collections.deque(tts.synthesize_stream(text, tts.OFFLINE_VOICE), maxlen=1).pop()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, speech.samples.nbytes / 1e6


def long_text(chars: int) -> str:
    """The ten sentences repeated up to `chars` characters (whole sentences)."""
    text = TEN[0]
    for sentence in itertools.cycle(TEN[1:] + TEN[:1]):
        if len(text) + 1 + len(sentence) > chars:
            return text
        text = f"{text} {sentence}"
    raise AssertionError("unreachable: the cycle never ends")


def row(name: str, text: str) -> list[str]:
    """One table row: the text, first audio, full stream, baseline, the ratio."""
    first, total, audio_s = first_and_total(text)
    baseline = synthesize_s(text)
    return [name, f"{len(text):,} chars, {audio_s:.1f} s audio", f"{first:.3f} s", f"{total:.3f} s",
            f"{baseline:.3f} s", f"{first / baseline:.3f}×"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--long-chars", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from shared.tts import run as tts

    tts.synthesize("Warm up.", tts.OFFLINE_VOICE)  # load the voice and espeak-ng once: the goal is the request path
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [row("10 sentences", " ".join(TEN)), row("long text", long_text(args.long_chars))]
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    peak_mb, audio_mb = traced_peak(long_text(args.long_chars))
    lines = report(rows, peak_mb, audio_mb, rss_growth)
    print("\n".join(lines))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


def report(rows: list[list[str]], peak_mb: float, audio_mb: float, rss_growth_mb: float) -> list[str]:
    """The table (markdown) and the memory lines."""
    header = ["text", "size", "first audio (stream)", "whole stream", "synthesize (baseline)", "first / baseline"]
    machine = (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the "
               "end, Python " + platform.python_version())
    lines = [f"Piper en_US joe (built-in voice, onnxruntime CPU), model loaded first, one run each; {machine}.",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return [*lines, "", "Goal: first audio ≤ 0.25× the full synthesis (10 sentences).",
            f"Long text, streamed with each piece dropped: traced (numpy) peak {peak_mb:.1f} MB for "
            f"{audio_mb:.1f} MB of finished audio ({peak_mb / audio_mb:.2f}×); process peak RSS grew "
            f"{rss_growth_mb:.0f} MB over both texts (stream + synthesize)."]


if __name__ == "__main__":
    main()
