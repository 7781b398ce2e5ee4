"""Today's ASR families at their real sizes, same clip, same run: RTFx (seconds of audio per second of compute).

    python bench/bench_asr_families.py [--models NAME ...] [--repeats 3] [--seconds 30] [--threads 1]
                                       [--device auto|cpu|cuda] [--cuda-dtype bfloat16|float16]
    python bench/bench_asr_families.py --smoke   # CPU: the small models on the 5.3 s clip, one repeat

Parakeet CTC 0.6B / 1.1B, Parakeet TDT 0.6B v3, Moonshine tiny / base and Whisper large-v3-turbo, each built from
its published hyperparameters with RANDOM weights (transformers 5.24's native classes, no hub: this machine cannot
reach it), so the parameter counts and the work per second of audio are the real checkpoints' while the text is
noise. fp32 on CPU; `--cuda-dtype` (bf16 by default) on CUDA when there is one.

What each model does per run (timed from the waveform, feature extraction included):
- Parakeet CTC: log-mel features, one encoder pass, the CTC head's argmax (no decoding loop: the cost does not depend
  on the weights).
- Parakeet TDT: log-mel features and transformers' own greedy TDT loop (`generate`). Left random, the joint picks
  duration 0 with a token at every step and the loop runs into its 10-symbols-per-frame cap (measured once: 669
  steps for 67 frames, 9.3 s for the 5.3 s clip on CPU); so its duration head is biased to TDT_STEP_FRAMES frames
  per step, each step emitting a token: frames / 2 steps. A trained model takes about as many (our estimate: a
  blank or token every 2-3 frames plus the text's ~20 tokens); the report gives the steps taken.
- Moonshine and Whisper: the encoder (Moonshine on the clip's own length, Whisper on its 30 s window) and exactly
  TOKENS_PER_S tokens per second of audio decoded greedily (end of text suppressed), about what English speech
  needs, so both seq2seq models write the same number of tokens.

The clip is examples/speech_piper.wav (Piper speech, 5.3 s), repeated to `--seconds` (30 by default: one Whisper
window; --smoke keeps the 5.3 s). Times are medians over `--repeats` runs after one warm-up: the whole run (RTFx is
audio seconds over it) and the encoder alone on the same inputs (features included), which random weights cannot
distort. One model is built at a time and freed before the next (the 1.1B model holds ~4.3 GB in fp32).

Sizes: the configs give 608.8 M / 1,062.5 M / 627.5 M / 27.1 M / 61.5 M / 808.9 M parameters against the published
0.6 B / 1.1 B / 0.6 B / 27 M / 61 M / 809 M (the Parakeet names are rounded; TDT v3's 8,193-token joint is in its
627.5 M). Approximate: the TDT prediction network (2 LSTM layers of 640, transformers' defaults documented for the
v3 checkpoint, not read from it) and Moonshine's attention details beyond width, depth and heads (the hub configs
were not reachable to compare); both are a small share of the compute.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.models.modules import parameter_count

SAMPLE_RATE = 16_000
TOKENS_PER_S = 4.0  # a little above the clip's own script: 18 Whisper tokens in 5.3 s (3.4 per second)
SMOKE_MODELS = ("moonshine-tiny", "moonshine-base", "parakeet-ctc-0.6b", "parakeet-tdt-0.6b-v3")
TDT_STEP_FRAMES = 2  # frames per step the random TDT joint is steered to (see parakeet_tdt)
SEED = 0
# Whisper large-v3(-turbo)'s special tokens in its 51,866-token vocabulary
WHISPER_SOT, WHISPER_EOT, WHISPER_EN, WHISPER_TRANSCRIBE, WHISPER_NO_TIMESTAMPS = 50258, 50257, 50259, 50360, 50364


@dataclass
class Built:
    """A model at real size and what one timed run does with a clip: `run(audio)` returns the decoding steps taken
    (frames for CTC, loop steps for TDT, generated tokens for seq2seq); `inputs(audio)` are its encoder's inputs
    (features computed), so the encoder alone can be timed too."""

    model: Any
    inputs: Callable[[np.ndarray], dict]
    run: Callable[[np.ndarray], int]
    published_m: float  # the checkpoint's published parameter count, millions
    note: str


def _parakeet_encoder(layers: int, mels: int) -> dict:
    """FastConformer as published (NeMo configs): d_model 1024, 8 heads, feed-forward 4096, conv kernel 9, 8x
    subsampling with 256 channels; 24 layers (0.6B) or 42 (1.1B)."""
    from transformers import ParakeetEncoderConfig

    return ParakeetEncoderConfig(hidden_size=1024, num_hidden_layers=layers, num_attention_heads=8,
                                 intermediate_size=4096, conv_kernel_size=9, subsampling_factor=8,
                                 subsampling_conv_channels=256, num_mel_bins=mels).to_dict()


def _features(mels: int, device: str, dtype: Any) -> Callable[[np.ndarray], Any]:
    from transformers import ParakeetFeatureExtractor

    extractor = ParakeetFeatureExtractor(feature_size=mels)
    return lambda audio: extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").to(device=device,
                                                                                                dtype=dtype)


def parakeet_ctc(layers: int, published_m: float, device: str, dtype: Any) -> Built:
    """Parakeet CTC 0.6B / 1.1B: 80 mel bins, a 1,024-piece vocabulary plus the blank."""
    import torch
    from transformers import ParakeetCTCConfig, ParakeetForCTC

    model = ParakeetForCTC(ParakeetCTCConfig(encoder_config=_parakeet_encoder(layers, 80), vocab_size=1025,
                                             pad_token_id=1024)).eval().to(device, dtype)
    features = _features(80, device, dtype)

    def run(audio: np.ndarray) -> int:
        with torch.inference_mode():
            path = model(**features(audio)).logits.argmax(-1)
        return int(path.shape[1])

    return Built(model, features, run, published_m, "encoder + CTC argmax")


def parakeet_tdt(device: str, dtype: Any) -> Built:
    """Parakeet TDT 0.6B v3: 128 mel bins, 8,192 pieces plus the blank, a 2-layer LSTM prediction network of 640,
    durations 0-4 (transformers' ParakeetTDTConfig defaults, documented for this checkpoint)."""
    import torch
    from transformers import GenerationConfig, ParakeetForTDT, ParakeetTDTConfig

    config = ParakeetTDTConfig(encoder_config=_parakeet_encoder(24, 128), vocab_size=8193, decoder_hidden_size=640,
                               num_decoder_layers=2, durations=[0, 1, 2, 3, 4], blank_token_id=8192, pad_token_id=2,
                               decoder_start_token_id=8192)
    model = ParakeetForTDT(config).eval()
    with torch.no_grad():  # every step lasts TDT_STEP_FRAMES frames (see the module docstring); generate() takes
        durations = model.joint.head.bias[config.vocab_size:]  # its token as the argmax over tokens AND durations,
        durations -= 50.0  # so the duration logits stay far below the tokens'
        durations[config.durations.index(TDT_STEP_FRAMES)] += 10.0
    model = model.to(device, dtype)
    model.generation_config = GenerationConfig(decoder_start_token_id=8192, pad_token_id=2, bos_token_id=8192)
    features = _features(128, device, dtype)

    def run(audio: np.ndarray) -> int:
        with torch.inference_mode():
            output = model.generate(**features(audio))
        return int(output.sequences.shape[1] - 1)

    return Built(model, features, run, 600, f"encoder + greedy TDT loop ({TDT_STEP_FRAMES} frames a step, steered)")


def _fixed_tokens(audio: np.ndarray) -> int:
    return math.ceil(len(audio) / SAMPLE_RATE * TOKENS_PER_S)


def moonshine(size: str, device: str, dtype: Any) -> Built:
    """Moonshine tiny (hidden 288, 6 + 6 layers) or base (hidden 416, 8 + 8 layers; feed-forward 4x, 8 heads,
    32,768-token vocabulary): the raw waveform, padded to whole 5 ms frames as the app does."""
    import torch
    from transformers import GenerationConfig, MoonshineConfig, MoonshineForConditionalGeneration

    hidden, layers, published_m = {"tiny": (288, 6, 27), "base": (416, 8, 61)}[size]
    config = MoonshineConfig(vocab_size=32768, hidden_size=hidden, intermediate_size=4 * hidden,
                             encoder_num_hidden_layers=layers, decoder_num_hidden_layers=layers,
                             encoder_num_attention_heads=8, decoder_num_attention_heads=8, pad_token_id=0,
                             bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
    model = MoonshineForConditionalGeneration(config).eval().to(device, dtype)
    model.generation_config = GenerationConfig(bos_token_id=1, decoder_start_token_id=1, eos_token_id=2,
                                               pad_token_id=0)

    def inputs(audio: np.ndarray) -> dict:
        values = torch.from_numpy(np.pad(audio, (0, -len(audio) % 80)))[None].to(device, dtype)
        return {"input_values": values, "attention_mask": torch.ones(values.shape, device=device, dtype=torch.long)}

    def run(audio: np.ndarray) -> int:
        tokens = _fixed_tokens(audio)
        with torch.inference_mode():
            out = model.generate(**inputs(audio), min_new_tokens=tokens, max_new_tokens=tokens, do_sample=False,
                                 num_beams=1)
        return int(out.shape[1] - 1)

    return Built(model, inputs, run, published_m, f"encoder + {TOKENS_PER_S:g} tokens per second of audio")


def whisper_turbo(device: str, dtype: Any) -> Built:
    """Whisper large-v3-turbo: 128 mel bins, d_model 1280, 20 heads, feed-forward 5120, a 32-layer encoder and a
    4-layer decoder, 51,866 tokens; one 30 s window (clips up to 30 s)."""
    import torch
    from transformers import (
        GenerationConfig,
        GenerationMixin,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
    )

    config = WhisperConfig(vocab_size=51866, num_mel_bins=128, d_model=1280, encoder_layers=32, decoder_layers=4,
                           encoder_attention_heads=20, decoder_attention_heads=20, encoder_ffn_dim=5120,
                           decoder_ffn_dim=5120, pad_token_id=WHISPER_EOT, bos_token_id=WHISPER_EOT,
                           eos_token_id=WHISPER_EOT, decoder_start_token_id=WHISPER_SOT)
    model = WhisperForConditionalGeneration(config).eval().to(device, dtype)
    model.generation_config = GenerationConfig(decoder_start_token_id=WHISPER_SOT, eos_token_id=WHISPER_EOT,
                                               pad_token_id=WHISPER_EOT, bos_token_id=WHISPER_EOT)
    extractor = WhisperFeatureExtractor(feature_size=128)
    prompt = [WHISPER_SOT, WHISPER_EN, WHISPER_TRANSCRIBE, WHISPER_NO_TIMESTAMPS]

    def inputs(audio: np.ndarray) -> dict:
        features = extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        return {"input_features": features.to(device, dtype)}

    def run(audio: np.ndarray) -> int:
        tokens = _fixed_tokens(audio)
        with torch.inference_mode():  # GenerationMixin's plain loop: Whisper's own generate() adds its prompt logic
            out = GenerationMixin.generate(model, **inputs(audio),
                                           decoder_input_ids=torch.tensor([prompt], device=device),
                                           min_new_tokens=tokens, max_new_tokens=tokens, do_sample=False,
                                           num_beams=1)
        return int(out.shape[1] - len(prompt))

    return Built(model, inputs, run, 809, f"30 s window encoder + {TOKENS_PER_S:g} tokens per second of audio")


BUILDERS: dict[str, Callable[[str, Any], Built]] = {
    "parakeet-ctc-0.6b": lambda device, dtype: parakeet_ctc(24, 600, device, dtype),
    "parakeet-ctc-1.1b": lambda device, dtype: parakeet_ctc(42, 1100, device, dtype),
    "parakeet-tdt-0.6b-v3": parakeet_tdt,
    "moonshine-tiny": lambda device, dtype: moonshine("tiny", device, dtype),
    "moonshine-base": lambda device, dtype: moonshine("base", device, dtype),
    "whisper-large-v3-turbo": whisper_turbo,
}


def clip(seconds: float | None) -> np.ndarray:
    """examples/speech_piper.wav at 16 kHz, repeated (0.5 s apart) and cut to `seconds` (None: as it is)."""
    from shared.audio.intake import load_audio
    from shared.serving.widgets import EXAMPLES_DIR

    speech = load_audio(str(EXAMPLES_DIR / "speech_piper.wav"), SAMPLE_RATE).samples.astype(np.float32)
    if seconds is None:
        return speech
    once = np.concatenate([speech, np.zeros(SAMPLE_RATE // 2, np.float32)])
    return np.tile(once, math.ceil(seconds * SAMPLE_RATE / len(once)))[: int(seconds * SAMPLE_RATE)]


def median_seconds(run: Callable[[], Any], repeats: int, sync: Callable[[], Any]) -> float:
    """Median wall time (s) of `run()` over `repeats` calls after one warm-up call, CUDA work included (`sync`)."""
    run()
    times = []
    for _ in range(repeats):
        sync()
        begin = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def measure(name: str, audio: np.ndarray, device: str, dtype: Any, repeats: int) -> dict:
    """Build one model (seeded), time the whole run and the encoder alone; its row of the report (the model is
    freed when this returns)."""
    import torch

    torch.manual_seed(SEED)
    start = time.perf_counter()
    built = BUILDERS[name](device, dtype)
    build_s = time.perf_counter() - start
    parameters = parameter_count(built.model)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    steps = built.run(audio)
    seconds = median_seconds(lambda: built.run(audio), repeats, sync)

    def encode() -> None:
        with torch.inference_mode():
            built.model.get_encoder()(**built.inputs(audio))

    encoder_s = median_seconds(encode, repeats, sync)
    row = {"model": name, "parameters_m": round(parameters / 1e6, 1), "published_m": built.published_m,
           "steps": steps, "seconds": round(seconds, 4), "encoder_s": round(encoder_s, 4),
           "rtfx": round(len(audio) / SAMPLE_RATE / seconds, 2), "build_s": round(build_s, 1), "what": built.note}
    return row


def table(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [f"{report['device']} {report['dtype']}, {report['threads']} torch thread(s), clip {report['audio_s']} s, "
             f"{report['repeats']} repeat(s), load average {report['load_average_before']} -> "
             f"{report['load_average_after']}",
             f"{'model':24} {'params M':>9} {'published':>9} {'steps':>6} {'seconds':>8} {'encoder':>8} {'RTFx':>8}"
             "  what"]
    for row in report["rows"]:
        lines.append(f"{row['model']:24} {row['parameters_m']:9.1f} {row['published_m']:9} {row['steps']:6} "
                     f"{row['seconds']:8.3f} {row['encoder_s']:8.3f} {row['rtfx']:8.2f}  {row['what']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(BUILDERS), default=None)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs after a warm-up (3; --smoke: 1)")
    parser.add_argument("--seconds", type=float, default=None, help="clip length (30; --smoke: the 5.3 s clip)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--cuda-dtype", choices=("bfloat16", "float16"), default="bfloat16")
    parser.add_argument("--smoke", action="store_true", help=f"CPU, {', '.join(SMOKE_MODELS)}, 5.3 s, 1 repeat")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/asr_families[_smoke].json")
    args = parser.parse_args()
    import torch
    import transformers

    device = "cpu" if args.smoke or args.device == "cpu" or not torch.cuda.is_available() else "cuda"
    if args.device == "cuda" and device != "cuda":
        parser.error("no CUDA device here")
    dtype = getattr(torch, args.cuda_dtype) if device == "cuda" else torch.float32
    torch.set_num_threads(args.threads)
    models = args.models or (list(SMOKE_MODELS) if args.smoke else list(BUILDERS))
    repeats = args.repeats or (1 if args.smoke else 3)
    audio = clip(args.seconds if args.seconds or args.smoke else 30.0)
    if "whisper-large-v3-turbo" in models and len(audio) > 30 * SAMPLE_RATE:
        parser.error("Whisper reads one 30 s window here: --seconds 30 at most")
    report = {"device": torch.cuda.get_device_name() if device == "cuda" else f"cpu ({platform.processor() or '?'}, "
              f"{os.cpu_count()} cores)", "dtype": str(dtype).removeprefix("torch."), "threads": args.threads,
              "repeats": repeats, "audio_s": round(len(audio) / SAMPLE_RATE, 2), "tokens_per_s": TOKENS_PER_S,
              "torch": torch.__version__, "transformers": transformers.__version__,
              "load_average_before": [round(x, 2) for x in os.getloadavg()], "rows": []}
    for name in models:
        report["rows"].append(measure(name, audio, device, dtype, repeats))
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
        print(json.dumps(report["rows"][-1]), flush=True)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = args.out or Path(f"bench/results/asr_families{'_smoke' if args.smoke else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".txt").write_text(table(report))
    print(table(report))


if __name__ == "__main__":
    main()
