"""Every ADS_* setting, read from environment variables here and nowhere else (see README: "Configuration").
`SETTINGS` holds the values read at start-up; `current()` reads them again (the few a running app or a test may
change: results folder, batch limits, Diarize's longest audio)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _env_switch(name: str) -> str:
    """An auto/on/off switch (unset or empty: auto)."""
    raw = os.environ.get(name, "").strip().lower() or "auto"
    if raw not in ("auto", "on", "off"):
        raise ValueError(f"{name} must be auto, on or off, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    device: str  # "auto", "cuda", "mps", "cpu"
    dtype: str  # "auto", "float32", "float16", "bfloat16"
    memory_budget_mb: float  # models are evicted (LRU) beyond this
    max_duration_s: float  # longest audio accepted by any tab
    max_file_mb: float  # biggest upload accepted
    max_channels: int
    gpu_concurrency: int  # model-bound events share one concurrency group with this limit
    queue_size: int  # requests waiting beyond this are refused with a "busy" message
    diarize_max_s: float  # longest audio the Diarize tab accepts (never more than max_duration_s)
    batch_max_files: int  # most files in one batch
    batch_max_mb: float  # largest total size of one batch
    results_dir: str  # where the files offered for download are written
    live_time_limit_s: float  # longest live microphone session (seconds)
    whisper_compile: str = "auto"  # transformers Whisper: static cache + torch.compile ("auto" = on CUDA; "on", "off")
    whisper_assistant: str = "auto"  # speculative decoding with a distilled assistant ("auto" = on CUDA; "on", "off")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def batch_max_bytes(self) -> int:
        return int(self.batch_max_mb * 2**20)


def load_settings() -> Settings:
    """The settings as the environment says now (defaults where a variable is unset or empty)."""
    max_duration_s = _env_float("ADS_MAX_DURATION_S", 3600.0)
    return Settings(
        device=os.environ.get("ADS_DEVICE", "auto").strip().lower() or "auto",
        dtype=os.environ.get("ADS_DTYPE", "auto").strip().lower() or "auto",
        memory_budget_mb=_env_float("ADS_MEMORY_BUDGET_MB", 6000.0),
        max_duration_s=max_duration_s,
        max_file_mb=_env_float("ADS_MAX_FILE_MB", 200.0),
        max_channels=int(_env_float("ADS_MAX_CHANNELS", 64)),
        gpu_concurrency=int(_env_float("ADS_GPU_CONCURRENCY", 2)),
        queue_size=int(_env_float("ADS_QUEUE_SIZE", 64)),
        diarize_max_s=min(_env_float("ADS_DIARIZE_MAX_S", 1800.0), max_duration_s),
        batch_max_files=int(_env_float("ADS_BATCH_MAX_FILES", 50)),
        batch_max_mb=_env_float("ADS_BATCH_MAX_MB", 500.0),
        results_dir=os.environ.get("ADS_RESULTS_DIR", "").strip()
        or os.path.join(tempfile.gettempdir(), "audio-demo-suite-results"),
        live_time_limit_s=_env_float("ADS_LIVE_TIME_LIMIT_S", 3600.0),
        whisper_compile=_env_switch("ADS_WHISPER_COMPILE"),
        whisper_assistant=_env_switch("ADS_WHISPER_ASSISTANT"),
    )


def current() -> Settings:
    """The settings read again now: for values a test or a running app may change after start-up."""
    return load_settings()


SETTINGS = load_settings()


def hf_token() -> str | None:
    """HF_TOKEN for gated models, read when needed and kept out of `Settings` (so no repr or log can show it)."""
    return os.environ.get("HF_TOKEN", "").strip() or None


def on_zero_gpu() -> bool:
    """True on a Hugging Face ZeroGPU Space (SPACES_ZERO_GPU, set by Spaces)."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def hub_offline() -> bool:
    """HF_HUB_OFFLINE is set: never try the hub."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def keep_pyannote_quiet() -> None:
    """pyannote.audio sends telemetry unless told not to: called before anything imports it."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")


def server_address() -> tuple[str, int]:
    """(host, port) the app listens on by default: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as Spaces set them."""
    return os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), int(os.environ.get("GRADIO_SERVER_PORT", "7860"))


@dataclass(frozen=True)
class Launch:
    """What `accelerate launch` (or torchrun, mpirun) left in the environment of this process."""
    cpu: bool  # ACCELERATE_USE_CPU: `--cpu` (or a config's use_cpu)
    rendezvous: bool  # MASTER_ADDR: the launcher was asked for several processes or machines
    process_group: bool  # WORLD_SIZE / RANK / LOCAL_RANK / PMI_* / OMPI_*: a launcher that started a group of them


def launch() -> Launch:
    """The launcher's variables, read now (see shared/evaluate/launch.py)."""
    names = set(os.environ)
    group = bool(names & {"WORLD_SIZE", "RANK", "LOCAL_RANK"}) or any(
        name.startswith(("PMI_", "OMPI_")) for name in names)
    cpu = os.environ.get("ACCELERATE_USE_CPU", "").strip().lower() in ("1", "true", "yes", "on")
    return Launch(cpu, bool(os.environ.get("MASTER_ADDR")), group)
