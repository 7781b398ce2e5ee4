"""Tiny randomly initialised stand-ins for every hub model in the registry, written into a Hugging Face cache
layout under their real repo ids, so the app's real loading code runs offline:

    python -m tests.tiny_models --out DIR
    HF_HOME=DIR HF_HUB_OFFLINE=1 python app.py

Each family builder saves a model with locally built tokenizers / processors (no download) and returns
{repo_id: folder}; `build_all` installs those folders into DIR/hub.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from shared.registry import ModelSpec, hub_models
from tests.tiny_models.hf_cache import install_folder

Builder = Callable[[ModelSpec, Path], dict[str, Path]]


def builders() -> dict[str, Builder]:
    from tests.tiny_models import pyannote_models, transformers_models

    return {**transformers_models.BUILDERS, **pyannote_models.BUILDERS}


def build_all(hf_home: Path, specs: Iterable[ModelSpec] | None = None, verbose: bool = False) -> list[str]:
    """Build every (or the given) hub model into `hf_home`; returns the repo ids written."""
    hf_home = Path(hf_home)
    table = builders()
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tiny-models-") as work:
        for spec in specs if specs is not None else hub_models():
            if spec.family not in table:
                raise KeyError(f"no tiny-model builder for family {spec.family!r} ({spec.id})")
            start = time.perf_counter()
            folders = table[spec.family](spec, Path(work) / spec.id.replace("/", "--"))
            for repo_id, folder in folders.items():
                install_folder(hf_home, repo_id, folder)
                written.append(repo_id)
            if verbose:
                print(f"{spec.id:50s} {time.perf_counter() - start:6.2f}s")
    return written
