"""Word/character error rates and word-level differences between transcripts, counted on normalised text: Whisper's
English normaliser for English (the one the Open ASR Leaderboard uses: spelling unified to American English,
numbers written as digits, contractions expanded, fillers dropped) and Whisper's basic normaliser for other
languages (lower case, no punctuation or symbols). Every WER the app shows — the Transcribe tab's comparison, the
TTS round trip, Evaluate — is computed here, so one clip and one reference give one number everywhere."""

from __future__ import annotations

import difflib
import functools
import html
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from shared.errors import UserError

AUTO = "auto"  # Whisper's English normaliser for English, its basic one otherwise
NORMALIZERS = (AUTO, "english", "basic", "none")
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
        return lambda text: text
    raise UserError(f"Unknown normaliser {name!r}: choose one of {', '.join(NORMALIZERS)}.")


def normaliser_for(reference: str, language: str | None = None) -> str:
    """The normaliser "auto" stands for: "english" when the language is English ("en", "en-US", "english"), or —
    the language not known — when every letter of the reference is an English (ASCII) letter; "basic" otherwise."""
    if language and language.strip():
        return "english" if language.strip().lower().replace("_", "-").split("-")[0] in ("en", "english") else "basic"
    return "english" if all(char.isascii() for char in reference if char.isalpha()) else "basic"


def normalized_pair(reference: str, hypothesis: str, normaliser: str = AUTO,
                    language: str | None = None) -> tuple[str, str]:
    """Reference and hypothesis normalised alike (`normaliser`; "auto" decides from `language` and the reference),
    spaces squeezed."""
    clean = normalizer(normaliser_for(reference, language) if normaliser == AUTO else normaliser)
    return " ".join(clean(reference).split()), " ".join(clean(hypothesis).split())


def normalize(text: str, normaliser: str = AUTO, language: str | None = None) -> str:
    """`text` as words are counted on it (empty when it holds no words)."""
    return normalized_pair(text, "", normaliser, language)[0]


def wer(reference: str, hypothesis: str, normaliser: str = AUTO, language: str | None = None) -> float:
    """Word error rate of `hypothesis` against `reference`, both normalised alike (see `normalized_pair`)."""
    import jiwer

    reference, hypothesis = normalized_pair(reference, hypothesis, normaliser, language)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.wer(reference, hypothesis))


def cer(reference: str, hypothesis: str, normaliser: str = AUTO, language: str | None = None) -> float:
    """Character error rate of `hypothesis` against `reference`, both normalised alike."""
    import jiwer

    reference, hypothesis = normalized_pair(reference, hypothesis, normaliser, language)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.cer(reference, hypothesis))


def word_diff_html(reference: str, hypothesis: str, normaliser: str = AUTO, language: str | None = None) -> str:
    """The hypothesis with words that differ from the reference marked: <del> removed, <ins> inserted/changed
    (on the normalised words, the ones WER counts)."""
    ref_text, hyp_text = normalized_pair(reference, hypothesis, normaliser, language)
    ref_words, hyp_words = ref_text.split(), hyp_text.split()
    parts = []
    matcher = difflib.SequenceMatcher(a=ref_words, b=hyp_words, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            parts.append(html.escape(" ".join(hyp_words[b0:b1])))
            continue
        if a1 > a0:
            parts.append(f"<del>{html.escape(' '.join(ref_words[a0:a1]))}</del>")
        if b1 > b0:
            parts.append(f"<ins>{html.escape(' '.join(hyp_words[b0:b1]))}</ins>")
    return " ".join(parts)


@functools.cache
def uroman_romanizer() -> Any:
    """uroman's romaniser (any script to Latin letters), built once per process: reading its tables takes seconds
    (and transformers' VitsTokenizer would build a new one for every call)."""
    import uroman

    return uroman.Uroman()
