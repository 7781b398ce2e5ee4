"""Word alignment benchmarks (CPU), written to bench/results/align.txt:

    python bench/bench_align.py [--minutes 10] [--forward-minutes 1] [--threads 2] [--skip-whisper]

1. Cost per minute of audio of `align_words`' two steps on Piper speech with its own transcript: the CTC forward
   passes (30 s windows) of a wav2vec2-base-sized model (Wav2Vec2Config defaults, 95 M parameters, random weights:
   the hub is unreachable here, so timings are representative and the path is not) over `--forward-minutes`, and
   the path search (`align.viterbi`, banded past FULL_TRELLIS_CELLS) over `--minutes` (those emissions and their
   text repeated: the audio is one Piper unit repeated anyway). Baseline, same emissions, same run:
   `torchaudio.functional.forced_align` (the full trellis). Reported: seconds per minute of audio, the ratio, whether
   the two paths agree, and the back-pointer memory of each.
2. Whisper's own word timestamps (the built-in faster-whisper tiny.en, real weights) on Piper single words joined by
   known silences (tests/aligned_speech.py): mean / median / max |boundary error| and words missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.audio.intake import resample  # noqa: E402
from shared.models.registry import get_spec  # noqa: E402
from shared.transcribe import align  # noqa: E402
from shared.transcribe.aligner import emissions  # noqa: E402

RATE = 16_000
LIBRISPEECH = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]


def tiled_speech(minutes: float) -> tuple[np.ndarray, str]:
    """Piper speaking the test sentences, repeated (audio and text together) to `minutes` of audio."""
    from tests.speech_data import PIPER_SENTENCES, synthesize

    pieces, texts = [], []
    for sentence in PIPER_SENTENCES:
        audio, rate = synthesize(sentence)
        pieces += [resample(audio, rate, RATE), np.zeros(RATE // 2, np.float32)]
        texts.append(sentence)
    unit = np.concatenate(pieces)
    repeats = max(1, round(minutes * 60 * RATE / len(unit)))
    return np.tile(unit, repeats), " ".join(texts * repeats)


def base_sized_pipeline() -> SimpleNamespace:
    """A wav2vec2-base-sized CTC model with random weights, shaped like the pipeline the loader returns."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(vocab_size=len(LIBRISPEECH))).eval()
    return SimpleNamespace(model=model, feature_extractor=Wav2Vec2FeatureExtractor(return_attention_mask=False))


def bench_cost(minutes: float, forward_minutes: float) -> list[str]:
    import torch
    import torchaudio.functional as F

    samples, text = tiled_speech(forward_minutes)
    forward_min = len(samples) / RATE / 60
    pipe = base_sized_pipeline()
    start, cpu_start = time.perf_counter(), time.process_time()
    log_probs = emissions(get_spec("facebook/wav2vec2-base-960h"), pipe, samples, 320)
    forward_s, forward_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    repeats = max(1, round(minutes / forward_min))
    log_probs, text = np.tile(log_probs, (repeats, 1)), " ".join([text] * repeats)
    audio_min = forward_min * repeats
    target = align.prepare_text(text, {label: i for i, label in enumerate(LIBRISPEECH)}, "|")
    states = 2 * len(target.tokens) + 1
    half_width = align.default_half_width(len(log_probs), states, 0.02)
    start = time.perf_counter()
    path, _ = align.viterbi(log_probs, target.tokens, 0, half_width)
    search_s = time.perf_counter() - start
    start = time.perf_counter()
    reference, _ = F.forced_align(torch.from_numpy(log_probs)[None], torch.tensor([target.tokens]), blank=0)
    torchaudio_s = time.perf_counter() - start
    same = bool((align.path_labels(path, target.tokens) == reference[0].numpy()).all())
    low, high = align.band_limits(log_probs, 0, states, half_width)
    mine_mb, full_mb = float(np.sum(high - low)) / 1e6, len(log_probs) * states / 1e6
    return [
        f"audio {audio_min:.2f} min, {len(log_probs)} frames, {len(target.tokens)} characters, {states} states; "
        f"band half-width {half_width} states",
        f"CTC forward passes (wav2vec2-base size, 30 s windows) over {forward_min:.2f} min: {forward_s:.1f} s = "
        f"{forward_s / forward_min:.2f} s per minute of audio (CPU time, all threads: "
        f"{forward_cpu_s / forward_min:.2f} s per minute)",
        f"path search, this app (banded): {search_s:.2f} s = {search_s / audio_min:.3f} s per minute; back-pointers "
        f"{mine_mb:.0f} MB",
        f"path search, torchaudio.functional.forced_align (full trellis): {torchaudio_s:.2f} s = "
        f"{torchaudio_s / audio_min:.3f} s per minute; back-pointers {full_mb:.0f} MB",
        f"ratio app / torchaudio: {search_s / torchaudio_s:.2f}x time, {mine_mb / full_mb:.3f}x back-pointer memory; "
        f"same path: {same} (random weights spread the optimum far from the band; on emissions that follow "
        "the text the band finds the same path: tests/test_transcribe_align.py)",
        f"alignment total (forward + search): {forward_s / forward_min + search_s / audio_min:.2f} s per minute of "
        "audio",
    ]


def bench_whisper_words() -> list[str]:
    from tests.aligned_speech import GAPS_S, whisper_word_errors

    errors, missed, known = whisper_word_errors()
    return [
        f"Whisper tiny.en (faster-whisper int8, real weights) word timestamps on {len(known)} Piper words with "
        f"{'/'.join(f'{g:g}' for g in GAPS_S)} s gaps:",
        f"  |boundary error| over {len(errors)} boundaries: mean {np.mean(errors):.3f} s, median "
        f"{np.median(errors):.3f} s, max {np.max(errors):.3f} s (starts {np.mean(errors[0::2]):.3f} s, ends "
        f"{np.mean(errors[1::2]):.3f} s); words missed {missed} of {len(known)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--forward-minutes", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-whisper", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    lines = [f"bench_align.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, CPU, {args.threads} threads"]
    lines.append(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (machine shared)")
    lines += bench_cost(args.minutes, args.forward_minutes)
    if not args.skip_whisper:
        lines += bench_whisper_words()
    print("\n".join(lines))
    out = ROOT / "bench" / "results" / "align.txt"
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
