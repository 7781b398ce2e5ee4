"""Classify / zero-shot benchmarks, each a ratio against a baseline run in this script.

    python bench/bench_classify.py cache [--repeats 3]
        Zero-shot per-call latency through the app's `shared.zero_shot.run.zero_shot()` (label embeddings, audio
        windows, scores) with the label-embedding cache warm vs without the cache (`text_cache=None`), for a few
        label counts and clip lengths. Goal: cached / uncached < 1 wherever the text tower is a real share of the
        call (many labels, short clips); with long clips the audio tower dominates and the ratio nears 1.
    python bench/bench_classify.py sdpa [--batch 8] [--repeats 3]
        AST forward pass on a batch of 10.24 s inputs (the classify tab's batch size), SDPA vs eager attention on
        the same weights (`set_attn_implementation`). The app loads transformers' default, SDPA. Ratio sdpa / eager.

The hub is unreachable here, so both use realistically sized models built locally from the transformers config
defaults with random weights: `ClapConfig()` (RoBERTa-base text tower + HTSAT audio tower, the sizes of
laion/clap-htsat-unfused) and `ASTConfig()` with 527 labels (the size of MIT/ast-finetuned-audioset-10-10-0.4593).
Timings are representative of the real checkpoints; the scores are meaningless. The CLAP tokenizer is a byte-level
BPE trained here on the benchmark's labels, so prompts tokenize to about one token per word, as with RoBERTa's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LABELS = [
    "dog barking", "cat meowing", "people talking", "a man speaking", "a woman speaking", "children playing",
    "music", "piano", "guitar", "drums", "singing", "birds singing", "rain", "thunder", "wind", "waves",
    "car engine", "traffic noise", "siren", "car horn", "train", "airplane", "helicopter", "footsteps",
    "door knocking", "door slamming", "glass breaking", "typing on a keyboard", "phone ringing", "alarm clock",
    "applause", "laughter", "crying baby", "coughing", "sneezing", "snoring", "clock ticking", "water dripping",
    "vacuum cleaner", "washing machine", "frying food", "chainsaw", "hammering", "drilling", "gunshot",
    "fireworks", "church bells", "crickets", "frog croaking", "silence",
]
TEMPLATE = "This is a sound of {}."
CLAP_ID = "laion/clap-htsat-unfused"


def machine() -> str:
    import torch

    return (f"{platform.machine()}, {os.cpu_count()} CPUs visible, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")


def best_of(repeats: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Alternate the runs (a, b, a, b, ...) so background load hits both alike; keep each one's best time."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def build_clap(hf_home: Path) -> None:
    """A ClapConfig()-sized random CLAP with its processor, installed in `hf_home` under CLAP_ID."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor, RobertaTokenizer

    from tests.tiny_models.hf_cache import install_folder

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator([TEMPLATE.replace("{}", label) for label in LABELS] * 5, trainer=trainer)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, _ in sorted(bpe.get_vocab().items(), key=lambda item: item[1]):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)
              for m in json.loads(bpe.to_str())["model"]["merges"]]
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=512)
    extractor = ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad")
    torch.manual_seed(0)
    model = ClapModel(ClapConfig())
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
        install_folder(hf_home, CLAP_ID, Path(folder))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"CLAP built from ClapConfig() defaults: {params:.0f} M parameters, random weights; "
          f"'{TEMPLATE.replace('{}', LABELS[0])}' → {len(tokenizer(TEMPLATE.replace('{}', LABELS[0]))['input_ids'])} "
          "tokens")


def bench_cache(repeats: int) -> None:
    import numpy as np

    with tempfile.TemporaryDirectory() as hf_home:
        os.environ["HF_HOME"] = hf_home  # before anything imports huggingface_hub: the model lives only here
        os.environ["HF_HUB_OFFLINE"] = "1"
        build_clap(Path(hf_home))
        from shared.audio.intake import AudioClip, load_audio
        from shared.serving.widgets import EXAMPLES_DIR
        from shared.zero_shot.capture import TextEmbeddingCache
        from shared.zero_shot.run import SAMPLE_RATE, zero_shot

        speech = load_audio(EXAMPLES_DIR / "speech_piper.wav", SAMPLE_RATE).samples
        chord = load_audio(EXAMPLES_DIR / "chord_c_major.wav", SAMPLE_RATE).samples
        unit = np.concatenate([speech, chord])

        def clip(seconds: float) -> AudioClip:
            samples = np.resize(unit, int(seconds * SAMPLE_RATE))
            return AudioClip(samples, SAMPLE_RATE, SAMPLE_RATE, 1, "wav", f"{seconds:g}s.wav")

        scenarios = [  # (title, clip, labels, window_s, hop_s)
            ("5 s clip, 10 labels, clip only (one window)", clip(5), LABELS[:10], 10.0, 10.0),
            ("5 s clip, 50 labels, clip only (one window)", clip(5), LABELS, 10.0, 10.0),
            ("10 s clip, 10 labels, 3 s windows / 1.5 s hop", clip(10), LABELS[:10], 3.0, 1.5),
            ("30 s clip, 10 labels, 3 s windows / 1.5 s hop", clip(30), LABELS[:10], 3.0, 1.5),
        ]
        print(f"zero-shot per-call latency through zero_shot(), best of {repeats}; {machine()}")
        print(f"{'scenario':50s} {'no cache':>9s} {'cached':>9s} {'ratio':>7s}")
        for title, audio, labels, window_s, hop_s in scenarios:
            cache = TextEmbeddingCache()

            def cached(audio: AudioClip = audio, labels: list[str] = labels, window_s: float = window_s,
                       hop_s: float = hop_s, cache: TextEmbeddingCache = cache) -> object:
                return zero_shot(audio, CLAP_ID, labels, TEMPLATE, window_s, hop_s, text_cache=cache)

            def uncached(audio: AudioClip = audio, labels: list[str] = labels, window_s: float = window_s,
                         hop_s: float = hop_s) -> object:
                return zero_shot(audio, CLAP_ID, labels, TEMPLATE, window_s, hop_s, text_cache=None)

            cached()  # loads the model (first scenario) and fills the cache
            best = best_of(repeats, {"uncached": uncached, "cached": cached})
            assert cache.hits >= repeats
            print(f"{title:50s} {best['uncached']:8.3f}s {best['cached']:8.3f}s "
                  f"{best['cached'] / best['uncached']:7.3f}")


def bench_sdpa(batch: int, repeats: int) -> None:
    import torch
    from transformers import ASTConfig, ASTForAudioClassification

    torch.manual_seed(0)
    config = ASTConfig(num_labels=527, problem_type="multi_label_classification")
    model = ASTForAudioClassification(config).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    features = torch.randn(batch, config.max_length, config.num_mel_bins)

    def forward(implementation: str) -> Callable[[], torch.Tensor]:
        def run() -> torch.Tensor:
            model.set_attn_implementation(implementation)
            with torch.inference_mode():
                return model(input_values=features).logits

        return run

    difference = (forward("sdpa")() - forward("eager")()).abs().max().item()
    print(f"AST built from ASTConfig() defaults (527 labels): {params:.0f} M parameters, random weights, "
          f"{config.max_length} frames × {config.num_mel_bins} mel bins, batch {batch}, float32 on CPU; "
          f"best of {repeats}; {machine()}")
    best = best_of(repeats, {"eager": forward("eager"), "sdpa": forward("sdpa")})
    print(f"eager attention: {best['eager']:7.3f} s ({best['eager'] / batch:.3f} s per 10.24 s window)")
    print(f"SDPA:            {best['sdpa']:7.3f} s ({best['sdpa'] / batch:.3f} s per 10.24 s window)")
    print(f"ratio sdpa / eager: {best['sdpa'] / best['eager']:.3f}  (max |logit difference| {difference:.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["cache", "sdpa"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    if args.which == "cache":
        bench_cache(args.repeats)
    else:
        bench_sdpa(args.batch, args.repeats)


if __name__ == "__main__":
    main()
