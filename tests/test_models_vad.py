"""Silero VAD through the sequence ONNX model: the same regions as silero's streaming JIT model, a silence gate that
stops at the first speech it finds (counted in model calls, not seconds), and one session shared by threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from shared.models.vad import SAMPLE_RATE, SileroVad, load_silero, speech_seconds
from tests.speech_data import sample_wav

TEN_MINUTES = 600 * SAMPLE_RATE  # samples


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return load_silero(None, None, {})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """pyannote's 30 s two-speaker sample at 16 kHz."""
    import soundfile as sf

    samples, rate = sf.read(sample_wav(), dtype="float32")
    assert rate == SAMPLE_RATE
    return samples


def jit_segments(samples: np.ndarray) -> list[tuple[float, float]]:
    """What the app used before: silero's streaming JIT model, window by window, through get_speech_timestamps."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    stamps = get_speech_timestamps(torch.from_numpy(samples), load_silero_vad(onnx=False), threshold=0.5,
                                   sampling_rate=SAMPLE_RATE, min_speech_duration_ms=250)
    return [(stamp["start"] / SAMPLE_RATE, stamp["end"] / SAMPLE_RATE) for stamp in stamps]


def test_same_regions_as_the_streaming_jit_model(vad: SileroVad, speech: np.ndarray) -> None:
    clip = np.concatenate([speech, np.zeros(3 * SAMPLE_RATE, np.float32), speech[: 7 * SAMPLE_RATE + 123]])
    regions = vad.speech_segments(clip)
    assert len(regions) >= 4
    assert regions == jit_segments(clip)


def test_silence_gate_stops_at_the_first_speech(vad: SileroVad, speech: np.ndarray) -> None:
    start = int(6.7 * SAMPLE_RATE)  # the sample's first words begin here
    clip = np.zeros(TEN_MINUTES, np.float32)
    clip[: 3 * SAMPLE_RATE] = speech[start: start + 3 * SAMPLE_RATE]  # speech in its first second
    vad.calls = 0
    full = vad.speech_segments(clip)
    full_calls, vad.calls = vad.calls, 0
    assert vad.has_speech(clip)
    assert speech_seconds(full) >= 0.2
    assert vad.calls * 50 <= full_calls  # 10 minutes are 293 calls; the gate needs 2 (4 s of audio)


@pytest.mark.parametrize("where", ["none", "late", "short"])
def test_silence_gate_answers_as_a_full_scan(vad: SileroVad, speech: np.ndarray, where: str) -> None:
    """Silence, speech only after 80 s, and a burst too short to count: the gate agrees with the regions."""
    clip = np.random.default_rng(0).normal(0, 0.003, 100 * SAMPLE_RATE).astype(np.float32)
    if where == "late":
        clip[80 * SAMPLE_RATE: 90 * SAMPLE_RATE] = speech[7 * SAMPLE_RATE: 17 * SAMPLE_RATE]
    if where == "short":
        clip[10 * SAMPLE_RATE: int(10.15 * SAMPLE_RATE)] = speech[8 * SAMPLE_RATE: int(8.15 * SAMPLE_RATE)]
    expected = speech_seconds(vad.speech_segments(clip)) >= 0.2
    assert vad.has_speech(clip) is expected
    assert expected is (where == "late")


def test_one_session_serves_threads(vad: SileroVad, speech: np.ndarray) -> None:
    expected = vad.speech_segments(speech)
    results: list[list] = []
    threads = [threading.Thread(target=lambda: results.append(vad.speech_segments(speech))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_short_and_empty_clips(vad: SileroVad) -> None:
    assert vad.speech_segments(np.zeros(0, np.float32)) == []
    assert not vad.has_speech(np.zeros(0, np.float32))
    assert not vad.has_speech(np.zeros(100, np.float32))
