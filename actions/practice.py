"""Practice mode, quiz and progress: the practice form hands every trainee reply to the engine."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.engine.practice import Practice, Trainer
from knowledge.engine.runtime import get_engine

from .common import entity, message_text, send, state_of


def practice() -> Practice:
    return Practice(get_engine())


def trainer() -> Trainer:
    return Trainer(get_engine())


class ActionPracticeStart(Action):
    def name(self) -> Text:
        return "action_practice_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        reply = practice().start(tracker.sender_id, state.lang, message_text(tracker), named=entity(tracker, "type_id"))
        return send(dispatcher, reply, state)


class ActionAskPracticeReply(Action):
    """The form's question is the simulated customer's current line."""

    def name(self) -> Text:
        return "action_ask_practice_reply"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, practice().customer_line(tracker.sender_id), state)


class ValidatePracticeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_practice_form"

    def validate_practice_reply(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        if not isinstance(value, str):  # the slot being reset, not a trainee reply
            return {"practice_reply": None}
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        reply = practice().turn(tracker.sender_id, value, intent)
        send(dispatcher, reply, state)
        return {"practice_reply": "done" if reply.slots.get("done") else None}


class ActionPracticeSummary(Action):
    def name(self) -> Text:
        return "action_practice_summary"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, practice().summary(tracker.sender_id), state) + [SlotSet("practice_reply", None)]


class ActionPracticeHelp(Action):
    """Hint, rubric or end asked for when no practice is running; a rubric can still be shown for a type."""

    def name(self) -> Text:
        return "action_practice_help"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name", "")
        reply = practice().outside_session(intent, message_text(tracker), state.lang,
                                           named=entity(tracker, "type_id") or state.customer_type)
        return send(dispatcher, reply, state)


class ActionQuiz(Action):
    def name(self) -> Text:
        return "action_quiz"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        return send(dispatcher, trainer().quiz(state.lang), state)


class ActionQuizAnswer(Action):
    def name(self) -> Text:
        return "action_quiz_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        reply = trainer().answer(tracker.get_slot("quiz_type"), message_text(tracker), state.lang,
                                 named=entity(tracker, "type_id"))
        return send(dispatcher, reply, state)


class ActionProgress(Action):
    def name(self) -> Text:
        return "action_progress"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        state = state_of(tracker)
        if tracker.latest_message.get("intent", {}).get("name") == "leaderboard":
            return send(dispatcher, trainer().leaderboard(state.lang), state)
        return send(dispatcher, trainer().progress(tracker.sender_id, state.lang), state)
