"""The Transcribe tab's own handlers (live microphone step, click-to-play), called as Gradio calls them."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.serving.widgets import EXAMPLES_DIR
from tabs.transcribe import live_step, live_stop, play_segment
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


def test_live_step_commits_and_stop_gives_the_downloads() -> None:
    speech, rate = synthesize("The quick brown fox jumps over the lazy dog.")
    pcm = np.concatenate([(speech * 32767).astype(np.int16), np.zeros(rate, np.int16)])  # then 1 s of silence
    views, stream = [], None
    for begin in range(0, len(pcm), rate // 2):  # 0.5 s chunks, as the browser streams them
        view, stats, stream = live_step((rate, pcm[begin:begin + rate // 2]), stream, "offline:whisper-tiny.en")
        views.append(view)
    assert "lazy dog" in views[-1].lower() and "words" in stats
    committed = [view.split('live-committed">')[1].split("</span>")[0] for view in views if "live-committed" in view]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(committed))
    view, info, rows, files, state = live_stop(stream)
    assert "real-time factor" in info
    assert "lazy dog" in view.lower() and rows and state is None
    assert sorted(Path(path).suffix for path in files) == [".json", ".srt", ".vtt"]
    assert live_step(None, None, "offline:whisper-tiny.en")[2] is None
    stereo = np.stack([pcm[:rate], pcm[:rate]], axis=1)
    assert live_step((rate, stereo), None, "offline:whisper-tiny.en")[2].audio_s == 1.0


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
