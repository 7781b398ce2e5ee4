"""The batch versions of Transcribe, Classify and Diarize: per file, the tab's own pure function, serialised the way
the tab's downloads are (SRT + JSON, classification JSON, RTTM). No Gradio here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import diarize as dz
from shared.audio import load_audio
from shared.batch import ItemResult, Progress, no_progress, run_batch
from shared.classify import SAMPLE_RATE as CLASSIFY_RATE
from shared.classify import ClassifyResult, classify
from shared.errors import UserError
from shared.gpu import audio_seconds
from shared.loader import ModelLoader
from shared.registry import ASR, CLASSIFY, DIARIZE, get_spec
from shared.subtitles import Cue, to_srt
from shared.transcribe import SAMPLE_RATE as ASR_RATE
from shared.transcribe import TranscribeOptions, Transcript, transcribe

TEXT_PREVIEW_CHARS = 200
TRANSCRIBE_COLUMNS = ("language", "segments", "text")
CLASSIFY_COLUMNS = ("top_label", "top_score", "top_k")
DIARIZE_COLUMNS = ("speakers", "turns")


def estimate_batch(files: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> float:
    """GPU seconds for a batch: one warm-up, then a share of every file's length."""
    return 20 + 0.25 * sum(audio_seconds(path) for path in files or [])


def _check_task(model_id: str, task: str, what: str) -> None:
    if get_spec(model_id).task != task:
        raise UserError(f"{model_id} is not {what} model.")


def _json(payload: Any) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, default=float)


def transcribe_batch(paths: Sequence[str] | None, model_id: str, options: TranscribeOptions = TranscribeOptions(), *,
                     loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Per file: subtitles (`.srt`) and the transcript with its segments (`.json`)."""
    _check_task(model_id, ASR, "a speech-recognition")

    def process(path: str) -> Transcript:
        return transcribe(load_audio(path, ASR_RATE), model_id, options, loader=loader)

    def summarize(result: Transcript) -> ItemResult:
        srt = to_srt([Cue(segment.start, segment.end, segment.text) for segment in result.segments])
        text = result.text if len(result.text) <= TEXT_PREVIEW_CHARS else result.text[:TEXT_PREVIEW_CHARS] + "…"
        return ItemResult({".srt": srt, ".json": _json(result.to_json())}, result.audio_s, result.compute_s,
                          result.load_s, result.device, result.dtype,
                          {"language": result.language or "", "segments": len(result.segments),
                           "text": text if not result.no_speech else "(no speech detected)"})

    return run_batch(paths, process, summarize, progress, tab="transcribe", columns=TRANSCRIBE_COLUMNS)


def classify_batch(paths: Sequence[str] | None, model_id: str, top_k: int = 5, window_s: float = 2.0,
                   hop_s: float = 1.0, *, loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Per file: the classification JSON (clip top-k and the windows over time), as the Classify tab writes it."""
    _check_task(model_id, CLASSIFY, "an audio-classification")
    k = int(top_k)

    def process(path: str) -> ClassifyResult:
        return classify(load_audio(path, CLASSIFY_RATE), model_id, window_s, hop_s, loader=loader)

    def summarize(result: ClassifyResult) -> ItemResult:
        best = result.top_k(k)
        return ItemResult({".json": _json(result.to_json(k))}, result.audio_s, result.compute_s, result.load_s,
                          result.device, result.dtype,
                          {"top_label": best[0][0] if best else "(silent)", "top_score": best[0][1] if best else "",
                           "top_k": "; ".join(f"{label} {score:.3f}" for label, score in best)})

    return run_batch(paths, process, summarize, progress, tab="classify", columns=CLASSIFY_COLUMNS)


def diarize_batch(paths: Sequence[str] | None, model_id: str = dz.OFFLINE_DIARIZER, num_speakers: int | None = None,
                  min_speakers: int | None = None, max_speakers: int | None = None, *, token: str | None = None,
                  loader: ModelLoader | None = None, progress: Progress = no_progress) -> str:
    """Per file: the speaker turns as RTTM (its recording id is the file's stem)."""
    _check_task(model_id, DIARIZE, "a speaker-diarization")
    dz._speaker_counts(num_speakers, min_speakers, max_speakers)  # a bad count fails the batch once, not per file

    def process(path: str) -> tuple[str, dz.Diarization]:
        clip = load_audio(path, dz.SAMPLE_RATE, max_duration_s=dz.max_duration_s())
        result = dz.diarize(clip, model_id, num_speakers, min_speakers, max_speakers, token=token, loader=loader)
        return Path(path).stem, result

    def summarize(named: tuple[str, dz.Diarization]) -> ItemResult:
        stem, result = named
        return ItemResult({".rttm": dz.to_rttm(result.turns, uri=stem)}, result.audio_s, result.compute_s,
                          result.load_s, result.device, result.dtype,
                          {"speakers": len(result.speakers), "turns": len(result.turns)})

    return run_batch(paths, process, summarize, progress, tab="diarize", columns=DIARIZE_COLUMNS)
