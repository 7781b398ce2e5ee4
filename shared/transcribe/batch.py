"""Transcribe over many files: per file the tab's own `transcribe`, written as the tab's downloads (SRT + JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.audio.intake import load_audio
from shared.models.loader import ModelLoader
from shared.models.registry import ASR, require_task
from shared.outputs.batch import run_batch
from shared.progress import Progress, no_progress
from shared.transcribe.run import SAMPLE_RATE, TranscribeOptions, Transcript, transcribe
from shared.transcribe.views import TRANSCRIBE_COLUMNS, batch_item


def transcribe_batch(paths: Sequence[str] | None, model_id: str, options: TranscribeOptions = TranscribeOptions(), *,
                     loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Audio file paths in, the path of a zip out: per file subtitles (`.srt`) and the transcript with its segments
    (`.json`), plus summary.csv."""
    require_task(model_id, ASR)

    def process(path: str) -> Transcript:
        return transcribe(load_audio(path, SAMPLE_RATE), model_id, options, loader=loader)

    return run_batch(paths, process, batch_item, progress, tab="transcribe", columns=TRANSCRIBE_COLUMNS)
