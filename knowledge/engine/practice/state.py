"""A practice session's state: typed, stored as JSON in the user-data store (practice_sessions.state).

The stored form keeps the keys sessions were stored with before the state was typed, so a session stored
by an older build is read back unchanged (`from_dict`), and the progress page (bot/channels/progress.py)
keeps reading `turns[].text` and `turns[].score`. A line the customer said is a `LineRef`: which pool of
validated content (the type's role, the scene, the shared reactions), which field, which line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Literal, Optional, cast

STATE_VERSION = 2  # 1 (no "version" key): the untyped dict of issue 11; 2: this dataclass

Source = Literal["type", "scene", "shared"]
_PREFIX = {"type": "t", "scene": "s", "shared": "a"}
_SOURCE: Dict[str, str] = {v: k for k, v in _PREFIX.items()}


@dataclass(frozen=True)
class Pool:
    """A list of customer lines in validated content: a type's role field (openings, or reactions with a key),
    a scene's field (openings, needs, prompts, ready, or an objection kind as key), or a shared reaction."""

    source: Source
    owner: str = ""  # the type id or the scene id; empty for shared reactions
    field: str = ""  # "openings", "reactions", "needs", "objections", ...; for shared reactions the reaction key
    key: str = ""  # a reaction key or an objection kind

    def ref(self, index: int) -> LineRef:
        return LineRef(self, index)

    @property
    def id(self) -> str:
        """The pool's stored id (also the stored form of its lines without the index)."""
        if self.source == "shared":
            return f"a:{self.field}"
        if self.source == "type":
            return f"t:{self.owner}:{self.field}" + (f":{self.key}" if self.key else "")
        return f"s:{self.owner}:{self.field}" + (f".{self.key}" if self.key else "")


@dataclass(frozen=True)
class LineRef:
    """One line of a pool; stored as "<pool id>:<index>" so a language switch mid-session re-reads the line."""

    pool: Pool
    index: int

    @property
    def id(self) -> str:
        return f"{self.pool.id}:{self.index}"

    @staticmethod
    def parse(stored: str) -> LineRef:
        """The stored id back to a reference (ValueError when it is not one)."""
        head, index = stored.rsplit(":", 1)
        prefix, _, rest = head.partition(":")
        source = cast(Source, _SOURCE[prefix])
        if source == "shared":
            return LineRef(Pool("shared", "", rest), int(index))
        owner, _, path = rest.partition(":")
        if source == "type":
            name, _, key = path.partition(":")
        else:
            name, _, key = path.partition(".")
        return LineRef(Pool(source, owner, name, key), int(index))


@dataclass
class Turn:
    """One scored reply: what the trainee said, its quality (0..1) and what was read in it."""

    text: str
    score: float
    kind: str  # read, repeat, short, greeting, list (features the customer never asked for)
    stage: str  # the stage of the sale when it was said
    moves: Dict[str, int] = field(default_factory=dict)  # move id -> rubric weight as the customer heard it (in context)
    shown: List[str] = field(default_factory=list)  # the moves the reply's bubble named (explain.shown_moves)
    words: Dict[str, str] = field(default_factory=dict)  # move id -> the words that showed it
    sure: List[str] = field(default_factory=list)  # moves clear enough to name in the summary
    too_early: bool = False
    not_ready: bool = False  # too early with no doubt voiced yet (the bubble said the customer wasn't ready)
    covers: List[str] = field(default_factory=list)  # stages this reply covered
    handles: bool = False  # answered the customer's typical objection
    closes: bool = False  # asked for the decision in the type's way

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> Turn:
        known = {k: data[k] for k in Turn.__dataclass_fields__ if k in data}
        known.setdefault("kind", "read")
        known.setdefault("sure", list(data.get("moves", {})))  # stored before "sure": every move read was named
        known.setdefault("covers", ["opening", "needs", "presenting", "objections", "closing"])  # before "covers": any
        known.setdefault("stage", "opening")
        return Turn(**{"text": "", "score": 0.0, **known})


@dataclass
class SessionState:
    """Everything a running session needs between two messages."""

    type_id: str
    trade: str
    lang: str
    trust: float
    seed: int
    scene: str = ""  # the scene played (a scene id of the trade); empty in sessions stored before scenes had ids
    level: Optional[str] = None  # tuning.LEVELS: easy, normal, hard (None: stored before levels, played as normal)
    exam: bool = False  # a programme's exam: a customer fixed for everyone (scene and seed), no hints
    turn: int = 0
    stage: str = "opening"
    covered: List[str] = field(default_factory=list)
    facts: int = 0
    raised: int = 0
    handled: bool = False
    stage_turns: int = 0
    used: List[str] = field(default_factory=list)  # LineRef ids, in the order said
    line: List[str] = field(default_factory=list)  # the customer's waiting line: LineRef ids
    turns: List[Turn] = field(default_factory=list)
    outcome: Optional[str] = None
    heard: List[str] = field(default_factory=list)  # LineRef ids the trainee heard in recent sessions
    sells: str = ""  # what the trainee said they sell (at the start or mid-session): the next session's scene reads it
    version: int = STATE_VERSION

    def __post_init__(self) -> None:
        self.scene = self.scene or self.trade

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> SessionState:
        """A stored state, of this version or the untyped one before it (same keys, no scene or version).
        Raises ValueError when it cannot be a session (missing type or trade)."""
        if not isinstance(data, dict) or not data.get("type_id") or not data.get("trade"):
            raise ValueError("not a practice session state")
        known = {k: data[k] for k in SessionState.__dataclass_fields__ if k in data and k != "turns"}
        known.setdefault("lang", "en")
        known.setdefault("trust", 0.0)
        known.setdefault("seed", 0)
        turns = [Turn.from_dict(t) for t in data.get("turns", []) if isinstance(t, dict)]
        return SessionState(**known, turns=turns)

    def lines(self, refs: List[str]) -> List[LineRef]:
        return [LineRef.parse(r) for r in refs]
