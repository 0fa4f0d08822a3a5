"""Practice mode: the bot plays one customer of one type in one trade's scene, and the trainee sells.

A session walks the stages of a sale (opening, needs, presenting, objections, closing); the customer
(customer.py) answers what the trainee just did, each reply is scored (scoring.py) and the summary
(summary.py) says why. Session state (state.py) lives in the user-data store keyed by sender, so a restart
mid-session loses nothing and two trainees never share a customer. Lines are stored as ids, so the trainee
can switch language mid-session and the customer simply answers in the new language.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Dict, List, Optional, Tuple

from ...schema import LANGS, NEUTRAL_SCENE, local
from ...text import clean, han_count, normalise
from ...userdata import UserData
from ..answer import Answer
from ..explain import shown_moves
from ..lookup import mentions, stage_in, type_in
from ..runtime import Engine
from .customer import Customer
from .scoring import Scoring, final_score
from .state import LineRef, SessionState, Turn
from .summary import Feedback
from .trainee import TraineeText
from .tuning import RESTART_INTENTS, STAGES, TUNING, Tuning, level_of


class Practice:
    def __init__(self, engine: Engine, store: UserData):  # both from the composition root (knowledge/app.py)
        self.engine = engine
        self.kb = engine.kb
        self.store = store
        self.customer = Customer(self.kb)
        self.scenes, self.shared = self.customer.scenes, self.customer.shared
        self.trainee = TraineeText(engine, self.scenes)
        self.scoring = Scoring(engine, self.trainee)
        self.feedback = Feedback(engine, self.scenes)
        self.moves = {m.id: m for m in self.kb.moves.moves}
        self._tune = TUNING

    @property
    def tune(self) -> Tuning:
        return self._tune

    @tune.setter
    def tune(self, value: Tuning) -> None:  # the simulator's sweeps (--set) reach every part
        self._tune = value
        for part in (self.customer, self.trainee, self.scoring, self.feedback):
            part.tune = value

    # the session in the store -------------------------------------------------------------
    def active(self, user: str) -> bool:
        return self.store.active_session(user) is not None

    def _save(self, session_id: int, state: SessionState, text: str, quality: float, moves: List[str]) -> None:
        self.store.record_turn(session_id, state.turn, text, quality, moves, state.to_dict())

    # what the trainee sees -------------------------------------------------------
    def start(
        self,
        user: str,
        lang: str,
        text: str = "",
        named: Optional[str] = None,
        trade: Optional[str] = None,
        seed: Optional[int] = None,
        sells: Optional[str] = None,
        level: Optional[str] = None,
        scene: Optional[str] = None,
        exam: bool = False,
    ) -> Answer:
        """Scene intro + the customer's first line, with the three session buttons on the last bubble. A session
        still running ends first (its summary shown, recorded only if it had scored replies); a type id that
        names no type (a stale or broken button) offers the types instead of silently picking one.

        The trade is the one named in `text` or `sells` (the words of what the trainee sells: "HR and payroll
        software", "phone plans"), else `trade` (remembered by the caller), else any. What the trainee sells picks
        the trade's scene (a scene of any product when it names another product of the trade); a trade the coach
        has no scenes for gets the neutral scene, and the intro says so.

        The training programmes' hooks: `level` (tuning.LEVELS; None is normal) sets the customer's patience,
        objections and hints; `exam` with `seed` and `scene` plays the same customer for everyone (the scene given,
        no preference for lines the trainee has not heard, no hints)."""
        rng = random.Random(seed)
        type_id = named if named in self.kb.types else type_in(self.kb, text) if text else None
        if named and not type_id:
            return self.unknown_type(lang)
        running = self.store.active_session(user)
        reply = self._close_running(running, lang) if running else Answer()
        type_id = type_id or rng.choice(sorted(self.kb.types))
        stated = self.trainee.trade_in(text) or self.trainee.trade_in(sells or "")
        unsupported = bool(sells and sells.strip()) and not stated
        if unsupported:
            trade = NEUTRAL_SCENE
        else:
            trade = stated or (trade if trade in self.scenes else None) or rng.choice(sorted(self.scenes))
        heard = [] if exam else self.heard_before(user)
        said = " ".join(x for x in (sells or "", text if stated else "") if x) or self.sold_before(user, trade)
        played = sorted({LineRef.parse(r).pool.owner for r in heard if r.startswith("s:")})
        if scene in self.customer.scenes_for(trade):
            scene_id = scene
        else:
            scene_id = self.customer.choose_scene(trade, said, lang, rng, avoid=played)
        played_at = level_of(level)
        state = SessionState(
            type_id=type_id,
            trade=trade,
            scene=scene_id,
            lang=lang,
            trust=round(self.tune.start_trust + played_at.trust, 3),
            seed=rng.randrange(1 << 30),
            heard=heard,
            level=played_at.id,
            exam=exam,
            sells=said,
        )
        state.line = self.customer.opening(state, rng)
        self.store.start_session(user, type_id, 0, lang, state.to_dict())
        scene = self.customer.scene_of(state)
        if trade in self.kb.ui.trades:
            intro = self.kb.text(
                "practice_scene",
                lang,
                name=self.kb.type_name(type_id, lang),
                trade=local(self.kb.ui.trades[trade].names, lang),
                setting=local(scene.setting, lang),
            )
        else:
            intro = self.kb.text("practice_scene_neutral", lang, name=self.kb.type_name(type_id, lang), setting=local(scene.setting, lang))
        if exam:
            level_line = self.kb.text("practice_exam", lang)
        else:
            level_line = self.kb.text(f"practice_level_{played_at.id}", lang)
        reply.say(intro, self.kb.text("practice_rules", lang, turns=self.tune.max_turns), level_line)
        return self._with_buttons(reply.say(self.customer.says(state, lang)), lang, state)

    def trade_words(self) -> Dict[str, Dict[str, List[str]]]:
        """The words that give a trade away in a message, per trade and language: every scene of the trade's
        marker words ({"car": {"en": [...], "zh": [...]}, ...}). The dialogue reads trades with them."""
        words: Dict[str, Dict[str, List[str]]] = {}
        for scene_id, scene in self.customer.all_scenes.items():
            trade = scene.trade or scene_id
            if trade not in self.scenes:
                continue  # the neutral scene names no trade
            for lang in LANGS:
                bucket = words.setdefault(trade, {lang: [] for lang in LANGS})[lang]
                bucket += [w for w in local(scene.words, lang) if w not in bucket]
        return words

    def unknown_type(self, lang: str) -> Answer:
        """Every type as a button, and one for any type: the trainee asked for a type, so they choose."""
        reply = Answer().say(self.kb.text("practice_unknown_type", lang))
        for type_id in sorted(self.kb.types, key=lambda t: self.kb.type_name(t, lang)):
            reply.button(self.kb.type_name(type_id, lang), "start_practice", type_id=type_id)
        return reply.button(self.kb.text("btn_practice", lang), "start_practice")

    def sold_before(self, user: str, trade: str) -> str:
        """What the trainee last said they sell, when it names this trade ("it's HR software" said in an earlier session
        picks the trade's scene of any product again)."""
        last = self.store.last_session(user)
        sells = str((last or {}).get("state", {}).get("sells", "")) if last else ""
        return sells if sells and self.trainee.trade_in(sells) == trade else ""

    def heard_before(self, user: str) -> List[str]:
        """Customer lines the trainee heard in their recent sessions: the new customer prefers others."""
        rows = self.store.recent_sessions(user, self.tune.recent_sessions)
        heard: List[str] = []
        for row in rows:
            try:
                heard += json.loads(row["state"]).get("used", [])
            except (TypeError, ValueError, AttributeError):
                continue
        return sorted(set(heard))

    def _load(self, session: Dict[str, Any]) -> Optional[SessionState]:
        """The stored state, or None when it cannot be read (then the session is ended cleanly)."""
        try:
            return SessionState.from_dict(session["state"])
        except (TypeError, ValueError, KeyError):
            return None

    def turn(self, user: str, text: str, intent: str, lang: str, stated: Optional[Tuple[Optional[str], Optional[str]]] = None) -> Answer:
        """Every message while a session runs: a command, an out-of-role note, or a scored reply and the
        customer's answer (with the summary when the session ends). `stated`: the trade the message says the trainee
        sells, as the dialogue reads it (Reading.trade_statement: a trade id, or the words of a trade without scenes)."""
        session = self.store.active_session(user)
        if not session:
            return self.outside_session(intent, text, lang)
        state = self._load(session)
        if state is None or state.type_id not in self.kb.types or state.scene not in self.customer.all_scenes:
            self.store.finish_session(session["id"], 0, "abandoned", session.get("state") or {})
            return Answer().say(self.kb.text("practice_unreadable", lang)).button(self.kb.text("btn_practice", lang), "start_practice")
        state.lang = lang
        command = self.trainee.command(text, intent)
        if command == "hint" and not self.hints(state):
            return self._with_buttons(Answer().say(self.kb.text("practice_no_hints", lang), self.customer.says(state, lang)), lang, state)
        if command == "hint":
            return self._with_buttons(self.feedback.hint(state, lang), lang, state)
        if command == "rubric":
            return self._with_buttons(self.feedback.rubric(state.type_id, lang), lang, state)
        if command == "end":
            return self.finish(session["id"], state, "ended", Answer(), lang)
        if text.startswith("/"):  # another intent's button or a typed command ("/show_more{...}"): never a reply
            return self._off_role_note(state, lang)
        text = clean(text, limit=2000)
        if stated and self._corrects_trade(state, text, stated):
            return self._trade_noted(session["id"], state, text, stated, lang)
        asked = self.trainee.turn_asked(text, bare=True)
        if asked is not None and state.turns:  # "why was that reply only 5?": that reply's explanation, not scored
            why = self.feedback.explain_turn(state, self._turn_index(state, asked, text), lang)
            return self._with_buttons(Answer().say(why, self.customer.says(state, lang)), lang, state)
        if intent in RESTART_INTENTS and mentions(normalise(text), {"again": self.trainee.words("practice_request")}):
            level = None if state.exam else state.level  # a new customer at the same level; an exam is not replayed
            return self.start(user, lang, text, trade=state.trade, level=level)  # "let's practise another one", 「换个客户练习」
        if self.trainee.asks_coach(text, intent):
            return self._coach_note(state, text, intent, lang)
        if self.trainee.off_role(text, intent):
            return self._off_role_note(state, lang)
        return self._reply(session["id"], state, text, lang)

    def _corrects_trade(self, state: SessionState, text: str, stated: Tuple[Optional[str], Optional[str]]) -> bool:
        """The message says what the trainee sells, to the coach: another trade than the session's, a trade without
        scenes, or a correction ("I don't sell CRM, it's HR software"); "we sell the best CRM" to the customer is a reply."""
        trade, words = stated
        correction = self.trainee.says(normalise(text), "trade_correction")
        return bool(trade and (trade != state.trade or correction)) or bool(words and state.trade != NEUTRAL_SCENE)

    def _trade_noted(
        self, session_id: int, state: SessionState, text: str, stated: Tuple[Optional[str], Optional[str]], lang: str
    ) -> Answer:
        """Not scored: kept for the next session (state.sells, read by start), said plainly, and the customer waits."""
        trade, words = stated
        state.sells = text
        self.store.save_session_state(session_id, state.to_dict())
        name = local(self.kb.ui.trades[trade].names, lang) if trade in self.kb.ui.trades else words or ""
        reply = Answer().say(self.kb.text("practice_trade_noted", lang, trade=name), self.customer.says(state, lang))
        return self._with_buttons(reply, lang, state)

    def _coach_note(self, state: SessionState, text: str, intent: str, lang: str) -> Answer:
        """A question to the coach mid-sale is answered briefly for the practised type, never scored:
        what to avoid gets the rubric (good and bad moves), anything else the hint for the stage."""
        stage = stage_in(self.kb, text)
        if not self.hints(state):
            tip = Answer().say(self.kb.text("practice_no_hints", lang))
        elif intent == "ask_avoid":
            tip = self.feedback.rubric(state.type_id, lang)
        elif stage in STAGES:  # "how do I close this type?": the closing hint
            saved = state.stage
            state.stage = stage
            tip = self.feedback.hint(state, lang)
            state.stage = saved
        else:
            tip = self.feedback.hint(state, lang)
        reply = Answer().say(self.kb.text("off_role", lang), *tip.bubbles, self.customer.says(state, lang))
        return self._with_buttons(reply, lang, state)

    def _off_role_note(self, state: SessionState, lang: str) -> Answer:
        """Not scored: the bot steps out of role, says so, and the customer's waiting line is shown again."""
        return self._with_buttons(Answer().say(self.kb.text("off_role", lang), self.customer.says(state, lang)), lang, state)

    @staticmethod
    def hints(state: SessionState) -> bool:
        """Hints (and the coach's tips mid-sale) are given at this session's level, never in an exam."""
        return level_of(state.level).hints and not state.exam

    def outside_session(self, intent: str, text: str, lang: str, named: Optional[str] = None) -> Answer:
        """Hint, rubric or end with no session running: the rubric of a named type, else an offer to start."""
        type_id = type_in(self.kb, text) or (named if named in self.kb.types else None)
        if intent == "show_rubric" and type_id:
            reply = self.feedback.rubric(type_id, lang)
            return reply.button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
        return Answer().say(self.kb.text("no_practice", lang)).button(self.kb.text("btn_practice", lang), "start_practice")

    # one scored reply -----------------------------------------------------------------
    def _reply(self, session_id: int, state: SessionState, text: str, lang: str) -> Answer:
        tune = self.tune
        context = self.customer.line_text(state.line[-1], lang) if state.line else None
        scored = self.scoring.reply(state, text, context)
        result, quality = scored.result, scored.quality
        stage = state.stage
        state.turn += 1
        state.stage_turns += 1
        trust = state.trust + tune.trust_step * (quality - 0.5) + (tune.handled_trust if scored.handles else 0.0)
        state.trust = round(min(1.0, max(0.0, trust)), 3)
        covered_before = len(state.covered)
        lines, outcome = self.customer.answer(
            state,
            scored.reaction,
            scored.kind,
            quality,
            scored.handles,
            scored.fits_close,
            wins_now=scored.wins_now,
            topics=self.trainee.asked_topics(text) if scored.reaction == "question" else [],
            reply=text,
        )
        state.turns.append(
            Turn(
                text=text,
                score=round(quality, 4),
                kind=scored.kind,
                stage=stage,
                moves={m.move: m.weight for m in result.clear},  # the weights the bubble judged by (in context)
                shown=[m.move for m in shown_moves(result)],
                words={m.move: m.text for m in result.clear},
                sure=[m.move for m in result.clear if m.confidence >= tune.credit_confidence],
                too_early=scored.too_early,
                not_ready=scored.too_early and not scored.objection_voiced,
                covers=state.covered[covered_before:],
                handles=scored.handles,
                closes=scored.fits_close and state.handled,
            )
        )
        state.line = lines
        self._save(session_id, state, text, quality, [m.move for m in result.clear])
        reply = Answer().say(
            self.feedback.score_line(
                state, result, scored.kind, quality, scored.handles, scored.too_early, lang, objection_voiced=scored.objection_voiced
            )
        )
        reply.say(self.customer.says(state, lang))
        if outcome or state.turn >= tune.max_turns:
            return self.finish(session_id, state, outcome or "out_of_turns", reply, lang)
        return self._with_buttons(reply, lang, state)

    # "why did I get N?" ----------------------------------------------------------------------
    def _turn_index(self, state: SessionState, asked: int, text: str) -> int:
        """The reply a "why?" is about: its number; else the one whose score it names ("only 3/10") or whose words it
        quotes ("the ERP answer"); else the last one."""
        if 0 < asked <= len(state.turns):
            return asked - 1
        norm = normalise(text)
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d)?", norm) if float(n) <= 10]
        if numbers:
            return min(range(len(state.turns)), key=lambda i: (abs(state.turns[i].score * 10 - numbers[0]), -i))
        asked_words = content_units(text) - content_units(" ".join(self.trainee.words("score_why") + self.trainee.words("turn_words")))
        shared = [len(asked_words & content_units(t.text)) for t in state.turns]
        best = max(range(len(shared)), key=lambda i: (shared[i], i))
        return best if shared[best] >= 1 else len(state.turns) - 1

    def explain_score(self, user: str, text: str, lang: str) -> Optional[Answer]:
        """An answer from the last finished session's own parts when the message asks why it scored what it did
        ("why did I only get 59?", 「为什么只有59分」), or from one reply's when it asks about a reply ("why was the ERP
        answer only 3/10?", 「为什么第4句只有6分」); None for any other message (the caller routes it on)."""
        norm = normalise(text)
        asked = self.trainee.turn_asked(text)
        if asked is None and not (
            self.trainee.says(norm, "score_why") and (self.trainee.says(norm, "score_words") or re.search(r"\d", norm))
        ):
            return None
        rows = self.store.recent_sessions(user, self.tune.recent_sessions, finished_only=True)
        said = {int(n) for n in re.findall(r"\d{1,3}", norm)}
        if asked == 0 and not self.trainee.says(norm, "turn_words") and any(r["score"] in said for r in rows):
            asked = None  # "why did I only get 9?" after a session that scored 9/100: the session
        numbers = said if asked is None else set()  # a reply's score names no session
        named = type_in(self.kb, text)
        picked = [r for r in rows if (not numbers or r["score"] in numbers) and (not named or r["type_id"] == named)]
        for row in picked or rows[:1]:  # the session the number or type names, else the latest
            try:
                state = SessionState.from_dict(json.loads(row["state"]))
            except (TypeError, ValueError, KeyError):
                continue
            if not state.turns or state.type_id not in self.kb.types:
                continue
            if asked is not None:
                reply = Answer().say(self.feedback.explain_turn(state, self._turn_index(state, asked, text), lang))
            else:
                reply = Answer().say(self.feedback.explain(state, int(row["score"]), lang))
            return reply.button(self.kb.text("btn_again", lang), "start_practice", type_id=state.type_id, trade=state.trade)
        return None

    # for the simulator, tests and hints ---------------------------------------------------------------
    def stage_move(self, type_id: str, stage: str, handled: bool = False) -> str:
        return self.feedback.stage_move(type_id, stage, handled=handled)

    def better_line(self, type_id: str, stage: str, trade: str, lang: str, move_id: str, n: int = 0) -> str:
        return self.feedback.better_line(type_id, stage, trade, lang, move_id, n=n)

    def rubric(self, type_id: str, lang: str) -> Answer:
        return self.feedback.rubric(type_id, lang)

    def customer_lines(self, state: Any, lang: str) -> List[str]:
        """The texts of every line the customer said so far (a SessionState or its stored dict)."""
        return self.customer.said(state if isinstance(state, SessionState) else SessionState.from_dict(state), lang)

    # the end -------------------------------------------------------------------------
    def finish(self, session_id: int, state: SessionState, outcome: str, reply: Answer, lang: str) -> Answer:
        level = level_of(state.level).id
        return (
            self._close(session_id, state, outcome, reply, lang)
            .button(self.kb.text("btn_again", lang), "start_practice", type_id=state.type_id, trade=state.trade, level=level)
            .button(self.kb.text("btn_practice", lang), "start_practice")
            .button(self.kb.text("btn_progress", lang), "my_progress")
        )

    def _close_running(self, session: Dict[str, Any], lang: str) -> Answer:
        """A session still running when a new one starts: ended with its summary (abandoned if unreadable)."""
        state = self._load(session)
        if state is None or state.type_id not in self.kb.types or state.scene not in self.customer.all_scenes:
            self.store.finish_session(session["id"], 0, "abandoned", session.get("state") or {})
            return Answer()
        return self._close(session["id"], state, "ended", Answer(), lang)

    def _close(self, session_id: int, state: SessionState, outcome: str, reply: Answer, lang: str) -> Answer:
        """Record the session's end and say its summary. A session without a scored reply is stored as
        abandoned: it must not count as a finished session of score 0 in progress, averages or the leaderboard."""
        state.outcome = outcome
        score = final_score(state, self.tune)
        self.store.finish_session(session_id, score, outcome if state.turns else "abandoned", state.to_dict())
        return reply.say(self.feedback.summary_text(state, outcome, score, lang))

    def _with_buttons(self, reply: Answer, lang: str, state: SessionState) -> Answer:
        if self.hints(state):
            reply.button(self.kb.text("btn_hint", lang), "practice_hint")
        return reply.button(self.kb.text("btn_rubric", lang), "show_rubric").button(self.kb.text("btn_end", lang), "practice_end")


def content_units(text: str) -> set:
    """English words of four letters or more and Chinese character pairs: what a question can quote of a reply."""
    norm = normalise(text)
    return set(re.findall(r"[a-z]{4,}", norm)) | {norm[i : i + 2] for i in range(len(norm) - 1) if han_count(norm[i : i + 2]) == 2}
