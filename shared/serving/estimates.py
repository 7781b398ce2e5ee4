"""Seconds of GPU time a request will take, estimated from its input before it runs (for ZeroGPU's duration)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.models.registry import UnknownModelError, get_spec

WARM_UP_S = 20  # seconds: model placement and the first kernel launches
AUDIO_SHARE = 0.25  # GPU seconds per second of audio for a model up to 1 GB


def audio_seconds(path: str | None) -> float:
    """Cheap duration from the header in seconds (0 when no file; 60 when the header cannot be read)."""
    if not path:
        return 0.0
    try:
        import soundfile as sf

        return float(sf.info(path).duration)
    except Exception:  # formats libsndfile cannot read get a neutral estimate
        return 60.0


def model_scale(*args: Any, **kwargs: Any) -> float:
    """1 for models up to 1 GB, growing with the size of the largest registry model among the arguments."""
    sizes = []
    for value in (*args, *kwargs.values()):
        for candidate in value if isinstance(value, list | tuple) else (value,):
            if isinstance(candidate, str):
                try:
                    sizes.append(get_spec(candidate).size_mb)
                except UnknownModelError:
                    pass
    return max(1.0, max(sizes, default=0.0) / 1000)


def estimate_from_audio(audio: str | None = None, *args: Any, **kwargs: Any) -> float:
    """GPU seconds for an audio handler: warm-up plus a share of the audio's length, scaled by the model's size."""
    return WARM_UP_S + AUDIO_SHARE * audio_seconds(audio) * model_scale(*args, **kwargs)


def estimate_from_text(text: str | None = None, model: str = "", *args: Any, **kwargs: Any) -> float:
    """GPU seconds for speech synthesis: Bark generates slowly (three models, token by token)."""
    per_char = 0.5 if "bark" in (model or "") else 0.05
    return WARM_UP_S + per_char * len(text or "")


def estimate_batch(files: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> float:
    """GPU seconds for a batch: one warm-up, then a share of every file's length."""
    return WARM_UP_S + AUDIO_SHARE * sum(audio_seconds(path) for path in files or [])
