"""Every ASR registry model through the Transcribe tab's functions (tiny random models, real code path)."""

from __future__ import annotations

import numpy as np
import pytest

from shared.audio.intake import AudioClip, resample
from shared.models import registry
from shared.outputs.subtitles import parse_cues
from shared.outputs.text_metrics import wer
from shared.transcribe.run import TranscribeOptions, transcribe
from shared.transcribe.views import ctc_view_markdown, ctc_view_rows, write_outputs
from tests.speech_data import PIPER_SENTENCES, synthesize

HUB_ASR = [spec for spec in registry.models_for(registry.ASR) if not spec.offline]
WHISPER = [spec.id for spec in HUB_ASR if spec.family == "whisper"]
MULTILINGUAL = [model_id for model_id in WHISPER if not model_id.endswith(".en")]
CTC = [spec.id for spec in HUB_ASR if spec.family == "ctc"]
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
