"""Scoring: one reply's quality as the customer hears it, and the session's score over the whole sale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from ...text import normalise
from ..replies import ReplyScore
from ..runtime import Engine
from .state import SessionState
from .trainee import TraineeText
from .tuning import STAGES, TUNING, Tuning


def bigrams(text: str) -> set:
    norm = re.sub(r"[^\w]", "", normalise(text))
    return {norm[i : i + 2] for i in range(max(1, len(norm) - 1))}


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return len(x & y) / max(1, len(x | y))


@dataclass
class ScoredReply:
    """One reply as the session scores it: the scorer's reading, the quality after the session's caps, and what
    the customer reacts to."""

    result: ReplyScore
    quality: float
    kind: str  # read, repeat, short, greeting
    reaction: str  # what the customer answers to (a move's reaction group, or vague / repeat)
    handles: bool  # answers the type's typical objection
    fits_close: bool  # asks for the decision in the type's way
    too_early: bool  # asks for the decision before the objection was answered


class Scoring:
    def __init__(self, engine: Engine, trainee: TraineeText, tune: Tuning = TUNING):
        self.engine = engine
        self.kb = engine.kb
        self.trainee = trainee
        self.tune = tune
        self.moves = {m.id: m for m in self.kb.moves.moves}

    def reply(self, state: SessionState, text: str, context: Optional[str]) -> ScoredReply:
        tune, trainee = self.tune, self.trainee
        role = self.kb.types[state.type_id].practice
        keen = "keen" if state.stage == "closing" else None  # the objection is answered: asking is timely
        result = self.engine.scorer.score(state.type_id, text, context=context, signal=keen)
        quality, kind = result.score, "read"
        earlier = [t.text for t in state.turns]
        if any(similarity(text, e) >= tune.repeat_similarity for e in earlier):
            quality, kind = min(quality, tune.repeat_cap), "repeat"
        elif (trainee.short(text) or trainee.thin(text)) and not trainee.pushes(result):
            quality, kind = min(quality, tune.short_cap), "short"
        elif result.clear and self.moves[result.clear[0].move].reaction == "offer" and not trainee.concrete(text):
            quality = min(quality, tune.vague_offer_cap)
        elif state.stage != "opening" and trainee.greeting_only(text, result):
            quality, kind = min(quality, tune.greeting_cap), "greeting"
        reaction = self.reaction(result, kind)
        fits_close = kind == "read" and any(m.move in role.close_with and m.weight > 0 for m in result.clear)
        handlers = [
            m
            for m in result.clear
            if kind == "read"
            and state.stage == "objections"
            and m.move in role.handle_with
            and m.weight > 0
            and m.confidence >= tune.handle_sure
            and (self.moves[m.move].reaction != "offer" or trainee.concrete(text))
        ]
        handles = bool(handlers)
        if handles:  # the customer answers the handling, not a side reading of the same words
            reaction = self.moves[handlers[0].move].reaction
        too_early = reaction == "close" and not state.handled and not handles
        if too_early:
            quality = min(quality, tune.early_close_cap)
        return ScoredReply(result, quality, kind, reaction, handles, fits_close, too_early)

    def reaction(self, result: ReplyScore, kind: str) -> str:
        """What the customer reacts to: a move the type dislikes outweighs the rest; no clear move is vague."""
        if kind in ("repeat", "short", "greeting"):
            return "repeat" if kind == "repeat" else "vague"
        clear = result.clear
        if not clear:
            return "vague"
        bad = [m for m in clear if m.weight < 0 and self.moves[m.move].reaction == "pressure"]
        if bad and bad[0].confidence >= max(self.tune.pressure_sure, 0.8 * clear[0].confidence):
            return "pressure"
        top = next((m for m in clear if self.moves[m.move].reaction != "pressure"), None)
        if top is None:  # only a faint attack was read: no reaction to pressure without clear pressure
            return "vague"
        return self.moves[top.move].reaction


def final_score(state: Any, tune: Tuning = TUNING) -> int:
    """The whole sale: reply quality, stages covered, trust won and the decision; short sessions scale down.
    Takes a SessionState or its stored dict."""
    if isinstance(state, dict):
        state = SessionState.from_dict({"type_id": "-", "trade": "-", **state})
    turns = state.turns
    if not turns:
        return 0
    quality = sum(t.score for t in turns) / len(turns)
    stages = len(set(state.covered)) / len(STAGES)
    agreed = 1.0 if state.outcome == "agree" else 0.0
    raw = tune.quality * quality + tune.stages * stages + tune.trust * state.trust + tune.agreed * agreed
    length = min(1.0, len(turns) / tune.full_turns)
    return int(round(100 * max(0.0, min(1.0, raw * length))))
