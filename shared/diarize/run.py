"""Speaker diarization, engine-agnostic: pyannote.audio pipelines or the built-in offline diarizer → speaker turns.
Also RTTM/JSON, evaluation against a reference (DER via pyannote.metrics), who-said-what (ASR words merged with the
turns) and one speaker's audio. No Gradio here.

Gated pyannote models and tokens: a token (the request's, else HF_TOKEN) is needed only to *download* the gated
files. `ensure_downloaded` checks access and fetches them into the Hugging Face disk cache with the token; the shared
loader then loads the pipeline from disk under its plain registry id (huggingface_hub serves cached files even when
the hub answers 401 to an anonymous request). So a per-request token never reaches the loader, its cache key, a log
line, an error message or an output, and the pipeline is loaded once for everyone, as with a Space-wide HF_TOKEN.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared import config
from shared.audio.intake import AudioClip
from shared.diarize.inside import DiarizationInternals, PyannoteCapture, speaker_request
from shared.errors import ModelUnavailableError, UserError
from shared.inside import architecture_card
from shared.models.availability import hub_reachable, is_cached, offline_mode
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import DIARIZE, get_spec
from shared.models.vad import VAD_MODEL_ID
from shared.outputs.subtitles import Cue, to_srt
from shared.transcribe.run import TranscribeOptions, Word, transcribe

config.keep_pyannote_quiet()

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_SPEAKERS = 20
OFFLINE_DIARIZER = "offline:diarizer"
OFFLINE_ASR = "offline:whisper-tiny.en"
COLLAR_S = 0.25
TOKEN_URL = "https://huggingface.co/settings/tokens"
COMMUNITY_REPO = "pyannote/speaker-diarization-community-1"
# every gated repo a pipeline reads: pyannote.audio 4 loads community-1's PLDA even for 3.1
REQUIRED_REPOS: dict[str, tuple[str, ...]] = {
    COMMUNITY_REPO: (COMMUNITY_REPO,),
    "pyannote/speaker-diarization-3.1": ("pyannote/speaker-diarization-3.1", "pyannote/segmentation-3.0",
                                         "pyannote/wespeaker-voxceleb-resnet34-LM", COMMUNITY_REPO),
}
_DOWNLOAD_PATTERNS = ["*.yaml", "*.bin", "*.npz"]
_PIPELINE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, desc: str) -> None:
    pass


def default_diarizer() -> str:
    """community-1 when it is downloaded, or the hub is reachable and HF_TOKEN set; otherwise the built-in one."""
    if is_cached(COMMUNITY_REPO) or (hub_reachable() and config.hf_token()):
        return COMMUNITY_REPO
    return OFFLINE_DIARIZER


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


# ---- turns, JSON, RTTM -------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Turn:  # ordered by start, end, speaker
    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": self.speaker}


@dataclass
class Diarization:
    turns: list[Turn]
    model_id: str
    engine: str
    device: str
    dtype: str
    audio_s: float
    compute_s: float
    load_s: float
    internals: DiarizationInternals | None = None  # what the run computed on the way ("Inside the model")
    card: str = ""  # the model family's architecture card with the loaded model's parameter count

    @classmethod
    def from_turns(cls, turns: list[Turn], audio_s: float) -> Diarization:
        """Turns computed earlier (e.g. the /diarize output passed back in)."""
        return cls(turns, "given turns", "none", "-", "-", audio_s, 0.0, 0.0)

    @property
    def speakers(self) -> list[str]:
        """Labels in order of first appearance."""
        return list(dict.fromkeys(turn.speaker for turn in sorted(self.turns)))

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.audio_s if self.audio_s else 0.0

    def speaker_seconds(self) -> dict[str, float]:
        totals = dict.fromkeys(self.speakers, 0.0)
        for turn in self.turns:
            totals[turn.speaker] += turn.duration
        return totals

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model_id, "engine": self.engine, "device": self.device, "dtype": self.dtype,
                "audio_s": round(self.audio_s, 3), "compute_s": round(self.compute_s, 3),
                "load_s": round(self.load_s, 3), "real_time_factor": round(self.real_time_factor, 4),
                "speakers": {name: round(seconds, 3) for name, seconds in self.speaker_seconds().items()},
                "turns": turns_to_json(self.turns)}


def turns_to_json(turns: list[Turn]) -> list[dict[str, Any]]:
    return [turn.to_json() for turn in turns]


def turns_from_json(items: Any) -> list[Turn]:
    """Turns from a list of {"start", "end", "speaker"} (the /diarize output); raises UserError when malformed."""
    if isinstance(items, dict) and "turns" in items:
        items = items["turns"]
    if not isinstance(items, list):
        raise UserError("Turns must be a JSON list of {\"start\": s, \"end\": s, \"speaker\": label}.")
    turns = []
    for index, item in enumerate(items):
        try:
            turn = Turn(float(item["start"]), float(item["end"]), str(item["speaker"]))
        except (KeyError, TypeError, ValueError):
            raise UserError(f"Turn {index + 1} needs numeric start/end and a speaker label.") from None
        if not (np.isfinite(turn.start) and np.isfinite(turn.end)) or turn.end < turn.start or turn.start < 0:
            raise UserError(f"Turn {index + 1} has an invalid time span ({turn.start}–{turn.end}).")
        turns.append(turn)
    return sorted(turns)


def to_rttm(turns: list[Turn], uri: str = "audio") -> str:
    """NIST RTTM: one SPEAKER line per turn (names cannot contain spaces in RTTM, so spaces become '_')."""
    uri = "_".join(uri.split()) or "audio"
    lines = [f"SPEAKER {uri} 1 {turn.start:.3f} {turn.duration:.3f} <NA> <NA> {'_'.join(turn.speaker.split())} "
             "<NA> <NA>" for turn in sorted(turns)]
    return "\n".join(lines) + ("\n" if lines else "")


def parse_rttm(text: str) -> list[Turn]:
    """SPEAKER lines of an RTTM file (one recording) → turns; comments and other line types are skipped."""
    turns = []
    uris = set()
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith(";") or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise UserError(f"RTTM line {number} has {len(fields)} fields; a SPEAKER line needs at least 8.")
        try:
            start, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise UserError(f"RTTM line {number}: onset and duration must be numbers.") from None
        if not (np.isfinite(start) and np.isfinite(duration)) or start < 0 or duration < 0:
            raise UserError(f"RTTM line {number}: onset and duration must be non-negative.")
        uris.add(fields[1])
        turns.append(Turn(round(start, 3), round(start + duration, 3), fields[7]))
    if len(uris) > 1:
        raise UserError(f"The RTTM describes {len(uris)} recordings ({', '.join(sorted(uris)[:3])}…); upload the "
                        "lines of one recording.")
    if not turns:
        raise UserError("The RTTM file has no SPEAKER lines.")
    return sorted(turns)


# ---- access to gated pyannote models ------------------------------------------------------------------------------
def _gated_url(repo: str) -> str:
    return f"https://huggingface.co/{repo}"


def ensure_downloaded(model_id: str, token: str | None = None) -> None:
    """Make sure a pyannote pipeline's files are in the local cache, or raise a message saying what to do.

    `token` is the request's own token (else HF_TOKEN is used); it is only sent to the hub, never kept or shown.
    """
    spec = get_spec(model_id)
    if spec.engine != "pyannote" or is_cached(model_id):
        return
    repos = REQUIRED_REPOS.get(spec.id, (spec.id,))
    if offline_mode() or not hub_reachable():
        raise ModelUnavailableError(
            f"{spec.id} is not downloaded and the Hugging Face hub is unreachable. Connect this machine to the "
            f"internet once (with a token that has access) so the pipeline is downloaded, or choose the built-in "
            f"diarizer ({OFFLINE_DIARIZER}), which needs neither.")
    token = (token or "").strip() or config.hf_token()
    conditions = " and ".join(_gated_url(repo) for repo in repos if repo != "pyannote/wespeaker-voxceleb-resnet34-LM")
    if token is None:
        raise ModelUnavailableError(
            f"{spec.id} is gated and no Hugging Face token was given. (1) While logged in, accept the conditions at "
            f"{conditions}; (2) create a read token at {TOKEN_URL}; (3) set it as the HF_TOKEN environment variable "
            "(a Space secret) or paste it into the token field, which is used for this request only.")
    _check_token(spec.id, repos, token)
    from huggingface_hub import snapshot_download

    try:
        for repo in repos:
            patterns = ["plda/*"] if repo == COMMUNITY_REPO and spec.id != COMMUNITY_REPO else _DOWNLOAD_PATTERNS
            snapshot_download(repo, token=token, allow_patterns=patterns)
    except Exception as exc:
        log.warning("downloading %s failed: %s", spec.id, type(exc).__name__)  # never the message: it may echo
        raise ModelUnavailableError(f"Downloading {spec.id} failed ({type(exc).__name__}); check the connection "
                                    "and try again.") from None


def _check_token(model_id: str, repos: tuple[str, ...], token: str) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    api = HfApi()
    lacking = []
    for repo in repos:
        try:
            api.auth_check(repo, token=token)
        except GatedRepoError:
            lacking.append(repo)
        except RepositoryNotFoundError:
            raise ModelUnavailableError(
                f"The Hugging Face token was rejected for {repo} (invalid, expired or without read access). Create "
                f"a read token at {TOKEN_URL} and accept the conditions at {_gated_url(repo)}.") from None
        except HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                raise ModelUnavailableError(
                    f"The Hugging Face token was rejected (HTTP {status}): it is invalid or expired. Create a read "
                    f"token at {TOKEN_URL}.") from None
            raise ModelUnavailableError(f"The Hugging Face hub did not answer the access check for {repo} "
                                        f"(HTTP {status}); try again later.") from None
        except Exception as exc:
            log.warning("access check for %s failed: %s", repo, type(exc).__name__)
            raise ModelUnavailableError(f"Could not reach the Hugging Face hub to check access to {repo} "
                                        f"({type(exc).__name__}); try again later.") from None
    if lacking:
        pages = " and ".join(_gated_url(repo) for repo in lacking)
        raise ModelUnavailableError(
            f"Your Hugging Face token does not have access to {', '.join(lacking)}: while logged in as the token's "
            f"owner, accept the conditions at {pages}, then try again (access is usually granted at once).")


# ---- diarization --------------------------------------------------------------------------------------------------
def speaker_counts(num_speakers: int | None, min_speakers: int | None,
                    max_speakers: int | None) -> tuple[int | None, int | None, int | None]:
    def clean(value: Any, name: str) -> int | None:
        if value in (None, "", 0):
            return None
        if float(value) != int(float(value)) or not 1 <= int(float(value)) <= MAX_SPEAKERS:
            raise UserError(f"{name} must be a whole number between 1 and {MAX_SPEAKERS} (or empty for automatic).")
        return int(float(value))

    exact, low, high = (clean(num_speakers, "Number of speakers"), clean(min_speakers, "Minimum speakers"),
                        clean(max_speakers, "Maximum speakers"))
    if low is not None and high is not None and low > high:
        raise UserError(f"Minimum speakers ({low}) is more than maximum speakers ({high}).")
    if exact is not None and ((low is not None and exact < low) or (high is not None and exact > high)):
        raise UserError(f"The exact number of speakers ({exact}) is outside the min/max range you gave.")
    if exact is not None:
        return exact, None, None
    return None, low, high


def _lock_for(model_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _PIPELINE_LOCKS.setdefault(model_id, threading.Lock())


def diarize(clip: AudioClip, model_id: str = OFFLINE_DIARIZER, num_speakers: int | None = None,
            min_speakers: int | None = None, max_speakers: int | None = None, *, token: str | None = None,
            loader: ModelLoader | None = None, progress: Progress = _no_progress) -> Diarization:
    """Who spoke when in a 16 kHz clip. `token` (optional) is a Hugging Face token for this request only."""
    spec = get_spec(model_id)
    if spec.task != DIARIZE:
        raise UserError(f"{model_id} is not a speaker-diarization model.")
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("diarize() expects 16 kHz audio: load it with load_audio(path, 16_000)")
    limit = max_duration_s()
    if clip.duration_s > limit:
        raise UserError(f"The audio is {_clock(clip.duration_s)} long; diarization accepts up to {_clock(limit)} "
                        "(ADS_DIARIZE_MAX_S). Trim it and try again.")
    exact, low, high = speaker_counts(num_speakers, min_speakers, max_speakers)
    loader = loader or get_loader()
    if spec.engine == "pyannote":
        progress(0.01, f"Checking access to {spec.id}")
        ensure_downloaded(model_id, token)
    progress(0.03, f"Loading {model_id}")
    load_start = time.perf_counter()
    entry = loader.entry(model_id)
    load_s = time.perf_counter() - load_start
    if spec.engine == "offline-diarizer":
        with loader.use(VAD_MODEL_ID) as vad:
            progress(0.05, "Finding speech (Silero VAD)")
            start = time.perf_counter()
            speech = vad.speech_segments(clip.samples)
        with loader.use(model_id) as diarizer:
            raw, internals = diarizer.run(clip.samples, num_speakers=exact, min_speakers=low, max_speakers=high,
                                          speech=speech,
                                          progress=lambda fraction, desc: progress(0.05 + 0.95 * fraction, desc))
            compute_s = time.perf_counter() - start
            card = (architecture_card(spec.family, diarizer, spec.id) + "  \n*Counted:* Resemblyzer's encoder "
                    "only; segmentation-3.0 runs as ONNX (about 1.5 M weights) and Silero VAD as a separate model.")
        turns = [Turn(start_s, end_s, speaker) for start_s, end_s, speaker in raw]
        device, dtype = diarizer.device, "float32"
    else:
        with loader.use(model_id) as pipeline, _lock_for(model_id):
            start = time.perf_counter()
            turns, internals = _run_pyannote(pipeline, clip, exact, low, high, progress)
            compute_s = time.perf_counter() - start
            card = architecture_card(spec.family, pipeline, spec.id)
        device, dtype = entry.placement.device, "float32"  # pyannote runs its models in float32
    return Diarization(turns, model_id, spec.engine, device, dtype, clip.duration_s, compute_s, load_s, internals,
                       card)


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


def _run_pyannote(pipeline: Any, clip: AudioClip, exact: int | None, low: int | None, high: int | None,
                  progress: Progress) -> tuple[list[Turn], DiarizationInternals | None]:
    """Turns, and the run's intermediate results recorded on the way (same single pass; call under the lock)."""
    import torch

    waveform = torch.from_numpy(np.ascontiguousarray(clip.samples))[None]
    kwargs = {key: value for key, value in (("num_speakers", exact), ("min_speakers", low),
                                            ("max_speakers", high)) if value is not None}
    show_progress = _pyannote_hook(progress)

    def hook(step_name: str, artifact: Any, file: Any = None, total: int | None = None,
             completed: int | None = None) -> None:
        capture.hook(step_name, artifact, completed=completed)
        show_progress(step_name, artifact, file=file, total=total, completed=completed)

    with torch.inference_mode(), PyannoteCapture(pipeline) as capture:
        output = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, hook=hook, **kwargs)
    annotation = getattr(output, "speaker_diarization", output)  # pyannote.audio 4: DiarizeOutput; 3: Annotation
    return annotation_to_turns(annotation, clip.duration_s), capture.internals(speaker_request(exact, low, high))


def annotation_to_turns(annotation: Any, duration_s: float) -> list[Turn]:
    """pyannote Annotation → turns cropped to the file (pyannote pads files shorter than its 10 s window)."""
    turns = []
    for segment, _, label in annotation.itertracks(yield_label=True):
        start, end = max(0.0, float(segment.start)), min(float(segment.end), duration_s)
        if end - start > 1e-3:
            turns.append(Turn(round(start, 3), round(end, 3), str(label)))
    return sorted(turns)


# ---- evaluation ---------------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    der: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    reference_s: float
    mapping: dict[str, str]  # hypothesis label → reference label
    collar_s: float

    def to_json(self) -> dict[str, Any]:
        total = self.reference_s or 1.0
        return {"diarization_error_rate": round(self.der, 4), "collar_s": self.collar_s,
                "missed_speech_s": round(self.missed_s, 3), "missed_speech_rate": round(self.missed_s / total, 4),
                "false_alarm_s": round(self.false_alarm_s, 3), "false_alarm_rate": round(self.false_alarm_s / total, 4),
                "confusion_s": round(self.confusion_s, 3), "confusion_rate": round(self.confusion_s / total, 4),
                "reference_speech_s": round(self.reference_s, 3), "speaker_mapping": self.mapping}


def _annotation(turns: list[Turn]) -> Any:
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for index, turn in enumerate(turns):
        annotation[Segment(turn.start, turn.end), index] = turn.speaker
    return annotation


def evaluate(reference: list[Turn], hypothesis: list[Turn], duration_s: float | None = None,
             collar_s: float = COLLAR_S) -> Evaluation:
    """DER = (missed + false alarm + confusion) / reference speech, with `collar_s` (pyannote.metrics' collar: that
    total width, centred on each reference boundary, is not scored)."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = _annotation(reference), _annotation(hypothesis)
    end = max([duration_s or 0.0] + [t.end for t in reference] + [t.end for t in hypothesis])
    uem = Timeline([Segment(0.0, max(end, 1e-3))])
    metric = DiarizationErrorRate(collar=collar_s, skip_overlap=False)
    parts = metric(ref, hyp, uem=uem, detailed=True)
    mapping = {str(h): str(r) for h, r in metric.optimal_mapping(ref, hyp, uem=uem).items()} if hypothesis else {}
    return Evaluation(float(parts["diarization error rate"]), float(parts["missed detection"]),
                      float(parts["false alarm"]), float(parts["confusion"]), float(parts["total"]), mapping, collar_s)


# ---- who said what ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeakerLine:
    start: float
    end: float
    speaker: str
    text: str


def speaker_of(start: float, end: float, turns: list[Turn]) -> str | None:
    """The speaker whose turns overlap [start, end] most; else the nearest turn's speaker (None without turns)."""
    if not turns:
        return None
    overlap: dict[str, float] = {}
    for turn in turns:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    if overlap:
        return max(overlap, key=lambda name: overlap[name])
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: max(t.start - middle, middle - t.end, 0.0))
    return nearest.speaker


def assign_words(words: list[Word], turns: list[Turn]) -> list[tuple[Word, str]]:
    return [(word, speaker_of(word.start, word.end, turns) or "UNKNOWN") for word in words]


def speaker_lines(assigned: list[tuple[Word, str]], pause_s: float = 1.5, max_words: int = 30) -> list[SpeakerLine]:
    """Consecutive words of one speaker form a line; a long pause or a very long run starts a new one."""
    lines: list[SpeakerLine] = []
    current: list[Word] = []
    speaker = ""
    for word, name in assigned:
        if current and (name != speaker or word.start - current[-1].end > pause_s or len(current) >= max_words):
            lines.append(_line(current, speaker))
            current = []
        current.append(word)
        speaker = name
    if current:
        lines.append(_line(current, speaker))
    return lines


def _line(words: list[Word], speaker: str) -> SpeakerLine:
    return SpeakerLine(words[0].start, words[-1].end, speaker, " ".join(w.text.strip() for w in words).strip())


def rename_speakers(speakers: list[str], names: str) -> dict[str, str]:
    """'Diane, Sheila' → {SPEAKER_00: Diane, SPEAKER_01: Sheila} in order of first appearance; others unchanged."""
    given = [name.strip() for name in (names or "").split(",")]
    return {label: (given[index] if index < len(given) and given[index] else label)
            for index, label in enumerate(speakers)}


def tagged_text(lines: list[SpeakerLine], names: dict[str, str] | None = None) -> str:
    names = names or {}
    return "\n".join(f"[{_clock(line.start)}] {names.get(line.speaker, line.speaker)}: {line.text}" for line in lines)


def tagged_srt(lines: list[SpeakerLine], names: dict[str, str] | None = None) -> str:
    names = names or {}
    return to_srt([Cue(line.start, line.end, f"{names.get(line.speaker, line.speaker)}: {line.text}")
                   for line in lines])


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes:02d}:{secs:04.1f}"


@dataclass
class WhoSaidWhat:
    lines: list[SpeakerLine]
    words: list[tuple[Word, str]]  # every recognised word with its speaker
    diarization: Diarization
    asr_model_id: str
    asr_compute_s: float
    asr_load_s: float
    asr_device: str
    asr_dtype: str

    def to_json(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        names = names or {}
        return {"asr_model": self.asr_model_id, "diarization_model": self.diarization.model_id,
                "lines": [{"start": round(line.start, 3), "end": round(line.end, 3),
                           "speaker": names.get(line.speaker, line.speaker), "text": line.text}
                          for line in self.lines]}


def who_said_what(clip: AudioClip, diarization: Diarization, asr_model_id: str = OFFLINE_ASR, *,
                  loader: ModelLoader | None = None, progress: Progress = _no_progress) -> WhoSaidWhat:
    """Transcribe with word timestamps and give every word the speaker whose turn covers it most."""
    transcript = transcribe(clip, asr_model_id, TranscribeOptions(timestamps="word"), loader=loader,
                            progress=progress)
    words = transcript.words
    if not words and transcript.segments:  # an engine without word times: attribute whole segments
        words = [Word(s.start, s.end, s.text) for s in transcript.segments]
    assigned = assign_words(words, diarization.turns)
    return WhoSaidWhat(speaker_lines(assigned), assigned, diarization, asr_model_id, transcript.compute_s,
                       transcript.load_s, transcript.device, transcript.dtype)


# ---- one speaker's audio ------------------------------------------------------------------------------------------
def speaker_audio(samples: np.ndarray, sample_rate: int, turns: list[Turn], speaker: str,
                  gap_s: float = 0.3) -> np.ndarray:
    """That speaker's turns back to back (overlapping turns merged), with a short silence between them."""
    spans: list[list[float]] = []
    for turn in sorted((t for t in turns if t.speaker == speaker), key=lambda t: t.start):
        if spans and turn.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], turn.end)
        else:
            spans.append([turn.start, turn.end])
    if not spans:
        raise UserError(f"No turns for speaker {speaker!r}: run the diarization first and pick one of its speakers.")
    gap = np.zeros(int(gap_s * sample_rate), dtype=np.float32)
    pieces = []
    for start, end in spans:
        pieces += [samples[int(start * sample_rate):int(end * sample_rate)], gap]
    return np.concatenate(pieces[:-1]).astype(np.float32, copy=False)
