"""The speaker-similarity numbers the text-to-speech and audio-to-audio views read, measured on real voices that ship
offline: Resemblyzer GE2E voiceprints (`offline:resemblyzer`, the model that scores cloned and converted voices) of

- the built-in Piper voice (`offline:piper-en_US-joe-medium`, through the app's own TTS) against itself reading
  other sentences — Piper's voice noise is not seeded, so each pair is synthesised afresh, REPEATS times;
- Piper against each of the two telephone speakers of pyannote.audio's shipped sample.wav (cut by its RTTM);
- the two sample.wav speakers against each other (two different people on one telephone line), and each of them
  against itself (first half of their turns against the second half).

Each number is put beside the app's one same-speaker threshold (shared/models/voiceprint.py, VERIFY_THRESHOLD,
calibrated by bench/bench_voiceprint_eer.py). Writes bench/results/voice_similarity.json and .txt.

    .venv/bin/python bench/bench_voice_similarity.py
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 3  # fresh Piper syntheses per pair (its voice noise is unseeded)
RATE = 16_000


def piper_16k(text: str) -> np.ndarray:
    """`text` spoken by the app's built-in Piper voice, at 16 kHz."""
    from shared.audio.intake import load_audio
    from shared.tts import run as tts

    speech = tts.synthesize(text, tts.OFFLINE_VOICE)
    return load_audio((speech.sample_rate, speech.samples), RATE).samples


def sample_speakers() -> dict[str, np.ndarray]:
    """pyannote's sample.wav: each speaker's RTTM turns joined, 16 kHz."""
    from tests.speech_data import sample_wav_speaker_turns

    return {speaker: np.concatenate(turns) for speaker, turns in sample_wav_speaker_turns(min_s=0.0).items()}


def measure(printer) -> dict[str, list[float]]:
    """{pair kind: cosine similarities} over the pairs described in the module docstring."""
    from tests.speech_data import PIPER_SENTENCES

    first_text, second_text = " ".join(PIPER_SENTENCES[:2]), " ".join(PIPER_SENTENCES[2:])
    turns = sample_speakers()
    speakers = {name: printer.embed(samples) for name, samples in turns.items()}
    halves = {name: [printer.embed(half) for half in np.array_split(samples, 2)] for name, samples in turns.items()}
    found: dict[str, list[float]] = {"piper vs itself (other sentences)": [], "piper vs a sample.wav speaker": []}
    for _ in range(REPEATS):
        first, second = printer.embed(piper_16k(first_text)), printer.embed(piper_16k(second_text))
        found["piper vs itself (other sentences)"].append(float(first @ second))
        found["piper vs a sample.wav speaker"] += [float(piper @ voice) for piper in (first, second)
                                                  for voice in speakers.values()]
    found["sample.wav speaker vs the other speaker"] = [float(a @ b) for a, b in
                                                        itertools.combinations(speakers.values(), 2)]
    found["sample.wav speaker vs itself (other half)"] = [float(a @ b) for a, b in halves.values()]
    return found


def summary(found: dict[str, list[float]], threshold: float) -> dict[str, dict[str, float | int]]:
    return {kind: {"pairs": len(values), "min": round(min(values), 3), "mean": round(float(np.mean(values)), 3),
                   "max": round(max(values), 3),
                   "share_above_threshold": round(float(np.mean(np.array(values) >= threshold)), 3)}
            for kind, values in found.items()}


def main() -> None:
    from shared.models.loader import get_loader
    from shared.models.voiceprint import VERIFY_EER, VERIFY_THRESHOLD, VOICEPRINT_MODEL_ID

    start = time.perf_counter()
    with get_loader().use(VOICEPRINT_MODEL_ID) as printer:
        found = measure(printer)
    result = {"model": VOICEPRINT_MODEL_ID, "threshold": VERIFY_THRESHOLD, "threshold_eer": VERIFY_EER,
              "repeats": REPEATS, "seconds": round(time.perf_counter() - start, 1),
              "summary": summary(found, VERIFY_THRESHOLD),
              "values": {kind: [round(value, 4) for value in values] for kind, values in found.items()}}
    lines = [f"Resemblyzer voiceprint cosine; the app's same-speaker threshold {VERIFY_THRESHOLD} "
             f"(EER {VERIFY_EER:.1%}, bench_voiceprint_eer.py)"]
    lines += [f"{kind:45s} n={row['pairs']:2d}  min {row['min']:.3f}  mean {row['mean']:.3f}  max {row['max']:.3f}  "
              f"above threshold {row['share_above_threshold']:.0%}" for kind, row in result["summary"].items()]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results"
    (out / "voice_similarity.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "voice_similarity.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
