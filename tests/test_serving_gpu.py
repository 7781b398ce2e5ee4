"""ZeroGPU: with a stand-in `spaces` module the handler runs under spaces.GPU with the estimated duration."""

from __future__ import annotations

import sys
import types

import pytest

from shared.serving import estimates, slots, zero_gpu


class FakeSpaces(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("spaces")
        self.calls: list[int] = []

    def GPU(self, duration):
        def decorate(fn):
            def run(*args, **kwargs):
                self.calls.append(duration(*args, **kwargs))
                return fn(*args, **kwargs)

            return run

        return decorate


def handler(audio_s: float, model: str = "x") -> str:
    """doc"""
    return f"{audio_s}-{model}"


@pytest.fixture
def fake_spaces(monkeypatch: pytest.MonkeyPatch) -> FakeSpaces:
    module = FakeSpaces()
    monkeypatch.setitem(sys.modules, "spaces", module)
    return module


def test_zero_gpu_wraps_with_estimated_duration(fake_spaces: FakeSpaces, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    wrapped = zero_gpu.gpu_task(lambda audio_s, model="x": audio_s * 0.5)(handler)
    assert wrapped(100.0, model="y") == "100.0-y"
    assert wrapped(1000.0) == "1000.0-x"
    assert wrapped(1.0) == "1.0-x"
    assert fake_spaces.calls == [50, zero_gpu.MAX_S, zero_gpu.MIN_S]
    assert wrapped.__doc__ == "doc" and wrapped.__name__ == "handler"


def test_broken_estimate_falls_back(fake_spaces: FakeSpaces, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    wrapped = zero_gpu.gpu_task(lambda *a, **k: 1 / 0)(handler)
    assert wrapped(3.0) == "3.0-x" and fake_spaces.calls == [zero_gpu.MAX_S // 2]


def test_no_op_elsewhere(fake_spaces: FakeSpaces, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    wrapped = zero_gpu.gpu_task(lambda *a: 10)(handler)
    assert wrapped(2.0) == "2.0-x" and wrapped.__wrapped__ is handler
    assert fake_spaces.calls == []


def test_in_flight_counter_tracks_concurrent_calls() -> None:
    import threading

    counter = slots.InFlight(3)
    inside = threading.Barrier(4)  # three workers inside the counter, and this thread
    release = threading.Event()

    def work() -> None:
        with counter:
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert counter.current == counter.maximum == 3
    release.set()
    for thread in threads:
        thread.join()
    assert counter.current == 0 and counter.maximum == 3


def test_in_flight_slots_hold_back_work_beyond_the_limit() -> None:
    """A worker beyond the limit waits for a slot (a cancelled job's worker still finishing holds its slot)."""
    import threading
    import time

    counter = slots.InFlight(1)
    entered = threading.Event()

    def work() -> None:
        with counter:
            entered.set()

    with counter:
        waiting = threading.Thread(target=work)
        waiting.start()
        time.sleep(0.6)
        assert not entered.is_set()
    waiting.join(timeout=5)
    assert entered.is_set() and counter.maximum == 1 and counter.current == 0


def test_app_handlers_run_under_zero_gpu(fake_spaces: FakeSpaces, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ZeroGPU on, the tabs' model-bound handlers are wrapped at import and report input-based durations."""
    import importlib

    from shared.serving.widgets import EXAMPLES_DIR

    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    import tabs.transcribe
    import tabs.tts

    try:
        transcribe_tab = importlib.reload(tabs.transcribe)
        tts_tab = importlib.reload(tabs.tts)
        text = transcribe_tab.run_transcribe(str(EXAMPLES_DIR / "speech_piper.wav"), "offline:whisper-tiny.en")[0]
        assert "lazy dog" in text
        tts_tab.run_tts("Hello there.", "offline:piper-en_US-joe-medium")
        assert fake_spaces.calls == [zero_gpu.clamp_duration(20 + 0.25 * 5.33), zero_gpu.clamp_duration(20 + 0.05 * 12)]
    finally:
        monkeypatch.delenv("SPACES_ZERO_GPU")
        importlib.reload(tabs.transcribe)
        importlib.reload(tabs.tts)


def test_estimates_scale_with_model_size() -> None:
    from shared.serving.widgets import EXAMPLES_DIR

    speech = str(EXAMPLES_DIR / "speech_piper.wav")
    small = estimates.estimate_from_audio(speech, "openai/whisper-tiny")
    large = estimates.estimate_from_audio(speech, model="openai/whisper-large-v3-turbo")
    assert large > small and estimates.model_scale(["suno/bark", "x"]) > 4
    assert estimates.estimate_from_text("hi " * 100, "suno/bark-small") > estimates.estimate_from_text("hi " * 100, "x")
