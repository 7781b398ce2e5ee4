"""Word/character error rates and word-level differences between transcripts."""

from __future__ import annotations

import difflib
import functools
import html
import re
from typing import Any

_PUNCTUATION = re.compile(r"[^\w\s']")


def normalize(text: str) -> str:
    """Lower-case, drop punctuation, squeeze spaces: what WER is usually computed on."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    reference, hypothesis = normalize(reference), normalize(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.wer(reference, hypothesis))


def cer(reference: str, hypothesis: str) -> float:
    import jiwer

    reference, hypothesis = normalize(reference), normalize(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.cer(reference, hypothesis))


def word_diff_html(reference: str, hypothesis: str) -> str:
    """The hypothesis with words that differ from the reference marked: <del> removed, <ins> inserted/changed."""
    ref_words, hyp_words = normalize(reference).split(), normalize(hypothesis).split()
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
