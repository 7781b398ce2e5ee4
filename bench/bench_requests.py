"""Second requests and memory: every tab's main handler called twice in one process, as the app calls it.

    HF_HOME=<tiny cache> HF_HUB_OFFLINE=1 python bench/bench_requests.py

The first call pays the model load (and lazy imports); the second hits the shared loader's cache. The handlers are
called as the browser calls them by default: with the "Inside the model" section closed (`inside=False`). Goal: the
second request at least 10x faster than the first. Also reports the process's RSS after each tab and the peak,
which sets the default memory budget. Classify and Zero-shot have no built-in offline model: with the tiny cache
(`python -m tests.tiny_models --out DIR`) they run tiny random AST/CLAP models, so their load times are small and
their ratio understates what a real download-sized model shows.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    from tabs import classify, diarize, transcribe, tts, visualize, zero_shot
    from tests.speech_data import sample_wav

    speech = str(ROOT / "examples" / "speech_piper.wav")
    chirp = str(ROOT / "examples" / "chirp_100-8000Hz.wav")
    calls = [
        ("Visualize (no model)", lambda: visualize.visualize(speech)),
        ("Classify (tiny AST)", lambda: classify.run_classify(speech, "MIT/ast-finetuned-audioset-10-10-0.4593",
                                                                       inside=False)),
        ("Zero-shot (tiny CLAP)", lambda: zero_shot.run_zero_shot(chirp, "a dog barking, music, a siren, speech",
                                                                          inside=False)),
        ("Transcribe (offline:whisper-tiny.en)", lambda: transcribe.run_transcribe(speech, transcribe.OFFLINE,
                                                                                      inside=False)),
        ("Diarize (offline:diarizer)", lambda: diarize.run_diarize(str(sample_wav()), "offline:diarizer",
                                                                                inside=False)),
        ("Text-to-speech (offline Piper)", lambda: tts.run_tts("The quick brown fox jumps over the lazy dog.",
                                                                "offline:piper-en_US-joe-medium", inside=False)),
    ]
    print(f"{'tab':40s} {'first (s)':>10s} {'second (s)':>11s} {'ratio':>7s} {'RSS after (MB)':>15s}")
    baseline = rss_mb()
    for name, call in calls:
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        start = time.perf_counter()
        call()
        second = time.perf_counter() - start
        print(f"{name:40s} {first:10.2f} {second:11.2f} {first / second:6.1f}x {rss_mb():15.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS before any tab {baseline:.0f} MB; peak after every tab {peak:.0f} MB "
          f"(HF_HOME={os.environ.get('HF_HOME', '~/.cache/huggingface')})")


if __name__ == "__main__":
    main()
