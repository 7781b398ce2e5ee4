"""The Transcribe tab's own handlers (live microphone step, click-to-play), called as Gradio calls them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe.live import LIVE_LIMIT_S
from tabs.transcribe import live_step, play_segment
from tests.speech_data import synthesize

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")


class Select:
    def __init__(self, row: int) -> None:
        self.index = (row, 0)


@pytest.mark.parametrize("as_frame", [True, False])
def test_play_segment_cuts_the_row(as_frame: bool) -> None:
    rows = [[0.0, 1.0, "first"], [2.0, 2.5, "second"]]
    table = pd.DataFrame(rows, columns=["start", "end", "text"]) if as_frame else rows
    rate, samples = play_segment(SPEECH, table, Select(1))
    assert rate == 22_050 and len(samples) == int(0.5 * rate)


def test_live_step_grows_text_and_bounds_the_buffer() -> None:
    speech, rate = synthesize("The quick brown fox jumps over the lazy dog.")
    pcm = (speech * 32767).astype(np.int16)
    half = len(pcm) // 2
    text, buffer = live_step((rate, pcm[:half]), None, "offline:whisper-tiny.en")
    first_words = len(text.split())
    text, buffer = live_step((rate, pcm[half:]), buffer, "offline:whisper-tiny.en")
    assert "lazy dog" in text.lower() and len(text.split()) > first_words
    assert buffer[0] == 16_000 and abs(len(buffer[1]) - len(speech) * 16_000 / rate) < 200
    long_chunk = np.zeros((LIVE_LIMIT_S + 5) * 16_000, np.int16)
    _, buffer = live_step((16_000, long_chunk), buffer, "offline:whisper-tiny.en")
    assert len(buffer[1]) == LIVE_LIMIT_S * 16_000


def test_default_model_offline_fallback_and_cached_preference(tiny_hf_home, tmp_path) -> None:
    import os
    import subprocess
    import sys

    from shared.models.availability import default_model

    assert default_model("openai/whisper-base", "offline:whisper-tiny.en") == "openai/whisper-base"  # cached
    code = ("from shared.models.availability import default_model;"
            "print(default_model('openai/whisper-base', 'offline:whisper-tiny.en'))")
    env = {**os.environ, "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         cwd=EXAMPLES_DIR.parent)
    assert out.stdout.strip() == "offline:whisper-tiny.en", out.stderr
