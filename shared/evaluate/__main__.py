"""The evaluation from the command line, resumable and distributed with Hugging Face Accelerate:

    python -m shared.evaluate --task asr --dataset hf-internal-testing/librispeech_asr_dummy/clean:validation \\
        --models offline:whisper-tiny.en openai/whisper-base --limit 100 --out runs/librispeech
    accelerate launch --num_processes 4 -m shared.evaluate --task asr --data my_audio/ --models ... --out runs/mine
    accelerate launch --cpu --num_processes 2 -m shared.evaluate ...   # N CPU processes (see launch.py)

Every process reads the records already in `--out` (a restart skips what is done), takes its share of the
remaining examples (`PartialState().split_between_processes`), loads each model once and appends one record per
example to its own `records-<process>.jsonl`. Each process's new records are then gathered on the main process
(`accelerate.utils.gather_object`), which adds them to the earlier ones and writes models.csv, examples.csv and
evaluation.json and prints the table."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # before torch loads: the app's setting (see app.py), same speed

from shared import config
from shared.errors import UserError
from shared.evaluate import launch, report, run, sources, views
from shared.evaluate.store import FolderStore, done_in
from shared.outputs.text_metrics import AUTO, NORMALIZERS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m shared.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, choices=sources.TASKS)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dataset", help="hub split: owner/name[/config]:split (streamed)")
    where.add_argument("--data", help="a folder or zip of audio files (with a references file, or --references)")
    where.add_argument("--sentences", help="TTS: a text file, one sentence per line")
    parser.add_argument("--references", help="CSV/TSV (file,text or file,label) or RTTM for --data")
    parser.add_argument("--models", nargs="+", required=True, help="registry model ids")
    parser.add_argument("--limit", type=int, default=100, help="first N examples of --dataset")
    parser.add_argument("--out", required=True, help="output folder: records (resume from them) and reports")
    parser.add_argument("--normaliser", default=AUTO, choices=NORMALIZERS,
                        help="WER/CER text normaliser; auto (as the app's tabs): Whisper's English one for English "
                             "(--language, else the reference's letters), its basic one otherwise")
    parser.add_argument("--language", default=None, help="ASR language code (default: the model's / detected)")
    parser.add_argument("--top-k", type=int, default=run.DEFAULT_TOP_K)
    parser.add_argument("--labels", default="", help="zero-shot candidate labels (default: the references' labels)")
    parser.add_argument("--asr-model", default=run.ASR_MODEL, help="TTS round-trip recogniser")
    parser.add_argument("--voice-reference", default=None, help="TTS: a recording to compare the voices with")
    return parser.parse_args(argv)


def build_source(args: argparse.Namespace) -> sources.Source:
    if args.dataset:
        return sources.dataset_source(args.dataset, args.limit, args.task)
    if args.sentences:
        return sources.sentences_source(Path(args.sentences).read_text(encoding="utf-8"))
    data = Path(args.data)
    files = sources.folder_files(str(data)) if data.is_dir() else [str(data)]
    return sources.files_source(files, args.references, args.task, root=str(data) if data.is_dir() else None)


def settings_of(args: argparse.Namespace) -> run.Settings:
    return run.Settings(args.task, args.normaliser, args.language, args.top_k, args.labels, asr_model=args.asr_model,
                        voice_reference=args.voice_reference).checked()


def plan_of(args: argparse.Namespace, settings: run.Settings, source: sources.Source, models: list[str]) -> dict:
    """What identifies this evaluation in its output folder (a resume must ask for the same)."""
    return {"task": settings.task, "source": source.name, "keys": len(source.keys), "models": models,
            "settings": settings.to_json()}


def evaluate_share(state: Any, source: sources.Source, models: list[str], settings: run.Settings,
                   store: FolderStore, done: set[tuple[str, str]]) -> None:
    """This process's share of the examples not `done` yet, every model over it (each loaded once)."""
    keys = [key for key in source.keys if any((model, key) not in done for model in models)]
    labels = None
    if settings.task == sources.ZERO_SHOT:
        labels = run.candidate_labels(settings, run.fetch_items(source))  # the same labels in every process
    with state.split_between_processes(keys) as mine:
        items = run.fetch_items(source, mine) if mine else []
        eta = run.Eta(len(items) * len(models), lambda fraction, what: print(f"[{state.process_index}] {what}",
                                                                             flush=True))
        for model in models:
            todo = [item for item in items if (model, item.key) not in done]
            if todo:
                run.evaluate_model(model, todo, settings, store.write, eta=eta, labels=labels,
                                   rank=state.process_index)


def share_problem(state: Any, source: sources.Source, models: list[str], settings: run.Settings,
                  store: FolderStore, done: set[tuple[str, str]]) -> str | None:
    """`evaluate_share`; what stopped it (a UserError's message), else None."""
    try:
        evaluate_share(state, source, models, settings, store, done)
    except UserError as exc:
        return str(exc)
    return None


def stop(state: Any, problem: str) -> int:
    """Exit status 2, the reason printed once (by the main process: every process stops for it)."""
    if state.is_main_process:
        print(f"error: {problem}", flush=True)
    return finish(state, 2)


def finish(state: Any, status: int) -> int:
    """`status`, once every process got here: none leaves while another may still talk to it (a process whose
    peer vanished mid-collective aborts), and the process group is closed."""
    state.wait_for_everyone()
    state.destroy_process_group()
    return status


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation the arguments describe; 0 on success, 2 with the reason on a UserError (in every
    process: the processes agree on the outcome before they end)."""
    import torch
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list, gather_object

    args = parse_args(argv)
    # without CUDA, or under `accelerate launch --cpu`, the processes meet over gloo on the CPU
    state = PartialState(cpu=config.launch().cpu or not torch.cuda.is_available())
    try:  # the same arguments fail the same way in every process, before any process waits for another
        settings = settings_of(args)
        models = run.check_models(args.models, settings.task)
        source = build_source(args)
        store = FolderStore(args.out, state.process_index)
    except UserError as exc:
        return stop(state, str(exc))
    plan = plan_of(args, settings, source, models)
    if problem := broadcast_object_list([store.check_plan(plan) if state.is_main_process else None])[0]:
        return stop(state, problem)
    earlier = store.records()
    state.wait_for_everyone()  # every process has read the same records before anyone writes
    problem = share_problem(state, source, models, settings, store, done_in(earlier))
    gathered = gather_object([(problem, store.written())])  # each process's outcome and its new records
    if problems := [problem for problem, _ in gathered if problem]:
        return stop(state, problems[0])
    if state.is_main_process:
        records = earlier + [record for _, written in gathered for record in written]
        write_reports(run.Evaluation(settings, source.name, models, records), Path(args.out))
    return finish(state, 0)


def write_reports(evaluation: run.Evaluation, folder: Path) -> None:
    """models.csv, examples.csv and evaluation.json into `folder`; the table printed."""
    rows = report.summarize(evaluation.settings.task, evaluation.models, evaluation.records)
    paths = views.write_downloads(evaluation, rows, folder)
    headers = views.table_headers(evaluation.settings.task)
    for row in views.table_rows(evaluation.settings.task, rows):
        print(" · ".join(f"{name}: {value}" for name, value in zip(headers, row, strict=True)), flush=True)
    print("written: " + ", ".join(paths), flush=True)


if __name__ == "__main__":
    launch.start_processes(sys.argv[1:])  # `accelerate launch --cpu --num_processes N`: N processes, not one
    raise SystemExit(main())
