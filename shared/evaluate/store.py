"""Where an evaluation's results go, one record (a JSON object) per example as soon as it is scored: in memory for
the app, or in JSON-lines files in an output folder for the command line (`records-<process>.jsonl`, one file per
process, appended and flushed line by line). A restart reads every file and skips the (model, example) pairs
already there; a line cut short by a killed process is ignored (that example simply runs again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLE, MODEL = "example", "model"  # record kinds: one example scored, one model's load and memory
PLAN_NAME = "plan.json"  # what the folder evaluates: a resume must ask for the same


def key_of(record: dict[str, Any]) -> tuple[str, str]:
    """(model, example key) of an example record."""
    return record["model"], record["key"]


def done_in(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (model, example key) pairs the records have scored."""
    return {key_of(record) for record in records if record["kind"] == EXAMPLE}


class MemoryStore:
    """Records kept in a list (the app: one evaluation per request)."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.kept.append(record)

    def records(self) -> list[dict[str, Any]]:
        return list(self.kept)

    def written(self) -> list[dict[str, Any]]:
        """The records written through this store (in a folder: by this process since it started)."""
        return list(self.kept)

    def done(self) -> set[tuple[str, str]]:
        return done_in(self.records())


class FolderStore(MemoryStore):
    """Records in `folder/records-<rank>.jsonl`: this process appends to its own file and reads them all."""

    def __init__(self, folder: str | Path, rank: int = 0) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"records-{rank}.jsonl"
        if self.path.is_file() and not self.path.read_bytes().endswith(b"\n"):
            with open(self.path, "a", encoding="utf-8") as handle:  # a killed write: end its half line
                handle.write("\n")

    def check_plan(self, plan: dict[str, Any]) -> str | None:
        """Write the evaluation's description, or check that the folder holds this same evaluation (a resume);
        what is wrong when it holds another one, else None."""
        path = self.folder / PLAN_NAME
        if path.is_file():
            kept = json.loads(path.read_text())
            if kept != plan:
                changed = sorted(name for name in set(kept) | set(plan) if kept.get(name) != plan.get(name))
                return (f"{self.folder} holds another evaluation (it differs in: {', '.join(changed)}); "
                        "use a new output folder.")
        else:
            path.write_text(json.dumps(plan, indent=2))
        return None

    def write(self, record: dict[str, Any]) -> None:
        super().write(record)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, default=float) + "\n")
            handle.flush()

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("records-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the last line of a killed process
        return found
