"""Evaluate benchmarks: N Piper-spoken sentences × 2 ASR models on this CPU, each a ratio against a baseline run in
this script.

    HF_HOME=<tiny cache> HF_HUB_OFFLINE=1 python bench/bench_evaluate.py [--examples 200]
        [--models offline:whisper-tiny.en facebook/wav2vec2-base-960h] [--repeats 1]

1. Overhead: `shared.evaluate.run.evaluate` in this process (fetch, normalise, jiwer, the record store, the
   peak-memory sampler) vs calling the models directly on the same files the way the single-clip tab does
   (`load_audio` + `transcribe`, nothing else), the models loaded beforehand for both. Goal: ≤ 1.10×.
2. Distribution: `python -m shared.evaluate` (one process) vs `accelerate launch --cpu --num_processes 2 -m
   shared.evaluate` (two processes: accelerate's --cpu launcher starts one, which restarts itself under torch's
   launcher with two, meeting over gloo; shared/evaluate/launch.py) on the same folder, wall time of the whole
   command (imports and model loads included); the two runs' numbers must be identical. Reported.

The second default model is the tiny random stand-in of wav2vec2 from the tests' model cache (`python -m
tests.tiny_models --out DIR`): its speed, like its WER, is meaningless; the built-in Whisper does the real work.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("red", "green", "blue", "seven", "quiet", "river", "table", "morning", "window", "garden", "yellow", "music")
TEMPLATES = ("The {} {} is on the {}.", "Please bring the {} and the {} to the {}.", "We saw a {} {} near the {}.")


def sentences(count: int) -> list[str]:
    """`count` distinct short sentences (deterministic)."""
    made = []
    for index in range(count):
        first, second, third = (WORDS[(index * step) % len(WORDS)] for step in (1, 5, 7))
        made.append(TEMPLATES[index % len(TEMPLATES)].format(first, second, f"{third} number {index}"))
    return made


def make_folder(count: int, folder: Path) -> float:
    """Piper speech of `count` sentences as 16 kHz wav files with references.csv; returns the seconds of audio."""
    import soundfile as sf

    from shared.audio.intake import resample
    from shared.tts.run import synthesize

    total, rows = 0.0, ["file,text"]
    for index, text in enumerate(sentences(count)):
        speech = synthesize(text)
        samples = resample(speech.samples, speech.sample_rate, 16_000)
        sf.write(folder / f"s{index:04d}.wav", samples, 16_000, subtype="PCM_16")
        rows.append(f's{index:04d}.wav,"{text}"')
        total += len(samples) / 16_000
    (folder / "references.csv").write_text("\n".join(rows) + "\n")
    return total


def direct(folder: Path, models: list[str]) -> float:
    """The baseline: every file through every model as the single-clip tab calls it; wall seconds."""
    from shared.audio.intake import load_audio
    from shared.transcribe.run import TranscribeOptions, transcribe

    files = sorted(folder.glob("*.wav"))
    start = time.perf_counter()
    for model in models:
        for path in files:
            transcribe(load_audio(str(path), 16_000), model, TranscribeOptions(timestamps="none"))
    return time.perf_counter() - start


def in_process(folder: Path, models: list[str]) -> tuple[float, list[dict]]:
    """`run.evaluate` over the folder; wall seconds and the per-model rows."""
    from shared.evaluate import report, run, sources

    start = time.perf_counter()
    source = sources.files_source(sources.folder_files(str(folder)), None, sources.ASR, root=str(folder))
    evaluation = run.evaluate(source, models, run.Settings(sources.ASR))
    seconds = time.perf_counter() - start
    return seconds, report.summarize(sources.ASR, models, evaluation.records)


def command(launcher: list[str], folder: Path, models: list[str], out: Path) -> tuple[float, dict]:
    """The command line under `launcher`; wall seconds and its evaluation.json."""
    start = time.perf_counter()
    subprocess.run([*launcher, "-m", "shared.evaluate", "--task", "asr", "--data", str(folder), "--models", *models,
                    "--out", str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, json.loads((out / "evaluation.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--models", nargs="+", default=["offline:whisper-tiny.en", "facebook/wav2vec2-base-960h"])
    parser.add_argument("--repeats", type=int, default=1, help="overhead runs, alternating; the best of each")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "evaluate.json"))
    args = parser.parse_args()
    from shared.models.loader import get_loader
    from shared.models.vad import VAD_MODEL_ID

    work = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    data = work / "data"
    data.mkdir()
    audio_s = make_folder(args.examples, data)
    for model in [*args.models, VAD_MODEL_ID]:
        get_loader().entry(model)
    direct_s, evaluate_s, rows = [], [], []
    for _ in range(args.repeats):
        direct_s.append(direct(data, args.models))
        seconds, rows = in_process(data, args.models)
        evaluate_s.append(seconds)
    python = [sys.executable]
    accelerate = [str(Path(sys.executable).parent / "accelerate"), "launch", "--cpu", "--num_processes", "2",
                  "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    one_s, one = command(python, data, args.models, work / "one")
    two_s, two = command(accelerate, data, args.models, work / "two")
    keys = ("examples", "wer", "wer_low", "wer_high", "cer")
    numbers = [[[row[key] for key in keys] for row in run["models"]] for run in (one, two)]
    same = numbers[0] == numbers[1]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "examples": args.examples, "models": args.models,
        "audio_s": round(audio_s, 1), "load_average": os.getloadavg(), "cpus": os.cpu_count(),
        "direct_s": [round(s, 2) for s in direct_s], "evaluate_s": [round(s, 2) for s in evaluate_s],
        "overhead_ratio": round(min(evaluate_s) / min(direct_s), 3),
        "one_process_s": round(one_s, 1), "two_processes_s": round(two_s, 1),
        "two_vs_one_ratio": round(two_s / one_s, 3), "identical_numbers": same,
        "rows": [{key: row.get(key) for key in ("model", "examples", "wer", "wer_low", "wer_high", "rtfx", "load_s",
                                                  "peak_mb")} for row in rows]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=float))
    print(json.dumps(result, indent=2, default=float))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
