"""Split a description into clauses and read negation and contrast, for both languages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

_BOUNDARY = re.compile(r"[,.;!?，。；！？、\n]+|\s+-\s+")
_CONTRAST = re.compile(
    r"^\s*(but|however|yet|though|although|still|except|just|only|rather|instead|" r"但是|但|可是|不过|就是|只是|却|而是|反而|倒是)",
    re.IGNORECASE,
)
_CONTRAST_INSIDE = re.compile(r"\s(but|however|yet)\s|(但是|可是|不过|就是|只是|而是|反而)", re.IGNORECASE)
_NEGATION_EN = re.compile(r"\b(not|never|no|nor|hardly|barely|without|isn't|wasn't|doesn't|don't|didn't|won't|aren't|n't)\b", re.IGNORECASE)
# "要不" (how about), "不错" (good), "不如" (better), "不妨" (might as well) are not negations
_NEGATION_ZH = re.compile(r"(一点也不|一点都不|并不|并没|倒不|也不是|不是|从不|从没|没有|没|(?<!要)不(?!错|如|妨|好意思)|别|未|毫无|无)")
# how far a negator reaches forward, in characters: a few words in English, a few characters in Chinese
NEGATION_REACH = {"en": 20, "zh": 5}


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    end: int
    contrast: bool  # opens with "but", "就是", ...: the speaker's real point usually follows


def split(text: str) -> List[Clause]:
    """Clauses with their offsets; a contrast word inside a clause starts a new one."""
    pieces: List[Clause] = []
    cuts = [0]
    for m in _BOUNDARY.finditer(text):
        cuts += [m.start(), m.end()]
    for m in _CONTRAST_INSIDE.finditer(text):
        cuts += [m.start() + (1 if m.group(1) else 0)] * 2
    cuts.append(len(text))
    cuts = sorted(set(cuts))
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = text[a:b]
        if not piece.strip() or _BOUNDARY.fullmatch(piece):
            continue
        lead = len(piece) - len(piece.lstrip())
        start, end = a + lead, a + len(piece.rstrip())
        pieces.append(Clause(text[start:end], start, end, bool(_CONTRAST.match(text[start:end]))))
    return pieces


def negated_at(text: str, start: int) -> bool:
    """True when a negator stands shortly before position `start` within the same clause."""

    def window(reach: int) -> str:
        return _BOUNDARY.split(text[max(0, start - reach) : start])[-1]

    return bool(_NEGATION_EN.search(window(NEGATION_REACH["en"])) or _NEGATION_ZH.search(window(NEGATION_REACH["zh"])))


def emphasised(text: str) -> str:
    """The text with its after-contrast clauses repeated: in 'not pushy, but doubts every figure' the second half counts."""
    parts = split(text)
    if not any(c.contrast for c in parts[1:]):
        return text
    return text + " . " + " . ".join(c.text for c in parts[1:] if c.contrast)
