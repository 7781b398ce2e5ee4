"""Every hub model in the registry loads offline through the app's real loader (tiny random stand-ins written
into an HF cache layout) and runs once."""

from __future__ import annotations

import numpy as np
import pytest

from shared.models import registry
from shared.models.device import Placement
from shared.models.loader import ModelLoader

CPU = Placement("cpu", "float32")


def _noise(seconds: float, rate: int) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(seconds * rate)) * 0.1).astype(np.float32)


def smoke_run(spec: registry.ModelSpec, model: object) -> None:
    """One minimal inference with the loaded object, checking the output's shape of answer."""
    if spec.task == registry.ASR and spec.engine == "faster-whisper":  # a CTranslate2 WhisperModel, no pipeline
        segments, info = model.transcribe(_noise(2, 16_000))
        assert all(isinstance(segment.text, str) for segment in segments) and info.duration == 2
    elif spec.task == registry.ASR:
        output = model({"raw": _noise(2, 16_000), "sampling_rate": 16_000})
        assert isinstance(output["text"], str)
    elif spec.task == registry.CLASSIFY:
        output = model({"raw": _noise(2, 16_000), "sampling_rate": 16_000}, top_k=3)
        assert len(output) == 3 and all(0 <= item["score"] <= 1 for item in output)
    elif spec.task == registry.ZERO_SHOT:
        output = model(_noise(2, 48_000), candidate_labels=["a dog", "music"])
        assert {item["label"] for item in output} == {"a dog", "music"}
        assert sum(item["score"] for item in output) == pytest.approx(1.0, abs=1e-4)
    elif spec.engine == "codec-lm":  # shared/tts/codec_lm.py's CodecLm (CSM, Dia)
        from tests.tiny_models.voice_models import smoke_run as voice_smoke_run

        voice_smoke_run(spec, model)
    elif spec.task == registry.TTS:
        from tests.tiny_models.transformers_models import tts_forward_params

        output = model("Hello there.", **tts_forward_params(spec))
        audio = np.asarray(output["audio"]).squeeze()
        assert audio.ndim == 1 and audio.size > 0 and np.isfinite(audio).all()
        assert output["sampling_rate"] > 0
    elif spec.engine == "nemotron-diarization":  # shared/diarize/nemotron.py's NemotronDiarizer
        turns, activity = model.run(_noise(12, 16_000))
        assert activity.probabilities.shape == (1201, 8) and all(start < end for start, end, _ in turns)
    elif spec.task == registry.DIARIZE:
        import torch

        output = model({"waveform": torch.from_numpy(_noise(12, 16_000))[None], "sample_rate": 16_000})
        assert output.speaker_diarization is not None
    elif spec.engine in ("speechbrain", "speecht5-vc", "demucs"):
        from tests.tiny_models.audio_to_audio_models import smoke_run as audio_to_audio_smoke_run

        audio_to_audio_smoke_run(spec, model)
    else:  # pragma: no cover
        raise AssertionError(spec.task)


@pytest.fixture(scope="module")
def loader(tiny_hf_home) -> ModelLoader:
    return ModelLoader(budget_mb=100_000, placement=CPU)


@pytest.mark.parametrize("spec", registry.hub_models(), ids=lambda spec: spec.id)
def test_every_registry_model_loads_offline_and_runs(loader: ModelLoader, spec: registry.ModelSpec) -> None:
    with loader.use(spec.id) as model:
        smoke_run(spec, model)
    assert loader.load_counts[spec.id] == 1
    row = next(row for row in loader.status() if row["id"] == spec.id)
    assert row["device"] == "cpu" and row["memory_mb"] > 0
    loader.unload_all()
