"""Evaluate: metrics checked against jiwer / sklearn / pyannote.metrics on the same inputs, bad reference files,
every task end to end on local data (Piper speech, pyannote's sample, tiny random models), the command line's
resume, and two processes under `accelerate launch` giving exactly the single-process numbers."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.diarize.rttm import Turn
from shared.errors import UserError
from shared.evaluate import __main__ as cli
from shared.evaluate import metrics, references, report, run, sources, views
from shared.evaluate.store import FolderStore
from tests.conftest import ROOT
from tests.speech_data import PIPER_ROUND_TRIP_WER, PIPER_SENTENCES, pyannote_sample_dir, synthesize

ASR_MODEL = "offline:whisper-tiny.en"
PIPER = "offline:piper-en_US-joe-medium"
AST = "MIT/ast-finetuned-speech-commands-v2"
CLAP = "laion/clap-htsat-unfused"


@pytest.fixture(scope="module")
def speech_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Piper sentences as wav files with `references.csv` (file,text) and `labels.csv` (file,label)."""
    folder = tmp_path_factory.mktemp("speech")
    for index, sentence in enumerate(PIPER_SENTENCES[:3]):
        samples, rate = synthesize(sentence)
        sf.write(folder / f"s{index}.wav", samples, rate)
    (folder / "references.csv").write_text("file,text\n" + "".join(
        f's{i}.wav,"{sentence}"\n' for i, sentence in enumerate(PIPER_SENTENCES[:3])))
    (folder / "labels.tsv").write_text("file\tlabel\ns0.wav\tyes\ns1.wav\tno\ns2.wav\tyes\n")
    return folder


def folder_source(folder: Path, references_name: str, task: str) -> sources.Source:
    files = [path for path in sources.folder_files(str(folder))
             if Path(path).suffix not in (".tsv", ".csv") or Path(path).name == references_name]
    return sources.files_source(files, None, task, root=str(folder))


# ---- metrics against the reference implementations ----------------------------------------------------------------
def test_wer_and_cer_are_jiwer_on_the_normalised_text() -> None:
    import jiwer

    pairs = [("Mr. Smith's colour is twenty-five.", "mister smith's color is 25"),
             ("The quick brown fox.", "the quick brown box jumps"), ("Hello there!", "")]
    found = [metrics.text_errors(ref, hyp, "english") for ref, hyp in pairs]
    refs, hyps = [f.reference for f in found], [f.hypothesis for f in found]
    assert found[0].reference == found[0].hypothesis == "mister smith is color is 25"
    wer = metrics.rate([f.errors for f in found], [f.words for f in found])
    cer = metrics.rate([f.char_errors for f in found], [f.chars for f in found])
    assert wer == pytest.approx(jiwer.wer(refs, hyps))
    assert cer == pytest.approx(jiwer.cer(refs, hyps))
    basic = metrics.text_errors("Colour, twenty-five", "color twenty five", "basic")
    assert (basic.reference, basic.errors) == ("colour twenty five", 1)


def test_the_tabs_wer_is_evaluates_wer() -> None:
    """One normaliser choice for every WER in the app (shared/outputs/text_metrics.py): the single-clip tabs'
    `wer` gives Evaluate's default per-example number; English → Whisper's English normaliser, else the basic one."""
    from shared.outputs import text_metrics

    pairs = [("Mr. Smith's colour is twenty-five.", "mister smith's color is 25"),
             ("The quick brown fox.", "the quick brown box jumps"), ("Où est la gare ?", "ou est la gare"),
             ("Hello there!", "")]
    for reference, hypothesis in pairs:
        found = metrics.text_errors(reference, hypothesis)
        assert text_metrics.wer(reference, hypothesis) == pytest.approx(metrics.rate([found.errors], [found.words]))
    assert text_metrics.wer(*pairs[0]) == 0.0 and text_metrics.wer(*pairs[2]) == pytest.approx(0.25)  # où ≠ ou
    assert [text_metrics.normaliser_for(text, language) for text, language in [
        ("colour", None), ("café", None), ("colour", "en-GB"), ("colour", "fr"), ("Привет", "english")]] == \
        ["english", "basic", "english", "basic", "english"]
    assert text_metrics.wer("colour", "color", language="fr") == 1.0


def test_bootstrap_interval_brackets_the_rate_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    errors, words = rng.integers(0, 5, 200), rng.integers(5, 20, 200)
    low, high = metrics.bootstrap_interval(errors, words)
    assert low < metrics.rate(errors, words) < high < 1
    assert (low, high) == metrics.bootstrap_interval(errors, words)
    assert metrics.bootstrap_interval([0, 0], [3, 4]) == (0.0, 0.0)


def test_accuracy_top_k_and_confusion_match_sklearn() -> None:
    from sklearn.metrics import accuracy_score, confusion_matrix

    truth = ["dog", "cat", "dog", "bird", "cat", "Dog"]
    predicted = ["dog", "dog", "dog", "bird", "car", "cat"]
    records = [{"kind": "example", "model": "m", "key": f"#{i}", "reference": t, "hypothesis": p,
                "correct": metrics.same_label(t, p), "correct_top_k": metrics.same_label(t, p) or i == 1,
                "audio_s": 1.0, "wall_s": 0.5, "top_k": [p]}
               for i, (t, p) in enumerate(zip(truth, predicted, strict=True))]
    row = report.summarize(sources.CLASSIFY, ["m"], records)[0]
    lowered = [t.lower() for t in truth]
    assert row["accuracy"] == pytest.approx(accuracy_score(lowered, predicted))
    assert row["top_k_accuracy"] == pytest.approx(4 / 6) and row["rtfx"] == pytest.approx(2.0)
    classes, matrix = metrics.confusion_matrix(truth, predicted)
    assert classes == ["bird", "cat", "dog"]
    expected = confusion_matrix(lowered, [p if p in classes else "(other)" for p in predicted],
                                labels=[*classes, "(other)"])
    assert (matrix == expected[:3]).all()
    assert metrics.confusion_matrix([str(i) for i in range(21)], ["0"] * 21) is None


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k: int) -> None:
    """A classifier's scores over 4 classes for 50 examples, scored as Evaluate scores them (the top-k labels of
    each example, best first), against sklearn's top_k_accuracy_score on the same score matrix."""
    from sklearn.metrics import top_k_accuracy_score

    rng = np.random.default_rng(k)
    classes = ["bird", "cat", "dog", "fox"]
    scores, truth = rng.random((50, len(classes))), rng.choice(classes, 50)
    records = []
    for index, (row, reference) in enumerate(zip(scores, truth, strict=True)):
        top = sorted(zip(classes, row, strict=True), key=lambda pair: -pair[1])
        records.append({"kind": "example", "model": "m", "key": f"#{index}", "reference": str(reference),
                        "audio_s": 1.0, "wall_s": 0.1, **run.labelled(top, str(reference), k)})
    row = report.summarize(sources.CLASSIFY, ["m"], records)[0]
    assert row["top_k_accuracy"] == pytest.approx(top_k_accuracy_score(truth, scores, k=k, labels=classes))
    assert 0 < row["accuracy"] <= row["top_k_accuracy"] < 1


def test_der_over_files_matches_pyannote_metrics() -> None:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from shared.diarize.scoring import evaluate as score_turns

    files = [([Turn(0, 5, "a"), Turn(5, 9, "b")], [Turn(0.2, 5.5, "x"), Turn(5.5, 9, "y")]),
             ([Turn(0, 3, "a"), Turn(4, 8, "b")], [Turn(0, 8, "x")])]
    records, metric = [], DiarizationErrorRate(collar=0.25, skip_overlap=False)
    for index, (reference, hypothesis) in enumerate(files):
        scored = score_turns(reference, hypothesis, 9.0)
        records.append({"kind": "example", "model": "m", "key": f"f{index}", "reference": "", "hypothesis": "",
                        "missed_s": scored.missed_s, "false_alarm_s": scored.false_alarm_s,
                        "confusion_s": scored.confusion_s, "reference_s": scored.reference_s, "der": scored.der,
                        "audio_s": 9.0, "wall_s": 1.0})
        ref, hyp = Annotation(), Annotation()
        for turn in reference:
            ref[Segment(turn.start, turn.end)] = turn.speaker
        for turn in hypothesis:
            hyp[Segment(turn.start, turn.end)] = turn.speaker
        from pyannote.core import Timeline

        metric(ref, hyp, uem=Timeline([Segment(0, 9)]))
    row = report.summarize(sources.DIARIZE, ["m"], records)[0]
    assert row["der"] == pytest.approx(abs(metric))
    parts = metric.accumulated_  # pyannote.metrics' components summed over the files
    assert [row["missed_rate"], row["false_alarm_rate"], row["confusion_rate"]] == pytest.approx(
        [parts[name] / parts["total"] for name in ("missed detection", "false alarm", "confusion")])
    assert min(parts["missed detection"], parts["false alarm"], parts["confusion"]) > 0  # every part is exercised


# ---- bad reference files --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("content", "message"), [
    ("name,text\na.wav,hi\n", "no `file` column"),
    ("file,transcript\na.wav,hi\n", "no `text` column"),
    ("", "is empty"),
    ("file,text\n", "no rows"),
    ("file,text\nb.wav,hi\n", "not among the audio files"),
    ("file,text\na.wav,hi\na.wav,again\n", "listed twice"),
    ("file,text\n,hi\n", "no file name"),
])
def test_bad_reference_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    refs = tmp_path / "refs.csv"
    refs.write_text(content)
    with pytest.raises(UserError, match=message):
        sources.files_source([str(tmp_path / "a.wav")], str(refs), sources.ASR)


def test_bad_sources_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(UserError, match="No references file"):
        sources.files_source([str(tmp_path / "a.wav")], None, sources.ASR)
    rttm = tmp_path / "a.rttm"
    rttm.write_text("SPEAKER a 1 0.0 1.0 <NA> <NA> s1 <NA> <NA>\n")
    with pytest.raises(UserError, match="needs a CSV/TSV"):
        sources.files_source([str(tmp_path / "a.wav")], str(rttm), sources.ASR)
    assert sources.files_source([str(tmp_path / "a.wav")], str(rttm), sources.DIARIZE).keys == ["a.wav"]
    with pytest.raises(UserError, match="not a hub dataset"):
        sources.dataset_source("../etc:train", 5, sources.ASR)
    with pytest.raises(UserError, match="one per line"):
        sources.sentences_source("  \n ")
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(UserError, match="not UTF-8"):
        references.read_text(str(tmp_path / "bad.csv"))


def test_zips_cannot_escape_or_explode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    escaping = tmp_path / "escape.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../evil.wav", b"x")
    with pytest.raises(UserError, match="outside the folder"):
        sources.files_source([str(escaping)], None, sources.ASR)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.wav", b"\0" * 3 * 2**20)
    monkeypatch.setattr(sources, "MAX_UNZIPPED_MB", 2)
    with pytest.raises(UserError, match="more than 2 MB"):
        sources.files_source([str(bomb)], None, sources.ASR)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    with pytest.raises(UserError, match="not a readable zip"):
        sources.files_source([str(broken)], None, sources.ASR)


def test_a_zip_with_its_references_inside(speech_folder: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "data.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for name in ("s0.wav", "s1.wav", "references.csv"):
            archive.write(speech_folder / name, f"audio/{name}")
    with pytest.raises(UserError, match="not among the audio files"):
        sources.files_source([str(bundle)], None, sources.ASR)  # the csv lists s2.wav, which is not in the zip
    (tmp_path / "two.csv").write_text('file,text\ns0.wav,"hello"\naudio/s1.wav,"there"\n')
    source = sources.files_source([str(bundle)], str(tmp_path / "two.csv"), sources.ASR)
    assert source.keys == ["audio/s0.wav", "audio/s1.wav"] and source.fetch("audio/s0.wav").reference == "hello"


# ---- every task end to end -----------------------------------------------------------------------------------------
def cli_args(folder: Path, out: Path) -> list[str]:
    return ["--task", "asr", "--data", str(folder), "--references", str(folder / "references.csv"),
            "--models", ASR_MODEL, "--out", str(out)]


@pytest.fixture(scope="module")
def single_run(speech_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m shared.evaluate` on the Piper folder with the built-in Whisper, in this process."""
    out = tmp_path_factory.mktemp("single") / "out"
    assert cli.main(cli_args(speech_folder, out)) == 0
    return out


def test_asr_on_piper_speech_matches_jiwer_and_the_transcribe_tab(speech_folder: Path, single_run: Path) -> None:
    import jiwer

    from shared.audio.intake import load_audio
    from shared.transcribe.run import TranscribeOptions, transcribe

    records = FolderStore(single_run).records()
    evaluation = run.Evaluation(run.Settings(sources.ASR), "your files", [ASR_MODEL], records)
    row = report.summarize(sources.ASR, [ASR_MODEL], records)[0]
    done = report.examples_of(records)
    assert row["examples"] == 3 and row["wer"] <= PIPER_ROUND_TRIP_WER and row["rtfx"] > 0 and row["peak_mb"] > 100
    assert row["wer"] == pytest.approx(jiwer.wer([r["normalised_reference"] for r in done],
                                                 [r["normalised_hypothesis"] for r in done]))
    clip = load_audio(str(speech_folder / "s1.wav"), 16_000)
    single = transcribe(clip, ASR_MODEL, TranscribeOptions(timestamps="none"))
    assert done[1]["hypothesis"] == single.text  # the number here is the number the Transcribe tab shows
    table = views.table_rows(sources.ASR, [row])
    assert table[0][0] == ASR_MODEL and len(table[0]) == len(views.table_headers(sources.ASR))
    assert views.scatter_image(sources.ASR, [row]).shape[2] == 3
    from matplotlib.figure import Figure

    axes = Figure().add_subplot()
    views.draw_scatter(axes, sources.ASR, [row, {**row, "model": "b", "wer": 0.01, "wer_low": 0.0, "wer_high": 0.02}])
    assert axes.get_ylim()[0] == 0  # a WER axis never shows negative rates
    _, examples_csv, json_path = views.write_downloads(evaluation, [row])
    assert json.loads(Path(json_path).read_text())["models"][0]["model"] == ASR_MODEL
    assert Path(examples_csv).read_text().count("\n") == 4
    assert json.loads((single_run / "evaluation.json").read_text())["models"][0]["wer"] == row["wer"]


def test_one_clip_scores_as_in_the_transcribe_tab(speech_folder: Path, tmp_path: Path) -> None:
    """Evaluate's WER for one clip is the number the Transcribe tab's comparison shows for the same clip and
    reference (a reference the two old normalisers scored apart: "recognition's" is "recognition is")."""
    from shared.audio.intake import load_audio
    from shared.transcribe.run import TranscribeOptions, transcribe
    from shared.transcribe.views import COMPARE_HEADERS, compare_rows

    reference = "Speech recognition's easier than you think!"
    (tmp_path / "one.csv").write_text(f'file,text\ns1.wav,"{reference}"\n')
    source = sources.files_source([str(speech_folder / "s1.wav")], str(tmp_path / "one.csv"), sources.ASR)
    record = report.examples_of(run.evaluate(source, [ASR_MODEL], run.Settings(sources.ASR)).records)[0]
    single = transcribe(load_audio(str(speech_folder / "s1.wav"), 16_000), ASR_MODEL,
                        TranscribeOptions(timestamps="none"))
    rows, _ = compare_rows([single], reference)
    assert record["hypothesis"] == single.text
    assert rows[0][COMPARE_HEADERS.index("WER")] == round(record["word_errors"] / record["words"], 4)


def test_classification_and_zero_shot_with_tiny_models(speech_folder: Path, tiny_hf_home: Path) -> None:
    from sklearn.metrics import accuracy_score

    for task, model in ((sources.CLASSIFY, AST), (sources.ZERO_SHOT, CLAP)):
        source = folder_source(speech_folder, "labels.tsv", task)
        evaluation = run.evaluate(source, [model], run.Settings(task, top_k=2))
        row = report.summarize(task, [model], evaluation.records)[0]
        done = report.examples_of(evaluation.records)
        assert row["examples"] == 3, done
        assert row["accuracy"] == pytest.approx(accuracy_score([r["reference"] for r in done],
                                                               [r["hypothesis"] for r in done]))
        if task == sources.ZERO_SHOT:
            assert evaluation.labels == ["no", "yes"] and row["top_k_accuracy"] == 1.0
            assert views.confusion_image(evaluation, model).ndim == 3


def test_diarization_of_pyannotes_sample(tmp_path: Path) -> None:
    sample = pyannote_sample_dir()
    source = sources.files_source([str(sample / "sample.wav")], str(sample / "sample.rttm"), sources.DIARIZE)
    evaluation = run.evaluate(source, ["offline:diarizer"], run.Settings(sources.DIARIZE))
    row = report.summarize(sources.DIARIZE, ["offline:diarizer"], evaluation.records)[0]
    assert row["examples"] == 1 and row["der"] < 0.10  # the built-in diarizer's DER on the sample is 1.7 %
    assert row["der"] == pytest.approx(row["missed_rate"] + row["false_alarm_rate"] + row["confusion_rate"])


def test_tts_round_trip_and_voice_similarity() -> None:
    source = sources.sentences_source("\n".join(PIPER_SENTENCES[:2]))
    evaluation = run.evaluate(source, [PIPER], run.Settings(sources.TTS))
    row = report.summarize(sources.TTS, [PIPER], evaluation.records)[0]
    assert row["examples"] == 2 and row["wer"] <= PIPER_ROUND_TRIP_WER and row["rtf"] > 0
    assert 0.5 < row["similarity"] <= 1.0
    assert views.example_rows(sources.TTS, evaluation.records)[0][0] == PIPER


def test_bad_models_and_settings() -> None:
    with pytest.raises(UserError, match="not a speech-recognition model"):
        run.check_models([PIPER], sources.ASR)
    with pytest.raises(UserError, match="Choose 1 to"):
        run.check_models([], sources.ASR)
    with pytest.raises(UserError, match="normaliser"):
        run.Settings(sources.ASR, normalise="klingon").checked()


# ---- the command line: resume, and two processes --------------------------------------------------------------------
def comparable(folder: Path) -> tuple[list, list]:
    """evaluation.json's model numbers (not the timings) and its examples (not their wall time)."""
    found = json.loads((folder / "evaluation.json").read_text())
    keys = ("examples", "failed", "wer", "wer_low", "wer_high", "cer", "cer_low", "cer_high")
    return ([[model[key] for key in keys] for model in found["models"]],
            [{k: v for k, v in example.items() if k != "wall_s"} for example in found["examples"]])


def example_keys(folder: Path) -> list[str]:
    """Keys of the whole example records in the folder's records files, in the order written."""
    return [record["key"] for record in FolderStore(folder).records() if record["kind"] == "example"]


def test_a_killed_run_resumes_without_recomputing(speech_folder: Path, single_run: Path, tmp_path: Path) -> None:
    """`python -m shared.evaluate` killed (SIGKILL) once its first example is written, then started again: the
    second run scores only the examples not written yet, and the numbers are those of an uninterrupted run."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "shared.evaluate", *cli_args(speech_folder, out)]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    records = out / "records-0.jsonl"
    deadline = time.monotonic() + 300
    while first.poll() is None and time.monotonic() < deadline and not (
            records.is_file() and b"\n" in records.read_bytes()):
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL, "the run ended before it could be killed"
    written = example_keys(out)
    assert 1 <= len(written) < 3, written
    lines = records.read_text().splitlines()
    with open(records, "a") as handle:  # a kill in the middle of a write leaves half a line
        handle.write(lines[-1][: len(lines[-1]) // 2])
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    scored = [line.split(": ")[-1].split(" (")[0] for line in again.stdout.splitlines()
              if line.startswith(f"[0] {ASR_MODEL}: ")]
    assert scored == [key for key in ("s0.wav", "s1.wav", "s2.wav") if key not in written]
    assert sorted(example_keys(out)) == ["s0.wav", "s1.wav", "s2.wav"]  # each example once
    assert comparable(out) == comparable(single_run)
    assert "holds another evaluation" in FolderStore(out).check_plan({"task": "classify"})


def test_two_processes_give_the_single_process_numbers(speech_folder: Path, single_run: Path, tmp_path: Path) -> None:
    """The issue's own `accelerate launch --cpu --num_processes 2`: accelerate's --cpu launcher starts one process,
    which restarts itself under torch's launcher with two (shared/evaluate/launch.py); they meet over gloo, split
    the examples, and give exactly the single-process numbers. Asked for another evaluation in the same folder,
    both processes stop with the message (none is left waiting for the other)."""
    double = tmp_path / "double"
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or "accelerate"
    launch = [accelerate, "launch", "--cpu", "--num_processes", "2", "-m", "shared.evaluate"]
    done = subprocess.run([*launch, *cli_args(speech_folder, double)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "starting 2 with torch's launcher" in done.stdout
    assert all(FolderStore(double, rank).path.stat().st_size for rank in (0, 1))  # both processes scored examples
    assert comparable(double) == comparable(single_run)
    assert json.loads((double / "evaluation.json").read_text())["models"][0]["processes"] == 2
    other = subprocess.run([*launch, *cli_args(speech_folder, double), "--normaliser", "basic"], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    said = other.stdout + other.stderr
    assert other.returncode != 0 and other.stdout.count("holds another evaluation") == 1, said[-3000:]
    # rank 0 exits with the message's status (torch's launcher then ends the other one, exiting too, if it is last)
    assert "exitcode  : 2" in said and 'File "' + str(ROOT / "shared") not in said, said[-3000:]


def test_the_cpu_launcher_is_read_back_or_warned_about(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    from shared import config
    from shared.evaluate import launch

    accelerate = ["/venv/bin/python", "/venv/bin/accelerate", "launch", "--cpu"]
    assert launch.requested_processes([*accelerate, "--num_processes", "3", "-m", "shared.evaluate", "--x"]) == 3
    assert launch.requested_processes([*accelerate, "--num_processes", "4", "--num_machines", "2", "x.py"]) is None
    assert launch.requested_processes(["python", "-m", "accelerate.commands.launch", "--num_processes=2", "x"]) == 2
    assert launch.requested_processes(["bash", "run.sh", "launch"]) is None
    (tmp_path / "cpu.yaml").write_text("distributed_type: MULTI_CPU\nnum_processes: 5\nnum_machines: 1\n")
    assert launch.requested_processes([*accelerate, "--config_file", str(tmp_path / "cpu.yaml"), "x.py"]) == 5
    assert launch.dropped_processes(config.Launch(cpu=True, rendezvous=True, process_group=False))
    assert not launch.dropped_processes(config.Launch(cpu=True, rendezvous=True, process_group=True))
    assert not launch.dropped_processes(config.Launch(cpu=True, rendezvous=False, process_group=False))
    monkeypatch.setattr(config, "launch", lambda: config.Launch(True, True, False))
    monkeypatch.setattr(launch, "parent_command", lambda: ["bash"])
    launch.start_processes(["--task", "asr"])  # N unknown: goes on in this one process, and says so
    assert "runs in one process" in capsys.readouterr().err
    assert launch.torchrun_command(2, ["--task", "asr"])[1:] == [
        "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "shared.evaluate", "--task",
        "asr"]


def test_a_streamed_dataset_split_as_the_source(speech_folder: Path, tmp_path: Path) -> None:
    """The dataset source streams through shared.audio.datasets (here from a local audiofolder: tests never reach
    the hub); a split shorter than N just gives fewer examples."""
    import datasets

    from shared.audio import datasets as streaming

    folder = tmp_path / "audiofolder"
    folder.mkdir()
    for index in range(2):
        shutil.copy(speech_folder / f"s{index}.wav", folder / f"s{index}.wav")
    (folder / "metadata.csv").write_text("file_name,transcription\n" + "".join(
        f's{i}.wav,"{PIPER_SENTENCES[i]}"\n' for i in range(2)))

    def load(name: str, config: str | None, **kwargs: object) -> object:
        return datasets.load_dataset("audiofolder", data_dir=str(folder), **kwargs)

    streaming.clear_cache()
    try:
        source = sources.dataset_source("local-test/speech:train", 5, sources.ASR, load=load)
        assert source.keys == ["#0", "#1", "#2", "#3", "#4"]
        items = run.fetch_items(source)
        assert [item.reference for item in items] == list(PIPER_SENTENCES[:2])
        assert sf.info(items[1].audio).duration == pytest.approx(sf.info(speech_folder / "s1.wav").duration)
    finally:
        streaming.clear_cache()
    with pytest.raises(UserError, match="no speaker turns"):
        sources.dataset_source("local-test/speech:train", 5, sources.DIARIZE)
