"""Where the examples of an evaluation come from, as a `Source`: a list of example keys and a way to fetch each
one (its audio file and its reference). Keys are stable (a file's path in the folder, `#index` of a dataset split,
`sentence N`), so results stored per key can be resumed and split across processes.

- A hub dataset split (`owner/name[/config]:split`, validated by shared.audio.datasets), its first N examples
  streamed — no full download.
- Your own audio: a folder, a zip (unpacked with limits: no paths outside the folder, no links, at most
  MAX_MEMBERS files and MAX_UNZIPPED_MB megabytes) or loose files, with a references file (references.py).
- For text to speech: a list of sentences."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from shared.audio import datasets as streaming
from shared.diarize.rttm import Turn
from shared.errors import UserError
from shared.evaluate import references
from shared.outputs.results import new_result_path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".aiff", ".aif")
REFERENCE_SUFFIXES = (".csv", ".tsv", ".rttm")
MAX_MEMBERS = 5000  # files in one zip
MAX_UNZIPPED_MB = 4096  # megabytes once unpacked (zip bombs stop here, counted while copying)
MAX_EXAMPLES = 10_000  # dataset examples, folder files or sentences in one evaluation
MAX_SENTENCES = 500
ASR, CLASSIFY, ZERO_SHOT, DIARIZE, TTS = "asr", "classify", "zero-shot", "diarize", "tts"
TASKS = (ASR, CLASSIFY, ZERO_SHOT, DIARIZE, TTS)
TASK_COLUMN = {ASR: "text", CLASSIFY: "label", ZERO_SHOT: "label"}


@dataclass(frozen=True)
class Item:
    """One example: `audio` a file path (None for TTS), `reference` the text, label or sentence; `turns` the
    reference speaker turns (diarization)."""
    key: str
    audio: str | None
    reference: str
    turns: tuple[Turn, ...] = ()


@dataclass
class Source:
    """The examples: `keys` in order, `fetch(key)` → the Item (None past the end of a dataset split)."""
    name: str
    keys: list[str]
    fetch: Callable[[str], Item | None] = field(repr=False)


def check_task(task: str) -> str:
    if task not in TASKS:
        raise UserError(f"Unknown task {task!r}: choose one of {', '.join(TASKS)}.")
    return task


# ---- a hub dataset split --------------------------------------------------------------------------------------------
def dataset_source(spec: str, limit: int, task: str, load: streaming.LoadFn | None = None) -> Source:
    """The first `limit` examples of a hub dataset split, each streamed when fetched (the stream is cached, so
    fetching them in order reads each once). `load` replaces datasets.load_dataset (tests stream local folders)."""
    if check_task(task) in (DIARIZE, TTS):
        raise UserError("Hub datasets carry no speaker turns here: evaluate diarization on your own audio with an "
                        "RTTM (and TTS on a list of sentences).")
    source = streaming.parse_source(spec)
    limit = int(limit or 0)
    if not 1 <= limit <= MAX_EXAMPLES:
        raise UserError(f"The number of examples must be between 1 and {MAX_EXAMPLES}.")
    prefer = "text" if task == ASR else "label"

    def fetch(key: str) -> Item | None:
        try:
            example = streaming.next_example(source, int(key.lstrip("#")), load)
        except UserError as exc:
            if str(exc).startswith("End of the split"):
                return None
            raise
        return Item(key, example.audio_path, example.reference(prefer))

    return Source(source.spec, [f"#{index}" for index in range(limit)], fetch)


# ---- your own audio -------------------------------------------------------------------------------------------------
def files_source(paths: list[str], references_path: str | None, task: str, root: str | None = None) -> Source:
    """Your audio files (a zip, a folder's files or loose uploads) with a references file (or one inside the zip):
    the examples are the files the references list, keyed by their path relative to the folder."""
    task = check_task(task)
    if task == TTS:
        raise UserError("Text to speech is evaluated on a list of sentences, not audio files.")
    audio, found_references = _gather(paths, root)
    references_path = references_path or _only(found_references)
    if not references_path:
        raise UserError("No references file: upload a CSV/TSV (`file,text` or `file,label`) or, for diarization, "
                        "an RTTM, or put one in the zip.")
    if not audio:
        raise UserError("No audio files were found (wav, flac, mp3, ogg, opus, m4a…).")
    suffix = Path(references_path).suffix.lower()
    text = references.read_text(references_path)
    if task == DIARIZE:
        if suffix != ".rttm":
            raise UserError("Diarization needs an RTTM references file (`SPEAKER file 1 start duration …`).")
        return _turns_source(references.parse_rttm_by_file(text), audio)
    if suffix == ".rttm":
        raise UserError(f"An RTTM holds speaker turns; {task} needs a CSV/TSV with `file,{TASK_COLUMN[task]}`.")
    return _table_source(references.parse_table(text, TASK_COLUMN[task], suffix), audio)


def _table_source(table: dict[str, str], audio: dict[str, str]) -> Source:
    matched = references.match_files(list(table), list(audio))
    items = {matched[name]: Item(matched[name], audio[matched[name]], value) for name, value in table.items()}
    return Source("your files", sorted(items), items.get)


def _turns_source(by_file: dict[str, list[Turn]], audio: dict[str, str]) -> Source:
    matched = references.match_files(list(by_file), list(audio))
    items = {matched[uri]: Item(matched[uri], audio[matched[uri]], "", tuple(turns)) for uri, turns in by_file.items()}
    return Source("your files", sorted(items), items.get)


def _only(candidates: list[str]) -> str | None:
    if len(candidates) > 1:
        names = ", ".join(Path(path).name for path in candidates[:4])
        raise UserError(f"Several possible references files ({names}): upload the one to use separately.")
    return candidates[0] if candidates else None


def _gather(paths: list[str], root: str | None) -> tuple[dict[str, str], list[str]]:
    """Relative name → path of every audio file, and the candidate references files, among `paths` (zips
    unpacked; `root` is the folder names are relative to, else each file's base name)."""
    audio: dict[str, str] = {}
    found: list[str] = []
    for path in paths:
        if Path(path).suffix.lower() == ".zip":
            folder = unzip(path)
            inner = [str(p) for p in sorted(folder.rglob("*")) if p.is_file()]
            more, more_references = _gather(inner, str(folder))
            audio.update(more)
            found += more_references
            continue
        name = Path(path).relative_to(root).as_posix() if root else Path(path).name
        if Path(path).suffix.lower() in AUDIO_SUFFIXES:
            if name in audio:
                raise UserError(f"Two audio files are called {name}; rename one.")
            audio[name] = path
        elif Path(path).suffix.lower() in REFERENCE_SUFFIXES:
            found.append(path)
    if len(audio) > MAX_EXAMPLES:
        raise UserError(f"{len(audio)} audio files; one evaluation takes at most {MAX_EXAMPLES}.")
    return audio, found


def folder_files(folder: str) -> list[str]:
    """Every file under `folder` (links skipped), for `files_source(..., root=folder)`."""
    base = Path(folder)
    if not base.is_dir():
        raise UserError(f"{folder} is not a folder.")
    return [str(path) for path in sorted(base.rglob("*")) if path.is_file() and not path.is_symlink()]


def unzip(path: str) -> Path:
    """Unpack a zip into a fresh folder of the results area, refusing what could escape or explode it: absolute
    names, `..`, links, more than MAX_MEMBERS files, more than MAX_UNZIPPED_MB megabytes (counted as bytes are
    written, whatever the headers claim)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UserError(f"{Path(path).name} is not a readable zip file.") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise UserError(f"The zip holds {len(members)} files; at most {MAX_MEMBERS}.")
        folder = new_result_path("unzipped")
        folder.mkdir()
        budget = MAX_UNZIPPED_MB * 2**20
        for info in members:
            budget -= _extract(archive, info, folder, budget)
    return folder


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, budget: int) -> int:
    name = PurePosixPath(info.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise UserError(f"The zip entry {info.filename[:100]!r} points outside the folder; refused.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UserError(f"The zip entry {info.filename[:100]!r} is a link; refused.")
    if name.parts[0] in ("__MACOSX",) or name.name.startswith("._"):
        return 0
    target = folder.joinpath(*name.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(2**20):
            written += len(chunk)
            if written > budget:
                sink.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise UserError(f"The zip unpacks to more than {MAX_UNZIPPED_MB} MB; refused.")
            sink.write(chunk)
    os.chmod(target, 0o600)
    return written


# ---- sentences for text to speech -----------------------------------------------------------------------------------
def sentences_source(text: str | None) -> Source:
    """One example per non-empty line of `text` (at most MAX_SENTENCES), keyed `sentence 1`, `sentence 2`…"""
    lines = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise UserError("Type the sentences to speak, one per line.")
    if len(lines) > MAX_SENTENCES:
        raise UserError(f"{len(lines)} sentences; one evaluation takes at most {MAX_SENTENCES}.")
    items = {f"sentence {index + 1}": Item(f"sentence {index + 1}", None, line) for index, line in enumerate(lines)}
    return Source("your sentences", list(items), items.get)
