"""Text clean-up shared by every entry point: language, Traditional to Simplified, markup, length."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Optional

MAX_CHARS = 5000
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def detect_lang(text: str, default: str = "en") -> str:
    """'zh' when Chinese characters carry the message, else 'en'; mixed '客户很 picky' is Chinese."""
    letters = sum(1 for ch in text if ch.isalpha())
    if not letters:
        return default
    han = han_count(text)
    return "zh" if han and (han >= 2 or han / letters >= 0.15) and han / letters >= 0.1 else "en"


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional input is understood by converting it; other text passes through unchanged."""
    return _t2s().convert(text) if han_count(text) else text


def clean(text: object, limit: int = MAX_CHARS) -> str:
    """Make any user input safe to analyse: text only, no markup or control characters, bounded length."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = html.unescape(_TAG.sub(" ", text))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return _SPACE.sub(" ", text).strip()[:limit]


def has_words(text: str) -> bool:
    """False for input made only of emoji, punctuation or digits."""
    return any(ch.isalpha() for ch in text)


def normalise(text: str) -> str:
    """The form the engine analyses: cleaned, Simplified, lower-case, full-width punctuation folded."""
    text = to_simplified(clean(text))
    return unicodedata.normalize("NFKC", text).lower()


def word_used(text: str, words: Iterable[str]) -> Optional[str]:
    """The first of `words` the text uses (English as whole words, any case; Chinese anywhere), else None: how a
    trade's words to avoid are found in coaching content (knowledge/loader.py checks, engine/coaching.py filters)."""
    low = text.lower()
    for word in words:
        w = word.lower().strip()
        if w and (re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low) if w.isascii() else w in low):
            return word
    return None
