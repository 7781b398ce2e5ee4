"""Speed of Nemotron 3 Diarization at its real size (transformers' default config: 99.2 M parameters, 8 speakers,
offline chunks of 340 encoder frames with the speaker cache) through the app's own engine (NemotronDiarizer.run), on
pyannote's sample tiled to `--minutes`. The weights are random (the hub is unreachable here), which does not change
the compute: the numbers are speed only, never quality. Baseline: the same model in float32 on the same device; on a
GPU the app's dtype (bf16) is compared with it.

    .venv/bin/python bench/bench_nemotron.py --minutes 2            # CPU here
    python bench/bench_nemotron.py --minutes 10 --device cuda        # a GPU machine

Writes bench/results/nemotron_<device>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def real_size_diarizer(device: str, dtype: str):
    """The app's NemotronDiarizer around a default-config model (random weights) and a locally built processor."""
    import torch
    from transformers import (
        Nemotron3DiarizationConfig,
        Nemotron3DiarizationForAudioFrameClassification,
        Nemotron3DiarizationProcessor,
        NemotronAsrStreamingFeatureExtractor,
    )

    from shared.diarize.nemotron import NemotronDiarizer

    torch_dtype = getattr(torch, dtype)
    torch.manual_seed(0)
    model = Nemotron3DiarizationForAudioFrameClassification(Nemotron3DiarizationConfig()).to(device, torch_dtype)
    processor = Nemotron3DiarizationProcessor(NemotronAsrStreamingFeatureExtractor(feature_size=128))
    return NemotronDiarizer(model.eval(), processor, device, torch_dtype)


def timed_run(diarizer, samples: np.ndarray, device: str) -> float:
    """Seconds for one `run` (after a short warm-up), synchronised on CUDA."""
    import torch

    diarizer.run(samples[: 16_000 * 5])
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    diarizer.run(samples)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    import soundfile as sf

    from tests.speech_data import sample_wav

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    sample, _ = sf.read(sample_wav(), dtype="float32")
    samples = np.resize(sample, int(args.minutes * 60 * 16_000))
    audio_s = len(samples) / 16_000
    dtypes = ["float32"] + (["bfloat16"] if args.device == "cuda" else [])
    result = {"device": args.device, "audio_s": audio_s, "params_m": 99.2, "weights": "random (speed only)"}
    for dtype in dtypes:
        seconds = timed_run(real_size_diarizer(args.device, dtype), samples, args.device)
        result[dtype] = {"seconds": round(seconds, 3), "rtf": round(seconds / audio_s, 5)}
    if "bfloat16" in result:
        result["bf16_vs_fp32"] = round(result["bfloat16"]["seconds"] / result["float32"]["seconds"], 3)
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results" / f"nemotron_{args.device}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
