"""Feedback: the line after each reply, hints and the rubric, and the summary at the end of a session."""

from __future__ import annotations

from typing import Dict, List, Tuple

from ...loader import trade_words_in
from ...schema import Scene, local
from ...text import han_count, normalise
from ..answer import Answer
from ..explain import move_name, reading, reply_feedback
from ..replies import ReplyScore
from ..runtime import Engine
from .state import SessionState
from .tuning import STAGES, TUNING, Tuning


class Feedback:
    def __init__(self, engine: Engine, scenes: Dict[str, Scene], tune: Tuning = TUNING):
        self.engine = engine
        self.kb = engine.kb
        self.scenes = scenes
        self.tune = tune
        self.moves = {m.id: m for m in self.kb.moves.moves}

    # one reply --------------------------------------------------------------------------
    def score_line(
        self, state: SessionState, result: ReplyScore, kind: str, quality: float, handles: bool, too_early: bool, lang: str
    ) -> str:
        score = round(quality * 10, 1)
        if kind == "repeat":
            return self.kb.text("turn_repeat", lang, score=score)
        if kind == "short":
            return self.kb.text("turn_short", lang, score=score)
        if kind == "greeting":
            return self.kb.text("turn_greeting", lang, score=score)
        note = " ".join(
            [reply_feedback(self.kb, state.type_id, result, lang)]
            + ([self.kb.text("turn_handled", lang)] if handles else [])
            + ([self.kb.text("turn_too_early", lang)] if too_early else [])
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
                example=self.better_line(state.type_id, state.stage, state.trade, lang, move_id, n=state.facts),
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

    def better_line(self, type_id: str, stage: str, trade: str, lang: str, move_id: str, n: int = 0) -> str:
        """A real line for that stage and move: a needs question of the trade, the type's own phrase for the
        stage, else an example of the move; always one that names no other trade's things. The first of these
        that the scorer rates a good reply for the type is shown (else the best rated): the coach never
        suggests a line its own scoring would penalise ("Who will be in the car?" read as involving a decider)."""
        candidates: List[str] = []
        if self.moves[move_id].reaction == "question":
            questions = local(self.scenes[trade].questions, lang)
            candidates += questions[n % len(questions) :] + questions[: n % len(questions)]
        phrases = [local(p, lang) for p in self.kb.types[type_id].phrases if p.stage == stage]
        candidates += [p for p in phrases if set(trade_words_in(p, self.scenes, lang)) <= {trade}]
        examples = local(self.moves[move_id].examples, lang)
        named = {e: trade_words_in(e, self.scenes, lang) for e in examples}
        candidates += [e for e in examples if not named[e]] + [e for e in examples if named[e] == [trade]] or examples
        # rated as the customer may hear it: keen at the close, else neutral or doubting (a stray close weighs more)
        signals = ("keen",) if stage == "closing" else (None, "doubts")
        best = (-1.0, candidates[0])
        for line in dict.fromkeys(candidates):
            score = min(self.engine.scorer.score(type_id, line, signal=signal).score for signal in signals)
            if score >= self.tune.good_suggestion:
                return line
            best = max(best, (score, line))
        return best[1]

    def rubric(self, type_id: str, lang: str) -> Answer:
        rubric = self.kb.types[type_id].practice.rubric
        good = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: -kv[1]) if w > 0][:5]
        bad = [move_name(self.kb, m, lang) for m, w in sorted(rubric.items(), key=lambda kv: kv[1]) if w < 0][:5]
        sep = "、" if lang == "zh" else ", "
        return Answer().say(self.kb.text("rubric", lang, name=self.kb.type_name(type_id, lang), good=sep.join(good), bad=sep.join(bad)))

    def summary_text(self, state: SessionState, outcome: str, score: int, lang: str) -> str:
        """Outcome, score and why: moves actually made, each with its own reason, and one better line.
        An empty session gets no score, trust or stage lines: they would mean nothing."""
        type_id = state.type_id
        tname = self.kb.type_name(type_id, lang)
        if not state.turns:
            return "\n".join(
                [
                    self.kb.text(f"outcome_{outcome}", lang, name=tname),
                    self.kb.text("no_turns", lang),
                    self.kb.text("practice_not_counted", lang),
                ]
            )
        sep = "、" if lang == "zh" else ", "
        scored = [t for t in state.turns if t.kind == "read" and not t.too_early]
        lines = [self.kb.text(f"outcome_{outcome}", lang, name=tname), self.kb.text("final_score", lang, score=score)]
        # a stage counts as covered only through a scored reply that covered it
        covered = [s for s in STAGES if any(s in t.covers for t in scored) and s in state.covered]
        lines.append(
            self.kb.text(
                "summary_breakdown",
                lang,
                turns=len(state.turns),
                trust=int(round(state.trust * 100)),
                stages=sep.join(self.kb.text(f"pstage_{s}", lang) for s in covered) or self.kb.text("none_covered", lang),
            )
        )
        made: Dict[str, Tuple[int, str, str]] = {}
        for t in scored:
            for m, w in t.moves.items():
                if m not in t.sure:
                    continue
                if m not in made or (t.stage == "objections" and m in self.kb.types[type_id].practice.handle_with):
                    made[m] = (w, excerpt(t.text, t.words.get(m, t.text)), t.stage)
        good = sorted((m for m, (w, *_) in made.items() if w > 0), key=lambda m: -made[m][0])[:3]
        bad = sorted((m for m, (w, *_) in made.items() if w < 0), key=lambda m: made[m][0])[:3]
        if good:
            lines.append(self.kb.text("went_well", lang) + "\n" + "\n".join(self._move_reason(type_id, m, *made[m], lang) for m in good))
        changes = [self._move_reason(type_id, m, *made[m], lang) for m in bad]
        if any(t.kind == "repeat" for t in state.turns):
            changes.append("• " + self.kb.text("repeated_replies", lang))
        missed = [s for s in STAGES if s not in covered and s != "opening"]
        if missed and outcome != "agree":
            stage = missed[0]
            move = self.moves[self.stage_move(type_id, stage, handled=state.handled)]
            changes.append(
                "• " + self.kb.text("missed_stage", lang, stage=self.kb.text(f"pstage_{stage}", lang), hint=local(move.hint, lang))
            )
        if changes:
            lines.append(self.kb.text("to_change", lang) + "\n" + "\n".join(changes))
        weakest = min(state.turns, key=lambda t: t.score)
        if weakest.score < self.tune.strong_reply:  # a strong reply is never called weak, nor "improved"
            stage = weakest.stage
            line = self.better_line(type_id, stage, state.trade, lang, self.stage_move(type_id, stage, handled=stage == "closing"))
            if len(state.turns) >= 2:  # "weakest" compares replies: one reply is only worth another way to say it
                lines.append(self.kb.text("better_line", lang, reply=excerpt(weakest.text, weakest.text, 24, 60), line=line))
            else:
                lines.append(self.kb.text("try_line", lang, line=line))
        return "\n".join(lines)

    def _move_reason(self, type_id: str, move_id: str, weight: int, words: str, stage: str, lang: str) -> str:
        """One move the trainee made, the words that showed it, and why it lands with this type."""
        role, move = self.kb.types[type_id].practice, self.moves[move_id]
        reasons = [local(move.description, lang).rstrip("。.")]
        if weight > 0 and move_id in role.handle_with and stage == "objections":
            reasons.append(self.kb.text("why_handles", lang))
        elif weight > 0 and move_id in role.close_with and stage == "closing":
            reasons.append(self.kb.text("why_closes", lang))
        reasons.append(self.kb.text("why_weight", lang, type=self.kb.type_name(type_id, lang), weight=f"{weight:+d}"))
        glue = "；" if lang == "zh" else "; "
        quote = f"“{words}”"
        if lang == "zh":
            return f"• {move_name(self.kb, move_id, lang)}（{quote}）：{glue.join(reasons)}"
        return f"• {move_name(self.kb, move_id, lang)} ({quote}): {glue.join(reasons)}"


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
