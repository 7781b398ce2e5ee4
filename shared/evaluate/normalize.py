"""Text normalisers for word and character error rates: Whisper's English normaliser (the one the Open ASR
Leaderboard uses: spelling unified to American English, numbers written as digits, contractions expanded, fillers
dropped) and Whisper's basic normaliser for other languages (lower case, no punctuation or diacritic marks)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources

from shared.errors import UserError

NORMALIZERS = ("english", "basic", "none")
SPELLING_PACKAGE = "whisper_normalizer"  # ships Whisper's normalizers/english.json (British → American spellings)


@functools.cache
def english_spelling() -> dict[str, str]:
    """Whisper's British → American spelling table, read from the `whisper-normalizer` pip package (offline)."""
    try:
        table = resources.files(SPELLING_PACKAGE).joinpath("normalizers", "english.json")
        return json.loads(table.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise UserError("The English normaliser needs the pip package whisper-normalizer; install the "
                        "requirements.") from exc


@functools.cache
def normalizer(name: str) -> Callable[[str], str]:
    """The normaliser called `name` ("english", "basic" or "none"): text in, the text words are counted on out."""
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer, EnglishTextNormalizer

    if name == "english":
        return EnglishTextNormalizer(english_spelling())
    if name == "basic":
        return BasicTextNormalizer()
    if name == "none":
        return lambda text: " ".join(text.split())
    raise UserError(f"Unknown normaliser {name!r}: choose one of {', '.join(NORMALIZERS)}.")
