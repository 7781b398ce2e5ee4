"""Write a saved model folder into the Hugging Face hub cache layout, so `from_pretrained(repo_id)` finds it
offline (HF_HUB_OFFLINE=1) exactly as it finds a real download."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

REVISION = "main"


def snapshot_dir(hf_home: Path, repo_id: str, repo_type: str = "model") -> Path:
    """The snapshot folder of `repo_id` inside `hf_home/hub` (created, with refs/main pointing at it)."""
    repo_folder = Path(hf_home) / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}"
    commit = hashlib.sha1(f"tiny:{repo_id}".encode()).hexdigest()
    (repo_folder / "refs").mkdir(parents=True, exist_ok=True)
    (repo_folder / "refs" / REVISION).write_text(commit)
    snapshot = repo_folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def install_folder(hf_home: Path, repo_id: str, folder: Path, repo_type: str = "model") -> Path:
    """Copy every file of a `save_pretrained` folder into the cache snapshot of `repo_id`."""
    snapshot = snapshot_dir(hf_home, repo_id, repo_type)
    for source in Path(folder).rglob("*"):
        if source.is_file():
            target = snapshot / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return snapshot
