"""Shared plumbing for the actions: read the tracker into engine state, send a Reply back."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.engine.coaching import Coach, State, language
from knowledge.engine.reply import Reply
from knowledge.engine.runtime import get_engine


def coach() -> Coach:
    return Coach(get_engine())


def message_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def intent_of(tracker: Tracker) -> str:
    return tracker.latest_message.get("intent", {}).get("name", "")


def entity(tracker: Tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


def state_of(tracker: Tracker) -> State:
    lang = language(message_text(tracker), tracker.get_slot("lang") or "en")
    return State(
        user=tracker.sender_id,
        lang=lang,
        customer_type=tracker.get_slot("customer_type"),
        customer_notes=tracker.get_slot("customer_notes") or "",
        evidence=tracker.get_slot("evidence") or {},
        phrase_index=int(tracker.get_slot("phrase_index") or 0),
    )


def send(dispatcher: CollectingDispatcher, reply: Reply, state: State) -> List[Dict[Text, Any]]:
    """Bubbles as separate messages, buttons on the last one; slots (and the language) as events."""
    buttons = [{"title": title, "payload": payload} for title, payload in reply.buttons]
    for n, bubble in enumerate(reply.bubbles):
        last = n == len(reply.bubbles) - 1
        dispatcher.utter_message(text=bubble, buttons=buttons if last and buttons else [])
    events = [SlotSet("lang", state.lang)]
    events += [SlotSet(name, value) for name, value in reply.slots.items()]
    return events


class EngineAction(Action):
    """An action that asks the engine for one Reply and sends it; subclasses only say which reply."""

    action_name = ""

    def name(self) -> Text:
        return self.action_name

    def reply(self, tracker: Tracker, state: State) -> Reply:
        raise NotImplementedError

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, self.reply(tracker, state), state)
