"""Speaker diarization, engine-agnostic: who spoke when in a 16 kHz clip, by a pyannote.audio pipeline, the
built-in offline diarizer (shared/diarize/offline.py) or the end-to-end Nemotron model (shared/diarize/nemotron.py),
as a `Diarization` (turns in seconds, timings, what the run
recorded for "Inside the model"). Also the checks on the request (duration, speaker counts) and one speaker's audio
cut from the turns. Gated pyannote access is in access.py; turns' JSON/RTTM forms in rttm.py. No Gradio here."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared import config
from shared.audio.intake import AudioClip
from shared.diarize.access import OFFLINE_DIARIZER, ensure_downloaded
from shared.diarize.capture import DiarizationInternals, FrameActivity, PyannoteCapture, speaker_request
from shared.diarize.rttm import Turn, turns_to_json
from shared.errors import UserError
from shared.inside import architecture_card
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import DIARIZE, require_task
from shared.models.vad import VAD_MODEL_ID
from shared.progress import Progress, RealTimeFactor, Stopwatch, no_progress

config.keep_pyannote_quiet()

SAMPLE_RATE = 16_000
NEMOTRON_ENGINE = "nemotron-diarization"
MAX_SPEAKERS = 20
OFFLINE_CARD_NOTE = ("  \n*Counted:* Resemblyzer's encoder only; segmentation-3.0 runs as ONNX (about 1.5 M weights) "
                     "and Silero VAD as a separate model.")
_PIPELINE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()

SpeakerCounts = tuple[int | None, int | None, int | None]
"""(exact, minimum, maximum) number of speakers; None = not given."""
Internals = DiarizationInternals | FrameActivity
Span = tuple[float, float]
EngineRun = tuple[list[Turn], Internals | None, float, list[Span]]
"""What an engine's pass gives `diarize`: the turns, what it recorded, its compute time in seconds, and the speech
regions its voice activity detector found (start s, end s; [] for engines without one)."""


@dataclass
class Diarization(RealTimeFactor):
    turns: list[Turn]
    model_id: str
    engine: str
    device: str
    dtype: str
    audio_s: float
    compute_s: float  # seconds, speech detection included for the built-in diarizer
    load_s: float
    internals: Internals | None = None  # what the run computed on the way ("Inside the model")
    card: str = ""  # the model family's architecture card with the loaded model's parameter count
    note: str = ""  # why the number of speakers differs from the one asked for ("" = it does not)
    naming: list[dict[str, Any]] = field(default_factory=list)  # enrolled names put on speakers (known_speakers.py)
    speech: list[Span] = field(default_factory=list)  # (start s, end s) speech regions of the engine's VAD, if any

    @classmethod
    def from_turns(cls, turns: list[Turn], audio_s: float) -> Diarization:
        """Turns computed earlier (e.g. the /diarize output passed back in)."""
        return cls(turns, "given turns", "none", "-", "-", audio_s, 0.0, 0.0)

    @property
    def speakers(self) -> list[str]:
        """Labels in order of first appearance."""
        return list(dict.fromkeys(turn.speaker for turn in sorted(self.turns)))

    def speaker_seconds(self) -> dict[str, float]:
        """Seconds of speech per speaker (overlapping turns of one speaker count twice), in order of appearance."""
        totals = dict.fromkeys(self.speakers, 0.0)
        for turn in self.turns:
            totals[turn.speaker] += turn.duration
        return totals

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model_id, "engine": self.engine, "device": self.device, "dtype": self.dtype,
                "audio_s": round(self.audio_s, 3), "compute_s": round(self.compute_s, 3),
                "load_s": round(self.load_s, 3), "real_time_factor": round(self.real_time_factor, 4),
                "speakers": {name: round(seconds, 3) for name, seconds in self.speaker_seconds().items()},
                "turns": turns_to_json(self.turns),
                **({"note": self.note} if self.note else {}),
                **({"known_speakers": self.naming} if self.naming else {})}


def pyannote_sample() -> tuple[str, str] | None:
    """pyannote.audio's own example (30 s, two speakers, telephone) and its reference RTTM, when installed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "sample"
    wav, rttm = folder / "sample.wav", folder / "sample.rttm"
    return (str(wav), str(rttm)) if wav.is_file() and rttm.is_file() else None


def max_duration_s() -> float:
    """Longest audio the Diarize tab accepts in seconds (ADS_DIARIZE_MAX_S, default 30 minutes)."""
    return config.current().diarize_max_s


def clock(seconds: float) -> str:
    """Seconds as a clock for people: "02:05.3", or "1:02:05.3" from an hour on."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes:02d}:{secs:04.1f}"


def speaker_counts(num_speakers: int | None, min_speakers: int | None,
                   max_speakers: int | None) -> SpeakerCounts:
    """The requested numbers of speakers checked (whole, 1..MAX_SPEAKERS; empty or 0 = automatic) and made
    consistent: (exact, None, None) when an exact number is given, else (None, min, max). Raises UserError."""
    exact, low, high = (_count(num_speakers, "Number of speakers"), _count(min_speakers, "Minimum speakers"),
                        _count(max_speakers, "Maximum speakers"))
    if low is not None and high is not None and low > high:
        raise UserError(f"Minimum speakers ({low}) is more than maximum speakers ({high}).")
    if exact is not None and ((low is not None and exact < low) or (high is not None and exact > high)):
        raise UserError(f"The exact number of speakers ({exact}) is outside the min/max range you gave.")
    if exact is not None:
        return exact, None, None
    return None, low, high


def _count(value: Any, name: str) -> int | None:
    if value in (None, "", 0):
        return None
    if float(value) != int(float(value)) or not 1 <= int(float(value)) <= MAX_SPEAKERS:
        raise UserError(f"{name} must be a whole number between 1 and {MAX_SPEAKERS} (or empty for automatic).")
    return int(float(value))


def diarize(clip: AudioClip, model_id: str = OFFLINE_DIARIZER, num_speakers: int | None = None,
            min_speakers: int | None = None, max_speakers: int | None = None, *, token: str | None = None,
            loader: ModelLoader | None = None, progress: Progress = no_progress,
            hook: Callable[[str, Any], None] | None = None) -> Diarization:
    """Who spoke when in a 16 kHz mono clip (at most `max_duration_s()` seconds): turns with start/end in seconds,
    labelled SPEAKER_00, SPEAKER_01… in order of appearance, plus compute and load times in seconds. The speaker
    numbers are optional (see `speaker_counts`); `token` is a Hugging Face token for this request only (gated
    pyannote pipelines). `hook(step_name, artifact)` hears of the built-in diarizer's steps as they finish (see
    `OfflineDiarizer.run`); the other engines do not call it."""
    spec = require_task(model_id, DIARIZE)
    _check_clip(clip)
    counts = speaker_counts(num_speakers, min_speakers, max_speakers)
    loader = loader or get_loader()
    if spec.engine == "pyannote":
        progress(0.01, f"Checking access to {spec.id}")
        ensure_downloaded(model_id, token)
    progress(0.03, f"Loading {model_id}")
    with Stopwatch() as load:
        entry = loader.entry(model_id)
    offline, end_to_end = spec.engine == "offline-diarizer", spec.engine == NEMOTRON_ENGINE
    run_engine = functools.partial(_run_offline, hook=hook) if offline else \
        _run_nemotron if end_to_end else _run_pyannote
    turns, internals, compute_s, speech = run_engine(model_id, clip, counts, loader, progress)
    device = entry.model.device if offline or end_to_end else entry.placement.device
    dtype = entry.placement.dtype if end_to_end else "float32"  # pyannote and the built-in one compute in float32
    card = architecture_card(spec.family, entry.model, spec.id) + (OFFLINE_CARD_NOTE if offline else "")
    note = getattr(internals, "note", "") or ""  # built-in and Nemotron: why the count differs from the request
    return Diarization(turns, model_id, spec.engine, device, dtype, clip.duration_s, compute_s, load.seconds,
                       internals, card, note, speech=speech)


def _check_clip(clip: AudioClip) -> None:
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("diarize() expects 16 kHz audio: load it with load_audio(path, 16_000)")
    limit = max_duration_s()
    if clip.duration_s > limit:
        raise UserError(f"The audio is {clock(clip.duration_s)} long; diarization accepts up to {clock(limit)} "
                        "(ADS_DIARIZE_MAX_S). Trim it and try again.")


def _run_offline(model_id: str, clip: AudioClip, counts: SpeakerCounts, loader: ModelLoader,
                 progress: Progress, hook: Callable[[str, Any], None] | None = None) -> EngineRun:
    """Silero VAD, then the built-in diarizer; timed together."""
    exact, low, high = counts
    with Stopwatch() as compute:
        with loader.use(VAD_MODEL_ID) as vad:
            progress(0.05, "Finding speech (Silero VAD)")
            speech = vad.speech_segments(clip.samples)
        with loader.use(model_id) as diarizer:
            raw, internals = diarizer.run(clip.samples, num_speakers=exact, min_speakers=low, max_speakers=high,
                                          speech=speech, hook=hook,
                                          progress=lambda fraction, desc: progress(0.05 + 0.95 * fraction, desc))
    spans = [(float(start_s), float(end_s)) for start_s, end_s in speech]
    return [Turn(start_s, end_s, speaker) for start_s, end_s, speaker in raw], internals, compute.seconds, spans


def _run_nemotron(model_id: str, clip: AudioClip, counts: SpeakerCounts, loader: ModelLoader,
                  progress: Progress) -> EngineRun:
    """One forward of the end-to-end model over the whole clip (it chunks and links speakers itself)."""
    exact, low, high = counts
    with loader.use(model_id) as diarizer, Stopwatch() as compute:
        raw, activity = diarizer.run(clip.samples, num_speakers=exact, min_speakers=low, max_speakers=high,
                                     progress=lambda fraction, desc: progress(0.05 + 0.93 * fraction, desc))
    return [Turn(start_s, end_s, speaker) for start_s, end_s, speaker in raw], activity, compute.seconds, []


def _run_pyannote(model_id: str, clip: AudioClip, counts: SpeakerCounts, loader: ModelLoader,
                  progress: Progress) -> EngineRun:
    """One pipeline call under the pipeline's lock (one run at a time per pipeline); waiting for it is not timed."""
    with loader.use(model_id) as pipeline, _lock_for(model_id), Stopwatch() as compute:
        turns, internals = _pyannote_pass(pipeline, clip, counts, progress)
    return turns, internals, compute.seconds, []


def _lock_for(model_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _PIPELINE_LOCKS.setdefault(model_id, threading.Lock())


_HOOK_STEPS = {"segmentation": (0.05, 0.35), "speaker_counting": (0.35, 0.4), "embeddings": (0.4, 0.9),
               "discrete_diarization": (0.9, 0.98)}


def _pyannote_hook(progress: Progress) -> Callable[..., None]:
    """pyannote calls hook(step_name, artifact, file=..., total=..., completed=...) along its steps."""

    def hook(step_name: str, artifact: Any, file: Any = None, total: int | None = None,
             completed: int | None = None) -> None:
        low, high = _HOOK_STEPS.get(step_name, (0.9, 0.98))
        fraction = high if not total or completed is None else low + (high - low) * min(1.0, completed / total)
        progress(fraction, f"pyannote: {step_name.replace('_', ' ')}")

    return hook


def _pyannote_pass(pipeline: Any, clip: AudioClip, counts: SpeakerCounts,
                   progress: Progress) -> tuple[list[Turn], DiarizationInternals | None]:
    """Turns, and the run's intermediate results recorded on the way (same single pass; call under the lock)."""
    import torch

    waveform = torch.from_numpy(np.ascontiguousarray(clip.samples))[None]
    names = ("num_speakers", "min_speakers", "max_speakers")
    kwargs = {name: value for name, value in zip(names, counts, strict=True) if value is not None}
    show_progress = _pyannote_hook(progress)

    def hook(step_name: str, artifact: Any, file: Any = None, total: int | None = None,
             completed: int | None = None) -> None:
        capture.hook(step_name, artifact, completed=completed)
        show_progress(step_name, artifact, file=file, total=total, completed=completed)

    with torch.inference_mode(), PyannoteCapture(pipeline) as capture:
        output = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, hook=hook, **kwargs)
    annotation = getattr(output, "speaker_diarization", output)  # pyannote.audio 4: DiarizeOutput; 3: Annotation
    return annotation_to_turns(annotation, clip.duration_s), capture.internals(speaker_request(*counts))


def annotation_to_turns(annotation: Any, duration_s: float) -> list[Turn]:
    """pyannote Annotation → turns cropped to the file (pyannote pads files shorter than its 10 s window);
    `duration_s` in seconds."""
    turns = []
    for segment, _, label in annotation.itertracks(yield_label=True):
        start, end = max(0.0, float(segment.start)), min(float(segment.end), duration_s)
        if end - start > 1e-3:
            turns.append(Turn(round(start, 3), round(end, 3), str(label)))
    return sorted(turns)


def speaker_audio(samples: np.ndarray, sample_rate: int, turns: list[Turn], speaker: str,
                  gap_s: float = 0.3) -> np.ndarray:
    """That speaker's turns back to back (overlapping turns merged), with `gap_s` seconds of silence between them:
    float32 samples at `sample_rate` Hz. Raises UserError when the speaker has no turns."""
    spans = _merged_spans([turn for turn in turns if turn.speaker == speaker])
    if not spans:
        raise UserError(f"No turns for speaker {speaker!r}: run the diarization first and pick one of its speakers.")
    gap = np.zeros(int(gap_s * sample_rate), dtype=np.float32)
    pieces = []
    for start, end in spans:
        pieces += [samples[int(start * sample_rate):int(end * sample_rate)], gap]
    return np.concatenate(pieces[:-1]).astype(np.float32, copy=False)


def _merged_spans(turns: list[Turn]) -> list[list[float]]:
    """[start, end] seconds of the turns, overlapping ones merged, in time order."""
    spans: list[list[float]] = []
    for turn in sorted(turns, key=lambda t: t.start):
        if spans and turn.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], turn.end)
        else:
            spans.append([turn.start, turn.end])
    return spans
