"""The project's tracker store (bot/tracker_store.py): a bounded tail read must give the action and the rules
exactly what a whole read gives (latest message, slots, paused state), and long conversations read no more."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

import pytest
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import TAIL_USER_TURNS, CoachSQLTrackerStore, message_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def turn(n: int, memory: bool = True) -> List[Event]:
    events: List[Event] = [UserUttered(f"message {n}", {"name": "describe_customer", "confidence": 0.9}), ActionExecuted("action_respond")]
    if memory:
        events.append(SlotSet("coach_memory", {"turn": n}))
    return events + [BotUttered(f"answer {n}"), ActionExecuted("action_listen")]


def on_message_path(store: SQLTrackerStore, sender: str):
    """The tracker as the handling of a user message reads it (bot/rasa_compat.py marks that path)."""
    with message_path():
        return asyncio.run(store.retrieve(sender))


def converse(store: SQLTrackerStore, sender: str, turns: List[List[Event]]) -> None:
    """As Rasa does per message: read the tracker, append the turn's events, save."""
    for events in turns:
        tracker = on_message_path(store, sender) or DialogueStateTracker(sender, store.domain.slots)
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))


def start() -> List[Event]:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def stores(tmp_path: Path, domain: Domain):
    return (CoachSQLTrackerStore(domain, db=str(tmp_path / "coach.db")), SQLTrackerStore(domain, db=str(tmp_path / "rasa.db")))


def test_a_long_conversation_reads_a_bounded_tail_with_the_same_state(tmp_path, domain):
    coach, rasa = stores(tmp_path, domain)
    turns = [start()] + [turn(n, memory=n < 30) for n in range(60)]  # the slot was last set 30 turns ago
    for store in (coach, rasa):
        converse(store, "long", turns)
    tail, whole = on_message_path(coach, "long"), asyncio.run(rasa.retrieve("long"))
    assert tail.current_slot_values() == whole.current_slot_values() == {"coach_memory": {"turn": 29}, "session_started_metadata": None}
    assert tail.latest_message.text == whole.latest_message.text == "message 59"
    assert tail.latest_action_name == whole.latest_action_name == "action_listen"
    assert len(whole.events) > 250 and len(tail.events) <= 5 * TAIL_USER_TURNS + 6
    full = asyncio.run(coach.retrieve_full_tracker("long"))  # the HTTP API's tracker stays whole
    assert len(full.events) == len(asyncio.run(rasa.retrieve_full_tracker("long")).events)


def test_saving_after_a_tail_read_appends_only_new_events(tmp_path, domain):
    coach, rasa = stores(tmp_path, domain)
    turns = [start()] + [turn(n) for n in range(12)]
    for store in (coach, rasa):
        converse(store, "append", turns)
    assert [e.as_dict()["event"] for e in asyncio.run(coach.retrieve_full_tracker("append")).events] == [
        e.as_dict()["event"] for e in asyncio.run(rasa.retrieve_full_tracker("append")).events
    ]
    rows = "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
    with coach.engine.connect() as a, rasa.engine.connect() as b:
        assert list(a.exec_driver_sql(rows)) == list(b.exec_driver_sql(rows))  # the same rows Rasa's save writes


def test_a_pause_or_a_restart_before_the_tail_is_kept(tmp_path, domain):
    coach, rasa = stores(tmp_path, domain)
    paused = [start(), [ConversationPaused()]] + [turn(n) for n in range(8)]
    restarted = [start(), turn(0), [Restarted()]] + [turn(n) for n in range(1, 9)]
    for store in (coach, rasa):
        converse(store, "paused", paused)
        converse(store, "restarted", restarted)
    assert on_message_path(coach, "paused").is_paused()
    tail, whole = on_message_path(coach, "restarted"), asyncio.run(rasa.retrieve("restarted"))
    assert len(tail.events) == len(whole.events)  # read whole, as Rasa does


def test_a_new_session_starts_the_tail_again(tmp_path, domain):
    coach, _ = stores(tmp_path, domain)
    converse(coach, "sessions", [start()] + [turn(n) for n in range(8)] + [start(), turn(100, memory=False)])
    tracker = on_message_path(coach, "sessions")
    assert tracker.latest_message.text == "message 100"
    assert "message 7" not in [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_an_unknown_sender_has_no_tracker(tmp_path, domain):
    coach, _ = stores(tmp_path, domain)
    assert on_message_path(coach, "nobody") is None
    assert asyncio.run(coach.retrieve("nobody")) is None


def test_reads_off_the_message_path_are_whole(tmp_path, domain):
    """The HTTP API's story and predict routes, reminders and trigger_intent read through `retrieve` outside the
    handling of a user message: they get the whole session, as from Rasa's own store."""
    coach, rasa = stores(tmp_path, domain)
    turns = [start()] + [turn(n) for n in range(20)]
    for store in (coach, rasa):
        converse(store, "api", turns)
    whole = asyncio.run(rasa.retrieve("api"))
    assert [e.as_dict() for e in asyncio.run(coach.retrieve("api")).events] == [e.as_dict() for e in whole.events]
    assert len(on_message_path(coach, "api").events) < len(whole.events)


def reminder(name: str) -> ReminderScheduled:
    return ReminderScheduled("remind_me", trigger_date_time=__import__("datetime").datetime(2030, 1, 1), name=name)


def test_a_reminder_set_long_ago_is_still_valid_when_it_fires_and_on_the_message_path(tmp_path, domain):
    coach, _ = stores(tmp_path, domain)
    session = start()  # events are read by session from their timestamps: the reminder comes after the start
    scheduled = reminder("follow_up")
    converse(coach, "reminded", [session, turn(0) + [scheduled]] + [turn(n) for n in range(1, 3 * TAIL_USER_TURNS)])
    for tracker in (on_message_path(coach, "reminded"), asyncio.run(coach.retrieve("reminded"))):
        assert MessageProcessor._is_reminder_still_valid(tracker, scheduled)  # Rasa's own check when it fires


@pytest.mark.parametrize(
    "early",
    [lambda: [reminder("r")], lambda: [ReminderCancelled(name="r")], lambda: [ActiveLoop("a_form"), LoopInterrupted(True)]],
    ids=["reminder", "cancel_reminder", "loop_interrupted"],
)
def test_events_that_need_what_came_before_read_the_session_whole(tmp_path, domain, early):
    coach, rasa = stores(tmp_path, domain)
    session = start()
    early = early()  # made after the session start, as a server makes them
    turns = [session, turn(0) + early] + [turn(n) for n in range(1, 3 * TAIL_USER_TURNS)]
    for store in (coach, rasa):
        converse(store, "early", turns)
    tail, whole = on_message_path(coach, "early"), asyncio.run(rasa.retrieve("early"))
    assert [e.as_dict() for e in tail.events] == [e.as_dict() for e in whole.events]
    assert tail.active_loop == whole.active_loop
