"""The manager's view of a team (issue 26, slice 6): who practised what and how well, by week, the assignments'
completion and the certificates held. Plain data built from the application store; the chat's answer
(Programs.team_view), the web team page and its CSV (bot/channels/team_page.py) all show this one overview.

The people are the team's members who are not its managers; a manager's own practice is not their team's.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from ...tables import practice_sessions
from ...teams import Team
from ...userdata import UserData, finished
from .store import Assignment, Attempts, ProgramStore, Settings

WEAKEST_SHOWN = 3  # the chat names this many of the team's lowest-scoring types
WEEKS_SHOWN = 8  # the trend covers the latest weeks with practice, at most this many


@dataclass(frozen=True)
class Cell:
    """One person's (or the team's) finished sessions of one type."""

    sessions: int
    average: float


@dataclass(frozen=True)
class Person:
    user: str
    name: str
    sessions: int
    average: Optional[float]
    by_type: Dict[str, Cell]
    certificates: Dict[str, str]  # type id -> the day earned


@dataclass(frozen=True)
class AssignmentProgress:
    assignment: Assignment
    states: Dict[str, str]  # user -> todo, running, done, failed or overdue (Programs.state_of)
    attempts: Dict[str, Attempts]

    @property
    def done(self) -> int:
        return sum(state == "done" for state in self.states.values())

    @property
    def total(self) -> int:
        return len(self.states)


@dataclass(frozen=True)
class Week:
    start: str  # the Monday (ISO day) in the team's time zone
    team: Optional[float]  # the team's average score of that week's sessions
    sessions: int
    people: Dict[str, float] = field(default_factory=dict)  # user -> their average that week (who practised)


@dataclass(frozen=True)
class TeamOverview:
    team: Team
    settings: Settings
    people: List[Person]
    types: List[str]  # the types anyone practised, weakest team average first
    by_type: Dict[str, Cell]  # the team's cells per type
    weeks: List[Week]
    assignments: List[AssignmentProgress]

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.people)

    @property
    def average(self) -> Optional[float]:
        total = sum(c.sessions * c.average for c in self.by_type.values())
        return round(total / self.sessions, 1) if self.sessions else None

    @property
    def weakest(self) -> List[str]:
        return self.types[:WEAKEST_SHOWN]

    @property
    def completion(self) -> Tuple[int, int]:
        """(done, asked) over every open assignment and each person it was given to."""
        return sum(a.done for a in self.assignments), sum(a.total for a in self.assignments)

    def name(self, user: str, unnamed: str) -> str:
        """A person by the name they gave, else `unnamed` with their place in the list (never a sender id)."""
        for n, p in enumerate(self.people, 1):
            if p.user == user:
                return p.name or f"{unnamed} {n}"
        return unnamed


def assignment_state(a: Assignment, tried: Attempts, today: date) -> str:
    """todo, running, done, failed or overdue: one person's standing on one assignment."""
    if tried.running:
        return "running"
    if tried.best is not None and tried.best >= a.pass_mark and tried.made >= a.attempts:
        return "done"
    if a.exam and tried.started >= 1:
        return "failed"
    if a.due_day is not None and today > a.due_day:
        return "overdue"
    return "todo"


def week_of(stamp: str, settings: Settings) -> str:
    """The Monday of the week a session ended (in the team's time zone), as an ISO day."""
    when = datetime.fromisoformat(stamp).astimezone(settings.zone).date()
    return (when - timedelta(days=when.weekday())).isoformat()


def overview(userdata: UserData, store: ProgramStore, team: Team, state_of: Callable[[Assignment, Attempts, date], str]) -> TeamOverview:
    settings = store.settings(team)
    members = [m for m in userdata.team_members(team.key) if m.get("role") != "manager"]
    users = [m["user"] for m in members]
    s = practice_sessions.c
    rows = (
        userdata.read(sa.select(s.user, s.type_id, s.score, s.started, s.ended).where(s.user.in_(users) & finished()).order_by(s.id))
        if users
        else []
    )
    scores: Dict[str, Dict[str, List[int]]] = {u: {} for u in users}
    weekly: Dict[str, Dict[str, List[int]]] = {}
    for row in rows:
        scores[row["user"]].setdefault(row["type_id"], []).append(int(row["score"]))
        week = week_of(row["ended"] or row["started"], settings)
        weekly.setdefault(week, {}).setdefault(row["user"], []).append(int(row["score"]))

    def cell(values: Sequence[int]) -> Cell:
        return Cell(len(values), round(sum(values) / len(values), 1))

    people = []
    for m in members:
        mine = scores[m["user"]]
        every = [v for values in mine.values() for v in values]
        people.append(
            Person(
                m["user"],
                m.get("name") or "",
                len(every),
                round(sum(every) / len(every), 1) if every else None,
                {t: cell(v) for t, v in mine.items()},
                store.certificates(m["user"]),
            )
        )
    pooled: Dict[str, List[int]] = {}
    for mine in scores.values():
        for type_id, values in mine.items():
            pooled.setdefault(type_id, []).extend(values)
    by_type = {t: cell(v) for t, v in pooled.items()}
    types = sorted(by_type, key=lambda t: (by_type[t].average, t))
    weeks = []
    for start in sorted(weekly)[-WEEKS_SHOWN:]:
        every = [v for values in weekly[start].values() for v in values]
        people_avg = {u: round(sum(v) / len(v), 1) for u, v in weekly[start].items()}
        weeks.append(Week(start, round(sum(every) / len(every), 1), len(every), people_avg))
    today = store.today(team)
    progress = []
    for a in store.team_assignments(team):
        given = [u for u in users if a.assignee in ("", u)]
        tried = store.attempts(a.id, given)
        progress.append(AssignmentProgress(a, {u: state_of(a, tried[u], today) for u in given}, tried))
    return TeamOverview(team, settings, people, types, by_type, weeks, progress)


def as_csv(view: TeamOverview, type_name: Callable[[str], str], unnamed: str) -> str:
    """One row per person and type practised (and a row per person with no practice): the matrix a manager
    opens in a spreadsheet, with each person's certificates and assignment states."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["person", "type", "sessions", "average", "certificate", "assignments"])
    for p in view.people:
        states = "; ".join(f"{type_name(a.assignment.type_id)}: {a.states[p.user]}" for a in view.assignments if p.user in a.states)
        types = sorted(p.by_type) or [""]
        for type_id in types:
            c = p.by_type.get(type_id)
            writer.writerow(
                [
                    safe_cell(view.name(p.user, unnamed)),
                    type_name(type_id) if type_id else "",
                    c.sessions if c else 0,
                    c.average if c else "",
                    p.certificates.get(type_id, ""),
                    safe_cell(states),
                ]
            )
    return out.getvalue()


def safe_cell(value: str) -> str:
    """A name a person typed never runs as a spreadsheet formula (=, +, -, @ at the start)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
