"""GPU benchmark: fp16/bf16 + SDPA against fp32 + eager attention for Whisper, AST and Bark-small; real-time factors,
decoding tokens/s against the card's memory-bandwidth bound, and Whisper's batched long-form decoding against
sequential decoding.

The hub is unreachable where this runs, so every model is built from its real checkpoint's configuration with
random weights: the arithmetic, memory traffic and kernel launches are the real model's, only the outputs are
meaningless. Decoding therefore runs a fixed number of greedy steps (no end-of-text can cut it short), the same
for every variant. The dtype/attention choice measured is the one the app makes (shared/models/device.py: bf16 where the
GPU supports it, transformers' default SDPA attention).

    python bench/bench_gpu.py                 # CUDA; prints a table and writes --json
    python bench/bench_gpu.py --smoke         # tiny shapes on any device: checks the script, numbers meaningless
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

WHISPER_SIZES = {  # d_model, layers (encoder = decoder), heads: the openai/whisper-* checkpoints' configurations
    "tiny": (384, 4, 6),
    "base": (512, 6, 8),
    "small": (768, 12, 12),
}
VARIANTS = (("float32", "eager"), ("float32", "sdpa"), ("bfloat16", "sdpa"), ("float16", "sdpa"))


@dataclass
class Row:
    model: str
    variant: str
    what: str
    seconds: float
    audio_s: float = 0.0
    tokens: int = 0
    bound_tokens_per_s: float = 0.0

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_s if self.audio_s else float("nan")

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.tokens else float("nan")


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str, repeats: int, warmup: int = 1) -> float:
    """Median wall time of `repeats` runs after `warmup` runs (CUDA synchronised around each)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(device: str, megabytes: int) -> float:
    """Device-to-device copy rate, bytes read + written per second: the ceiling for memory-bound decoding."""
    source = torch.empty(megabytes * 2**20, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    seconds = timed(lambda: target.copy_(source), device, repeats=10, warmup=3)
    return 2 * source.numel() / seconds


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in module.parameters()}.values())


def build(cls: Any, config: Any, device: str, dtype: str, attention: str) -> Any:
    config._attn_implementation = attention
    with torch.device(device):
        model = cls(config)
    model = model.to(getattr(torch, dtype)).eval()
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(attention)
    return model


# --- Whisper ----------------------------------------------------------------------------------------------------
def whisper_config(size: str, smoke: bool) -> Any:
    from transformers import WhisperConfig

    d_model, layers, heads = (64, 2, 2) if smoke else WHISPER_SIZES[size]
    return WhisperConfig(d_model=d_model, encoder_layers=layers, decoder_layers=layers, encoder_attention_heads=heads,
                         decoder_attention_heads=heads, encoder_ffn_dim=4 * d_model, decoder_ffn_dim=4 * d_model,
                         num_mel_bins=80, vocab_size=51865, max_source_positions=1500, max_target_positions=448)


def greedy_decode(model: Any, encoder_hidden: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` greedy decoder steps with the KV cache, as Whisper's generate does, without an end-of-text stop."""
    from transformers.modeling_outputs import BaseModelOutput

    encoder_outputs = BaseModelOutput(last_hidden_state=encoder_hidden)
    tokens = torch.full((encoder_hidden.shape[0], 1), 50257, dtype=torch.long, device=encoder_hidden.device)
    past = None
    generated = []
    with torch.inference_mode():
        for _ in range(steps):
            out = model(encoder_outputs=encoder_outputs, decoder_input_ids=tokens, past_key_values=past,
                        use_cache=True)
            past = out.past_key_values
            tokens = out.logits[:, -1].argmax(-1, keepdim=True)
            generated.append(tokens)
    return torch.cat(generated, dim=1)


def decode_bytes_per_step(model: Any, steps: int, bytes_per_value: int) -> float:
    """Bytes one decoding step must read at batch 1: every decoder weight (the output projection is tied to the
    token embedding, which is read whole) plus the cross-attention cache and the average self-attention cache."""
    config = model.config
    decoder_weights = n_params(model.model.decoder)
    cross_cache = 2 * config.decoder_layers * config.max_source_positions * config.d_model
    self_cache = 2 * config.decoder_layers * (steps / 2) * config.d_model
    return (decoder_weights + cross_cache + self_cache) * bytes_per_value


def bench_whisper(size: str, device: str, args: argparse.Namespace, bandwidth: float) -> list[Row]:
    from transformers import WhisperForConditionalGeneration

    rows = []
    frames = 3000
    steps = args.decode_steps
    for dtype, attention in VARIANTS:
        if dtype != "float32" and device == "cpu":
            continue
        model = build(WhisperForConditionalGeneration, whisper_config(size, args.smoke), device, dtype, attention)
        name = f"whisper-{size}"
        variant = f"{dtype}+{attention}"
        features = torch.randn(1, 80, frames, device=device, dtype=getattr(torch, dtype))
        with torch.inference_mode():
            encode = lambda batch=features, model=model: model.model.encoder(batch).last_hidden_state  # noqa: E731
            encoder_s = timed(encode, device, args.repeats)
            hidden = encode()
        decode_s = timed(lambda hidden=hidden, model=model: greedy_decode(model, hidden, steps), device, args.repeats)
        bound = bandwidth / decode_bytes_per_step(model, steps, torch.finfo(getattr(torch, dtype)).bits // 8)
        rows.append(Row(name, variant, "30 s window: encoder + greedy decode", encoder_s + decode_s, audio_s=30.0,
                        tokens=steps))
        rows.append(Row(name, variant, "decoder steps (batch 1)", decode_s, tokens=steps, bound_tokens_per_s=bound))
        if size == args.long_form and (dtype, attention) in (("float32", "eager"), (args.app_dtype, "sdpa")):
            rows.extend(whisper_long_form(model, name, variant, device, args))
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows


def whisper_long_form(model: Any, name: str, variant: str, device: str, args: argparse.Namespace) -> list[Row]:
    """Long-form audio as the app runs it on GPU: 30 s windows, 8 per batch, against the same windows one by one."""
    windows = args.windows
    dtype = next(model.parameters()).dtype
    features = torch.randn(windows, 80, 3000, device=device, dtype=dtype)

    def run(batch_size: int) -> None:
        with torch.inference_mode():
            for start in range(0, windows, batch_size):
                hidden = model.model.encoder(features[start:start + batch_size]).last_hidden_state
                greedy_decode(model, hidden, args.decode_steps)

    audio_s = 30.0 * windows
    sequential = timed(lambda: run(1), device, max(1, args.repeats // 2))
    batched = timed(lambda: run(8), device, max(1, args.repeats // 2))
    tokens = windows * args.decode_steps
    return [Row(name, variant, f"long-form {windows} windows, sequential (batch 1)", sequential, audio_s, tokens),
            Row(name, variant, f"long-form {windows} windows, batched (batch 8)", batched, audio_s, tokens)]


# --- AST ----------------------------------------------------------------------------------------------------------
def bench_ast(device: str, args: argparse.Namespace) -> list[Row]:
    from transformers import ASTConfig, ASTForAudioClassification

    config = ASTConfig(num_labels=527) if not args.smoke else ASTConfig(
        num_labels=527, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
    batch = 8
    rows = []
    for dtype, attention in VARIANTS:
        if dtype != "float32" and device == "cpu":
            continue
        model = build(ASTForAudioClassification, config, device, dtype, attention)
        inputs = torch.randn(batch, config.max_length, config.num_mel_bins, device=device, dtype=getattr(torch, dtype))
        with torch.inference_mode():
            seconds = timed(lambda model=model, inputs=inputs: model(inputs).logits, device, args.repeats)
        rows.append(Row("ast-audioset (87 M)" if not args.smoke else "ast (smoke)", f"{dtype}+{attention}",
                        f"batch of {batch} × 10.24 s windows", seconds, audio_s=batch * 10.24))
        del model
    return rows


# --- Bark-small ---------------------------------------------------------------------------------------------------
def bench_bark(device: str, args: argparse.Namespace, bandwidth: float) -> list[Row]:
    from transformers import (
        BarkCoarseConfig,
        BarkCoarseModel,
        BarkFineConfig,
        BarkFineModel,
        BarkSemanticConfig,
        BarkSemanticModel,
    )

    small = {"hidden_size": 64, "num_layers": 2, "num_heads": 2} if args.smoke else {}
    audio_s = args.bark_seconds
    semantic_steps = int(49.9 * audio_s)  # Bark's semantic tokens run at ~50 Hz
    coarse_steps = int(75 * audio_s) * 2  # 75 Hz EnCodec frames × 2 coarse codebooks, interleaved
    rows = []
    for dtype, attention in (("float32", "eager"), (args.app_dtype, "sdpa")):
        if dtype != "float32" and device == "cpu":
            continue
        variant = f"{dtype}+{attention}"
        value_bytes = torch.finfo(getattr(torch, dtype)).bits // 8
        stage_s = {}
        for stage, (cls, config_cls, steps, prompt) in {
            "semantic": (BarkSemanticModel, BarkSemanticConfig, semantic_steps, 256),
            "coarse": (BarkCoarseModel, BarkCoarseConfig, coarse_steps, 256),
        }.items():
            config = config_cls(input_vocab_size=129_600 if stage == "semantic" else 12_096,
                                output_vocab_size=10_048 if stage == "semantic" else 12_096, **small)
            try:
                model = build(cls, config, device, dtype, attention)
            except (ValueError, ImportError):  # an attention kernel this model does not offer
                model = build(cls, config, device, dtype, "eager")
                attention = "eager"  # reported as such: this model offers no SDPA path
                variant = f"{dtype}+eager"
            prompt_ids = torch.randint(0, 10_000, (1, prompt), device=device)
            window = config.block_size

            def generate(model: Any = model, prompt_ids: torch.Tensor = prompt_ids, steps: int = steps,
                         window: int = window) -> None:
                with torch.inference_mode():
                    out = model(input_ids=prompt_ids, use_cache=True)
                    past, used = out.past_key_values, prompt_ids.shape[1]
                    for _ in range(steps):
                        if used >= window:  # Bark restarts from a shorter context once the window is full
                            out = model(input_ids=prompt_ids, use_cache=True)
                            past, used = out.past_key_values, prompt_ids.shape[1]
                        token = out.logits[:, -1:].argmax(-1)
                        out = model(input_ids=token, past_key_values=past, use_cache=True)
                        past, used = out.past_key_values, used + 1

            seconds = timed(generate, device, max(1, args.repeats // 2))
            weights = n_params(model) - model.input_embeds_layer.weight.numel()  # one embedding row read per step
            bound = bandwidth / (weights * value_bytes)
            stage_s[stage] = seconds
            rows.append(Row("bark-small", variant, f"{stage}: {steps} tokens", seconds, tokens=steps,
                            bound_tokens_per_s=bound))
            del model
        fine_config = BarkFineConfig(**small)
        model = build(BarkFineModel, fine_config, device, dtype, "eager" if "eager" in variant else attention)
        codes = torch.randint(0, 1024, (1, fine_config.block_size, fine_config.n_codes_total), device=device)
        windows = max(1, int(75 * audio_s) // 512)  # Bark's fine stage slides a 1024 window by 512 frames

        def fine(model: Any = model, codes: torch.Tensor = codes, windows: int = windows,
                 codebooks: range = range(fine_config.n_codes_given, fine_config.n_codes_total)) -> None:
            with torch.inference_mode():
                for _ in range(windows):
                    for codebook in codebooks:
                        model(codebook, input_ids=codes)

        stage_s["fine"] = timed(fine, device, max(1, args.repeats // 2))
        rows.append(Row("bark-small", variant, f"fine: {windows} windows × 6 codebooks", stage_s["fine"]))
        rows.append(Row("bark-small", variant, f"all three stages for {audio_s:g} s of speech",
                        sum(stage_s.values()), audio_s=audio_s))
        del model
    return rows


def print_table(rows: list[Row], bandwidth: float, device_name: str) -> None:
    print(f"\n{device_name}; copy bandwidth {bandwidth / 1e12:.2f} TB/s (read + write)\n")
    print(f"{'model':<20} {'variant':<26} {'what':<46} {'s':>8} {'RTF':>8} {'tok/s':>9} {'bound':>9} {'of bound':>8}")
    for row in rows:
        share = f"{row.tokens_per_s / row.bound_tokens_per_s:.1%}" if row.bound_tokens_per_s else ""
        bound = f"{row.bound_tokens_per_s:9.0f}" if row.bound_tokens_per_s else " " * 9
        tok = f"{row.tokens_per_s:9.1f}" if row.tokens else " " * 9
        rtf = f"{row.rtf:8.4f}" if row.audio_s else " " * 8
        print(f"{row.model:<20} {row.variant:<26} {row.what:<46} {row.seconds:8.3f} {rtf} {tok} {bound} {share:>8}")


def ratios(rows: list[Row], app_variant: str) -> dict[str, float]:
    """App's choice (bf16/fp16 + SDPA) against fp32 + eager, and batched against sequential long-form."""
    found: dict[str, float] = {}
    by_key = {(r.model, r.variant, r.what): r.seconds for r in rows}
    app_dtype = app_variant.split("+")[0]
    for (model, variant, what), seconds in by_key.items():
        # the app's dtype with SDPA, or with eager attention where the model offers no SDPA (Bark)
        has_sdpa = (model, app_variant, what) in by_key
        if variant == app_variant or (not has_sdpa and variant == f"{app_dtype}+eager"):
            base = by_key.get((model, "float32+eager", what))
            if base:
                found[f"{model} · {what}: {variant} / float32+eager"] = seconds / base
        if "batched (batch 8)" in what:
            sequential = by_key.get((model, variant, what.replace("batched (batch 8)", "sequential (batch 1)")))
            if sequential:
                found[f"{model} · {variant} long-form: sequential / batched (speed-up)"] = sequential / seconds
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny shapes: check the script on any machine")
    parser.add_argument("--whisper", default="tiny,base,small", help="sizes, comma-separated")
    parser.add_argument("--decode-steps", type=int, default=128)
    parser.add_argument("--windows", type=int, default=16, help="30 s windows for the long-form comparison")
    parser.add_argument("--long-form", default="base", help="the Whisper size the long-form comparison uses")
    parser.add_argument("--bark-seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated: whisper, ast, bark")
    parser.add_argument("--json", default="bench_gpu.json")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.smoke:
        raise SystemExit("no CUDA device: this benchmark measures the GPU path (use --smoke to check the script)")
    args.app_dtype = "bfloat16" if device == "cuda" and torch.cuda.is_bf16_supported() else "float16"
    if args.smoke:
        args.decode_steps, args.windows, args.bark_seconds, args.repeats = 8, 8, 0.5, 1
        args.long_form = args.whisper.split(",")[0]
    torch.manual_seed(0)
    device_name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    bandwidth = copy_bandwidth(device, 64 if args.smoke else 2048)
    skip = set(filter(None, args.skip.split(",")))
    rows: list[Row] = []
    if "whisper" not in skip:
        for size in args.whisper.split(","):
            rows.extend(bench_whisper(size, device, args, bandwidth))
            print_table(rows[-8:], bandwidth, device_name)
    if "ast" not in skip:
        rows.extend(bench_ast(device, args))
    if "bark" not in skip:
        rows.extend(bench_bark(device, args, bandwidth))
    print_table(rows, bandwidth, device_name)
    app_variant = f"{args.app_dtype}+sdpa"
    found = ratios(rows, app_variant)
    print("\nratios (< 1: the app's choice is faster; speed-ups > 1):")
    for name, value in found.items():
        print(f"  {name}: {value:.3f}")
    with open(args.json, "w") as handle:
        json.dump({"device": device_name, "torch": torch.__version__, "bandwidth_bytes_per_s": bandwidth,
                   "rows": [asdict(r) | {"rtf": r.rtf, "tokens_per_s": r.tokens_per_s} for r in rows],
                   "ratios": found}, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
