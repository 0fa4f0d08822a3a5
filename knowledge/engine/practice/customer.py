"""The practice customer: which line they say next, from the type's reactions, the scene and the shared lines.

What the customer says is composed from validated content: the scene (scenes/<trade>.yaml: product, facts
that answer needs questions, the wording of each kind of objection) and the type's trade-neutral reactions to
what the trainee just did (types/<id>.yaml, practice.reactions). No line is said twice in a session. The
customer agrees only when the type's typical objection was answered and the decision was asked for in a way
that suits the type.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from ...loader import load_more_scenes, load_scenes, load_shared_reactions
from ...schema import NEUTRAL_SCENE, Reactions, Scene, local
from ...text import normalise
from .. import clauses
from ..wording import SENTENCE_GLUE
from .state import LineRef, Pool, SessionState
from .tuning import TUNING, Tuning, level_of

_QUOTED = re.compile(r"^'([^']+)'|“([^”]+)”|「([^」]+)」")  # a customer's line quoting the trainee's words


@lru_cache(maxsize=1)
def scenes() -> Tuple[Dict[str, Scene], Reactions]:
    """The trades' first scenes (by trade) and the shared fallback reactions, validated by the loader (cached)."""
    return load_scenes(), load_shared_reactions()


@lru_cache(maxsize=1)
def more_scenes() -> Dict[str, Scene]:
    """The trades' further scenes and the neutral scene, by scene id (scenes/more/)."""
    return load_more_scenes(scenes()[0])


class Customer:
    """Picks the customer's lines for one session state; holds no state of its own."""

    def __init__(self, kb: Any, tune: Tuning = TUNING):
        self.kb = kb
        self.scenes, self.shared = scenes()
        self.all_scenes: Dict[str, Scene] = {**self.scenes, **more_scenes()}  # by scene id; a trade's first scene's id is the trade
        self.tune = tune

    # pools --------------------------------------------------------------------------------
    def scene_of(self, state: SessionState) -> Scene:
        return self.all_scenes[state.scene]

    def scenes_for(self, trade: str) -> List[str]:
        """Every scene id of a trade, its first scene first; the neutral scene for a trade without scenes."""
        if trade not in self.scenes:
            return [NEUTRAL_SCENE]
        return [trade] + sorted(i for i, s in self.all_scenes.items() if s.trade == trade)

    def choose_scene(self, trade: str, said: str, lang: str, rng: random.Random, avoid: List[str]) -> str:
        """The scene for a session: one whose own words the trainee used ("our CRM"), else a scene of any product
        when the trainee named what they sell ("HR and payroll software"), else one not played lately."""
        options = self.scenes_for(trade)
        if len(options) == 1:
            return options[0]
        text = normalise(said)
        if text:
            for scene_id in options:
                own = [w for w in local(self.all_scenes[scene_id].words, lang) if w.lower() not in self._shared_words(options, lang)]
                if any(self._affirmed(text, normalise(w)) for w in own):  # "I don't sell CRM" picks no CRM scene
                    return scene_id
            generic = [i for i in options if self.all_scenes[i].any_product]
            if generic:
                return generic[0]
        fresh = [i for i in options if i not in avoid] or options
        return rng.choice(fresh)

    @staticmethod
    def _affirmed(text: str, word: str) -> bool:
        """The word is in the text and not said in a negation."""
        at = text.find(word)
        return bool(word) and at >= 0 and not clauses.negated_at(text, at)

    def _shared_words(self, options: List[str], lang: str) -> set:
        """Words every scene of the trade uses ("software"): they say the trade, not the scene."""
        sets = [{w.lower() for w in local(self.all_scenes[i].words, lang)} for i in options]
        return set.intersection(*sets) if sets else set()

    def pool_lines(self, pool: Pool) -> Any:
        """The bilingual lines of a pool."""
        if pool.source == "type":
            obj: Any = getattr(self.kb.types[pool.owner].practice, pool.field)
            return getattr(obj, pool.key) if pool.key else obj
        if pool.source == "scene":
            scene = self.all_scenes[pool.owner]
            return scene.objections[pool.key] if pool.field == "objections" else getattr(scene, pool.field)
        return getattr(self.shared, pool.field)

    def type_pool(self, state: SessionState, field: str, key: str = "") -> Pool:
        return Pool("type", state.type_id, field, key)

    def scene_pool(self, state: SessionState, field: str, key: str = "") -> Pool:
        return Pool("scene", state.scene, field, key)

    @staticmethod
    def shared_pool(key: str) -> Pool:
        return Pool("shared", "", key)

    def reaction_pools(self, state: SessionState, key: str) -> Tuple[Pool, Pool]:
        return self.type_pool(state, "reactions", key), self.shared_pool(key)

    def line_text(self, ref: str, lang: str) -> str:
        line = LineRef.parse(ref)
        return str(local(self.pool_lines(line.pool), lang)[line.index])

    def says(self, state: SessionState, lang: str) -> str:
        """The customer's waiting line, as the trainee reads it."""
        return self.kb.text("customer_says", lang, line=SENTENCE_GLUE[lang].join(self.line_text(r, lang) for r in state.line))

    def said(self, state: SessionState, lang: str) -> List[str]:
        """The texts of every line the customer said so far (for checks and the simulator)."""
        return [self.line_text(r, lang) for r in state.used]

    # picking ---------------------------------------------------------------------------------
    def opening(self, state: SessionState, rng: random.Random) -> List[str]:
        """The type's first words, then the scene's opening line; on a call or at the customer's home, none of
        the type's openings that browse ("Hi, sorry, I'm just looking")."""
        pool = self.type_pool(state, "openings")
        refs = [
            self._take(state, self._fresh(state, pool, 3, rng, fits=self._fits_place(state, pool))),
            self._take(state, self._fresh(state, self.scene_pool(state, "openings"), 2, rng)),
        ]
        return [x for x in refs if x]

    def pick(self, state: SessionState, *pools: Pool, reply: Optional[str] = None) -> Optional[str]:
        """The first unused line of the first pool that has one, in a per-session shuffled order; given the trainee's
        `reply`, never a line that quotes words the reply did not say ("'Trust me'? That's what the last one said.")."""
        rng = random.Random(f"{state.seed}:{state.turn}")
        for pool in pools:
            lines = self.pool_lines(pool)
            indexes = list(range(min(len(lines.en), len(lines.zh))))
            if not (pool.source == "scene" and pool.field == "needs"):  # facts are told in order
                rng.shuffle(indexes)
                heard = set(state.heard)
                indexes.sort(key=lambda i: pool.ref(i).id in heard)  # stable: lines new to the trainee first
            for i in indexes:
                ref = pool.ref(i).id
                if reply is not None and not self._quotes_fit(lines, i, reply):
                    continue
                if ref not in state.used:
                    state.used.append(ref)
                    return ref
        return None

    @staticmethod
    def _quotes_fit(lines: Any, index: int, reply: str) -> bool:
        """A line that quotes the trainee ('Trust me'?, “相信我”？) fits only a reply that said those words."""
        said = normalise(reply)
        for lang in ("en", "zh"):
            for quoted in _QUOTED.findall(str(local(lines, lang)[index])):
                words = normalise(next(q for q in quoted if q))
                if words and words not in said:
                    return False
        return True

    def _fresh(self, state: SessionState, pool: Pool, count: int, rng: random.Random, fits: Optional[List[int]] = None) -> str:
        """One of a pool's first `count` lines (of those that fit, when given), one the trainee has not heard lately
        if there is one."""
        refs = [pool.ref(i).id for i in range(count) if fits is None or i in fits] or [pool.ref(i).id for i in range(count)]
        return rng.choice([r for r in refs if r not in state.heard] or refs)

    def _fits_place(self, state: SessionState, pool: Pool) -> Optional[List[int]]:
        """Indexes of the pool's lines that fit the scene's place (None: all fit)."""
        if self.scene_of(state).browsing:
            return None
        words = self.kb.ui.answers["opening_browsing"]
        lines = self.pool_lines(pool)
        return [
            i
            for i in range(min(len(lines.en), len(lines.zh)))
            if not any(w in lines.en[i] or w in lines.zh[i] for w in [*words.en, *words.zh])
        ]

    @staticmethod
    def _take(state: SessionState, ref: str) -> str:
        state.used.append(ref)
        return ref

    def reaction(self, state: SessionState, key: str) -> List[str]:
        line = self.pick(state, *self.reaction_pools(state, key))
        return [line] if line else []

    def to_stage(self, state: SessionState, stage: str) -> None:
        if state.stage != stage:
            state.stage, state.stage_turns = stage, 0

    def raise_objection(self, state: SessionState, objection: str) -> Optional[str]:
        line = self.pick(state, self.scene_pool(state, "objections", objection))
        state.raised += 1
        self.to_stage(state, "objections")
        return line

    def fact(self, state: SessionState, peek: bool = False) -> Optional[str]:
        """The next thing the customer tells about their needs; once all are told, nothing new."""
        pool = self.scene_pool(state, "needs")
        if peek:
            lines = self.pool_lines(pool)
            return next((pool.ref(i).id for i in range(min(len(lines.en), len(lines.zh))) if pool.ref(i).id not in state.used), None)
        line = self.pick(state, pool)
        if line:
            state.facts += 1
        return line

    def answer_question(self, state: SessionState, topics: List[str]) -> Tuple[Optional[str], bool]:
        """The customer's answer to a needs question: (line, told a need). The need the question asks about (the scene's
        needs_about), else the next need in line when the question names no topic the scene knows; a topic already
        told gets "I told you that already", one the scene has no need for "I haven't thought about that"."""
        about = self.scene_of(state).needs_about
        asked = [t for t in topics if t in about]
        if not topics or not about:
            line = self.fact(state)
            return line, line is not None
        pool = self.scene_pool(state, "needs")
        for topic in asked:
            for i, t in enumerate(about):
                if t == topic and pool.ref(i).id not in state.used:
                    state.used.append(pool.ref(i).id)
                    state.facts += 1
                    return pool.ref(i).id, True
        said = self.pick(state, self.shared_pool("said_before" if asked else "not_thought"))
        if said:
            return said, False
        line = self.fact(state)  # those used up too: the customer tells what is left
        return line, line is not None

    def answers_open(self, state: SessionState, topics: List[str]) -> bool:
        """A needs question the scene still has an answer for (at any stage)."""
        about = self.scene_of(state).needs_about
        if not topics or not about:
            return self.fact(state, peek=True) is not None
        pool = self.scene_pool(state, "needs")
        return any(t in topics and pool.ref(i).id not in state.used for i, t in enumerate(about))

    # the customer's answer ------------------------------------------------------------------------
    def answer(
        self,
        state: SessionState,
        reaction: str,
        kind: str,
        quality: float,
        handles: bool,
        fits_close: bool,
        wins_now: bool = False,
        topics: Optional[List[str]] = None,
        reply: str = "",
    ) -> Tuple[List[str], Optional[str]]:
        """The customer's next line ids and the outcome, from what the trainee did and the stage of the sale. A question
        is answered before anything else, on what it asked (`topics`, schema QUESTION_TOPICS); the type's preamble to an
        answer ("OK, I'll tell you") is said only when an answer follows."""
        topics = topics or []
        tune = self.tune
        role = self.kb.types[state.type_id].practice
        covered = state.covered
        good = kind == "read" and quality >= tune.good_reply
        if state.turn == 1 and good:
            covered.append("opening")
        level = level_of(state.level)
        if state.trust <= (tune.walk_at if level.walk_at is None else level.walk_at):
            return self.reaction(state, "walk_away"), "walk_away"
        if state.handled and fits_close and (reaction == "close" or state.stage == "closing") and state.trust >= tune.agree_at:
            covered.append("closing")
            return self.reaction(state, "agree"), "agree"
        if wins_now and state.trust >= tune.agree_at:  # the objection answered and the next step asked for, at once
            state.handled = True
            covered += ["objections", "closing"]
            return self.reaction(state, "agree"), "agree"
        key = "close_early" if reaction == "close" else reaction
        stage = state.stage
        if key == "close_early" and not state.raised and stage != "closing":
            # asked to decide before any doubt was voiced: the customer voices it (nothing to "fix" yet)
            return [x for x in [self.raise_objection(state, role.objection)] if x] or self.reaction(state, "walk_away"), None
        scene_line: Optional[str] = None
        extra: Optional[str] = None
        told = False  # a need told in answer to the trainee's question
        if kind != "read":
            scene_line = None
        elif stage in ("opening", "needs", "presenting") and reaction in ("evidence", "offer") and good and handles:
            # the doubt answered before it was voiced: the customer moves on to what comes next
            covered += [x for x in ("presenting", "objections") if x not in covered]
            state.raised, state.handled = state.raised + 1, True
            self.to_stage(state, "closing")
            scene_line = self.pick(state, self.scene_pool(state, "ready"))
        elif stage in ("opening", "needs", "presenting") and reaction in ("evidence", "offer") and good:
            if "presenting" not in covered:
                covered.append("presenting")
            scene_line = self.raise_objection(state, role.objection)
        elif stage in ("opening", "needs", "presenting") and reaction == "question":
            if good and "needs" not in covered:
                covered.append("needs")
            scene_line, told = self.answer_question(state, topics)
            if state.facts >= tune.needs_before_prompt and stage != "presenting":
                extra = self.pick(state, self.scene_pool(state, "prompts"))
                self.to_stage(state, "presenting")
            elif stage == "opening":
                self.to_stage(state, "needs")
        elif stage == "objections" and handles:
            state.handled = True
            covered.append("objections")
            self.to_stage(state, "closing")
            scene_line = self.pick(state, self.scene_pool(state, "ready"))
        elif (
            stage in ("objections", "closing")
            and reaction == "question"
            and good
            and (self.answers_open(state, topics) or stage == "closing")
        ):
            # a needs question gets an answer from the scene at any stage; once the doubt is answered, any question is
            # answered (with "I haven't thought about that" when the scene has nothing), never met with silence
            scene_line, told = self.answer_question(state, topics)
        elif stage == "objections" and state.raised < level.objections:
            scene_line = self.raise_objection(state, role.objection)
        elif stage == "opening":
            self.to_stage(state, "needs")
        if state.stage == "needs" and state.stage_turns > tune.needs_turns and not (scene_line or extra):
            scene_line = self.pick(state, self.scene_pool(state, "prompts"))
            self.to_stage(state, "presenting")
        elif state.stage == "presenting" and state.stage_turns > tune.presenting_turns and not scene_line:
            scene_line = self.raise_objection(state, role.objection)
        # an answered objection is not met with the type's protest at being pushed ("I can't say yes on my own. OK, that
        # answers it."): the scene's line alone says the customer moves on; a preamble to an answer needs the answer
        promises = key == "question" and not told
        first = (
            None
            if (handles and key in ("close_early", "pressure")) or promises
            else self.pick(state, *self.reaction_pools(state, key), reply=reply)
        )
        ids = [x for x in (first, scene_line, extra) if x]
        if not ids:  # every fitting line was said already: the customer has heard enough
            return self.reaction(state, "walk_away"), "walk_away"
        return ids, None
