"""What one conversation remembers between turns, and what one user turn brings.

Rasa keeps the whole ConversationState in one slot (MEMORY_SLOT), so the engine owns its shape; the
practice session and saved customers live in the user-data store instead, keyed by sender.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional

from ..schema import LANGS  # reply languages; Chinese is answered in the script the user wrote (SCRIPTS)

MEMORY_SLOT = "coach_memory"
SCRIPTS = ("hans", "hant")
PRONOUNS = ("he", "she", "they")
ENTITIES = ("type_id", "stage", "name", "new_name", "trade", "item", "confirm")


@dataclass
class ConversationState:
    """The remembered customer, the reply language, and what the bot is waiting for."""

    user: str = "anonymous"
    lang: str = "en"
    script: str = "hans"
    trade: Optional[str] = None
    trade_asked: bool = False
    customer_type: Optional[str] = None
    customer_notes: str = ""
    customer_name: Optional[str] = None  # the saved customer being discussed
    pronoun: str = "they"
    evidence: Dict[str, Any] = field(default_factory=dict)  # {"ranked": [...], "spans": [...]}
    phrase_index: int = 0
    pending_question: Optional[str] = None  # a clarifying question awaiting its answer: "lead" | "warmth"
    answers: Dict[str, str] = field(default_factory=dict)  # clarifying answers so far
    proposed_type: Optional[str] = None  # a correction read from a description, awaiting confirmation
    corrected_from: Optional[str] = None
    topic: Optional[str] = None  # the knowledge topic last listed, for "more" and "the third one"
    topic_shown: List[int] = field(default_factory=list)
    quiz_type: Optional[str] = None
    delete_pending: Optional[str] = None  # a saved customer's name awaiting "yes, delete"

    @classmethod
    def from_memory(cls, user: str, memory: Any) -> ConversationState:
        known = {f.name for f in fields(cls)} - {"user"}
        values = {k: v for k, v in (memory or {}).items() if k in known} if isinstance(memory, dict) else {}
        state = cls(user=user, **values)
        if state.lang not in LANGS:
            state.lang = "en"
        return state

    def memory(self) -> Dict[str, Any]:
        data = asdict(self)
        data.pop("user")
        return data

    def forget_customer(self) -> None:
        """A fresh start: nothing about the previous customer carries over."""
        self.customer_type, self.customer_notes, self.customer_name = None, "", None
        self.evidence, self.phrase_index, self.pronoun = {}, 0, "they"
        self.pending_question, self.answers, self.proposed_type, self.corrected_from = None, {}, None, None


@dataclass
class UserTurn:
    """One message as NLU read it: a typed text or a button payload ('/intent{...}')."""

    text: str
    intent: str = ""
    confidence: float = 1.0
    entities: Dict[str, str] = field(default_factory=dict)

    @property
    def is_button(self) -> bool:
        return self.text.startswith("/")

    def entity(self, name: str) -> Optional[str]:
        value = self.entities.get(name)
        return value if isinstance(value, str) and value else None
