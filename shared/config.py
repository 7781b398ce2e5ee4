"""Settings read once from environment variables (see README: "Configuration")."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    device: str  # "auto", "cuda", "mps", "cpu"
    dtype: str  # "auto", "float32", "float16", "bfloat16"
    memory_budget_mb: float  # models are evicted (LRU) beyond this
    max_duration_s: float  # longest audio accepted by any tab
    max_file_mb: float  # biggest upload accepted
    max_channels: int
    allow_custom_models: bool
    gpu_concurrency: int  # model-bound events share one concurrency group with this limit
    queue_size: int  # requests waiting beyond this are refused with a "busy" message

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def load_settings() -> Settings:
    return Settings(
        device=os.environ.get("ADS_DEVICE", "auto").strip().lower() or "auto",
        dtype=os.environ.get("ADS_DTYPE", "auto").strip().lower() or "auto",
        memory_budget_mb=_env_float("ADS_MEMORY_BUDGET_MB", 6000.0),
        max_duration_s=_env_float("ADS_MAX_DURATION_S", 3600.0),
        max_file_mb=_env_float("ADS_MAX_FILE_MB", 200.0),
        max_channels=int(_env_float("ADS_MAX_CHANNELS", 64)),
        allow_custom_models=os.environ.get("ADS_ALLOW_CUSTOM_MODELS", "") == "1",
        gpu_concurrency=int(_env_float("ADS_GPU_CONCURRENCY", 2)),
        queue_size=int(_env_float("ADS_QUEUE_SIZE", 64)),
    )


SETTINGS = load_settings()
