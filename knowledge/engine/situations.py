"""Mid-sale situations ("what if he walks out?", 「她说要回去考虑考虑」): recognise them in a message and answer
them for the customer's type from situations.yaml, instead of repeating the type's card or avoid list."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from ..schema import LANGS, Situation, local
from ..store import KnowledgeBase
from ..text import normalise
from .answer import Answer

GAP = "..."
PLACEHOLDER = re.compile(r"\{(\w+)\}")  # "{people}": any word of situations.yaml lists.people
# "call ... next week" spans "call him back next week", 带...老婆 spans 带了他老婆; a gap never crosses , . ; ! ?
GAP_WORDS_EN, GAP_CHARS_ZH = 4, 8
_GAP_EN = rf"[^\w,.;:!?]+(?:\w+[^\w,.;:!?]+){{0,{GAP_WORDS_EN}}}?"
_GAP_ZH = f"[^,.;:!?\n]{{0,{GAP_CHARS_ZH}}}?"
# A negator right before a keyword cancels it ("didn't walk out", 不约签约时间); one English word or two
# Chinese characters back, so "said no and walked out" or 「说不要了转身就走」 still count.
_NEGATOR_EN = re.compile(r"(?:\b(?:not|never|no|hardly|barely|dont|didnt|doesnt|wont|hasnt|havent|isnt|wasnt|cant)|n't)\W*$")
_NEGATOR_ZH = re.compile(r"[不没未别无]")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def _compile(keyword: str, lists: Dict[str, Dict[str, str]]) -> Pattern[str]:
    """A keyword as a regex with the matching rule of lookup.mentions (English from a word start, Chinese
    anywhere), plus the "..." gap and "{list}" helpers of situations.yaml."""
    keyword = normalise(keyword).translate(_APOSTROPHES)
    lang = "en" if PLACEHOLDER.sub("", keyword).replace(GAP, "").isascii() else "zh"

    # English words before a gap or a list match from their start too: "ask ... {people}" finds "asked his wife"
    open_end = r"\w*" if lang == "en" else ""

    def part(text: str) -> str:
        pieces = PLACEHOLDER.split(text.strip())  # literal, list name, literal, ...
        out = []
        for n, piece in enumerate(pieces):
            if n % 2:
                out.append(lists[piece][lang] + open_end)
            elif n + 1 < len(pieces) and piece.endswith(" "):
                out.append(re.escape(piece.rstrip()) + open_end + r"\s+")
            else:
                out.append(re.escape(piece))
        return "".join(out)

    body = (open_end + (_GAP_EN if lang == "en" else _GAP_ZH)).join(part(p) for p in keyword.split(GAP))
    return re.compile(rf"\b{body}" if lang == "en" and re.match(r"\w|\{", keyword) else body)


@lru_cache(maxsize=8)
def _patterns(kb: KnowledgeBase) -> Tuple[Tuple[str, Tuple[Pattern[str], ...]], ...]:
    """Every situation's keywords compiled once per loaded knowledge base, in priority order."""
    s = kb.situations
    lists = {
        name: {lang: "(?:" + "|".join(re.escape(normalise(w)) for w in local(words, lang)) + ")" for lang in LANGS}
        for name, words in s.lists.items()
    }
    return tuple((sit.id, tuple(_compile(k, lists) for lang in LANGS for k in local(sit.keywords, lang))) for sit in s.situations)


@lru_cache(maxsize=8)
def _markers(kb: KnowledgeBase) -> Tuple[Tuple[Pattern[str], ...], Tuple[Pattern[str], ...]]:
    s = kb.situations
    habit = tuple(_compile(w, {}) for w in [*s.habit_words.en, *s.habit_words.zh])
    moment = tuple(_compile(w, {}) for w in [*s.moment_words.en, *s.moment_words.zh])
    return habit, moment


def _negated(text: str, start: int, english: bool) -> bool:
    if english:
        return bool(_NEGATOR_EN.search(text[:start]))
    return bool(_NEGATOR_ZH.search(text[max(0, start - 2) : start]))


def _occurs(pattern: Pattern[str], text: str) -> bool:
    """The keyword occurs at least once without a negator right before it."""
    english = pattern.pattern.isascii()
    return any(not _negated(text, m.start(), english) for m in pattern.finditer(text))


def _any(patterns: Sequence[Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def find_situation(kb: KnowledgeBase, text: str) -> Optional[str]:
    """The situation a message reports or asks about ("she said she'll think about it", 「他把老婆带来了」),
    or None. A described habit ("he always goes quiet when we talk numbers") is a description, not a
    situation, unless the message also asks what to do or says what happens now."""
    norm = normalise(text).translate(_APOSTROPHES)
    if not norm:
        return None
    found = [sid for sid, patterns in _patterns(kb) if any(_occurs(p, norm) for p in patterns)]
    if not found:
        return None
    habit, moment = _markers(kb)
    if _any(habit, norm) and not _any(moment, norm):
        return None
    return found[0]  # situations.yaml lists them in priority order


def situation(kb: KnowledgeBase, situation_id: str) -> Situation:
    for item in kb.situations.situations:
        if item.id == situation_id:
            return item
    raise KeyError(f"unknown situation {situation_id!r}")


def situation_name(kb: KnowledgeBase, situation_id: str, lang: str) -> str:
    """The situation's display name, e.g. for a button the caller adds."""
    return local(situation(kb, situation_id).names, lang)


def situation_ids(kb: KnowledgeBase) -> List[str]:
    return [s.id for s in kb.situations.situations]


def situation_reply(kb: KnowledgeBase, type_id: str, situation_id: str, lang: str) -> Answer:
    """What to do in this situation with this type: a heading, the bullets, then a phrase to say. No buttons:
    the caller adds the ones that fit the conversation."""
    advice = kb.situations.by_type[type_id][situation_id]
    heading = kb.text("situation_for", lang, name=kb.type_name(type_id, lang), situation=situation_name(kb, situation_id, lang))
    lines: List[str] = [heading] + [f"• {b}" for b in local(advice.advice, lang)]
    return Answer().say("\n".join(lines), kb.text("try_saying", lang, phrase=local(advice.phrase, lang)))


def general_reply(kb: KnowledgeBase, situation_id: str, lang: str) -> Answer:
    """The situation's general line, for when no customer type is known yet."""
    heading = kb.text("situation_any", lang, situation=situation_name(kb, situation_id, lang))
    return Answer().say(f"{heading}\n{local(situation(kb, situation_id).general, lang)}")
