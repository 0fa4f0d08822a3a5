"""The one Rasa action, run as the action server runs it: a tracker in, dispatched messages and events out.

Trackers are built with rasa_sdk's Tracker.from_dict from the dict the Rasa server posts, so these tests hold
the action's side of the contract without a server (tests/test_e2e.py runs the real one).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ActionRespond, turn_of
from knowledge.engine.state import MEMORY_SLOT, ConversationState, UserTurn


def tracker(
    text: str,
    intent: str,
    memory: Any = None,
    entities: Optional[Dict[str, Any]] = None,
    sender: Optional[str] = None,
    confidence: float = 0.9,
) -> Tracker:
    """A tracker as Rasa posts it to the action server: the latest message as NLU parsed it, and the slots."""
    return Tracker.from_dict(
        {
            "sender_id": sender or f"act-{uuid.uuid4().hex[:8]}",
            "slots": {MEMORY_SLOT: memory},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": [{"entity": k, "value": v, "start": 0, "end": 0} for k, v in (entities or {}).items()],
            },
            "events": [],
            "paused": False,
            "latest_action_name": "action_listen",
        }
    )


def run(t: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = ActionRespond().run(dispatcher, t, {})
    return dispatcher.messages, events


def memory_of(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    assert len(events) == 1 and events[0]["event"] == "slot" and events[0]["name"] == MEMORY_SLOT, events
    return events[0]["value"]


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def test_the_action_is_named_as_the_domain_names_it():
    assert ActionRespond().name() == "action_respond"


@pytest.mark.parametrize(
    "lang, text",
    [
        ("en", "he doubts every number I give him and wants proof for everything"),
        ("zh", "他什么都要看合同原文，每个数字都要我拿证据"),
    ],
)
def test_bubbles_are_sent_in_order_with_the_buttons_on_the_last(dialogue, lang, text):
    messages, events = run(tracker(text, "describe_customer"))
    expected = dialogue.respond(UserTurn(text=text, intent="describe_customer"), ConversationState(user=f"ref-{uuid.uuid4().hex[:8]}"))
    assert len(expected.bubbles) >= 2 and expected.buttons
    assert [m["text"] for m in messages] == expected.bubbles
    assert all(m["buttons"] == [] for m in messages[:-1])
    assert [(b["title"], b["payload"]) for b in messages[-1]["buttons"]] == expected.buttons
    memory = memory_of(events)
    assert memory["customer_type"] == "suspicious" and memory["lang"] == lang


def test_one_slot_event_whose_value_round_trips_into_the_state():
    _, events = run(tracker("she nitpicks every detail and is never satisfied", "describe_customer"))
    memory = memory_of(events)
    assert json.loads(json.dumps(memory)) == memory, "the tracker store keeps the slot as JSON"
    state = ConversationState.from_memory("someone", memory)
    assert state.memory() == memory
    assert state.customer_type == "picky" and state.pronoun == "she" and state.user == "someone"
    assert "user" not in memory, "the sender is the tracker's, never kept in the slot"


def test_the_memory_comes_back_on_the_next_turn():
    sender = f"act-{uuid.uuid4().hex[:8]}"
    _, events = run(tracker("he keeps interrupting me and says he knows better", "describe_customer", sender=sender))
    memory = memory_of(events)
    messages, events = run(tracker("what should I avoid?", "ask_avoid", memory=memory, sender=sender))
    assert "Dominant-hostile" in texts(messages)
    assert memory_of(events)["customer_type"] == "dominant_hostile"


@pytest.mark.parametrize(
    "lang, question, intent, heading",
    [
        ("en", "what should I avoid?", "ask_avoid", "With this Suspicious customer, avoid"),
        ("en", "how do I close?", "ask_stage", "Closing with this Suspicious customer"),
        ("zh", "要避免什么？", "ask_avoid", "面对疑心型客户，要避免"),
    ],
)
def test_a_customer_remembered_in_the_slot_gets_the_follow_up(lang, question, intent, heading):
    memory = {"lang": lang, "customer_type": "suspicious", "pronoun": "he", "customer_notes": "doubts every number"}
    messages, events = run(tracker(question, intent, memory=memory))
    assert heading in texts(messages)
    assert memory_of(events)["customer_type"] == "suspicious"


def test_without_a_remembered_customer_a_follow_up_asks_for_one(engine):
    messages, _ = run(tracker("what should I avoid?", "ask_avoid", memory={}))
    assert engine.kb.text("no_customer_yet", "en") in texts(messages)


def test_a_button_payloads_entities_are_read():
    memory = {"lang": "en", "customer_type": "suspicious", "pronoun": "he"}
    messages, _ = run(tracker('/ask_stage{"stage": "closing"}', "ask_stage", memory=memory, entities={"stage": "closing"}))
    assert "Closing with this Suspicious customer" in texts(messages)
    _, events = run(tracker('/set_trade{"trade": "car"}', "set_trade", memory={}, entities={"trade": "car"}))
    assert memory_of(events)["trade"] == "car"
    messages, _ = run(tracker('/ask_knowledge{"type_id": "picky"}', "ask_knowledge", memory={}, entities={"type_id": "picky"}))
    assert texts(messages).startswith("Picky")


def test_only_declared_string_entities_reach_the_engine():
    turn = turn_of(tracker("/ask_stage", "ask_stage", entities={"stage": "closing", "bogus": "x", "name": 5}))
    assert turn.entities == {"stage": "closing"} and turn.intent == "ask_stage" and turn.is_button


def test_a_message_without_intent_or_text_is_read_as_empty():
    empty = Tracker.from_dict({"sender_id": "act-empty", "slots": {}, "latest_message": {}})
    turn = turn_of(empty)
    assert turn.text == "" and turn.intent == "" and turn.entities == {}
    messages, events = run(empty)
    assert messages and messages[0]["text"]
    memory_of(events)


@pytest.mark.parametrize(
    "memory",
    [
        None,
        "garbage",
        42,
        ["customer_type"],
        {"lang": "fr"},
        {"unknown_key": 1},
        {"customer_type": "no_such_type"},
        {"customer_type": ["picky"]},
        {"pending_question": "bogus"},
        {"pending_question": "lead", "answers": "x"},
        {"topic": "win_back", "topic_shown": "abc"},
        {"topic": "gone"},
        {"quiz_type": "gone"},
        {"proposed_type": "gone"},
        {"phrase_index": "a", "customer_type": "picky"},
        {"pronoun": "it", "customer_type": "picky"},
        {"lang": "zh", "script": "klingon"},
        {"trade": "spaceships"},
    ],
)
@pytest.mark.parametrize(
    "text, intent",
    [
        ("what should I avoid?", "ask_avoid"),
        ("yes", "affirm"),
        ("more", "show_more"),
        ("picky", "quiz_answer"),
        ("Leads", "nlu_fallback"),
        ("what do I say", "ask_phrase"),
    ],
)
def test_a_stale_or_garbage_memory_never_crashes_the_action(memory, text, intent):
    """The slot carries over to new sessions, so a memory kept by an older version (a renamed type, a question
    that no longer exists) reaches the action; it is answered, and the slot is rewritten in the current shape."""
    messages, events = run(tracker(text, intent, memory=memory))
    assert messages and all(m["text"] for m in messages)
    fresh = memory_of(events)
    assert ConversationState.from_memory("x", fresh).memory() == fresh
    assert fresh["lang"] in ("en", "zh") and fresh["pronoun"] in ("he", "she", "they")
