"""Diarization: RTTM/JSON, the built-in offline diarizer and who-said-what on real speech (pyannote's sample), the
pyannote pipelines on the tiny random models (real `Pipeline.from_pretrained` path through the shared loader), token
handling (messages; a token never reaches logs or outputs), and the API through the launched app."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from scipy.optimize import linear_sum_assignment

from shared.audio.intake import AudioClip, load_audio
from shared.diarize import access, rttm, scoring, views
from shared.diarize import run as dz
from shared.diarize import who_said_what as wsw
from shared.errors import ModelUnavailableError, UserError
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.outputs.subtitles import parse_cues
from tests.speech_data import pyannote_sample_dir, sample_transcript, sample_wav

COMMUNITY = "pyannote/speaker-diarization-community-1"
LEGACY = "pyannote/speaker-diarization-3.1"
FAKE_ENV_TOKEN = "hf_FAKEenvTOKEN0123456789abcdefghijkl"
FAKE_FIELD_TOKEN = "hf_FAKEfieldTOKEN9876543210zyxwvutsrq"


@pytest.fixture(scope="module")
def sample_clip() -> AudioClip:
    return load_audio(sample_wav(), 16_000)


@pytest.fixture(scope="module")
def reference_turns() -> list[rttm.Turn]:
    return rttm.parse_rttm((pyannote_sample_dir() / "sample.rttm").read_text())


@pytest.fixture(scope="module")
def offline_result(sample_clip: AudioClip) -> dz.Diarization:
    return dz.diarize(sample_clip, dz.OFFLINE_DIARIZER)


# ---- turns, RTTM, JSON --------------------------------------------------------------------------------------------
def test_rttm_round_trip(reference_turns: list[rttm.Turn]) -> None:
    assert len(reference_turns) == 10 and {t.speaker for t in reference_turns} == {"speaker90", "speaker91"}
    turns = [rttm.Turn(0.0, 1.25, "Ann"), rttm.Turn(0.5, 2.0, "Bob Smith"), rttm.Turn(3600.125, 3601.0, "SPEAKER_02")]
    parsed = rttm.parse_rttm(rttm.to_rttm(turns, uri="my file"))
    assert parsed == [rttm.Turn(0.0, 1.25, "Ann"), rttm.Turn(0.5, 2.0, "Bob_Smith"), turns[2]]
    assert rttm.parse_rttm(rttm.to_rttm(reference_turns, "sample")) == reference_turns
    assert rttm.to_rttm(turns, "my file").splitlines()[0] == "SPEAKER my_file 1 0.000 1.250 <NA> <NA> Ann <NA> <NA>"


@pytest.mark.parametrize(("text", "message"), [
    ("", "no SPEAKER lines"),
    (";; only a comment\n", "no SPEAKER lines"),
    ("SPEAKER a 1 0.0 1.0 <NA>\n", "at least 8"),
    ("SPEAKER a 1 zero 1.0 <NA> <NA> x <NA> <NA>\n", "must be numbers"),
    ("SPEAKER a 1 -1 1.0 <NA> <NA> x <NA> <NA>\n", "non-negative"),
    ("SPEAKER a 1 0 1 <NA> <NA> x <NA> <NA>\nSPEAKER b 1 0 1 <NA> <NA> y <NA> <NA>\n", "2 recordings"),
])
def test_rttm_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        rttm.parse_rttm(text)


def test_turns_json_round_trip_and_validation() -> None:
    turns = [rttm.Turn(1.0, 2.5, "B"), rttm.Turn(0.0, 1.0, "A")]
    assert rttm.turns_from_json(json.loads(json.dumps(rttm.turns_to_json(turns)))) == sorted(turns)
    assert rttm.turns_from_json({"turns": [{"start": 0, "end": 1, "speaker": 3}]}) == [rttm.Turn(0, 1, "3")]
    for bad in ("nope", [{"start": 0}], [{"start": 2, "end": 1, "speaker": "A"}]):
        with pytest.raises(UserError):
            rttm.turns_from_json(bad)


@pytest.mark.parametrize(("counts", "message"), [
    ((None, 3, 2), "more than maximum"),
    ((5, 1, 3), "outside the min/max"),
    ((2.5, None, None), "whole number"),
    ((None, None, 99), "between 1 and 20"),
])
def test_speaker_count_validation(sample_clip: AudioClip, counts: tuple, message: str) -> None:
    with pytest.raises(UserError, match=message):
        dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, *counts)


def test_maximum_duration_is_a_clear_error(sample_clip: AudioClip, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADS_DIARIZE_MAX_S", "20")
    with pytest.raises(UserError, match=r"The audio is 00:30.0 long; diarization accepts up to 00:20.0"):
        dz.diarize(sample_clip, dz.OFFLINE_DIARIZER)
    from tabs.diarize import run_diarize

    with pytest.raises(gr.Error, match=r"the limit is 20\.0 s"):
        run_diarize(str(sample_wav()), dz.OFFLINE_DIARIZER)


# ---- the built-in offline diarizer on real speech -----------------------------------------------------------------
def test_offline_diarizer_finds_both_speakers(offline_result: dz.Diarization, reference_turns: list[rttm.Turn],
                                              sample_clip: AudioClip) -> None:
    assert offline_result.speakers == ["SPEAKER_00", "SPEAKER_01"]
    assert all(0 <= t.start < t.end <= sample_clip.duration_s for t in offline_result.turns)
    evaluation = scoring.evaluate(reference_turns, offline_result.turns, sample_clip.duration_s, collar_s=0.25)
    assert evaluation.der <= 0.20, evaluation.to_json()
    parts = evaluation.missed_s + evaluation.false_alarm_s + evaluation.confusion_s
    assert evaluation.der == pytest.approx(parts / evaluation.reference_s, abs=1e-6)
    assert sorted(evaluation.mapping.values()) == ["speaker90", "speaker91"]
    assert offline_result.device == "cpu" and offline_result.real_time_factor > 0


def test_offline_diarizer_speaker_count_options(sample_clip: AudioClip) -> None:
    assert len(dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, num_speakers=1).speakers) == 1
    assert len(dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, max_speakers=1).speakers) == 1
    assert len(dz.diarize(sample_clip, dz.OFFLINE_DIARIZER, num_speakers=2).speakers) == 2


def test_offline_diarizer_on_silence_and_short_audio() -> None:
    silence = AudioClip(np.zeros(5 * 16_000, np.float32), 16_000, 16_000, 1, "array", "silence")
    assert dz.diarize(silence, dz.OFFLINE_DIARIZER).turns == []
    tiny = AudioClip(np.zeros(100, np.float32), 16_000, 16_000, 1, "array", "tiny")
    assert dz.diarize(tiny, dz.OFFLINE_DIARIZER).turns == []


# ---- who said what ------------------------------------------------------------------------------------------------
def _map_to_reference(turns: list[rttm.Turn], reference: list[tuple[str, float, float]]) -> dict[str, str]:
    """Hypothesis speaker → reference speaker maximising the total overlap (Hungarian)."""
    hyp = sorted({t.speaker for t in turns})
    ref = sorted({line[0] for line in reference})
    overlap = np.zeros((len(hyp), len(ref)))
    for turn in turns:
        for speaker, start, end in reference:
            overlap[hyp.index(turn.speaker), ref.index(speaker)] += max(0.0, min(end, turn.end) - max(start,
                                                                                                     turn.start))
    rows, cols = linear_sum_assignment(-overlap)
    return {hyp[r]: ref[c] for r, c in zip(rows, cols, strict=True)}


def test_who_said_what_attributes_the_words(sample_clip: AudioClip, offline_result: dz.Diarization) -> None:
    result = wsw.who_said_what(sample_clip, offline_result, wsw.OFFLINE_ASR)
    lines = [(speaker, start, end) for speaker, start, end, _ in sample_transcript()]
    mapping = _map_to_reference(offline_result.turns, lines)
    right = 0
    for word, speaker in result.words:
        middle = (word.start + word.end) / 2
        reference = min(lines, key=lambda line: max(line[1] - middle, middle - line[2], 0.0))[0]
        right += mapping.get(speaker) == reference
    assert len(result.words) >= 60  # sample.stm has 77 words
    assert right / len(result.words) >= 0.8, (right, len(result.words))
    names = wsw.rename_speakers(offline_result.speakers, "Alice, Bob")
    text = wsw.tagged_text(result.lines, names)
    assert text.splitlines()[0].startswith("[00:0") and {"Alice:", "Bob:"} <= set(text.split())
    cues = parse_cues(wsw.tagged_srt(result.lines, names))
    assert len(cues) == len(result.lines) and all(c.text.split(":")[0] in ("Alice", "Bob") for c in cues)
    files = views.write_who_said_what_files(result, "sample.wav", names)
    assert [Path(f).suffix for f in files] == [".txt", ".srt", ".json"]


def test_word_attribution_rules() -> None:
    from shared.transcribe.run import Word

    turns = [rttm.Turn(0.0, 2.0, "A"), rttm.Turn(1.5, 4.0, "B")]
    assert wsw.speaker_of(0.2, 0.6, turns) == "A"
    assert wsw.speaker_of(1.6, 2.5, turns) == "B"  # overlaps B more than A
    assert wsw.speaker_of(6.0, 6.5, turns) == "B"  # no overlap: nearest turn
    assert wsw.speaker_of(0.0, 1.0, []) is None
    words = [Word(0.1, 0.4, "hi"), Word(0.5, 0.9, "there"), Word(2.5, 2.9, "hello"), Word(9.0, 9.4, "again")]
    lines = wsw.speaker_lines(wsw.assign_words(words, turns))
    assert [(line.speaker, line.text) for line in lines] == [("A", "hi there"), ("B", "hello"), ("B", "again")]


def test_speaker_audio_and_timeline(sample_clip: AudioClip, offline_result: dz.Diarization,
                                    reference_turns: list[rttm.Turn]) -> None:
    turns = [rttm.Turn(1.0, 2.0, "A"), rttm.Turn(1.5, 2.5, "A"), rttm.Turn(4.0, 5.0, "A"), rttm.Turn(0.0, 9.0, "B")]
    audio = dz.speaker_audio(sample_clip.samples, 16_000, turns, "A", gap_s=0.5)
    assert len(audio) == int(1.5 * 16_000) + int(0.5 * 16_000) + 16_000
    with pytest.raises(UserError, match="No turns"):
        dz.speaker_audio(sample_clip.samples, 16_000, turns, "C")
    plain = views.timeline_image(sample_clip.samples, 16_000, offline_result)
    evaluation = scoring.evaluate(reference_turns, offline_result.turns, sample_clip.duration_s)
    with_reference = views.timeline_image(sample_clip.samples, 16_000, offline_result, reference_turns, evaluation)
    assert plain.ndim == 3 and plain.shape[2] == 3 and with_reference.shape[0] > plain.shape[0]
    rttm_path, payload = views.write_diarization_files(offline_result, "sample.wav", evaluation)
    assert rttm.parse_rttm(Path(rttm_path).read_text()) == offline_result.turns
    assert json.loads(Path(payload).read_text())["evaluation"]["diarization_error_rate"] == pytest.approx(
        evaluation.der, abs=1e-4)


# ---- pyannote pipelines on the tiny random models ---------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_loader(tiny_hf_home: Path) -> ModelLoader:
    return ModelLoader(budget_mb=100_000, placement=Placement("cpu", "float32"))


@pytest.mark.parametrize("model_id", [COMMUNITY, LEGACY])
def test_pyannote_pipelines_through_the_shared_loader(model_id: str, tiny_loader: ModelLoader,
                                                      sample_clip: AudioClip) -> None:
    clip = AudioClip(sample_clip.samples[: 12 * 16_000], 16_000, 16_000, 1, "wav", "piece")
    steps: list[str] = []
    result = dz.diarize(clip, model_id, max_speakers=2, loader=tiny_loader,
                        progress=lambda fraction, desc: steps.append(desc))
    assert tiny_loader.load_counts[model_id] == 1  # Pipeline.from_pretrained through the loader's engine
    assert result.engine == "pyannote" and result.device == "cpu"
    assert all(0 <= t.start < t.end <= clip.duration_s for t in result.turns)  # cropped to the file
    assert len(result.speakers) <= 2 and all(isinstance(s, str) for s in result.speakers)
    assert any("segmentation" in s for s in steps) and any("embeddings" in s for s in steps)
    again = dz.diarize(clip, model_id, num_speakers=1, loader=tiny_loader)
    assert tiny_loader.load_counts[model_id] == 1 and len(again.speakers) <= 1


# ---- tokens: messages, and never in any log or output -----------------------------------------------------------
def test_fake_tokens_never_appear_in_logs_or_outputs(tiny_loader: ModelLoader, sample_clip: AudioClip,
                                                     monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                                     capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_ENV_TOKEN)
    caplog.set_level(logging.DEBUG)
    clip = AudioClip(sample_clip.samples[: 11 * 16_000], 16_000, 16_000, 1, "wav", "piece")
    result = dz.diarize(clip, COMMUNITY, token=FAKE_FIELD_TOKEN, loader=tiny_loader)
    files = views.write_diarization_files(result, "piece.wav")
    outputs = json.dumps(result.to_json()) + "".join(Path(f).read_text() for f in files)
    outputs += views.info_markdown(result) + repr(tiny_loader.status()) + repr(list(tiny_loader._entries))
    with pytest.raises(ModelUnavailableError) as error:  # and in an error path
        monkeypatch.setattr(access, "is_cached", lambda model_id: False)
        dz.diarize(clip, LEGACY, token=FAKE_FIELD_TOKEN, loader=tiny_loader)
    captured = capfd.readouterr()
    everything = outputs + str(error.value) + caplog.text + captured.out + captured.err
    assert "not downloaded and the Hugging Face hub is unreachable" in str(error.value)
    for token in (FAKE_ENV_TOKEN, FAKE_FIELD_TOKEN, "FAKEenv", "FAKEfield"):
        assert token not in everything


def _http_error(kind: type, status: int, text: str) -> Exception:
    import httpx2

    response = httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/api/models/x"))
    return kind(text, response=response)


@pytest.fixture
def online_not_cached(monkeypatch: pytest.MonkeyPatch) -> list:
    """The hub 'reachable' and nothing cached; the hub's answers are replaced by the test's."""
    downloads: list = []
    monkeypatch.setattr(access, "is_cached", lambda model_id: False)
    monkeypatch.setattr(access, "offline_mode", lambda: False)
    monkeypatch.setattr(access, "hub_reachable", lambda: True)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.snapshot_download",
                        lambda repo, token=None, allow_patterns=None: downloads.append((repo, token, allow_patterns)))
    return downloads


def _access_error(model_id: str, token: str | None) -> str:
    with pytest.raises(ModelUnavailableError) as error:
        access.ensure_downloaded(model_id, token)
    return str(error.value)


def test_token_messages(online_not_cached: list, monkeypatch: pytest.MonkeyPatch,
                        caplog: pytest.LogCaptureFixture) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    caplog.set_level(logging.DEBUG)
    message = _access_error(COMMUNITY, None)
    assert "gated and no Hugging Face token" in message and "HF_TOKEN" in message
    assert f"https://huggingface.co/{COMMUNITY}" in message and access.TOKEN_URL in message

    def lacks(self, repo_id: str, token: str | None = None, **kwargs) -> None:
        if repo_id == "pyannote/segmentation-3.0":
            raise _http_error(GatedRepoError, 403, f"Access to {repo_id} is restricted ({token})")

    monkeypatch.setattr(HfApi, "auth_check", lacks)
    message = _access_error(LEGACY, FAKE_FIELD_TOKEN)
    assert "does not have access to pyannote/segmentation-3.0" in message
    assert "accept the conditions at https://huggingface.co/pyannote/segmentation-3.0" in message

    def invalid(self, repo_id: str, token: str | None = None, **kwargs) -> None:
        raise _http_error(RepositoryNotFoundError, 401, f"Invalid credentials in Authorization header {token}")

    monkeypatch.setattr(HfApi, "auth_check", invalid)
    monkeypatch.setenv("HF_TOKEN", FAKE_ENV_TOKEN)
    message = _access_error(COMMUNITY, None)
    assert "token was rejected" in message and access.TOKEN_URL in message
    for token in (FAKE_ENV_TOKEN, FAKE_FIELD_TOKEN):
        assert token not in message and token not in caplog.text
    assert online_not_cached == []

    monkeypatch.setattr(HfApi, "auth_check", lambda self, repo_id, token=None, **kwargs: None)
    access.ensure_downloaded(LEGACY, FAKE_FIELD_TOKEN)  # the request's token wins over HF_TOKEN, for download only
    assert [repo for repo, _, _ in online_not_cached] == list(access.REQUIRED_REPOS[LEGACY])
    assert {token for _, token, _ in online_not_cached} == {FAKE_FIELD_TOKEN}
    assert online_not_cached[-1][2] == ["plda/*"]
    assert FAKE_FIELD_TOKEN not in caplog.text


def test_offline_and_not_downloaded_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "is_cached", lambda model_id: False)
    message = _access_error(COMMUNITY, FAKE_FIELD_TOKEN)
    assert "not downloaded and the Hugging Face hub is unreachable" in message and dz.OFFLINE_DIARIZER in message
    access.ensure_downloaded(dz.OFFLINE_DIARIZER, None)  # the built-in one needs nothing


# ---- the API through the launched app ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_api_diarize_offline_with_reference(client: Client) -> None:
    turns, info, _timeline, table, files, der_md, der, _inside, _card = client.predict(
        handle_file(str(sample_wav())), model=dz.OFFLINE_DIARIZER,
        reference_rttm=handle_file(str(pyannote_sample_dir() / "sample.rttm")), api_name="/diarize")
    assert {t["speaker"] for t in turns} == {"SPEAKER_00", "SPEAKER_01"}
    assert all(set(t) == {"start", "end", "speaker"} and t["start"] < t["end"] for t in turns)
    assert len(table["data"]) == len(turns) and "real-time factor" in info
    assert der["diarization_error_rate"] <= 0.2 and "missed speech" in der_md
    assert sorted(Path(f).suffix for f in files) == [".json", ".rttm"]


def test_api_diarize_pyannote_with_a_token_field(client: Client, app_url: str) -> None:
    turns, info, *_ = client.predict(handle_file(str(sample_wav())), model=COMMUNITY, num_speakers=2,
                                     hf_token=FAKE_FIELD_TOKEN, api_name="/diarize")
    assert all(0 <= t["start"] < t["end"] <= 30.0 for t in turns) and len({t["speaker"] for t in turns}) <= 2
    assert FAKE_FIELD_TOKEN not in json.dumps(turns) + info
    log_text = (Path(__file__).resolve().parent.parent / "artifacts" / "app-server.log").read_text()
    assert "FAKEfield" not in log_text
    with pytest.raises(Exception, match=r"unknown model|not in the list of choices"):
        client.predict(handle_file(str(sample_wav())), model="evil/repo", api_name="/diarize")


def test_api_who_said_what(client: Client) -> None:
    text, _info, rows, files = client.predict(handle_file(str(sample_wav())), model=dz.OFFLINE_DIARIZER,
                                              speaker_names="Diane, Sheila", api_name="/who_said_what")
    assert {row[0] for row in rows["data"]} == {"Diane", "Sheila"} and "Chicago" in text
    srt = next(f for f in files if f.endswith(".srt"))
    assert all(cue.text.startswith(("Diane:", "Sheila:")) for cue in parse_cues(Path(srt).read_text()))
    given = [{"start": 0.0, "end": 30.0, "speaker": "Everyone"}]
    text, *_ = client.predict(handle_file(str(sample_wav())), turns=given, api_name="/who_said_what")
    assert text.startswith("Everyone: ") and "offline" not in text
