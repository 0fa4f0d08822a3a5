"""Coaching turns: describe a customer, follow-ups, corrections, a fresh start, clarifying questions."""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.engine.clarify import QUESTIONS, read_answer
from knowledge.engine.coaching import State
from knowledge.engine.reply import Reply

from .common import EngineAction, coach, entity, intent_of, message_text


class ActionCoachCustomer(EngineAction):
    action_name = "action_coach_customer"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().describe(message_text(tracker), state)


class ActionFollowUp(EngineAction):
    action_name = "action_follow_up"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().follow_up(intent_of(tracker), message_text(tracker), state, stage=entity(tracker, "stage"))


class ActionCorrectType(EngineAction):
    action_name = "action_correct_type"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().correct(message_text(tracker), state, named=entity(tracker, "type_id"))


class ActionNewCustomer(EngineAction):
    action_name = "action_new_customer"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().new_customer(state)


class ActionAskLead(EngineAction):
    action_name = "action_ask_lead"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().clarify_question("lead", state.lang)


class ActionAskWarmth(EngineAction):
    action_name = "action_ask_warmth"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().clarify_question("warmth", state.lang)


class ActionAskExtra(EngineAction):
    action_name = "action_ask_extra"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return coach().clarify_question("extra", state.lang)


class ValidateClarifyForm(FormValidationAction):
    """Each answer is read by the engine: a button, a typed answer in either language, or 'skip'."""

    def name(self) -> Text:
        return "validate_clarify_form"

    @staticmethod
    def _answer(slot: str, value: Any) -> Dict[Text, Any]:
        answer = read_answer(coach().kb, slot, value if isinstance(value, str) else "")
        if answer == "stop":  # skip them all: coach with what we have
            return {s: "skip" for s in QUESTIONS}
        return {slot: answer}

    def validate_lead(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._answer("lead", value)

    def validate_warmth(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._answer("warmth", value)

    def validate_extra(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._answer("extra", value)


class ActionCoachClarified(EngineAction):
    action_name = "action_coach_clarified"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        answers = [tracker.get_slot(s) for s in QUESTIONS]
        return coach().clarified(state, *answers).with_slots(**{s: None for s in QUESTIONS})
