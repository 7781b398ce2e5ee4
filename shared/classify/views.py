"""Classify result → what the tab shows: the info line, the compare table, the timeline (table rows and the label ×
time picture), the downloads (JSON and timeline CSV) and a batch job's row for one file."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from shared.audio.timeline import timeline_image
from shared.audio.windows import NO_EVENTS, SILENCE_DBFS, top_labels, windows_phrase
from shared.classify.run import ClassifyResult
from shared.models.registry import get_spec
from shared.outputs.batch import ItemResult, json_text
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line

TIMELINE_ROWS = 12
COMPARE_HEADERS = ["model", "top labels", "compute (s)", "RTF", "load (s)", "device", "scores", "clip scores from",
                   "architecture", "year", "params (M)", "languages"]
CLASSIFY_COLUMNS = ("top_label", "top_score", "top_k")


def _scores_text(top: list[tuple[str, float]]) -> str:
    return " · ".join(f"{label} {score:.2f}" for label, score in top)


def info_markdown(result: ClassifyResult) -> str:
    """The markdown under the labels: timing, what the scores mean and where the clip scores came from, notes."""
    lines = [timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s)]
    if result.silent:
        lines.append(f"No sound events: the clip is silent (RMS below {SILENCE_DBFS:g} dBFS), so no labels are "
                     "given and the model was not run." if result.clip_method.startswith("silent") else
                     f"No sound events: every window is silent (RMS below {SILENCE_DBFS:g} dBFS).")
    else:
        meaning = "independent per label (multi-label)" if result.activation == "sigmoid" else "they sum to 1"
        lines.append(f"Scores: **{result.activation}** — {meaning}. Clip scores from {result.clip_method}; "
                     f"{windows_phrase(result.windows, result.window_s, result.hop_s)}.")
    lines += [f"Note: {note}." for note in result.notes]
    return "\n\n".join(lines)


def compare_rows(results: list[ClassifyResult], k: int) -> list[list[Any]]:
    """One row per model under `COMPARE_HEADERS`: its top `k` labels, timings (seconds), how it scores, and the
    registry's architecture, year, parameters (millions) and languages."""
    return [[result.model_id, _scores_text(result.top_k(k)) or NO_EVENTS, round(result.compute_s, 3),
             round(result.real_time_factor, 4), round(result.load_s, 2), f"{result.device} / {result.dtype}",
             result.activation or "—", result.clip_method, *_facts(result.model_id)] for result in results]


def _facts(model_id: str) -> list[Any]:
    facts = get_spec(model_id).facts
    return [facts["architecture"], facts["year"], facts["params (M)"], facts["languages"]]


def timeline_rows(result: ClassifyResult, k: int = 3) -> list[list[Any]]:
    """One row per window: start and end (seconds) and its top `k` labels, or "(silence)"."""
    return [[round(window.start_s, 2), round(window.end_s, 2),
             "(silence)" if window.silent else _scores_text(top_labels(scores, result.labels, k))]
            for window, scores in zip(result.windows, result.window_scores, strict=True)]


def timeline_labels(window_scores: np.ndarray, labels: list[str], max_rows: int = TIMELINE_ROWS) -> list[int]:
    """The label rows worth drawing: every window's winner, then the strongest others; ordered by when each
    peaks, so a dog, then speech, then music reads top to bottom in that order."""
    audible = window_scores[~np.isnan(window_scores).any(axis=1)]
    if len(audible) == 0 or not labels:
        return []
    chosen = list(dict.fromkeys(int(i) for i in audible.argmax(axis=1)))[:max_rows]
    for index in np.argsort(-audible.max(axis=0), kind="stable"):
        if len(chosen) >= min(max_rows, len(labels)):
            break
        if int(index) not in chosen:
            chosen.append(int(index))
    peak_window = audible.argmax(axis=0)
    return sorted(chosen, key=lambda i: (peak_window[i], -audible[:, i].max()))


def classify_timeline_image(result: ClassifyResult) -> np.ndarray:
    """The tab's "Sound events over time" picture: the labels worth drawing × the windows."""
    kind = "sigmoid: independent" if result.activation == "sigmoid" else "softmax: sums to 1 over all labels"
    title = (f"Sound events over time — {result.window_s:g} s windows every {result.hop_s:g} s · {result.model_id}\n"
             f"{kind}")
    rows = timeline_labels(result.window_scores, result.labels)
    return timeline_image(result.window_scores, result.labels, result.windows, result.audio_s, rows, title,
                          vmax=1.0 if result.activation == "sigmoid" else None)


def write_outputs(result: ClassifyResult, k: int) -> list[str]:
    """JSON of everything, and the timeline as CSV (one row per window, its top-k labels and scores)."""
    json_path = write_json("classification.json", result.to_json(k))
    csv_path = new_result_path("timeline.csv")
    k = max(1, min(int(k), len(result.labels) or 1))
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_s", "end_s", "silent", *(f"{part}_{i}" for i in range(1, k + 1)
                                                          for part in ("label", "score"))])
        for window, scores in zip(result.windows, result.window_scores, strict=True):
            cells: list[Any] = []
            if not window.silent:
                for label, score in top_labels(scores, result.labels, k):
                    cells += [label, f"{score:.6f}"]
            writer.writerow([f"{window.start_s:.3f}", f"{window.end_s:.3f}", int(window.silent), *cells])
    return [json_path, str(csv_path)]


def batch_item(result: ClassifyResult, k: int) -> ItemResult:
    """One file's classification JSON (top `k`) and its row of the batch summary (`CLASSIFY_COLUMNS`)."""
    best = result.top_k(k)
    return ItemResult({".json": json_text(result.to_json(k))}, result.audio_s, result.compute_s, result.load_s,
                      result.device, result.dtype,
                      {"top_label": best[0][0] if best else "(silent)", "top_score": best[0][1] if best else "",
                       "top_k": "; ".join(f"{label} {score:.3f}" for label, score in best)})
