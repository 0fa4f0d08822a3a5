"""Practice mode: the bot plays a customer of a type; each trainee reply moves the customer's trust.

Session state lives in the user-data store keyed by sender, so a restart mid-session loses nothing
and two trainees never share a customer.
"""
from __future__ import annotations

import random
from typing import Any, Dict, List, Optional

from ..text import clean, has_words
from ..userdata import UserData
from .explain import move_name, reply_feedback
from .lookup import mentions, type_in
from .reply import Reply
from .runtime import Engine

MAX_TURNS = 8
START_TRUST = 0.4
AGREE_AT = 0.8
WALK_AT = 0.1
CLOSING_MOVES = ("propose_close", "assumptive_close")


def mood(trust: float) -> str:
    return "warm" if trust >= 0.6 else "cold" if trust <= 0.3 else "neutral"


class Practice:
    def __init__(self, engine: Engine, store: Optional[UserData] = None):
        self.engine = engine
        self.kb = engine.kb
        self.store = store or UserData()

    # start ------------------------------------------------------------------
    def start(self, user: str, lang: str, text: str = "", named: Optional[str] = None, seed: Optional[int] = None) -> Reply:
        rng = random.Random(seed)
        type_id = named if named in self.kb.types else type_in(self.kb, text) if text else None
        type_id = type_id or rng.choice(sorted(self.kb.types))
        t = self.kb.types[type_id]
        scenario = rng.randrange(len(t.practice.scenarios))
        state = {"type_id": type_id, "lang": lang, "scenario": scenario, "trust": START_TRUST, "turn": 0,
                 "turns": [], "line": getattr(t.practice.openings, lang)[rng.randrange(3)], "outcome": None}
        self.store.start_session(user, type_id, scenario, lang, state)
        s = t.practice.scenarios[scenario]
        reply = Reply().say(self.kb.text("practice_scene", lang, name=getattr(t.names, lang),
                                         domain=getattr(self.kb.ui.domains[s.domain], lang), scene=getattr(s, lang)))
        return reply.say(self.kb.text("practice_rules", lang, turns=MAX_TURNS))

    def customer_line(self, user: str) -> Reply:
        session = self.store.active_session(user)
        if not session:
            return Reply()
        lang = session["state"]["lang"]
        reply = Reply().say(self.kb.text("customer_says", lang, line=session["state"]["line"]))
        return (reply.button(self.kb.text("btn_hint", lang), "practice_hint")
                .button(self.kb.text("btn_rubric", lang), "show_rubric")
                .button(self.kb.text("btn_end", lang), "practice_end"))

    # one trainee turn ---------------------------------------------------------
    def turn(self, user: str, text: str, intent: str = "") -> Reply:
        """Score the reply and move the customer, or answer hint/rubric/end. Slot 'done' ends the form."""
        session = self.store.active_session(user)
        if not session:
            return Reply(slots={"done": True})
        state, lang = session["state"], session["state"]["lang"]
        command = self.command(text, intent)
        if command == "hint":
            return self.hint(state)
        if command == "rubric":
            return self.rubric(state["type_id"], lang)
        if command == "end":
            return self.finish(session, "ended")
        text = clean(text, limit=2000)
        if not has_words(text):
            return Reply().say(self.kb.text("practice_say_something", lang))
        t = self.kb.types[state["type_id"]]
        result = self.engine.scorer.score(state["type_id"], text)
        state["turn"] += 1
        state["trust"] = round(min(1.0, max(0.0, state["trust"] + (result.score - 0.5) * 0.6)), 3)
        state["turns"].append({"score": result.score, "moves": {m.move: m.weight for m in result.clear}})
        closing = any(m.move in CLOSING_MOVES and m.weight > 0 for m in result.clear)
        outcome = ("agree" if state["trust"] >= AGREE_AT or (closing and state["trust"] >= 0.65)
                   else "walk_away" if state["trust"] <= WALK_AT else None)
        lines = getattr(t.practice.lines, outcome or mood(state["trust"]))
        state["line"] = getattr(lines, lang)[state["turn"] % len(getattr(lines, lang))]
        self.store.record_turn(session["id"], state["turn"], text, result.score, [m.move for m in result.clear], state)
        reply = Reply().say(self.kb.text("turn_score", lang, score=round(result.score * 10, 1),
                                         note=reply_feedback(self.kb, state["type_id"], result, lang)))
        if outcome or state["turn"] >= MAX_TURNS:
            reply.say(self.kb.text("customer_says", lang, line=state["line"]))
            session["state"] = state
            final = self.finish(session, outcome or "out_of_turns")
            return Reply(bubbles=reply.bubbles + final.bubbles, buttons=final.buttons, slots=final.slots)
        return reply

    def command(self, text: str, intent: str) -> Optional[str]:
        by_intent = {"practice_hint": "hint", "show_rubric": "rubric", "practice_end": "end"}
        if intent in by_intent and len(text) <= 40:
            return by_intent[intent]
        found = mentions(text.strip().lower(), {k: [getattr(self.kb.ui.texts[f"cmd_{k}"], l) for l in ("en", "zh")]
                                               for k in ("hint", "rubric", "end")})
        return found[0][1] if found and len(text) <= 20 else None

    def hint(self, state: Dict[str, Any]) -> Reply:
        t, lang = self.kb.types[state["type_id"]], state["lang"]
        rubric = t.practice.rubric
        tried = {m for turn in state["turns"] for m in turn["moves"]}
        best = sorted(rubric, key=lambda m: (-rubric[m], m in tried))[0]
        move = next(m for m in self.kb.moves.moves if m.id == best)
        return Reply().say(self.kb.text("hint", lang, move=getattr(move.names, lang), hint=getattr(move.hint, lang),
                                        example=getattr(move.examples, lang)[0]))

    def rubric(self, type_id: str, lang: str) -> Reply:
        rubric = self.kb.types[type_id].practice.rubric
        good = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: -kv[1]) if w > 0][:5]
        bad = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: kv[1]) if w < 0][:5]
        return Reply().say(self.kb.text("rubric", lang, name=self.kb.type_name(type_id, lang),
                                        good=", ".join(good), bad=", ".join(bad)))

    def outside_session(self, intent: str, text: str, lang: str, named: Optional[str] = None) -> Reply:
        """Hint, rubric or end with no session running: the rubric of a named or remembered type, else an offer."""
        type_id = type_in(self.kb, text) or (named if named in self.kb.types else None)
        if intent == "show_rubric" and type_id:
            reply = self.rubric(type_id, lang)
            return reply.button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
        return Reply().say(self.kb.text("no_practice", lang)).button(self.kb.text("btn_practice", lang), "start_practice")

    # the end ----------------------------------------------------------------------
    def finish(self, session: Dict[str, Any], outcome: str) -> Reply:
        state = session["state"]
        state["outcome"] = outcome
        score = final_score(state)
        self.store.finish_session(session["id"], score, outcome, state)
        return Reply(slots={"done": True})

    def summary(self, user: str) -> Reply:
        session = self.store.last_session(user)
        if not session or session["status"] == "active":
            return Reply()
        state = session["state"]
        lang, type_id = state["lang"], state["type_id"]
        t = self.kb.types[type_id]
        weights: Dict[str, int] = {}
        for turn in state["turns"]:
            weights.update(turn["moves"])
        good = [m for m, w in weights.items() if w > 0]
        bad = [m for m, w in weights.items() if w < 0]
        lines = [self.kb.text(f"outcome_{session['status']}", lang, name=getattr(t.names, lang)),
                 self.kb.text("final_score", lang, score=session["score"])]
        if good:
            lines.append(self.kb.text("went_well", lang) + "\n" + "\n".join(
                f"• {move_name(self.kb, m, lang)} → {self._tactic_for(type_id, m, lang)}" for m in good[:3]))
        if bad:
            lines.append(self.kb.text("to_change", lang) + "\n" + "\n".join(
                f"• {move_name(self.kb, m, lang)} → {self._pitfall_for(type_id, lang, i)}" for i, m in enumerate(bad[:3])))
        if not good and not bad:
            lines.append(self.kb.text("no_turns", lang))
        reply = Reply().say("\n".join(lines))
        return (reply.button(self.kb.text("btn_again", lang), "start_practice", type_id=type_id)
                .button(self.kb.text("btn_practice", lang), "start_practice")
                .button(self.kb.text("btn_progress", lang), "my_progress"))

    def _tactic_for(self, type_id: str, move_id: str, lang: str) -> str:
        """The type's tactic that talks about this move, found by full-text search on the move's name."""
        move = next(m for m in self.kb.moves.moves if m.id == move_id)
        query = f"{getattr(move.names, lang)} {' '.join(getattr(move.keywords, lang)[:4])}"
        hits = [h for h in self.kb.search(query, limit=30, kind="tactic", any_word=True) if h["ref"] == type_id and h["lang"] == lang]
        if hits:
            return hits[0]["text"]
        return getattr(self.kb.types[type_id].practice.warms_to[0], lang)

    def _pitfall_for(self, type_id: str, lang: str, index: int) -> str:
        pitfalls = self.kb.types[type_id].practice.cools_at
        return getattr(pitfalls[index % len(pitfalls)], lang)


def final_score(state: Dict[str, Any]) -> int:
    turns: List[Dict[str, Any]] = state["turns"]
    if not turns:
        return 0
    base = 100 * sum(t["score"] for t in turns) / len(turns)
    bonus = {"agree": 10, "walk_away": -15}.get(state.get("outcome") or "", 0)
    return int(round(min(100, max(0, base + bonus))))


class Trainer:
    """Quiz and progress: what a trainee sees outside a practice session."""

    def __init__(self, engine: Engine, store: Optional[UserData] = None):
        self.kb = engine.kb
        self.store = store or UserData()

    def quiz(self, lang: str, seed: Optional[int] = None) -> Reply:
        rng = random.Random(seed)
        type_id = rng.choice(sorted(self.kb.types))
        cue = rng.choice(getattr(self.kb.types[type_id].cues, lang))
        options = rng.sample([t for t in sorted(self.kb.types) if t != type_id], 3) + [type_id]
        rng.shuffle(options)
        reply = Reply(slots={"quiz_type": type_id}).say(self.kb.text("quiz_question", lang, cue=cue))
        for option in options:
            reply.button(self.kb.type_name(option, lang), "quiz_answer", type_id=option)
        return reply

    def answer(self, expected: Optional[str], text: str, lang: str, named: Optional[str] = None) -> Reply:
        if not expected:
            return Reply().say(self.kb.text("no_quiz", lang)).button(self.kb.text("btn_quiz", lang), "quiz")
        given = named if named in self.kb.types else type_in(self.kb, text)
        t = self.kb.types[expected]
        verdict = "quiz_right" if given == expected else "quiz_wrong"
        reply = Reply(slots={"quiz_type": None}).say(
            self.kb.text(verdict, lang, name=getattr(t.names, lang)),
            f"{getattr(t.summary, lang)}\n{self.kb.text('keywords_are', lang)}: {', '.join(getattr(t.keywords, lang)[:5])}")
        return reply.button(self.kb.text("btn_quiz_again", lang), "quiz").button(
            self.kb.text("btn_practise_type", lang), "start_practice", type_id=expected)

    def progress(self, user: str, lang: str) -> Reply:
        p = self.store.progress(user)
        if not p["sessions"]:
            return Reply().say(self.kb.text("no_progress", lang)).button(self.kb.text("btn_practice", lang), "start_practice")
        lines = [self.kb.text("progress_head", lang, n=len(p["sessions"]), avg=p["average"])]
        lines += [f"• {self.kb.type_name(t, lang)}: {s}" for t, s in sorted(p["by_type"].items(), key=lambda kv: -kv[1])]
        lines.append(self.kb.text("weakest", lang, name=self.kb.type_name(p["weakest_type"], lang)))
        return Reply().say("\n".join(lines)).button(self.kb.text("btn_practise_weakest", lang), "start_practice",
                                                    type_id=p["weakest_type"])

    def leaderboard(self, lang: str, users: Optional[List[str]] = None) -> Reply:
        rows = self.store.leaderboard(users)
        if not rows:
            return Reply().say(self.kb.text("no_leaderboard", lang))
        lines = [self.kb.text("leaderboard_head", lang)]
        lines += [f"{n}. {r['user']}: {r['best']} ({r['sessions']})" for n, r in enumerate(rows, 1)]
        return Reply().say("\n".join(lines))
