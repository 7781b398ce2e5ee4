"""Calibrates the known-speaker threshold: the equal error rate (EER) of the voiceprint model (Resemblyzer GE2E,
`offline:resemblyzer`) on verification trials built from every real voice the installed packages ship.

Voices: pyannote's sample.wav (two telephone speakers, cut by its reference RTTM), the Piper voice en_US-joe-medium
(sentences synthesised here), and Gradio's shipped recordings (two clips of one actress, one of an actor, one
unnamed speaker). Each recording is cut into utterances of 1.5-3.5 s; a trial is a pair of utterances, "same" when
both come from one speaker (never the same utterance), "different" otherwise. Prints the EER and its threshold and
writes bench/results/voiceprint_eer.json; shared/models/voiceprint.py's VERIFY_THRESHOLD (the app's one same-speaker
threshold) is set from it.

    .venv/bin/python bench/bench_voiceprint_eer.py
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

PIECE_S = (1.5, 3.5)  # shortest and longest utterance, seconds
MORE_SENTENCES = (
    "My grandmother keeps her garden full of roses and tomatoes every summer.",
    "The train to the airport leaves from platform nine at half past seven.",
    "Could you send me the report before the meeting on Thursday afternoon?",
    "Bright stars filled the sky as the campers sat around the fire.",
)


def pieces(samples: np.ndarray, rate: int = 16_000) -> list[np.ndarray]:
    """Cut a recording into consecutive utterances of PIECE_S seconds (the remainder joins the last one)."""
    shortest, longest = (int(s * rate) for s in PIECE_S)
    if len(samples) < shortest:
        return []
    count = max(1, int(np.ceil(len(samples) / longest)))
    return [part for part in np.array_split(samples, count) if len(part) >= shortest]


def utterances() -> dict[str, list[np.ndarray]]:
    """{speaker: [16 kHz utterances]} from every real voice available offline."""
    from scipy.signal import resample_poly

    from shared.audio.intake import load_audio
    from tests.speech_data import PIPER_SENTENCES, sample_wav_speaker_turns, synthesize

    voices: dict[str, list[np.ndarray]] = {}
    for speaker, turns in sample_wav_speaker_turns(min_s=PIECE_S[0]).items():
        voices[f"sample.wav {speaker}"] = [part for turn in turns for part in pieces(turn)]
    joe = []
    for sentence in (*PIPER_SENTENCES, *MORE_SENTENCES):
        audio, _rate = synthesize(sentence)
        joe.append(resample_poly(audio, 160, 221).astype(np.float32))  # 22.05 kHz -> 16 kHz
    voices["piper joe"] = joe
    import gradio

    media = Path(gradio.__file__).parent / "media_assets" / "audio"
    shipped = {"gradio cate": ("cate_blanch.mp3", "cate_blanch_2.mp3"), "gradio heath": ("heath_ledger.mp3",),
               "gradio recording1": ("recording1.wav",)}
    for speaker, files in shipped.items():
        voices[speaker] = [part for name in files for part in pieces(load_audio(str(media / name), 16_000).samples)]
    return voices


def trials(prints: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(same-speaker similarities, different-speaker similarities) over every pair of utterances."""
    labels = [speaker for speaker, rows in prints.items() for _ in rows]
    rows = np.concatenate(list(prints.values()))
    similarity = rows @ rows.T
    same, different = [], []
    for first, second in itertools.combinations(range(len(rows)), 2):
        (same if labels[first] == labels[second] else different).append(float(similarity[first, second]))
    return np.array(same), np.array(different)


def main() -> None:
    from shared.diarize.known_speakers import equal_error_rate
    from shared.models.loader import get_loader
    from shared.models.voiceprint import VERIFY_THRESHOLD, VOICEPRINT_MODEL_ID

    voices = utterances()
    start = time.perf_counter()
    with get_loader().use(VOICEPRINT_MODEL_ID) as printer:
        prints = {speaker: np.stack([printer.embed(part) for part in parts]) for speaker, parts in voices.items()}
    same, different = trials(prints)
    eer, threshold = equal_error_rate(same, different)
    result = {
        "model": VOICEPRINT_MODEL_ID, "utterance_s": PIECE_S, "embed_s": round(time.perf_counter() - start, 2),
        "utterances": {speaker: len(parts) for speaker, parts in voices.items()},
        "same_trials": len(same), "different_trials": len(different),
        "same_mean": round(float(same.mean()), 4), "different_mean": round(float(different.mean()), 4),
        "eer": round(eer, 4), "eer_threshold": round(threshold, 4), "app_threshold": VERIFY_THRESHOLD,
        "at_app_threshold": {"missed_same": round(float(np.mean(same < VERIFY_THRESHOLD)), 4),
                             "false_accept": round(float(np.mean(different >= VERIFY_THRESHOLD)), 4)},
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "voiceprint_eer.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
