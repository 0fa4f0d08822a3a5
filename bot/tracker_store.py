"""Rasa's SQL tracker store, made cheap per turn for long conversations and many users (issue 17).

Measured with scripts/bench_load.py and py-spy on the Rasa server (20 users, 2 cores): reading the
tracker was 26% of the server's time and grew with the conversation (every event since the session
started is decoded on each turn), the SQLite commit (a file sync) 10%, and validating each action
server reply against a JSON schema 22%, of which 16% was re-checking the constant schema itself.

So this store:
- on the message path (a user message being handled: bot/rasa_compat.py marks it), reads the events of the last
  `TAIL_USER_TURNS` user turns, plus the latest value of each slot and loop and the session start before them,
  instead of every event of the session (the one action reads only the latest message and the slots; the rules
  look one turn back: bot/rasa_compat.py `check_policies` holds the policy configuration to that). A session with
  an event before that window that changes what came before it (a restart, slot reset, rewind, undo, a reminder
  set or cancelled, an interrupted loop) is read whole, as Rasa does. Every other read (the HTTP API's story,
  predict and tracker routes, reminders firing, trigger_intent) reads the whole session, as Rasa does;
- remembers how many events it read, so `save` appends only the new ones;
- puts the SQLite file in WAL mode with `synchronous=NORMAL` (a commit no longer waits for a sync), and keeps
  its connections open (a pool).
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import logging
from typing import Any, Dict, Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    ConversationPaused,
    ConversationResumed,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# Enough history for the rules (they look one turn back) and for `latest_message`, with a margin; the bench's long
# conversation (206 turns) reads the same number of events at turn 200 as at turn 10 with it.
TAIL_USER_TURNS = 3
_STORED = "_coach_stored_events"  # attribute on a tracker this store read: how many of its events are stored
_LATEST_STATE = (SlotSet.type_name, ActiveLoop.type_name)
_PAUSE = (ConversationPaused.type_name, ConversationResumed.type_name)
# Events whose meaning depends on what came before them, or that Rasa looks for later (a reminder is still valid only
# while its ReminderScheduled is in the tracker): one of them before the window and the session is read whole.
_READ_WHOLE = tuple(
    e.type_name
    for e in (
        Restarted,
        AllSlotsReset,
        UserUtteranceReverted,
        ActionReverted,
        ReminderScheduled,
        ReminderCancelled,
        LoopInterrupted,
    )
)
_ON_MESSAGE_PATH: contextvars.ContextVar[bool] = contextvars.ContextVar("coach_tail_read", default=False)


@contextlib.contextmanager
def message_path() -> Iterator[None]:
    """Within it, `retrieve` may read the bounded tail (bot/rasa_compat.py wraps the handling of a user message)."""
    token = _ON_MESSAGE_PATH.set(True)
    try:
        yield
    finally:
        _ON_MESSAGE_PATH.reset(token)


def _names(type_names: tuple) -> str:
    return ", ".join(f"'{name}'" for name in type_names)  # Rasa's own event names, never user input


# The latest session of a sender, as Rasa's `_event_query` selects it (events since the last session start).
_SESSION = (
    "sender_id = :sender AND (timestamp >= (SELECT MAX(timestamp) FROM events WHERE sender_id = :sender"
    f" AND type_name = '{SessionStarted.type_name}') OR NOT EXISTS (SELECT 1 FROM events WHERE"
    f" sender_id = :sender AND type_name = '{SessionStarted.type_name}'))"
)
_CUTOFF = sa.text(
    f"SELECT id FROM events WHERE {_SESSION} AND type_name = '{UserUttered.type_name}'" " ORDER BY id DESC LIMIT 1 OFFSET :offset"
)
_READ_WHOLE_BEFORE = sa.text(f"SELECT 1 FROM events WHERE {_SESSION} AND id < :cutoff" f" AND type_name IN ({_names(_READ_WHOLE)}) LIMIT 1")
_TAIL = sa.text(
    f"SELECT data FROM events WHERE {_SESSION} AND (id >= :cutoff OR type_name = '{SessionStarted.type_name}'"
    f" OR id IN (SELECT MAX(id) FROM events WHERE {_SESSION} AND id < :cutoff"
    f" AND type_name IN ({_names(_LATEST_STATE)}) GROUP BY type_name, action_name)"
    f" OR id = (SELECT MAX(id) FROM events WHERE {_SESSION} AND id < :cutoff AND type_name IN ({_names(_PAUSE)})))"
    " ORDER BY id"
)


class CoachSQLTrackerStore(SQLTrackerStore):
    """SQL tracker store that reads a bounded tail of the session and commits without a file sync."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy gives a SQLite file no pool: every session opened the file, set its pragmas and, on
            # close, checkpointed the WAL. Kept open, the bench's throughput went from 54.6 to 65 msg/s.
            self.engine.dispose()
            self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        events = None
        if _ON_MESSAGE_PATH.get():
            with self.session_scope() as session:
                events = self._tail_events(session, sender_id)
        if events is None:
            tracker = await super().retrieve(sender_id)
        elif not events or not self.domain:
            return None
        else:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if tracker is not None:
            setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _tail_events(self, session: Any, sender_id: str) -> Optional[list]:
        """The session's state-carrying events before the last user turns, then those turns; None: read it whole.

        Plain SQL, at most three statements: the ORM queries this replaced were 16% of the server's time
        under the bench's load (py-spy), most of it building and compiling the queries.
        """
        params = {"sender": sender_id, "offset": TAIL_USER_TURNS - 1}
        cutoff = session.execute(_CUTOFF, params).scalar()
        if cutoff is None:
            return None  # a short session: Rasa's own query
        params["cutoff"] = cutoff
        if session.execute(_READ_WHOLE_BEFORE, params).first() is not None:
            return None
        return [json.loads(row[0]) for row in session.execute(_TAIL, params)]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """As Rasa's `save` (the same rows), in one multi-row insert instead of an ORM object per event: the ORM's
        unit of work was 5% of the server's time under the bench's load (py-spy)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [_row(tracker.sender_id, event) for event in self._additional_events(session, tracker)]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        if hasattr(tracker, _STORED):
            setattr(tracker, _STORED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = getattr(tracker, _STORED, None)
        if stored is None:  # a tracker this store did not read (new, or read whole through the API)
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _row(sender_id: str, event: Any) -> Dict[str, Any]:
    """The `events` row Rasa's SQLTrackerStore.save writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
