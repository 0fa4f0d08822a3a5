"""Practice mode, quiz and progress: the practice form hands every trainee reply to the engine."""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.engine.coaching import State
from knowledge.engine.practice import Practice, Trainer
from knowledge.engine.reply import Reply
from knowledge.engine.runtime import get_engine

from .common import EngineAction, entity, intent_of, message_text, send, state_of


def practice() -> Practice:
    return Practice(get_engine())


def trainer() -> Trainer:
    return Trainer(get_engine())


class ActionPracticeStart(EngineAction):
    action_name = "action_practice_start"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return practice().start(tracker.sender_id, state.lang, message_text(tracker), named=entity(tracker, "type_id"))


class ActionAskPracticeReply(EngineAction):
    """The form's question is the simulated customer's current line."""

    action_name = "action_ask_practice_reply"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return practice().customer_line(tracker.sender_id)


class ValidatePracticeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_practice_form"

    def validate_practice_reply(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        if not isinstance(value, str):  # the slot being reset, not a trainee reply
            return {"practice_reply": None}
        state = state_of(tracker)
        reply = practice().turn(tracker.sender_id, value, intent_of(tracker))
        send(dispatcher, reply, state)
        return {"practice_reply": "done" if reply.slots.get("done") else None}


class ActionPracticeSummary(EngineAction):
    action_name = "action_practice_summary"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return practice().summary(tracker.sender_id).with_slots(practice_reply=None)


class ActionPracticeHelp(EngineAction):
    """Hint, rubric or end asked for when no practice is running; a rubric can still be shown for a type."""

    action_name = "action_practice_help"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return practice().outside_session(intent_of(tracker), message_text(tracker), state.lang,
                                          named=entity(tracker, "type_id") or state.customer_type)


class ActionQuiz(EngineAction):
    action_name = "action_quiz"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return trainer().quiz(state.lang)


class ActionQuizAnswer(EngineAction):
    action_name = "action_quiz_answer"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        return trainer().answer(tracker.get_slot("quiz_type"), message_text(tracker), state.lang,
                                named=entity(tracker, "type_id"))


class ActionProgress(EngineAction):
    action_name = "action_progress"

    def reply(self, tracker: Tracker, state: State) -> Reply:
        if intent_of(tracker) == "leaderboard":
            return trainer().leaderboard(state.lang)
        return trainer().progress(tracker.sender_id, state.lang)
