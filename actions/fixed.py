"""Fixed turns (greeting, help, goodbye, thanks) and the fallback for low confidence or out of scope."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .common import coach, message_text, send, state_of


class ActionFixedReply(Action):
    def name(self) -> Text:
        return "action_fixed_reply"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        return send(dispatcher, coach().fixed(intent, state.lang), state)


class ActionDefaultFallback(Action):
    """Unsure what the message is: a customer description (clear or thin) is coached; else suggestions."""

    def name(self) -> Text:
        return "action_default_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        reply = coach().fallback(message_text(tracker), state, "out_of_scope" if intent == "out_of_scope" else "fallback")
        return send(dispatcher, reply, state)
