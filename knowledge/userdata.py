"""What users create, kept per sender: corrections, saved customers, profiles, practice progress.

Separate from the read-only knowledge store so rebuilding knowledge never touches user data. One class, two
databases: SQLite in var/ (the embedded default) or PostgreSQL when COACH_DATABASE_URL is set (a cluster's
action servers share it). The SQL is written once in the subset both understand (`?` placeholders become
psycopg2's `%s`, the `user` column is quoted because it is a keyword in PostgreSQL).

Concurrent writers (two action servers, the `coach` CLI) are safe: SQLite runs in WAL mode, each write is one
`BEGIN IMMEDIATE` transaction that waits for another writer's lock (busy timeout), and a write still refused
(locked too long, or PostgreSQL restarting) is retried until RETRY_SECONDS have passed, never dropped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, TypeVar

from . import paths

logger = logging.getLogger(__name__)

MAX_NAME = 60
DATABASE_URL_ENV = "COACH_DATABASE_URL"  # agreed with the cluster set-up: postgresql://user:pw@host:port/db
BUSY_SECONDS = 10.0  # SQLite waits this long on another writer's lock before one retry round
RETRY_SECONDS = 30.0  # then writes are retried this long (a PostgreSQL restart in the cluster's fault test is ~5 s)
TABLES = ("feedback", "customers", "practice_sessions", "practice_turns", "profiles", "teams", "team_members")

T = TypeVar("T")

SCHEMA = """
create table if not exists feedback (id {serial} primary key, user text, text text, predicted text, corrected text,
    created text);
create table if not exists customers (user text, name text, type_id text, evidence text, notes text, updated text,
    primary key (user, name));
create table if not exists practice_sessions (id {serial} primary key, user text, type_id text, scenario integer,
    lang text, started text, ended text, status text, trust float, turns integer, score integer, state text);
create table if not exists practice_turns (session_id integer, n integer, reply text, score float, moves text,
    primary key (session_id, n));
create table if not exists profiles (user text primary key, name text, team text, updated text);
create table if not exists teams (id {serial} primary key, platform text not null, workspace text not null, name text,
    invite text, created text, unique (platform, workspace));
create table if not exists team_members (team_id integer not null, user text not null, role text not null default 'member',
    joined text, primary key (team_id, user));
create index if not exists team_members_user on team_members (user);
create index if not exists practice_sessions_user on practice_sessions (user, status);
create index if not exists feedback_user on feedback (user)
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@lru_cache(maxsize=512)
def portable(sql: str, dialect: str) -> str:
    """The statement for `dialect`: `user` quoted (PostgreSQL reads a bare `user` as CURRENT_USER), and for
    psycopg2 `?` as `%s` (a literal `%` doubled)."""
    sql = re.sub(r"(?<![\w\"'.])user(?![\w\"'])", '"user"', sql)
    return sql.replace("%", "%%").replace("?", "%s") if dialect == "postgresql" else sql


def redacted(url: str) -> str:
    """A database URL fit to print: the password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class UserData:
    """The application store the engine receives. `path` (a SQLite file) wins; else `url` or COACH_DATABASE_URL
    (postgresql://… or sqlite:///…); else var/coach.db."""

    def __init__(
        self,
        path: Optional[Path] = None,
        url: Optional[str] = None,
        busy_seconds: float = BUSY_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ):
        url = None if path is not None else (url or os.environ.get(DATABASE_URL_ENV) or None)
        if url and url.startswith(("postgres://", "postgresql://", "postgresql+")):
            self.dialect = "postgresql"
            self.url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)
        else:
            self.dialect = "sqlite"
            self.path = Path(url.split(":///", 1)[1]) if url and url.startswith("sqlite:///") else (path or paths.app_db_path())
            self.url = f"sqlite:///{self.path}"
        self.busy_seconds, self.retry_seconds = busy_seconds, retry_seconds
        self._lock = threading.RLock()  # one connection per process, one statement or transaction at a time
        self._conn: Any = None
        self.db = Tables(self)
        self._run(self._create_tables, write=True)

    def __repr__(self) -> str:
        return f"UserData({redacted(self.url)})"

    # the connection: one per process, reopened after PostgreSQL drops it --------------------------------
    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            paths.owner_only(self.path)  # SQLite gives its -wal and -shm files the database file's mode
            conn = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None, check_same_thread=False)
            conn.execute("pragma journal_mode=wal")
            return conn
        import psycopg2

        pg: Any = psycopg2.connect(self.url, connect_timeout=10, application_name="sales-coach")
        pg.autocommit = True  # transactions are explicit BEGIN/COMMIT, as on SQLite
        return pg

    def _retryable(self, exc: Exception) -> bool:
        if isinstance(exc, sqlite3.OperationalError):
            return any(word in str(exc) for word in ("locked", "busy"))
        if self.dialect == "postgresql":
            import psycopg2
            from psycopg2 import errors

            return isinstance(
                exc, psycopg2.OperationalError | psycopg2.InterfaceError | errors.SerializationFailure | errors.DeadlockDetected
            )
        return False

    def _run(self, work: Callable[[Any], T], write: bool = False, commit: bool = True) -> T:
        """`work(cursor)` alone (a read) or in one write transaction, retried while the database is busy or
        away; `commit=False` rolls the transaction back (a dry run that still counts)."""
        deadline, pause = time.monotonic() + self.retry_seconds, 0.05
        while True:
            with self._lock:
                try:
                    if self._conn is None:
                        self._conn = self._connect()
                    cursor = self._conn.cursor()
                    if write:
                        cursor.execute("begin immediate" if self.dialect == "sqlite" else "begin")
                    try:
                        result = work(cursor)
                        if write:
                            cursor.execute("commit" if commit else "rollback")
                        return result
                    except BaseException:
                        self._rollback()
                        raise
                except Exception as exc:
                    if not self._retryable(exc) or time.monotonic() > deadline:
                        raise
                    logger.warning("user-data store %s: %s; retrying", self.dialect, type(exc).__name__)
                    if self.dialect == "postgresql" and getattr(self._conn, "closed", True):
                        self._conn = None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _rollback(self) -> None:
        try:
            if self._conn is not None and (self.dialect == "postgresql" or self._conn.in_transaction):
                self._conn.cursor().execute("rollback")
        except Exception:  # the connection is gone: nothing to roll back
            if self.dialect == "postgresql":
                self._conn = None

    def _exec(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor.execute(portable(sql, self.dialect), tuple(params))
        return cursor

    def _rows(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> List[Dict[str, Any]]:
        self._exec(cursor, sql, params)
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query(self, sql: str, params: Sequence[Any] = ()) -> List[Dict[str, Any]]:
        return self._run(lambda cur: self._rows(cur, sql, params))

    def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        return int(self._run(lambda cur: self._exec(cur, sql, params).rowcount, write=True))

    def _create_tables(self, cursor: Any) -> None:
        if self.dialect == "postgresql":  # two servers starting together must not race on CREATE TABLE
            cursor.execute("select pg_advisory_xact_lock(740518)")
        for statement in SCHEMA.format(serial="serial" if self.dialect == "postgresql" else "integer").split(";"):
            self._exec(cursor, statement)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # corrections -----------------------------------------------------------
    def add_feedback(self, user: str, text: str, predicted: Optional[str], corrected: str) -> None:
        self.write(
            "insert into feedback (user, text, predicted, corrected, created) values (?, ?, ?, ?, ?)",
            [user, text, predicted or "", corrected, now()],
        )

    def corrections(self) -> List[Dict[str, Any]]:
        """The latest correction of each described text, as training rows a trainer can review and add."""
        latest: Dict[str, str] = {}
        for row in self.query("select text, corrected from feedback where text != '' order by id"):
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
        self.write(
            "insert into customers (user, name, type_id, evidence, notes, updated) values (?, ?, ?, ?, ?, ?) "
            "on conflict (user, name) do update set type_id = excluded.type_id, evidence = excluded.evidence, "
            "notes = excluded.notes, updated = excluded.updated",
            list(row.values()),
        )
        return row

    def customers(self, user: str) -> List[Dict[str, Any]]:
        """Saved customers, newest first, evidence as a list (the caller names the type in its language)."""
        return [
            {**r, "evidence": json.loads(r["evidence"] or "[]")}
            for r in self.query("select * from customers where user = ? order by updated desc", [user])
        ]

    def rename_customer(self, user: str, old: str, new: str) -> None:
        self.write("update customers set name = ?, updated = ? where user = ? and name = ?", [new[:MAX_NAME], now(), user, old])

    def delete_customer(self, user: str, name: str) -> None:
        self.write("delete from customers where user = ? and name = ?", [user, name])

    def find_customer(self, user: str, name: str) -> Optional[Dict[str, Any]]:
        """By exact name first, then by a name that contains or is contained in the one asked for."""
        wanted = name.strip().lower()
        if not wanted:
            return None
        rows = self.query("select * from customers where user = ?", [user])
        exact = [r for r in rows if r["name"].lower() == wanted]
        close = [r for r in rows if wanted in r["name"].lower() or (len(r["name"]) >= 2 and r["name"].lower() in wanted)]
        found = (exact or close)[:1]
        return {**found[0], "evidence": json.loads(found[0]["evidence"] or "[]")} if found else None

    # profiles (a display name) and teams (knowledge/teams.py) ---------------------------------------------
    def set_profile(self, user: str, name: str) -> Dict[str, str]:
        """The display name a person gave (web chat) or their platform reported (team chats). A team is never
        set here: it comes from a verified workspace or an invite code (knowledge/teams.py)."""
        row = {"user": user, "name": name.strip()[:MAX_NAME], "team": "", "updated": now()}
        self.write(
            "insert into profiles (user, name, team, updated) values (?, ?, ?, ?) on conflict (user) do update "
            "set name = excluded.name, updated = excluded.updated",
            list(row.values()),
        )
        return self.profile(user)

    def profile(self, user: str) -> Dict[str, str]:
        """{user, name, team, team_name, role, updated}: `team` is the key of the person's team ("" for none),
        the one thing team_members() takes."""
        rows = self.query(
            "select p.name, p.updated, t.platform, t.workspace, t.name as team_name, m.role from (select ? as user) u "
            "left join profiles p on p.user = u.user left join team_members m on m.user = u.user "
            "left join teams t on t.id = m.team_id order by m.joined desc limit 1",
            [user],
        )
        row = rows[0] if rows else {}
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
        return self.query(
            "select m.user, coalesce(p.name, '') as name, m.role from team_members m join teams t on t.id = m.team_id "
            "left join profiles p on p.user = m.user where t.platform = ? and t.workspace = ? order by m.user",
            [platform, workspace],
        )

    # practice ----------------------------------------------------------------
    def start_session(self, user: str, type_id: str, scenario: int, lang: str, state: Dict[str, Any]) -> int:
        def work(cur: Any) -> int:
            started = now()
            self._exec(
                cur, "update practice_sessions set status = 'abandoned', ended = ? where user = ? and status = 'active'", [started, user]
            )
            self._exec(
                cur,
                "insert into practice_sessions (user, type_id, scenario, lang, started, ended, status, trust, "
                "turns, score, state) values (?, ?, ?, ?, ?, '', 'active', ?, 0, 0, ?) returning id",
                [user, type_id, scenario, lang, started, state.get("trust", 0.0), json.dumps(state, ensure_ascii=False)],
            )
            return int(cur.fetchone()[0])

        return self._run(work, write=True)

    def active_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = self.query("select * from practice_sessions where user = ? and status = 'active' order by id desc limit 1", [user])
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def last_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = self.query("select * from practice_sessions where user = ? order by id desc limit 1", [user])
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def recent_sessions(self, user: str, limit: int, finished_only: bool = False) -> List[Dict[str, Any]]:
        """The trainee's latest sessions, newest first, state as stored (JSON text)."""
        finished = "and status not in ('active', 'abandoned') " if finished_only else ""
        return self.query(f"select * from practice_sessions where user = ? {finished}order by id desc limit ?", [user, limit])

    def record_turn(self, session_id: int, n: int, reply: str, score: float, moves: List[str], state: Dict[str, Any]) -> None:
        def work(cur: Any) -> None:
            self._exec(
                cur,
                "insert into practice_turns (session_id, n, reply, score, moves) values (?, ?, ?, ?, ?) "
                "on conflict (session_id, n) do update set reply = excluded.reply, score = excluded.score, "
                "moves = excluded.moves",
                [session_id, n, reply[:2000], score, json.dumps(moves)],
            )
            self._exec(
                cur,
                "update practice_sessions set turns = ?, trust = ?, state = ? where id = ?",
                [n, state.get("trust", 0.0), json.dumps(state, ensure_ascii=False), session_id],
            )

        self._run(work, write=True)

    def finish_session(self, session_id: int, score: int, status: str, state: Dict[str, Any]) -> None:
        self.write(
            "update practice_sessions set status = ?, score = ?, ended = ?, state = ? where id = ?",
            [status, score, now(), json.dumps(state, ensure_ascii=False), session_id],
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
            for r in self.query(
                "select * from practice_sessions where user = ? and status not in ('active', 'abandoned') " "order by id", [user]
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

    def leaderboard(self, users: Optional[List[str]] = None, limit: int = 5, *, min_sessions: int) -> List[Dict[str, Any]]:
        """Trainees ranked by their average over finished sessions (with at least one scored reply), only
        those with min_sessions of them (the callers pass knowledge/engine/practice LEADERBOARD_MIN_SESSIONS, the
        one floor): a single short lucky session cannot top the board. Anonymous (purged) sessions count for no one."""
        sql = (
            "select user, type_id, score from practice_sessions "
            "where status not in ('active', 'abandoned') and turns > 0 and user != '' "
        )
        params: List[Any] = []
        if users:
            sql += f"and user in ({','.join('?' * len(users))}) "
            params += users
        scores: Dict[str, List[int]] = {}
        by_type: Dict[str, Dict[str, List[int]]] = {}
        for row in self.query(sql, params):
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

    # retention and deletion (`coach purge`, `coach forget`) ---------------------------------------------
    def users(self) -> List[str]:
        """Every sender id something is stored for."""
        rows = self.query(
            "select user from customers union select user from feedback union select user from profiles "
            "union select user from practice_sessions union select user from team_members"
        )
        return sorted(r["user"] for r in rows if r["user"])

    def purge(self, before: str, dry_run: bool = False) -> Dict[str, int]:
        """Delete what was last touched before `before` (an ISO time like `now()`): saved customers, corrections,
        and the text of practice sessions (their replies and state). The sessions' scores stay, anonymous: the
        trainee's id is removed with the text. Counts per kind; a dry run counts and changes nothing."""
        old_session = "coalesce(nullif(ended, ''), started) < ? and (user != '' or state != '{}')"

        def work(cur: Any) -> Dict[str, int]:
            return {
                "customers": self._exec(cur, "delete from customers where updated < ?", [before]).rowcount,
                "feedback": self._exec(cur, "delete from feedback where created < ?", [before]).rowcount,
                "practice_replies": self._exec(
                    cur,
                    "delete from practice_turns where session_id in " f"(select id from practice_sessions where {old_session})",
                    [before],
                ).rowcount,
                "practice_sessions_anonymised": self._exec(
                    cur,
                    "update practice_sessions set user = '', state = '{}', status = case when status = 'active' "
                    f"then 'abandoned' else status end where {old_session}",
                    [before],
                ).rowcount,
            }

        return self._run(work, write=True, commit=not dry_run)

    def forget(self, users: Sequence[str], dry_run: bool = False) -> Dict[str, int]:
        """Delete everything stored for these sender ids: saved customers, corrections, profile, practice sessions
        with their replies and scores. Counts per kind; a dry run counts and changes nothing."""
        users = [u for u in users if u]
        marks = ",".join("?" * len(users))

        def work(cur: Any) -> Dict[str, int]:
            counts = {"customers": 0, "feedback": 0, "profiles": 0, "team_members": 0, "practice_replies": 0, "practice_sessions": 0}
            if not users:
                return counts
            for table in ("customers", "feedback", "profiles", "team_members"):
                counts[table] = self._exec(cur, f"delete from {table} where user in ({marks})", users).rowcount
            counts["practice_replies"] = self._exec(
                cur, "delete from practice_turns where session_id in " f"(select id from practice_sessions where user in ({marks}))", users
            ).rowcount
            counts["practice_sessions"] = self._exec(cur, f"delete from practice_sessions where user in ({marks})", users).rowcount
            return counts

        return self._run(work, write=True, commit=not dry_run)


class Tables:
    """The sqlite-utils calls made on `UserData.db` by the practice engine, the progress page and tests
    (`db[table].rows_where(...)`, `db.execute(...)`), answered by the same store on either database."""

    def __init__(self, store: UserData):
        self.store = store

    def __getitem__(self, table: str) -> Table:
        if table not in TABLES:
            raise KeyError(table)
        return Table(self.store, table)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> List[Dict[str, Any]]:
        return self.store.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Dict[str, Any]]:
        return iter(self.store.query(sql, params))


class Table:
    def __init__(self, store: UserData, name: str):
        self.store, self.name = store, name

    def rows_where(
        self,
        where: Optional[str] = None,
        where_args: Sequence[Any] = (),
        order_by: Optional[str] = None,
        limit: Optional[int] = None,
        select: str = "*",
    ) -> Iterator[Dict[str, Any]]:
        sql = f"select {select} from {self.name}" + (f" where {where}" if where else "")
        sql += (f" order by {order_by}" if order_by else "") + (f" limit {int(limit)}" if limit is not None else "")
        return iter(self.store.query(sql, where_args))

    @property
    def rows(self) -> Iterator[Dict[str, Any]]:
        return self.rows_where()
