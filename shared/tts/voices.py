"""Voices and languages for text-to-speech: SpeechT5 speaker x-vectors, Bark voice presets, the MMS language list.

SpeechT5 speaks in the voice of a 512-d x-vector. Its authors use the CMU ARCTIC x-vectors of the hub dataset
Matthijs/cmu-arctic-xvectors (one .npy per utterance in spkrec-xvect.zip); a preset here is the L2-normalised mean
of one speaker's x-vectors. They are fetched at run time (a fixed dataset id, never a user string), cached, and when
they cannot be had a seeded random voice stands in and the UI says so.
"""

from __future__ import annotations

import difflib
import functools
import io
import logging
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.errors import UserError
from shared.models import registry

log = logging.getLogger(__name__)

# ---- SpeechT5: CMU ARCTIC x-vectors ---------------------------------------------------------------------------------
XVECTOR_REPO = "Matthijs/cmu-arctic-xvectors"
XVECTOR_ARCHIVE = "spkrec-xvect.zip"
XVECTOR_DIM = 512
SPEECHT5_SPEAKERS = {  # CMU ARCTIC speaker code -> who
    "slt": "US female", "clb": "US female", "bdl": "US male", "rms": "US male",
    "jmk": "Canadian male", "awb": "Scottish male", "ksp": "Indian male",
}
DEFAULT_SPEECHT5_SPEAKER = "slt"  # the voice of the SpeechT5 tutorials
RANDOM_VOICE = "random"
FETCH_WAIT_S = 8.0  # how long a request waits for the first download before using the fallback voice
RETRY_AFTER_S = 300.0


def xvectors_from_zip(path: str | Path) -> dict[str, np.ndarray]:
    """Per CMU ARCTIC speaker, the L2-normalised mean of its x-vectors in spkrec-xvect.zip (members like
    spkrec-xvect/cmu_us_slt_arctic-wav-arctic_a0001.npy). Plain arrays only: np.load without pickle."""
    sums: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            stem = name.rsplit("/", 1)[-1]
            if not (stem.startswith("cmu_us_") and stem.endswith(".npy")):
                continue
            speaker = stem.split("_")[2]
            if speaker not in SPEECHT5_SPEAKERS:
                continue
            vector = np.load(io.BytesIO(archive.read(name)), allow_pickle=False).astype(np.float64).reshape(-1)
            if vector.shape != (XVECTOR_DIM,) or not np.isfinite(vector).all():
                continue
            sums[speaker] = sums.get(speaker, 0.0) + vector
    return {speaker: (total / np.linalg.norm(total)).astype(np.float32) for speaker, total in sums.items()}


def random_xvector(seed: int) -> np.ndarray:
    """A seeded random unit vector: the fallback voice (x-vectors are L2-normalised too)."""
    vector = np.random.default_rng(seed).standard_normal(XVECTOR_DIM)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class XvectorPresets:
    """The CMU ARCTIC presets, downloaded once in the background; requests never wait more than FETCH_WAIT_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._presets: dict[str, np.ndarray] | None = None
        self._thread: threading.Thread | None = None
        self._failed_at = 0.0
        self.problem = "not fetched yet"

    def _fetch(self) -> None:
        try:
            from huggingface_hub import hf_hub_download, try_to_load_from_cache

            from shared.models.availability import hub_reachable

            cached = try_to_load_from_cache(XVECTOR_REPO, XVECTOR_ARCHIVE, repo_type="dataset")
            if not isinstance(cached, str):
                if not hub_reachable():
                    raise ConnectionError("the Hugging Face hub is unreachable (or HF_HUB_OFFLINE is set)")
                cached = hf_hub_download(XVECTOR_REPO, XVECTOR_ARCHIVE, repo_type="dataset", etag_timeout=5)
            presets = xvectors_from_zip(cached)
            if not presets:
                raise ValueError(f"no CMU ARCTIC x-vectors found in {XVECTOR_ARCHIVE}")
            with self._lock:
                self._presets, self.problem = presets, ""
        except Exception as exc:  # whatever went wrong, the fallback voice keeps the tab working
            log.info("SpeechT5 speaker presets unavailable: %s: %s", type(exc).__name__, exc)
            with self._lock:
                self._failed_at = time.monotonic()
                self.problem = str(exc) if isinstance(exc, ConnectionError) else f"{type(exc).__name__}"

    def get(self, wait_s: float = FETCH_WAIT_S) -> dict[str, np.ndarray] | None:
        """The presets, or None (then `problem` says why). Starts the download at most every RETRY_AFTER_S."""
        with self._lock:
            if self._presets is not None:
                return self._presets
            idle = self._thread is None or not self._thread.is_alive()
            if self._thread is None or (idle and time.monotonic() - self._failed_at >= RETRY_AFTER_S):
                self._thread = threading.Thread(target=self._fetch, daemon=True, name="xvector-fetch")
                self._thread.start()
            thread = self._thread
        thread.join(wait_s)
        with self._lock:
            if self._presets is None and thread.is_alive():
                self.problem = "still downloading"
            return self._presets


XVECTORS = XvectorPresets()


def speecht5_voice_choices() -> list[tuple[str, str]]:
    return [(f"{code} — {who} (CMU ARCTIC x-vector)", code) for code, who in SPEECHT5_SPEAKERS.items()] + [
        ("random voice (from the seed)", RANDOM_VOICE)]


@dataclass(frozen=True)
class SpeakerChoice:
    embedding: np.ndarray  # (512,) float32
    description: str
    fallback_note: str = ""  # set when the asked-for preset was unavailable


def validate_speecht5_voice(voice: str | None) -> str:
    voice = (voice or DEFAULT_SPEECHT5_SPEAKER).strip()
    if voice != RANDOM_VOICE and voice not in SPEECHT5_SPEAKERS:
        raise UserError(f"Unknown SpeechT5 voice {voice!r}: choose one of {', '.join(SPEECHT5_SPEAKERS)} or "
                        f"'{RANDOM_VOICE}'.")
    return voice


def speecht5_speaker(voice: str, seed: int, presets: XvectorPresets = XVECTORS) -> SpeakerChoice:
    voice = validate_speecht5_voice(voice)
    if voice == RANDOM_VOICE:
        return SpeakerChoice(random_xvector(seed), f"random voice (seed {seed})")
    loaded = presets.get()
    if loaded is None or voice not in loaded:
        note = (f"The CMU ARCTIC speaker presets ({XVECTOR_REPO}) are unavailable ({presets.problem}), so a "
                f"random voice from seed {seed} was used instead of '{voice}'.")
        return SpeakerChoice(random_xvector(seed), f"random voice (seed {seed}; preset unavailable)", note)
    return SpeakerChoice(loaded[voice], f"{voice} ({SPEECHT5_SPEAKERS[voice]}, mean CMU ARCTIC x-vector)")


def nearest_preset(xvector: np.ndarray, presets: XvectorPresets = XVECTORS,
                   wait_s: float = 0.5) -> tuple[str, np.ndarray] | None:
    """The CMU ARCTIC preset whose x-vector is closest (cosine) to `xvector`: (speaker code, its x-vector), or None
    when the presets are unavailable (offline)."""
    loaded = presets.get(wait_s)
    if not loaded:
        return None
    unit = xvector / max(float(np.linalg.norm(xvector)), 1e-8)
    code = max(loaded, key=lambda speaker: float(np.dot(loaded[speaker], unit)))
    return code, loaded[code]


def speecht5_presets_status(wait_s: float = 0.5) -> str:
    loaded = XVECTORS.get(wait_s)
    if loaded is not None:
        return f"Speaker presets: {len(loaded)} CMU ARCTIC x-vectors loaded from `{XVECTOR_REPO}`."
    return (f"**Speaker presets unavailable** ({XVECTORS.problem}): they come from the hub dataset "
            f"`{XVECTOR_REPO}` at run time. A random voice from the seed is used instead.")


# ---- Bark: v2 voice presets (shipped in the model repos as speaker_embeddings/*.npy) --------------------------------
BARK_LANGUAGES = {
    "en": "English", "de": "German", "es": "Spanish", "fr": "French", "hi": "Hindi", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "tr": "Turkish",
    "zh": "Chinese",
}
BARK_SPEAKERS = 10
DEFAULT_BARK_PRESET = "v2/en_speaker_6"
NO_PRESET = "none"


def bark_voice_choices() -> list[tuple[str, str]]:
    choices = [(f"{name} speaker {n} ({code}_speaker_{n})", f"v2/{code}_speaker_{n}")
               for code, name in BARK_LANGUAGES.items() for n in range(BARK_SPEAKERS)]
    return [*choices, ("no preset (Bark invents a voice)", NO_PRESET)]


def bark_preset_language(preset: str) -> str | None:
    """'v2/de_speaker_3' -> 'de'."""
    if preset.startswith("v2/") and "_speaker_" in preset:
        return preset[3:].split("_speaker_")[0]
    return None


# ---- MMS-TTS languages ----------------------------------------------------------------------------------------------
MMS_LANGUAGES_FILE = Path(__file__).resolve().parent / "data" / "mms_languages.tsv"
MMS_PREFIX = "facebook/mms-tts-"


@functools.cache
def mms_languages() -> dict[str, str]:
    """code -> language name, from the shipped list (ISO 639-3, some with -script_/-dialect_ suffixes)."""
    languages = {}
    for line in MMS_LANGUAGES_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line == "code\tname":
            continue
        code, name = line.split("\t")
        languages[code] = name
    return languages


def offered_mms_languages() -> dict[str, str]:
    """The MMS languages the registry offers: code -> model id."""
    return {spec.options["language"]: spec.id for spec in registry.models_for(registry.TTS)
            if spec.id.startswith(MMS_PREFIX)}


def mms_language_choices() -> list[tuple[str, str]]:
    names = mms_languages()
    return [(f"{names.get(code, code)} ({code})", code) for code in offered_mms_languages()]


def resolve_mms_language(entry: str) -> str:
    """A typed language (code, 'Name (code)' or an unambiguous name) -> an MMS model id.

    Raises UserError for languages not in the shipped MMS list; a listed language outside the curated registry
    entries becomes `facebook/mms-tts-<code>` through `registry.mms_tts_spec` (never a user string as such)."""
    text = (entry or "").strip()
    names = mms_languages()
    if text.endswith(")") and "(" in text:
        text = text[text.rindex("(") + 1:-1].strip()
    code = text.lower()
    if code not in names:
        by_name = [c for c, name in names.items() if name.lower() == text.lower()]
        if len(by_name) == 1:
            code = by_name[0]
        elif by_name:
            raise UserError(f"{text!r} has several MMS voices: type one of {', '.join(by_name)}.")
        else:
            close = difflib.get_close_matches(text.lower(), [*names, *(n.lower() for n in names.values())], 3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UserError(f"{entry!r} is not an MMS-TTS language: type an ISO 639-3 code such as 'eng', 'hin' "
                            f"or 'swh' (the list has {len(names)} languages).{hint}")
    offered = offered_mms_languages()
    if code in offered:
        return offered[code]
    return registry.mms_tts_spec(code, names[code]).id
