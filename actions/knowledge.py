"""Knowledge questions (types, topics) and the salesperson's saved customers."""
from __future__ import annotations

from rasa_sdk import Tracker

from knowledge.engine.coaching import State
from knowledge.engine.reply import Reply

from .common import EngineAction, coach, entity, intent_of, message_text


class ActionKnowledge(EngineAction):
    action_name = "action_knowledge"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        if intent_of(tracker) == "list_types":
            return coach().list_types(state.lang)
        return coach().knowledge(message_text(tracker), state, named=entity(tracker, "type_id"))


class ActionCustomers(EngineAction):
    action_name = "action_customers"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().customers(intent_of(tracker), message_text(tracker), state)
