"""Zero-shot result → what the tab shows: the info line, the label × window picture, the best label per window,
and the downloads (JSON and the label × window CSV)."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from shared.audio.timeline import timeline_image
from shared.audio.windows import SILENCE_DBFS, windows_phrase
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line
from shared.zero_shot.run import ZeroShotResult


def info_markdown(result: ZeroShotResult) -> str:
    """The markdown under the scores: timing, how the scores are made, where the clip's came from, notes."""
    lines = [timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s)]
    if result.silent:
        lines.append(f"No sound events: the clip is silent (RMS below {SILENCE_DBFS:g} dBFS), so no label is "
                     "scored.")
    else:
        source = "from the cache" if result.text_from_cache else "computed (cached for next time)"
        lines.append(f"Scores: softmax over your {len(result.labels)} labels of {result.similarity_name} × "
                     f"{result.logit_scale:.1f} (the model's logit scale). Clip scores from {result.clip_method}; "
                     f"{windows_phrase(result.windows, result.window_s, result.hop_s)}. "
                     f"Label text embeddings: {source}.")
    lines += [f"Note: {note}." for note in result.notes]
    return "\n\n".join(lines)


def zero_shot_timeline_image(result: ZeroShotResult) -> np.ndarray:
    """The tab's label × window picture: every label's probability in every window."""
    title = (f"Label × window scores — {result.window_s:g} s windows every {result.hop_s:g} s · {result.model_id}\n"
             f"softmax over your labels of the scaled {result.similarity_name}")
    rows = [] if result.silent else list(range(len(result.labels)))
    return timeline_image(result.window_scores, result.labels, result.windows, result.audio_s, rows, title,
                          colorbar_label="probability", vmax=None)


def timeline_rows(result: ZeroShotResult) -> list[list[Any]]:
    """One row per window: start and end (seconds) and its best label with its score, or "(silence)"."""
    rows = []
    for window, scores in zip(result.windows, result.window_scores, strict=True):
        if window.silent or result.silent:
            text = "(silence)"
        else:
            best = int(np.argmax(scores))
            text = f"{result.labels[best]} {scores[best]:.2f}"
        rows.append([round(window.start_s, 2), round(window.end_s, 2), text])
    return rows


def write_outputs(result: ZeroShotResult) -> list[str]:
    """JSON of everything, and the label × window scores as CSV (one row per window, one column per label)."""
    json_path = write_json("zero_shot.json", result.to_json())
    csv_path = new_result_path("zero_shot_timeline.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_s", "end_s", "silent", *result.labels])
        for window, scores in zip(result.windows, result.window_scores, strict=True):
            cells = [] if window.silent or result.silent else [f"{score:.6f}" for score in scores]
            writer.writerow([f"{window.start_s:.3f}", f"{window.end_s:.3f}", int(window.silent), *cells])
    return [json_path, str(csv_path)]
