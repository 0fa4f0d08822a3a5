"""The programmes' tables in the application store, in knowledge/teams.py's pattern: plain SQL in the subset SQLite
and PostgreSQL share, run through UserData (one connection, retried writes).

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

from ...teams import Team
from ...userdata import UserData

Clock = Callable[[], datetime]

SCHEMA = """
create table if not exists team_settings (team_id integer primary key, pass_mark integer, timezone text,
    leaderboard integer, updated text);
create table if not exists assignments (id {serial} primary key, team_id integer not null, manager text not null,
    assignee text not null default '', type_id text not null, trade text not null default '', level text not null,
    pass_mark integer not null, attempts integer not null, due text not null default '', exam integer not null default 0,
    seed integer not null default 0, scene text not null default '', created text, status text not null default 'open');
create index if not exists assignments_team on assignments (team_id, status);
create table if not exists assignment_sessions (session_id integer primary key, assignment_id integer not null,
    user text not null);
create index if not exists assignment_sessions_assignment on assignment_sessions (assignment_id, user);
create table if not exists assignment_drafts (user text primary key, data text not null, updated text);
create table if not exists certificates (user text not null, type_id text not null, earned text,
    primary key (user, type_id))
"""
PROGRAM_TABLES = ("team_settings", "assignments", "assignment_sessions", "assignment_drafts", "certificates")
FINISHED = "status not in ('active', 'abandoned')"  # a practice session that counts (userdata.progress's rule)


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
        self.defaults = defaults or Settings(70, "UTC", False)
        self.store._run(self._create_tables, write=True)

    def _create_tables(self, cursor: Any) -> None:
        if self.store.dialect == "postgresql":  # two servers starting together must not race on CREATE TABLE
            cursor.execute("select pg_advisory_xact_lock(740519)")
        for statement in SCHEMA.format(serial="serial" if self.store.dialect == "postgresql" else "integer").split(";"):
            if statement.strip():
                self.store._exec(cursor, statement)

    def now(self) -> str:
        return self.clock().astimezone(timezone.utc).isoformat(timespec="seconds")

    # team settings ------------------------------------------------------------------------------------
    def settings(self, team: Optional[Team]) -> Settings:
        if team is None:
            return self.defaults
        rows = self.store.query("select * from team_settings where team_id = ?", [team.id])
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
        self.store.write(
            "insert into team_settings (team_id, pass_mark, timezone, leaderboard, updated) values (?, ?, ?, ?, ?) "
            "on conflict (team_id) do update set pass_mark = excluded.pass_mark, timezone = excluded.timezone, "
            "leaderboard = excluded.leaderboard, updated = excluded.updated",
            [team.id, new.pass_mark, new.timezone, int(new.leaderboard), self.now()],
        )
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
        def work(cur: Any) -> int:
            self.store._exec(
                cur,
                "insert into assignments (team_id, manager, assignee, type_id, trade, level, pass_mark, attempts, due, exam, "
                "seed, scene, created, status) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') returning id",
                [team.id, manager, assignee, type_id, trade, level, pass_mark, attempts, due, int(exam), seed, scene, self.now()],
            )
            return int(cur.fetchone()[0])

        found = self.assignment(self.store._run(work, write=True))
        assert found is not None
        return found

    def assignment(self, assignment_id: int) -> Optional[Assignment]:
        rows = self.store.query("select * from assignments where id = ?", [assignment_id])
        return self._assignment(rows[0]) if rows else None

    def team_assignments(self, team: Team) -> List[Assignment]:
        rows = self.store.query("select * from assignments where team_id = ? and status = 'open' order by id", [team.id])
        return [self._assignment(r) for r in rows]

    def assignments_for(self, user: str, team: Team) -> List[Assignment]:
        """The open assignments of the person's team given to them or to the whole team."""
        return [a for a in self.team_assignments(team) if a.assignee in ("", user)]

    def link_session(self, session_id: int, assignment_id: int, user: str) -> None:
        self.store.write(
            "insert into assignment_sessions (session_id, assignment_id, user) values (?, ?, ?) on conflict (session_id) do nothing",
            [session_id, assignment_id, user],
        )

    def assignment_of_session(self, session_id: int) -> Optional[Assignment]:
        rows = self.store.query(
            "select a.* from assignment_sessions l join assignments a on a.id = l.assignment_id where l.session_id = ?", [session_id]
        )
        return self._assignment(rows[0]) if rows else None

    def attempts(self, assignment_id: int, users: Sequence[str]) -> Dict[str, Attempts]:
        """Each person's sessions for the assignment (everyone asked for is in the answer)."""
        out = {u: Attempts(0, 0, False, None) for u in users}
        if not users:
            return out
        marks = ",".join("?" * len(users))
        rows = self.store.query(
            "select l.user, s.status, s.score from assignment_sessions l join practice_sessions s on s.id = l.session_id "
            f"where l.assignment_id = ? and l.user in ({marks})",
            [assignment_id, *users],
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
        rows = self.store.query("select data from assignment_drafts where user = ?", [user])
        return json.loads(rows[0]["data"]) if rows else {}

    def save_draft(self, user: str, data: Dict[str, Any]) -> None:
        self.store.write(
            "insert into assignment_drafts (user, data, updated) values (?, ?, ?) on conflict (user) do update "
            "set data = excluded.data, updated = excluded.updated",
            [user, json.dumps(data, ensure_ascii=False), self.now()],
        )

    def drop_draft(self, user: str) -> None:
        self.store.write("delete from assignment_drafts where user = ?", [user])

    # results and certificates -------------------------------------------------------------------------
    def finished_sessions(self, user: str) -> List[Dict[str, Any]]:
        """The person's finished practice sessions: type, score, level (None before levels) and whether an exam."""
        sql = f"select id, type_id, score, state, ended from practice_sessions where user = ? and {FINISHED} order by id"
        rows = self.store.query(sql, [user])
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
        return {r["type_id"]: (r["earned"] or "")[:10] for r in self.store.query("select * from certificates where user = ?", [user])}

    def award(self, user: str, type_id: str) -> bool:
        """Record a certificate; False when the person already held it."""
        return bool(
            self.store.write(
                "insert into certificates (user, type_id, earned) values (?, ?, ?) on conflict (user, type_id) do nothing",
                [user, type_id, self.now()],
            )
        )

    def forget(self, users: Sequence[str], dry_run: bool = False) -> Dict[str, int]:
        """Everything the programmes keep for these people: their certificates, drafts, the assignments given to
        them alone and the links of their sessions (assignments they gave a whole team stay). Counts per table;
        a dry run counts and changes nothing."""
        users = [u for u in users if u]
        counts = {"certificates": 0, "assignment_drafts": 0, "assignment_sessions": 0, "assignments": 0}
        if not users:
            return counts
        marks = ",".join("?" * len(users))

        def work(cur: Any) -> Dict[str, int]:
            for table in ("assignment_sessions", "assignment_drafts", "certificates"):
                counts[table] = self.store._exec(cur, f"delete from {table} where user in ({marks})", users).rowcount
            counts["assignments"] = self.store._exec(cur, f"delete from assignments where assignee in ({marks})", users).rowcount
            return counts

        return self.store._run(work, write=True, commit=not dry_run)
