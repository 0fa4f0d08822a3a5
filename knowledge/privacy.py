"""Retention and deletion across both stores that hold what people typed: the application store
(knowledge/userdata.py) and Rasa's SQL tracker store (bot/tracker_store.py, table `events`).

Rasa's tracker stores have no delete, so this works in SQL on the `events` table, on SQLite or PostgreSQL.
The tracker database is `--tracker-db`, else COACH_TRACKER_DB_URL, else the `tracker_store` of bot/endpoints.yml.
"""

from __future__ import annotations

import json
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

    def age_memory(self, before: datetime, dry_run: bool = False) -> int:
        """Forget the remembered customer (slot coach_memory) of conversations still in use when that customer was
        already remembered before `before`: Rasa copies the slot into every new session with a fresh timestamp, so
        for someone who keeps chatting it never grew old. Every kept slot event that still holds such a customer
        is rewritten with the customer forgotten (ConversationState.forget_customer). The number of conversations."""
        from .engine.state import MEMORY_SLOT, ConversationState

        cutoff = before.timestamp()
        select = self.sa.text(
            "select id, sender_id, timestamp, data from events where type_name = 'slot' and action_name = :slot "
            "and sender_id in (select sender_id from events where timestamp >= :cutoff) order by sender_id, id"
        )
        update = self.sa.text("update events set data = :data where id = :id")
        with self.engine.connect() as conn:
            with conn.begin() as transaction:
                rows = conn.execute(select, {"slot": MEMORY_SLOT, "cutoff": cutoff}).fetchall()
                by_sender: Dict[str, List[Any]] = {}
                for row in rows:
                    by_sender.setdefault(row[1], []).append(row)
                changes, senders = [], 0
                for sender, events in by_sender.items():
                    values = [(row, json.loads(row[3] or "{}")) for row in events]
                    old = {customer_of(d.get("value")) for row, d in values if row[2] < cutoff} - {None}
                    recent = False  # counted when a recent event held it (the older ones go with the purge anyway)
                    for row, d in values:
                        if customer_of(d.get("value")) in old:
                            state = ConversationState.from_memory(sender, d.get("value"))
                            state.forget_customer()
                            changes.append({"id": row[0], "data": json.dumps({**d, "value": state.memory()})})
                            recent = recent or row[2] >= cutoff
                    senders += recent
                if changes:
                    conn.execute(update, changes)
                if dry_run:
                    transaction.rollback()
        return senders

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


def customer_of(memory: Any) -> Optional[str]:
    """What identifies the remembered customer in a coach_memory value (None when there is none)."""
    if not isinstance(memory, dict):
        return None
    who = [memory.get(k) for k in ("customer_type", "customer_name", "customer_notes", "evidence")]
    return json.dumps(who, sort_keys=True, ensure_ascii=False) if any(who) else None


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
    aged = events.age_memory(before, dry_run) if events else 0  # before the purge deletes the old slot events
    report["tracker_store"] = {"where": where, "events": events.purge(before, dry_run) if events else 0, "remembered_customers": aged}
    return report


def program_store(store: UserData) -> Any:
    """The training programmes' tables (certificates, assignments) in the same store."""
    from .engine.programs import program_store as programs_of

    return programs_of(store)


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
        "app_store": {"where": redacted(store.url), **store.forget(matched, dry_run), **program_store(store).forget(matched, dry_run)},
        "tracker_store": {"where": where, "events": events.forget(matched, dry_run) if events else 0},
    }
