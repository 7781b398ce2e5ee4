"""Separation measured with no hub: two mixtures of different real voices (pyannote's sample.wav speakers, the
Piper voice; tests/separation_oracle.py) through the app's separation code path
(shared.audio_to_audio.run.separate_samples) with an oracle separator, the ideal ratio mask computed from the true
sources, scored by the app's SI-SDR (best pairing of outputs with the true sources). The baseline is the mixture
itself scored against each source. No model is measured here (the SepFormer weights are on the hub); the number
says the plumbing and the scoring are right and what an ideal mask reaches on these recordings.

    .venv/bin/python bench/bench_separation_oracle.py     # writes bench/results/separation_oracle.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure() -> list[dict]:
    """One row per mixture: SI-SDR of the mixture and of the oracle's outputs against the true sources (dB)."""
    from shared.audio_to_audio.run import separate_samples
    from shared.audio_to_audio.scores import best_pairing, si_sdr
    from tests.separation_oracle import RATE, IdealRatioMask, real_mixtures

    rows = []
    for mix in real_mixtures():
        tracks, _ = separate_samples(IdealRatioMask(mix.sources), mix.mixture)
        _, separated = best_pairing(np.stack([track.samples for track in tracks]), mix.sources)
        baseline = [si_sdr(mix.mixture, source) for source in mix.sources]
        rows.append({"mixture": mix.name, "seconds": round(len(mix.mixture) / RATE, 2),
                     "si_sdr_mixture_db": [round(value, 2) for value in baseline],
                     "si_sdr_oracle_db": [round(value, 2) for value in separated],
                     "si_sdr_improvement_db": round(float(np.mean(separated) - np.mean(baseline)), 2)})
    return rows


def main() -> None:
    rows = measure()
    for row in rows:
        print(f"{row['mixture']:36s} {row['seconds']:5.2f} s  mixture {row['si_sdr_mixture_db']} dB -> "
              f"oracle {row['si_sdr_oracle_db']} dB  (improvement {row['si_sdr_improvement_db']:+.2f} dB)")
    out = ROOT / "bench" / "results" / "separation_oracle.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
