"""Every ASR registry model through the Transcribe tab's functions (tiny random models, real code path)."""

from __future__ import annotations

import itertools

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
WHISPER = [spec.id for spec in HUB_ASR if spec.family == "whisper" and spec.engine == "transformers"]
MULTILINGUAL = [model_id for model_id in WHISPER if not model_id.endswith(".en")]
CTC = [spec.id for spec in HUB_ASR if spec.family == "ctc"]
MOONSHINE = [spec.id for spec in HUB_ASR if spec.family == "moonshine-streaming"]
PARAKEET_CTC = [spec.id for spec in HUB_ASR if spec.family == "parakeet-ctc"]
TDT = [spec.id for spec in HUB_ASR if spec.family == "parakeet-tdt"]
MOONSHINE_V1 = [spec.id for spec in HUB_ASR if spec.family == "moonshine"]
CT2 = [spec.id for spec in HUB_ASR if spec.engine == "faster-whisper"]
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


# ---- models issue: Parakeet CTC / TDT, Moonshine, Distil-Whisper v3.5, Whisper on CTranslate2 -----------------------
def test_new_models_are_registered_with_their_facts() -> None:
    assert PARAKEET_CTC == ["nvidia/parakeet-ctc-0.6b", "nvidia/parakeet-ctc-1.1b"]
    assert TDT == ["nvidia/parakeet-tdt-0.6b-v3"]
    assert MOONSHINE_V1 == ["UsefulSensors/moonshine-tiny", "UsefulSensors/moonshine-base"]
    assert "distil-whisper/distil-large-v3.5" in WHISPER
    assert CT2 == ["Systran/faster-whisper-tiny", "Systran/faster-whisper-tiny.en", "Systran/faster-whisper-base",
                   "Systran/faster-whisper-small", "Systran/faster-whisper-large-v3",
                   "deepdml/faster-whisper-large-v3-turbo-ct2"]
    architectures = {model_id: registry.get_spec(model_id).architecture for model_id in PARAKEET_CTC + TDT}
    assert architectures == {"nvidia/parakeet-ctc-0.6b": "CTC", "nvidia/parakeet-ctc-1.1b": "CTC",
                             "nvidia/parakeet-tdt-0.6b-v3": "transducer"}
    assert registry.get_spec(TDT[0]).languages == "25 European languages"


@pytest.mark.parametrize("model_id", PARAKEET_CTC + TDT + MOONSHINE_V1)
@pytest.mark.parametrize("timestamps", ["none", "segment", "word"])
def test_new_models_short_clip(speech: AudioClip, model_id: str, timestamps: str) -> None:
    """Text, segments inside the clip, words with word timestamps where the model gives them (Parakeet CTC from
    its greedy path, TDT from its emitted frames; Moonshine gives none rather than invented ones), subtitles."""
    result = transcribe(speech, model_id, TranscribeOptions(timestamps=timestamps))
    assert result.text and result.segments and not result.no_speech and result.device == "cpu"
    assert all(0 <= s.start <= s.end <= speech.duration_s + 0.2 for s in result.segments)
    if model_id in MOONSHINE_V1:
        assert result.text == MOONSHINE_TEXT and result.words == []
    elif timestamps == "word":
        starts = [word.start for word in result.words]
        assert result.words and starts == sorted(starts)
        assert all(w.start < w.end <= speech.duration_s + 0.2 for w in result.words)
    if timestamps == "none":
        assert len(result.segments) == 1
    for path in write_outputs(result):
        if path.endswith((".srt", ".vtt")):
            assert len(parse_cues(open(path).read())) == len(result.segments)


@pytest.mark.parametrize("model_id", PARAKEET_CTC[:1])
def test_parakeet_ctc_view_and_words(speech: AudioClip, model_id: str) -> None:
    """80 ms frames (mel hop 10 ms x 8) over the clip; the CTC table and walkthrough work on sentencepiece pieces,
    and the words are the collapsed path split where a piece starts with "▁"."""
    from shared.transcribe import ctc
    from shared.transcribe.run import ctc_words

    result = transcribe(speech, model_id, TranscribeOptions(timestamps="word"))
    frames = result.ctc
    assert frames is not None and frames.frame_s == pytest.approx(0.08) and frames.word_delimiter == "\u2581"
    assert abs(len(frames.tokens) * frames.frame_s - speech.duration_s) < 2 * frames.frame_s
    rows = ctc_view_rows(result)
    assert rows and all(len(row) == 4 for row in rows)
    assert "merge repeats" in ctc_view_markdown(result)
    collapsed, _ = ctc.collapse(frames.tokens, frames.blank)
    assert " ".join(w.text for w in ctc_words(frames)) == ctc.tokens_to_text(collapsed, "\u2581").lower()


def test_ctc_words_split_at_word_start_pieces() -> None:
    """Sentencepiece pieces: "▁he" "llo" "▁world" with blanks and a repeat → two words with their frame spans."""
    from shared.transcribe.ctc import CtcFrames
    from shared.transcribe.run import ctc_words

    tokens = ["\u2581he", "\u2581he", "llo", "<pad>", "<pad>", "\u2581world", "<pad>"]
    words = ctc_words(CtcFrames(0.08, tokens, "<pad>", "\u2581"))
    assert [(w.text, round(w.start, 2), round(w.end, 2)) for w in words] == [("hello", 0.0, 0.24),
                                                                            ("world", 0.4, 0.48)]


def test_tdt_word_times_are_the_emitted_frames(speech: AudioClip) -> None:
    """Each word starts at the frame its first piece was emitted at and ends after its last piece's duration (80 ms
    frames from the speech chunk's start); the recorded steps walk the frames by their predicted durations."""
    result = transcribe(speech, TDT[0], TranscribeOptions(timestamps="word"), inside=True)
    steps = result.inside.tdt_steps
    assert steps and result.inside.tdt_frame_s == pytest.approx(0.08)
    assert all(b.frame == a.frame + a.duration for a, b in itertools.pairwise(steps) if a.offset_s == b.offset_s)
    assert all(step.duration >= 1 for step in steps if step.blank)  # a blank always moves on
    emitted = [step for step in steps if not step.blank]
    assert len(emitted) >= len(result.words)
    first = result.words[0]
    assert first.start == pytest.approx(emitted[0].offset_s + emitted[0].frame * 0.08, abs=1e-3)


def test_tdt_transcribes_only(speech: AudioClip) -> None:
    with pytest.raises(UserError, match="transcribes only"):
        transcribe(speech, TDT[0], TranscribeOptions(task="translate"))


def test_ctranslate2_and_transformers_give_the_same_text_on_real_tiny_en(speech: AudioClip) -> None:
    """The same real Whisper tiny.en weights on both engines (CTranslate2 int8 from the Systran repo, transformers
    fp32 converted from it) write the same words; the CTranslate2 run reports its int8 compute type."""
    ct2 = transcribe(speech, "Systran/faster-whisper-tiny.en", TranscribeOptions(timestamps="none"))
    torch_run = transcribe(speech, "openai/whisper-tiny.en", TranscribeOptions(timestamps="none"))
    assert ct2.engine == "faster-whisper" and torch_run.engine == "transformers"
    assert ct2.dtype.startswith("int8") and torch_run.dtype == "float32"
    assert wer(torch_run.text, ct2.text) == 0.0, (ct2.text, torch_run.text)
    assert wer(" ".join(PIPER_SENTENCES[:2]), ct2.text) <= 0.10


@pytest.mark.parametrize("model_id", [CT2[0], CT2[-1]])
def test_ctranslate2_repos_load_from_the_cache(speech: AudioClip, model_id: str) -> None:
    """A registry CTranslate2 repo resolves through the HF cache offline (snapshot_download with
    local_files_only) and transcribes with word timestamps (the stand-ins hold the real tiny.en weights)."""
    result = transcribe(speech, model_id, TranscribeOptions(timestamps="word"))
    assert wer(" ".join(PIPER_SENTENCES[:2]), result.text) <= 0.10 and result.words


def test_new_models_in_a_batch_and_a_comparison(speech: AudioClip, tmp_path) -> None:
    """The batch endpoint's function writes an SRT and a JSON per file for a transducer; the comparison table has
    every new family's engine, architecture, year, parameters and languages."""
    import zipfile

    import soundfile as sf

    from shared.transcribe.batch import transcribe_batch
    from shared.transcribe.views import COMPARE_HEADERS, compare_rows

    path = tmp_path / "speech.wav"
    sf.write(path, speech.samples, speech.sample_rate)
    with zipfile.ZipFile(transcribe_batch([str(path)], TDT[0])) as archive:
        names = set(archive.namelist())
    assert {"speech.srt", "speech.json", "summary.csv"} <= {name.split("/")[-1] for name in names}
    models = [PARAKEET_CTC[0], TDT[0], MOONSHINE_V1[0], "Systran/faster-whisper-tiny.en"]
    results = [transcribe(speech, model_id, TranscribeOptions(timestamps="none")) for model_id in models]
    rows, _ = compare_rows(results, " ".join(PIPER_SENTENCES[:2]))
    table = [dict(zip(COMPARE_HEADERS, row, strict=True)) for row in rows]
    assert [(row["architecture"], row["year"], row["params (M)"], row["languages"]) for row in table] == [
        ("CTC", 2024, 600, "English"), ("transducer", 2025, 600, "25 European languages"),
        ("seq2seq", 2024, 27, "English"), ("seq2seq", 2022, 39, "English")]
    assert [row["engine"] for row in table] == ["transformers"] * 3 + ["faster-whisper"]
    assert all(row["compute (s)"] > 0 and row["RTF"] > 0 for row in table)
