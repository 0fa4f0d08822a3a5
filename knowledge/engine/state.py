"""What one conversation remembers between turns, and what one user turn brings.

Rasa keeps the whole ConversationState in one slot (MEMORY_SLOT), so the engine owns its shape; the
practice session and saved customers live in the user-data store instead, keyed by sender.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Collection, Dict, List, Optional

from ..schema import LANGS  # reply languages; Chinese is answered in the script the user wrote (SCRIPTS)

MEMORY_SLOT = "coach_memory"
SCRIPTS = ("hans", "hant")
PRONOUNS = ("he", "she", "they")
ENTITIES = ("type_id", "stage", "name", "new_name", "trade", "item", "confirm", "level", "assignment", "due", "switch")


@dataclass
class ConversationState:
    """The remembered customer, the reply language, and what the bot is waiting for."""

    user: str = "anonymous"
    lang: str = "en"
    script: str = "hans"
    trade: Optional[str] = None
    trade_asked: bool = False
    trade_named: str = ""  # the words of a trade the coach has no examples for ("phone plans"): examples stay general
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
    last_reply: str = ""  # a digest of the last answer, so the same bubbles are never sent twice in a row
    earlier_reply: str = ""  # the digest of the answer before it (a button pressed in between hides no repeat)
    last_asked: str = ""  # the last typed message, normalised: the same question asked again, not another one
    last_said: str = ""  # the last typed message as written: re-read as another customer on "that's a different person"
    maybe_new: str = ""  # a description that may be of another customer, awaiting "new customer" / "same customer"

    @classmethod
    def from_memory(cls, user: str, memory: Any) -> ConversationState:
        """The slot's value as state; a value of the wrong shape (an older version's memory carried over to a new
        session, a hand-edited tracker) is dropped for its default rather than crash every later turn."""
        defaults = cls(user=user)
        values = {}
        for f in fields(cls):
            value = memory.get(f.name) if isinstance(memory, dict) and f.name != "user" else None
            default = getattr(defaults, f.name)
            if value is None or not (isinstance(value, str) if default is None else type(value) is type(default)):
                continue
            if isinstance(value, list) and not all(type(x) is int for x in value):  # topic_shown: point numbers
                continue
            values[f.name] = value
        state = cls(user=user, **values)
        state.lang = state.lang if state.lang in LANGS else "en"
        state.script = state.script if state.script in SCRIPTS else "hans"
        state.pronoun = state.pronoun if state.pronoun in PRONOUNS else "they"
        return state

    def drop_unknown(
        self, type_ids: Collection[str], topic_ids: Collection[str], trades: Collection[str], questions: Collection[str]
    ) -> None:
        """Forget what the content no longer has (a type, topic or trade renamed since the memory was kept)."""
        if self.customer_type is not None and self.customer_type not in type_ids:
            self.forget_customer()
        self.proposed_type, self.corrected_from, self.quiz_type = (
            t if t in type_ids else None for t in (self.proposed_type, self.corrected_from, self.quiz_type)
        )
        if self.topic is not None and self.topic not in topic_ids:
            self.topic, self.topic_shown = None, []
        self.trade = self.trade if self.trade in trades else None
        if self.pending_question is not None and self.pending_question not in questions:
            self.pending_question, self.answers = None, {}

    def memory(self) -> Dict[str, Any]:
        data = asdict(self)
        data.pop("user")
        return data

    def forget_customer(self) -> None:
        """A fresh start: nothing about the previous customer carries over."""
        self.customer_type, self.customer_notes, self.customer_name = None, "", None
        self.evidence, self.phrase_index, self.pronoun = {}, 0, "they"
        self.pending_question, self.answers, self.proposed_type, self.corrected_from = None, {}, None, None
        self.maybe_new = ""


@dataclass
class UserTurn:
    """One message as NLU read it: a typed text or a button payload ('/intent{...}')."""

    text: str
    intent: str = ""
    confidence: float = 1.0
    entities: Dict[str, str] = field(default_factory=dict)
    channel_lang: Optional[str] = None  # the language the channel is set to (the web chat's toggle), if it says

    @property
    def is_button(self) -> bool:
        return self.text.startswith("/")

    def entity(self, name: str) -> Optional[str]:
        value = self.entities.get(name)
        return value if isinstance(value, str) and value else None
