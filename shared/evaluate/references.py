"""Reference files of your own data, read strictly: a CSV/TSV with a header naming a `file` column and a `text`
(speech recognition) or `label` (classification) column, or an RTTM (diarization: one recording per audio file,
the RTTM's file id is the audio file's name without its extension). Anything else is a UserError that says what
is wrong: a missing column, no rows, a row without a file name, a file listed twice."""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

from shared.diarize.rttm import Turn, parse_rttm
from shared.errors import UserError

MAX_REFERENCE_BYTES = 20 * 2**20  # 20 MiB of references is several hundred thousand rows
FILE_COLUMN = "file"
TEXT_COLUMNS = ("text", "label")  # the value column: which one a task reads (TASK_COLUMN in sources)


def read_text(path: str) -> str:
    """The file's text (UTF-8, a BOM dropped); a UserError when it is too big, binary or empty."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_REFERENCE_BYTES + 1)
    if len(data) > MAX_REFERENCE_BYTES:
        raise UserError(f"The references file is over {MAX_REFERENCE_BYTES // 2**20} MB; split the evaluation.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("The references file is not UTF-8 text (is it the audio or a spreadsheet?).") from None
    if not text.strip():
        raise UserError("The references file is empty.")
    return text


def parse_table(text: str, column: str, dialect_hint: str = "") -> dict[str, str]:
    """`file` → value of `column` ("text" or "label") from CSV or TSV text with a header row. The delimiter is
    a tab for `.tsv` (`dialect_hint`) or when the header has one, else a comma."""
    delimiter = "\t" if dialect_hint == ".tsv" or "\t" in text.splitlines()[0] else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if FILE_COLUMN not in header or column not in header:
        missing = " and ".join(f"`{name}`" for name in (FILE_COLUMN, column) if name not in header)
        raise UserError(f"The references file has no {missing} column (its header: {', '.join(header)[:200] or 'none'})"
                        f"; write a header row `{FILE_COLUMN}{delimiter}{column}`.")
    reader.fieldnames = header
    values: dict[str, str] = {}
    for line, row in enumerate(reader, 2):
        name, value = (row.get(FILE_COLUMN) or "").strip(), (row.get(column) or "").strip()
        if not name:
            raise UserError(f"Line {line} of the references file has no file name.")
        if name in values:
            raise UserError(f"{name} is listed twice in the references file (line {line}).")
        values[name] = value
    if not values:
        raise UserError("The references file has a header but no rows.")
    return values


def parse_rttm_by_file(text: str) -> dict[str, list[Turn]]:
    """File id → reference turns, from an RTTM that may describe several recordings (each checked like the
    Diarize tab's reference RTTM)."""
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 1 and fields[0] == "SPEAKER":
            lines.setdefault(fields[1], []).append(line)
    if not lines:
        raise UserError("The RTTM file has no SPEAKER lines.")
    return {uri: parse_rttm("\n".join(found)) for uri, found in lines.items()}


def match_files(listed: list[str], available: list[str]) -> dict[str, str]:
    """Each listed name → the available file it names: the same relative path, or else the same base name (or
    base name without extension, as RTTM file ids are) when only one file has it. Unknown names: a UserError."""
    by_path = {name: name for name in available}
    by_base: dict[str, list[str]] = {}
    for name in available:
        path = PurePosixPath(name)
        for alias in {path.name, path.stem}:
            by_base.setdefault(alias, []).append(name)
    matched, unknown = {}, []
    for name in listed:
        found = by_path.get(name) or (by_base.get(name, [None, None])[0] if len(by_base.get(name, [])) == 1 else None)
        matched[name] = found
        unknown += [] if found else [name]
    if unknown:
        raise UserError(f"{len(unknown)} file(s) in the references are not among the audio files: "
                        f"{', '.join(unknown[:5])}{'…' if len(unknown) > 5 else ''}.")
    return matched
