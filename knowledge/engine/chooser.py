"""The one chooser: when the coach is not sure which of two or three readings the user means, it says so and
offers them as buttons instead of guessing. Used for two types too close to call (Identification.close), for a
description that fits several types ("which one is the indecisive type?") and for a message whose reading is
unsure. Every option is a button whose payload the router already answers.

The question is a parameter: the types engineer's `kb.tell_apart(a, b)` will supply the question that separates
two types and its button labels; until then `separating_question` words one from the types' own cues.
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


def separating_question(kb: KnowledgeBase, a: str, b: str, lang: str) -> str:
    """The question that tells type `a` from type `b`: the content's own when it has one (kb.tell_apart, to come),
    else each type's first cue, as the comparison answer quotes them."""
    tell_apart = getattr(kb, "tell_apart", None)
    if callable(tell_apart):
        told = tell_apart(a, b)
        if told is not None:
            return local(told.question, lang)  # type: ignore[union-attr]
    cue_a, cue_b = local(kb.types[a].cues, lang)[0], local(kb.types[b].cues, lang)[0]
    return kb.text("tell_apart_fallback", lang, a_cue=cue_a, b_cue=cue_b)


def two_types(kb: KnowledgeBase, a: str, b: str, lang: str, question: Optional[str] = None, intent: str = "confirm_type") -> Answer:
    """Name both types, ask the question that separates them, one button for each (pressing one coaches on it)."""
    asked = question or separating_question(kb, a, b, lang)
    text = kb.text("choose_types", lang, a=kb.type_name(a, lang), b=kb.type_name(b, lang), question=asked)
    return choose(text, [Option(kb.type_name(t, lang), intent, {"type_id": t}) for t in (a, b)])
