"""GPU decoding speed-ups for transformers Whisper (shared/models/fast_decoding.py), checked on CPU with the tiny
models: off by default on CPU, and when switched on the text and the greedy tokens are those of plain decoding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import config
from shared.audio.intake import AudioClip
from shared.models import fast_decoding
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.transcribe.run import TranscribeOptions, transcribe
from tests.speech_data import sample_wav

TURBO = "openai/whisper-large-v3-turbo"
CPU = Placement("cpu", "float32")


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    import soundfile as sf

    samples, rate = sf.read(sample_wav(), dtype="float32", frames=8 * 16_000)
    return AudioClip(samples, rate, rate, 1, "sample.wav", "wav")


@pytest.fixture
def restore_stance() -> Iterator[None]:
    import torch

    yield
    torch.compiler.set_stance("default")  # compile_steps leaves "eager_on_recompile" for the process


def test_switches_are_off_by_default_on_cpu(monkeypatch: pytest.MonkeyPatch, tiny_hf_home: Path) -> None:
    monkeypatch.delenv("ADS_WHISPER_COMPILE", raising=False)
    monkeypatch.delenv("ADS_WHISPER_ASSISTANT", raising=False)
    settings = config.current()
    assert (settings.whisper_compile, settings.whisper_assistant) == ("auto", "auto")
    assert not fast_decoding.enabled("auto", "cpu") and fast_decoding.enabled("auto", "cuda")
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert not fast_decoding.enabled("auto", "cuda")  # ZeroGPU: compile time would never be amortised
    assert fast_decoding.enabled("on", "cpu") and not fast_decoding.enabled("off", "cuda")
    loader = ModelLoader(budget_mb=100_000, placement=CPU)
    pipe = loader.entry(TURBO).model
    assert getattr(pipe.model, "fast_decoding", None) is None
    assert fast_decoding.decoding_kwargs(pipe.model, batch_size=1, num_beams=1, word_timestamps=False) == {}


def test_bad_switch_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADS_WHISPER_COMPILE", "fast")
    with pytest.raises(ValueError, match="ADS_WHISPER_COMPILE"):
        config.current()


def test_assistant_gives_the_same_greedy_tokens(tiny_hf_home: Path, clip: AudioClip) -> None:
    """transformers lifts the begin-of-text suppression while an assistant drafts, so the plain run does too."""
    import torch

    pipe = ModelLoader(budget_mb=100_000, placement=CPU).entry(TURBO).model
    assistant = fast_decoding.load_decoder_only(fast_decoding.ASSISTANTS[TURBO], CPU)
    features = pipe.feature_extractor(clip.samples, sampling_rate=16_000, return_tensors="pt").input_features
    with torch.inference_mode():
        plain = pipe.model.generate(features, num_beams=1, language="en", begin_suppress_tokens=None)
        assisted = pipe.model.generate(features, num_beams=1, language="en", assistant_model=assistant)
    assert plain.shape[1] > 4
    assert torch.equal(plain, assisted)


@pytest.mark.parametrize("switch", ["ADS_WHISPER_COMPILE", "ADS_WHISPER_ASSISTANT"])
def test_switched_on_the_transcript_is_unchanged(monkeypatch: pytest.MonkeyPatch, tiny_hf_home: Path,
                                                 clip: AudioClip, switch: str, restore_stance: None) -> None:
    options = TranscribeOptions(language="en", detect_silence=False)
    plain = transcribe(clip, TURBO, options, loader=ModelLoader(budget_mb=100_000, placement=CPU))
    monkeypatch.setenv(switch, "on")
    loader = ModelLoader(budget_mb=100_000, placement=CPU)
    fast = loader.entry(TURBO).model.model.fast_decoding
    assert (fast.assistant is not None) == (switch == "ADS_WHISPER_ASSISTANT") and fast.static_cache == (
        switch == "ADS_WHISPER_COMPILE")
    expected = {"assistant_model": fast.assistant} if fast.assistant is not None else {"cache_implementation": "static"}
    assert fast.generate_kwargs(batch_size=1, num_beams=1, word_timestamps=False) == expected
    assert fast.generate_kwargs(batch_size=1, num_beams=2, word_timestamps=False) == {}
    assert fast.generate_kwargs(batch_size=8, num_beams=1, word_timestamps=False) == {}
    result = transcribe(clip, TURBO, options, loader=loader)
    assert result.text and result.text == plain.text
    assert [(s.start, s.end) for s in result.segments] == [(s.start, s.end) for s in plain.segments]


def test_recording_runs_keep_off_the_assistant() -> None:
    fast = fast_decoding.FastDecoding(static_cache=True, assistant=object())
    assert fast.generate_kwargs(batch_size=1, num_beams=1, word_timestamps=False, recording=True) == {
        "cache_implementation": "static"}
    assert fast.generate_kwargs(batch_size=1, num_beams=1, word_timestamps=True) == {}
