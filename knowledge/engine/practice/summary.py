"""Feedback: the line after each reply, hints and the rubric, and the summary at the end of a session."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ...loader import trade_words_in
from ...schema import Scene, local
from ...text import han_count, normalise
from ..answer import MAX_BUBBLE, Answer
from ..explain import move_name, reading, reply_feedback
from ..replies import ReplyScore
from ..runtime import Engine
from ..wording import CLAUSE_SEPARATOR, LIST_SEPARATOR
from .customer import more_scenes
from .scoring import ScoreParts, groundwork, score_parts, similarity
from .state import SessionState, Turn
from .tuning import TUNING, Tuning

QUOTED_MOVE = {"en": "{move} (“{words}”, {weight:+d})", "zh": "{move}（“{words}”，{weight:+d}）"}  # a move with the words that made it


class Feedback:
    def __init__(self, engine: Engine, scenes: Dict[str, Scene], tune: Tuning = TUNING):
        self.engine = engine
        self.kb = engine.kb
        self.scenes = scenes
        self.all_scenes = {**scenes, **more_scenes()}  # by scene id: a trade's first scene's id is the trade
        self.tune = tune
        self.moves = {m.id: m for m in self.kb.moves.moves}

    # one reply --------------------------------------------------------------------------
    def score_line(
        self,
        state: SessionState,
        result: ReplyScore,
        kind: str,
        quality: float,
        handles: bool,
        too_early: bool,
        lang: str,
        objection_voiced: bool = True,
    ) -> str:
        score = round(quality * 10, 1)
        if kind == "repeat":
            return self.kb.text("turn_repeat", lang, score=score)
        if kind == "short":
            return self.kb.text("turn_short", lang, score=score)
        if kind == "greeting":
            return self.kb.text("turn_greeting", lang, score=score)
        if kind == "list":
            return self.kb.text("turn_list", lang, score=score)
        early = self.kb.text("turn_too_early", lang) if objection_voiced else self.kb.text("turn_not_ready", lang)
        note = " ".join(
            [reply_feedback(self.kb, state.type_id, result, lang)]
            + ([self.kb.text("turn_handled", lang)] if handles else [])
            + ([early] if too_early else [])
        )
        if not result.clear:
            return self.kb.text("turn_score", lang, score=score, note=note)
        return self.kb.text("turn_read", lang, score=score, reading=reading(self.kb, result, lang), note=note)

    def hint(self, state: SessionState, lang: str) -> Answer:
        """The move that suits this type at this stage, with a line that shows it."""
        move_id = self.stage_move(state.type_id, state.stage, handled=state.handled)
        move = self.moves[move_id]
        return Answer().say(
            self.kb.text(
                "hint",
                lang,
                move=local(move.names, lang),
                hint=local(move.hint, lang),
                example=self.better_line(state.type_id, state.stage, state.scene, lang, move_id, n=state.facts),
            )
        )

    def stage_move(self, type_id: str, stage: str, handled: bool = False) -> str:
        """The type's best move for a stage of the sale, from its rubric, objection handlers and closes."""
        role = self.kb.types[type_id].practice
        rubric = role.rubric
        if stage == "objections" and not handled:
            return role.handle_with[0]
        if stage == "closing" or (stage == "objections" and handled):
            return role.close_with[0]
        wanted = {"opening": ("rapport", "question"), "needs": ("question",), "presenting": ("evidence",)}[stage]
        options = [m for m in rubric if self.moves[m].reaction in wanted or (stage == "presenting" and m == "steer_to_offer")]
        return max(options, key=lambda m: (rubric[m], m == "ask_needs"))

    def candidates(self, type_id: str, stage: str, scene_id: str, lang: str, move_id: str, n: int = 0) -> List[str]:
        """Real lines for that stage and move: a needs question of the scene, the type's own phrase for the stage,
        else an example of the move; only ones that name no other trade's things (`scene_id`: a trade's first
        scene has the trade's id)."""
        candidates: List[str] = []
        scene = self.all_scenes[scene_id]
        trade = scene.trade or scene_id
        if self.moves[move_id].reaction == "question":
            questions = local(scene.questions, lang)
            candidates += questions[n % len(questions) :] + questions[: n % len(questions)]
        phrases = [local(p, lang) for p in self.kb.types[type_id].phrases if p.stage == stage]
        candidates += [p for p in phrases if set(trade_words_in(p, self.scenes, lang)) <= {trade}]
        examples = local(self.moves[move_id].examples, lang)
        named = {e: trade_words_in(e, self.scenes, lang) for e in examples}
        candidates += [e for e in examples if not named[e]] + [e for e in examples if named[e] == [trade]] or examples
        return list(dict.fromkeys(candidates))

    def better_line(self, type_id: str, stage: str, trade: str, lang: str, move_id: str, n: int = 0) -> str:
        """The first candidate line that the scorer rates a good reply for the type (else the best rated): the coach
        never suggests a line its own scoring would penalise ("Who will be in the car?" read as involving a decider)."""
        candidates = self.candidates(type_id, stage, trade, lang, move_id, n)
        # rated as the customer may hear it: keen at the close, else neutral or doubting (a stray close weighs more)
        signals = ("keen",) if stage == "closing" else (None, "doubts")
        best = (-1.0, candidates[0])
        for line in candidates:
            score = min(self.engine.scorer.score(type_id, line, signal=signal).score for signal in signals)
            if score >= self.tune.good_suggestion:
                return line
            best = max(best, (score, line))
        return best[1]

    def rubric(self, type_id: str, lang: str) -> Answer:
        rubric = self.kb.types[type_id].practice.rubric
        good = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: -kv[1]) if w > 0][:5]
        bad = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: kv[1]) if w < 0][:5]
        sep = LIST_SEPARATOR[lang]
        return Answer().say(self.kb.text("rubric", lang, name=self.kb.type_name(type_id, lang), good=sep.join(good), bad=sep.join(bad)))

    def summary_text(self, state: SessionState, outcome: str, score: int, lang: str) -> str:
        """Outcome, the score in its parts, the type's key moves used or missed, what went well and what to
        change (never the same move in both), and the weakest reply with a better line only when it is clearly
        weaker than the rest. Fits one chat bubble (answer.MAX_BUBBLE): optional lines go first when too long.
        An empty session gets no score lines: they would mean nothing."""
        tname = self.kb.type_name(state.type_id, lang)
        if not state.turns:
            return "\n".join(
                [
                    self.kb.text(f"outcome_{outcome}", lang, name=tname),
                    self.kb.text("no_turns", lang),
                    self.kb.text("practice_not_counted", lang),
                ]
            )
        parts = score_parts(state, self.tune)
        head = [self.kb.text(f"outcome_{outcome}", lang, name=tname), self.score_line_parts(parts, lang)]
        keys = self.key_moves_line(state, lang)
        good, bad = self.moves_made(state, lang)
        optional: List[str] = []
        if good:
            optional.append(self.kb.text("went_well", lang) + " " + self._join(good, lang))
        if bad:
            optional.append(self.kb.text("to_change", lang) + " " + self._join(bad, lang))
        if any(t.kind == "repeat" for t in state.turns):
            optional.append(self.kb.text("repeated_replies", lang))
        weakest = self.weakest_line(state, lang)
        for lines in ([*head, keys, *optional, weakest], [*head, keys, *optional[:2], weakest], [*head, keys, *optional[:1], weakest]):
            text = "\n".join(x for x in lines if x)
            if len(text) <= MAX_BUBBLE:
                return text
        return "\n".join(x for x in [*head, keys, weakest] if x)[:MAX_BUBBLE]

    def score_line_parts(self, parts: ScoreParts, lang: str) -> str:
        t = self.tune
        return self.kb.text(
            "score_parts",
            lang,
            score=parts.total,
            quality=parts.quality,
            quality_max=t.part_quality,
            trust=parts.trust,
            trust_max=t.part_trust,
            outcome=parts.outcome,
            outcome_max=t.part_outcome,
            key_points=parts.key,
            key_max=t.part_key,
        )

    def key_moves(self, state: SessionState) -> Tuple[List[str], List[str]]:
        """The type's key moves: one that answers its typical objection and one that asks in its way.
        Returns (used, missed) move ids: a used one names the move the trainee made, a missed one the type's first choice."""
        role = self.kb.types[state.type_id].practice
        used: List[str] = []
        missed: List[str] = []
        answering = [m.id for m in self.kb.moves.moves if role.objection in m.answers and m.id not in role.handle_with]
        for flag, options in (("handles", [*role.handle_with, *answering]), ("closes", list(role.close_with))):
            made = [t for t in state.turns if getattr(t, flag)]
            hit = next((m for t in made for m in t.moves if m in options and t.moves[m] > 0), None)
            if not made:
                missed.append(options[0])
            elif (hit or options[0]) not in used:
                used.append(hit or options[0])
        return used, missed

    def key_moves_line(self, state: SessionState, lang: str) -> str:
        used, missed = self.key_moves(state)
        sep = LIST_SEPARATOR[lang]
        bits = []
        if used:
            bits.append(self.kb.text("key_used", lang, moves=sep.join(move_name(self.kb, m, lang) for m in used)))
        if missed:
            bits.append(self.kb.text("key_missed", lang, moves=sep.join(move_name(self.kb, m, lang) for m in missed)))
        return self.kb.text("key_moves", lang, type=self.kb.type_name(state.type_id, lang), moves=" ".join(bits))

    def moves_made(self, state: SessionState, lang: str) -> Tuple[List[str], List[str]]:
        """The moves clearly made in scored replies, each with the trainee's words: the two that helped most and the
        two that cost most. A move is never in both: it is judged by its weight for this type."""
        made: Dict[str, Tuple[int, str]] = {}
        for t in state.turns:
            if t.kind != "read" or t.too_early:
                continue
            for m, w in t.moves.items():
                if m in t.sure and (m not in made or abs(w) > abs(made[m][0])):
                    made[m] = (w, excerpt(t.text, t.words.get(m, t.text), 6, 14))
        good = sorted((m for m, (w, _) in made.items() if w > 0), key=lambda m: -made[m][0])[:2]
        bad = sorted((m for m, (w, _) in made.items() if w < 0), key=lambda m: made[m][0])[:2]
        return [self._quoted(m, made[m][1], made[m][0], lang) for m in good], [self._quoted(m, made[m][1], made[m][0], lang) for m in bad]

    def _quoted(self, move_id: str, words: str, weight: int, lang: str) -> str:
        return QUOTED_MOVE[lang].format(move=move_name(self.kb, move_id, lang), words=words, weight=weight)

    @staticmethod
    def _join(items: List[str], lang: str) -> str:
        return CLAUSE_SEPARATOR[lang].join(items)

    def weakest(self, state: SessionState) -> Optional[Turn]:
        """The weakest reply, only when it is clearly weaker than the session's others (tune.clearly_weaker below
        the median) and not itself strong; one reply is compared with nothing."""
        scores = sorted(t.score for t in state.turns)
        if len(scores) < 2:
            return None
        median = scores[len(scores) // 2] if len(scores) % 2 else (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
        low = min(state.turns, key=lambda t: t.score)
        if low.score >= self.tune.strong_reply or low.score > median - self.tune.clearly_weaker + 1e-9:
            return None
        return low

    def weakest_line(self, state: SessionState, lang: str) -> str:
        """The weakest reply and a better line for this customer, trade and stage; or, after a single weak reply,
        a line to try. Nothing when no reply is clearly weaker (a strong session needs no "better")."""
        if len(state.turns) == 1 and state.turns[0].score < self.tune.strong_reply:
            better = self.better_than(state, state.turns[0], lang, anew=False)  # a line to try, not a correction
            return self.kb.text("try_line", lang, line=better) if better else ""
        low = self.weakest(state)
        if low is None:
            return ""
        better = self.better_than(state, low, lang)
        reply = excerpt(low.text, low.text, 16, 40)
        if not better:
            return self.kb.text("weakest_only", lang, reply=reply, score=round(low.score * 10, 1))
        return self.kb.text("better_line", lang, reply=reply, line=better, score=round(low.score * 10, 1))

    def better_than(self, state: SessionState, turn: Turn, lang: str, anew: bool = True) -> Optional[str]:
        """A line for this customer, trade and stage that differs from what the trainee said and scores higher;
        `anew`: none when the reply already made the stage's move (a "Better:" must say something new)."""
        stage = turn.stage
        move_id = self.stage_move(state.type_id, stage, handled=stage == "closing")
        if anew and move_id in turn.sure:  # the reply already made the stage's move: another line for it says nothing new (persona 10 T6)
            return None
        signals = ("keen",) if stage == "closing" else (None, "doubts")
        scene = self.all_scenes[state.scene]
        browsing = [*self.kb.ui.answers["opening_browsing"].en, *self.kb.ui.answers["opening_browsing"].zh]
        for line in self.candidates(state.type_id, stage, state.scene, lang, move_id):
            if similarity(line, turn.text) >= self.tune.same_line:
                continue
            if not scene.browsing and any(w in line.lower() for w in browsing):  # "Thanks for coming in" on a call
                continue
            score = min(self.engine.scorer.score(state.type_id, line, signal=signal).score for signal in signals)
            if score > turn.score and score >= self.tune.good_suggestion:
                return line
        return None

    def explain(self, state: SessionState, score: int, lang: str) -> str:
        """ "Why did I get N?": the session's own parts, the replies that cost points and why, what was missing."""
        parts = score_parts(state, self.tune)
        lines = [self.kb.text("why_score_head", lang, score=score), self.score_line_parts(parts, lang)]
        n = len(state.turns)
        costly = sorted(((1 - t.score) * self.tune.part_quality * parts.scale / max(1, n), i, t) for i, t in enumerate(state.turns))
        costly = [c for c in sorted(costly, reverse=True) if c[0] >= self.tune.costly_points]
        weak = [c for c in costly if c[2].score < self.tune.good_suggestion]
        # the weak replies; in a strong session ("why 95 and not 100?") the replies that cost most, good as they were
        for lost, i, t in (weak or costly[:2])[:3]:
            lines.append(
                self.kb.text(
                    "why_reply",
                    lang,
                    n=i + 1,
                    reply=excerpt(t.text, t.text, 10, 24),
                    lost=round(lost, 1),
                    why=self.turn_reason(state, t, lang),
                )
            )
        lines += self.groundwork_lines(state, parts, lang)
        if state.outcome != "agree":
            lines.append(self.kb.text("why_no_yes", lang, points=self.tune.part_outcome - parts.outcome))
        _, missed = self.key_moves(state)
        if missed:
            lines.append(self.key_moves_line(state, lang))
        if parts.scale < 1:
            lines.append(self.kb.text("why_few_replies", lang, n=n, full=self.tune.full_turns))
        return "\n".join(lines)

    def explain_turn(self, state: SessionState, index: int, lang: str) -> str:
        """ "Why was that reply only 5?": one reply's own parts, from what was recorded when it was scored (the moves its
        bubble named, with the words), what cost points, and a better line for this customer, trade and stage."""
        t = state.turns[index]
        score = round(t.score * 10, 1)
        lines = [self.kb.text("turn_why_head", lang, n=index + 1, reply=excerpt(t.text, t.text, 12, 30), score=score)]
        shown = [m for m in (t.shown or list(t.moves)) if m in self.moves]
        sep = "；" if lang == "zh" else "; "
        if shown and t.kind in ("read", "list"):
            read = sep.join(f"{move_name(self.kb, m, lang)} “{excerpt(t.text, t.words.get(m, t.text), 8, 20)}”" for m in shown)
            lines.append(self.kb.text("turn_why_read", lang, moves=read))
        elif t.kind == "read":
            lines.append(self.kb.text("turn_why_nothing_read", lang))
        bad = [m for m in shown if t.moves.get(m, 0) < 0]
        if t.score >= self.tune.strong_reply and not bad and not t.too_early and t.kind == "read":
            lines.append(self.kb.text("turn_why_fine", lang, type=self.kb.type_name(state.type_id, lang)))
        else:
            lines.append(self.kb.text("turn_why_cost", lang, why=self.turn_reason(state, t, lang)))
            better = self.better_than(state, t, lang, anew=False)
            if better:
                lines.append(self.kb.text("turn_why_better", lang, line=better))
        return "\n".join(lines)

    def groundwork_lines(self, state: SessionState, parts: ScoreParts, lang: str) -> List[str]:
        """Why trust and the outcome counted less than the customer gave (scoring.groundwork): no needs question, no
        proof, a request for the decision too early."""
        share = groundwork(state.turns)
        if share >= 1.0 or not state.turns:
            return []
        full = self.tune.part_trust * max(0.0, min(1.0, state.trust)) + (
            self.tune.part_outcome if state.outcome == "agree" else self.tune.outcome_handled if state.handled else 0
        )
        lost = round(full * parts.scale - parts.trust - parts.outcome)
        if share == 0.0:
            points = round(full * parts.scale)
            return [self.kb.text("why_no_needs", lang, points=points)] if points > 0 else []
        if lost <= 0:
            return []
        early = [t for t in state.turns if t.too_early]
        if early:  # the reason the replies' bubbles gave: a doubt left open, or a customer not yet ready
            if all(t.not_ready for t in early):
                return [self.kb.text("why_early_unready", lang, lost=lost)]
            return [self.kb.text("why_early_close", lang, lost=lost)]
        return [self.kb.text("why_no_proof", lang, lost=lost)]

    def turn_reason(self, state: SessionState, t: Turn, lang: str) -> str:
        """Why one reply lost points, from what was recorded when it was scored."""
        if t.kind == "repeat":
            return self.kb.text("why_repeat", lang)
        if t.kind == "short":
            return self.kb.text("why_short", lang)
        if t.kind == "greeting":
            return self.kb.text("why_greeting", lang)
        if t.kind == "list":
            return self.kb.text("why_list", lang)
        if t.too_early:  # the reason the reply's bubble gave
            return self.kb.text("why_not_ready", lang) if t.not_ready else self.kb.text("why_too_early", lang)
        shown = t.shown or list(t.moves)  # what the reply's bubble named; older sessions: every move read
        bad = [m for m in shown if t.moves.get(m, 0) < 0]
        sep = LIST_SEPARATOR[lang]
        if bad:
            return self.kb.text(
                "why_bad_moves", lang, moves=sep.join(move_name(self.kb, m, lang) for m in bad), type=self.kb.type_name(state.type_id, lang)
            )
        if any(t.moves.get(m, 0) > 0 for m in shown):
            best = move_name(self.kb, self.stage_move(state.type_id, t.stage, handled=t.stage == "closing"), lang)
            return self.kb.text("why_fair_move", lang, move=best, type=self.kb.type_name(state.type_id, lang))
        return self.kb.text("why_no_move", lang, type=self.kb.type_name(state.type_id, lang))


def excerpt(original: str, unit: str, words_en: int = 8, chars_zh: int = 20) -> str:
    """The trainee's own words behind a reading (`unit` is the normalised text the scorer read), as written:
    original case, whole words, short."""
    norm, unit = normalise(original), unit.strip()
    start = norm.find(unit) if unit else -1
    text = original[start : start + len(unit)] if start >= 0 and len(norm) == len(original) else original
    text = text.strip(" ,.;:!?，。；：！？、")
    if han_count(text):
        return text if len(text) <= chars_zh else text[:chars_zh].rstrip("，。；：、 ") + "…"
    tokens = text.split()
    return text if len(tokens) <= words_en else " ".join(tokens[:words_en]).rstrip(",.;:") + "…"
