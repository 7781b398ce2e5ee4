"""The built-in diarizer on overlapped speech, before vs after the overlap-aware changes, in one run.

    python bench/bench_overlap.py [--before 50d4be0] [--minutes 10] [--repeats 2] [--skip-quality]
                                  [--heldout-seeds 101,202,303,404]
                                  [--out bench/results/overlap.txt]

"before" is shared/diarize/offline.py as it was at the `--before` commit (read with `git show`, loaded as a module
of its own); "after" is the working tree's. Both get the same Silero VAD speech regions and run on CPU.
1. DER (collar 0.25 s) with its parts (missed, false alarm, confusion) and the missed speech inside the reference's
   overlaps, on tests/overlap_speech.py's conversations (real voices mixed with known overlaps, 10-30 % of speech)
   with the count found automatically and with the true count given; totals are pooled seconds over the set.
2. The same on pyannote's sample.wav.
2b. The same on held-out mixes: the set's conversations rebuilt with other seeds (`--heldout-seeds`: other
    utterance orders, pauses and overlaps, the same voices), none of which the constants were chosen on except where
    offline.py says so.
3. Real-time factor on bench_diarize.py's 10-minute conversation (automatic count; VAD excluded): before and
   after interleaved `--repeats` times, the fastest of each (the machine may be shared).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.audio.intake import load_audio
from shared.diarize import offline, rttm, scoring
from shared.diarize.access import OFFLINE_DIARIZER
from shared.models.device import Placement
from shared.models.registry import get_spec
from shared.progress import Stopwatch

ROOT = Path(__file__).resolve().parent.parent
RATE = 16_000
BEFORE = "50d4be0"  # the last commit before the overlap-aware diarizer


@dataclass
class Score:
    """Pooled seconds over one or more files."""
    missed_s: float = 0.0
    false_alarm_s: float = 0.0
    confusion_s: float = 0.0
    reference_s: float = 0.0
    overlap_missed_s: float = 0.0
    overlap_s: float = 0.0  # reference speaker-seconds inside overlaps
    right_count: int = 0
    files: int = 0

    def add(self, evaluation: scoring.Evaluation, overlap: tuple[float, float], right_count: bool) -> None:
        self.missed_s += evaluation.missed_s
        self.false_alarm_s += evaluation.false_alarm_s
        self.confusion_s += evaluation.confusion_s
        self.reference_s += evaluation.reference_s
        self.overlap_missed_s += overlap[0]
        self.overlap_s += overlap[1]
        self.right_count += right_count
        self.files += 1

    @property
    def der(self) -> float:
        return (self.missed_s + self.false_alarm_s + self.confusion_s) / max(self.reference_s, 1e-9)

    def row(self, name: str) -> str:
        total = max(self.reference_s, 1e-9)
        overlap = f"{self.overlap_missed_s / self.overlap_s:8.1%}" if self.overlap_s else f"{'-':>8s}"
        return (f"{name:34s} {self.der:7.1%} {self.missed_s / total:6.1%} {self.false_alarm_s / total:6.1%} "
                f"{self.confusion_s / total:6.1%} {overlap} {self.right_count:>3d}/{self.files}")


HEADER = f"{'':34s} {'DER':>7s} {'miss':>6s} {'FA':>6s} {'conf':>6s} {'ovl-miss':>8s} {'count ok':>8s}"


def module_at(commit: str) -> types.ModuleType:
    """shared/diarize/offline.py as it was at `commit`, as a module of its own."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:shared/diarize/offline.py"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"offline_{commit}")
    module.__file__ = f"{commit}:shared/diarize/offline.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def load(module: types.ModuleType) -> Callable[..., list]:
    return module.load_offline_diarizer(get_spec(OFFLINE_DIARIZER), Placement("cpu", "float32"), {})


def score(diarizer: Callable[..., list], samples: np.ndarray, reference: list[rttm.Turn], known: bool,
          total: Score) -> None:
    from tests.overlap_speech import missed_in_overlap

    speakers = len({t.speaker for t in reference})
    speech = offline.silero_speech(samples)
    raw = diarizer(samples, num_speakers=speakers if known else None, speech=speech)
    turns = [rttm.Turn(a, b, s) for a, b, s in raw]
    duration = len(samples) / RATE
    evaluation = scoring.evaluate(reference, turns, duration, collar_s=0.25)
    total.add(evaluation, missed_in_overlap(reference, turns, duration), len({t.speaker for t in turns}) == speakers)


def quality(diarizers: dict[str, Callable[..., list]], say: Callable[[str], None]) -> None:
    from tests.overlap_speech import overlap_set, overlap_share
    from tests.speech_data import pyannote_sample_dir, sample_wav

    conversations = overlap_set()
    shares = [overlap_share(c.turns, c.duration_s) for c in conversations]
    say(f"Overlap set: {len(conversations)} conversations, {sum(c.duration_s for c in conversations):.0f} s, "
        f"overlapped speech {min(shares):.0%}-{max(shares):.0%} of speech per file")
    sample = load_audio(sample_wav(), RATE).samples
    sample_turns = rttm.parse_rttm((pyannote_sample_dir() / "sample.rttm").read_text())
    for known in (False, True):
        say(f"\n== speaker count {'given' if known else 'automatic'} ==\n{HEADER}")
        for version, diarizer in diarizers.items():
            pooled = Score()
            for conversation in conversations:
                one = Score()
                score(diarizer, conversation.samples, conversation.turns, known, one)
                say(one.row(f"{version} {conversation.name}"))
                for field in vars(one):
                    setattr(pooled, field, getattr(pooled, field) + getattr(one, field))
            say(pooled.row(f"{version} OVERLAP SET (pooled)"))
            alone = Score()
            score(diarizer, sample, sample_turns, known, alone)
            say(alone.row(f"{version} sample.wav"))


def held_out(diarizers: dict[str, Callable[..., list]], seeds: list[int], say: Callable[[str], None]) -> None:
    from tests.overlap_speech import PLAN, build_conversation, overlap_share

    everything = {(version, known): Score() for version in diarizers for known in (False, True)}
    for seed in seeds:
        conversations = [build_conversation(f"{name}#{seed}", speakers, seconds, seed + index)
                         for index, (name, speakers, seconds, _) in enumerate(PLAN)]
        shares = [overlap_share(c.turns, c.duration_s) for c in conversations]
        say(f"\n== held-out mixes, seed {seed}: {len(conversations)} conversations, "
            f"{sum(c.duration_s for c in conversations):.0f} s, overlapped {min(shares):.0%}-{max(shares):.0%} ==\n"
            f"{HEADER}")
        for known in (False, True):
            for version, diarizer in diarizers.items():
                pooled = Score()
                for conversation in conversations:
                    score(diarizer, conversation.samples, conversation.turns, known, pooled)
                say(pooled.row(f"{version} count {'given' if known else 'auto'}"))
                for field in vars(pooled):
                    total = everything[version, known]
                    setattr(total, field, getattr(total, field) + getattr(pooled, field))
    if seeds:
        say(f"\n== all held-out mixes pooled (seeds {', '.join(map(str, seeds))}) ==\n{HEADER}")
        for known in (False, True):
            for version in diarizers:
                say(everything[version, known].row(f"{version} count {'given' if known else 'auto'}"))


def speed(diarizers: dict[str, Callable[..., list]], minutes: float, repeats: int, say: Callable[[str], None]) -> None:
    from bench_diarize import conversation

    clip, reference = conversation(minutes)
    speech = offline.silero_speech(clip.samples)
    say(f"\n== {clip.duration_s / 60:.1f}-minute conversation ({len({t.speaker for t in reference})} speakers), "
        f"CPU, VAD excluded ==")
    seconds: dict[str, list[float]] = {version: [] for version in diarizers}
    for _ in range(repeats):
        for version, diarizer in diarizers.items():
            with Stopwatch() as watch:
                raw = diarizer(clip.samples, speech=speech)
            seconds[version].append(watch.seconds)
            evaluation = scoring.evaluate(reference, [rttm.Turn(*t) for t in raw], clip.duration_s, collar_s=0.25)
            say(f"{version:7s} {watch.seconds:6.1f} s  RTF {watch.seconds / clip.duration_s:.4f}  "
                f"DER {evaluation.der:.1%}  speakers {len({t[2] for t in raw})}")
    best = {version: min(times) for version, times in seconds.items()}
    say(f"fastest of {repeats}: before {best['before']:.1f} s, after {best['after']:.1f} s; "
        f"ratio after / before: {best['after'] / best['before']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE, help="commit whose offline.py is the baseline")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the speed test file (0: skip it)")
    parser.add_argument("--repeats", type=int, default=2, help="speed runs of each version, interleaved")
    parser.add_argument("--skip-quality", action="store_true", help="only the speed test")
    parser.add_argument("--heldout-seeds", default="101,202,303,404", help="seeds of the held-out mixes ('': none)")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    diarizers = {"before": load(module_at(args.before)), "after": load(offline)}
    say(f"before = {args.before}:shared/diarize/offline.py, after = working tree; DER collar 0.25 s; 'ovl-miss' = "
        "missed speech inside reference overlaps (no collar); 'count ok' = files with the true number of speakers")
    if not args.skip_quality:
        quality(diarizers, say)
        held_out(diarizers, [int(seed) for seed in args.heldout_seeds.split(",") if seed], say)
    if args.minutes > 0:
        speed(diarizers, args.minutes, args.repeats, say)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if importlib.util.find_spec("bench_diarize") is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
