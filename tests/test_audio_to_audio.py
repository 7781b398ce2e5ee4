"""Audio -> audio: the speechbrain engine (loading, the x-vector interface, what its safety checks refuse), voice
conversion, enhancement and separation through the task functions on the tiny random models (plumbing only: their
outputs are noise), the scores on real speech (SI-SDR, the SNR estimate, an oracle separation of real mixtures),
bad inputs, and the three API endpoints through gradio_client."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from shared.audio_to_audio import run as a2a
from shared.audio_to_audio import scores, views
from shared.audio_to_audio.capture import ConversionTrace, EnhancementTrace, SeparationTrace
from shared.audio_to_audio.inside import render_inside
from shared.errors import UserError
from shared.models import registry
from shared.models.device import Placement
from shared.models.loader import ModelLoader
from shared.models.speechbrain_models import (
    XVECTOR_MODEL_ID,
    UnsafeModelFilesError,
    check_hyperparams,
    load_pretrained,
    local_checkpoint,
)
from shared.serving.widgets import EXAMPLES_DIR

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SPEECH = EXAMPLES_DIR / "speech_piper.wav"
SECOND_VOICE = EXAMPLES_DIR / "speech_second_voice.wav"
NOISY = EXAMPLES_DIR / "speech_noisy_5db.wav"
MIX = EXAMPLES_DIR / "two_voices_mix_8k.wav"
ROUND_TRIP = "round-trip WER: output vs input (built-in recogniser)"


@pytest.fixture(scope="module")
def loader(tiny_hf_home: Path) -> ModelLoader:
    return ModelLoader(budget_mb=100_000, placement=Placement("cpu", "float32"))


def test_every_job_offers_its_default_model() -> None:
    for task in registry.AUDIO_TO_AUDIO_TASKS:
        assert a2a.DEFAULT_MODELS[task] in {spec.id for spec in registry.models_for(task)}, task
    assert {spec.engine for spec in registry.MODELS if spec.task in registry.AUDIO_TO_AUDIO_TASKS} == {
        "speechbrain", "speecht5-vc", "demucs"}


# ---- the speechbrain engine ---------------------------------------------------------------------------------------
def test_xvector_interface_gives_a_unit_512_vector(loader: ModelLoader) -> None:
    """The documented interface the voice-cloning TTS uses: use(XVECTOR_MODEL_ID).xvector(16 kHz samples)."""
    samples, rate = sf.read(SECOND_VOICE, dtype="float32")
    with loader.use(XVECTOR_MODEL_ID) as encoder:
        vector = encoder.xvector(samples)
        again = encoder.xvector(samples)
    assert rate == 16_000 and encoder.sample_rate == 16_000
    assert vector.shape == (512,) and vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert float(np.dot(vector, again)) > 0.9999  # speechbrain's statistics pooling adds 1e-5 noise per call
    assert registry.get_spec(XVECTOR_MODEL_ID).task == registry.SPEAKER_EMBEDDING


BAD_YAML = {
    "python object tag": "a: !!python/object/apply:os.system ['id']",
    "class outside the allow-list": "a: !new:os.system\n  command: id",
    "detour through an allowed module": "a: !new:speechbrain.nnet.linear.torch.hub.load\n  repo: x/y",
    "apply of a model class": "a: !apply:speechbrain.nnet.linear.Linear [3]",
    "include": "a: !include:other.yaml",
    "module": "a: !module:os",
    "builtin": "a: !name:builtins.eval",
    "applyref": "a: !applyref:os.system",
}


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_hyperparams_outside_the_allow_list_are_refused(name: str) -> None:
    with pytest.raises(UnsafeModelFilesError, match="this app does not"):
        check_hyperparams(BAD_YAML[name])


def test_the_tiny_repos_hyperparams_pass_the_check() -> None:
    from tests.tiny_models.audio_to_audio_models import METRICGAN_YAML, SEPFORMER_YAML, XVECTOR_YAML

    for text in (XVECTOR_YAML.format(repo="a/b"), METRICGAN_YAML.format(repo="a/b"),
                 SEPFORMER_YAML.format(repo="a/b", sample_rate=8000, speakers=2)):
        check_hyperparams(text)


@pytest.mark.parametrize("path", ["https://evil.example/x.ckpt", "../x.ckpt", "other/repo/x.ckpt", "/etc/passwd",
                                  "a/b/../../x.ckpt"])
def test_checkpoint_paths_outside_the_repo_are_refused(path: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeModelFilesError, match="outside the repo"):
        local_checkpoint(path, "a/b", tmp_path)
    assert local_checkpoint("a/b/enhance_model.ckpt", "a/b", tmp_path) == tmp_path / "enhance_model.ckpt"


class Planted:
    """A pickled object whose unpickling would create a file: the weights-only loader must never build it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return Path.touch, (self.marker,)


def test_a_checkpoint_carrying_an_object_is_refused(tmp_path: Path) -> None:
    import torch
    from speechbrain.inference.speaker import EncoderClassifier

    from tests.tiny_models import audio_to_audio_models as tiny

    spec = registry.get_spec(XVECTOR_MODEL_ID)
    folder = tiny.write_speechbrain_repo(tiny.XVECTOR_YAML.format(repo=spec.id), tmp_path / "repo",
                                         {"mean_var_norm_emb": tiny.fill_global_stats,
                                          "label_encoder": tiny.fill_labels})
    load_pretrained(EncoderClassifier, spec, folder, "cpu")  # the honest repo loads
    marker = tmp_path / "code-ran"
    state = torch.load(folder / "classifier.ckpt", weights_only=True)
    torch.save({**state, "planted": Planted(marker)}, folder / "classifier.ckpt")
    with pytest.raises(Exception, match=r"(?i)weights.only|unsupported global"):
        load_pretrained(EncoderClassifier, spec, folder, "cpu")
    assert not marker.exists()


# ---- the task functions on the tiny models (plumbing: random weights) ---------------------------------------------
def test_convert_voice_to_a_recorded_voice(loader: ModelLoader) -> None:
    result = a2a.convert_voice(str(SECOND_VOICE), target_audio=str(SPEECH), loader=loader)
    output = result.outputs[0]
    assert output.sample_rate == 16_000 and output.samples.size > 0 and np.isfinite(output.samples).all()
    assert set(result.scores) >= {"x-vector cosine: output vs target voice", "x-vector cosine: input vs target voice",
                                  "voiceprint similarity: output vs target recording",
                                  "voiceprint similarity: input vs target recording"}
    assert 0.0 <= result.scores.pop(ROUND_TRIP) and any("heard the input as" in note for note in result.notes)
    assert all(-1.0 <= value <= 1.0 for value in result.scores.values())
    trace = result.recording.trace
    assert isinstance(trace, ConversionTrace) and trace.mel.shape[1] == 80 and trace.target_label
    gallery, card = render_inside(result.recording)
    assert len(gallery) == 2 and "parameters" in card
    assert result.compute_s > 0 and result.audio_s == pytest.approx(3.02, abs=0.01)
    assert "real-time factor" in views.info_markdown(result)


def test_round_trip_wer_hears_whether_the_words_survived(loader: ModelLoader) -> None:
    """The built-in recogniser (real weights) on real speech: the same recording scores 0, other words score high."""
    speech, other = (a2a.load_input(str(path), 16_000, 20.0).samples for path in (SPEECH, SECOND_VOICE))
    same, notes = a2a.round_trip(speech, speech, loader)
    assert same == {ROUND_TRIP: 0.0} and "heard the input as" in notes[0]
    assert a2a.round_trip(speech, other, loader)[0][ROUND_TRIP] > 0.5
    nothing, notes = a2a.round_trip(np.zeros(16_000, np.float32), speech, loader)
    assert nothing == {} and notes[0].endswith("heard no words in the input: no round-trip WER.")


def test_convert_voice_to_a_preset_says_when_the_presets_are_unavailable(loader: ModelLoader) -> None:
    result = a2a.convert_voice(str(SECOND_VOICE), preset="bdl", loader=loader)
    assert any("unavailable" in note for note in result.notes)  # offline: a seeded random voice, and it says so
    assert "voiceprint similarity: output vs input" in result.scores


def test_enhance_with_and_without_a_clean_reference(loader: ModelLoader) -> None:
    with_reference = a2a.enhance(str(NOISY), reference=str(SPEECH), loader=loader)
    before = with_reference.scores["SI-SDR before (dB)"]
    assert before == pytest.approx(5.0, abs=0.5)  # the example was mixed at 5 dB SNR from this very reference
    assert with_reference.scores["SI-SDR improvement (dB)"] == pytest.approx(
        with_reference.scores["SI-SDR after (dB)"] - before)
    without = a2a.enhance(str(NOISY), "speechbrain/sepformer-wham16k-enhancement", loader=loader)
    assert {"SNR estimate before (dB)", "SNR estimate after (dB)"} <= set(without.scores)
    assert without.outputs[0].samples.shape == without.source.samples.shape
    trace = without.recording.trace
    assert isinstance(trace, EnhancementTrace) and trace.masks is not None and trace.masks.shape[0] == 1
    assert len(render_inside(without.recording)[0]) == 2


def test_separate_gives_one_track_per_source(loader: ModelLoader) -> None:
    result = a2a.separate(str(SPEECH), loader=loader)  # 22.05 kHz in: resampled to the model's 8 kHz
    assert [track.label for track in result.outputs] == ["source 1", "source 2"]
    assert all(track.sample_rate == 8_000 and len(track.samples) == len(result.source.samples)
               for track in result.outputs)
    assert any("resampled" in note for note in result.notes)
    trace = result.recording.trace
    assert isinstance(trace, SeparationTrace) and trace.masks.shape[0] == 2
    gallery, _ = render_inside(result.recording)
    assert len(gallery) == 2
    converted, outputs = views.write_outputs(result)
    assert len(outputs) == 2 and all(sf.info(path).samplerate == 8_000 for path in [*outputs, converted])


def test_separate_music_into_four_stems(loader: ModelLoader) -> None:
    """Demucs (tiny HTDemucs in its author's hub layout, loaded from safetensors): four stems at 44.1 kHz."""
    result = a2a.separate(str(EXAMPLES_DIR / "chord_c_major.wav"), "adefossez/HTDemucs", loader=loader)
    assert [track.label for track in result.outputs] == ["drums", "bass", "other", "vocals"]
    assert all(track.sample_rate == 44_100 and track.duration_s == pytest.approx(3.0, abs=0.01)
               for track in result.outputs)
    assert result.recording.trace.masks is None and len(render_inside(result.recording)[0]) == 1


def test_a_demucs_file_naming_another_class_is_refused(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from shared.models.demucs_models import UnsafeDemucsFileError, check_metadata

    path = tmp_path / "evil.safetensors"
    save_file({"w": torch.zeros(1)}, path, metadata={"klass": "os.system", "args": "[]", "kwargs": "{}"})
    with pytest.raises(UnsafeDemucsFileError, match="only builds the Demucs model classes"):
        check_metadata(path)


# ---- scores on real speech ----------------------------------------------------------------------------------------
def test_si_sdr_is_scale_invariant_and_ranks_distortion() -> None:
    speech, _ = sf.read(SPEECH, dtype="float32")
    noise = np.random.default_rng(0).standard_normal(len(speech)).astype(np.float32) * np.std(speech)
    assert scores.si_sdr(3 * speech, speech) > 60
    assert scores.si_sdr(speech + noise, speech) == pytest.approx(0.0, abs=0.3)
    assert scores.si_sdr(speech + 0.1 * noise, speech) == pytest.approx(20.0, abs=0.5)


def test_the_snr_estimate_rises_when_noise_is_removed() -> None:
    noisy, rate = sf.read(NOISY, dtype="float32")
    clean, _ = sf.read(SPEECH, dtype="float32")
    from shared.audio.intake import resample

    assert scores.snr_estimate(resample(clean, 22_050, rate), rate) > scores.snr_estimate(noisy, rate) + 10


def test_oracle_separation_of_real_mixtures_through_the_app_path() -> None:
    """Two different real voices mixed at 0 dB; the ideal ratio mask through run.separate_samples and the app's
    SI-SDR pairing improves each mixture by more than 9 dB (bench/bench_separation_oracle.py reports the numbers)."""
    from tests.separation_oracle import IdealRatioMask, real_mixtures

    for mix in real_mixtures():
        tracks, trace = a2a.separate_samples(IdealRatioMask(mix.sources), mix.mixture)
        order, separated = scores.best_pairing(np.stack([track.samples for track in tracks]), mix.sources)
        baseline = [scores.si_sdr(mix.mixture, source) for source in mix.sources]
        assert sorted(order) == [0, 1] and trace.masks.shape[0] == 2
        assert min(separated) - max(baseline) > 9, (mix.name, separated, baseline)


# ---- bad inputs ---------------------------------------------------------------------------------------------------
def write(path: Path, samples: np.ndarray, rate: int = 16_000) -> str:
    sf.write(path, samples, rate, subtype="PCM_16")
    return str(path)


def test_bad_inputs_get_clear_messages(loader: ModelLoader, tmp_path: Path) -> None:
    silence = write(tmp_path / "silence.wav", np.zeros(32_000, np.float32))
    short = write(tmp_path / "short.wav", np.random.default_rng(0).standard_normal(3_000).astype(np.float32) * 0.1)
    long = write(tmp_path / "long.wav", np.random.default_rng(0).standard_normal(16_000 * 21).astype(np.float32) * .1)
    cases = [
        (lambda: a2a.convert_voice(None, loader=loader), "No audio was given"),
        (lambda: a2a.convert_voice(silence, loader=loader), "silent"),
        (lambda: a2a.convert_voice(short, loader=loader), "only 0.19 s long"),
        (lambda: a2a.convert_voice(long, loader=loader), "long"),
        (lambda: a2a.convert_voice(str(EXAMPLES_DIR / "chord_c_major.wav"), loader=loader), "music, noise"),
        (lambda: a2a.convert_voice(str(SPEECH), target_audio=str(EXAMPLES_DIR / "chord_c_major.wav"),
                                   loader=loader), "target voice recording holds"),
        (lambda: a2a.convert_voice(str(SPEECH), "evil/model", loader=loader), "Unknown model"),
        (lambda: a2a.separate(str(MIX), "speechbrain/metricgan-plus-voicebank", loader=loader),
         "not a source-separation model"),
        (lambda: a2a.enhance(str(NOISY), reference=silence, loader=loader), "clean reference is silent"),
    ]
    for call, expected in cases:
        with pytest.raises(UserError, match=expected):
            call()


# ---- API ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_api_convert_enhance_separate(client: Client, tmp_path: Path) -> None:
    data, rate = sf.read(SPEECH, dtype="float32")
    name = f"target_voice_{uuid.uuid4().hex[:12]}.wav"  # unique: a copy left by another run cannot pass or fail this
    target = write(tmp_path / name, 0.9 * data, rate)  # not an example file: the server deletes it
    converted, _, picture, info, details, _, gallery, card = client.predict(
        handle_file(str(SECOND_VOICE)), target_audio=handle_file(target), api_name="/convert_voice")
    assert sf.info(converted).samplerate == 16_000 and Path(picture).is_file() and len(gallery) == 2
    assert "real-time factor" in info and details["task"] == registry.VOICE_CONVERSION and "SpeechT5" in card
    assert "round-trip WER" in info and "same speaker above 0.62" in info
    assert list(Path(gr_upload_folder()).rglob(name)) == []  # the target's voice was not kept
    enhanced, noisy, *_ = client.predict(handle_file(str(NOISY)), reference=handle_file(str(SPEECH)),
                                         inside=False, api_name="/enhance")
    assert sf.info(enhanced).frames == sf.info(noisy).frames
    first, second, third, fourth, mixture, _, info, details, *_ = client.predict(
        handle_file(str(MIX)), inside=False, api_name="/separate")
    assert {sf.info(path).samplerate for path in (first, second, mixture)} == {8_000} and third is fourth is None
    assert re.search(r"energy share", info) and len(details["outputs"]) == 2


@pytest.mark.parametrize("endpoint, model, audio, player_rate, gallery_titles", [
    ("/enhance", "speechbrain/sepformer-wham16k-enhancement", NOISY, 16_000, ["What was removed", "Estimated masks"]),
    ("/separate", "speechbrain/sepformer-wham", MIX, 8_000, ["Estimated masks", "Sources over time"]),
    ("/separate", "adefossez/HTDemucs", EXAMPLES_DIR / "chord_c_major.wav", 44_100, ["Sources over time"]),
])
def test_api_other_enhancers_and_separators(client: Client, endpoint: str, model: str, audio: Path, player_rate: int,
                                            gallery_titles: list[str]) -> None:
    """The non-default models of /enhance and /separate through the API (tiny random weights: plumbing only)."""
    *players, picture, info, details, details_file, gallery, card = client.predict(
        handle_file(str(audio)), model=model, api_name=endpoint)
    wavs = [path for path in players if path is not None]
    assert {sf.info(path).samplerate for path in wavs} == {player_rate} and Path(picture).is_file()
    assert len(wavs) == 1 + len(details["outputs"]) and details["model"] == model and Path(details_file).is_file()
    assert "real-time factor" in info and ("SNR estimate" in info if endpoint == "/enhance" else "energy share" in info)
    assert [item["caption"].split(":")[0] for item in gallery] == gallery_titles and card


def gr_upload_folder() -> str:
    import gradio as gr

    return gr.utils.get_upload_folder()


def test_api_bad_input_is_a_clear_error(client: Client, tmp_path: Path) -> None:
    silence = write(tmp_path / "silence.wav", np.zeros(16_000, np.float32))
    for endpoint in ("/convert_voice", "/enhance", "/separate"):
        with pytest.raises(Exception, match="silent") as caught:
            client.predict(handle_file(silence), api_name=endpoint)
        assert "Something went wrong" not in str(caught.value)
