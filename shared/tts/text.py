"""The text side of text to speech, before any model: clean it (NFC, emoji and control characters out), refuse
text with nothing to speak or over the length limit, and split it at sentence boundaries into chunks a model can
read in one generation. Pure string work, no model and no Gradio."""

from __future__ import annotations

import re
import unicodedata

from shared.errors import UserError

MAX_CHARS = 2000  # about two and a half minutes of speech
SPEAKING_RATE_CPS = 14.0  # characters per second of ordinary English speech, for estimates only
_DROPPED_CATEGORIES = {"So", "Sk", "Me", "Cs", "Co", "Cn", "Cf", "Cc"}  # emoji & symbols, unassigned, format, control
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners spell words in Indic and Arabic scripts
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")  # the emoji 1️⃣ holds a real digit
_STRAY_JOINER = re.compile(r"(?<!\w)\u200d|\u200d(?!\w)")
_ENDS = ".!?…।॥؟"
_BOUNDARY = re.compile(rf"\s*\n\s*|(?<=[{_ENDS}][\"'”’»)\]])\s+|(?<=[{_ENDS}])\s+|(?<=[。！？])\s*")
_CLAUSE = re.compile(r"(?<=[,;:，；、])\s*")


def clean_text(text: str) -> str:
    """NFC, emoji / symbols / control characters dropped, spaces squeezed; line breaks kept (sentence breaks)."""
    kept = []
    for char in _VARIATION_SELECTORS.sub("", _KEYCAP.sub("", unicodedata.normalize("NFC", text))):
        if char.isspace():
            kept.append("\n" if char in "\n\r\u2028\u2029\x0b\x0c" else " ")
        elif char in _KEPT_FORMAT or unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    cleaned = _STRAY_JOINER.sub("", "".join(kept))
    cleaned = re.sub(r" +", " ", cleaned)
    return re.sub(r" *\n[\n ]*", "\n", cleaned).strip()


def validate_text(text: str | None, max_chars: int = MAX_CHARS) -> str:
    """The cleaned text, or a UserError that says what is wrong with it (`max_chars`: characters of the raw text)."""
    if text is None or not str(text).strip():
        raise UserError("Type some text to speak: the text box is empty.")
    text = str(text)
    if len(text) > max_chars:
        raise UserError(f"The text is {len(text)} characters long; the limit here is {max_chars} (about "
                        f"{max_chars / SPEAKING_RATE_CPS / 60:.1f} minutes of speech). Shorten it or split it up.")
    cleaned = clean_text(text)
    if not any(char.isalnum() for char in cleaned):
        raise UserError("The text has nothing to speak: no letters or digits, only emoji, symbols or punctuation.")
    return cleaned


def split_sentences(text: str) -> list[str]:
    """Sentences (and lines): after . ! ? … । ॥ ؟ followed by a space, after 。！？, at line breaks."""
    return [part.strip() for part in _BOUNDARY.split(text) if part and part.strip()]


def _pack(pieces: list[str], max_chars: int, joiner: str = " ") -> list[str]:
    packed: list[str] = []
    for piece in pieces:
        if packed and len(packed[-1]) + len(joiner) + len(piece) <= max_chars:
            packed[-1] = packed[-1] + joiner + piece
        else:
            packed.append(piece)
    return packed


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than max_chars: at clause punctuation, then between words, then (one huge word) anywhere."""
    if len(sentence) <= max_chars:
        return [sentence]
    parts = []
    for clause in _pack([c for c in _CLAUSE.split(sentence) if c.strip()], max_chars):
        if len(clause) <= max_chars:
            parts.append(clause)
            continue
        words = []
        for word in clause.split():
            words.extend(word[i:i + max_chars] for i in range(0, len(word), max_chars))
        parts.extend(_pack(words, max_chars))
    return parts


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Whole sentences packed into chunks of at most max_chars (a longer sentence is split at commas/words)."""
    pieces = [piece for sentence in split_sentences(text) for piece in _split_long(sentence, max_chars)]
    return _pack(pieces, max_chars)
