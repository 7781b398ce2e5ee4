"""Diarize over many files: per file the tab's own `diarize`, written as the tab's RTTM download."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared.audio.intake import load_audio
from shared.diarize import run as dz
from shared.models.loader import ModelLoader
from shared.models.registry import DIARIZE, require_task
from shared.outputs.batch import ItemResult, run_batch
from shared.progress import Progress, no_progress

DIARIZE_COLUMNS = ("speakers", "turns")


def batch_item(named: tuple[str, dz.Diarization]) -> ItemResult:
    """One file's turns as RTTM (its recording id is the file's stem) and its row of the summary."""
    stem, result = named
    return ItemResult({".rttm": dz.to_rttm(result.turns, uri=stem)}, result.audio_s, result.compute_s,
                      result.load_s, result.device, result.dtype,
                      {"speakers": len(result.speakers), "turns": len(result.turns)})


def diarize_batch(paths: Sequence[str] | None, model_id: str = dz.OFFLINE_DIARIZER, num_speakers: int | None = None,
                  min_speakers: int | None = None, max_speakers: int | None = None, *, token: str | None = None,
                  loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Audio file paths in, the path of a zip out: per file the speaker turns as RTTM, plus summary.csv."""
    require_task(model_id, DIARIZE)
    dz.speaker_counts(num_speakers, min_speakers, max_speakers)  # a bad count fails the batch once, not per file

    def process(path: str) -> tuple[str, dz.Diarization]:
        clip = load_audio(path, dz.SAMPLE_RATE, max_duration_s=dz.max_duration_s())
        result = dz.diarize(clip, model_id, num_speakers, min_speakers, max_speakers, token=token, loader=loader)
        return Path(path).stem, result

    return run_batch(paths, process, batch_item, progress, tab="diarize", columns=DIARIZE_COLUMNS)
