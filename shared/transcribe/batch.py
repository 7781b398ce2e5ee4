"""Transcribe over many files: per file the tab's own `transcribe`, written as the tab's downloads (SRT + JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.audio.intake import load_audio
from shared.models.loader import ModelLoader
from shared.models.registry import ASR, require_task
from shared.outputs.batch import ItemResult, json_text, run_batch
from shared.outputs.subtitles import Cue, to_srt
from shared.progress import Progress, no_progress
from shared.transcribe.run import SAMPLE_RATE, TranscribeOptions, Transcript, transcribe

TEXT_PREVIEW_CHARS = 200
TRANSCRIBE_COLUMNS = ("language", "segments", "text")


def batch_item(result: Transcript) -> ItemResult:
    """One file's outputs (`.srt`, `.json`) and its row of the summary."""
    srt = to_srt([Cue(segment.start, segment.end, segment.text) for segment in result.segments])
    text = result.text if len(result.text) <= TEXT_PREVIEW_CHARS else result.text[:TEXT_PREVIEW_CHARS] + "…"
    return ItemResult({".srt": srt, ".json": json_text(result.to_json())}, result.audio_s, result.compute_s,
                      result.load_s, result.device, result.dtype,
                      {"language": result.language or "", "segments": len(result.segments),
                       "text": text if not result.no_speech else "(no speech detected)"})


def transcribe_batch(paths: Sequence[str] | None, model_id: str, options: TranscribeOptions = TranscribeOptions(), *,
                     loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Audio file paths in, the path of a zip out: per file subtitles (`.srt`) and the transcript with its segments
    (`.json`), plus summary.csv."""
    require_task(model_id, ASR)

    def process(path: str) -> Transcript:
        return transcribe(load_audio(path, SAMPLE_RATE), model_id, options, loader=loader)

    return run_batch(paths, process, batch_item, progress, tab="transcribe", columns=TRANSCRIBE_COLUMNS)
