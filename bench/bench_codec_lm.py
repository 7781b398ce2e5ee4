"""Codec language models at real size: seconds of compute per second of generated audio for CSM 1B
(`sesame/csm-1b`) and Dia 1.6B (`nari-labs/Dia-1.6B-0626`), bf16 against fp32 on CUDA when a GPU is there.

The hub is unreachable where this runs, so each model is built from its configuration with random weights:
transformers 5.24's `CsmConfig()` and `DiaConfig()` defaults are the published checkpoints' shapes (CSM: a Llama
backbone 2048 wide, 16 layers, 32 heads / 8 KV heads, plus a 4-layer 1024-wide depth decoder over 32 Mimi codebooks
of 2051 ids, with its Mimi codec inside; Dia: a 12-layer 1024-wide byte encoder and an 18-layer 2048-wide decoder over
9 DAC channels of 1028 ids), and Dia's codec is `DacConfig()` at 44.1 kHz (`descript/dac_44khz`: 9 codebooks of
1024, hop 512). Parameters counted here: CSM 1632 M with its Mimi codec (the "1B" of its name is the backbone; the
text and 32 audio-codebook embeddings and heads add the rest), Dia 1611 M ("1.6B") + DAC 77 M; the registry's fp32
sizes (6.2 and 6.7 GB) agree. Approximate only in what a config leaves out: the tokenizers (the prompt is random ids)
and the generation configs (their sampling settings are copied below from the published ones; not checked against
the hub, which is unreachable here). The arithmetic, memory traffic and kernel launches are the
real models'; the tokens are meaningless, so no end-of-audio can cut a run short: every variant writes the same
fixed number of codec frames (`--frames`; Dia writes 15 more decoder steps for its delay pattern). The prompt is a
fixed 32-token text (no reference recording: a reference adds its frames to the prefill).

Per model and variant: seconds to generate the frames (prefill included), seconds to decode them to audio with the
codec, and per second of generated audio (CSM 12.5 frames/s; Dia 44100/512 = 86.1 frames/s): "as run" (a short run
is dominated by the prefill and, for Dia, by the 15 delay steps) and "steady" (seconds per decoder step × frames per
second: what a long generation approaches). Sampling follows the checkpoints' generation configs (CSM top-k 50,
temperature 0.9; Dia top-k 45, top-p 0.95, temperature 1.2, classifier-free guidance 3.0, which doubles its batch).

    .venv/bin/python bench/bench_codec_lm.py                 # CUDA when available: fp32 and bf16
    .venv/bin/python bench/bench_codec_lm.py --smoke         # CPU, real size, fp32, 4 frames: about 3 minutes
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.models.modules import parameter_count  # noqa: E402

PROMPT_TOKENS = 32
DIA_RATE = 44_100 / 512  # DAC frames per second
# the published checkpoints' generation configs (Dia's guidance_scale 3 doubles the decoder's batch: classifier-free
# guidance runs a conditional and an unconditional row every step)
CSM_SAMPLING = {"do_sample": True, "top_k": 50, "temperature": 0.9}
DIA_SAMPLING = {"do_sample": True, "temperature": 1.2, "top_p": 0.95, "top_k": 45, "guidance_scale": 3.0,
                "bos_token_id": 1026, "pad_token_id": 1025, "eos_token_id": 1024, "decoder_start_token_id": 1026}


@contextmanager
def timed(device: str, into: dict, key: str) -> Any:
    """Wall seconds of the block, CUDA work included, stored in `into[key]`."""
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    yield
    if device == "cuda":
        torch.cuda.synchronize()
    into[key] = round(time.perf_counter() - start, 3)


def parameters_m(module: torch.nn.Module) -> float:
    """Millions of parameters (the app's own count: tied weights once)."""
    return round(parameter_count(module) / 1e6, 1)


def build(make: Callable[[], torch.nn.Module], device: str, dtype: torch.dtype) -> torch.nn.Module:
    """A randomly initialised model on `device` in `dtype`, built in that dtype (no fp32 copy on the way)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return make().eval()
    finally:
        torch.set_default_dtype(previous)


def run_csm(device: str, dtype: torch.dtype, frames: int, row: dict) -> None:
    from transformers import CsmConfig, CsmForConditionalGeneration

    config = CsmConfig()
    with timed(device, row, "build_s"):
        model = build(lambda: CsmForConditionalGeneration(config), device, dtype)
    row.update(parameters_m=parameters_m(model), frame_rate=12.5)
    ids = torch.randint(0, 128_000, (1, PROMPT_TOKENS), device=device)
    eos = config.codebook_eos_token_id
    with torch.inference_mode():
        with timed(device, row, "generate_s"):
            codes = model.generate(input_ids=ids, max_new_tokens=frames, min_new_tokens=frames, **CSM_SAMPLING,
                                   depth_decoder_do_sample=True, depth_decoder_top_k=50,
                                   depth_decoder_temperature=0.9)[0]  # (frames, codebooks)
        codes = codes.clamp(0, config.codec_config.codebook_size - 1)
        with timed(device, row, "decode_s"):
            audio = model.codec_model.decode(codes.T[None]).audio_values
    row.update(frames=int(codes.shape[0]), decoder_steps=int(codes.shape[0]),
               audio_s=round(audio.shape[-1] / 24_000, 3), eos_id=eos)
    del model


def run_dia(device: str, dtype: torch.dtype, frames: int, row: dict) -> None:
    from transformers import DacConfig, DacModel, DiaConfig, DiaForConditionalGeneration

    config = DiaConfig()
    delays = max(config.delay_pattern)
    with timed(device, row, "build_s"):
        model = build(lambda: DiaForConditionalGeneration(config), device, dtype)
        codec = build(lambda: DacModel(DacConfig(sampling_rate=44_100)), device, dtype)
    row.update(parameters_m=parameters_m(model), codec_parameters_m=parameters_m(codec), frame_rate=DIA_RATE)
    ids = torch.randint(0, 256, (1, PROMPT_TOKENS), device=device)
    steps = frames + delays
    with torch.inference_mode():
        with timed(device, row, "generate_s"):
            output = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=steps,
                                    min_new_tokens=steps, **DIA_SAMPLING)  # (1, 1 + steps, 9)
        written = output.shape[1] - 1
        grid = torch.stack([output[0, 1 + delay:1 + delay + written - delays, channel]
                            for channel, delay in enumerate(config.delay_pattern)])  # delay undone
        with timed(device, row, "decode_s"):
            audio = codec.decode(audio_codes=grid.clamp(0, 1023)[None]).audio_values
    row.update(frames=int(grid.shape[1]), decoder_steps=int(written), audio_s=round(audio.shape[-1] / 44_100, 3))
    del model, codec


def measure(name: str, device: str, dtype_name: str, frames: int) -> dict:
    row: dict[str, Any] = {"model": name, "device": device, "dtype": dtype_name}
    (run_csm if name == "csm" else run_dia)(device, getattr(torch, dtype_name), frames, row)
    audio_s = row["frames"] / row["frame_rate"]
    step_s = row["generate_s"] / row["decoder_steps"]  # prefill spread over the steps
    row.update(ms_per_step=round(1000 * step_s, 1),
               as_run_compute_s_per_audio_s=round((row["generate_s"] + row["decode_s"]) / audio_s, 2),
               steady_generate_s_per_audio_s=round(step_s * row["frame_rate"], 2),
               decode_s_per_audio_s=round(row["decode_s"] / audio_s, 3))
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="CPU, real size, fp32, 4 frames")
    parser.add_argument("--frames", type=int, default=None, help="codec frames to write (default 100; smoke 4)")
    parser.add_argument("--models", default="csm,dia")
    args = parser.parse_args()
    device = "cpu" if args.smoke or not torch.cuda.is_available() else "cuda"
    frames = args.frames or (4 if args.smoke else 100)
    dtypes = ["float32", "bfloat16"] if device == "cuda" else ["float32"]
    torch.manual_seed(0)
    rows = []
    for name in args.models.split(","):
        for dtype in dtypes:
            rows.append(measure(name, device, dtype, frames))
            print(json.dumps(rows[-1]), flush=True)
    environment = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                   "gpu": torch.cuda.get_device_name() if device == "cuda" else None}
    suffix = "_smoke" if args.smoke else ""
    out = ROOT / "bench" / "results"
    (out / f"codec_lm{suffix}.json").write_text(json.dumps({"environment": environment, "rows": rows}, indent=2) + "\n")
    lines = [f"{row['model']:4s} {row['device']:4s} {row['dtype']:9s} {row['parameters_m']:7.1f} M params  "
             f"{row['frames']:4d} frames ({row['frames'] / row['frame_rate']:.2f} s) in {row['decoder_steps']} steps: "
             f"generate {row['generate_s']:.2f} s ({row['ms_per_step']:.0f} ms/step), decode {row['decode_s']:.2f} s; "
             f"s per s of audio: as run {row['as_run_compute_s_per_audio_s']:.1f}, steady generation "
             f"{row['steady_generate_s_per_audio_s']:.1f} + decoding {row['decode_s_per_audio_s']:.2f}" for row in rows]
    (out / f"codec_lm{suffix}.txt").write_text("\n".join([json.dumps(environment), *lines]) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
