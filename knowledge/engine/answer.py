"""The bot's answer to one turn: phone-sized bubbles and buttons. (A trainee's reply to the simulated customer is
scored in replies.py; the two are different things and have different names.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

MAX_BUBBLE = 600


@dataclass
class Answer:
    """What the bot says back: bubbles in order, buttons on the last one (`slots` carries a value for the caller)."""

    bubbles: List[str] = field(default_factory=list)
    buttons: List[Tuple[str, str]] = field(default_factory=list)  # (title, payload)
    slots: Dict[str, Any] = field(default_factory=dict)

    def say(self, *texts: Optional[str]) -> Answer:
        for text in texts:
            if text:
                self.bubbles.extend(split_bubble(text))
        return self

    def button(self, title: str, intent: str, **entities: str) -> Answer:
        self.buttons.append((title, payload_of(intent, entities)))
        return self

    def with_slots(self, **slots: Any) -> Answer:
        self.slots.update(slots)
        return self

    @property
    def text(self) -> str:
        return "\n\n".join(self.bubbles)


def payload_of(intent: str, entities: Dict[str, str]) -> str:
    """A button's payload: '/intent' and its entities as JSON, which Rasa reads back as the intent and entities."""
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def split_bubble(text: str, limit: int = MAX_BUBBLE) -> List[str]:
    """Long answers become several bubbles, cut at line ends where possible."""
    out: List[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        out.append(current)
    out = [b.strip() for b in out if b.strip()]
    # a lone last line (one bullet) reads as a stray bubble: move a line over from the bubble before it
    if len(out) >= 2 and "\n" not in out[-1]:
        before = out[-2].split("\n")
        moved = f"{before[-1]}\n{out[-1]}"
        if len(before) >= 3 and len(moved) <= limit:
            out[-2], out[-1] = "\n".join(before[:-1]), moved
    return out
