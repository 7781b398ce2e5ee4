"""Text to speech, "Inside the model": every engine's views on the tiny models, captured during the one synthesis run
(forward passes counted), drawn with captions, figures cleared; the architecture cards; the API's gallery."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from shared.inside import ForwardCounter, InsideView, ThreadHooks, format_count
from shared.models.loader import get_loader
from shared.tts import capture, voices
from shared.tts import inside as inside_tts
from shared.tts import run as tts
from shared.tts import text as tts_text
from tests.conftest import record_figures

SPEECHT5, VITS, BARK, PIPER = "microsoft/speecht5_tts", "facebook/mms-tts-eng", "suno/bark-small", tts.OFFLINE_VOICE


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch):
    """Every figure the views rasterise; after the test each must have been cleared (no axes left)."""
    drawn = record_figures(monkeypatch, inside_tts, at="to_rgb")
    yield drawn
    assert all(not fig.axes for fig in drawn), "a figure was left with its axes (not cleared)"


def _check_views(views: list[InsideView], count: int, figures: list[Any]) -> None:
    assert len(views) == count == len(figures)
    for view in views:
        assert view.image.dtype == np.uint8 and view.image.ndim == 3 and view.image.shape[2] == 3
        assert view.image.shape[0] > 100 and view.image.shape[1] > 500 and view.image.std() > 0  # not blank
        assert view.title and len(view.caption) > 40
        image, caption = view.gallery_item()
        assert image is view.image and caption.startswith(view.title)


def _torch_parameters(*modules: Any) -> int:
    return sum(parameter.numel() for module in modules for parameter in module.parameters())


def _pause() -> int:
    return round(tts.PAUSE_S * 16_000)


# ---- SpeechT5 -----------------------------------------------------------------------------------------------------
def test_speecht5_mel_and_stop_curve_come_from_the_one_pass(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                            figures: list) -> None:
    monkeypatch.setitem(tts.CHUNK_CHARS, "speecht5", 6)  # "Hi. Bye." -> two parts
    with get_loader().use(SPEECHT5) as pipe:
        model = pipe.model
        with ForwardCounter(pipe.vocoder) as vocoder, ForwardCounter(model.speecht5.encoder) as encoder, \
                ForwardCounter(model.speecht5.decoder.wrapped_decoder) as decoder_steps, \
                ForwardCounter(model.speech_decoder_postnet.prob_out) as stop_head:
            speech = tts.synthesize("Hi. Bye.", SPEECHT5, voice="random", seed=3)
        hop = int(np.prod(pipe.vocoder.config.upsample_rates))
        parameters = _torch_parameters(model, pipe.vocoder)
    trace = speech.inside
    assert isinstance(trace, capture.SpeechT5Trace) and speech.chunks == 2 == len(trace.parts)
    # one encoder pass and one vocoder pass per part; the stop curve has one point per decoder step that ran
    assert encoder.calls == vocoder.calls == 2
    assert stop_head.calls == decoder_steps.calls == sum(len(part.stop) for part in trace.parts)
    for part in trace.parts:
        assert part.mel.shape == (trace.reduction_factor * len(part.stop), 80)
        assert np.isfinite(part.mel).all() and np.isfinite(part.stop).all()
        assert (part.stop >= 0).all() and (part.stop <= trace.reduction_factor).all()
    # the spectrogram shown is the one the vocoder turned into this audio
    frames = sum(len(part.mel) for part in trace.parts)
    assert len(speech.samples) == frames * hop + _pause() and trace.frame_s == hop / speech.sample_rate
    views = inside_tts.inside_views(trace)
    _check_views(views, 2, figures)
    assert f"{frames} frames × 80 mel bands" in views[0].caption and "2 parts" in views[0].caption
    assert "stop head" in views[1].caption or "length limit" in views[1].caption
    assert format_count(parameters) in speech.architecture and "HiFi-GAN" in speech.architecture


# ---- MMS / VITS ---------------------------------------------------------------------------------------------------
def test_vits_durations_per_character_come_from_the_one_pass(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                             figures: list) -> None:
    monkeypatch.setitem(tts.CHUNK_CHARS, "vits", 30)
    text = "The first sentence is here. A second one follows. And a third."
    with get_loader().use(VITS) as pipe:
        with ForwardCounter(pipe.model) as model_calls, ForwardCounter(pipe.model.duration_predictor) as predictor:
            speech = tts.synthesize(text, VITS, seed=2)
        hop = int(np.prod(pipe.model.config.upsample_rates))
        expected_tokens = [pipe.tokenizer.convert_ids_to_tokens(pipe.tokenizer(chunk)["input_ids"])
                           for chunk in tts_text.chunk_text(text, 30)]
        parameters = _torch_parameters(pipe.model)
    trace = speech.inside
    assert isinstance(trace, capture.VitsTrace) and speech.chunks == 3 == len(trace.parts)
    assert model_calls.calls == predictor.calls == 3  # one VITS pass per part, durations read from it
    assert [part.tokens for part in trace.parts] == expected_tokens
    for part in trace.parts:
        assert part.frames.shape == (len(part.tokens),) and np.isfinite(part.frames).all() and (part.frames >= 0).all()
        assert part.blank[0] and not part.blank[1]  # MMS interleaves a blank around every character
    # the durations shown are the ones that set the audio's length: frames × hop samples per part
    assert len(speech.samples) == sum(int(part.frames.sum()) for part in trace.parts) * hop + 2 * _pause()
    views = inside_tts.inside_views(trace)
    _check_views(views, 1, figures)
    characters = sum(not blank for part in trace.parts for blank in part.blank)
    assert f"{characters} characters" in views[0].caption and "seed" in views[0].caption
    assert format_count(parameters) in speech.architecture and "VITS" in speech.architecture


def test_vits_duration_chart_caps_its_bars(figures: list) -> None:
    tokens = [token for char in "abcdefghij" * 20 for token in ("<blank>", char)] + ["<blank>"]
    part = capture.VitsPart(tokens, [index % 2 == 0 for index in range(len(tokens))],
                               np.arange(len(tokens), dtype=np.float32))
    views = inside_tts.vits_views(capture.VitsTrace(0.016, [part]))
    _check_views(views, 1, figures)
    assert f"the first {inside_tts.MAX_DURATION_BARS} of 201 are drawn" in views[0].caption  # 200 + the leading blank


# ---- Bark ---------------------------------------------------------------------------------------------------------
BARK_FORWARD = {"do_sample": True, "semantic_temperature": 0.7, "coarse_temperature": 0.7, "fine_temperature": 0.5}


def _bark_counters(model: Any, stack: ExitStack) -> list[ForwardCounter]:
    modules = (model.semantic, model.coarse_acoustics, model.fine_acoustics, model.codec_model.decoder)
    return [stack.enter_context(ForwardCounter(module)) for module in modules]


def test_bark_stages_are_timed_in_the_one_run(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch,
                                             figures: list) -> None:
    monkeypatch.setitem(tts.CHUNK_CHARS, "bark", 12)
    text = "Hello there. Good night."
    with get_loader().use(BARK) as pipe:
        with ExitStack() as stack:
            counters = _bark_counters(pipe.model, stack)
            speech = tts.synthesize(text, BARK, voice=voices.NO_PRESET, seed=4)
        with_views = [counter.calls for counter in counters]
        # the plain answer: the bare pipeline on the same parts with the same seed, nothing recorded
        with ExitStack() as stack:
            plain = _bark_counters(pipe.model, stack)
            tts._seed_torch(4)
            for chunk in tts_text.chunk_text(text, 12):
                tts._run_pipeline(pipe, chunk, BARK_FORWARD)
        hop = pipe.model.codec_model.config.hop_length
        parameters = _torch_parameters(pipe.model)
    trace = speech.inside
    assert isinstance(trace, capture.BarkTrace) and speech.chunks == 2 == len(trace.parts)
    assert with_views == [counter.calls for counter in plain]  # recording the stages cost no extra pass
    assert with_views[3] == 2  # one EnCodec decoding per part
    for part, seconds in zip(trace.parts, trace.part_seconds, strict=True):
        assert [stage.name for stage in part] == ["semantic", "coarse", "fine"]  # each generate once per part
        semantic, coarse, fine = part
        assert semantic.tokens > 0 and fine.shape == (trace.fine_codebooks, coarse.tokens // trace.coarse_codebooks)
        assert all(stage.seconds > 0 for stage in part) and sum(stage.seconds for stage in part) <= seconds
    assert len(speech.samples) == sum(part[2].shape[-1] for part in trace.parts) * hop + round(tts.PAUSE_S * 24_000)
    views = inside_tts.inside_views(trace)
    _check_views(views, 1, figures)
    assert f"{sum(part[0].tokens for part in trace.parts)} semantic tokens" in views[0].caption
    assert format_count(parameters) in speech.architecture and "codec" in speech.architecture


def test_bark_stage_timers_record_only_the_calling_threads_run(tiny_hf_home: Path) -> None:
    with get_loader().use(BARK) as pipe:
        capture._install_bark_timers(pipe.model)
        capture._install_bark_timers(pipe.model)  # idempotent: wrapped once
        generate = pipe.model.semantic.generate
        assert generate.__name__ == "timed" and generate.__closure__ is not None
        assert all(getattr(cell.cell_contents, "__name__", "") != "timed" for cell in generate.__closure__)
        with capture.trace_bark(pipe) as trace:
            other = threading.Thread(target=tts._run_pipeline, args=(pipe, "Hi.", BARK_FORWARD))
            other.start()
            other.join()
        assert trace.parts == []  # another thread's run is not this trace's


# ---- Piper --------------------------------------------------------------------------------------------------------
class _CountingSession:
    def __init__(self, session: Any) -> None:
        self.session, self.runs = session, 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        return self.session.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def test_piper_phonemes_come_from_the_synthesis(monkeypatch: pytest.MonkeyPatch, figures: list) -> None:
    text = "Hello world. How are you today?"
    with get_loader().use(PIPER) as voice:
        session = _CountingSession(voice.session)
        monkeypatch.setattr(voice, "session", session)
        speech = tts.synthesize(text, PIPER)
        spoken = voice.phonemize(text)
    trace = speech.inside
    assert isinstance(trace, capture.PiperTrace) and trace.sample_rate == 22_050
    assert session.runs == len(trace.sentences) == 2  # one ONNX run per sentence, nothing re-run for the views
    assert [sentence.phonemes for sentence in trace.sentences] == spoken
    assert all(sentence.phoneme_samples is None for sentence in trace.sentences)  # joe has no alignment output
    assert len(speech.samples) == sum(s.samples for s in trace.sentences) + round(tts.PAUSE_S * 22_050)
    views = inside_tts.inside_views(trace)
    _check_views(views, 1, figures)
    assert "2 sentences" in views[0].caption and "".join(spoken[0]) in views[0].caption
    assert "not a PyTorch model" in speech.architecture and "espeak-ng" in speech.architecture


def test_piper_durations_are_drawn_when_the_voice_has_alignments(figures: list) -> None:
    alignments = [SimpleNamespace(phoneme=phoneme, num_samples=n) for phoneme, n in
                  [("^", 300), ("h", 1200), ("ə", 900), (" ", 400), ("$", 100)]]
    chunk = SimpleNamespace(phonemes=["h", "ə", " "], audio_float_array=np.zeros(2900, np.float32),
                            phoneme_alignments=alignments)
    trace = capture.PiperTrace(22_050)
    trace.add(chunk)
    assert trace.sentences[0].phoneme_samples == [("^", 300), ("h", 1200), ("ə", 900), (" ", 400), ("$", 100)]
    views = inside_tts.inside_views(trace)
    _check_views(views, 2, figures)
    assert views[1].title == "Duration per phoneme"


# ---- capture plumbing ---------------------------------------------------------------------------------------------
def test_thread_hooks_record_only_their_own_thread() -> None:
    import torch

    layer = torch.nn.Linear(2, 2)
    seen: list[Any] = []
    with ThreadHooks() as hooks:
        hooks.after(layer, seen.append)
        worker = threading.Thread(target=layer, args=(torch.zeros(1, 2),))
        worker.start()
        worker.join()
        assert seen == []
        layer(torch.zeros(1, 2))
        assert len(seen) == 1
    layer(torch.zeros(1, 2))
    assert len(seen) == 1 and not layer._forward_hooks  # removed on exit


def test_no_trace_no_views() -> None:
    assert inside_tts.inside_views(None) == []
    assert inside_tts.inside_views(capture.SpeechT5Trace(2, 0.016)) == []


# ---- through the launched app -------------------------------------------------------------------------------------
def test_tts_api_returns_the_inside_gallery_and_card(app_url: str) -> None:
    from gradio_client import Client

    outputs = Client(app_url, verbose=False).predict("Hello there. This is the built-in voice.", model=PIPER,
                                                     api_name="/tts")
    assert len(outputs) == 6
    gallery, card = outputs[4], outputs[5]
    assert len(gallery) == 1 and Path(gallery[0]["image"]).is_file()
    assert gallery[0]["caption"].startswith("Phonemes spoken: Piper does not read letters")
    assert "VITS" in card and "espeak-ng" in card
