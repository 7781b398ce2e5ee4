"""From records to the table people read: per model the task's metric over all examples with its 95 % bootstrap
interval, the other metrics of the task, RTFx, load time and peak memory. The records are de-duplicated per
(model, example) and put in the examples' natural order first, so the numbers (intervals included: the bootstrap
is seeded) are the same whether one process or many made them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.evaluate.metrics import bootstrap_interval, rate
from shared.evaluate.sources import ASR, CLASSIFY, DIARIZE, TTS, ZERO_SHOT
from shared.evaluate.store import EXAMPLE, MODEL, key_of

# the headline metric of each task (the scatter's y axis) and whether lower is better
METRIC = {ASR: ("wer", True), CLASSIFY: ("accuracy", False), ZERO_SHOT: ("accuracy", False),
          DIARIZE: ("der", True), TTS: ("wer", True)}
METRIC_TITLE = {"wer": "WER", "accuracy": "accuracy", "der": "DER"}


def natural_key(key: str) -> tuple:
    """`#2` before `#10`, `a2.wav` before `a10.wav`."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


def examples_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Example records, one per (model, example) (the first written wins), in natural example order."""
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record.get("kind") == EXAMPLE:
            unique.setdefault(key_of(record), record)
    return sorted(unique.values(), key=lambda record: natural_key(record["key"]))


def with_interval(name: str, top: list[float], bottom: list[float]) -> dict[str, float]:
    """`name`, `name_low`, `name_high`: the rate Σtop ÷ Σbottom and its 95 % bootstrap interval."""
    low, high = bootstrap_interval(top, bottom)
    return {name: rate(top, bottom), f"{name}_low": low, f"{name}_high": high}


def _text_metrics(done: list[dict[str, Any]]) -> dict[str, float]:
    return {**with_interval("wer", [r["word_errors"] for r in done], [r["words"] for r in done]),
            **with_interval("cer", [r["char_errors"] for r in done], [r["chars"] for r in done])}


def _label_metrics(done: list[dict[str, Any]]) -> dict[str, float]:
    ones = [1.0] * len(done)
    return {**with_interval("accuracy", [float(r["correct"]) for r in done], ones),
            **with_interval("top_k_accuracy", [float(r["correct_top_k"]) for r in done], ones)}


def _diarization_metrics(done: list[dict[str, Any]]) -> dict[str, float]:
    errors = [r["missed_s"] + r["false_alarm_s"] + r["confusion_s"] for r in done]
    speech = [r["reference_s"] for r in done]
    parts = {f"{name}_rate": rate([r[f"{name}_s"] for r in done], speech)
             for name in ("missed", "false_alarm", "confusion")}
    return {**with_interval("der", errors, speech), **parts}


def _tts_metrics(done: list[dict[str, Any]]) -> dict[str, float]:
    similarities = [r["similarity"] for r in done if r.get("similarity") is not None]
    voice = with_interval("similarity", similarities, [1.0] * len(similarities)) if similarities else {}
    rtf = rate([r["synthesis_s"] for r in done], [r["audio_s"] for r in done])
    return {**_text_metrics(done), **voice, "rtf": rtf}


TASK_METRICS: dict[str, Callable[[list[dict[str, Any]]], dict[str, float]]] = {
    ASR: _text_metrics, CLASSIFY: _label_metrics, ZERO_SHOT: _label_metrics, DIARIZE: _diarization_metrics,
    TTS: _tts_metrics}


def add_voice_similarity(examples: list[dict[str, Any]]) -> None:
    """TTS without a reference voice: each sentence's cosine similarity with its model's mean voiceprint (how
    steady the voice is from sentence to sentence), written into the records."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in examples:
        if record.get("voiceprint") is not None:
            by_model.setdefault(record["model"], []).append(record)
    for records in by_model.values():
        prints = np.array([record["voiceprint"] for record in records], float)
        centre = prints.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-8)
        for record, voiceprint in zip(records, prints, strict=True):
            record["similarity"] = round(float(voiceprint @ centre / max(np.linalg.norm(voiceprint), 1e-8)), 4)


def model_row(task: str, model: str, examples: list[dict[str, Any]], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's line of the table (rates as fractions, times in s, memory in MiB)."""
    done = [r for r in examples if r["model"] == model and not r.get("error")]
    failed = sum(1 for r in examples if r["model"] == model and r.get("error"))
    mine = [run for run in runs if run["model"] == model]
    audio_s, wall_s = sum(r["audio_s"] for r in done), sum(r["wall_s"] for r in done)
    # TTS: the speed of the voice itself (synthesis only, not the round trip through the recogniser)
    busy_s = sum(r["synthesis_s"] for r in done) if task == TTS else wall_s
    row: dict[str, Any] = {"model": model, "examples": len(done), "failed": failed, "audio_s": round(audio_s, 3),
                           "wall_s": round(wall_s, 3), "rtfx": audio_s / busy_s if busy_s else float("nan")}
    row.update(TASK_METRICS[task](done) if done else {})
    row.update({"load_s": max((run["load_s"] for run in mine), default=float("nan")),
                "peak_mb": max((run["peak_mb"] for run in mine), default=float("nan")),
                "memory": mine[0]["memory"] if mine else "", "device": mine[0]["device"] if mine else "",
                "processes": len({run["rank"] for run in mine})})
    return row


def summarize(task: str, models: list[str], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model, in the order asked (see `model_row`)."""
    examples = examples_of(records)
    if task == TTS:
        add_voice_similarity(examples)
    runs = [record for record in records if record.get("kind") == MODEL]
    return [model_row(task, model, examples, runs) for model in models]
