"""What users create, kept per sender: corrections, saved customers, profiles, practice progress.

Separate from the read-only knowledge store so rebuilding knowledge never touches user data. One class, two
databases: SQLite in var/ (the embedded default) or PostgreSQL when COACH_DATABASE_URL is set (a cluster's
action servers share it). Statements are SQLAlchemy Core over the tables of knowledge/tables.py, so each is
written in the dialect of the database it runs on; no SQL text is rewritten.

Concurrent writers (two action servers, the Rasa server's profile writes, the `coach` CLI) are safe: SQLite runs
in WAL mode, each write is one `BEGIN IMMEDIATE` transaction that waits for another writer's lock (busy timeout),
and a write still refused (locked too long, or PostgreSQL restarting) is retried until RETRY_SECONDS have passed,
never dropped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import paths, tables
from .tables import customers, feedback, practice_sessions, practice_turns, profiles, team_members, teams

logger = logging.getLogger(__name__)

MAX_NAME = 60
DATABASE_URL_ENV = "COACH_DATABASE_URL"  # agreed with the cluster set-up: postgresql://user:pw@host:port/db
BUSY_SECONDS = 10.0  # SQLite waits this long on another writer's lock before one retry round
RETRY_SECONDS = 30.0  # then writes are retried this long (a PostgreSQL restart in the cluster's fault test is ~5 s)
TABLES = tuple(tables.metadata.tables)
SCHEMA_LOCK = 740518  # PostgreSQL advisory lock: two servers starting together must not race on CREATE TABLE
FINISHED = ("active", "abandoned")  # the statuses of a session that is not finished

T = TypeVar("T")
Row = Dict[str, Any]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def redacted(url: str) -> str:
    """A database URL fit to print: the password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def finished(column: Any = practice_sessions.c.status) -> Any:
    return column.notin_(FINISHED)


class UserData:
    """The application store the engine receives. `path` (a SQLite file) wins; else `url` or COACH_DATABASE_URL
    (postgresql://… or sqlite:///…); else var/coach.db. `durable=False` (throw-away stores of the benches) lets
    SQLite skip waiting for the disk."""

    def __init__(
        self,
        path: Optional[Path] = None,
        url: Optional[str] = None,
        busy_seconds: float = BUSY_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        durable: bool = True,
    ):
        url = None if path is not None else (url or os.environ.get(DATABASE_URL_ENV) or None)
        self.busy_seconds, self.retry_seconds = busy_seconds, retry_seconds
        if url and url.startswith(("postgres://", "postgresql://", "postgresql+")):
            self.dialect = "postgresql"
            self.url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)
            self.engine = sa.create_engine(
                self.url,
                pool_pre_ping=True,  # a connection PostgreSQL dropped (a restart) is replaced, not used
                connect_args={"connect_timeout": 10, "application_name": "sales-coach"},
            )
        else:
            self.dialect = "sqlite"
            self.path = Path(url.split(":///", 1)[1]) if url and url.startswith("sqlite:///") else (path or paths.app_db_path())
            self.url = f"sqlite:///{self.path}"
            paths.owner_only(self.path)  # SQLite gives its -wal and -shm files the database file's mode
            self.engine = sa.create_engine(
                self.url,
                poolclass=sa.pool.QueuePool,  # kept open: SQLAlchemy 1.4 would open the file for every statement
                connect_args={"timeout": busy_seconds, "check_same_thread": False},
            )
            sa.event.listen(self.engine, "connect", _sqlite_connected(durable))
            sa.event.listen(self.engine, "begin", _begin_immediate)
        self._run(self._create_tables, write=True)

    def __repr__(self) -> str:
        return f"UserData({redacted(self.url)})"

    # statements, transactions and retries ---------------------------------------------------------------
    def _retryable(self, exc: Exception) -> bool:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, sqlite3.OperationalError):
            return any(word in str(orig) for word in ("locked", "busy"))
        if self.dialect == "postgresql":
            import psycopg2
            from psycopg2 import errors

            if getattr(exc, "connection_invalidated", False):
                return True
            return isinstance(
                orig, psycopg2.OperationalError | psycopg2.InterfaceError | errors.SerializationFailure | errors.DeadlockDetected
            )
        return False

    def _run(self, work: Callable[[Connection], T], write: bool = False, commit: bool = True) -> T:
        """`work(connection)` alone (a read) or in one write transaction, retried while the database is busy or
        away; `commit=False` rolls the transaction back (a dry run that still counts)."""
        deadline, pause = time.monotonic() + self.retry_seconds, 0.05
        while True:
            try:
                with self.engine.connect() as conn:
                    if not write:
                        return work(conn)
                    transaction = conn.begin()
                    try:
                        result = work(conn)
                    except BaseException:
                        transaction.rollback()
                        raise
                    transaction.commit() if commit else transaction.rollback()
                    return result
            except (sa.exc.DBAPIError, sqlite3.OperationalError) as exc:
                if not self._retryable(exc) or time.monotonic() > deadline:
                    raise
                logger.warning("user-data store %s: %s; retrying", self.dialect, type(getattr(exc, "orig", exc)).__name__)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def read(self, statement: Any) -> List[Row]:
        """The rows of a SELECT built from knowledge/tables.py, as dicts."""
        return self._run(lambda conn: [dict(row._mapping) for row in conn.execute(statement)])

    def write(self, statement: Any) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        return int(self._run(lambda conn: conn.execute(statement).rowcount, write=True))

    def transaction(self, work: Callable[[Connection], T], commit: bool = True) -> T:
        """Several statements in one write transaction (`work(connection)`), retried as a whole."""
        return self._run(work, write=True, commit=commit)

    def rows(self, table: Union[str, sa.Table], order_by: Any = None, limit: Optional[int] = None, **equal: Any) -> List[Row]:
        """The rows of a table whose columns equal the given values (`rows("feedback", user=u)`), in `order_by`."""
        table = tables.metadata.tables[table] if isinstance(table, str) else table
        statement = sa.select(table).where(*(table.c[name] == value for name, value in equal.items()))
        if order_by is not None:
            statement = statement.order_by(*(order_by if isinstance(order_by, list | tuple) else [order_by]))
        return self.read(statement if limit is None else statement.limit(limit))

    def upsert(self, table: sa.Table, keys: Sequence[str], values: Row, update: Sequence[str]) -> Any:
        """INSERT ... ON CONFLICT (keys) DO UPDATE SET update = excluded (DO NOTHING without `update`), in the dialect
        of this store."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(**values)
        if not update:
            return statement.on_conflict_do_nothing(index_elements=list(keys))
        return statement.on_conflict_do_update(index_elements=list(keys), set_={c: statement.excluded[c] for c in update})

    def _create_tables(self, conn: Connection) -> None:
        if self.dialect == "postgresql":
            conn.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        tables.metadata.create_all(conn, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    # corrections -----------------------------------------------------------
    def add_feedback(self, user: str, text: str, predicted: Optional[str], corrected: str) -> None:
        self.write(feedback.insert().values(user=user, text=text, predicted=predicted or "", corrected=corrected, created=now()))

    def corrections(self) -> List[Dict[str, Any]]:
        """The latest correction of each described text, as training rows a trainer can review and add."""
        latest: Dict[str, str] = {}
        for row in self.read(sa.select(feedback.c.text, feedback.c.corrected).where(feedback.c.text != "").order_by(feedback.c.id)):
            latest[row["text"]] = row["corrected"]
        return [{"text": text, "type": type_id} for text, type_id in latest.items()]

    # saved customers ---------------------------------------------------------
    def save_customer(self, user: str, name: str, type_id: str, evidence: List[str], notes: str) -> Dict[str, Any]:
        row = {
            "user": user,
            "name": name[:MAX_NAME],
            "type_id": type_id,
            "evidence": json.dumps(evidence, ensure_ascii=False),
            "notes": notes,
            "updated": now(),
        }
        self.write(self.upsert(customers, ["user", "name"], row, ["type_id", "evidence", "notes", "updated"]))
        return row

    def customers(self, user: str) -> List[Dict[str, Any]]:
        """Saved customers, newest first, evidence as a list (the caller names the type in its language)."""
        return [{**r, "evidence": json.loads(r["evidence"] or "[]")} for r in self.rows(customers, customers.c.updated.desc(), user=user)]

    def rename_customer(self, user: str, old: str, new: str) -> None:
        where = (customers.c.user == user) & (customers.c.name == old)
        self.write(customers.update().where(where).values(name=new[:MAX_NAME], updated=now()))

    def delete_customer(self, user: str, name: str) -> None:
        self.write(customers.delete().where((customers.c.user == user) & (customers.c.name == name)))

    def find_customer(self, user: str, name: str) -> Optional[Dict[str, Any]]:
        """By exact name first, then by a name that contains or is contained in the one asked for."""
        wanted = name.strip().lower()
        if not wanted:
            return None
        rows = self.rows(customers, user=user)
        exact = [r for r in rows if r["name"].lower() == wanted]
        close = [r for r in rows if wanted in r["name"].lower() or (len(r["name"]) >= 2 and r["name"].lower() in wanted)]
        found = (exact or close)[:1]
        return {**found[0], "evidence": json.loads(found[0]["evidence"] or "[]")} if found else None

    # profiles (a display name) and teams (knowledge/teams.py) ---------------------------------------------
    def set_profile(self, user: str, name: str) -> Dict[str, str]:
        """The display name a person gave (web chat) or their platform reported (team chats). A team is never
        set here: it comes from a verified workspace or an invite code (knowledge/teams.py)."""
        row = {"user": user, "name": name.strip()[:MAX_NAME], "team": "", "updated": now()}
        self.write(self.upsert(profiles, ["user"], row, ["name", "updated"]))
        return self.profile(user)

    def profile(self, user: str) -> Dict[str, str]:
        """{user, name, team, team_name, role, updated}: `team` is the key of the person's team ("" for none),
        the one thing team_members() takes."""
        person = self.read(sa.select(profiles.c.name, profiles.c.updated).where(profiles.c.user == user))
        membership = self.read(
            sa.select(teams.c.platform, teams.c.workspace, teams.c.name.label("team_name"), team_members.c.role)
            .select_from(team_members.join(teams, teams.c.id == team_members.c.team_id))
            .where(team_members.c.user == user)
            .order_by(team_members.c.joined.desc())
            .limit(1)
        )
        row = {**(person[0] if person else {}), **(membership[0] if membership else {})}
        team = f"{row['platform']}:{row['workspace']}" if row.get("platform") else ""
        return {
            "user": user,
            "name": row.get("name") or "",
            "team": team,
            "team_name": (row.get("team_name") or "") if team else "",
            "role": (row.get("role") or "") if team else "",
            "updated": row.get("updated") or "",
        }

    def team_members(self, team: str) -> List[Dict[str, str]]:
        """The members of the team with this key (profile()['team']), with their display names: the only people
        a viewer's leaderboard may show. A key that names no team has no members."""
        platform, _, workspace = (team or "").partition(":")
        if not platform or not workspace:
            return []
        return self.read(
            sa.select(team_members.c.user, sa.func.coalesce(profiles.c.name, "").label("name"), team_members.c.role)
            .select_from(
                team_members.join(teams, teams.c.id == team_members.c.team_id).outerjoin(profiles, profiles.c.user == team_members.c.user)
            )
            .where((teams.c.platform == platform) & (teams.c.workspace == workspace))
            .order_by(team_members.c.user)
        )

    # practice ----------------------------------------------------------------
    def start_session(self, user: str, type_id: str, scenario: int, lang: str, state: Dict[str, Any]) -> int:
        def work(conn: Connection) -> int:
            started = now()
            active = (practice_sessions.c.user == user) & (practice_sessions.c.status == "active")
            conn.execute(practice_sessions.update().where(active).values(status="abandoned", ended=started))
            result = conn.execute(
                practice_sessions.insert().values(
                    user=user,
                    type_id=type_id,
                    scenario=scenario,
                    lang=lang,
                    started=started,
                    ended="",
                    status="active",
                    trust=state.get("trust", 0.0),
                    turns=0,
                    score=0,
                    state=json.dumps(state, ensure_ascii=False),
                )
            )
            return int(result.inserted_primary_key[0])

        return self.transaction(work)

    def active_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = self.rows(practice_sessions, practice_sessions.c.id.desc(), 1, user=user, status="active")
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def last_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = self.rows(practice_sessions, practice_sessions.c.id.desc(), 1, user=user)
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def recent_sessions(self, user: str, limit: int, finished_only: bool = False) -> List[Dict[str, Any]]:
        """The trainee's latest sessions, newest first, state as stored (JSON text)."""
        statement = sa.select(practice_sessions).where(practice_sessions.c.user == user)
        if finished_only:
            statement = statement.where(finished())
        return self.read(statement.order_by(practice_sessions.c.id.desc()).limit(limit))

    def record_turn(self, session_id: int, n: int, reply: str, score: float, moves: List[str], state: Dict[str, Any]) -> None:
        def work(conn: Connection) -> None:
            row = {"session_id": session_id, "n": n, "reply": reply[:2000], "score": score, "moves": json.dumps(moves)}
            conn.execute(self.upsert(practice_turns, ["session_id", "n"], row, ["reply", "score", "moves"]))
            conn.execute(
                practice_sessions.update()
                .where(practice_sessions.c.id == session_id)
                .values(turns=n, trust=state.get("trust", 0.0), state=json.dumps(state, ensure_ascii=False))
            )

        self.transaction(work)

    def save_session_state(self, session_id: int, state: Dict[str, Any]) -> None:
        """A running session's state kept without a turn (what the trainee said they sell, noted mid-session)."""
        self.write(
            practice_sessions.update().where(practice_sessions.c.id == session_id).values(state=json.dumps(state, ensure_ascii=False))
        )

    def finish_session(self, session_id: int, score: int, status: str, state: Dict[str, Any]) -> None:
        self.write(
            practice_sessions.update()
            .where(practice_sessions.c.id == session_id)
            .values(status=status, score=score, ended=now(), state=json.dumps(state, ensure_ascii=False))
        )

    def progress(self, user: str) -> Dict[str, Any]:
        sessions = [
            {
                "type": r["type_id"],
                "score": r["score"],
                "turns": r["turns"],
                "outcome": r["status"],
                "started": r["started"],
                "ended": r["ended"],
            }
            for r in self.read(
                sa.select(practice_sessions).where((practice_sessions.c.user == user) & finished()).order_by(practice_sessions.c.id)
            )
        ]
        by_type: Dict[str, List[int]] = {}
        for s in sessions:
            by_type.setdefault(s["type"], []).append(s["score"])
        averages = {t: round(sum(v) / len(v), 1) for t, v in by_type.items()}
        weakest = min(averages, key=lambda t: averages[t]) if averages else None
        return {
            "user": user,
            "sessions": sessions,
            "by_type": averages,
            "weakest_type": weakest,
            "average": round(sum(s["score"] for s in sessions) / len(sessions), 1) if sessions else None,
        }

    def session_highlights(self, user: str, limit: int) -> List[Dict[str, Any]]:
        """The latest finished sessions, newest first, each with its best and weakest scored reply as the coach
        scored them in the session (its stored turns): {type_id, started, score, turns, outcome, best, weakest},
        best and weakest {text, score} or None (weakest None too when it is the best)."""
        found = []
        for row in self.recent_sessions(user, limit, finished_only=True):
            state = json.loads(row["state"] or "{}")
            turns = [t for t in state.get("turns", []) if isinstance(t, dict) and t.get("text")]
            best = max(turns, key=lambda t: t["score"]) if turns else None
            worst = min(turns, key=lambda t: t["score"]) if turns else None
            found.append(
                {
                    "type_id": row["type_id"],
                    "started": row["started"],
                    "score": row["score"],
                    "turns": row["turns"],
                    "outcome": row["status"],
                    "best": {"text": best["text"], "score": best["score"]} if best else None,
                    "weakest": {"text": worst["text"], "score": worst["score"]} if worst is not None and worst is not best else None,
                }
            )
        return found

    def leaderboard(self, users: Optional[List[str]] = None, limit: int = 5, *, min_sessions: int) -> List[Dict[str, Any]]:
        """Trainees ranked by their average over finished sessions (with at least one scored reply), only
        those with min_sessions of them (the callers pass knowledge/engine/practice LEADERBOARD_MIN_SESSIONS, the
        one floor): a single short lucky session cannot top the board. Anonymous (purged) sessions count for no one."""
        p = practice_sessions.c
        statement = sa.select(p.user, p.type_id, p.score).where(finished() & (p.turns > 0) & (p.user != ""))
        if users:
            statement = statement.where(p.user.in_(users))
        scores: Dict[str, List[int]] = {}
        by_type: Dict[str, Dict[str, List[int]]] = {}
        for row in self.read(statement):
            scores.setdefault(row["user"], []).append(row["score"])
            by_type.setdefault(row["user"], {}).setdefault(row["type_id"], []).append(row["score"])
        rows: List[Dict[str, Any]] = [
            {
                "user": u,
                "average": round(sum(v) / len(v), 1),
                "sessions": len(v),
                "by_type": {t: round(sum(x) / len(x)) for t, x in sorted(by_type[u].items())},
            }
            for u, v in scores.items()
            if len(v) >= min_sessions
        ]
        return sorted(rows, key=lambda r: (-r["average"], -r["sessions"], r["user"]))[:limit]

    def team_leaderboard(self, viewer: str, limit: int = 5, *, min_sessions: int) -> List[Dict[str, Any]]:
        """The board a viewer may see: their team's members (only the viewer without a team), ranked as
        leaderboard() ranks, each row with the member's display `name` ("" when unknown) and `viewer` True on the
        viewer's own row. Never anyone outside the team."""
        team = self.profile(viewer).get("team") or ""
        names = {m["user"]: m["name"] for m in (self.team_members(team) if team else [])}
        rows = self.leaderboard(list(names) or [viewer], limit, min_sessions=min_sessions)
        return [{**row, "name": names.get(row["user"], ""), "viewer": row["user"] == viewer} for row in rows]

    # retention and deletion (`coach purge`, `coach forget`) ---------------------------------------------
    def users(self) -> List[str]:
        """Every sender id something is stored for."""
        union = sa.union(*(sa.select(table.c.user) for table in tables.PER_USER))
        return sorted(r["user"] for r in self.read(union) if r["user"])

    def purge(self, before: str, dry_run: bool = False) -> Dict[str, int]:
        """Delete what was last touched before `before` (an ISO time like `now()`): saved customers, corrections,
        and the text of practice sessions (their replies and state). The sessions' scores stay, anonymous: the
        trainee's id is removed with the text. Counts per kind; a dry run counts and changes nothing."""
        p = practice_sessions.c
        old_session = (sa.func.coalesce(sa.func.nullif(p.ended, ""), p.started) < before) & ((p.user != "") | (p.state != "{}"))

        def work(conn: Connection) -> Dict[str, int]:
            old_ids = sa.select(p.id).where(old_session)
            return {
                "customers": conn.execute(customers.delete().where(customers.c.updated < before)).rowcount,
                "feedback": conn.execute(feedback.delete().where(feedback.c.created < before)).rowcount,
                "practice_replies": conn.execute(practice_turns.delete().where(practice_turns.c.session_id.in_(old_ids))).rowcount,
                "practice_sessions_anonymised": conn.execute(
                    practice_sessions.update()
                    .where(old_session)
                    .values(user="", state="{}", status=sa.case((p.status == "active", "abandoned"), else_=p.status))
                ).rowcount,
            }

        return self.transaction(work, commit=not dry_run)

    def forget(self, users: Sequence[str], dry_run: bool = False) -> Dict[str, int]:
        """Delete everything stored for these sender ids: saved customers, corrections, profile, practice sessions
        with their replies and scores. Counts per kind; a dry run counts and changes nothing."""
        users = [u for u in users if u]

        def work(conn: Connection) -> Dict[str, int]:
            counts = {"customers": 0, "feedback": 0, "profiles": 0, "team_members": 0, "practice_replies": 0, "practice_sessions": 0}
            if not users:
                return counts
            for table in (customers, feedback, profiles, team_members):
                counts[table.name] = conn.execute(table.delete().where(table.c.user.in_(users))).rowcount
            theirs = sa.select(practice_sessions.c.id).where(practice_sessions.c.user.in_(users))
            counts["practice_replies"] = conn.execute(practice_turns.delete().where(practice_turns.c.session_id.in_(theirs))).rowcount
            counts["practice_sessions"] = conn.execute(practice_sessions.delete().where(practice_sessions.c.user.in_(users))).rowcount
            return counts

        return self.transaction(work, commit=not dry_run)


def _sqlite_connected(durable: bool) -> Callable[[Any, Any], None]:
    def connected(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are SQLAlchemy's (BEGIN IMMEDIATE below), not pysqlite's
        dbapi_connection.execute("pragma journal_mode=wal")
        if not durable:
            dbapi_connection.execute("pragma synchronous=off")

    return connected


def _begin_immediate(conn: Connection) -> None:
    """A write transaction takes SQLite's write lock at its start (waiting up to the busy timeout), so two writers
    never both read and then fail to upgrade their lock."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")
