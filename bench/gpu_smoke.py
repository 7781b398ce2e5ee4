"""The app's own model path on a GPU, where one is lent (no hub there either):

1. every transformers model in the registry, as the tiny random stand-in the tests build locally, loaded through
   `shared.models.loader` with the app's default placement (CUDA, bf16 where supported) and run once through its task;
   reports the device and dtype the weights landed on, load + first run, and the second run;
2. AST AudioSet at its real size (87 M parameters, random weights) through `shared.classify.run.classify` twice: the
   first request pays the load, the second hits the loader's cache (the "second request ≥ 10× faster" goal).

    python bench/gpu_smoke.py            # on the GPU machine
    python bench/gpu_smoke.py --cpu      # same code on the CPU (a check of the script)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HF_HOME = Path(tempfile.mkdtemp(prefix="gpu-smoke-hf-"))
os.environ.update(HF_HOME=str(HF_HOME), HF_HUB_OFFLINE="1")  # before transformers / huggingface_hub are imported

AUDIOSET = "MIT/ast-finetuned-audioset-10-10-0.4593"


def speech_clip() -> object:
    import numpy as np

    from shared.audio.intake import AudioClip, resample

    with wave.open(str(ROOT / "examples" / "speech_piper.wav")) as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), np.int16).astype(np.float32) / 32768
    samples = np.tile(resample(samples, rate, 16_000), 2)  # ~10.6 s
    return AudioClip(samples, 16_000, rate, 1, "wav", "speech_piper.wav")


def weights_placement(model: object) -> str:
    inner = getattr(model, "model", model)
    try:
        parameter = next(inner.parameters())
    except (AttributeError, StopIteration, TypeError):
        return "?"
    return f"{parameter.device.type}/{str(parameter.dtype).removeprefix('torch.')}"


def every_transformers_model(loader: object) -> list[tuple[str, str, str]]:
    from shared.models.registry import hub_models
    from tests.test_tiny_models import smoke_run
    from tests.tiny_models.hf_cache import install_folder
    from tests.tiny_models.transformers_models import BUILDERS

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for spec in hub_models():
            if spec.engine != "transformers":
                continue
            try:
                for repo_id, folder in BUILDERS[spec.family](spec, Path(work) / spec.id.replace("/", "--")).items():
                    install_folder(HF_HOME, repo_id, folder)
                start = time.perf_counter()
                with loader.use(spec.id) as model:
                    smoke_run(spec, model)
                    placed = weights_placement(model)
                first = time.perf_counter() - start
                start = time.perf_counter()
                with loader.use(spec.id) as model:
                    smoke_run(spec, model)
                second = time.perf_counter() - start
                rows.append((spec.id, placed, f"ok: load + run {first:.2f} s, run again {second:.3f} s"))
            except Exception as exc:  # reported per model: one failure must not hide the others
                rows.append((spec.id, "-", f"FAILED: {type(exc).__name__}: {str(exc)[:300]}"))
            print(f"{rows[-1][0]:45s} {rows[-1][1]:18s} {rows[-1][2]}", flush=True)
            loader.unload_all()
    return rows


def app_task_functions(loader: object) -> list[str]:
    """The tabs' own task functions (what the handlers call) on the models the loop above installed."""
    import numpy as np

    from shared.transcribe.run import TranscribeOptions, transcribe
    from shared.tts.run import synthesize
    from shared.zero_shot.run import zero_shot

    clip = speech_clip()
    runs = {
        "synthesize SpeechT5": lambda: synthesize("Hello there, how are you?", "microsoft/speecht5_tts", loader=loader),
        "synthesize Bark small": lambda: synthesize("Hello there.", "suno/bark-small", loader=loader),
        "synthesize MMS eng": lambda: synthesize("Hello there.", "facebook/mms-tts-eng", loader=loader),
        "transcribe Whisper base (word timestamps, inside views)": lambda: transcribe(
            clip, "openai/whisper-base", TranscribeOptions(timestamps="word"), loader=loader, inside=True),
        "transcribe wav2vec2 CTC (inside views)": lambda: transcribe(clip, "facebook/wav2vec2-base-960h",
                                                                     loader=loader, inside=True),
        "zero-shot CLAP": lambda: zero_shot(clip, "laion/clap-htsat-unfused", "speech, music, a dog", loader=loader),
    }
    lines = []
    for name, run in runs.items():
        try:
            result = run()
            audio = getattr(result, "samples", None)
            finite = "" if audio is None else f", audio finite: {bool(np.isfinite(audio).all())}"
            lines.append(f"{name}: ok on {getattr(result, 'device', '?')}/{getattr(result, 'dtype', '?')}{finite}")
        except Exception as exc:  # reported per task
            lines.append(f"{name}: FAILED: {type(exc).__name__}: {str(exc)[:300]}")
        print(lines[-1], flush=True)
    return lines


def real_size_ast_requests() -> str:
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    from shared.classify.run import classify
    from shared.models.loader import ModelLoader
    from tests.tiny_models.hf_cache import install_folder

    with tempfile.TemporaryDirectory() as work:
        config = ASTConfig(num_labels=527, problem_type="multi_label_classification",
                           id2label={i: f"class {i}" for i in range(527)},
                           label2id={f"class {i}": i for i in range(527)})
        ASTForAudioClassification(config).save_pretrained(work)  # safetensors
        ASTFeatureExtractor(num_mel_bins=128, max_length=1024).save_pretrained(work)
        install_folder(HF_HOME, AUDIOSET, Path(work))
    clip = speech_clip()
    loader = ModelLoader()
    times, results = [], []
    for _ in range(3):
        start = time.perf_counter()
        results.append(classify(clip, AUDIOSET, loader=loader))
        times.append(time.perf_counter() - start)
    result = results[0]
    assert loader.load_counts.get(AUDIOSET) == 1, loader.load_counts
    return (f"real-size AST AudioSet through shared.classify.run on {clip.duration_s:.1f} s of speech "
            f"({len(result.windows)} windows): first request {times[0]:.2f} s (load {result.load_s:.2f} s), "
            f"second {times[1]:.3f} s, third {times[2]:.3f} s -> first/second {times[0] / times[1]:.1f}x; "
            f"loads: {loader.load_counts[AUDIOSET]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", action="store_true", help="run on the CPU (checks the script)")
    parser.add_argument("--skip-models", action="store_true")
    args = parser.parse_args()
    if args.cpu:
        os.environ["ADS_DEVICE"] = "cpu"
    import torch
    import transformers

    from shared.models.device import default_placement
    from shared.models.loader import ModelLoader

    placement = default_placement()
    name = torch.cuda.get_device_name() if placement.device == "cuda" else placement.device
    print(f"placement {placement.device}/{placement.dtype} on {name}; torch {torch.__version__}, "
          f"transformers {transformers.__version__}", flush=True)
    if placement.device == "cpu" and not args.cpu:
        raise SystemExit("no GPU: use --cpu to check the script")
    loader = ModelLoader()
    rows = [] if args.skip_models else every_transformers_model(loader)
    failed = [row for row in rows if row[2].startswith("FAILED")]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} transformers models ran on {placement.device}/"
          f"{placement.dtype}\n", flush=True)
    if not args.skip_models:
        app_task_functions(loader)
    print(real_size_ast_requests(), flush=True)


if __name__ == "__main__":
    main()
