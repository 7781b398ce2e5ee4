"""Known speakers on real voices: enrolment naming (pyannote's sample.wav speakers + the Piper voice) puts the right
names on at least 90 % of the speech, verification trials scored against the calibrated threshold, the equal error
rate on hand-built trials, the enrolment checks, and the API (/enrol_speaker, /verify_speakers, /diarize and
/who_said_what with an enrolment list) through the launched app."""

from __future__ import annotations

from pathlib import Path

import gradio
import numpy as np
import pytest
from gradio_client import Client, handle_file

from shared.audio.intake import AudioClip, load_audio
from shared.diarize import known_speakers as ks
from shared.diarize import rttm
from shared.diarize import run as dz
from shared.errors import UserError
from shared.outputs.subtitles import parse_cues
from tests.speech_data import PIPER_SENTENCES, pyannote_sample_dir, sample_wav, synthesize

RATE = 16_000
FRAME_S = 0.01
GRADIO_VOICES = Path(gradio.__file__).parent / "media_assets" / "audio"
ENROL_BEFORE_S = 18.0  # sample.wav: each speaker is enrolled from their turns before this time only


def piper_16k(text: str) -> np.ndarray:
    from scipy.signal import resample_poly

    audio, _ = synthesize(text)
    return resample_poly(audio, 160, 221).astype(np.float32)  # 22.05 kHz -> 16 kHz


def clip_of(samples: np.ndarray, name: str = "clip") -> AudioClip:
    return AudioClip(samples.astype(np.float32), RATE, RATE, 1, "wav", name)


@pytest.fixture(scope="module")
def conversation() -> tuple[AudioClip, list[rttm.Turn], dict[str, np.ndarray]]:
    """sample.wav (Ann = speaker90, Bea = speaker91) then two Piper sentences (Joe) after 1 s pauses; the reference
    turns; and each person's enrolment audio (Ann and Bea: their turns before 18 s; Joe: two other sentences)."""
    import soundfile as sf

    sample, rate = sf.read(sample_wav(), dtype="float32")
    assert rate == RATE
    names = {"speaker90": "Ann", "speaker91": "Bea"}
    reference = [rttm.Turn(t.start, t.end, names[t.speaker])
                 for t in rttm.parse_rttm((pyannote_sample_dir() / "sample.rttm").read_text())]
    pieces, offset = [sample], len(sample) / RATE
    for sentence in PIPER_SENTENCES[:2]:
        speech = piper_16k(sentence)
        pieces += [np.zeros(RATE, np.float32), speech]
        reference.append(rttm.Turn(offset + 1.0, offset + 1.0 + len(speech) / RATE, "Joe"))
        offset += 1.0 + len(speech) / RATE
    enrol = {name: np.concatenate([sample[int(t.start * RATE):int(t.end * RATE)] for t in reference
                                   if t.speaker == name and t.end <= ENROL_BEFORE_S]) for name in ("Ann", "Bea")}
    enrol["Joe"] = np.concatenate([piper_16k(text) for text in PIPER_SENTENCES[2:4]])
    return clip_of(np.concatenate(pieces), "conversation"), sorted(reference), enrol


@pytest.fixture(scope="module")
def voices(conversation) -> list[ks.Voice]:
    return [ks.enrol(clip_of(audio, name), name) for name, audio in conversation[2].items()]


@pytest.fixture(scope="module")
def diarized(conversation) -> dz.Diarization:
    return dz.diarize(conversation[0])


def named_share(reference: list[rttm.Turn], hypothesis: list[rttm.Turn], duration_s: float,
                after_s: float = 0.0) -> float:
    """Share of the reference's single-speaker speech (10 ms frames, from `after_s` on) whose hypothesis speaker
    has the reference's name."""
    frames = int(duration_s / FRAME_S) + 1
    times = np.arange(frames) * FRAME_S
    right = total = 0
    for turn in reference:
        alone = (times >= max(turn.start, after_s)) & (times < turn.end)
        for other in reference:
            if other is not turn:
                alone &= ~((times >= other.start) & (times < other.end))
        said = np.zeros(frames, bool)
        for hyp in (h for h in hypothesis if h.speaker == turn.speaker):
            said |= (times >= hyp.start) & (times < hyp.end)
        total += int(alone.sum())
        right += int((alone & said).sum())
    return right / total


def test_enrolment_names_real_voices(conversation, voices: list[ks.Voice], diarized: dz.Diarization) -> None:
    clip, reference, _ = conversation
    assert [voice.name for voice in voices] == ["Ann", "Bea", "Joe"] and all(v.seconds >= 5 for v in voices)
    named = ks.name_diarization(diarized, clip, voices)
    assert {turn.speaker for turn in named.turns} == {"Ann", "Bea", "Joe"}
    assert named_share(reference, named.turns, clip.duration_s) >= 0.9
    assert named_share(reference, named.turns, clip.duration_s, after_s=ENROL_BEFORE_S) >= 0.9  # not enrolled from
    assert {match["name"] for match in named.naming} == {"Ann", "Bea", "Joe"}
    assert all(match["similarity"] >= ks.VERIFY_THRESHOLD for match in named.naming)
    assert {name for name in named.internals.speakers if name} <= {"Ann", "Bea", "Joe"}  # pictures colour by name


def test_unenrolled_speakers_stay_unknown(conversation, voices: list[ks.Voice], diarized: dz.Diarization) -> None:
    clip, _, _ = conversation
    only_joe = [voice for voice in voices if voice.name == "Joe"]
    named = ks.name_diarization(diarized, clip, only_joe)
    speakers = {turn.speaker for turn in named.turns}
    assert "Joe" in speakers and {s for s in speakers if s != "Joe"} == {"unknown (SPEAKER_00)", "unknown (SPEAKER_01)"}
    assert rttm.to_rttm(named.turns).count("unknown_(SPEAKER_00)") >= 1  # RTTM names carry no spaces


def test_verification_trials_scored() -> None:
    def load(name: str) -> AudioClip:
        return load_audio(str(GRADIO_VOICES / name), RATE)

    same = ks.verify(load("cate_blanch.mp3"), load("cate_blanch_2.mp3"))
    different = ks.verify(load("cate_blanch.mp3"), load("heath_ledger.mp3"))
    joe = ks.verify(clip_of(piper_16k(PIPER_SENTENCES[0])), clip_of(piper_16k(PIPER_SENTENCES[1])))
    assert same.same and joe.same and not different.same
    assert same.similarity > different.similarity + 0.1
    assert "same speaker" in same.meaning() and f"{ks.VERIFY_THRESHOLD:.3f}" in same.meaning()
    assert "different speakers" in different.meaning() and "equal error rate" in different.meaning()
    assert different.to_json()["same_speaker"] is False and different.to_json()["threshold"] == ks.VERIFY_THRESHOLD


def test_equal_error_rate_on_hand_built_trials() -> None:
    eer, threshold = ks.equal_error_rate(np.array([0.9, 0.8, 0.7, 0.4]), np.array([0.1, 0.2, 0.3, 0.75]))
    assert eer == pytest.approx(0.25) and 0.4 < threshold <= 0.75  # one miss of 4, one false accept of 4
    assert ks.equal_error_rate(np.array([0.9, 0.8]), np.array([0.1, 0.2]))[0] == 0.0  # separable
    with pytest.raises(ValueError):
        ks.equal_error_rate(np.array([]), np.array([0.1]))


def test_enrolment_checks(voices: list[ks.Voice]) -> None:
    with pytest.raises(UserError, match="name"):
        ks.enrol(clip_of(np.zeros(6 * RATE)), "  ")
    with pytest.raises(UserError, match="5–30 s"):
        ks.enrol(clip_of(piper_16k("Hello.")), "Short")
    with pytest.raises(UserError, match="too little sound"):
        ks.enrol(clip_of(np.zeros(6 * RATE)), "Silence")
    listed = ks.voices_from_json([voice.to_json() for voice in voices])
    assert [v.name for v in listed] == ["Ann", "Bea", "Joe"]
    assert np.allclose(listed[0].voiceprint, voices[0].voiceprint, atol=1e-5)
    assert [v.name for v in ks.with_voice(listed, ks.Voice("ann", voices[2].voiceprint, 6.0))] == ["Bea", "Joe", "ann"]
    zero, short = [{"name": "A", "voiceprint": [0.0] * 256}], [{"name": "A", "voiceprint": [1]}]
    for bad in ("nope", [{"name": "A"}], zero, short):
        with pytest.raises(UserError):
            ks.voices_from_json(bad)
    assert ks.voices_from_json(None) == [] and ks.voices_from_json([]) == []


# ---- through the launched app ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_api_enrol_verify_and_named_diarization(client: Client, conversation, voices: list[ks.Voice],
                                                tmp_path: Path) -> None:
    import uuid

    import gradio as gr
    import soundfile as sf

    clip, _, enrol = conversation
    # short: sample.wav from 14 s on, then Joe; the clips to be deleted get names of their own, so this run's uploads
    # can be told from earlier runs' (Gradio's upload folder outlives a test session)
    run = uuid.uuid4().hex[:12]
    joe, short = tmp_path / f"joe_{run}.wav", tmp_path / "short.wav"
    sf.write(joe, enrol["Joe"], RATE)
    sf.write(short, clip.samples[14 * RATE:], RATE)
    known = [voice.to_json() for voice in voices[:2]]  # Ann and Bea as an API user keeps them
    enrolled, table, status = client.predict(handle_file(str(joe)), "Joe", known, api_name="/enrol_speaker")
    assert "Joe" in status and [row[0] for row in table["data"]] == ["Ann", "Bea", "Joe"]
    assert len(enrolled[2]["voiceprint"]) == 256
    uploads = Path(gr.utils.get_upload_folder())
    assert list(uploads.rglob(joe.name)) == []  # the server deleted the enrolment clip: only its voiceprint stays
    turns, info, *_ = client.predict(handle_file(str(short)), model=dz.OFFLINE_DIARIZER, enrolled=enrolled,
                                     inside=False, api_name="/diarize")
    assert {t["speaker"] for t in turns} == {"Ann", "Bea", "Joe"} and "Known speakers" in info
    text, _info, rows, files = client.predict(handle_file(str(short)), model=dz.OFFLINE_DIARIZER,
                                              enrolled=enrolled, api_name="/who_said_what")
    assert {row[0] for row in rows["data"]} == {"Ann", "Bea", "Joe"} and "Joe: " in text
    srt = next(f for f in files if f.endswith(".srt"))
    assert all(cue.text.startswith(("Ann:", "Bea:", "Joe:")) for cue in parse_cues(Path(srt).read_text()))
    cate, heath = (tmp_path / f"{name}_{run}.mp3" for name in ("cate", "heath"))
    cate.write_bytes((GRADIO_VOICES / "cate_blanch.mp3").read_bytes())
    heath.write_bytes((GRADIO_VOICES / "heath_ledger.mp3").read_bytes())
    verdict, result = client.predict(handle_file(str(cate)), handle_file(str(heath)), api_name="/verify_speakers")
    assert result["same_speaker"] is False and result["threshold"] == ks.VERIFY_THRESHOLD and "threshold" in verdict
    assert list(uploads.rglob(cate.name)) == list(uploads.rglob(heath.name)) == []
    with pytest.raises(Exception, match="5–30 s"):
        client.predict(handle_file(str(GRADIO_VOICES / "heath_ledger.mp3")), "Heath", [], api_name="/enrol_speaker")
