"""Find what a message names: a customer type, a stage of the sale, a knowledge topic, a customer's name."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..schema import LANGS, local
from ..store import KnowledgeBase
from ..text import normalise, to_simplified

_STOP_EN = set(
    "a an the is it he she they i my me to of and or what how do does should when why who which in on "
    "for with about tell this that his her their customer customers type types kind can you please".split()
)


def mentions(text: str, phrases: Dict[str, List[str]]) -> List[Tuple[int, str]]:
    """(length of the longest phrase found, key) for every key whose phrase occurs in the text."""
    found = []
    for key, options in phrases.items():
        best = 0
        for p in options:
            p = normalise(p)
            if not p:
                continue
            hit = bool(re.search(rf"\b{re.escape(p)}", text)) if p.isascii() else p in text  # English on word starts
            if hit:
                best = max(best, len(p))
        if best:
            found.append((best, key))
    return sorted(found, reverse=True)


def named_in_order(norm: str, names: Mapping[str, Sequence[str]]) -> List[str]:
    """The keys whose names occur in `norm` (already normalised), in the order they first appear; English names on
    word starts, names shorter than two characters never."""
    found: List[Tuple[int, str]] = []
    for key, options in names.items():
        positions = []
        for name in options:
            name = normalise(name)
            if len(name) < 2:
                continue
            m = re.search(rf"\b{re.escape(name)}", norm) if name.isascii() else None
            pos = m.start() if m else (norm.find(name) if not name.isascii() else -1)
            if pos >= 0:
                positions.append(pos)
        if positions:
            found.append((min(positions), key))
    return [key for _, key in sorted(found)]


def saved_customer_in(rows: Iterable[Dict[str, Any]], norm: str) -> Optional[Dict[str, Any]]:
    """The saved customer whose name `norm` (already normalised) contains; the longest name wins."""
    best = None
    for row in rows:
        name = normalise(row["name"])
        if len(name) >= 2 and (re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", norm) if name.isascii() else name in norm):
            if best is None or len(row["name"]) > len(best["name"]):
                best = row
    return best


def type_names(kb: KnowledgeBase) -> Dict[str, List[str]]:
    """Every way a user names each type, in every language: its names and aliases, its id with and without
    underscores, each part of a name written "A / B", and hyphenated words also without the hyphen."""
    found: Dict[str, List[str]] = {}
    for type_id, t in kb.types.items():
        names = [local(t.names, lang) for lang in LANGS]
        words = [*names, type_id, type_id.replace("_", " "), *(a for lang in LANGS for a in local(t.aliases, lang))]
        words += [p.strip() for n in names if "/" in n for p in n.split("/")]
        words += [w.replace("-", " ") for w in words if "-" in w]
        found[type_id] = list(dict.fromkeys(words))
    return found


def type_in(kb: KnowledgeBase, text: str) -> Optional[str]:
    """A type the user names ("he's more suspicious", "挑剔型"), by its names, ids and aliases."""
    norm = normalise(text)
    hits = mentions(norm, type_names(kb))
    return hits[0][1] if hits else None


def stage_in(kb: KnowledgeBase, text: str) -> Optional[str]:
    norm = normalise(text)
    hits = mentions(norm, {s.id: [s.names.en, s.names.zh, *s.aliases.en, *s.aliases.zh] for s in kb.ui.stages})
    return hits[0][1] if hits else None


def topic_in(kb: KnowledgeBase, text: str) -> Optional[Tuple[str, Optional[str]]]:
    """(topic id, section id or None) that best answers a question, by aliases first, then full-text search."""
    norm = normalise(text)
    hits = mentions(norm, {i: [t.title.en, t.title.zh, *t.aliases.en, *t.aliases.zh] for i, t in kb.topics.items()})
    section_hits = kb.search(_keywords(norm), limit=5, kind="section", any_word=True)
    if hits:
        topic = hits[0][1]
        section = next((h["field"] for h in section_hits if h["ref"] == topic), None)
        return topic, section
    if section_hits:
        return section_hits[0]["ref"], section_hits[0]["field"]
    return None


def _keywords(norm: str) -> str:
    return " ".join(w for w in re.split(r"[\s,.;!?]+", norm) if w and w not in _STOP_EN)


# pronouns and particles that stand before a name, never part of it: 「把她存成孙姐」「叫他王先生」「存为」
_NAME_LEAD = re.compile(
    r"^(?:(?:那就|就|那)?(?:把|给|将)?(?:他|她|它|他们|她们|这位|这个客户|这个)?(?:存为|存成|记为|记成|叫做|叫|为|成|作|做)?\s*)+|^(?:as|him|her|them)\s+",
    re.I,
)
# what ends a sentence, never a name: 「就叫他刘总吧」 is 刘总, "call him Mr Liu instead" is Mr Liu
_NAME_TAIL = re.compile(r"(?<=[\u4e00-\u9fff])[吧呢啊呀了哈嘛]+$|\s+(?:instead|then|please|pls)$", re.I)
_NAME_PATTERNS = [
    re.compile(r"(?:save|remember|store|keep)\s+(?:him|her|them|this (?:customer|client|one)|it)?\s*(?:as|under)\s+(.+)$", re.I),
    re.compile(r"(?:coach me on|about|on|for|with|recall|open|load)\s+(.+?)\s*[?.!]*$", re.I),
    re.compile(r"(?:call|name)\s+(?:him|her|them|this (?:customer|client|one))\s+(.+)$", re.I),
    re.compile(r"(?:存为|保存为|记为|叫做|叫|存成|记成)\s*(.+?)\s*[。!?]*$"),
    re.compile(r"^(.+?)(?:那个客户|这个客户|的情况|怎么应对|怎么办|该怎么)"),
    re.compile(r"^(.{1,12}?)(?:先|也)?(?:存起来|存一下|存下来|保存一下|保存起来|记下来)"),
]


def without_name_tail(name: str) -> str:
    """The name without the sentence's closing particle or word (「刘总吧」 -> 刘总)."""
    return _NAME_TAIL.sub("", name.strip(" .!?。！？")).strip()


def customer_name_in(text: str) -> Optional[str]:
    """The name in "save him as Mr Zhang" or "coach me on Mr Zhang" / "把他存为张总" / 「把他存為陳先生」.

    Patterns are matched on the Simplified form; the name is cut from the text as the user wrote it."""
    original = text.strip()
    simple = to_simplified(original)
    source = original if len(simple) == len(original) else simple
    for pattern in _NAME_PATTERNS:
        m = pattern.search(simple)
        if m:
            name = source[m.start(1) : m.end(1)]
            name = re.sub(r"[\"'“”「」]", "", name).strip(" .!?。！？")  # noqa: B005 - characters to trim
            name = _NAME_LEAD.sub("", name).strip()  # 「叫他王先生」 is 王先生, "as Mr Li" is Mr Li
            name = without_name_tail(name)
            if 0 < len(name) <= 60:
                return name
    return None
