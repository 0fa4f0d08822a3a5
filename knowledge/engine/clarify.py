"""The two style questions asked when a description is too thin: does the customer lead, is he warm."""
from __future__ import annotations

from typing import Optional

from ..store import KnowledgeBase
from ..text import clean, normalise
from .lookup import mentions
from .reply import Reply

QUESTIONS = ("lead", "warmth", "extra")
OPTIONS = {"lead": ("leads", "holds_back"), "warmth": ("friendly", "cold"), "extra": ()}


def read_answer(kb: KnowledgeBase, slot: str, text: str) -> Optional[str]:
    """A canonical answer ('leads', 'cold', free text for 'extra'), 'skip', 'stop', or None to ask again."""
    norm = normalise(clean(text))
    if not norm:
        return "skip"
    keys = ("stop", "skip", *OPTIONS[slot])
    found = mentions(norm, {k: kb.ui.answers[k].en + kb.ui.answers[k].zh for k in keys})
    best = found[0][1] if found and (len(found) == 1 or found[0][0] > found[1][0]) else None
    if best in ("stop", "skip"):
        return best
    if slot == "extra":
        return clean(text)[:1000]
    return best


def question(kb: KnowledgeBase, slot: str, lang: str) -> Reply:
    reply = Reply().say(kb.text(f"ask_{slot}", lang))
    for option in OPTIONS[slot]:
        title = kb.text(f"answer_{option}", lang)
        reply.buttons.append((title, title))
    skip = kb.text("answer_skip", lang)
    reply.buttons.append((skip, skip))
    return reply
