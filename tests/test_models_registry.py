from shared.models import registry


def test_ids_unique_and_lookup() -> None:
    ids = [spec.id for spec in registry.MODELS]
    assert len(ids) == len(set(ids))
    assert registry.get_spec("openai/whisper-tiny").family == "whisper"


def test_every_task_has_models_and_an_offline_default_where_promised() -> None:
    for task in (registry.ASR, registry.CLASSIFY, registry.ZERO_SHOT, registry.TTS, registry.DIARIZE):
        assert registry.models_for(task), task
    offline = {spec.id for spec in registry.MODELS if spec.offline}
    assert offline == {"offline:whisper-tiny.en", "offline:piper-en_US-joe-medium", "offline:diarizer",
                       "offline:silero-vad", "offline:resemblyzer"}


def test_gated_and_licence_fields() -> None:
    gated = {spec.id for spec in registry.MODELS if spec.gated}
    assert gated == {"pyannote/speaker-diarization-community-1", "pyannote/speaker-diarization-3.1", "sesame/csm-1b"}
    assert all(spec.license and spec.size_mb > 0 for spec in registry.MODELS)


def test_dropdown_choices_are_label_id_pairs() -> None:
    choices = registry.choices(registry.ASR)
    assert ("offline:whisper-tiny.en" in {value for _, value in choices})
    assert all("MB" in label or "GB" in label for label, _ in choices)


def test_unknown_model() -> None:
    import pytest

    with pytest.raises(registry.UnknownModelError):
        registry.get_spec("evil/model")


def test_mms_language_specs_are_built_only_from_codes() -> None:
    import pytest

    spec = registry.mms_tts_spec("swh", "Swahili")
    assert spec.id == "facebook/mms-tts-swh" and registry.get_spec("facebook/mms-tts-swh") is spec
    assert registry.mms_tts_spec("eng", "English").id == "facebook/mms-tts-eng"
    for bad in ("../x", "a/b", "x y", "https://evil"):
        with pytest.raises(registry.UnknownModelError):
            registry.mms_tts_spec(bad, "bad")


def test_moonshine_streaming_sizes() -> None:
    """English-only, MIT, loaded by the transformers engine (its ASR pipeline), offered in the ASR dropdown."""
    specs = [spec for spec in registry.MODELS if spec.family == "moonshine-streaming"]
    assert [spec.id for spec in specs] == [f"UsefulSensors/moonshine-streaming-{size}"
                                           for size in ("tiny", "small", "medium")]
    assert all(spec.task == registry.ASR and spec.engine == "transformers" and spec.license == "mit"
               and not spec.gated for spec in specs)
    assert [spec.size_mb for spec in specs] == sorted(spec.size_mb for spec in specs)
    assert {spec.id for spec in specs} <= {value for _, value in registry.choices(registry.ASR)}


def test_every_model_states_year_architecture_parameters_and_languages() -> None:
    """Compare tables show these columns: no model may leave one empty or use an architecture outside the list."""
    from shared.models.registry import ARCHITECTURES, MODELS

    for spec in MODELS:
        assert spec.year >= 2019 and spec.params_m > 0 and spec.languages, spec.id
        assert spec.architecture in ARCHITECTURES, spec.id
        assert set(spec.facts) == {"year", "architecture", "params (M)", "languages"}


def test_voiceprints_tell_voices_apart_and_refuse_silence() -> None:
    """Real weights (Resemblyzer ships them): the two telephone speakers of pyannote's sample.wav, each embedded
    from two different turns, are closer to themselves than to each other; silence gets a clear message."""
    import numpy as np
    import pytest

    from shared.errors import UserError
    from shared.models.loader import get_loader
    from shared.models.voiceprint import VOICEPRINT_MODEL_ID
    from tests.speech_data import sample_wav_speaker_turns

    turns = sample_wav_speaker_turns()  # {speaker: [samples of one turn, ...]} at 16 kHz
    with get_loader().use(VOICEPRINT_MODEL_ID) as printer:
        first, second = sorted(turns)[:2]
        same = printer.similarity(turns[first][0], turns[first][1])
        other = printer.similarity(turns[first][0], turns[second][0])
        assert same > other, (same, other)
        with pytest.raises(UserError, match="too little sound"):
            printer.embed(np.zeros(16_000 * 3, dtype=np.float32))
