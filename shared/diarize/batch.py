"""Diarize over many files: per file the tab's own `diarize`, written as the tab's RTTM download (views.batch_item),
all in one zip with summary.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared.audio.intake import load_audio
from shared.diarize.access import OFFLINE_DIARIZER
from shared.diarize.run import SAMPLE_RATE, Diarization, diarize, max_duration_s, speaker_counts
from shared.diarize.views import DIARIZE_COLUMNS, batch_item
from shared.models.loader import ModelLoader
from shared.models.registry import DIARIZE, require_task
from shared.outputs.batch import run_batch
from shared.progress import Progress, no_progress


def diarize_batch(paths: Sequence[str] | None, model_id: str = OFFLINE_DIARIZER, num_speakers: int | None = None,
                  min_speakers: int | None = None, max_speakers: int | None = None, *, token: str | None = None,
                  loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Audio file paths in, the path of a zip out: per file the speaker turns as RTTM, plus summary.csv."""
    require_task(model_id, DIARIZE)
    speaker_counts(num_speakers, min_speakers, max_speakers)  # a bad count fails the batch once, not per file

    def process(path: str) -> tuple[str, Diarization]:
        clip = load_audio(path, SAMPLE_RATE, max_duration_s=max_duration_s())
        result = diarize(clip, model_id, num_speakers, min_speakers, max_speakers, token=token, loader=loader)
        return Path(path).stem, result

    return run_batch(paths, process, batch_item, progress, tab="diarize", columns=DIARIZE_COLUMNS)
