"""faster-whisper's input picture is drawn while the engine decodes (a background thread: CTranslate2 releases the
GIL), only when the caller will show it, and it is the picture the views would have drawn afterwards."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from shared.audio.dsp import whisper_log_mel
from shared.audio.intake import load_audio
from shared.audio.plots import whisper_window_image
from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe import capture
from shared.transcribe.inside import inside_views
from shared.transcribe.run import transcribe

OFFLINE = "offline:whisper-tiny.en"


@pytest.fixture
def drawn_in(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that drew the input picture in capture.py."""
    threads: list[str] = []
    original = capture.whisper_window_image

    def recording(*args: Any) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(capture, "whisper_window_image", recording)
    return threads


def test_input_picture_is_drawn_during_the_run_and_matches_the_views(drawn_in: list[str]) -> None:
    clip = load_audio(EXAMPLES_DIR / "speech_piper.wav", 16_000)
    ahead = transcribe(clip, OFFLINE, inside=True, draw_inside=True)
    kept = ahead.inside
    assert drawn_in and all(name.startswith("inside-ahead") for name in drawn_in)
    assert kept.pending_input is None and kept.input_image is not None
    assert np.array_equal(kept.log_mel, whisper_log_mel(clip.samples, 80))
    assert np.array_equal(kept.input_image, whisper_window_image(kept.log_mel, clip.duration_s))
    assert np.array_equal(inside_views(ahead)[0].image, kept.input_image)

    drawn_in.clear()
    later = transcribe(clip, OFFLINE, inside=True)  # the section is closed: recorded, not drawn
    assert drawn_in == [] and later.inside.input_image is None
    assert np.array_equal(later.inside.log_mel, kept.log_mel)
    assert np.array_equal(inside_views(later)[0].image, kept.input_image)
    assert later.text == ahead.text
