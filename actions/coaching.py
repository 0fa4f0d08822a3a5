"""Coaching turns: describe a customer, follow-ups, corrections, a fresh start, clarifying questions."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.engine.clarify import QUESTIONS, read_answer

from .common import coach, entity, message_text, send, state_of


class ActionCoachCustomer(Action):
    def name(self) -> Text:
        return "action_coach_customer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        reply = coach().describe(message_text(tracker), state)
        reply.slots.setdefault("clarifying", False)
        return send(dispatcher, reply, state)


class ActionFollowUp(Action):
    def name(self) -> Text:
        return "action_follow_up"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        reply = coach().follow_up(intent, message_text(tracker), state, stage=entity(tracker, "stage"))
        return send(dispatcher, reply, state)


class ActionCorrectType(Action):
    def name(self) -> Text:
        return "action_correct_type"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        reply = coach().correct(message_text(tracker), state, named=entity(tracker, "type_id"))
        return send(dispatcher, reply, state)


class ActionNewCustomer(Action):
    def name(self) -> Text:
        return "action_new_customer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, coach().new_customer(state), state)


class _AskClarifying(Action):
    slot = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, coach().clarify_question(self.slot, state.lang), state)


class ActionAskLead(_AskClarifying):
    slot = "lead"


class ActionAskWarmth(_AskClarifying):
    slot = "warmth"


class ActionAskExtra(_AskClarifying):
    slot = "extra"


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


class ActionCoachClarified(Action):
    def name(self) -> Text:
        return "action_coach_clarified"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        reply = coach().clarified(state, tracker.get_slot("lead"), tracker.get_slot("warmth"), tracker.get_slot("extra"))
        events = send(dispatcher, reply, state)
        return events + [SlotSet(s, None) for s in QUESTIONS]
