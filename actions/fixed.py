"""Fixed turns (greeting, help, goodbye, thanks) and the fallback for low confidence or out of scope."""
from __future__ import annotations

from rasa_sdk import Tracker

from knowledge.engine.coaching import State
from knowledge.engine.reply import Reply

from .common import EngineAction, coach, intent_of, message_text


class ActionFixedReply(EngineAction):
    action_name = "action_fixed_reply"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().fixed(intent_of(tracker), state.lang)


class ActionDefaultFallback(EngineAction):
    """Unsure what the message is: a customer description (clear or thin) is coached; else suggestions."""

    action_name = "action_default_fallback"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        intent = "out_of_scope" if intent_of(tracker) == "out_of_scope" else "fallback"
        return coach().fallback(message_text(tracker), state, intent)
