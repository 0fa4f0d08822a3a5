"""The one action: the tracker's latest message and remembered state to the engine's dialogue, the Answer back."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.app import dialogue
from knowledge.engine.answer import Answer
from knowledge.engine.state import ENTITIES, MEMORY_SLOT, ConversationState, UserTurn


def turn_of(tracker: Tracker) -> UserTurn:
    """The latest message as NLU read it; entities come from button payloads ('/intent{"name": "Mr Li"}'), the
    channel's language setting from its metadata (the web chat sends its toggle's with every message)."""
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    entities = {
        e.get("entity"): e.get("value")
        for e in message.get("entities") or []
        if e.get("entity") in ENTITIES and isinstance(e.get("value"), str)
    }
    metadata = message.get("metadata") or {}
    lang = metadata.get("lang") if isinstance(metadata, dict) else None
    return UserTurn(
        text=message.get("text") or "",
        intent=intent.get("name") or "",
        confidence=float(intent.get("confidence") or 0.0),
        entities=entities,
        channel_lang=lang if isinstance(lang, str) else None,  # the web chat's language toggle
    )


def send(dispatcher: CollectingDispatcher, reply: Answer) -> None:
    """Bubbles as separate messages, the buttons on the last one."""
    buttons = [{"title": title, "payload": payload} for title, payload in reply.buttons]
    for n, bubble in enumerate(reply.bubbles):
        dispatcher.utter_message(text=bubble, buttons=buttons if n == len(reply.bubbles) - 1 else [])


class ActionRespond(Action):
    def name(self) -> str:
        return "action_respond"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        state = ConversationState.from_memory(tracker.sender_id, tracker.get_slot(MEMORY_SLOT))
        send(dispatcher, dialogue().respond(turn_of(tracker), state))
        return [SlotSet(MEMORY_SLOT, state.memory())]
