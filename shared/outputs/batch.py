"""Batch processing: several audio files → one zip (one set of output files per input, plus `summary.csv`).
A file that fails is recorded in the summary; the others still run. No Gradio here.

Only base names of the inputs reach the zip and the CSV (never the server paths they were uploaded to), and each
file's outputs are written into the zip as soon as that file is done, so at most one file's results are in memory.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from shared import config
from shared.errors import ModelUnavailableError, UserError
from shared.outputs.results import new_result_path
from shared.progress import Progress, no_progress, timing_line

log = logging.getLogger(__name__)

SUMMARY_NAME = "summary.csv"
LEAD_COLUMNS = ("file", "status", "error", "outputs", "duration_s")
TIMING_COLUMNS = ("compute_s", "load_s", "device", "dtype")
_UNSAFE = re.compile(r"[^\w.\- ]+")

T = TypeVar("T")


def max_files() -> int:
    """Most files one batch accepts (ADS_BATCH_MAX_FILES, default 50)."""
    return config.current().batch_max_files


def max_total_bytes() -> int:
    """Largest total upload size of one batch in bytes (ADS_BATCH_MAX_MB, default 500 MB)."""
    return config.current().batch_max_bytes


def json_text(payload: Any) -> str:
    """A result's JSON as it goes into a zip: indented, unicode kept, numpy numbers as floats."""
    return json.dumps(payload, indent=2, ensure_ascii=False, default=float)


@dataclass(frozen=True)
class ItemResult:
    """What one input becomes: its output files (suffix → text) and its row of the summary."""
    outputs: dict[str, str]  # e.g. {".srt": "...", ".json": "..."}
    duration_s: float
    compute_s: float
    load_s: float
    device: str
    dtype: str
    fields: dict[str, Any] = field(default_factory=dict)  # the tab's key result fields (its `columns`)


def summary_columns(columns: Sequence[str]) -> list[str]:
    return [*LEAD_COLUMNS, *columns, *TIMING_COLUMNS]


def output_stem(filename: str, taken: set[str]) -> str:
    """The input's stem made safe for a zip entry, and distinct (case-insensitively) from those already taken:
    `a.wav`, `a.mp3` → `a`, `a-2`."""
    stem = _UNSAFE.sub("_", Path(filename).stem).strip(" .") or "audio"
    candidate, number = stem, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}"
    taken.add(candidate.lower())
    return candidate


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted; anything else is returned as it is."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """Numbers rounded; text that a spreadsheet would run as a formula is quoted."""
    return round(value, 4) if isinstance(value, float) else spreadsheet_safe(value)


def check_inputs(paths: Sequence[str] | None, limit_files: int | None = None,
                 limit_bytes: int | None = None) -> list[str]:
    limit_files = max_files() if limit_files is None else limit_files
    limit_bytes = max_total_bytes() if limit_bytes is None else limit_bytes
    paths = [str(path) for path in (paths or []) if path]
    if not paths:
        raise UserError("No files were given: upload one or more audio files (wait until the uploads finish).")
    if len(paths) > limit_files:
        raise UserError(f"{len(paths)} files were given; a batch takes at most {limit_files}. Split them up.")
    total = sum(os.path.getsize(path) for path in paths if os.path.isfile(path))
    if total > limit_bytes:
        raise UserError(f"The files add up to {total / 2**20:.1f} MB; a batch takes at most "
                        f"{limit_bytes / 2**20:.0f} MB. Split them up.")
    return paths


def run_batch(paths: Sequence[str] | None, process_one: Callable[[str], T], summarize_one: Callable[[T], ItemResult],
              progress: Progress = no_progress, *, tab: str, columns: Sequence[str] = (),
              limit_files: int | None = None, limit_bytes: int | None = None) -> str:
    """Run `process_one(path)` then `summarize_one(result)` for every file; returns the zip's path.

    A UserError (bad audio…) or an unexpected exception in one file becomes that file's error row; only a model
    that cannot be loaded at all (ModelUnavailableError) stops the batch, since every file would fail the same way.
    """
    paths = check_inputs(paths, limit_files, limit_bytes)
    header = summary_columns(columns)
    zip_path = new_result_path(f"batch-{tab}.zip")
    taken = {Path(SUMMARY_NAME).stem}
    summary = io.StringIO()
    writer = csv.DictWriter(summary, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    try:
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, path in enumerate(paths):
                name = Path(path).name
                progress(index / len(paths), f"File {index + 1}/{len(paths)}: {name}")
                stem = output_stem(name, taken)
                row: dict[str, Any] = {"file": name}
                try:
                    item = summarize_one(process_one(path))
                except ModelUnavailableError:
                    raise
                except UserError as exc:  # its message names at most the base name; the folder is cut anyway
                    row.update(status="error", error=str(exc).replace(str(Path(path).parent) + os.sep, ""))
                except Exception as exc:
                    log.exception("batch %s: unexpected error on file %d", tab, index + 1)
                    row.update(status="error",
                               error=f"Something went wrong ({type(exc).__name__}); the details are in the server log.")
                else:
                    names = [f"{stem}{suffix}" for suffix in item.outputs]
                    for entry, text in zip(names, item.outputs.values(), strict=True):
                        archive.writestr(entry, text)
                    row.update(item.fields, status="ok", error="", outputs=" ".join(names),
                               duration_s=item.duration_s, compute_s=item.compute_s, load_s=item.load_s,
                               device=item.device, dtype=item.dtype)
                writer.writerow({key: _cell(value) for key, value in row.items()})
            archive.writestr(SUMMARY_NAME, summary.getvalue())
    except BaseException:
        zip_path.unlink(missing_ok=True)
        raise
    progress(1.0, "Done")
    return str(zip_path)


def read_summary(zip_path: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a batch zip's summary.csv (for the preview table)."""
    with zipfile.ZipFile(zip_path) as archive:
        text = archive.read(SUMMARY_NAME).decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, rows


def summary_markdown(header: list[str], rows: list[list[str]]) -> str:
    """One line about the whole batch: files ok / failed, then the usual device, dtype, compute time and RTF."""
    records = [dict(zip(header, row, strict=True)) for row in rows]
    done = [record for record in records if record["status"] == "ok"]
    failed = len(records) - len(done)
    head = f"**{len(done)} of {len(records)} file(s) done**" + (f" · **{failed} failed** (see the summary)"
                                                                  if failed else "")
    if not done:
        return head

    def total(column: str) -> float:
        return sum(float(record[column] or 0) for record in done)

    return f"{head} · " + timing_line(done[0]["device"], done[0]["dtype"], total("compute_s"), total("duration_s"),
                                      total("load_s"))


def preview(zip_path: str) -> tuple[str, list[list[str]], str]:
    """What a tab shows for a finished batch: the zip, the summary's rows, and the one-line totals."""
    header, rows = read_summary(zip_path)
    return zip_path, rows, summary_markdown(header, rows)
