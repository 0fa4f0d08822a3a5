"""Retention and deletion across both stores that hold what people typed: the application store
(knowledge/userdata.py) and Rasa's SQL tracker store (bot/tracker_store.py, table `events`).

Rasa's tracker stores have no delete, so this works in SQL on the `events` table, on SQLite or PostgreSQL.
The tracker database is `--tracker-db`, else COACH_TRACKER_DB_URL, else the `tracker_store` of bot/endpoints.yml.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from . import paths
from .userdata import UserData, redacted

TRACKER_URL_ENV = "COACH_TRACKER_DB_URL"
MIN_PATTERN_CHARS = 3  # `forget --user '*'` (or '*:*') would be everyone: refused
ENDPOINTS = paths.PROJECT_DIR / "bot" / "endpoints.yml"


def tracker_url(explicit: Optional[str] = None, endpoints: Path = ENDPOINTS) -> Optional[str]:
    """The tracker store's SQLAlchemy URL; None when the endpoints name no SQL tracker store. A relative SQLite
    path is taken from the project folder, where `make run` starts Rasa."""
    url = explicit or os.environ.get(TRACKER_URL_ENV)
    if url:
        return url
    if not endpoints.exists():
        return None
    config = (yaml.safe_load(os.path.expandvars(endpoints.read_text(encoding="utf-8"))) or {}).get("tracker_store") or {}
    kind = str(config.get("type", ""))
    if not (kind.lower() == "sql" or kind.endswith("SQLTrackerStore")):
        return None
    dialect, db = str(config.get("dialect", "sqlite")), str(config.get("db", "rasa.db"))
    if dialect == "sqlite":
        path = Path(db)
        return f"sqlite:///{path if path.is_absolute() else paths.PROJECT_DIR / path}"
    host = str(config.get("url") or config.get("host") or "")
    if "://" in host:
        return host
    import sqlalchemy as sa

    return str(
        sa.engine.url.URL.create(
            dialect,
            config.get("username"),
            config.get("password"),
            host or None,
            int(config["port"]) if config.get("port") else None,
            database=db,
        )
    )


class TrackerEvents:
    """Deletes in the SQL tracker store's `events` table (id, sender_id, type_name, timestamp, ..., data)."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        self.url = url
        connect_args = {"timeout": 30} if url.startswith("sqlite") else {}  # Rasa may be writing: wait for its lock
        self.engine = sa.create_engine(url, connect_args=connect_args, future=True)
        self.sa = sa

    def available(self) -> Optional[str]:
        """None when the events table is there, else why not (a fresh install has no tracker DB yet)."""
        if self.url.startswith("sqlite:///") and not Path(self.url.split(":///", 1)[1]).exists():
            return "no tracker database yet"
        try:
            if not self.sa.inspect(self.engine).has_table("events"):
                return "no events table"
        except self.sa.exc.SQLAlchemyError as exc:
            return f"cannot open it: {type(exc).__name__}"
        return None

    def senders(self) -> List[str]:
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(self.sa.text("select distinct sender_id from events"))]

    def _delete(self, statement: Any, params: Dict[str, Any], dry_run: bool) -> int:
        """Rows deleted by one transaction; a dry run counts them and rolls back."""
        with self.engine.connect() as conn:
            with conn.begin() as transaction:
                count = conn.execute(statement, params).rowcount
                if dry_run:
                    transaction.rollback()
        return int(count)

    def forget(self, senders: Sequence[str], dry_run: bool = False) -> int:
        if not senders:
            return 0
        statement = self.sa.text("delete from events where sender_id in :senders").bindparams(self.sa.bindparam("senders", expanding=True))
        return self._delete(statement, {"senders": list(senders)}, dry_run)

    def purge(self, before: datetime, dry_run: bool = False) -> int:
        """Events older than `before`, except those of a conversation's current session when the conversation is
        still in use (deleting its start or its slots would change what the bot remembers mid-session). A
        conversation idle since before the cut-off goes whole."""
        return self._delete(
            self.sa.text(
                "delete from events where timestamp < :cutoff and ("
                " sender_id not in (select sender_id from events where timestamp >= :cutoff)"
                " or id < (select max(s.id) from events s where s.sender_id = events.sender_id"
                " and s.type_name = 'session_started'))"
            ),
            {"cutoff": before.timestamp()},
            dry_run,
        )


def _tracker(url: Optional[str]) -> tuple[Optional[TrackerEvents], str]:
    """The tracker store to work on, or None and why not."""
    if not url:
        return None, "no SQL tracker store configured"
    events = TrackerEvents(url)
    why = events.available()
    return (None, f"{redacted(url)}: {why}") if why else (events, redacted(url))


def purge(days: float, tracker_db: Optional[str] = None, dry_run: bool = False, store: Optional[UserData] = None) -> Dict[str, Any]:
    """Delete what is older than `days` in both stores; a report with the counts per store."""
    before = datetime.now(timezone.utc) - timedelta(days=days)
    store = store or UserData()
    report: Dict[str, Any] = {
        "before": before.isoformat(timespec="seconds"),
        "dry_run": dry_run,
        "app_store": {"where": redacted(store.url), **store.purge(before.isoformat(timespec="seconds"), dry_run)},
    }
    events, where = _tracker(tracker_url(tracker_db))
    report["tracker_store"] = {"where": where, "events": events.purge(before, dry_run) if events else 0}
    return report


def forget(user: str, tracker_db: Optional[str] = None, dry_run: bool = False, store: Optional[UserData] = None) -> Dict[str, Any]:
    """Delete everything stored for one person in both stores. `user` is the sender id as the channel forms
    it (`slack:T1:U1`, `telegram:<chat>:<user>`, `web-…`, a REST sender); `*` matches any run of characters,
    so `telegram:*:12345` covers that person in every group."""
    if not user.strip() or ("*" in user and len(user.replace("*", "")) < MIN_PATTERN_CHARS):
        raise ValueError(f"{user!r} is too broad: give a sender id, or a pattern with at least {MIN_PATTERN_CHARS} " "characters besides *")
    store = store or UserData()
    events, where = _tracker(tracker_url(tracker_db))
    known = set(store.users()) | set(events.senders() if events else [])
    pattern = re.compile(".*".join(re.escape(part) for part in user.split("*")))
    matched = sorted(s for s in known if pattern.fullmatch(s)) if "*" in user else [user] if user in known else []
    similar = [] if matched else sorted(s for s in known if s.endswith(":" + user) or (len(user) >= 3 and user in s))[:10]
    return {
        "user": user,
        "matched": matched,
        "similar": similar,
        "dry_run": dry_run,
        "app_store": {"where": redacted(store.url), **store.forget(matched, dry_run)},
        "tracker_store": {"where": where, "events": events.forget(matched, dry_run) if events else 0},
    }
