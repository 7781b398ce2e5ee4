"""Files the app makes for download (json, srt, rttm, wav...). They live in one app-owned temp folder and are
pruned after `KEEP_S`, so nothing piles up; Gradio copies what a handler returns into its own cache. The sweep runs
at most once every `PRUNE_EVERY_S` (from the writes themselves, so no timer thread), not once per file."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from shared import config

KEEP_S = 3600.0  # a result file older than this (s) is deleted
PRUNE_EVERY_S = 60.0  # the folder is swept at most this often (s): a sweep globs the whole tree
_lock = threading.Lock()
_next_prune = 0.0  # time.monotonic() from which the next write sweeps the folder


def results_dir() -> Path:
    folder = Path(config.current().results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prune(older_than_s: float = KEEP_S) -> int:
    """Delete result files older than `older_than_s` s (and their emptied folders); returns how many."""
    cutoff = time.time() - older_than_s
    removed = 0
    with _lock:
        for path in results_dir().glob("*/*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    path.parent.rmdir() if not any(path.parent.iterdir()) else None
                    removed += 1
            except OSError:
                pass
    return removed


def prune_when_due(now: float | None = None) -> bool:
    """Sweep the folder (`prune`) if the last sweep was at least PRUNE_EVERY_S s before `now` (time.monotonic()
    by default); True if this call swept it."""
    global _next_prune
    now = time.monotonic() if now is None else now
    with _lock:
        if now < _next_prune:
            return False
        _next_prune = now + PRUNE_EVERY_S
    prune()
    return True


def new_result_path(filename: str) -> Path:
    """A fresh path named `filename` (the name the user downloads) in its own sub-folder."""
    prune_when_due()
    folder = results_dir() / uuid.uuid4().hex
    folder.mkdir()
    return folder / filename


def write_json(filename: str, payload: Any) -> str:
    path = new_result_path(filename)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=float))
    return str(path)
