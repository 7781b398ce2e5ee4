"""Every ASR registry model through the Transcribe tab's functions (tiny random models, real code path)."""

from __future__ import annotations

import numpy as np
import pytest

from shared.audio.intake import AudioClip, resample
from shared.errors import UserError
from shared.models import registry
from shared.outputs.subtitles import parse_cues
from shared.outputs.text_metrics import wer
from shared.transcribe.run import MOONSHINE_MAX_CHUNK_S, TranscribeOptions, speech_chunks, transcribe
from shared.transcribe.views import ctc_view_markdown, ctc_view_rows, write_outputs
from tests.speech_data import PIPER_SENTENCES, synthesize
from tests.tiny_models.transformers_models import MOONSHINE_TEXT

HUB_ASR = [spec for spec in registry.models_for(registry.ASR) if not spec.offline]
WHISPER = [spec.id for spec in HUB_ASR if spec.family == "whisper"]
MULTILINGUAL = [model_id for model_id in WHISPER if not model_id.endswith(".en")]
CTC = [spec.id for spec in HUB_ASR if spec.family == "ctc"]
MOONSHINE = [spec.id for spec in HUB_ASR if spec.family == "moonshine-streaming"]
LONG_REPEATS = 12


@pytest.fixture(scope="module")
def speech(tiny_hf_home) -> AudioClip:
    samples, rate = synthesize(" ".join(PIPER_SENTENCES[:2]))
    return AudioClip(resample(samples, rate, 16_000), 16_000, rate, 1, "wav", "speech.wav")


@pytest.fixture(scope="module")
def long_speech(speech: AudioClip) -> AudioClip:
    """LONG_REPEATS whole repetitions (~70 s): three 30 s windows for long-form decoding."""
    gap = np.zeros(8_000, np.float32)
    samples = np.tile(np.concatenate([speech.samples, gap]), LONG_REPEATS)
    return AudioClip(samples, 16_000, 16_000, 1, "wav", "long.wav")


@pytest.mark.parametrize("model_id", WHISPER + CTC)
@pytest.mark.parametrize("timestamps", ["none", "segment", "word"])
def test_short_clip_every_model(speech: AudioClip, model_id: str, timestamps: str) -> None:
    result = transcribe(speech, model_id, TranscribeOptions(timestamps=timestamps))
    assert result.text and result.segments and not result.no_speech
    assert all(0 <= s.start <= s.end <= speech.duration_s + 1.0 for s in result.segments)
    if timestamps == "word":
        assert result.words
    if timestamps == "none":
        assert len(result.segments) == 1
    assert result.compute_s > 0 and result.device == "cpu"
    for path in write_outputs(result):
        if path.endswith((".srt", ".vtt")):
            assert len(parse_cues(open(path).read())) == len(result.segments)


@pytest.mark.parametrize("model_id", WHISPER + CTC)
def test_long_form_every_model(long_speech: AudioClip, model_id: str) -> None:
    result = transcribe(long_speech, model_id, TranscribeOptions(timestamps="segment", batch_size=4))
    assert result.text
    assert result.segments[-1].end <= long_speech.duration_s + 1.0


@pytest.mark.parametrize("model_id", MULTILINGUAL)
def test_translate_language_and_detection(speech: AudioClip, model_id: str) -> None:
    detected = transcribe(speech, model_id, TranscribeOptions())
    assert detected.language is not None and 0 <= detected.language_probability <= 1
    forced = transcribe(speech, model_id, TranscribeOptions(language="fr", task="translate", beam_size=2))
    assert forced.language == "fr" and forced.text


def test_real_whisper_weights_on_piper_speech(speech: AudioClip, long_speech: AudioClip) -> None:
    """openai/whisper-tiny.en in the fixture holds real weights (converted from the shipped CTranslate2 model)."""
    reference = " ".join(PIPER_SENTENCES[:2])
    for timestamps in ("none", "segment", "word"):
        result = transcribe(speech, "openai/whisper-tiny.en", TranscribeOptions(timestamps=timestamps))
        assert wer(reference, result.text) <= 0.10, (timestamps, result.text)
    long_result = transcribe(long_speech, "openai/whisper-tiny.en", TranscribeOptions(batch_size=4))
    assert wer(" ".join([reference] * LONG_REPEATS), long_result.text) <= 0.25, long_result.text


def test_real_whisper_weights_on_pyannote_sample(tiny_hf_home) -> None:
    from shared.audio.intake import load_audio
    from tests.speech_data import sample_reference_text, sample_wav

    clip = load_audio(sample_wav(), 16_000)
    for batch_size in (1, 4):
        result = transcribe(clip, "openai/whisper-tiny.en", TranscribeOptions(batch_size=batch_size))
        assert wer(sample_reference_text(), result.text) <= 0.25, result.text


@pytest.mark.parametrize("model_id", CTC)
def test_ctc_view(speech: AudioClip, model_id: str) -> None:
    result = transcribe(speech, model_id)
    frames = result.ctc
    assert frames is not None and abs(len(frames.tokens) * frames.frame_s - speech.duration_s) < 0.1
    rows = ctc_view_rows(result)
    assert rows and all(len(row) == 4 for row in rows)
    assert "merge repeats" in ctc_view_markdown(result)


# ---- Moonshine Streaming: text only, one segment per speech chunk between VAD pauses -------------------------------
def test_moonshine_sizes_are_registered() -> None:
    assert MOONSHINE == [f"UsefulSensors/moonshine-streaming-{size}" for size in ("tiny", "small", "medium")]


@pytest.mark.parametrize("model_id", MOONSHINE)
@pytest.mark.parametrize("timestamps", ["none", "segment", "word"])
def test_moonshine_short_clip(speech: AudioClip, model_id: str, timestamps: str) -> None:
    """The tiny stand-ins say MOONSHINE_TEXT whatever the audio: the text arrives whole, segments are the speech
    span Silero found (not the padded clip), and word timestamps give no words rather than invented ones."""
    result = transcribe(speech, model_id, TranscribeOptions(timestamps=timestamps))
    assert result.text == MOONSHINE_TEXT and result.language == "en" and not result.no_speech
    assert len(result.segments) == 1 and result.words == []
    segment = result.segments[0]
    if timestamps == "none":
        assert (segment.start, segment.end) == (0.0, speech.duration_s)
    else:
        assert 0 < segment.start < 0.5 and speech.duration_s - 0.5 < segment.end <= speech.duration_s
    assert result.compute_s > 0 and result.device == "cpu"
    for path in write_outputs(result):
        if path.endswith((".srt", ".vtt")):
            assert len(parse_cues(open(path).read())) == len(result.segments)


@pytest.mark.parametrize("model_id", MOONSHINE[:1])
def test_moonshine_long_form_one_segment_per_utterance(long_speech: AudioClip, model_id: str) -> None:
    """~70 s (past what one decode should take): each repetition, between 0.5 s+ pauses, is its own chunk."""
    result = transcribe(long_speech, model_id, TranscribeOptions(timestamps="segment", beam_size=2))
    assert len(result.segments) == LONG_REPEATS
    assert result.text == " ".join([MOONSHINE_TEXT] * LONG_REPEATS)
    ends = [0.0] + [edge for segment in result.segments for edge in (segment.start, segment.end)]
    assert ends == sorted(ends) and ends[-1] <= long_speech.duration_s
    assert all(segment.end - segment.start <= MOONSHINE_MAX_CHUNK_S for segment in result.segments)


def test_moonshine_caps_tokens_by_duration_and_pads_frames(tiny_hf_home) -> None:
    """0.3 s of any length (not whole 80-sample frames) decodes, and at most 4 tokens come out (6.5 per second,
    at least 4): the tiny model's sentence stops after "Hello from"."""
    noise = (np.random.default_rng(1).standard_normal(4_801) * 0.1).astype(np.float32)
    clip = AudioClip(noise, 16_000, 16_000, 1, "wav", "noise.wav")
    result = transcribe(clip, MOONSHINE[0], TranscribeOptions(detect_silence=False))
    assert result.text == "Hello from"


def test_moonshine_is_english_only(speech: AudioClip) -> None:
    for options in (TranscribeOptions(task="translate"), TranscribeOptions(language="fr")):
        with pytest.raises(UserError, match="English-only"):
            transcribe(speech, MOONSHINE[0], options)


def test_speech_chunks_join_close_regions_and_cut_long_ones() -> None:
    assert speech_chunks([(1.0, 2.0), (2.3, 3.0), (4.0, 5.0)], 6.0) == [(1.0, 3.0), (4.0, 5.0)]
    assert speech_chunks([(0.0, 15.0), (15.2, 25.0)], 25.0) == [(0.0, 15.0), (15.2, 25.0)]  # joined: 25 s > 20 s
    assert speech_chunks([(0.0, 50.0)], 50.0) == [(0.0, 50 / 3), (50 / 3, 100 / 3), (100 / 3, 50.0)]
    assert speech_chunks([], 30.0) == [(0.0, 15.0), (15.0, 30.0)]  # no VAD regions: the whole clip
