"""The last touch on every answer: the customer's pronoun, the user's script, Chinese punctuation, short quotes.

Knowledge is written once (English mostly with "they" or "he", Chinese with 他, Simplified); each answer is
fitted to the conversation here, so no template or content file has to exist in several variants.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional, Sequence

from ..text import clean, han_count, normalise, to_simplified
from .answer import Answer

# The typography of each language of knowledge/schema.py LANGS, one table per rule (tests/test_languages.py finds
# every table keyed by language, so a new language's missing entries are listed).
QUOTE_CHARS = {"en": 70, "zh": 30}  # a quoted piece of the user's message fits one phone line
LIST_SEPARATOR = {"en": ", ", "zh": "、"}  # between the items of an inline list
CLAUSE_SEPARATOR = {"en": "; ", "zh": "；"}  # between reasons or readings listed in one sentence
SENTENCE_GLUE = {"en": " ", "zh": ""}  # between sentences put together in one line
FULL_STOP = {"en": ".", "zh": "。"}
QUOTED = {"en": '"{}"', "zh": "“{}”"}  # a phrase quoted in running text
SPACED = {"en": True, "zh": False}  # words are separated by spaces (a cut falls between words, a sentence ends before one)

_EN_HE = re.compile(r"\b(he|him|his|himself)\b", re.I)
_EN_SHE = re.compile(r"\b(she|her|hers|herself)\b", re.I)
_HE_TO_SHE = {"he": "she", "him": "her", "his": "her", "himself": "herself"}
_SHE_TO_HE = {"she": "he", "hers": "his", "herself": "himself"}
# "her" is "him" before a pause or a preposition-like word, else "his" ("her car" -> "his car")
_HER_AS_OBJECT = re.compile(
    r"^(?:\s*[,.;:!?)\"]|\s*$|\s+(?:a|an|the|to|that|this|in|on|at|for|with|about|and|or|"
    r"but|if|when|so|know|feel|what|how|why|time|space|again|back|up|down|out|off|over)\b)",
    re.I,
)
_ZH_HE = re.compile(r"(?<!其)他(?!们|人)")
_ZH_SHE = re.compile(r"(?<!其)她(?!们)")
_ASCII_QUOTED_HAN = re.compile(r'"([^"\n]*[\u4e00-\u9fff][^"\n]*)"')
_ZH_PUNCT = {",": "，", "!": "！", "?": "？", ":": "：", ";": "；", "(": "（", ")": "）"}
_HALF_PUNCT_NEAR_HAN = re.compile(r"(?<=[\u4e00-\u9fff」）])([,!?:;])|([,!?:;(])(?=[\u4e00-\u9fff「])|(?<=[\u4e00-\u9fff])\((?=[^()]*\))")


def pronoun_in(text: str, she_words: Sequence[str], he_words: Sequence[str]) -> Optional[str]:
    """The customer's gender as the salesperson speaks of them ('she', 'the lady', 「大妈」), when the message says."""
    norm = normalise(text)

    def count(words: Sequence[str]) -> int:
        n = 0
        for w in words:
            w = w.lower()
            if w.isascii():
                n += len(re.findall(rf"\b{re.escape(w)}\b", norm))
            else:
                n += len(re.findall(rf"(?<!其){re.escape(w)}(?!们|人)", norm))
        return n

    she, he = count(she_words), count(he_words)
    if she > he:
        return "she"
    if he > she:
        return "he"
    return None


def _case(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


def fit_pronoun(text: str, pronoun: str, lang: str) -> str:
    """Content speaks of 'he' or 'she' as the salesperson does; 'they' leaves it as written."""
    if lang == "zh":
        if pronoun == "she":
            return _ZH_HE.sub("她", text)
        if pronoun == "he":
            return _ZH_SHE.sub("他", text)
        return text
    if pronoun == "she":
        return _EN_HE.sub(lambda m: _case(_HE_TO_SHE[m.group(1).lower()], m.group(1)), text)
    if pronoun == "he":

        def swap(m: re.Match[str]) -> str:
            word = m.group(1).lower()
            if word == "her":
                rest = text[m.end() :]
                return _case("him" if _HER_AS_OBJECT.match(rest) else "his", m.group(1))
            return _case(_SHE_TO_HE[word], m.group(1))

        return _EN_SHE.sub(swap, text)
    return text


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2tw")  # Taiwan characters (为 -> 為); not s2twp, which rewrites words and so the user's own quotes


def to_traditional(text: str, terms: Sequence[str] = ()) -> str:
    """Simplified to Taiwan Traditional, each of `terms` (the content's own names, e.g. 表面热心型) converted on its
    own: OpenCC segments the whole text, so 「对表面热心型」 became 「對錶面熱心型」 (对表, to set a watch)."""
    if not terms:
        return _s2t().convert(text)
    pattern = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True) if t)
    return "".join(_s2t().convert(piece) for piece in re.split(f"({pattern})", text) if piece)


def script_of(text: str, fallback: str) -> str:
    """'hant' when the message is written in Traditional characters, 'hans' for Simplified, else the fallback."""
    if han_count(text) < 2:
        return fallback
    return "hant" if to_simplified(text) != text else ("hans" if _s2t().convert(text) != text else fallback)


def full_width(text: str) -> str:
    """Half-width punctuation next to Chinese characters becomes full-width (「依据:」 -> 「依据：」)."""

    def one(m: re.Match[str]) -> str:
        mark = m.group(0)
        return _ZH_PUNCT.get(mark, mark)

    text = _HALF_PUNCT_NEAR_HAN.sub(one, text)
    text = re.sub(r"（([^()（）]*)\)", r"（\1）", text)
    text = _ASCII_QUOTED_HAN.sub(r"“\1”", text)
    return re.sub(r"([，。：；！？、）」”])[ \t]+(?=\S)", r"\1", text)


def short_quote(text: str, lang: str) -> str:
    """A piece of the user's message short enough to quote: cut at a word boundary, with an ellipsis."""
    text = clean(text)
    limit = QUOTE_CHARS["zh" if han_count(text) else "en"] if lang else QUOTE_CHARS["en"]
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not han_count(cut):
        cut = cut.rsplit(" ", 1)[0] or cut
    return cut.rstrip(" ,.;，。；") + "…"


def finish(reply: Answer, lang: str, script: str, pronoun: str, terms: Sequence[str] = ()) -> Answer:
    """Fit every bubble and button title to the conversation: pronoun, punctuation, script (`terms`: names kept
    whole in the conversion, see to_traditional). A plain-text payload is what the channel sends back as the user's
    message, so it is fitted as its title is (a Traditional user pressing 被動 must not switch the conversation to
    Simplified); '/intent{...}' payloads carry ids."""

    def fit(text: str) -> str:
        text = fit_pronoun(text, pronoun, lang)
        if lang == "zh":
            text = full_width(text)
            if script == "hant":
                text = to_traditional(text, terms)
        return text

    reply.bubbles = [fit(b) for b in reply.bubbles]
    reply.buttons = [(fit(title), payload if payload.startswith("/") else fit(payload)) for title, payload in reply.buttons]
    return reply
