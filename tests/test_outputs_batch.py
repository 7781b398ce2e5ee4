"""Batch processing: the zip and its summary (pure), then the three batch endpoints through the launched app."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from shared.audio.intake import load_audio
from shared.diarize.batch import diarize_batch
from shared.errors import ModelUnavailableError, UserError
from shared.outputs.batch import ItemResult, read_summary, run_batch, summary_markdown
from shared.outputs.subtitles import parse_cues
from shared.outputs.text_metrics import wer
from shared.serving.estimates import estimate_batch
from shared.serving.widgets import EXAMPLES_DIR
from shared.transcribe.batch import TRANSCRIBE_COLUMNS, transcribe_batch

SPEECH = EXAMPLES_DIR / "speech_piper.wav"
SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think."


def _tone(path: Path, seconds: float, frequency: float = 440.0, rate: int = 16_000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32), rate)
    return str(path)


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    """Two files with the same stem in different folders (as Gradio stores uploads), a third, and a broken one."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    broken = tmp_path / "broken.wav"
    broken.write_text("<html>not audio</html>")
    return {"a_wav": _tone(tmp_path / "one" / "a.wav", 1.0), "a_flac": _tone(tmp_path / "two" / "a.flac", 1.5, 220),
            "b": _tone(tmp_path / "b.wav", 2.0, 330), "broken": str(broken)}


def _peak_process(path: str) -> tuple[float, float]:
    """A real (if small) per-file job: decode, measure the peak."""
    clip = load_audio(path)
    if clip.duration_s > 1.9:
        raise RuntimeError(f"boom at {path}")  # an unexpected failure, with the server path in its message
    return clip.duration_s, float(np.abs(clip.samples).max())


def _peak_summary(result: tuple[float, float]) -> ItemResult:
    duration, peak = result
    return ItemResult({".txt": f"peak {peak:.3f}\n", ".json": json.dumps({"peak": peak})}, duration, 0.01, 0.0,
                      "cpu", "float32", {"peak": peak})


def _rows(zip_path: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as archive:
        return list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode())))


def test_zip_holds_one_output_set_per_input_with_distinct_names(inputs: dict[str, str]) -> None:
    paths = [inputs["a_wav"], inputs["a_flac"], inputs["b"], inputs["broken"]]
    calls: list[tuple[float, str]] = []
    zip_path = run_batch(paths, _peak_process, _peak_summary, lambda f, d: calls.append((f, d)), tab="test",
                         columns=["peak"])
    assert Path(zip_path).name == "batch-test.zip"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert names == ["a.txt", "a.json", "a-2.txt", "a-2.json", "summary.csv"]
        assert archive.read("a.txt").decode() == "peak 0.300\n"
    rows = _rows(zip_path)
    assert [row["file"] for row in rows] == ["a.wav", "a.flac", "b.wav", "broken.wav"]
    assert [row["status"] for row in rows] == ["ok", "ok", "error", "error"]
    assert rows[0]["outputs"] == "a.txt a.json" and rows[1]["outputs"] == "a-2.txt a-2.json"
    assert float(rows[1]["duration_s"]) == pytest.approx(1.5) and float(rows[0]["peak"]) == pytest.approx(0.3, 1e-3)
    # an unexpected exception: generic message; bad audio: the loader's message; no row fails the batch
    assert rows[2]["error"].startswith("Something went wrong (RuntimeError)") and not rows[2]["outputs"]
    assert "not audio" in rows[3]["error"]
    # progress once per file, in order, then done
    assert [d for _, d in calls][:4] == [f"File {i}/4: {Path(p).name}" for i, p in enumerate(paths, 1)]
    assert [f for f, _ in calls] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # server paths never reach the summary
    text = zipfile.ZipFile(zip_path).read("summary.csv").decode()
    assert str(Path(inputs["a_wav"]).parent.parent) not in text
    header, preview_rows = read_summary(zip_path)
    assert header[:5] == ["file", "status", "error", "outputs", "duration_s"] and len(preview_rows) == 4
    line = summary_markdown(header, preview_rows)
    assert "2 of 4 file(s) done" in line and "2 failed" in line and "real-time factor" in line


def test_limits_on_count_size_and_empty_input(inputs: dict[str, str]) -> None:
    paths = [inputs["a_wav"], inputs["b"]]
    with pytest.raises(UserError, match="at most 1"):
        run_batch(paths, _peak_process, _peak_summary, tab="test", limit_files=1)
    with pytest.raises(UserError, match="add up to"):
        run_batch(paths, _peak_process, _peak_summary, tab="test", limit_bytes=50_000)
    with pytest.raises(UserError, match="No files"):
        run_batch([], _peak_process, _peak_summary, tab="test")
    with pytest.raises(UserError, match="No files"):
        run_batch(None, _peak_process, _peak_summary, tab="test")


def test_unloadable_model_stops_the_batch_and_leaves_no_zip(inputs: dict[str, str], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADS_RESULTS_DIR", str(tmp_path / "results"))

    def unavailable(path: str) -> None:
        raise ModelUnavailableError("model x is not downloaded")

    with pytest.raises(ModelUnavailableError):
        run_batch([inputs["a_wav"]], unavailable, _peak_summary, tab="test")
    assert not list((tmp_path / "results").glob("*/*.zip"))


def test_wrong_model_kind_fails_before_any_file(inputs: dict[str, str]) -> None:
    with pytest.raises(UserError, match="not a speaker-diarization model"):
        diarize_batch([inputs["a_wav"]], "offline:whisper-tiny.en")
    with pytest.raises(UserError, match="not a speech-recognition model"):
        transcribe_batch([inputs["a_wav"]], "offline:diarizer")
    with pytest.raises(UserError, match="Number of speakers"):
        diarize_batch([inputs["a_wav"]], "offline:diarizer", num_speakers=99)


def test_gpu_estimate_sums_the_files(inputs: dict[str, str]) -> None:
    assert estimate_batch([inputs["a_wav"], inputs["b"]]) == pytest.approx(20 + 0.25 * 3.0)
    assert estimate_batch(None) == 20


def test_batch_handler_runs_under_zero_gpu_with_summed_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    import tabs.transcribe
    from shared.serving import zero_gpu
    from tests.test_serving_gpu import FakeSpaces

    spaces = FakeSpaces()
    monkeypatch.setitem(sys.modules, "spaces", spaces)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    files = [str(SPEECH), str(EXAMPLES_DIR / "chord_c_major.wav")]
    try:
        tab = importlib.reload(tabs.transcribe)
        zip_path, rows, _info = tab.run_transcribe_batch(files, "offline:whisper-tiny.en")
        assert [row[1] for row in rows] == ["ok", "ok"] and zipfile.is_zipfile(zip_path)
        assert spaces.calls == [zero_gpu.clamp_duration(20 + 0.25 * (sf.info(files[0]).duration + 3.0))]
    finally:
        monkeypatch.delenv("SPACES_ZERO_GPU")
        importlib.reload(tabs.transcribe)


# ---- through the launched app ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_transcribe_batch_api(client: Client, tmp_path: Path) -> None:
    (tmp_path / "copy").mkdir()
    twin = shutil.copy(SPEECH, tmp_path / "copy" / SPEECH.name)  # same name, another folder
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\x00" * 2048)
    zip_path, table, info = client.predict([handle_file(str(SPEECH)), handle_file(str(twin)),
                                            handle_file(str(broken))],
                                           model="offline:whisper-tiny.en", api_name="/transcribe_batch")
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["speech_piper-2.json", "speech_piper-2.srt", "speech_piper.json",
                                              "speech_piper.srt", "summary.csv"]
        cues = parse_cues(archive.read("speech_piper.srt").decode())
        assert wer(SPEECH_TEXT, " ".join(cue.text for cue in cues)) <= 0.1
        assert json.loads(archive.read("speech_piper-2.json"))["segments"]
    assert table["headers"][5:8] == list(TRANSCRIBE_COLUMNS)
    assert [row[:2] for row in table["data"]] == [["speech_piper.wav", "ok"], ["speech_piper.wav", "ok"],
                                                  ["broken.mp3", "error"]]
    assert "could not be decoded" in table["data"][2][2]
    assert "2 of 3 file(s) done" in info and "1 failed" in info


def test_classify_batch_api(client: Client, tmp_path: Path) -> None:
    clips = [_tone(tmp_path / "beep.wav", 1.0), _tone(tmp_path / "hum.wav", 2.5, 110)]
    zip_path, table, info = client.predict([handle_file(path) for path in clips], model=
                                           "MIT/ast-finetuned-speech-commands-v2", top_k=3,
                                           api_name="/classify_batch")
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["beep.json", "hum.json", "summary.csv"]
        payload = json.loads(archive.read("hum.json"))
    assert payload["model"] == "MIT/ast-finetuned-speech-commands-v2" and len(payload["top_k"]) == 3
    rows = {row[0]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert rows["hum.wav"]["status"] == "ok" and rows["hum.wav"]["top_label"] == payload["top_k"][0]["label"]
    assert "2 of 2 file(s) done" in info


def test_diarize_batch_api(client: Client, tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16_000, np.float32), 16_000)
    zip_path, table, info = client.predict([handle_file(str(SPEECH)), handle_file(str(silence))],
                                           model="offline:diarizer", api_name="/diarize_batch")
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["silence.rttm", "speech_piper.rttm", "summary.csv"]
        rttm = archive.read("speech_piper.rttm").decode()
    assert rttm.startswith("SPEAKER speech_piper 1 ")
    rows = {row[0]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert rows["speech_piper.wav"]["speakers"] == "1" and int(rows["speech_piper.wav"]["turns"]) >= 1
    assert rows["silence.wav"]["turns"] == "0" and "2 of 2 file(s) done" in info


def test_readme_batch_example_runs(app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (EXAMPLES_DIR.parent / "README.md").read_text()
    section = readme[readme.index("### Batch"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n", 10)]
    assert {"/transcribe_batch", "/classify_batch", "/diarize_batch"} <= set(re.findall(r'api_name="(/\w+)"', code))
    monkeypatch.chdir(EXAMPLES_DIR.parent)
    namespace: dict = {"client": Client(app_url, verbose=False), "handle_file": handle_file}
    exec(compile(code, "README.md#batch", "exec"), namespace)
    with zipfile.ZipFile(namespace["zip_path"]) as archive:
        assert sorted(archive.namelist()) == ["chord_c_major.json", "chord_c_major.srt", "speech_piper.json",
                                              "speech_piper.srt", "summary.csv"]
    assert "2 of 2 file(s) done" in namespace["info"]
