"""Transcription building blocks and the built-in offline engine on real speech."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from shared.audio.intake import AudioClip, load_audio, resample
from shared.errors import UserError
from shared.outputs.subtitles import Cue, parse_cues, to_srt, to_vtt
from shared.outputs.text_metrics import cer, normalize, wer, word_diff_html
from shared.transcribe import ctc
from shared.transcribe.ctc import CtcFrames
from shared.transcribe.run import TranscribeOptions, Word, ctc_words, segments_from_words, transcribe
from shared.transcribe.views import COMPARE_HEADERS, compare_rows, ctc_view_markdown, ctc_view_rows, write_outputs
from tests.speech_data import PIPER_ROUND_TRIP_WER, PIPER_SENTENCES, sample_reference_text, sample_wav, synthesize

OFFLINE = "offline:whisper-tiny.en"


# ---- CTC collapse on hand-made frames -----------------------------------------------------------------------------
@pytest.mark.parametrize(("frames", "expected"), [
    ("_ _ H H _ E E _ L L _ L O O _", "HELLO"),
    ("H E L L O", "HELO"),  # no blank between the l's: they merge
    ("_ _ _", ""),
    ("A | | B", "A|B"),
    ("C _ C _ C", "CCC"),
])
def test_ctc_collapse_known_answers(frames: str, expected: str) -> None:
    tokens = ["<pad>" if t == "_" else t for t in frames.split()]
    collapsed, steps = ctc.collapse(tokens)
    assert collapsed == expected
    assert len(steps) == len(tokens)
    assert [s.reason for s in steps if s.token == "<pad>"] == ["blank"] * tokens.count("<pad>")


def test_ctc_words_and_runs() -> None:
    tokens = "_ H H _ I _ | | _ Y O U U _".split()
    frames = CtcFrames(0.02, ["<pad>" if t == "_" else t for t in tokens], "<pad>", "|")
    words = ctc_words(frames)
    assert [w.text for w in words] == ["hi", "you"]
    assert words[0].start == pytest.approx(0.02) and words[0].end == pytest.approx(0.10)
    assert words[1].start == pytest.approx(9 * 0.02) and words[1].end == pytest.approx(13 * 0.02)
    assert ctc.runs(["a", "a", "b"]) == [("a", 0, 1), ("b", 2, 2)]
    assert ctc.tokens_to_text("HI|YOU") == "HI YOU"


# ---- subtitles ----------------------------------------------------------------------------------------------------
def test_srt_and_vtt_round_trip() -> None:
    cues = [Cue(0.0, 1.5, "Hello there."), Cue(61.25, 3725.007, "An hour --> later\n\nnext")]
    srt = to_srt(cues)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n")
    assert "01:02:05,007" in srt
    for text in (srt, to_vtt(cues)):
        parsed = parse_cues(text)
        assert [(c.start, c.end) for c in parsed] == [(0.0, 1.5), (61.25, 3725.007)]
        assert parsed[1].text == "An hour -> later next"
    assert to_vtt(cues).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500")
    with pytest.raises(ValueError):
        parse_cues("1\n00:00:01 --> 2\nbad\n")


# ---- text metrics -------------------------------------------------------------------------------------------------
def test_wer_cer_and_diff() -> None:
    assert normalize("Hello, World!") == "hello world"
    assert wer("the cat sat", "the cat sat") == 0.0
    assert wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert cer("abcd", "abce") == pytest.approx(0.25)
    diff = word_diff_html("the cat sat", "the <b>bat</b> sat down")
    assert "<del>cat</del>" in diff and "<ins>bat</ins>" in diff and "<b>" not in diff


def test_segments_from_words() -> None:
    words = [Word(0, 0.5, "Hello."), Word(0.6, 1.0, "How"), Word(1.1, 1.4, "are"), Word(3.0, 3.5, "you?")]
    segments = segments_from_words(words)
    assert [s.text for s in segments] == ["Hello.", "How are", "you?"]


# ---- the built-in offline engine on real speech ---------------------------------------------------------------------
def _clip(samples: np.ndarray, rate: int) -> AudioClip:
    return AudioClip(resample(samples, rate, 16_000), 16_000, rate, 1, "wav", "speech.wav")


def test_offline_engine_on_piper_speech_wer_under_10_percent() -> None:
    samples, rate = synthesize(" ".join(PIPER_SENTENCES))
    result = transcribe(_clip(samples, rate), OFFLINE, TranscribeOptions(timestamps="word"))
    assert wer(" ".join(PIPER_SENTENCES), result.text) <= PIPER_ROUND_TRIP_WER, result.text
    assert result.language == "en" and result.engine == "faster-whisper"
    words = result.words
    assert len(words) >= 40 and all(0 <= w.start <= w.end <= result.audio_s + 0.5 for w in words)
    assert all(b.start >= a.start for a, b in itertools.pairwise(words))


def test_offline_engine_on_pyannote_sample_wer_under_25_percent() -> None:
    clip = load_audio(sample_wav(), 16_000)
    result = transcribe(clip, OFFLINE)
    assert wer(sample_reference_text(), result.text) <= 0.25, result.text
    files = write_outputs(result)
    srt = next(f for f in files if f.endswith(".srt"))
    cues = parse_cues(open(srt).read())
    assert len(cues) == len(result.segments) >= 3


@pytest.mark.parametrize("kind", ["silence", "noise"])
def test_no_speech_is_not_invented(kind: str) -> None:
    rng = np.random.default_rng(0)
    samples = np.zeros(16_000 * 4, np.float32) if kind == "silence" else \
        (rng.standard_normal(16_000 * 4) * 0.05).astype(np.float32)
    result = transcribe(_clip(samples, 16_000), OFFLINE)
    assert result.no_speech and result.text == "" and result.segments == []


def test_english_only_refuses_translate_and_other_languages() -> None:
    samples, rate = synthesize("Hello world.")
    with pytest.raises(UserError, match="English-only"):
        transcribe(_clip(samples, rate), OFFLINE, TranscribeOptions(task="translate"))
    with pytest.raises(UserError, match="English-only"):
        transcribe(_clip(samples, rate), OFFLINE, TranscribeOptions(language="de"))


def test_bad_options_and_wrong_model() -> None:
    clip = _clip(np.zeros(16_000, np.float32), 16_000)
    with pytest.raises(UserError, match="timestamps"):
        transcribe(clip, OFFLINE, TranscribeOptions(timestamps="char"))
    with pytest.raises(UserError, match="not a speech-recognition model"):
        transcribe(clip, "laion/clap-htsat-unfused")


def test_compare_rows_with_reference() -> None:
    samples, rate = synthesize(PIPER_SENTENCES[0])
    result = transcribe(_clip(samples, rate), OFFLINE, TranscribeOptions(timestamps="none"))
    rows, diff_html = compare_rows([result, result], PIPER_SENTENCES[0])
    cells = dict(zip(COMPARE_HEADERS, rows[0], strict=True))
    assert cells["model"] == OFFLINE and cells["WER"] <= 0.1 and len(rows) == 2
    assert (cells["engine"], cells["architecture"], cells["year"], cells["params (M)"]) == \
        ("faster-whisper", "seq2seq", 2022, 39)
    assert cells["load (s)"] >= 0 and cells["compute (s)"] > 0 and cells["RTF"] > 0
    assert "reference text" in diff_html
    assert ctc_view_rows(result) == [] and "CTC model" in ctc_view_markdown(result)


def test_stereo_file_gives_its_mono_transcript(tmp_path) -> None:
    import soundfile as sf

    samples, rate = synthesize(PIPER_SENTENCES[0])
    mono_path, stereo_path = tmp_path / "mono.wav", tmp_path / "stereo.wav"
    sf.write(mono_path, samples, rate, subtype="PCM_16")
    sf.write(stereo_path, np.stack([samples, samples], axis=1), rate, subtype="PCM_16")
    mono = transcribe(load_audio(mono_path, 16_000), OFFLINE).text
    stereo_clip = load_audio(stereo_path, 16_000)
    assert stereo_clip.source_channels == 2
    assert transcribe(stereo_clip, OFFLINE).text == mono
