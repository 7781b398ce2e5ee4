"""Classify over many files: per file the tab's own `classify`, written as the tab's JSON download."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from shared.audio.intake import load_audio
from shared.classify.run import SAMPLE_RATE, ClassifyResult, classify
from shared.classify.views import CLASSIFY_COLUMNS, batch_item
from shared.models.loader import ModelLoader
from shared.models.registry import CLASSIFY, require_task
from shared.outputs.batch import run_batch
from shared.progress import Progress, no_progress


def classify_batch(paths: Sequence[str] | None, model_id: str, top_k: int = 5, window_s: float = 2.0,
                   hop_s: float = 1.0, *, loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Audio file paths in, the path of a zip out: per file the classification JSON (clip top-k and the windows
    over time, `window_s`/`hop_s` in seconds), plus summary.csv."""
    require_task(model_id, CLASSIFY)

    def process(path: str) -> ClassifyResult:
        return classify(load_audio(path, SAMPLE_RATE), model_id, window_s, hop_s, loader=loader)

    return run_batch(paths, process, partial(batch_item, k=int(top_k)), progress, tab="classify",
                     columns=CLASSIFY_COLUMNS)
