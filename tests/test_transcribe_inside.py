"""Transcribe tab, "Inside the model": the views come from the run that made the transcript (forward calls
counted), on the tiny models and the built-in offline engine."""

from __future__ import annotations

import numpy as np
import pytest

from shared.audio import plots
from shared.audio.intake import AudioClip, load_audio
from shared.inside import ForwardCounter, format_count
from shared.models.loader import get_loader
from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe import inside as inside_asr
from shared.transcribe.capture import CTC_VIEW_FRAMES, DecodedToken
from shared.transcribe.inside import inside_markdown, inside_views, marked_transcript, token_words
from shared.transcribe.run import TranscribeOptions, transcribe
from tests.conftest import record_figures

SPEECH = str(EXAMPLES_DIR / "speech_piper.wav")
MULTILINGUAL = "openai/whisper-tiny"
ENGLISH = "openai/whisper-tiny.en"
CTC = "facebook/wav2vec2-base-960h"
OFFLINE = "offline:whisper-tiny.en"


@pytest.fixture(scope="module")
def speech(tiny_hf_home) -> AudioClip:
    return load_audio(SPEECH, 16_000)


@pytest.fixture(scope="module")
def long_speech(speech: AudioClip) -> AudioClip:
    """45 s: two 30 s windows for Whisper's chunked decoding (chunks start every 20 s), three 20 s CTC chunks."""
    gap = np.zeros(8_000, np.float32)
    samples = np.tile(np.concatenate([speech.samples, gap]), 8)[: 45 * 16_000]
    return AudioClip(samples, 16_000, 16_000, 1, "wav", "long.wav")


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every figure the views make (whisper_input_image draws through shared.audio.plots), to check each was cleared."""
    return record_figures(monkeypatch, inside_asr, plots)


def _windows(duration_s: float, chunk_s: float = 30.0, stride_s: float = 5.0) -> int:
    """The transformers pipeline's chunking: 30 s chunks starting every 20 s, the last one reaching the end."""
    if duration_s <= chunk_s:
        return 1
    step = chunk_s - 2 * stride_s
    return int(np.ceil((duration_s - chunk_s) / step)) + 1


def _counted(clip: AudioClip, model_id: str, options: TranscribeOptions, *, inside: bool):
    with get_loader().use(model_id) as pipe:
        model = pipe.model
    with ForwardCounter(model.get_encoder()) as encoder, ForwardCounter(model.get_decoder()) as decoder:
        result = transcribe(clip, model_id, options, inside=inside)
    return result, encoder.calls, decoder.calls


def _check_views(views, figures: list) -> None:
    assert views and figures and len(figures) == len(views)
    for view in views:
        assert view.image.dtype == np.uint8 and view.image.ndim == 3 and view.image.shape[2] == 3
        assert view.image.shape[0] > 100 and view.image.shape[1] > 300
        assert view.title and len(view.caption) > 40
        image, caption = view.gallery_item()
        assert image is view.image and view.title in caption
    assert all(not fig.axes for fig in figures), "a figure was left uncleared"


def _card_has_parameter_count(card: str, model_id: str) -> None:
    with get_loader().use(model_id) as pipe:
        count = sum(p.numel() for p in pipe.model.parameters())
    assert format_count(count) in card and model_id in card


# ---- Whisper through transformers ---------------------------------------------------------------------------------
def test_whisper_views_auto_language_from_the_same_run(speech: AudioClip, figures: list) -> None:
    options = TranscribeOptions(timestamps="segment")
    result, encoder_calls, decoder_calls = _counted(speech, MULTILINGUAL, options, inside=True)
    plain, plain_encoder, plain_decoder = _counted(speech, MULTILINGUAL, options, inside=False)
    given, given_encoder, given_decoder = _counted(
        speech, MULTILINGUAL, TranscribeOptions(language=result.language, timestamps="segment"), inside=False)
    # the views cost nothing: same calls as the plain answer
    assert (encoder_calls, decoder_calls) == (plain_encoder, plain_decoder)
    assert result.text == plain.text == given.text
    # a given language: one encoder pass per 30 s window, one decoder call per generated token
    assert given_encoder == _windows(speech.duration_s) == 1
    kept = result.inside
    generated = len(kept.tokens) + 1  # the recorded tokens and the end-of-text token
    assert given_decoder == generated
    # auto-detect adds exactly generate()'s own detection step (one model call: encoder + one decoder step);
    # the probabilities are read from it, so any extra detection pass breaks these equalities
    assert encoder_calls == given_encoder + 1 and decoder_calls == given_decoder + 1
    assert kept.languages and len(kept.languages) == 99
    assert sum(kept.languages.values()) == pytest.approx(1.0, abs=1e-4)
    assert result.language == max(kept.languages, key=kept.languages.get)
    assert result.language_probability == pytest.approx(kept.languages[result.language], abs=1e-4)
    assert kept.log_mel.shape == (80, 3000) and np.isfinite(kept.log_mel).all()
    assert kept.tokens[0].timestamp and all(t.probability is not None for t in kept.tokens)
    assert all(0 <= t.probability <= 1 for t in kept.tokens)
    assert "".join(t.text for t in kept.tokens if not t.timestamp).strip() == result.text
    views = inside_views(result)
    assert [v.title for v in views] == ["Whisper's input", "Decoded tokens and their probabilities",
                                        "Language detection"]
    _check_views(views, figures)
    assert f"`{result.language}`" in views[2].caption and "5.3 s" in views[0].caption
    card = inside_markdown(result)
    _card_has_parameter_count(card, MULTILINGUAL)
    assert "words under 50% confidence marked" in card


def test_whisper_long_form_encoder_once_per_window(long_speech: AudioClip) -> None:
    options = TranscribeOptions(language="en", timestamps="segment", batch_size=1)
    result, encoder_calls, _ = _counted(long_speech, MULTILINGUAL, options, inside=True)
    plain, plain_encoder, _ = _counted(long_speech, MULTILINGUAL, options, inside=False)
    assert encoder_calls == plain_encoder == _windows(long_speech.duration_s) == 2
    assert result.text == plain.text
    kept = result.inside
    assert kept.languages is None and "Language given (en)" in kept.language_note
    assert kept.log_mel.shape == (80, 3000) and kept.tokens
    views = inside_views(result)
    assert "first" in views[0].caption and "first 30 s window" in views[1].caption


def test_english_only_whisper_says_no_language_detected(speech: AudioClip, figures: list) -> None:
    result, encoder_calls, _ = _counted(speech, ENGLISH, TranscribeOptions(timestamps="word"), inside=True)
    assert encoder_calls == 1
    kept = result.inside
    assert kept.languages is None and "English-only" in kept.language_note
    views = inside_views(result)
    assert "Language detection" not in [v.title for v in views] and len(views) == 2
    _check_views(views, figures)
    card = inside_markdown(result)
    assert "no language was detected" in card
    _card_has_parameter_count(card, ENGLISH)
    # real weights: the decoded tokens spell the transcript
    assert "".join(t.text for t in kept.tokens if not t.timestamp).strip() == result.text


def test_beam_search_explains_missing_token_probabilities(speech: AudioClip) -> None:
    result = transcribe(speech, ENGLISH, TranscribeOptions(beam_size=2), inside=True)
    kept = result.inside
    assert not kept.tokens and "beam" in kept.tokens_note
    assert [v.title for v in inside_views(result)] == ["Whisper's input"]
    assert "greedy decoding" in inside_markdown(result)


# ---- CTC ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds", [None, 45])
def test_ctc_emission_view_one_forward_per_chunk(speech: AudioClip, long_speech: AudioClip, figures: list,
                                                 seconds: int | None) -> None:
    clip = long_speech if seconds else speech
    with get_loader().use(CTC) as pipe:
        model = pipe.model
    with ForwardCounter(model) as counter:
        result = transcribe(clip, CTC, TranscribeOptions(detect_silence=False), inside=True)
    chunks = int(np.ceil(clip.duration_s / 20.0))  # _ctc's 20 s chunks
    assert counter.calls == chunks == (3 if seconds else 1)
    kept = result.inside
    frames = result.ctc
    shown = min(len(frames.tokens), CTC_VIEW_FRAMES)
    assert kept.emissions.shape == (shown, model.config.vocab_size)
    assert np.isfinite(kept.emissions).all() and np.allclose(np.exp(kept.emissions).sum(axis=1), 1, atol=1e-4)
    # the picture's greedy path is the one the transcript was decoded from
    path = [kept.emission_labels[i] for i in kept.emissions.argmax(axis=1)]
    assert path == frames.tokens[:shown]
    assert kept.emission_labels[kept.blank_id] == frames.blank
    views = inside_views(result)
    assert [v.title for v in views] == ["CTC emission matrix"]
    _check_views(views, figures)
    blanks = frames.tokens[:shown].count(frames.blank)
    assert f"{blanks} of {shown} frames on the blank" in views[0].caption
    if seconds:
        assert f"({shown} of {len(frames.tokens)} frames)" in views[0].caption
    _card_has_parameter_count(inside_markdown(result), CTC)


# ---- models issue: Parakeet CTC, Parakeet TDT, Moonshine ------------------------------------------------------------
PARAKEET_CTC = "nvidia/parakeet-ctc-1.1b"
TDT = "nvidia/parakeet-tdt-0.6b-v3"
MOONSHINE = "UsefulSensors/moonshine-tiny"


def test_parakeet_ctc_emission_view_from_its_one_forward(speech: AudioClip, figures: list) -> None:
    """A sentencepiece vocabulary: the picture keeps the blank, every token on the greedy path and the likeliest
    others (at most CTC_ROWS_SHOWN rows), and its path is the transcript's; the card counts the loaded model."""
    with get_loader().use(PARAKEET_CTC) as pipe:
        model = pipe.model
    with ForwardCounter(model) as counter:
        result = transcribe(speech, PARAKEET_CTC, TranscribeOptions(detect_silence=False), inside=True)
    assert counter.calls == 1
    kept, frames = result.inside, result.ctc
    assert kept.emissions.shape == (len(frames.tokens), model.config.vocab_size)
    rows = inside_asr.emission_rows(kept.emissions, kept.blank_id)
    assert len(rows) == inside_asr.CTC_ROWS_SHOWN and kept.blank_id in rows
    assert set(kept.emissions.argmax(axis=1)) <= set(rows.tolist())
    views = inside_views(result)
    assert [v.title for v in views] == ["CTC emission matrix"]
    _check_views(views, figures)
    assert "sentencepiece tokens" in views[0].caption and "80 ms frame" in views[0].caption
    _card_has_parameter_count(inside_markdown(result), PARAKEET_CTC)


def test_tdt_view_shows_each_step_frame_and_duration(speech: AudioClip, figures: list) -> None:
    """One encoder pass per speech chunk (generate() reuses it for every step), steps kept from that run, and the
    picture's caption counts the same tokens and blanks."""
    with get_loader().use(TDT) as pipe:
        model = pipe.model
    with ForwardCounter(model.encoder) as encoder:
        result = transcribe(speech, TDT, TranscribeOptions(timestamps="word"), inside=True)
    steps = result.inside.tdt_steps
    assert encoder.calls == len({step.offset_s for step in steps}) == 1
    tokens = sum(not step.blank for step in steps)
    views = inside_views(result)
    assert [v.title for v in views] == ["Token-and-Duration Transducer"]
    _check_views(views, figures)
    assert f"{tokens} tokens and {len(steps) - tokens} blanks in {len(steps)} steps" in views[0].caption
    _card_has_parameter_count(inside_markdown(result), TDT)


def test_moonshine_encoder_reads_the_clip_not_a_30_s_window(speech: AudioClip, long_speech: AudioClip,
                                                             figures: list) -> None:
    """The encoder frames per chunk come from the run's own encoder calls: about one per 24 ms (384 samples) of
    each speech chunk, against Whisper's 1500 frames per 30 s window."""
    for clip, windows in ((speech, 1), (long_speech, 2)):
        result = transcribe(clip, MOONSHINE, TranscribeOptions(), inside=True)
        chunks = result.inside.encoded_chunks
        assert [(c.start, c.end) for c in chunks] == [(s.start, s.end) for s in result.segments]
        for chunk in chunks:  # three convolutions: kernel 127 stride 64, kernel 7 stride 3, kernel 3 stride 2
            samples = int(chunk.end * 16_000) - int(chunk.start * 16_000)
            samples += -samples % 80  # padded to whole 5 ms frames
            assert chunk.frames == (((samples - 127) // 64 + 1 - 7) // 3 + 1 - 3) // 2 + 1
        views = inside_views(result)
        assert [v.title for v in views] == ["Variable-length encoder"]
        _check_views(views, figures)
        figures.clear()
        assert f"{windows} window(s), {windows * 1500} encoder frames" in views[0].caption
        assert f"{sum(c.frames for c in chunks)} frames in all" in views[0].caption
    _card_has_parameter_count(inside_markdown(result), MOONSHINE)


# ---- the built-in faster-whisper engine -------------------------------------------------------------------------
@pytest.mark.parametrize("timestamps", ["segment", "word"])
def test_offline_engine_views(speech: AudioClip, figures: list, timestamps: str) -> None:
    result = transcribe(speech, OFFLINE, TranscribeOptions(timestamps=timestamps), inside=True)
    kept = result.inside
    assert kept.log_mel.shape == (80, 3000) and np.isfinite(kept.log_mel).all()
    assert kept.languages is None and "English-only" in kept.language_note
    assert kept.tokens_unit == timestamps and kept.tokens
    assert all(t.probability is not None and 0 <= t.probability <= 1 for t in kept.tokens)
    if timestamps == "word":
        assert [t.text for t in kept.tokens] == [w.text for w in result.words]
    else:
        assert len(kept.tokens) == len(result.segments)
    views = inside_views(result)
    assert [v.title for v in views] == ["Whisper's input", "Decoded tokens and their probabilities"]
    _check_views(views, figures)
    card = inside_markdown(result)
    # CTranslate2 keeps its tensors out of reach: the card gives the registry's count, labelled as such
    assert "39 M parameters in the CTranslate2 weights" in card and "no language was detected" in card


def test_no_speech_has_no_views(tiny_hf_home) -> None:
    silence = AudioClip(np.zeros(16_000 * 2, np.float32), 16_000, 16_000, 1, "wav", "silence.wav")
    result = transcribe(silence, OFFLINE, inside=True)
    assert result.no_speech and inside_views(result) == []
    assert "not run" in inside_markdown(result)


# ---- low-confidence marking ---------------------------------------------------------------------------------------
def test_low_confidence_words_are_marked() -> None:
    tokens = [DecodedToken("[0.00s]", 0.0, 0.9, True), DecodedToken(" Hel", 0.0, 0.9),
              DecodedToken("lo", 0.0, 0.3), DecodedToken(" world", 0.0, 0.8), DecodedToken("<&>", 0.0, 0.95)]
    assert token_words(tokens, "token") == [("Hello", 0.3), ("world<&>", 0.8)]
    marked = marked_transcript(tokens, "token")
    assert marked.startswith('<mark title="30%">Hello</mark><sub>30%</sub>') and "world&lt;&amp;&gt;" in marked


# ---- through the launched app -------------------------------------------------------------------------------------
def test_transcribe_api_returns_the_gallery_and_card(app_url: str) -> None:
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    *_, gallery, card = client.predict(handle_file(SPEECH), model=OFFLINE, timestamps="word", api_name="/transcribe")
    assert [item["caption"].split(":")[0] for item in gallery] == ["Whisper's input",
                                                                   "Decoded tokens and their probabilities"]
    assert all(item["image"] for item in gallery)
    assert "Encoder-decoder" in card and "no language was detected" in card
