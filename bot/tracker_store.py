"""Rasa's SQL tracker store, made cheap per turn for long conversations and many users (issue 17).

Measured with scripts/bench_load.py and py-spy on the Rasa server (20 users, 2 cores): reading the
tracker was 26% of the server's time and grew with the conversation (every event since the session
started is decoded on each turn), the SQLite commit (a file sync) 10%, and validating each action
server reply against a JSON schema 22%, of which 16% was re-checking the constant schema itself.

So this store:
- reads the events of the last `TAIL_USER_TURNS` user turns, plus the latest value of each slot and
  the session start before them, instead of every event of the session (the one action reads only the
  latest message and the slots; the rules look one turn back). A session with a restart, slot reset or
  rewind before that window is read whole, as Rasa does.
- remembers how many events it read, so `save` appends only the new ones;
- puts the SQLite file in WAL mode with `synchronous=NORMAL` (a commit no longer waits for a sync);
- checks the action-reply schema once per process instead of once per reply (`jsonschema.validate`
  with a cached validator: the same errors, raised the same way).
"""
from __future__ import annotations

import itertools
import json
from typing import Any, Dict, Iterator, Optional

import jsonschema
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Enough history for every rule and for `latest_message`; the bench's long conversation (206 turns)
# reads the same number of events at turn 200 as at turn 10 with it.
TAIL_USER_TURNS = 10
_STORED = "_coach_stored_events"  # attribute on a tracker this store read: how many of its events are stored
_LATEST_STATE = (SlotSet.type_name, ActiveLoop.type_name)
_PAUSE = (ConversationPaused.type_name, ConversationResumed.type_name)
_READ_WHOLE = (Restarted.type_name, "reset_slots", "rewind", "undo")

_validators: Dict[str, Any] = {}
_plain_validate = jsonschema.validate


def validate(instance: Any, schema: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate` that checks a given schema once: Rasa re-checks the same one per action reply."""
    if args or kwargs:
        return _plain_validate(instance, schema, *args, **kwargs)
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = validate  # rasa.core.actions.action imports it at call time


class CoachSQLTrackerStore(SQLTrackerStore):
    """SQL tracker store that reads a bounded tail of the session and commits without a file sync."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
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
        """The session's state-carrying events before the last user turns, then those turns; None: read it whole."""
        event = self.SQLEvent
        in_session = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
        cutoff = (in_session.filter(event.type_name == UserUttered.type_name).order_by(event.id.desc())
                  .offset(TAIL_USER_TURNS - 1).limit(1).with_entities(event.id).scalar())
        if cutoff is None:
            return None  # a short session: Rasa's own query
        before = in_session.filter(event.id < cutoff)
        if before.filter(event.type_name.in_(_READ_WHOLE)).with_entities(event.id).first() is not None:
            return None
        kept = [row[0] for row in before.filter(event.type_name.in_(_LATEST_STATE))
                .group_by(event.type_name, event.action_name).with_entities(sa.func.max(event.id))]
        kept.append(before.filter(event.type_name.in_(_PAUSE)).with_entities(sa.func.max(event.id)).scalar())
        rows = in_session.filter(sa.or_(event.id >= cutoff, event.type_name == SessionStarted.type_name,
                                        event.id.in_([i for i in kept if i is not None])))
        rows = rows.order_by(event.id).with_entities(event.data).all()
        return [json.loads(row.data) for row in rows]

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
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
