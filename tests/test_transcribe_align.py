"""Word alignment: the Viterbi search against hand-built emissions with a known best path and against
torchaudio.functional.forced_align (identical spans), the banded search on 10 minutes, text preparation
(romanisation, dropped characters), the whole `align_words` path on a stand-in model whose emissions spell a known
text (match vs mismatch, windows across 30 s), the views, the API (the tiny wav2vec2 through the app's loader), and
Whisper's own word timestamps measured on Piper words with known boundaries."""

from __future__ import annotations

import html

import numpy as np
import pytest
import torch

from shared.audio.intake import load_audio
from shared.errors import UserError
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.outputs.subtitles import parse_cues
from shared.transcribe import align
from shared.transcribe.align_views import karaoke_html, trellis_picture, word_box_rows, word_rows, write_word_outputs
from shared.transcribe.aligner import MULTILINGUAL_ALIGNER, align_words, resolve_aligner

FRAME = 320  # samples per CTC frame (20 ms at 16 kHz)
SURE = 0.9  # the stand-in model's probability for the token it "hears"


def log_probs_for(labels: list[int], vocabulary: int, sure: float = SURE) -> np.ndarray:
    """Frames × vocabulary log-probabilities whose best label at frame t is labels[t] (probability `sure`)."""
    probs = np.full((len(labels), vocabulary), (1 - sure) / (vocabulary - 1))
    probs[np.arange(len(labels)), labels] = sure
    return np.log(probs)


def schedule(tokens: list[int], frames_each: int, blanks_between: int, lead: int, tail: int) -> list[int]:
    """A frame-by-frame label sequence: `lead` blanks, each token for `frames_each` frames then `blanks_between`
    blanks, `tail` blanks; the true span of token i is the i-th run."""
    labels = [0] * lead
    for token in tokens:
        labels += [token] * frames_each + [0] * blanks_between
    return labels + [0] * tail


# ---- the algorithm ---------------------------------------------------------------------------------------------------
def test_hand_built_emissions_give_the_known_spans() -> None:
    # "hello": the double l needs a blank between its two runs
    tokens = [1, 2, 3, 3, 4]
    labels = schedule(tokens, frames_each=3, blanks_between=2, lead=4, tail=5)
    path, score = align.viterbi(log_probs_for(labels, 6), tokens, blank=0)
    spans = align.token_spans(path, log_probs_for(labels, 6), tokens)
    assert [(s.start, s.end) for s in spans] == [(4 + 5 * i, 7 + 5 * i) for i in range(5)]
    assert all(s.score == pytest.approx(SURE) for s in spans)
    assert score == pytest.approx(len(labels) * np.log(SURE))
    assert list(align.path_labels(path, tokens)) == labels


def test_the_path_follows_the_text_not_the_argmax() -> None:
    """Emissions that say "1 2" while the text says "1 3": the 3 is forced into the frames the model gave to 2."""
    labels = schedule([1, 2], frames_each=4, blanks_between=3, lead=2, tail=2)
    path, _ = align.viterbi(log_probs_for(labels, 5), [1, 3], blank=0)
    spans = align.token_spans(path, log_probs_for(labels, 5), [1, 3])
    assert (spans[0].start, spans[0].end) == (2, 6)
    assert spans[0].score == pytest.approx(SURE) and spans[1].score < 0.1


@pytest.mark.parametrize("seed", range(8))
def test_same_spans_as_torchaudio_forced_align(seed: int) -> None:
    import torchaudio.functional as F

    rng = np.random.default_rng(seed)
    frames, vocabulary = int(rng.integers(20, 300)), int(rng.integers(3, 30))
    tokens = [int(t) for t in rng.integers(1, vocabulary, int(rng.integers(1, frames // 3)))]
    log_probs = torch.log_softmax(torch.from_numpy(rng.standard_normal((frames, vocabulary)) * 3), -1)
    path, _ = align.viterbi(log_probs.numpy(), tokens, blank=0)
    reference, scores = F.forced_align(log_probs[None].float(), torch.tensor([tokens]), blank=0)
    assert list(align.path_labels(path, tokens)) == reference[0].tolist()
    theirs = F.merge_tokens(reference[0], scores[0].exp())
    mine = align.token_spans(path, log_probs.numpy(), tokens)
    assert [(s.start, s.end) for s in mine] == [(s.start, s.end) for s in theirs]
    assert [s.score for s in mine] == pytest.approx([s.score for s in theirs], abs=1e-5)
    banded, _ = align.viterbi(log_probs.numpy(), tokens, blank=0, half_width=max(8, len(tokens)))
    assert (banded == path).all()


def test_ten_minutes_take_the_band_and_still_find_the_known_path() -> None:
    """10 minutes at 20 ms (30,000 frames) with 3,000 characters and uneven pauses: past FULL_TRELLIS_CELLS the
    search keeps to a band (memory ∝ frames × band), and the hand-built path is found exactly."""
    rng = np.random.default_rng(1)
    tokens = [int(t) for t in rng.integers(1, 28, 3000)]
    labels = [0] * 500
    for token in tokens:
        labels += [token] * 3 + [0] * int(rng.choice([2, 3, 4, 40], p=[0.4, 0.3, 0.25, 0.05]))
    labels += [0] * (30_000 - len(labels))
    log_probs = log_probs_for(labels, 29)
    half_width = align.default_half_width(len(labels), 2 * len(tokens) + 1, 0.02)
    assert half_width is not None and 2 * half_width + 1 < 2 * len(tokens) + 1
    path, _ = align.viterbi(log_probs, tokens, blank=0, half_width=half_width)
    assert list(align.path_labels(path, tokens)) == labels


@pytest.mark.parametrize("seed", range(4))
def test_a_narrow_band_finds_the_full_search_path_on_noisy_emissions(seed: int) -> None:
    """Emissions that follow the text (each character 2-4 frames, uneven pauses) under noise that makes a quarter
    of the frames' argmax wrong: a band of ±32 states (66 of 401, a sixth of the trellis) finds the very path and
    score of the full search. (The app's band is far wider: BAND_S seconds' worth of text either side.)"""
    rng = np.random.default_rng(seed)
    tokens = [int(t) for t in rng.integers(1, 28, 200)]
    labels = [0] * int(rng.integers(5, 50))
    for token in tokens:
        labels += [token] * int(rng.integers(2, 5)) + [0] * int(rng.choice([1, 2, 3, 25], p=[0.4, 0.3, 0.25, 0.05]))
    labels += [0] * 20
    logits = rng.standard_normal((len(labels), 29)) * 1.5
    logits[np.arange(len(labels)), labels] += 4.0
    log_probs = torch.log_softmax(torch.from_numpy(logits), -1).numpy()
    assert 0.2 < np.mean(log_probs.argmax(axis=1) != np.asarray(labels)) < 0.35
    states, half_width = 2 * len(tokens) + 1, 32
    low, high = align.band_limits(log_probs, 0, states, half_width)
    assert (high - low).max() == 2 * half_width + 2 < states / 6 and low[-1] > states / 2
    full, full_score = align.viterbi(log_probs, tokens, blank=0)
    banded, banded_score = align.viterbi(log_probs, tokens, blank=0, half_width=half_width)
    assert (banded == full).all() and banded_score == pytest.approx(full_score)


def test_no_path_when_the_text_is_too_long() -> None:
    with pytest.raises(align.NoAlignment, match="needs at least 6 frames"):
        align.viterbi(np.log(np.full((5, 4), 0.25)), [1, 1, 2, 2], blank=0)
    with pytest.raises(align.NoAlignment):
        align.viterbi(np.log(np.full((5, 4), 0.25)), [], blank=0)


def test_prepare_text_maps_case_accents_and_drops_the_rest() -> None:
    vocabulary = {"<pad>": 0, "|": 1, "C": 2, "A": 3, "F": 4, "E": 5, "'": 6}
    target = align.prepare_text("Café 1990 face's", vocabulary, "|")
    assert target.words == ("Café", "1990", "face's")
    assert target.tokens == (2, 3, 4, 5, 1, 4, 3, 2, 5, 6)
    assert target.token_word == (0, 0, 0, 0, -1, 2, 2, 2, 2, 2)
    assert target.dropped == "190s"
    spans = [align.TokenSpan(i, 2 * i, 2 * i + 1, 0.5) for i in range(len(target.tokens))]
    words = align.word_spans(target, spans, 0.02)
    assert [w.text for w in words] == ["Café", "1990", "face's"]
    assert words[1].score is None and words[0].end <= words[1].start <= words[1].end <= words[2].start


# ---- align_words on a stand-in model: its emissions spell what the audio encodes ------------------------------------
class SpellingModel(torch.nn.Module):
    """An MMS_FA stand-in: each 20 ms frame of the input holds one constant value, token id / 100, and the model
    "hears" that token with probability SURE (log-probabilities out, as MMS_FA's bundle gives)."""

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, None]:
        frames = audio[0, : audio.shape[1] // FRAME * FRAME].reshape(-1, FRAME).mean(1)
        labels = torch.round(frames * 100).long().clamp(0, 27)
        return torch.from_numpy(log_probs_for(labels.tolist(), 28)).float()[None], None


def spelled_audio(text: str, lead_s: float = 0.5, pause_frames: int = 15) -> tuple[np.ndarray, list[tuple]]:
    """Audio whose frames spell `text` in MMS_FA's alphabet, 3 frames a letter, `pause_frames` between words;
    returns the samples and each word's true (start, end) in seconds."""
    import torchaudio

    ids = torchaudio.pipelines.MMS_FA.get_dict(star=None)
    labels, spans = [0] * int(lead_s / 0.02), []
    for word in text.split():
        start = len(labels)
        for letter in word:
            labels += [ids[letter]] * 3 + [0]
        spans.append((start * 0.02, (len(labels) - 1) * 0.02))
        labels += [0] * pause_frames
    return np.repeat(np.asarray(labels, np.float32) / 100, FRAME), spans


@pytest.fixture(scope="module")
def spelling_loader() -> ModelLoader:
    return ModelLoader(budget_mb=10_000, placement=Placement("cpu", "float32"),
                       engines={"torchaudio": lambda spec, placement, options: SpellingModel()})


def test_align_words_times_each_word_across_windows(spelling_loader: ModelLoader) -> None:
    text = " ".join(["the", "river", "froze", "before", "sunrise"] * 10)  # ~38 s: two 30 s windows
    samples, truth = spelled_audio(text)
    alignment = align_words(load_audio((16_000, samples), 16_000), text, MULTILINGUAL_ALIGNER,
                            loader=spelling_loader)
    assert [w.text for w in alignment.words] == text.split()
    assert max(abs(w.start - t[0]) for w, t in zip(alignment.words, truth, strict=True)) < 0.021
    assert max(abs(w.end - t[1]) for w, t in zip(alignment.words, truth, strict=True)) < 0.021
    assert alignment.score == pytest.approx(SURE, abs=0.01) and not alignment.mismatch
    assert alignment.notes == []
    assert alignment.trellis is not None and alignment.trellis.log_probs.shape[1] == 750


def test_ten_minutes_end_to_end_in_bounded_memory(spelling_loader: ModelLoader) -> None:
    """align_words over 10 minutes: 20 windows of forward passes, then the banded search; every word within a frame
    of its true span, and the traced peak memory well under what the full trellis would need (32,500 frames × 9,800
    states: ~320 MB of back-pointers; measured peak 45 MB)."""
    import tracemalloc

    words = ["seven", "orange", "birds", "quietly", "crossed", "the", "frozen", "river", "before", "sunrise"]
    text = " ".join(words * 86)
    samples, truth = spelled_audio(text)
    assert len(samples) / 16_000 > 600
    clip = load_audio((16_000, samples), 16_000)
    tracemalloc.start()
    alignment = align_words(clip, text, MULTILINGUAL_ALIGNER, loader=spelling_loader)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    assert alignment.trellis is not None and alignment.trellis.banded
    assert max(abs(w.start - t[0]) + abs(w.end - t[1]) for w, t in zip(alignment.words, truth, strict=True)) < 0.05
    assert peak_mb < 150, peak_mb


def test_other_scripts_are_romanised(spelling_loader: ModelLoader) -> None:
    samples, truth = spelled_audio("privet mir")
    alignment = align_words(load_audio((16_000, samples), 16_000), "Привет мир", MULTILINGUAL_ALIGNER,
                            loader=spelling_loader)
    assert [w.text for w in alignment.words] == ["Привет", "мир"] and not alignment.mismatch
    assert any("uroman" in note for note in alignment.notes)
    assert alignment.words[1].start == pytest.approx(truth[1][0], abs=0.021)
    assert resolve_aligner("auto", "Привет мир") == MULTILINGUAL_ALIGNER
    assert resolve_aligner("auto", "hello", language="en") == "facebook/wav2vec2-base-960h"


def test_a_text_that_does_not_match_is_flagged_not_crashed(spelling_loader: ModelLoader) -> None:
    samples, _ = spelled_audio("the river froze before sunrise")
    alignment = align_words(load_audio((16_000, samples), 16_000), "a completely different sentence here",
                            MULTILINGUAL_ALIGNER, loader=spelling_loader)
    assert alignment.mismatch and "may not be what is said" in alignment.notes[-1]
    assert len(alignment.words) == 5
    assert "karaoke-warning" in karaoke_html(alignment, "gradio_api/file=/tmp/x.wav")


@pytest.mark.parametrize(("text", "message"), [
    ("", "no text to align"),
    ("word " * 400, "too long for the audio"),
    ("123 456 !!", "None of the text's characters"),
])
def test_bad_texts_get_a_clear_message(spelling_loader: ModelLoader, text: str, message: str) -> None:
    samples, _ = spelled_audio("the river")
    with pytest.raises(UserError, match=message):
        align_words(load_audio((16_000, samples), 16_000), text, MULTILINGUAL_ALIGNER, loader=spelling_loader)


def test_only_ctc_models_align(spelling_loader: ModelLoader) -> None:
    samples, _ = spelled_audio("the river")
    with pytest.raises(UserError, match="cannot align words"):
        align_words(load_audio((16_000, samples), 16_000), "the river", "openai/whisper-tiny", loader=spelling_loader)


def test_mms_fa_unreachable_says_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real MMS_FA bundle downloads from a fixed non-hub address (torch.hub); when that fails: a message."""
    import urllib.error

    from shared.errors import ModelUnavailableError

    def unreachable(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("Name or service not known")

    from torchaudio.pipelines._wav2vec2 import utils  # where the bundle calls torch.hub's downloader

    monkeypatch.setattr(utils, "load_state_dict_from_url", unreachable)
    monkeypatch.setattr(utils, "_get_model", lambda *args: None)  # skip building the 315 M-parameter network
    loader = ModelLoader(budget_mb=10_000, placement=Placement("cpu", "float32"))
    samples, _ = spelled_audio("the river")
    with pytest.raises(ModelUnavailableError, match="unreachable"):
        align_words(load_audio((16_000, samples), 16_000), "the river", MULTILINGUAL_ALIGNER, loader=loader)


def test_an_aligner_missing_offline_does_not_point_at_the_built_in_whisper() -> None:
    from shared.errors import ModelUnavailableError
    from shared.models.loader import explain_load_error
    from shared.models.registry import get_spec

    def offline(spec, placement, options):  # what the transformers engine meets with no cache and no hub
        raise ModelUnavailableError(explain_load_error(spec, OSError("couldn't connect to the hub")))

    loader = ModelLoader(budget_mb=10_000, placement=Placement("cpu", "float32"), engines={"transformers": offline})
    assert "built-in offline model" in explain_load_error(get_spec("facebook/wav2vec2-base-960h"), OSError("offline"))
    samples, _ = spelled_audio("the river")
    with pytest.raises(ModelUnavailableError) as raised:
        align_words(load_audio((16_000, samples), 16_000), "the river", "facebook/wav2vec2-base-960h", loader=loader)
    assert "not downloaded" in str(raised.value) and "none is built in" in str(raised.value)
    assert "built-in offline model" not in str(raised.value)


# ---- the views ------------------------------------------------------------------------------------------------------
def test_views_escape_draw_and_write_word_subtitles(spelling_loader: ModelLoader) -> None:
    samples, _ = spelled_audio("the river froze")
    alignment = align_words(load_audio((16_000, samples), 16_000), "the <b>river</b> froze", MULTILINGUAL_ALIGNER,
                            loader=spelling_loader)
    page = karaoke_html(alignment, 'gradio_api/file=/tmp/a "b".wav')
    assert page.count('class="kw') == 3 and "<b>" not in page and html.escape("<b>river</b>") in page
    assert 'src="gradio_api/file=/tmp/a &quot;b&quot;.wav"' in page
    assert [row[2] for row in word_rows(alignment)] == ["the", "<b>river</b>", "froze"]
    srt, vtt, json_path = write_word_outputs(alignment)
    assert json_path.endswith(".json")
    cues = parse_cues(open(srt, encoding="utf-8").read())
    assert [cue.text for cue in cues] == ["the", "<b>river</b>", "froze"]
    assert [cue.start for cue in parse_cues(open(vtt, encoding="utf-8").read())] == [cue.start for cue in cues]
    picture = trellis_picture(alignment.trellis)
    assert picture.image.ndim == 3 and "best path" in picture.caption and "Each box is one word" in picture.caption
    # each word's box: its own characters' rows (t h e | b r i v e r b | f r o z e) over its frames
    assert [word_box_rows(alignment.trellis, start, end) for _, start, end in alignment.trellis.words] == [
        (0, 2), (3, 9), (10, 14)]


# ---- the tiny wav2vec2 through the loader, and the API ---------------------------------------------------------------
SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think."


def test_align_words_and_transcribe_with_alignment_over_the_api(app_url: str) -> None:
    from gradio_client import Client, handle_file

    from shared.serving.widgets import EXAMPLES_DIR

    client = Client(app_url, verbose=False)
    speech = handle_file(str(EXAMPLES_DIR / "speech_piper.wav"))
    rows, karaoke, files, pictures, card = client.predict(speech, text=SPEECH_TEXT,
                                                          aligner="facebook/wav2vec2-base-960h",
                                                          api_name="/align_words")
    assert [row[2] for row in rows["data"]] == SPEECH_TEXT.split()
    assert karaoke.count('class="kw') == len(SPEECH_TEXT.split()) and "<audio" in karaoke
    assert "skipped: ." in karaoke  # the tiny model's LibriSpeech alphabet has no full stop
    starts = [row[0] for row in rows["data"]]
    assert starts == sorted(starts) and rows["data"][-1][1] <= 5.3
    assert sorted(path.rsplit(".", 1)[1] for path in files) == ["json", "srt", "vtt"]
    assert pictures and "Forced alignment" in card
    text, *_, karaoke, word_files, pictures, card = client.predict(
        speech, model="offline:whisper-tiny.en", align=True, aligner="facebook/wav2vec2-base-960h", inside=False,
        api_name="/transcribe")
    assert karaoke.count('class="kw') == len(text.split()) and len(word_files) == 3
    assert pictures == [] and "Encoder-decoder" in card and "Forced alignment" in card
    with pytest.raises(Exception, match="no text to align") as raised:
        client.predict(speech, text="  ", api_name="/align_words")
    assert "Traceback" not in str(raised.value)


@pytest.mark.parametrize("model_id", ["UsefulSensors/moonshine-tiny", "nvidia/parakeet-ctc-0.6b"])
def test_align_words_for_models_without_word_timestamps(tiny_hf_home, model_id: str) -> None:
    """Moonshine gives no word timestamps and Parakeet CTC none with segment timestamps: the tab's "Align words"
    times every word of their transcript with the CTC aligner (karaoke word per word, word-level subtitles)."""
    from shared.serving.widgets import EXAMPLES_DIR
    from tabs.transcribe import run_transcribe

    text, payload, *_, karaoke, word_files, _recording, _pictures, card = run_transcribe(
        str(EXAMPLES_DIR / "speech_piper.wav"), model_id, timestamps="segment", align=True,
        aligner="facebook/wav2vec2-base-960h", inside=False)
    assert text and not any(segment.get("words") for segment in payload["segments"])
    assert "Word alignment failed" not in karaoke and karaoke.count('class="kw') == len(text.split())
    srt, vtt, json_path = sorted(word_files, key=lambda path: path.rsplit(".", 1)[1] != "srt")
    assert [cue.text for cue in parse_cues(open(srt, encoding="utf-8").read())] == text.split()
    assert vtt.endswith(".vtt") and json_path.endswith(".json") and "Forced alignment" in card


# ---- real speech: Whisper's own word timestamps against known boundaries --------------------------------------------
WHISPER_MEAN_ERROR_S = 0.35  # measured 0.23 s mean, 0.19 s median (bench/results/align.txt): bound with margin
WHISPER_MAX_MISSED = 5  # of 20 words; measured 4


def test_whisper_word_timestamps_on_piper_words_with_known_boundaries() -> None:
    """The built-in faster-whisper tiny.en (real weights, word_timestamps) on 20 Piper words separated by 0.25–0.7 s
    of silence: mean |boundary error| over the words it found (starts and ends)."""
    from tests.aligned_speech import whisper_word_errors

    errors, missed, known = whisper_word_errors()
    assert missed <= WHISPER_MAX_MISSED and len(errors) == 2 * (len(known) - missed)
    assert float(np.mean(errors)) < WHISPER_MEAN_ERROR_S, np.round(errors, 3)
