"""Transcribe benchmarks, each a ratio against a baseline run in this script.

    python bench/bench_transcribe.py offline [--minutes 10]
        the app's path (decode file → silence gate → faster-whisper → segments/words) vs faster-whisper called
        directly on the same file with the same decoding options. Goal: app / direct ≤ 1.15.
    python bench/bench_transcribe.py chunked [--minutes 5] [--model openai/whisper-tiny.en] [--batch 4]
        transformers Whisper long-form: chunked + batched pipeline vs sequential (batch_size=1). Needs the model in
        the HF cache (offline: tests build a real-weight openai/whisper-tiny.en from the CTranslate2 weights).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.audio.intake import load_audio, resample


def long_speech_file(minutes: float, folder: Path) -> Path:
    """Real conversational speech: pyannote's 30 s sample repeated with 1 s gaps, written as 16-bit WAV."""
    from tests.speech_data import sample_wav

    samples, rate = sf.read(sample_wav(), dtype="float32")
    samples = resample(samples, rate, 16_000)
    unit = np.concatenate([samples, np.zeros(16_000, np.float32)])
    audio = np.tile(unit, int(np.ceil(minutes * 60 * 16_000 / len(unit))))[: int(minutes * 60 * 16_000)]
    path = folder / f"speech_{minutes:g}min.wav"
    sf.write(path, audio, 16_000, subtype="PCM_16")
    return path


def bench_offline(minutes: float) -> None:
    from faster_whisper import WhisperModel

    from shared.models.registry import get_spec
    from shared.transcribe.run import TranscribeOptions, transcribe

    with tempfile.TemporaryDirectory() as folder:
        path = long_speech_file(minutes, Path(folder))
        package = importlib.import_module(get_spec("offline:whisper-tiny.en").options["package"])
        model_dir = Path(package.__file__).resolve().parent / "model"  # the weights the built-in engine loads
        direct_model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")

        def direct() -> str:
            segments, _ = direct_model.transcribe(str(path), beam_size=1, condition_on_previous_text=False,
                                                  vad_filter=False)
            return " ".join(segment.text.strip() for segment in segments)

        def app() -> str:
            return transcribe(load_audio(path, 16_000), "offline:whisper-tiny.en",
                              TranscribeOptions(timestamps="segment")).text

        app()  # load the app's model once: the goal is about the request path, not the first load
        timings = {}
        for name, fn in (("direct", direct), ("app", app), ("direct", direct), ("app", app)):
            start = time.perf_counter()
            text = fn()
            timings.setdefault(name, []).append(time.perf_counter() - start)
            assert len(text) > 100
    direct_s, app_s = min(timings["direct"]), min(timings["app"])
    print(f"offline engine, {minutes:g} min of speech, best of 2")
    print(f"faster-whisper directly: {direct_s:6.2f} s (RTF {direct_s / minutes / 60:.3f})")
    print(f"through the app:         {app_s:6.2f} s (RTF {app_s / minutes / 60:.3f})")
    print(f"ratio app / direct: {app_s / direct_s:.3f}  (goal ≤ 1.15)")


def bench_chunked(minutes: float, model_id: str, batch: int) -> None:
    from transformers import pipeline

    with tempfile.TemporaryDirectory() as folder:
        clip = load_audio(long_speech_file(minutes, Path(folder)), 16_000)
    pipe = pipeline("automatic-speech-recognition", model=model_id)
    audio = {"raw": clip.samples, "sampling_rate": 16_000}
    pipe({"raw": clip.samples[:16_000 * 30], "sampling_rate": 16_000}, return_timestamps=True)  # warm-up
    timings = {}
    for name, batch_size in (("sequential", 1), ("batched", batch)):
        start = time.perf_counter()
        pipe(dict(audio), chunk_length_s=30, batch_size=batch_size, return_timestamps=True)
        timings[name] = time.perf_counter() - start
    device = pipe.model.device
    print(f"{model_id} on {device}, {minutes:g} min, 30 s windows")
    print(f"sequential (batch 1): {timings['sequential']:6.2f} s")
    print(f"batched (batch {batch}):    {timings['batched']:6.2f} s")
    print(f"speed-up sequential / batched: {timings['sequential'] / timings['batched']:.2f}x (GPU goal ≥ 3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["offline", "chunked"])
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--model", default="openai/whisper-tiny.en")
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    if args.which == "offline":
        bench_offline(args.minutes or 10)
    else:
        bench_chunked(args.minutes or 5, args.model, args.batch)
