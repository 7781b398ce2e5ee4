"""Engine functions: how each kind of model is loaded. The loader calls `load_<engine>(spec, placement, options)`.

Safety: no `trust_remote_code`; transformers weights are loaded from safetensors only; only registry ids reach
these functions (never a user-typed string), so nothing fetches arbitrary URLs.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from shared import config
from shared.errors import ModelUnavailableError
from shared.models.device import Placement
from shared.models.registry import ModelSpec


def load_transformers(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """A transformers `pipeline` for the spec's task (SpeechT5 gets its HiFi-GAN vocoder)."""
    from transformers import pipeline

    common: dict[str, Any] = {"dtype": placement.torch_dtype, "use_safetensors": True, "trust_remote_code": False}
    kwargs: dict[str, Any] = {}
    if spec.family == "speecht5":
        from transformers import SpeechT5HifiGan

        kwargs["vocoder"] = SpeechT5HifiGan.from_pretrained(spec.options["vocoder"], **common).to(placement.device)
    pipe = pipeline(spec.task, model=spec.id, device=placement.device, dtype=placement.torch_dtype,
                    trust_remote_code=False, model_kwargs={"use_safetensors": True}, **kwargs)
    if spec.family == "whisper":  # GPU decoding speed-ups, off unless switched on (shared/models/fast_decoding.py)
        from shared.models.fast_decoding import prepare

        prepare(pipe, spec.id, placement)
    return pipe


def _package_dir(spec: ModelSpec) -> Path:
    package = spec.options["package"]
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelUnavailableError(f"The built-in model {spec.id} needs the pip package "
                                    f"{package.replace('_', '-')}; install the requirements.") from exc
    return Path(module.__file__).resolve().parent


def _hub_snapshot(spec: ModelSpec) -> Path:
    """The local folder of a registry repo: the HF cache's copy, downloaded first unless HF_HUB_OFFLINE is set."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(spec.id, local_files_only=config.hub_offline()))


def load_faster_whisper(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """faster-whisper (CTranslate2) on weights shipped inside a pip package (`offline:` ids) or a CTranslate2 repo
    from the hub (Systran/faster-whisper-*); int8 on CPU, fp16 on CUDA."""
    from faster_whisper import WhisperModel

    model_dir = _package_dir(spec) / "model" if spec.offline else _hub_snapshot(spec)
    if placement.device == "cuda":
        return WhisperModel(str(model_dir), device="cuda", compute_type="float16")
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=options.get("threads", 0))


def load_piper(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """A Piper voice (ONNX, onnxruntime on CPU) shipped inside a pip package."""
    from piper import PiperVoice

    voice_module = importlib.import_module(spec.options["package"])
    return PiperVoice.load(voice_module.model_path(), config_path=voice_module.config_path(),
                           use_cuda=placement.device == "cuda")


def load_torchaudio(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """A torchaudio pipeline bundle's model (MMS_FA: log-probabilities over its romanised alphabet, no star token).
    Its weights come from the bundle's own fixed address (torch.hub cache), not from a user string."""
    import torchaudio

    bundle = getattr(torchaudio.pipelines, spec.options["bundle"])
    try:
        model = bundle.get_model(with_star=False)
    except OSError as exc:  # urllib's URLError is an OSError
        raise ModelUnavailableError(f"{spec.id} downloads its weights (~1.2 GB) from the address torchaudio fixes "
                                    "for it at first use, and that address is unreachable now. Connect once, or "
                                    "pick a CTC model that is already downloaded.") from exc
    return model.to(placement.device).eval()


def load_pyannote(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """A pyannote.audio pipeline (gated: the token comes from HF_TOKEN, never from the cache key or logs)."""
    config.keep_pyannote_quiet()
    import torch
    from pyannote.audio import Pipeline

    pipeline = Pipeline.from_pretrained(spec.id, token=config.hf_token())
    if pipeline is None:  # pyannote returns None (and logs) when it could not fetch the files
        raise ModelUnavailableError(f"{spec.id} could not be loaded: it is gated (accept its conditions at "
                                    f"https://huggingface.co/{spec.id} and set HF_TOKEN) or not downloaded "
                                    "while the hub is unreachable.")
    return pipeline.to(torch.device(placement.device))
