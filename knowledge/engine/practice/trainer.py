"""Quiz, progress and the leaderboard: what a trainee sees outside a practice session."""

from __future__ import annotations

import random
from typing import Dict, Optional, Sequence

from ...schema import local
from ...userdata import UserData
from ..answer import Answer
from ..lookup import type_in
from ..runtime import Engine
from ..wording import LIST_SEPARATOR


class Trainer:
    """Quiz and progress: what a trainee sees outside a practice session."""

    def __init__(self, engine: Engine, store: UserData):
        self.kb = engine.kb
        self.store = store

    def quiz(self, lang: str, seed: Optional[int] = None) -> Answer:
        rng = random.Random(seed)
        type_id = rng.choice(sorted(self.kb.types))
        cue = rng.choice(local(self.kb.types[type_id].cues, lang))
        options = rng.sample([t for t in sorted(self.kb.types) if t != type_id], 3) + [type_id]
        rng.shuffle(options)
        reply = Answer(slots={"quiz_type": type_id}).say(self.kb.text("quiz_question", lang, cue=cue))
        for option in options:
            reply.button(self.kb.type_name(option, lang), "quiz_answer", type_id=option)
        return reply

    def answer(self, expected: Optional[str], text: str, lang: str, named: Optional[str] = None) -> Answer:
        if not expected:
            return Answer().say(self.kb.text("no_quiz", lang)).button(self.kb.text("btn_quiz", lang), "quiz")
        given = named if named in self.kb.types else type_in(self.kb, text)
        t = self.kb.types[expected]
        verdict = "quiz_right" if given == expected else "quiz_wrong"
        reply = Answer(slots={"quiz_type": None}).say(
            self.kb.text(verdict, lang, name=local(t.names, lang)),
            f"{local(t.summary, lang)}\n{self.kb.text('keywords_are', lang)}: {', '.join(local(t.keywords, lang)[:5])}",
        )
        return reply.button(self.kb.text("btn_quiz_again", lang), "quiz").button(
            self.kb.text("btn_practise_type", lang), "start_practice", type_id=expected
        )

    def progress(self, user: str, lang: str) -> Answer:
        p = self.store.progress(user)
        if not p["sessions"]:
            return Answer().say(self.kb.text("no_progress", lang)).button(self.kb.text("btn_practice", lang), "start_practice")
        lines = [self.kb.text("progress_head", lang, n=len(p["sessions"]), avg=p["average"])]
        lines += [f"• {self.kb.type_name(t, lang)}: {s}" for t, s in sorted(p["by_type"].items(), key=lambda kv: -kv[1])]
        lines.append(self.kb.text("weakest", lang, name=self.kb.type_name(p["weakest_type"], lang)))
        return (
            Answer().say("\n".join(lines)).button(self.kb.text("btn_practise_weakest", lang), "start_practice", type_id=p["weakest_type"])
        )

    def leaderboard(self, lang: str, users: Optional[Sequence[str]] = None, viewer: Optional[str] = None) -> Answer:
        """Ranked by the average over finished sessions, only with enough of them: one lucky short session
        cannot top the board. Asked from a chat (`viewer`), it covers the viewer's own team only (with no team, the
        viewer alone) and never shows another person's sender id: teammates by the name they gave, anyone else anonymously."""
        names: Dict[str, str] = {}
        if viewer is not None:
            team = self.store.profile(viewer).get("team") or ""
            members = self.store.team_members(team) if team else []
            names = {m["user"]: m["name"] for m in members if m.get("name")}
            users = [m["user"] for m in members] or [viewer]  # no team: only their own row, never everyone's
        rows = self.store.leaderboard(list(users) if users else None, min_sessions=LEADERBOARD_MIN_SESSIONS)
        if not rows:
            return Answer().say(self.kb.text("no_leaderboard", lang))
        lines = [self.kb.text("leaderboard_head", lang, min=LEADERBOARD_MIN_SESSIONS)]
        for n, r in enumerate(rows, 1):
            types = LIST_SEPARATOR[lang].join(f"{self.kb.type_name(t, lang)} {a}" for t, a in r["by_type"].items())
            if viewer is None:
                who = r["user"]
            elif r["user"] == viewer:
                who = self.kb.text("leaderboard_you", lang)
            else:
                who = names.get(r["user"]) or self.kb.text("leaderboard_someone", lang, n=n)
            lines.append(self.kb.text("leaderboard_row", lang, n=n, user=who, avg=r["average"], count=r["sessions"], types=types))
        return Answer().say("\n".join(lines))


LEADERBOARD_MIN_SESSIONS = 3  # the rule: an average over fewer sessions says too little
