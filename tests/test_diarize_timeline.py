"""The playable timeline's markup (shared/audio/play_timeline.py) for diarization turns, who-said-what lines and
transcript segments: lanes in order of appearance, bars placed in percent of the clip with their hover text, words
and names escaped (they come from users and recognisers), the player's URL; the browser behaviour is checked in
tests/test_app_browser.py."""

from __future__ import annotations

import re

from shared.audio.play_timeline import TimelineItem, file_url, play_timeline_html
from shared.diarize import run as dz
from shared.diarize import views
from shared.diarize.rttm import Turn
from shared.serving.timeline_widget import segments_timeline


def test_turns_become_lanes_and_bars() -> None:
    turns = [Turn(5.0, 7.5, "SPEAKER_01"), Turn(0.0, 5.0, "SPEAKER_00"), Turn(6.0, 8.0, "SPEAKER_00")]
    result = dz.Diarization.from_turns(turns, 10.0)
    result.speech = [(0.0, 8.0)]
    markup = views.playable_timeline(result, "/tmp/gradio/abc/my file.wav", [Turn(0.0, 4.0, "ann")])
    lanes = re.findall(r'class="tl-label"[^>]*>([^<]+)<', markup)
    assert lanes == ["SPEAKER_00", "speech (VAD)", "ref ann", "SPEAKER_01"]  # by first appearance
    starts = re.findall(r'data-start="([\d.]+)"', markup)
    assert len(starts) == 5 and "5.000" in starts
    assert 'x="50.0000%"' in markup and 'width="25.0000%"' in markup  # 5.0-7.5 s of 10 s
    assert 'data-tip="SPEAKER_01 · 00:05.0–00:07.5"' in markup
    assert 'src="gradio_api/file=/tmp/gradio/abc/my%20file.wav"' in markup


def test_user_text_is_escaped() -> None:
    evil = '<img src=x onerror="alert(1)">'
    markup = play_timeline_html([TimelineItem(evil, 0.0, 1.0, evil)], 2.0, None)
    assert "<img" not in markup and "&lt;img" in markup and "<audio" not in markup  # no file: no player
    assert play_timeline_html([], 2.0, "/a.wav").startswith('<div class="tl-empty">')
    assert file_url(None) == ""


def test_lines_and_segments_show_their_words() -> None:
    rows = [["Ann", 0.5, 2.0, "Hello there."], ["Joe", 2.5, 4.0, "Hi!"]]
    markup = views.lines_timeline(rows, 5.0, "/a.wav")
    assert 'data-tip="Joe · 00:02.5–00:04.0 · Hi!"' in markup
    transcript = {"audio_s": 4.0, "segments": [{"start": 0.0, "end": 2.8, "text": " The quick brown fox."}]}
    assert 'data-tip="segments · 00:00.0–00:02.8 · The quick brown fox."' in segments_timeline("/a.wav", transcript)
    assert segments_timeline("/a.wav", {"segments": []}) == "" and segments_timeline(None, transcript) == ""
