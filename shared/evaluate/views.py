"""What the Evaluate tab and the command line show and write: the per-model table, the metric-vs-RTFx scatter
(as the Open ASR Leaderboard draws it: speed on a log x axis, the metric on y, 95 % intervals as error bars), the
confusion matrix, the per-example table sorted worst first with the word diff, and the CSV/JSON downloads."""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from shared.audio.plots import new_figure, to_rgb
from shared.evaluate.metrics import confusion_matrix
from shared.evaluate.report import METRIC, METRIC_TITLE, examples_of
from shared.evaluate.run import Evaluation
from shared.evaluate.sources import ASR, CLASSIFY, DIARIZE, TTS, ZERO_SHOT
from shared.outputs.batch import spreadsheet_safe
from shared.outputs.results import new_result_path
from shared.outputs.text_metrics import word_diff_html

EXAMPLE_ROWS = 200  # rows the per-example table shows (the CSV has them all)
TABLE_COLUMNS = {  # task -> (column title, row key, kind): "%" a rate, "ci" its interval, "x" a plain number
    ASR: [("WER", "wer", "%"), ("95% CI", "wer", "ci"), ("CER", "cer", "%"), ("95% CI (CER)", "cer", "ci")],
    CLASSIFY: [("accuracy", "accuracy", "%"), ("95% CI", "accuracy", "ci"), ("top-k accuracy", "top_k_accuracy", "%"),
               ("95% CI (top-k)", "top_k_accuracy", "ci")],
    DIARIZE: [("DER", "der", "%"), ("95% CI", "der", "ci"), ("missed", "missed_rate", "%"),
              ("false alarm", "false_alarm_rate", "%"), ("confusion", "confusion_rate", "%")],
    TTS: [("round-trip WER", "wer", "%"), ("95% CI", "wer", "ci"), ("speaker similarity", "similarity", "x"),
          ("95% CI (similarity)", "similarity", "ci"), ("RTF", "rtf", "x")],
}
TABLE_COLUMNS[ZERO_SHOT] = TABLE_COLUMNS[CLASSIFY]
TIMING_COLUMNS = [("RTFx", "rtfx", "x"), ("load (s)", "load_s", "x"), ("peak memory (MiB)", "peak_mb", "x")]


def _number(value: Any, kind: str, row: dict[str, Any], key: str) -> Any:
    if kind == "ci":
        low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
        if low is None or math.isnan(low):
            return ""
        scale = 100 if key != "similarity" else 1
        return f"{low * scale:.{1 if scale == 100 else 3}f}–{high * scale:.{1 if scale == 100 else 3}f}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(100 * value, 2) if kind == "%" else round(float(value), 3)


def table_headers(task: str) -> list[str]:
    return ["model", "examples", "failed", *[title for title, _, _ in TABLE_COLUMNS[task] + TIMING_COLUMNS], "device"]


def table_rows(task: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The per-model table: rates in %, intervals as "low–high", RTFx, load (s), peak memory (MiB)."""
    return [[row["model"], row["examples"], row["failed"],
             *[_number(row.get(key), kind, row, key) for _, key, kind in TABLE_COLUMNS[task] + TIMING_COLUMNS],
             f"{row['device']} ({row['memory']})" if row["device"] else ""] for row in rows]


def summary_markdown(evaluation: Evaluation, rows: list[dict[str, Any]]) -> str:
    """One line: what was evaluated, and the best model by the headline metric."""
    metric, lower = METRIC[evaluation.settings.task]
    scored = [row for row in rows if not math.isnan(row.get(metric, float("nan")))]
    line = (f"**{len(rows)} model(s)** on **{max((row['examples'] + row['failed'] for row in rows), default=0)} "
            f"example(s)** of {evaluation.source} · normaliser: {evaluation.settings.normalise}")
    if scored:
        best = (min if lower else max)(scored, key=lambda row: row[metric])
        line += f" · best {METRIC_TITLE[metric]}: **{best['model']}** {100 * best[metric]:.2f}%"
    failed = sum(row["failed"] for row in rows)
    return line + (f" · {failed} example(s) failed (see the table below)" if failed else "")


def scatter_image(task: str, rows: list[dict[str, Any]]) -> np.ndarray:
    """Metric (%) against RTFx (log scale), one point per model with its 95 % interval, labelled with its id."""
    fig = new_figure((8, 4.5))
    draw_scatter(fig.add_subplot(), task, rows)
    return to_rgb(fig)


def draw_scatter(axes: Any, task: str, rows: list[dict[str, Any]]) -> None:
    """The scatter on `axes`; its y axis starts at 0 (an error rate or an accuracy is never below)."""
    metric, lower = METRIC[task]
    for row in rows:
        value, speed = row.get(metric, float("nan")), row.get("rtfx", float("nan"))
        if math.isnan(value) or math.isnan(speed) or speed <= 0:
            continue
        spread = [[100 * (value - row[f"{metric}_low"])], [100 * (row[f"{metric}_high"] - value)]]
        axes.errorbar([speed], [100 * value], yerr=spread, fmt="o", capsize=4)
        axes.annotate(row["model"], (speed, 100 * value), textcoords="offset points", xytext=(6, 6), fontsize=8)
    axes.set_xscale("log")
    axes.set_xlabel("RTFx (seconds of audio per second of compute, log scale; right is faster)")
    direction = "lower is better" if lower else "higher is better"
    axes.set_ylabel(f"{METRIC_TITLE[metric]} (%) · {direction}")
    axes.set_title(f"{METRIC_TITLE[metric]} vs speed, with 95 % bootstrap intervals")
    axes.grid(True, which="both", alpha=0.3)
    axes.set_ylim(bottom=0)


def confusion_image(evaluation: Evaluation, model: str) -> np.ndarray | None:
    """The model's confusion matrix (reference rows, predicted columns) for ≤ 20 classes; None otherwise."""
    done = [r for r in examples_of(evaluation.records) if r["model"] == model and not r.get("error")]
    found = confusion_matrix([r["reference"] for r in done], [r["hypothesis"] for r in done]) if done else None
    if found is None:
        return None
    classes, matrix = found
    fig = new_figure((1.6 + 0.45 * len(classes), 1.2 + 0.4 * len(classes)))
    axes = fig.add_subplot()
    axes.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > matrix.max() / 2 else "black")
    axes.set_xticks(range(len(classes) + 1), [*classes, "(other)"], rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(classes)), classes, fontsize=8)
    axes.set_xlabel("predicted (top 1)")
    axes.set_ylabel("reference")
    axes.set_title(f"Confusion matrix · {model}", fontsize=9)
    return to_rgb(fig)


def example_score(task: str, record: dict[str, Any]) -> float:
    """The per-example number the table sorts on (worst first): WER, DER, or 1 for a wrong label; errors first."""
    if record.get("error"):
        return math.inf
    if task in (ASR, TTS):
        words = record["words"]
        return record["word_errors"] / words if words else float(record["word_errors"] > 0)
    if task == DIARIZE:
        return record["der"]
    return 0.0 if record["correct"] else 1.0


EXAMPLE_HEADERS = ["model", "example", "score", "reference", "answer", "differences"]


def example_rows(task: str, records: list[dict[str, Any]], limit: int = EXAMPLE_ROWS) -> list[list[Any]]:
    """Per model × example, worst first: the example's score (WER / DER in %, 1 = wrong label), the reference,
    the answer, and the word diff (HTML: <del> missing, <ins> different or extra)."""
    examples = sorted(examples_of(records), key=lambda record: -example_score(task, record))
    return [_example_row(task, record) for record in examples[:limit]]


def _example_row(task: str, record: dict[str, Any]) -> list[Any]:
    score = example_score(task, record)
    if record.get("error"):
        return [record["model"], record["key"], None, record["reference"], "", f"error: {html.escape(record['error'])}"]
    shown = round(100 * score, 2) if task in (ASR, TTS, DIARIZE) else int(score)
    if task in (ASR, TTS):
        diff = word_diff_html(record["normalised_reference"], record["normalised_hypothesis"], "none")
    elif task == DIARIZE:
        diff = (f"missed {record['missed_s']:.2f} s · false alarm {record['false_alarm_s']:.2f} s · "
                f"confusion {record['confusion_s']:.2f} s of {record['reference_s']:.2f} s")
    else:
        diff = html.escape("top-k: " + ", ".join(record["top_k"]))
    return [record["model"], record["key"], shown, record["reference"], record["hypothesis"], diff]


def write_csv(path: Path, headers: list[str], rows: list[list[Any]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([[spreadsheet_safe(value) for value in row] for row in rows])
    return str(path)


def report_json(evaluation: Evaluation, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything: settings, source, the per-model rows and every example record."""
    return {"task": evaluation.settings.task, "source": evaluation.source, "settings": evaluation.settings.to_json(),
            "labels": evaluation.labels, "models": [{k: _no_nan(v) for k, v in row.items()} for row in rows],
            "examples": [{k: v for k, v in r.items() if k != "voiceprint"} for r in examples_of(evaluation.records)]}


def _no_nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def write_downloads(evaluation: Evaluation, rows: list[dict[str, Any]], folder: Path | None = None) -> list[str]:
    """models.csv (the table), examples.csv (every example, worst first) and evaluation.json, in `folder` (the
    command line's output folder) or fresh result paths (the app)."""
    def place(name: str) -> Path:
        return folder / name if folder is not None else new_result_path(name)

    task = evaluation.settings.task
    every = example_rows(task, evaluation.records, limit=len(evaluation.records))
    plain = [[*row[:5], html.unescape(row[5]).replace("<del>", "[-").replace("</del>", "-]")
              .replace("<ins>", "{+").replace("</ins>", "+}")] for row in every]
    json_path = place("evaluation.json")
    json_path.write_text(json.dumps(report_json(evaluation, rows), indent=2, ensure_ascii=False, default=float))
    return [write_csv(place("models.csv"), table_headers(task), table_rows(task, rows)),
            write_csv(place("examples.csv"), EXAMPLE_HEADERS, plain), str(json_path)]
