"""The numbers of an evaluation: word/character errors of one example (jiwer, on text normalised as the tabs
do), corpus rates (errors summed over examples ÷ reference words summed, as the Open ASR Leaderboard computes WER),
percentile bootstrap confidence intervals over examples, and the confusion matrix of a classifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.outputs.text_metrics import AUTO, normalized_pair

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0  # fixed: the same records give the same interval, in one process or many
CONFIDENCE = 0.95
OTHER = "(other)"  # the confusion matrix's column for predictions outside the reference classes
MAX_CONFUSION_CLASSES = 20


@dataclass(frozen=True)
class TextErrors:
    """Edit operations between a normalised reference and hypothesis: word errors (substitutions + deletions +
    insertions) of `words` reference words, and the same over characters."""
    errors: int
    words: int
    char_errors: int
    chars: int
    reference: str  # normalised
    hypothesis: str  # normalised


def text_errors(reference: str, hypothesis: str, normalise: str = AUTO, language: str | None = None) -> TextErrors:
    """Word and character errors of `hypothesis` against `reference`, both normalised alike first: `normalise`
    ("auto": as the single-clip tabs, from `language` and the reference; see shared/outputs/text_metrics.py)."""
    import jiwer

    ref, hyp = normalized_pair(reference, hypothesis, normalise, language)
    words = jiwer.process_words(ref, hyp)
    chars = jiwer.process_characters(ref, hyp)
    return TextErrors(words.substitutions + words.deletions + words.insertions, len(ref.split()),
                      chars.substitutions + chars.deletions + chars.insertions, len(ref), ref, hyp)


def rate(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Σ numerators ÷ Σ denominators (e.g. word errors ÷ reference words); NaN when nothing was counted."""
    total = float(np.sum(denominators))
    if total > 0:
        return float(np.sum(numerators)) / total
    return float("nan") if not len(numerators) else float(np.sum(numerators) > 0)


def bootstrap_interval(numerators: Sequence[float], denominators: Sequence[float],
                       resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of `rate` over examples: resample the examples with replacement `resamples`
    times (seeded), take the rate of each resample, and cut `(1 - confidence) / 2` off each tail."""
    top, bottom = np.asarray(numerators, float), np.asarray(denominators, float)
    if len(top) == 0:
        return float("nan"), float("nan")
    picks = np.random.default_rng(seed).integers(0, len(top), size=(resamples, len(top)))
    sums = bottom[picks].sum(axis=1)
    rates = np.where(sums > 0, top[picks].sum(axis=1) / np.where(sums > 0, sums, 1), top[picks].sum(axis=1) > 0)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)


def same_label(first: str, second: str) -> bool:
    """Labels compare case-insensitively, spaces trimmed."""
    return first.strip().casefold() == second.strip().casefold()


def confusion_matrix(references: Sequence[str], predictions: Sequence[str]) -> tuple[list[str], np.ndarray] | None:
    """Rows: reference classes (sorted), columns: the same classes then OTHER for predictions outside them;
    counts of examples. None when there are more than MAX_CONFUSION_CLASSES classes (unreadable)."""
    spelled: dict[str, str] = {}
    for name in references:
        spelled.setdefault(name.strip().casefold(), name.strip())  # the first spelling names the class
    classes = sorted(spelled.values(), key=str.casefold)
    if not classes or len(classes) > MAX_CONFUSION_CLASSES:
        return None
    column = {name.casefold(): index for index, name in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes) + 1), int)
    for reference, predicted in zip(references, predictions, strict=True):
        matrix[column[reference.strip().casefold()], column.get(predicted.strip().casefold(), len(classes))] += 1
    return classes, matrix
