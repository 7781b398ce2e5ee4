"""Text to speech: text checks and splitting, voices and MMS languages, every TTS registry model on the tiny models,
Piper read back by the offline recogniser, the comparison, and the API through gradio_client."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.errors import UserError
from shared.models import registry
from shared.outputs.text_metrics import wer
from shared.tts import run as tts
from shared.tts import text as tts_text
from shared.tts import views, voices
from shared.tts.text import MAX_CHARS
from tests.speech_data import PIPER_ROUND_TRIP_WER, PIPER_SENTENCES

HINDI = "नमस्ते दुनिया। यह एक परीक्षण है।"
RUSSIAN = "Привет, мир! Как дела?"
TTS_MODELS = [spec.id for spec in registry.models_for(registry.TTS)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- text ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [None, "", "   \n\t ", "😀🎉👍", "👩‍👩‍👧 🇫🇷 1️⃣", "!!! ??? ... — ♪♫"])
def test_text_with_nothing_to_speak_is_refused(text: str | None) -> None:
    with pytest.raises(UserError, match=r"empty|nothing to speak"):
        tts_text.validate_text(text)


def test_text_too_long_is_refused_with_the_limit() -> None:
    assert tts_text.validate_text("a" * MAX_CHARS) == "a" * MAX_CHARS
    with pytest.raises(UserError, match=f"{MAX_CHARS + 1} characters long; the limit here is {MAX_CHARS}"):
        tts_text.validate_text("a" * (MAX_CHARS + 1))


def test_clean_text_drops_emoji_and_keeps_scripts() -> None:
    assert tts_text.clean_text("Hello 😀 world 👩‍👩‍👧!  \n\n  Bye\t now") == "Hello world !\nBye now"
    assert tts_text.clean_text(HINDI) == HINDI  # combining vowel signs and virama stay
    assert tts_text.clean_text("می\u200cخواهم") == "می\u200cخواهم"  # Persian zero-width non-joiner stays


def test_split_sentences() -> None:
    assert tts_text.split_sentences('He said "Stop!" Then left. Really? Yes… ok\nNew line') == [
        'He said "Stop!"', "Then left.", "Really?", "Yes…", "ok", "New line"]
    assert tts_text.split_sentences(HINDI) == ["नमस्ते दुनिया।", "यह एक परीक्षण है।"]
    assert tts_text.split_sentences("你好。我很好！谢谢") == ["你好。", "我很好！", "谢谢"]
    assert tts_text.split_sentences("Version 2.5 is out.") == ["Version 2.5 is out."]


def test_chunk_text_keeps_sentences_whole_and_respects_the_limit() -> None:
    sentences = [f"This is sentence number {i} of the test." for i in range(30)]
    text = " ".join(sentences)
    chunks = tts_text.chunk_text(text, 120)
    assert all(len(chunk) <= 120 for chunk in chunks) and len(chunks) > 5
    assert " ".join(chunks) == text
    assert all(chunk.endswith(".") for chunk in chunks)  # split at sentence ends only
    long_sentence = ", ".join(["one clause with several words"] * 20) + "."
    chunks = tts_text.chunk_text(long_sentence, 100)
    assert all(len(chunk) <= 100 for chunk in chunks) and " ".join(chunks).split() == long_sentence.split()
    assert tts_text.chunk_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_join_with_pauses_and_finish_audio() -> None:
    joined = tts.join_with_pauses([np.ones(100, np.float32), np.ones(50, np.float32)], 1000, pause_s=0.25)
    assert len(joined) == 400 and not joined[100:350].any()
    clipped, notes = tts.finish_audio(np.array([0.5, -2.0, 1.0], np.float32))
    assert np.abs(clipped).max() == pytest.approx(0.99) and "peak-normalised" in notes[0]
    unchanged, notes = tts.finish_audio(np.array([0.5, -1.0], np.float32))
    assert notes == [] and unchanged.tolist() == [0.5, -1.0]
    with pytest.raises(UserError, match="NaN"):
        tts.finish_audio(np.array([0.1, np.nan], np.float32))
    with pytest.raises(UserError, match="no audio"):
        tts.finish_audio(np.zeros(0, np.float32))


# ---- voices and languages -----------------------------------------------------------------------------------------
def test_mms_language_list() -> None:
    languages = voices.mms_languages()
    assert len(languages) > 1100
    assert all(re.fullmatch(r"[a-z]{3}(-(script|dialect)_[^\s/]+)?", code) for code in languages)
    for code, name in {"eng": "English", "hin": "Hindi", "rus": "Russian", "fra": "French", "spa": "Spanish",
                       "swh": "Swahili", "yor": "Yoruba", "vie": "Vietnamese", "tur": "Turkish"}.items():
        assert languages[code] == name
    assert languages["deu"].startswith("German")
    assert set(voices.offered_mms_languages()) <= set(languages)


def test_resolve_mms_language() -> None:
    assert voices.resolve_mms_language("hin") == "facebook/mms-tts-hin"
    assert voices.resolve_mms_language(" RUS ") == "facebook/mms-tts-rus"
    assert voices.resolve_mms_language("Hindi") == "facebook/mms-tts-hin"
    assert voices.resolve_mms_language("French (fra)") == "facebook/mms-tts-fra"
    assert voices.resolve_mms_language("swh") == "facebook/mms-tts-swh"  # listed in MMS, not curated: added
    with pytest.raises(UserError, match="not an MMS-TTS language"):
        voices.resolve_mms_language("zzz")
    with pytest.raises(UserError, match="several MMS voices"):
        voices.resolve_mms_language("Urdu")
    with pytest.raises(UserError, match="not an MMS-TTS language"):
        voices.resolve_mms_language("../../evil/repo")


def test_every_resolved_language_is_a_registry_model() -> None:
    for code in voices.mms_languages():
        try:
            model_id = voices.resolve_mms_language(code)
        except UserError:
            continue
        assert registry.get_spec(model_id).task == registry.TTS


def _xvector_zip(path: Path) -> Path:
    rng = np.random.default_rng(1)
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("cmu_us_slt_arctic-wav-arctic_a0001", "cmu_us_slt_arctic-wav-arctic_a0002",
                     "cmu_us_bdl_arctic-wav-arctic_a0001", "cmu_us_xyz_arctic-wav-arctic_a0001"):
            buffer = io.BytesIO()
            np.save(buffer, rng.standard_normal(512).astype(np.float32))
            archive.writestr(f"spkrec-xvect/{name}.npy", buffer.getvalue())
        archive.writestr("spkrec-xvect/readme.txt", "not a vector")
    return path


def test_xvector_presets_from_the_archive(tmp_path: Path) -> None:
    presets = voices.xvectors_from_zip(_xvector_zip(tmp_path / "spkrec-xvect.zip"))
    assert set(presets) == {"slt", "bdl"}  # unknown speakers and other files are ignored
    for vector in presets.values():
        assert vector.shape == (512,) and vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


class _Presets:
    def __init__(self, presets: dict | None) -> None:
        self.presets, self.problem = presets, "the hub is unreachable"

    def get(self, wait_s: float = 0.0) -> dict | None:
        return self.presets


def test_speecht5_speaker_choice_and_fallback(tmp_path: Path) -> None:
    offline = voices.speecht5_speaker("slt", seed=3, presets=_Presets(None))
    assert "unavailable" in offline.fallback_note and "seed 3" in offline.fallback_note
    np.testing.assert_array_equal(offline.embedding, voices.random_xvector(3))
    loaded = voices.xvectors_from_zip(_xvector_zip(tmp_path / "x.zip"))
    online = voices.speecht5_speaker("bdl", seed=3, presets=_Presets(loaded))
    assert online.fallback_note == "" and online.embedding is loaded["bdl"]
    with pytest.raises(UserError, match="Unknown SpeechT5 voice"):
        voices.speecht5_speaker("v2/en_speaker_1", seed=0, presets=_Presets(loaded))


def test_presets_are_unavailable_offline_and_the_ui_says_so() -> None:
    assert voices.XVECTORS.get(wait_s=5) is None  # the tests run with HF_HUB_OFFLINE=1
    assert "Speaker presets unavailable" in views.model_notes("microsoft/speecht5_tts")
    assert "Bark is slow on CPU" in views.model_notes("suno/bark-small", "Hello there.")


# ---- every model, on the tiny models ------------------------------------------------------------------------------
def _expected_rate(model_id: str) -> int:
    from shared.models.loader import get_loader

    with get_loader().use(model_id) as model:
        if tts.engine_of(model_id) in ("csm", "dia"):
            return model.sample_rate  # a CodecLm: the codec's rate
        return model.config.sample_rate if tts.engine_of(model_id) == "piper" else model.sampling_rate


def _check_audio(speech: tts.Speech) -> None:
    samples = speech.samples
    assert samples.dtype == np.float32 and samples.ndim == 1 and len(samples) > 0.2 * speech.sample_rate
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0
    assert np.sqrt(np.mean(samples ** 2)) > 1e-3  # not silent
    assert speech.sample_rate == _expected_rate(speech.model_id)
    assert speech.compute_s > 0 and speech.real_time_factor > 0 and speech.device in ("cpu", "cuda", "mps")
    written, rate = sf.read(views.write_wav(speech), dtype="float32")
    assert rate == speech.sample_rate and len(written) == len(samples) and np.abs(written).max() <= 1.0


@pytest.mark.parametrize("model_id", TTS_MODELS)
def test_every_tts_model_speaks(tiny_hf_home: Path, model_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if tts.engine_of(model_id) in ("csm", "dia"):  # codec LMs: 6+ GB in fp32 (over the default budget), slow
        from shared.models.loader import get_loader
        from shared.tts import codec_lm

        monkeypatch.setattr(get_loader(), "budget_mb", 100_000)
        monkeypatch.setattr(codec_lm, "MAX_PART_S", 0.4)
    text = {"facebook/mms-tts-hin": HINDI, "facebook/mms-tts-rus": RUSSIAN,
            "facebook/mms-tts-deu": "Grüß Gott, schöne Straße."}.get(model_id, "Hello world.")
    voice = "v2/en_speaker_3" if tts.engine_of(model_id) == "bark" else ""
    speech = tts.synthesize(text, model_id, voice=voice, seed=1)
    _check_audio(speech)
    if model_id.endswith(("-hin", "-rus")):
        romanised = next(note for note in speech.notes if note.startswith("Romanised with uroman"))
        assert re.search(r"“[\x00-\x7f]+”", romanised)  # the model was given Latin letters
    if voice:
        assert speech.voice.startswith(voice)


def test_seed_makes_sampling_repeatable(tiny_hf_home: Path) -> None:
    # VITS samples durations and noise (the tiny Bark's codec ignores its sampled tokens, so it cannot show this)
    first = tts.synthesize("Hello there.", "facebook/mms-tts-eng", seed=7).samples
    again = tts.synthesize("Hello there.", "facebook/mms-tts-eng", seed=7).samples
    other = tts.synthesize("Hello there.", "facebook/mms-tts-eng", seed=8).samples
    np.testing.assert_array_equal(first, again)
    assert len(first) != len(other) or not np.array_equal(first, other)


def test_bark_presets_come_from_the_repo_only(tiny_hf_home: Path) -> None:
    with pytest.raises(UserError, match="not in this Bark repository's presets"):
        tts.synthesize("Hello.", "suno/bark-small", voice="v2/de_speaker_1")  # the tiny repo ships en only
    with pytest.raises(UserError, match="not in this Bark repository's presets"):
        tts.synthesize("Hello.", "suno/bark-small", voice="/etc/passwd")  # never reaches BarkProcessor's np.load
    assert tts.synthesize("Hello.", "suno/bark-small", voice=voices.NO_PRESET).voice.startswith("no preset")


def _silent_gaps(speech: tts.Speech) -> int:
    """Runs of exact digital silence at least PAUSE_S long: the pauses put between chunks."""
    silent = np.concatenate([[False], speech.samples == 0, [False]]).astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(silent) == 1), np.flatnonzero(np.diff(silent) == -1)
    return int(np.sum(ends - starts >= round(tts.PAUSE_S * speech.sample_rate)))


def test_long_text_is_split_and_joined_with_pauses(tiny_hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tts.CHUNK_CHARS, "vits", 30)
    monkeypatch.setitem(tts.CHUNK_CHARS, "speecht5", 6)
    speech = tts.synthesize("The first sentence is here. A second one follows. And a third.", "facebook/mms-tts-eng")
    assert speech.chunks == 3 and _silent_gaps(speech) == 2
    _check_audio(speech)
    short = tts.synthesize("Hi. Bye.", "microsoft/speecht5_tts", voice="random")  # SpeechT5 chunks of 6 characters
    assert short.chunks == 2 and _silent_gaps(short) == 1
    _check_audio(short)


def test_text_the_model_cannot_read(tiny_hf_home: Path) -> None:
    with pytest.raises(UserError, match="None of the characters of this text are in the alphabet"):
        tts.synthesize(RUSSIAN, "facebook/mms-tts-eng")  # eng reads Latin letters and has no romaniser
    with pytest.raises(UserError, match="SpeechT5 reads English letters only"):
        tts.synthesize(RUSSIAN, "microsoft/speecht5_tts")
    with pytest.raises(UserError, match="Unknown model"):
        tts.synthesize("Hello", "evil/repo")
    with pytest.raises(UserError, match="not a text-to-speech model"):
        tts.synthesize("Hello", "openai/whisper-tiny")
    with pytest.raises(UserError, match="Unknown SpeechT5 voice"):
        tts.synthesize("Hello", "microsoft/speecht5_tts", voice="nobody")
    with pytest.raises(UserError, match="seed must be between"):
        tts.synthesize("Hello", tts.OFFLINE_VOICE, seed=-1)


def test_speecht5_uses_the_fallback_voice_offline(tiny_hf_home: Path) -> None:
    speech = tts.synthesize("Hi.", "microsoft/speecht5_tts", voice="slt", seed=5)
    assert "random voice from seed 5" in speech.notes[0] and "preset unavailable" in speech.voice


def test_mms_language_picks_the_registry_model(tiny_hf_home: Path) -> None:
    speech = tts.synthesize(HINDI, "facebook/mms-tts-eng", language="hin")
    assert speech.model_id == "facebook/mms-tts-hin" and not speech.english
    with pytest.raises(UserError, match="facebook/mms-tts-swh is not downloaded and the Hugging Face hub is"):
        tts.synthesize("Habari", "facebook/mms-tts-eng", language="swh")
    assert tts.synthesize("Hello", tts.OFFLINE_VOICE, language="hin").model_id == tts.OFFLINE_VOICE


# ---- the offline voice read back by the offline recogniser --------------------------------------------------------
def test_piper_round_trip_through_offline_asr() -> None:
    references, heard = [], []
    for sentence in PIPER_SENTENCES[:3]:
        speech = tts.synthesize(sentence, tts.OFFLINE_VOICE)
        _check_audio(speech)
        assert speech.sample_rate == 22_050 and speech.english
        text, _ = tts.round_trip(speech)
        references.append(sentence)
        heard.append(text)
    assert wer(" ".join(references), " ".join(heard)) <= PIPER_ROUND_TRIP_WER, heard


def test_compare_runs_each_model_and_reports_errors_per_row(tiny_hf_home: Path) -> None:
    results = tts.compare("The quick brown fox jumps over the lazy dog.", [tts.OFFLINE_VOICE, "facebook/mms-tts-eng"])
    assert [result.model_id for result in results] == [tts.OFFLINE_VOICE, "facebook/mms-tts-eng"]
    assert results[0].wer is not None and results[0].wer <= 0.1
    rows = views.compare_rows(results)
    assert len(rows[0]) == len(views.COMPARE_HEADERS)
    mixed = tts.compare(RUSSIAN, ["facebook/mms-tts-rus", "microsoft/speecht5_tts"])
    assert mixed[0].speech is not None and "English recogniser" in views.compare_rows(mixed)[0][-1]
    assert mixed[1].speech is None and "English letters only" in mixed[1].error
    with pytest.raises(UserError, match="2 to 4 models"):
        tts.compare("Hello", [tts.OFFLINE_VOICE])


# ---- the API ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_tts_api(client) -> None:
    audio, spectrogram, info, details, _inside, _card = client.predict("Hello there. This is the built-in voice.",
                                                                       model=tts.OFFLINE_VOICE, api_name="/tts")
    samples, rate = sf.read(audio, dtype="float32")
    assert rate == 22_050 == details["sample_rate"] and np.abs(samples).max() <= 1.0 and samples.std() > 0.01
    assert Path(spectrogram).is_file() and "real-time factor" in info and details["device"] == "cpu"
    audio, _, _, details, _, _ = client.predict(HINDI, model="facebook/mms-tts-eng", language="hin", api_name="/tts")
    assert details["model"] == "facebook/mms-tts-hin" and sf.info(audio).samplerate == 16_000


def test_tts_api_errors(client) -> None:
    with pytest.raises(Exception, match="nothing to speak"):
        client.predict("🎉🎉", model=tts.OFFLINE_VOICE, api_name="/tts")
    with pytest.raises(Exception, match="mms-tts-swh is not downloaded"):
        client.predict("Habari", model="facebook/mms-tts-eng", language="swh", api_name="/tts")
    with pytest.raises(Exception, match=r"unknown model|not in the list of choices"):
        client.predict("Hello", model="evil/repo", api_name="/tts")


def test_compare_tts_api(client) -> None:
    table, *slots = client.predict("The quick brown fox jumps over the lazy dog. Speech recognition is easy.",
                                   models=[tts.OFFLINE_VOICE, "facebook/mms-tts-eng"], api_name="/compare_tts")
    assert [row[0] for row in table["data"]] == [tts.OFFLINE_VOICE, "facebook/mms-tts-eng"]
    assert table["data"][0][table["headers"].index("WER")] <= 0.2  # one sentence pair, Piper's unseeded noise
    players = slots[:4]
    assert all(Path(player["value"]).is_file() for player in players[:2]) and players[2]["visible"] is False
