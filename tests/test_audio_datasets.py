"""Dataset streaming, offline: local audio folder / parquet made here, reached only through the `load` parameter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from shared.audio import datasets as streaming
from shared.audio.datasets import DatasetSource, parse_source
from shared.audio.intake import load_audio
from shared.errors import UserError

TEXTS = ["the first sentence", "a second one", "and the third"]


def _tone(frequency: float, rate: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


@pytest.fixture(scope="module")
def local_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import datasets

    root = tmp_path_factory.mktemp("streaming")
    folder = root / "audiofolder"
    folder.mkdir()
    lines = ["file_name,transcription"]
    for index, text in enumerate(TEXTS):
        soundfile.write(folder / f"clip{index}.wav", _tone(220.0 * (index + 1), 16_000), 16_000, subtype="PCM_16")
        lines.append(f"clip{index}.wav,{text}")
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n")

    soundfile.write(root / "dog.wav", _tone(440.0, 22_050), 22_050, subtype="PCM_16")
    soundfile.write(root / "rain.wav", _tone(880.0, 22_050), 22_050, subtype="PCM_16")
    with_audio = datasets.Dataset.from_dict({"audio": [str(root / "dog.wav"), str(root / "rain.wav")],
                                             "category": ["dog", "rain"]}).cast_column("audio", datasets.Audio())
    with_audio.to_parquet(str(root / "sounds.parquet"))
    datasets.Dataset.from_dict({"text": ["no sound here"]}).to_parquet(str(root / "text_only.parquet"))
    return {"folder": folder, "sounds": root / "sounds.parquet", "text_only": root / "text_only.parquet"}


class LocalLoad:
    """Stands in for datasets.load_dataset: maps test source names to local data and records every call."""

    def __init__(self, local_data: dict[str, Path]) -> None:
        self.local_data = local_data
        self.calls: list[tuple[str, str | None, dict]] = []

    def __call__(self, name: str, config: str | None, **kwargs: object) -> object:
        import datasets

        self.calls.append((name, config, kwargs))
        if name == "local-test/speech":
            return datasets.load_dataset("audiofolder", data_dir=str(self.local_data["folder"]), **kwargs)
        key = {"local-test/sounds": "sounds", "local-test/text-only": "text_only"}[name]
        return datasets.load_dataset("parquet", data_files=str(self.local_data[key]), **kwargs)


@pytest.fixture()
def local_load(local_data: dict[str, Path]) -> Iterator[LocalLoad]:
    streaming.clear_cache()
    yield LocalLoad(local_data)
    streaming.clear_cache()  # close the open streams while their modules are still there


@pytest.mark.parametrize(("spec", "expected"), [
    ("hf-internal-testing/librispeech_asr_dummy/clean:validation",
     DatasetSource("hf-internal-testing/librispeech_asr_dummy", "clean", "validation")),
    ("ashraq/esc50:train", DatasetSource("ashraq/esc50", None, "train")),
    ("  google/fleurs/en_us:test ", DatasetSource("google/fleurs", "en_us", "test")),
    ("PolyAI/minds14/en-US:train — MInDS-14 description", DatasetSource("PolyAI/minds14", "en-US", "train")),
])
def test_parse_good_sources(spec: str, expected: DatasetSource) -> None:
    assert parse_source(spec) == expected
    assert parse_source(expected.spec) == expected


@pytest.mark.parametrize("spec", [
    "", "librispeech", "ashraq/esc50", "https://huggingface.co/datasets/ashraq/esc50:train",
    "hf://datasets/ashraq/esc50:train", "/etc/passwd:train", "../secret/data:train", "owner/../x:train",
    "owner/na..me:train", "./data/x:train", "a/b/c/d:train", "C:\\data\\x:train", "owner/name:train[:10]",
    "owner/name:../train", "audiofolder:train", "owner/name/config:", "-owner/name:train", "owner/name.:train",
    "owner/name config:train", "~/data:train",
])
def test_parse_rejects_non_hub_sources(spec: str) -> None:
    with pytest.raises(UserError, match="not a hub dataset"):
        parse_source(spec)


def test_parse_rejects_names_of_local_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shared" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="local folder"):
        parse_source("shared/data:train")


def test_curated_sources_parse() -> None:
    for _, spec in streaming.curated_choices():
        assert parse_source(spec).spec == spec


def test_streams_examples_in_order_with_text(local_load: LocalLoad) -> None:
    first = streaming.next_example("local-test/speech:train", 0, load=local_load)
    assert local_load.calls == [("local-test/speech", None, {"split": "train", "streaming": True})]
    clip = load_audio(first.audio_path)
    assert clip.sample_rate == first.sample_rate == 16_000
    assert clip.duration_s == pytest.approx(0.5, abs=1e-3)
    assert soundfile.info(first.audio_path).subtype == "PCM_16"
    assert np.abs(clip.samples).max() == pytest.approx(0.3, abs=0.01)
    assert first.text == TEXTS[0] and first.label is None and first.reference() == TEXTS[0]

    second = streaming.next_example("local-test/speech:train", 1, load=local_load)
    assert second.text == TEXTS[1] and second.audio_path != first.audio_path
    assert len(local_load.calls) == 1  # the opened stream is reused
    # the second clip is the 440 Hz tone: its spectrum peaks there
    samples = load_audio(second.audio_path).samples
    peak_hz = np.argmax(np.abs(np.fft.rfft(samples))) * 16_000 / len(samples)
    assert peak_hz == pytest.approx(440, abs=5)

    again = streaming.next_example("local-test/speech:train", 0, load=local_load)  # going back restarts
    assert again.text == TEXTS[0]
    assert streaming.next_example("local-test/speech:train", 2, load=local_load).text == TEXTS[2]
    with pytest.raises(UserError, match="End of the split"):
        streaming.next_example("local-test/speech:train", 3, load=local_load)


def test_parquet_with_audio_feature_gives_label(local_load: LocalLoad) -> None:
    example = streaming.next_example("local-test/sounds:train", 1, load=local_load)
    assert example.label == "rain" and example.text is None
    assert example.reference("label") == example.reference("text") == "rain"
    clip = load_audio(example.audio_path, 16_000)
    assert clip.source_sample_rate == 22_050 and clip.duration_s == pytest.approx(0.5, abs=1e-3)
    assert "rain" in example.markdown()


def test_no_audio_column(local_load: LocalLoad) -> None:
    with pytest.raises(UserError, match="no audio column"):
        streaming.next_example("local-test/text-only:train", 0, load=local_load)


def test_missing_split(local_load: LocalLoad) -> None:
    with pytest.raises(UserError, match="Split 'validation'"):
        streaming.next_example("local-test/speech:validation", 0, load=local_load)


def test_hub_dataset_offline_message(monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    import datasets

    calls: list[dict] = []
    real_load = datasets.load_dataset

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", spy)
    streaming.clear_cache()
    with pytest.raises(UserError, match="not downloaded and the hub is unreachable"):
        streaming.next_example("hf-internal-testing/librispeech_asr_dummy/clean:validation", 0)
    assert calls == [{"split": "validation", "streaming": True}]


def test_wer_and_label_lines() -> None:
    assert streaming.wer_line("", "anything") == ""
    assert streaming.wer_line("the cat sat", "The cat sat.") == "WER vs dataset reference: 0.0%"
    assert streaming.wer_line("the cat sat down", "the dog sat") == "WER vs dataset reference: 50.0%"
    assert streaming.wer_line("hello", "(no speech detected)") == "WER vs dataset reference: 100.0%"
    gradio_value = {"label": "Dog", "confidences": [{"label": "Dog", "confidence": 0.9}]}
    assert "matches ✓" in streaming.label_check_line("dog", gradio_value)
    assert "does not match" in streaming.label_check_line("rain", {"Dog": 0.9, "Rain": 0.1})
    assert streaming.label_check_line("", gradio_value) == ""
    assert streaming.append_line("info", "") == "info"
    assert streaming.append_line("info", "WER") == "info\n\nWER"


def test_dataset_block_fills_audio_and_reference(local_data: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from shared.serving import dataset_source as dataset_ui

    monkeypatch.setattr(streaming, "_default_load", LocalLoad(local_data))
    streaming.clear_cache()
    with gr.Blocks() as demo:
        audio = gr.Audio(type="filepath")
        reference = dataset_ui.dataset_source(audio, prefer="label")
    assert isinstance(reference, gr.Textbox)
    private = [dep for dep in demo.fns.values() if dep.fn is dataset_ui._next_example]
    assert len(private) == 1 and private[0].api_visibility == "private"

    path, ref, about, next_index = dataset_ui._next_example("local-test/sounds:train", 0, "label")
    assert ref == "dog" and next_index == 1 and "#0" in about
    assert load_audio(path).duration_s == pytest.approx(0.5, abs=1e-3)
    streaming.clear_cache()
    with pytest.raises(gr.Error, match="not a hub dataset"):
        dataset_ui._next_example("https://example.com/x:train", 0, "text")
