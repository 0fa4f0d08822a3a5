"""The one chooser: when the coach is not sure which of two or three readings the user means, it says so and
offers them as buttons instead of guessing. Used for two types too close to call (Identification.close), for a
description that fits several types ("which one is the indecisive type?") and for a message whose reading is
unsure. Every option is a button whose payload the router already answers.

For two types the question and the button labels come from the content (`kb.tell_apart(a, b)`: the question that
separates them and each side's sign, the behaviour the salesperson can check); other choices pass their own question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

from ..schema import local
from ..store import KnowledgeBase
from .answer import Answer, payload_of

MAX_OPTIONS = 3  # a phone-sized row of buttons


@dataclass(frozen=True)
class Option:
    """One reading offered: its button title and the payload ('/intent{entities}') pressing it sends."""

    title: str
    intent: str
    entities: Dict[str, str] = field(default_factory=dict)

    @property
    def payload(self) -> str:
        """The payload pressing it sends, as Answer.button builds one (tests/test_routing.py checks every option
        the router offers names a route)."""
        return payload_of(self.intent, self.entities)


def choose(question: str, options: Sequence[Option], reply: Optional[Answer] = None) -> Answer:
    """`question` as a bubble (under `reply`'s bubbles), the options (at most MAX_OPTIONS) as its buttons."""
    if len(options) < 2:
        raise ValueError("a choice needs at least two options")
    reply = (reply or Answer()).say(question)
    for option in options[:MAX_OPTIONS]:
        reply.buttons.append((option.title, option.payload))
    return reply


def two_types(kb: KnowledgeBase, a: str, b: str, lang: str, question: Optional[str] = None, intent: str = "confirm_type") -> Answer:
    """Name both types and ask the question that separates them (kb.tell_apart); each button is one side's sign,
    the behaviour the salesperson saw, and pressing it coaches on that type."""
    told = kb.tell_apart(a, b)
    asked = question or local(told.question, lang)
    text = kb.text("choose_types", lang, a=kb.type_name(a, lang), b=kb.type_name(b, lang), question=asked)
    signs = ((a, local(told.sign_a, lang)), (b, local(told.sign_b, lang)))
    return choose(text, [Option(sign, intent, {"type_id": t}) for t, sign in signs])
