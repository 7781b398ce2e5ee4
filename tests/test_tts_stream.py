"""Streaming text to speech: `synthesize_stream` makes the same audio as `synthesize` piece by piece (the first before
the rest is made), refuses what `synthesize` refuses, bounds its memory on long texts; the tab's `/tts_stream`
handler keeps its inside recording whole when Gradio steps it from several threads, and the endpoint streams
through gradio_client."""

from __future__ import annotations

import collections
import inspect
import io
import re
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from shared.errors import UserError
from shared.models.loader import get_loader
from shared.tts import run as tts
from shared.tts import views
from shared.tts.text import MAX_CHARS

SENTENCES = [f"This is sentence number {number}, read by the built-in voice." for number in range(1, 9)]
TEXT = " ".join(SENTENCES)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def split(items: list[tts.SpeechPiece | tts.Speech]) -> tuple[list[tts.SpeechPiece], tts.Speech]:
    *pieces, speech = items
    assert all(isinstance(piece, tts.SpeechPiece) for piece in pieces) and isinstance(speech, tts.Speech)
    return pieces, speech


@pytest.fixture
def quiet_piper(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The built-in voice without its unseeded noise (onnxruntime's random ops), so two runs are sample-identical."""
    with get_loader().use(tts.OFFLINE_VOICE) as voice:
        monkeypatch.setattr(voice.config, "noise_scale", 0.0)
        monkeypatch.setattr(voice.config, "noise_w_scale", 0.0)
        yield voice


# ---- the stream itself ---------------------------------------------------------------------------------------------
def test_piper_pieces_make_the_same_audio_as_synthesize(quiet_piper: Any) -> None:
    whole = tts.synthesize(TEXT, tts.OFFLINE_VOICE)
    pieces, speech = split(list(tts.synthesize_stream(TEXT, tts.OFFLINE_VOICE)))
    assert len(pieces) == len(SENTENCES)  # Piper speaks sentence by sentence
    assert [piece.index for piece in pieces] == list(range(len(SENTENCES)))
    assert [piece.pause_s for piece in pieces] == [0.0] + [tts.PAUSE_S] * (len(SENTENCES) - 1)
    np.testing.assert_array_equal(np.concatenate([piece.samples for piece in pieces]), whole.samples)
    np.testing.assert_array_equal(speech.samples, whole.samples)
    assert (speech.sample_rate, speech.chunks, speech.text, speech.voice) == (whole.sample_rate, whole.chunks,
                                                                             whole.text, whole.voice)
    assert len(speech.inside.sentences) == len(SENTENCES) and speech.compute_s > 0


def test_seeded_vits_stream_matches_synthesize(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tts.CHUNK_CHARS, "vits", 30)
    text = "The first sentence is here. A second one follows. And a third."
    whole = tts.synthesize(text, "facebook/mms-tts-eng", seed=7)
    pieces, speech = split(list(tts.synthesize_stream(text, "facebook/mms-tts-eng", seed=7)))
    assert len(pieces) == whole.chunks == 3 and len(speech.inside.parts) == 3
    np.testing.assert_array_equal(np.concatenate([piece.samples for piece in pieces]), whole.samples)


def test_the_first_piece_comes_before_the_rest_is_made(quiet_piper: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[float] = []
    original = quiet_piper.phoneme_ids_to_audio

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(time.perf_counter())
        return original(*args, **kwargs)

    monkeypatch.setattr(quiet_piper, "phoneme_ids_to_audio", counting)
    start = time.perf_counter()
    stream = tts.synthesize_stream(TEXT, tts.OFFLINE_VOICE)
    first = next(stream)
    first_s = time.perf_counter() - start
    assert isinstance(first, tts.SpeechPiece) and len(made) == 1  # one sentence made, seven still to make
    pieces, _ = split([first, *stream])
    total_s = time.perf_counter() - start
    assert len(made) == len(pieces) == len(SENTENCES)
    assert first_s < 0.6 * total_s, (first_s, total_s)  # about 1/8 here; generous for a busy machine


def test_the_stream_refuses_what_synthesize_refuses() -> None:
    for text in (None, "", "  \n ", "🎉🎉"):
        with pytest.raises(UserError) as refused:
            tts.synthesize(text)
        with pytest.raises(UserError, match=re.escape(str(refused.value))):
            tts.synthesize_stream(text)  # at the call, before any model loads
    with pytest.raises(UserError) as too_long:
        tts.synthesize("a" * (MAX_CHARS + 1))
    with pytest.raises(UserError, match=re.escape(str(too_long.value))):
        tts.synthesize_stream("a" * (MAX_CHARS + 1), max_chars=MAX_CHARS)
    with pytest.raises(UserError, match="10001 characters long; the limit here is 10000"):
        tts.synthesize_stream("a" * (tts.MAX_CHARS_STREAM + 1))
    assert tts.synthesize_stream("a" * tts.MAX_CHARS_STREAM) is not None  # 10,000 characters may stream
    with pytest.raises(UserError, match="the limit here is 600"):
        tts.synthesize_stream("a" * 601, "suno/bark-small")
    with pytest.raises(UserError, match="seed must be between"):
        tts.synthesize_stream("Hello", seed=-1)


def test_a_long_stream_keeps_one_copy_of_the_audio(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pieces pass through; the stream holds them and, at the end, the joined audio: 2x the audio at the peak."""
    monkeypatch.setitem(tts.CHUNK_CHARS, "vits", 60)
    text = " ".join(["A short sentence to read, and another clause after it."] * 6)
    tts.synthesize("Hello.", "facebook/mms-tts-eng")  # loaded first: the load's allocations are not the stream's
    tracemalloc.start()
    try:
        # a consumer that plays each piece and drops it; the last item is the Speech
        item = collections.deque(tts.synthesize_stream(text, "facebook/mms-tts-eng", seed=1), maxlen=1).pop()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(item, tts.Speech) and item.chunks == 6
    assert peak < 2.5 * item.samples.nbytes + 2e6, (peak, item.samples.nbytes)


# ---- the tab's handler and the endpoint ---------------------------------------------------------------------------
def steps_on_other_threads(generator: Iterator[Any]) -> list[Any]:
    """Step a generator handler as Gradio does: each next() on whichever pool thread is free."""
    steps = []
    with ThreadPoolExecutor(4) as pool:
        while (step := pool.submit(next, generator, None).result()) is not None:
            steps.append(step)
    return steps


def test_handler_streams_wav_bytes_and_keeps_the_recording_whole(tiny_hf_home: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tabs import tts as tab

    assert inspect.isgeneratorfunction(tab.run_tts_stream)  # through its decorators: Gradio streams it as it is
    monkeypatch.setitem(tts.CHUNK_CHARS, "speecht5", 6)  # "Hi. Bye." in two generations
    outputs = [step for step in steps_on_other_threads(tab.run_tts_stream("Hi. Bye.", "microsoft/speecht5_tts",
                                                                          "random", inside=False))
               if isinstance(step, tuple)]
    *streamed, final = outputs
    assert len(streamed) == 2 and all(len(step) == 1 + tab.WHOLE_OUTPUTS for step in outputs)
    rate = sf.info(io.BytesIO(streamed[0][0])).samplerate
    wav, _, info, details, recording, _, _ = final[1:]
    assert rate == details["sample_rate"] and details["chunks"] == 2 and "real-time factor" in info
    assert len(recording.trace.parts) == 2  # both generations recorded, whichever thread stepped the handler
    assert sf.info(wav).frames == round(details["duration_s"] * rate)


def test_tts_stream_api(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    start = time.perf_counter()
    job = client.submit(" ".join(SENTENCES[:4]), tts.OFFLINE_VOICE, api_name="/tts_stream")
    arrivals = [time.perf_counter() - start for outputs in job if isinstance(outputs[0], str)]
    done_s = time.perf_counter() - start
    _, wav, spectrogram, info, details, _, _ = job.outputs()[-1]
    assert len(arrivals) == 4 and arrivals[0] < done_s
    samples, rate = sf.read(wav, dtype="float32")
    assert rate == 22_050 == details["sample_rate"] and samples.std() > 0.01 and Path(spectrogram).is_file()
    assert "real-time factor" in info and details["chunks"] == 1
    with pytest.raises(Exception, match="nothing to speak"):
        client.predict("🎉🎉", tts.OFFLINE_VOICE, api_name="/tts_stream")


def test_wav_bytes_clip_a_loud_piece() -> None:
    piece = tts.SpeechPiece(np.array([0.5, -2.0, 2.0], np.float32), 8000, 1, 0.001)
    samples, rate = sf.read(io.BytesIO(views.wav_bytes(piece)), dtype="float32")
    assert rate == 8000 and len(samples) == 8 + 3 and np.abs(samples).max() <= 1.0 and not samples[:8].any()
