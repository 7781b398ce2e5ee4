"""Diarization benchmarks on a long conversation, each against a baseline run in this script.

    python bench/bench_diarize.py offline [--minutes 10]
        The built-in offline diarizer (Silero VAD → segmentation-3.0 ONNX → Resemblyzer → clustering) on CPU: real-time
        factor (compute / audio, VAD included) and DER (collar 0.25 s), against the naive recipe it replaces (Silero
        VAD, 1 s windows, one Resemblyzer embedding each, Ward clustering into the true count) on the same file.
    python bench/bench_diarize.py pyannote [--minutes 10] [--model pyannote/speaker-diarization-community-1]
        A pyannote pipeline on CUDA vs on CPU (ratio). Needs a GPU and the gated model downloaded (HF_TOKEN); it says
        so and stops otherwise.

The file: pyannote's 30 s two-speaker telephone sample, tiled with random gaps (0.5-2.5 s) and gains (±3 dB),
with a Piper sentence (a third, synthetic voice) after every third copy; the reference RTTM is tiled the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.audio.intake import AudioClip, load_audio, resample
from shared.diarize import access, rttm, scoring
from shared.diarize import run as dz
from shared.errors import UserError
from shared.progress import Stopwatch

RATE = 16_000
T = TypeVar("T")


def conversation(minutes: float, seed: int = 0) -> tuple[AudioClip, list[rttm.Turn]]:
    from tests.speech_data import PIPER_SENTENCES, pyannote_sample_dir, sample_wav, synthesize

    rng = np.random.default_rng(seed)
    sample = load_audio(sample_wav(), RATE).samples
    sample_turns = rttm.parse_rttm((pyannote_sample_dir() / "sample.rttm").read_text())
    piper = []
    for sentence in PIPER_SENTENCES:
        speech, rate = synthesize(sentence)
        speech = resample(speech, rate, RATE)
        voiced = np.flatnonzero(np.abs(speech) > 1e-3)
        piper.append(0.5 * speech[voiced[0]:voiced[-1] + 1])
    pieces, turns, offset, copy = [], [], 0.0, 0
    total = minutes * 60 * RATE
    while offset * RATE < total:
        gain = np.float32(10 ** (rng.uniform(-3, 3) / 20))
        pieces.append(sample * gain)
        turns += [rttm.Turn(offset + t.start, offset + t.end, t.speaker) for t in sample_turns]
        offset += len(sample) / RATE
        copy += 1
        if copy % 3 == 0:
            speech = piper[copy // 3 % len(piper)]
            pieces.append(speech)
            turns.append(rttm.Turn(offset, offset + len(speech) / RATE, "piper"))
            offset += len(speech) / RATE
        gap = int(rng.uniform(0.5, 2.5) * RATE)
        pieces.append(np.zeros(gap, np.float32))
        offset += gap / RATE
    samples = np.concatenate(pieces)[: int(total)].astype(np.float32)
    duration = len(samples) / RATE
    turns = [rttm.Turn(t.start, min(t.end, duration), t.speaker) for t in turns if t.start < duration]
    return AudioClip(samples, RATE, RATE, 1, "wav", f"conversation_{minutes:g}min"), turns


def naive_diarization(clip: AudioClip, num_speakers: int) -> list[rttm.Turn]:
    """The recipe before segmentation-3.0: Silero VAD, 1 s windows inside speech, one Resemblyzer embedding each
    (its own `embed_utterance`, file raised to -30 dBFS as its preprocessing does), Ward clustering into the given
    number of speakers (the best linkage of average/complete/Ward on sample.wav: DER 10% vs 47% / 23%)."""
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume
    from scipy.cluster.hierarchy import fcluster, linkage

    from shared.models.loader import get_loader
    from shared.models.vad import VAD_MODEL_ID

    with get_loader().use(VAD_MODEL_ID) as vad:
        speech = vad.speech_segments(clip.samples)
    windows = [(start, min(start + 1.0, end)) for begin, end in speech for start in np.arange(begin, end - 0.3, 1.0)]
    encoder = VoiceEncoder("cpu", verbose=False)
    louder = normalize_volume(clip.samples, -30, increase_only=True)
    embeddings = np.stack([encoder.embed_utterance(louder[int(start * RATE):int(end * RATE)])
                           for start, end in windows])
    labels = fcluster(linkage(embeddings, method="ward"), num_speakers, "maxclust")
    return [rttm.Turn(round(start, 3), round(end, 3), f"S{label}") for (start, end), label in zip(windows, labels,
                                                                                               strict=True)]


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """fn's result and its wall-clock seconds."""
    with Stopwatch() as watch:
        result = fn()
    return result, watch.seconds


def bench_offline(minutes: float) -> None:
    from shared.models.loader import get_loader
    from shared.models.vad import VAD_MODEL_ID

    clip, reference = conversation(minutes)
    loader = get_loader()
    loader.entry(VAD_MODEL_ID)
    loader.entry(dz.OFFLINE_DIARIZER)  # loads are not what is measured
    speakers = len({t.speaker for t in reference})
    rows = []
    for name, run in (
        ("offline diarizer, automatic count", lambda: dz.diarize(clip, dz.OFFLINE_DIARIZER).turns),
        (f"offline diarizer, {speakers} speakers given", lambda: dz.diarize(clip, dz.OFFLINE_DIARIZER,
                                                                            num_speakers=speakers).turns),
        (f"naive baseline, {speakers} speakers given", lambda: naive_diarization(clip, speakers)),
    ):
        turns, seconds = timed(run)
        evaluation = scoring.evaluate(reference, turns, clip.duration_s, collar_s=0.25)
        rows.append((name, seconds, evaluation, len({t.speaker for t in turns})))
    print(f"{clip.duration_s / 60:.1f} min conversation ({speakers} reference speakers), CPU, Silero VAD included")
    print(f"{'':42s} {'compute':>9s} {'RTF':>7s} {'DER':>7s} {'miss':>6s} {'FA':>6s} {'conf':>6s} {'found':>5s}")
    for name, seconds, e, found in rows:
        total = e.reference_s
        print(f"{name:42s} {seconds:8.1f}s {seconds / clip.duration_s:7.4f} {e.der:7.1%} {e.missed_s / total:6.1%} "
              f"{e.false_alarm_s / total:6.1%} {e.confusion_s / total:6.1%} {found:5d}")
    ours, naive = rows[1], rows[2]
    print(f"ratio offline diarizer / naive baseline (given count): time {ours[1] / naive[1]:.2f}x, "
          f"DER {ours[2].der / max(naive[2].der, 1e-9):.2f}x")


def bench_pyannote(minutes: float, model_id: str, devices: tuple[str, ...] = ("cuda", "cpu")) -> None:
    import torch

    from shared.models.device import Placement
    from shared.models.loader import ModelLoader

    if "cuda" in devices and not torch.cuda.is_available():
        print("skipped: no CUDA device here (this benchmark compares a pyannote pipeline on GPU vs CPU)")
        return
    try:
        access.ensure_downloaded(model_id)
    except UserError as exc:
        print(f"skipped: {exc}")
        return
    clip, _ = conversation(minutes)
    seconds = {}
    for device in devices:
        loader = ModelLoader(placement=Placement(device, "float32"))
        warm = AudioClip(clip.samples[: 60 * RATE], RATE, RATE, 1, "wav", "warm-up")
        dz.diarize(warm, model_id, loader=loader)
        result, seconds[device] = timed(lambda loader=loader: dz.diarize(clip, model_id, loader=loader))
        print(f"{model_id} on {device}: {seconds[device]:.1f} s for {clip.duration_s / 60:.1f} min "
              f"(RTF {seconds[device] / clip.duration_s:.4f}), {len(result.speakers)} speakers")
        loader.unload_all()
    if {"cpu", "cuda"} <= set(seconds):
        print(f"ratio CPU / GPU: {seconds['cpu'] / seconds['cuda']:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["offline", "pyannote"])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--model", default=access.COMMUNITY_REPO)
    parser.add_argument("--devices", default="cuda,cpu", help="pyannote only; e.g. 'cpu' for a smoke run")
    args = parser.parse_args()
    if args.which == "offline":
        bench_offline(args.minutes)
    else:
        bench_pyannote(args.minutes, args.model, tuple(args.devices.split(",")))
