"""Knowledge questions (types, topics) and the salesperson's saved customers."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .common import coach, entity, message_text, send, state_of


class ActionKnowledge(Action):
    def name(self) -> Text:
        return "action_knowledge"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state, c = state_of(tracker), coach()
        if tracker.latest_message.get("intent", {}).get("name") == "list_types":
            return send(dispatcher, c.list_types(state.lang), state)
        reply = c.knowledge(message_text(tracker), state, named=entity(tracker, "type_id"))
        return send(dispatcher, reply, state)


class ActionCustomers(Action):
    def name(self) -> Text:
        return "action_customers"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        return send(dispatcher, coach().customers(intent, message_text(tracker), state), state)
