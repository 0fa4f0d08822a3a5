"""The programmes' records in the application store, in knowledge/teams.py's pattern: the tables are declared in
knowledge/tables.py and read and written through UserData with SQLAlchemy Core statements (SQLite and PostgreSQL).

- team_settings: a team's pass mark, time zone and leaderboard switch (a team without a row has the defaults of
  knowledge/content/programs.yaml, and no leaderboard).
- assignments: practice a manager gave their team or one person: type, trade, level, pass mark, attempts, due day
  (in the team's time zone), and for an exam the seed and scene everyone meets.
- assignment_sessions: which practice session was played for which assignment (the result counts for it).
- assignment_drafts: a manager's assignment while the buttons still ask for its parts.
- certificates: a type's certificate, recorded when earned (it stays when a pass mark changes later).

Time comes from an injected clock (`clock`), so tests set the day and due dates without touching the real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...tables import assignment_drafts, assignment_sessions, assignments, certificates, practice_sessions, team_settings
from ...teams import Team
from ...userdata import UserData, finished

Clock = Callable[[], datetime]

PROGRAM_TABLES = (team_settings, assignments, assignment_sessions, assignment_drafts, certificates)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Settings:
    pass_mark: int
    timezone: str
    leaderboard: bool

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Assignment:
    id: int
    team_id: int
    manager: str
    assignee: str  # a sender id, or "" for the whole team
    type_id: str
    trade: str  # "" for any trade
    level: str
    pass_mark: int
    attempts: int
    due: str  # an ISO day in the team's time zone, "" for none
    exam: bool
    seed: int
    scene: str
    created: str
    status: str

    @property
    def due_day(self) -> Optional[date]:
        return date.fromisoformat(self.due) if self.due else None


@dataclass(frozen=True)
class Attempts:
    """One person's sessions for one assignment."""

    made: int  # finished sessions
    started: int  # every session played for it (an exam's one attempt is used when started)
    running: bool
    best: Optional[int]


class ProgramStore:
    def __init__(self, store: UserData, clock: Clock = utc_now, defaults: Optional[Settings] = None):
        self.store = store
        self.clock = clock
        self.defaults = defaults or Settings(70, "UTC", False)  # the tables are made with the store's (tables.py)

    def now(self) -> str:
        return self.clock().astimezone(timezone.utc).isoformat(timespec="seconds")

    # team settings ------------------------------------------------------------------------------------
    def settings(self, team: Optional[Team]) -> Settings:
        if team is None:
            return self.defaults
        rows = self.store.rows(team_settings, team_id=team.id)
        if not rows:
            return self.defaults
        row = rows[0]
        return Settings(
            int(row["pass_mark"] or self.defaults.pass_mark),
            row["timezone"] or self.defaults.timezone,
            bool(row["leaderboard"]) if row["leaderboard"] is not None else self.defaults.leaderboard,
        )

    def set_settings(
        self, team: Team, pass_mark: Optional[int] = None, timezone_name: Optional[str] = None, leaderboard: Optional[bool] = None
    ) -> Settings:
        """Change what is given; ValueError for a pass mark outside 1-100 or an unknown time zone."""
        if pass_mark is not None and not 1 <= pass_mark <= 100:
            raise ValueError("a pass mark is 1 to 100")
        if timezone_name is not None:
            try:
                ZoneInfo(timezone_name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {timezone_name!r} (an IANA name such as Asia/Shanghai)") from exc
        now = self.settings(team)
        new = Settings(
            pass_mark if pass_mark is not None else now.pass_mark,
            timezone_name or now.timezone,
            now.leaderboard if leaderboard is None else leaderboard,
        )
        row = {"team_id": team.id, "pass_mark": new.pass_mark, "timezone": new.timezone, "leaderboard": int(new.leaderboard)}
        self.store.write(self.store.upsert(team_settings, ["team_id"], {**row, "updated": self.now()}, [*row][1:] + ["updated"]))
        return new

    def today(self, team: Optional[Team]) -> date:
        """The day it is in the team's time zone."""
        return self.clock().astimezone(self.settings(team).zone).date()

    # assignments --------------------------------------------------------------------------------------
    def _assignment(self, row: Dict[str, Any]) -> Assignment:
        return Assignment(
            int(row["id"]),
            int(row["team_id"]),
            row["manager"],
            row["assignee"] or "",
            row["type_id"],
            row["trade"] or "",
            row["level"],
            int(row["pass_mark"]),
            int(row["attempts"]),
            row["due"] or "",
            bool(row["exam"]),
            int(row["seed"] or 0),
            row["scene"] or "",
            row["created"] or "",
            row["status"],
        )

    def add_assignment(
        self,
        team: Team,
        manager: str,
        assignee: str,
        type_id: str,
        trade: str,
        level: str,
        pass_mark: int,
        attempts: int,
        due: str,
        exam: bool = False,
        seed: int = 0,
        scene: str = "",
    ) -> Assignment:
        values = dict(team_id=team.id, manager=manager, assignee=assignee, type_id=type_id, trade=trade, level=level)
        values.update(pass_mark=pass_mark, attempts=attempts, due=due, exam=int(exam), seed=seed, scene=scene)
        statement = assignments.insert().values(**values, created=self.now(), status="open")  # the id: RETURNING on PostgreSQL
        found = self.assignment(self.store.transaction(lambda conn: int(conn.execute(statement).inserted_primary_key[0])))
        assert found is not None
        return found

    def assignment(self, assignment_id: int) -> Optional[Assignment]:
        rows = self.store.rows(assignments, id=assignment_id)
        return self._assignment(rows[0]) if rows else None

    def team_assignments(self, team: Team) -> List[Assignment]:
        rows = self.store.rows(assignments, assignments.c.id, team_id=team.id, status="open")
        return [self._assignment(r) for r in rows]

    def assignments_for(self, user: str, team: Team) -> List[Assignment]:
        """The open assignments of the person's team given to them or to the whole team."""
        return [a for a in self.team_assignments(team) if a.assignee in ("", user)]

    def link_session(self, session_id: int, assignment_id: int, user: str) -> None:
        row = {"session_id": session_id, "assignment_id": assignment_id, "user": user}
        self.store.write(self.store.upsert(assignment_sessions, ["session_id"], row, []))

    def assignment_of_session(self, session_id: int) -> Optional[Assignment]:
        link = assignment_sessions.c
        rows = self.store.read(
            sa.select(assignments)
            .select_from(assignment_sessions.join(assignments, assignments.c.id == link.assignment_id))
            .where(link.session_id == session_id)
        )
        return self._assignment(rows[0]) if rows else None

    def attempts(self, assignment_id: int, users: Sequence[str]) -> Dict[str, Attempts]:
        """Each person's sessions for the assignment (everyone asked for is in the answer)."""
        out = {u: Attempts(0, 0, False, None) for u in users}
        if not users:
            return out
        link, s = assignment_sessions.c, practice_sessions.c
        rows = self.store.read(
            sa.select(link.user, s.status, s.score)
            .select_from(assignment_sessions.join(practice_sessions, s.id == link.session_id))
            .where((link.assignment_id == assignment_id) & link.user.in_(list(users)))
        )
        for row in rows:
            was = out[row["user"]]
            finished = row["status"] not in ("active", "abandoned")
            score = int(row["score"]) if finished else None
            best = max((x for x in (was.best, score) if x is not None), default=None)
            out[row["user"]] = Attempts(was.made + int(finished), was.started + 1, was.running or row["status"] == "active", best)
        return out

    # drafts -------------------------------------------------------------------------------------------
    def draft(self, user: str) -> Dict[str, Any]:
        rows = self.store.rows(assignment_drafts, user=user)
        return json.loads(rows[0]["data"]) if rows else {}

    def save_draft(self, user: str, data: Dict[str, Any]) -> None:
        row = {"user": user, "data": json.dumps(data, ensure_ascii=False), "updated": self.now()}
        self.store.write(self.store.upsert(assignment_drafts, ["user"], row, ["data", "updated"]))

    def drop_draft(self, user: str) -> None:
        self.store.write(assignment_drafts.delete().where(assignment_drafts.c.user == user))

    # results and certificates -------------------------------------------------------------------------
    def finished_sessions(self, user: str) -> List[Dict[str, Any]]:
        """The person's finished practice sessions: type, score, level (None before levels) and whether an exam."""
        s = practice_sessions.c
        rows = self.store.read(sa.select(s.id, s.type_id, s.score, s.state, s.ended).where((s.user == user) & finished()).order_by(s.id))
        out = []
        for row in rows:
            try:
                state = json.loads(row["state"] or "{}")
            except ValueError:
                state = {}
            out.append(
                {
                    "id": int(row["id"]),
                    "type": row["type_id"],
                    "score": int(row["score"]),
                    "level": state.get("level") if isinstance(state, dict) else None,
                    "ended": row["ended"] or "",
                }
            )
        return out

    def certificates(self, user: str) -> Dict[str, str]:
        """type id -> the day the certificate was earned."""
        return {r["type_id"]: (r["earned"] or "")[:10] for r in self.store.rows(certificates, user=user)}

    def award(self, user: str, type_id: str) -> bool:
        """Record a certificate; False when the person already held it."""
        row = {"user": user, "type_id": type_id, "earned": self.now()}
        return bool(self.store.write(self.store.upsert(certificates, ["user", "type_id"], row, [])))

    def forget(self, users: Sequence[str], dry_run: bool = False) -> Dict[str, int]:
        """Everything the programmes keep for these people: their certificates, drafts, the assignments given to
        them alone and the links of their sessions (assignments they gave a whole team stay). Counts per table;
        a dry run counts and changes nothing."""
        users = [u for u in users if u]
        counts = {"certificates": 0, "assignment_drafts": 0, "assignment_sessions": 0, "assignments": 0}
        if not users:
            return counts

        def work(conn: Connection) -> Dict[str, int]:
            for table in (assignment_sessions, assignment_drafts, certificates):
                counts[table.name] = conn.execute(table.delete().where(table.c.user.in_(users))).rowcount
            counts["assignments"] = conn.execute(assignments.delete().where(assignments.c.assignee.in_(users))).rowcount
            return counts

        return self.store.transaction(work, commit=not dry_run)
