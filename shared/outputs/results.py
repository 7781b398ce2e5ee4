"""Files the app makes for download (json, srt, rttm, wav...). They live in one app-owned temp folder and are
pruned after `KEEP_S`, so nothing piles up; Gradio copies what a handler returns into its own cache."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from shared import config

KEEP_S = 3600.0
_lock = threading.Lock()


def results_dir() -> Path:
    folder = Path(config.current().results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prune(older_than_s: float = KEEP_S) -> int:
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


def new_result_path(filename: str) -> Path:
    """A fresh path named `filename` (the name the user downloads) in its own sub-folder."""
    prune()
    folder = results_dir() / uuid.uuid4().hex
    folder.mkdir()
    return folder / filename


def write_json(filename: str, payload: Any) -> str:
    path = new_result_path(filename)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=float))
    return str(path)
