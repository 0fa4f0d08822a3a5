"""The training programmes in chat: levels, certificates and assignments, as Answers the dialogue routes to.

Plain Python on the application store: the practice engine plays the sessions (levels and exams are its start
parameters), this module decides which session counts for what. Who is a manager comes from the team model
(knowledge/teams.py, role `manager`); nothing here trusts a name typed in a message for that.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Dict, List, Optional, Tuple

from ...schema import TRADES, local
from ...teams import Team, Teams
from ...text import normalise
from ...userdata import UserData
from ..answer import Answer
from ..practice import Practice
from ..practice.tuning import DEFAULT_LEVEL, LEVELS
from ..reading.turn import without
from ..wording import LIST_SEPARATOR
from .content import ProgramContent, ProgramTexts, programs_content, say
from .requests import AssignmentRequest, ProgramReader
from .store import Assignment, Attempts, Clock, ProgramStore, Settings, utc_now
from .team_view import TeamOverview, assignment_state, overview

CERTIFICATE_LEVELS = ("normal", "hard")  # a type's certificate: a pass at the team's mark on each of these
DUE_BUTTON_DAYS = (3, 7, 14)  # the due-date buttons of an assignment asked for by buttons
DEFAULT_ATTEMPTS = 1
# "... to Alice", 「给小王布置」: a person the assignment is for, by the name they go by in the team
TO_PERSON_EN = re.compile(r"\bto\s+([a-z][\w .'-]{1,40}?)\s*(?:[,.;!?]|$)")
TO_PERSON_ZH = re.compile(r"给\s*([\u4e00-\u9fff\w]{1,8}?)\s*(?:布置|安排|[：:，,])")
DRAFT_FIELDS = ("type_id", "trade", "level", "pass_mark", "attempts", "due", "team", "people", "exam")


def program_store(userdata: UserData, clock: Clock = utc_now, content: Optional[ProgramContent] = None) -> ProgramStore:
    """The programmes' tables with the content's defaults (pass mark, time zone; the leaderboard off)."""
    content = content or programs_content()
    return ProgramStore(userdata, clock=clock, defaults=Settings(content.default_pass_mark, content.default_timezone, False))


@dataclass(frozen=True)
class CertificatePath:
    """One type's way to its certificate: the best score at each certificate level (None: not played there)."""

    type_id: str
    best: Dict[str, Optional[int]]
    pass_mark: int

    def passed(self, level: str) -> bool:
        best = self.best.get(level)
        return best is not None and best >= self.pass_mark

    @property
    def earned(self) -> bool:
        return all(self.passed(level) for level in CERTIFICATE_LEVELS)

    @property
    def closeness(self) -> Tuple[int, int]:
        """How near the certificate is: levels passed, then the best score at the level still to pass."""
        missing = [lv for lv in CERTIFICATE_LEVELS if not self.passed(lv)]
        return (len(CERTIFICATE_LEVELS) - len(missing), max((self.best.get(lv) or 0) for lv in missing) if missing else 100)


def certificate_paths(store: ProgramStore, user: str, type_ids: List[str], pass_mark: int) -> Dict[str, CertificatePath]:
    """Each type's best score at each certificate level, from the person's finished sessions."""
    best: Dict[str, Dict[str, Optional[int]]] = {t: {lv: None for lv in CERTIFICATE_LEVELS} for t in type_ids}
    for s in store.finished_sessions(user):
        level = s["level"] if s["level"] in LEVELS else DEFAULT_LEVEL  # stored before levels: played as normal
        if s["type"] in best and level in CERTIFICATE_LEVELS:
            now = best[s["type"]][level]
            best[s["type"]][level] = s["score"] if now is None else max(now, s["score"])
    return {t: CertificatePath(t, b, pass_mark) for t, b in best.items()}


def nearest_certificate(
    paths: Dict[str, CertificatePath], held: Dict[str, str], name_of: Callable[[str], str]
) -> Optional[CertificatePath]:
    """The certificate nearest to being earned; of equals, the first type by name."""
    open_paths = sorted((p for t, p in paths.items() if t not in held and not p.earned), key=lambda p: name_of(p.type_id))
    return max(open_paths, key=lambda p: p.closeness) if open_paths else None


def certificate_step(path: CertificatePath, texts: ProgramTexts, lang: str) -> Tuple[str, str]:
    """What is left for a type's certificate, and the level to practise it at next."""
    best = lambda lv: path.best[lv] if path.best[lv] is not None else say(texts.no_best, lang)  # noqa: E731
    if path.passed("normal"):
        return say(texts.step_hard, lang, mark=path.pass_mark, best=best("hard")), "hard"
    if path.passed("hard"):
        return say(texts.step_normal, lang, mark=path.pass_mark, best=best("normal")), "normal"
    return say(texts.step_both, lang, mark=path.pass_mark), "normal"


class Programs:
    def __init__(self, kb, userdata: UserData, practice: Practice, store: ProgramStore, content: Optional[ProgramContent] = None):
        self.kb = kb
        self.userdata = userdata
        self.practice = practice
        self.store = store
        self.content = content or programs_content()
        self.t = self.content.texts
        self.reader = ProgramReader(kb, self.content.words)
        self.teams = Teams(userdata)

    # names --------------------------------------------------------------------------------------------
    def level_name(self, level: str, lang: str) -> str:
        return str(local(self.content.levels[level].names, lang))

    def trade_name(self, trade: str, lang: str) -> str:
        return str(local(self.kb.ui.trades[trade].names, lang)) if trade in self.kb.ui.trades else say(self.t.any_trade, lang)

    def day_name(self, day: str, lang: str) -> str:
        if not day:
            return say(self.t.due_none, lang)
        d = date.fromisoformat(day)
        weekday = self.content.words.weekdays.en[d.weekday()][0] if lang == "en" else self.content.words.weekdays.zh[d.weekday()][0]
        return f"{weekday.capitalize()} {d.isoformat()}" if lang == "en" else f"{d.month}月{d.day}日（{weekday}）"

    def settings_of(self, user: str) -> Tuple[Optional[Team], Settings]:
        team = self.teams.team_of(user)
        return team, self.store.settings(team)

    # levels -------------------------------------------------------------------------------------------
    def level_named(self, text: str) -> Optional[str]:
        return self.reader.level(normalise(text))

    def without_level(self, text: str) -> str:
        """The message without its level's words ("a cold one on hard" describes a cold one)."""
        rest = normalise(text)
        for phrases in self.reader.level_words.values():
            rest = without(rest, phrases)
        return rest

    def asks_levels(self, text: str) -> bool:
        return self.reader.asks_levels(normalise(text))

    def levels_menu(self, lang: str, type_id: Optional[str] = None) -> Answer:
        """The three levels, each a button that starts a session at it (of the type asked about, if any; the trade
        is the conversation's, as for any practice button)."""
        rows = "\n".join(
            say(self.t.level_row, lang, name=self.level_name(lv, lang), about=local(self.content.levels[lv].about, lang)) for lv in LEVELS
        )
        reply = Answer().say(say(self.t.levels_menu, lang, levels=rows))
        for level in LEVELS:
            title = say(self.t.btn_level, lang, level=self.level_name(level, lang))
            if type_id:
                reply.button(title, "start_practice", level=level, type_id=type_id)
            else:
                reply.button(title, "start_practice", level=level)
        return reply

    # certificates -------------------------------------------------------------------------------------
    def paths(self, user: str) -> Dict[str, CertificatePath]:
        _, settings = self.settings_of(user)
        return certificate_paths(self.store, user, list(self.kb.types), settings.pass_mark)

    def newly_earned(self, user: str) -> List[str]:
        """Types whose certificate the person has earned and not yet been given (recorded now)."""
        held = self.store.certificates(user)
        return [t for t, p in sorted(self.paths(user).items()) if p.earned and t not in held and self.store.award(user, t)]

    def next_certificate(self, user: str) -> Optional[CertificatePath]:
        return nearest_certificate(self.paths(user), self.store.certificates(user), lambda t: self.kb.type_name(t, "en"))

    def step_text(self, path: CertificatePath, lang: str) -> Tuple[str, str]:
        return certificate_step(path, self.t, lang)

    def certificates(self, user: str, lang: str) -> Answer:
        self.newly_earned(user)  # earned before this build recorded certificates: shown from now on
        held = self.store.certificates(user)
        _, settings = self.settings_of(user)
        if held:
            lines = [say(self.t.certificates_head, lang, n=len(held), total=len(self.kb.types))]
            lines += [say(self.t.certificate_row, lang, type=self.kb.type_name(t, lang), date=d) for t, d in sorted(held.items())]
        else:
            lines = [say(self.t.certificates_none, lang, mark=settings.pass_mark)]
        reply = Answer().say("\n".join(lines))
        return self.with_next_step(reply, user, lang)

    def with_next_step(self, reply: Answer, user: str, lang: str) -> Answer:
        """The path to the next certificate, with a button that practises its next step."""
        nearest = self.next_certificate(user)
        if nearest is None:
            return reply.say(say(self.t.certificates_all, lang))
        step, level = self.step_text(nearest, lang)
        name = self.kb.type_name(nearest.type_id, lang)
        reply.say(say(self.t.certificate_next, lang, type=name, step=step))
        return reply.button(
            say(self.t.btn_type_at_level, lang, type=name, level=self.level_name(level, lang)),
            "start_practice",
            type_id=nearest.type_id,
            level=level,
        )

    # after a session ---------------------------------------------------------------------------------------
    def after_session(self, user: str, session_id: int, lang: str) -> Answer:
        """What a finished session means for the programmes: its assignment's status, a certificate earned."""
        note = Answer()
        assignment = self.store.assignment_of_session(session_id)
        if assignment is not None:
            status = self.status_text(assignment, self.store.attempts(assignment.id, [user])[user], lang, user)
            row = next((s for s in self.store.finished_sessions(user) if s["id"] == session_id), None)
            if row is not None:
                note.say(say(self.t.assignment_counted_pass, lang, score=row["score"], mark=assignment.pass_mark, status=status))
        for type_id in self.newly_earned(user):
            _, settings = self.settings_of(user)
            note.say(say(self.t.certificate_earned, lang, type=self.kb.type_name(type_id, lang), mark=settings.pass_mark))
        return note

    # assignments: the trainee --------------------------------------------------------------------------------
    def state_of(self, a: Assignment, tried: Attempts, today: date) -> str:
        """todo, running, done, failed or overdue (team_view.assignment_state)."""
        return assignment_state(a, tried, today)

    def status_text(self, a: Assignment, tried: Attempts, lang: str, user: str) -> str:
        team = self.teams.team_of(user)
        kind = self.state_of(a, tried, self.store.today(team))
        best = tried.best if tried.best is not None else "-"
        texts = {
            "running": self.t.status_running,
            "done": self.t.status_done,
            "failed": self.t.status_failed,
            "overdue": self.t.status_overdue,
            "todo": self.t.status_todo,
        }
        return say(texts[kind], lang, made=tried.made, attempts=a.attempts, best=best)

    def describe(self, a: Assignment, lang: str) -> Dict[str, object]:
        return {
            "kind": say(self.t.kind_exam, lang) if a.exam else "",
            "type": self.kb.type_name(a.type_id, lang),
            "trade": self.trade_name(a.trade, lang),
            "level": self.level_name(a.level, lang),
            "mark": a.pass_mark,
            "due": self.day_name(a.due, lang),
        }

    def my_assignments(self, user: str, lang: str) -> Answer:
        team = self.teams.team_of(user)
        mine = self.store.assignments_for(user, team) if team else []
        if not mine:
            reply = Answer().say(say(self.t.no_assignments, lang))
            return self.levels_buttons(reply, lang)
        today = self.store.today(team)
        tried = {a.id: self.store.attempts(a.id, [user])[user] for a in mine}
        lines = [say(self.t.assignments_head, lang)]
        reply = Answer()
        for a in mine:
            lines.append(say(self.t.assignment_row, lang, **self.describe(a, lang), status=self.status_text(a, tried[a.id], lang, user)))
            if self.state_of(a, tried[a.id], today) in ("todo", "overdue", "running"):
                title = say(self.t.btn_start_assignment, lang, type=self.kb.type_name(a.type_id, lang))
                reply.button(title, "start_assignment", assignment=str(a.id))
        reply.bubbles = Answer().say("\n".join(lines)).bubbles
        return reply

    def levels_buttons(self, reply: Answer, lang: str) -> Answer:
        for level in LEVELS:
            reply.button(say(self.t.btn_level, lang, level=self.level_name(level, lang)), "start_practice", level=level)
        return reply

    def start_assignment(self, user: str, lang: str, assignment_id: Optional[str]) -> Answer:
        """A session for an assignment of the person's: at its level, in its trade; an exam with its fixed customer."""
        team = self.teams.team_of(user)
        wanted = int(assignment_id) if assignment_id and assignment_id.isdigit() else None
        mine = self.store.assignments_for(user, team) if team else []
        if wanted is not None:
            found = next((a for a in mine if a.id == wanted), None)
            if found is None:  # an old button: the assignment was withdrawn, or the person changed teams
                return self.my_assignments(user, lang).say(say(self.t.assignment_gone, lang))
        else:  # typed "start my assignment": the first still to do
            today = self.store.today(team)
            to_do = [a for a in mine if self.state_of(a, self.store.attempts(a.id, [user])[user], today) in ("todo", "overdue")]
            if not to_do:
                return self.my_assignments(user, lang)
            found = to_do[0]
        tried = self.store.attempts(found.id, [user])[user]
        if found.exam and tried.started >= 1:
            return Answer().say(say(self.t.exam_taken, lang))
        intro = say(self.t.assignment_intro, lang, mark=found.pass_mark, due=self.day_name(found.due, lang))
        reply = self.practice.start(
            user,
            lang,
            named=found.type_id,
            trade=found.trade or None,
            level=found.level,
            exam=found.exam,
            seed=found.seed if found.exam else None,
            scene=found.scene or None,
        )
        session = self.userdata.active_session(user)
        if session is not None:
            self.store.link_session(int(session["id"]), found.id, user)
        reply.bubbles.insert(min(1, len(reply.bubbles)), intro)
        return reply

    # assignments: the manager --------------------------------------------------------------------------
    def manager_team(self, user: str) -> Tuple[Optional[Team], Optional[Answer], str]:
        """The team this person manages, or the answer that says why they cannot assign."""
        profile = self.userdata.profile(user)
        team = self.teams.team_of(user)
        if team is None:
            return None, None, "assign_no_team"
        if profile.get("role") != "manager":
            return None, None, "assign_not_manager"
        return team, None, ""

    def refusal(self, why: str, lang: str) -> Answer:
        return Answer().say(say(self.t.assign_no_team if why == "assign_no_team" else self.t.assign_not_manager, lang))

    def assign(self, user: str, lang: str, text: str = "", picked: Optional[Dict[str, str]] = None) -> Answer:
        """An assignment from words, completed by buttons: each part the message leaves out is asked for (type,
        trade, due day) and kept in the manager's draft meanwhile; level, pass mark, attempts and the people
        default to normal, the team's pass mark, one attempt and the whole team."""
        team, _, why = self.manager_team(user)
        if team is None:
            return self.refusal(why, lang)
        settings = self.store.settings(team)
        members = self.userdata.team_members(team.key)
        draft: Dict[str, object]
        if text:
            req = self.reader.request(text, self.store.today(team), [m for m in members if m["user"] != user])
            draft = req.as_draft()
            said = normalise(text)
            unknown = self.unknown_person(said, req, members, lang)
            if unknown is not None:
                return unknown
        else:  # a button: the draft's next part (a bare "assign" button starts afresh)
            draft = self.store.draft(user) if picked else {}
        for key, value in (picked or {}).items():
            draft[key] = value
        self.store.save_draft(user, {k: v for k, v in draft.items() if k in DRAFT_FIELDS})
        type_id = draft.get("type_id")
        if type_id not in self.kb.types:
            return self.ask_type(lang)
        if "trade" not in draft:
            return self.ask_trade(str(type_id), lang)
        level = str(draft.get("level")) if draft.get("level") in LEVELS else DEFAULT_LEVEL
        if "due" not in draft:
            return self.ask_due(str(type_id), str(draft["trade"]), level, lang)
        return self.create(user, team, settings, draft, members, lang)

    def unknown_person(self, norm: str, req: AssignmentRequest, members: List[Dict[str, str]], lang: str) -> Optional[Answer]:
        """ "to Alice" with no Alice in the team: said, with the team's names, rather than giving it to everyone."""
        m = TO_PERSON_EN.search(norm) or TO_PERSON_ZH.search(norm)
        if not m or req.people or req.team:
            return None
        name = m.group(1).strip()
        if self.reader.says(name, "team") or name in ("me", "myself", "我", "我们"):
            return None
        names = ", ".join(x["name"] for x in members if x.get("name")) or "-"
        return Answer().say(say(self.t.assign_unknown_person, lang, name=name, members=names))

    def ask_type(self, lang: str) -> Answer:
        reply = Answer().say(say(self.t.assign_pick_type, lang))
        for type_id in sorted(self.kb.types, key=lambda t: self.kb.type_name(t, lang)):
            reply.button(self.kb.type_name(type_id, lang), "assign_practice", type_id=type_id)
        return reply

    def ask_trade(self, type_id: str, lang: str) -> Answer:
        reply = Answer().say(say(self.t.assign_pick_trade, lang, type=self.kb.type_name(type_id, lang)))
        for trade in TRADES:
            reply.button(self.trade_name(trade, lang), "assign_practice", trade=trade)
        return reply.button(say(self.t.btn_any_trade, lang), "assign_practice", trade="any")

    def ask_due(self, type_id: str, trade: str, level: str, lang: str) -> Answer:
        reply = Answer().say(
            say(
                self.t.assign_pick_due,
                lang,
                type=self.kb.type_name(type_id, lang),
                trade=self.trade_name(trade, lang),
                level=self.level_name(level, lang),
            )
        )
        for days in DUE_BUTTON_DAYS:
            reply.button(say(self.t.btn_due_days, lang, n=days), "assign_practice", due=str(days))
        return reply.button(say(self.t.btn_due_none, lang), "assign_practice", due="none")

    def due_day(self, team: Team, value: object) -> str:
        """A draft's due: an ISO day as read from words, a number of days from a button, "none" for no due day."""
        text = str(value or "")
        if text.isdigit():
            return (self.store.today(team) + timedelta(days=int(text))).isoformat()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return ""

    def create(
        self, user: str, team: Team, settings: Settings, draft: Dict[str, object], members: List[Dict[str, str]], lang: str
    ) -> Answer:
        type_id = str(draft["type_id"])
        trade = str(draft.get("trade") or "")
        trade = trade if trade in TRADES else ""
        level = str(draft.get("level")) if draft.get("level") in LEVELS else DEFAULT_LEVEL
        exam = bool(draft.get("exam"))
        pass_mark = int(str(draft.get("pass_mark") or settings.pass_mark))
        attempts = 1 if exam else int(str(draft.get("attempts") or DEFAULT_ATTEMPTS))
        due = self.due_day(team, draft.get("due"))
        people = [p for p in draft.get("people") or [] if isinstance(p, str)]  # type: ignore[attr-defined]
        seed, scene = 0, ""
        if exam:  # one customer for everyone: the seed, and the scene drawn once from the trade's scenes
            rng = random.Random()
            seed = rng.randrange(1 << 30)
            scenes = self.practice.customer.scenes_for(trade or rng.choice(sorted(self.practice.scenes)))
            scene = rng.choice(scenes)
            trade = trade or (self.practice.customer.all_scenes[scene].trade or scene)
        given = [
            self.store.add_assignment(team, user, p, type_id, trade, level, pass_mark, attempts, due, exam=exam, seed=seed, scene=scene)
            for p in (people or [""])
        ]
        self.store.drop_draft(user)
        names = {m["user"]: m["name"] for m in members}
        if people:
            who = ", ".join(names.get(p) or say(self.t.someone, lang) for p in people)
        else:
            who = say(self.t.who_team, lang, n=len([m for m in members if m["user"] != user]))
        a = given[0]
        values = self.describe(a, lang)
        text = say(self.t.assigned_exam if exam else self.t.assigned, lang, who=who, attempts=attempts, **values)
        reply = Answer().say(text, say(self.t.assigned_note, lang))
        return reply.button(say(self.t.btn_report, lang), "assignment_report", assignment=str(a.id))

    def report(self, user: str, lang: str, assignment_id: Optional[str] = None) -> Answer:
        """Who has done what: each open assignment of the manager's team (or the one asked), person by person."""
        team, _, why = self.manager_team(user)
        if team is None:
            return self.refusal(why, lang)
        wanted = int(assignment_id) if assignment_id and assignment_id.isdigit() else None
        shown = [a for a in self.store.team_assignments(team) if wanted is None or a.id == wanted]
        if not shown:
            return Answer().say(say(self.t.report_none, lang))
        members = [m for m in self.userdata.team_members(team.key)]
        today = self.store.today(team)
        reply = Answer()
        for a in shown:
            people = [m for m in members if (a.assignee == "" and m["user"] != a.manager) or m["user"] == a.assignee]
            tried = self.store.attempts(a.id, [m["user"] for m in people])
            done = sum(self.state_of(a, tried[m["user"]], today) == "done" for m in people)
            lines = [say(self.t.report_head, lang, done=done, total=len(people), **self.describe(a, lang))]
            for n, m in enumerate(people, 1):
                name = m["name"] or f"{say(self.t.someone, lang)} {n}"
                lines.append(say(self.t.report_row, lang, name=name, status=self.status_text(a, tried[m["user"]], lang, m["user"])))
            reply.say("\n".join(lines))
        return reply.button(say(self.t.btn_assign, lang), "assign_practice")

    # the manager's view and the leaderboard setting ----------------------------------------------------
    def team_name(self, team: Team) -> str:
        return team.name or team.workspace

    def overview(self, team: Team) -> TeamOverview:
        return overview(self.userdata, self.store, team, self.state_of)

    def team_view(self, user: str, lang: str) -> Answer:
        """ "how is my team doing?": completion of the open assignments, the averages, the weakest types and each
        trainee in a line; a manager's only (a trainee is pointed to their own progress)."""
        team, _, why = self.manager_team(user)
        if team is None:
            if why == "assign_no_team":
                return self.refusal(why, lang)
            return Answer().say(say(self.t.team_not_manager, lang)).button(say(self.t.btn_my_progress, lang), "my_progress")
        view = self.overview(team)
        name, people = self.team_name(team), len(view.people)
        if view.sessions:
            lines = [say(self.t.team_head, lang, team=name, people=people, sessions=view.sessions, average=f"{view.average:g}")]
            scores = [
                say(self.t.team_type_score, lang, type=self.kb.type_name(t, lang), average=f"{view.by_type[t].average:g}")
                for t in view.weakest
            ]
            lines.append(say(self.t.team_weakest, lang, types=LIST_SEPARATOR[lang].join(scores)))
        else:
            lines = [say(self.t.team_head_empty, lang, team=name, people=people)]
        if view.assignments:
            done, total = view.completion
            lines.append(say(self.t.team_completion, lang, done=done, total=total))
            for a in view.assignments:
                described = self.describe(a.assignment, lang)
                lines.append(
                    say(
                        self.t.team_assignment_row,
                        lang,
                        kind=described["kind"],
                        type=described["type"],
                        level=described["level"],
                        due=described["due"],
                        done=a.done,
                        total=a.total,
                    )
                )
        else:
            lines.append(say(self.t.team_no_assignments, lang))
        rows = []
        unnamed = say(self.t.someone, lang)
        for p in view.people:
            who = view.name(p.user, unnamed)
            if not p.sessions:
                rows.append(say(self.t.team_person_idle, lang, name=who))
                continue
            weakest = min(p.by_type, key=lambda t: (p.by_type[t].average, t))
            rows.append(
                say(
                    self.t.team_person_row,
                    lang,
                    name=who,
                    sessions=p.sessions,
                    average=f"{p.average:g}",
                    weakest=self.kb.type_name(weakest, lang),
                    certificates=len(p.certificates),
                )
            )
        reply = Answer().say("\n".join(lines))
        if rows:
            reply.say("\n".join(rows))
        reply.say(say(self.t.team_page_note, lang))
        if view.assignments:
            reply.button(say(self.t.btn_report, lang), "assignment_report")
        reply.button(say(self.t.btn_assign, lang), "assign_practice")
        return self.leaderboard_button(reply, view.settings.leaderboard, lang)

    def leaderboard_button(self, reply: Answer, on: bool, lang: str) -> Answer:
        """The button that switches the team's leaderboard the other way."""
        return reply.button(
            say(self.t.btn_leaderboard_off if on else self.t.btn_leaderboard_on, lang), "leaderboard", switch="off" if on else "on"
        )

    def leaderboard_off(self, user: str, lang: str) -> Optional[Answer]:
        """The answer that says the person's team has its leaderboard off; None when it is on, or when they have no
        team (the board then shows their own row only: no one is compared)."""
        team, settings = self.settings_of(user)
        if team is None or settings.leaderboard:
            return None
        reply = Answer().say(say(self.t.leaderboard_off, lang, team=self.team_name(team)))
        if self.userdata.profile(user).get("role") == "manager":
            reply.button(say(self.t.btn_leaderboard_on, lang), "leaderboard", switch="on")
        return reply.button(say(self.t.btn_my_progress, lang), "my_progress")

    def switch_leaderboard(self, user: str, lang: str, on: bool) -> Answer:
        """A manager turns their team's leaderboard on or off."""
        team, _, why = self.manager_team(user)
        if team is None:
            text = self.t.assign_no_team if why == "assign_no_team" else self.t.leaderboard_switch_refused
            return Answer().say(say(text, lang))
        self.store.set_settings(team, leaderboard=on)
        reply = Answer().say(say(self.t.leaderboard_now_on if on else self.t.leaderboard_now_off, lang, team=self.team_name(team)))
        return self.leaderboard_button(reply, on, lang)
