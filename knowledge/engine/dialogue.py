"""The dialogue router: one user turn and the remembered conversation in, one Answer out.

Each message is read once (engine/reading: a Reading holds what it says, names and asks, and what NLU made of
it); then the routing table below (`Dialogue.table`) is read top to bottom and the first row whose condition holds
on the Reading and the remembered conversation answers the turn. tests/test_routing.py exercises it row by row.
Every answer is then fitted to the conversation (pronoun, script, punctuation) in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional

from ..schema import TRADES, local
from ..text import han_count, normalise
from ..userdata import UserData
from .answer import Answer
from .clarifying import CLARIFY_ORDER, ClarifyingQuestions
from .coaching import Coach
from .corrections import Corrections
from .customers import Customers
from .library import Library
from .lookup import type_in
from .practice import Practice, Trainer
from .reading import QUESTION, SHORT_LETTERS, Reader, Reading, TurnIdentifier, says, words
from .runtime import Engine
from .state import ConversationState, UserTurn
from .wording import finish

__all__ = ["SHORT_LETTERS", "Dialogue", "Route"]

# intents that read as more about the customer while a clarifying question is open; any other leaves the questions
READ_WHILE_ASKING = ("describe_customer", "out_of_scope", "nlu_fallback", "affirm", "deny", "")
# intents whose message may name a saved customer ("Mr Li called back, he wants a discount")
MAY_NAME_A_CUSTOMER = (
    "describe_customer",
    "ask_phrase",
    "ask_avoid",
    "ask_stage",
    "ask_discount",
    "ask_why",
    "out_of_scope",
    "nlu_fallback",
    "recall_customer",
)
# intents whose message speaks of the customer at hand, so a trade's words in it give the salesperson's trade away
TRADE_GIVEN_AWAY = (
    "describe_customer",
    "ask_phrase",
    "ask_avoid",
    "ask_stage",
    "ask_discount",
    "ask_why",
    "correct_type",
    "update_customer",
    "out_of_scope",
    "nlu_fallback",
)
FOLLOW_UPS = ("ask_phrase", "ask_avoid", "ask_stage", "ask_discount", "ask_why")
UNPLACED = ("describe_customer", "out_of_scope", "nlu_fallback")  # intents NLU gives a message it could not place
BARE_NO = ("no", "nope", "nah", "no thanks", "不", "不是", "没有", "不要", "不用")  # a no to a question, not to the type

Handler = Callable[[Reading, ConversationState], Answer]
Condition = Callable[[Reading, ConversationState], bool]


@dataclass(frozen=True)
class Route:
    """One row of the routing table: when `when` holds, `handle` answers. `keeps` names what an open question
    the row leaves standing ("question": a clarifying question, "delete": a deletion awaiting its yes); any
    other row closes them, as a user who moves on has."""

    name: str
    when: Condition
    handle: Handler
    keeps: FrozenSet[str] = frozenset()


KEEP_ALL = frozenset({"question", "delete"})
KEEP_DELETE = frozenset({"delete"})


class Dialogue:
    def __init__(self, engine: Engine, userdata: UserData):
        self.kb = engine.kb
        self.userdata = userdata
        self.identifier = TurnIdentifier(engine.identifier)  # one identification per text per turn
        self.reader = Reader(engine.kb, self.identifier, userdata)
        self.practice = Practice(engine, userdata)
        trade_words = {trade: scene.words.dict() for trade, scene in self.practice.scenes.items()}
        self.coach = Coach(
            engine.kb,
            self.identifier,  # type: ignore[arg-type]  # the identifier's interface, with the turn's memory
            clarify=lambda text, state: self.clarifying.start(text, state),
            trade_words=trade_words,
            offer_reading=lambda text, state, read: self.corrections.offer_reading(text, state, read),
        )
        self.clarifying = ClarifyingQuestions(engine.kb, self.identifier, self.coach)  # type: ignore[arg-type]
        self.corrections = Corrections(engine.kb, self.identifier, userdata, self.coach)  # type: ignore[arg-type]
        self.library = Library(engine.kb, self.described_type)
        self.customers = Customers(engine.kb, userdata, self.coach)
        self.trainer = Trainer(engine, userdata)
        self.routes: Dict[str, Handler] = {
            "greet": lambda r, s: self.coach.fixed("greet", s.lang, menu=True),
            "goodbye": lambda r, s: self.coach.fixed("goodbye", s.lang),
            "thank": lambda r, s: self.coach.fixed("thank", s.lang),
            "bot_challenge": lambda r, s: self.coach.fixed("bot_challenge", s.lang),
            "help": lambda r, s: self.coach.fixed("help", s.lang, menu=True),
            "about_bot": self.about_bot,
            "affirm": self.affirm,
            "deny": self.deny,
            "set_trade": self.set_trade,
            "describe_customer": self.describe,
            "correct_type": self.correct_type,
            "confirm_type": lambda r, s: self.corrections.confirm(s, named=r.entity("type_id")),
            "new_customer": lambda r, s: self.coach.new_customer(s),
            "list_types": lambda r, s: self.library.list_types(s.lang),
            "ask_knowledge": lambda r, s: self.library.answer(r.text, s, named=r.entity("type_id")),
            "show_more": self.show_more,
            "save_customer": lambda r, s: self.customers.save(r.text, s, name=r.entity("name")),
            "list_customers": lambda r, s: self.customers.list(s),
            "recall_customer": lambda r, s: self.customers.recall(r.text, s, name=r.entity("name")),
            "update_customer": lambda r, s: self.customers.update(r.text, s, name=r.entity("name"), type_id=r.entity("type_id")),
            "rename_customer": lambda r, s: self.customers.rename(r.text, s, name=r.entity("name"), new_name=r.entity("new_name")),
            "delete_customer": lambda r, s: self.customers.delete(r.text, s, name=r.entity("name"), confirm=r.entity("confirm")),
            "start_practice": self.start_practice,
            "practice_hint": self.practice_help,
            "practice_end": self.practice_help,
            "show_rubric": self.practice_help,
            "quiz": self.quiz,
            "quiz_answer": self.quiz_answer,
            "my_progress": lambda r, s: self.trainer.progress(s.user, s.lang),
            "leaderboard": lambda r, s: self.trainer.leaderboard(s.lang, viewer=s.user),
        }
        for intent in FOLLOW_UPS:
            self.routes[intent] = self.follow_up
        self.table = self.routing_table()

    # the routing table ---------------------------------------------------------------------------
    def routing_table(self) -> List[Route]:
        """Every way a turn is answered, in priority order: the first row whose condition holds answers."""
        typed = lambda r, s: not r.is_button  # noqa: E731 - a condition shared by most rows
        rows = [
            # a running practice session takes every message: the trainee is talking to the simulated customer
            Route("practice session", lambda r, s: r.practising, self.practice_turn, KEEP_ALL),
            Route("unknown button", lambda r, s: r.is_button and r.button_intent not in self.routes, self.unknown_button, KEEP_ALL),
            Route("no words", lambda r, s: typed(r, s) and not r.has_words, self.no_words, KEEP_ALL),
            # an open clarifying question takes its answer, or more description
            Route("clarifying answer", self.answers_the_question, self.clarifying_answer, KEEP_ALL),
            Route("description while asking", self.describes_while_asking, self.description_while_asking, KEEP_ALL),
            Route("stale clarifying option", self.stale_option, self.answer_stale_option, KEEP_DELETE),
            # a saved customer named, or a new customer said outright, before what NLU thought it asks
            Route("saved customer named", self.names_saved_customer, self.saved_customer_named, KEEP_DELETE),
            Route("new customer said", self.says_new_customer, self.new_customer_described, KEEP_DELETE),
            # what the message asks in context, where NLU's intent alone falls short
            Route("correction that corrects nothing", self.corrects_nothing, self.fallback),
            Route("only judges a customer", lambda r, s: typed(r, s) and self.only_judges_a_customer(r), self.describe),
            Route("opens with a correction", self.opens_with_correction, self.correct_type),
            Route("says the type is wrong", self.says_the_type_is_wrong, self.correct_type),
            Route("follow-up that tells a situation", self.follow_up_tells_situation, self.describe),
        ]
        # then what NLU read (a button's own intent), one row per intent
        for intent, handler in self.routes.items():
            keeps = KEEP_DELETE if intent in ("affirm", "deny", "delete_customer") else frozenset()
            rows.append(Route(f"intent {intent}", lambda r, s, i=intent: r.intent == i, handler, keeps))  # type: ignore[misc]
        rows.append(Route("anything else", lambda r, s: True, self.fallback))
        return rows

    # the turn ------------------------------------------------------------------------------------
    def respond(self, turn: UserTurn, state: ConversationState) -> Answer:
        self.identifier.begin_turn()
        state.drop_unknown(self.kb.types, self.kb.topics, TRADES, CLARIFY_ORDER)
        reading = self.read(turn, state)
        self.settle(reading, state)
        reply = self.route(reading, state)
        if not reply.bubbles:
            reply = self.coach.fixed("fallback", state.lang, menu=True)
        return finish(reply, state.lang, state.script, state.pronoun)

    def read(self, turn: UserTurn, state: ConversationState) -> Reading:
        reading = self.reader.read(turn, state)
        reading.practising = self.practice.active(state.user)
        return reading

    def settle(self, r: Reading, state: ConversationState) -> None:
        """What a message tells about the conversation whatever it asks: the reply language follows the message
        (a button, an emoji or a letter or two keep the conversation's); a trade said outright; the pronoun."""
        if r.lang:
            state.lang = r.lang
            if r.lang == "zh" and r.script:
                state.script = r.script
        if r.is_button:
            return
        trade = r.trade_stated
        if not trade and not state.trade and r.intent in TRADE_GIVEN_AWAY:
            trade = r.trade_hinted
        if trade:
            state.trade = trade
        if r.practising or not r.has_words:
            return
        if state.pending_question:  # "cold, and he finds fault with everything": coached as 'he' from now on
            self.read_pronoun(r, state, intent="describe_customer")
        elif r.intent in UNPLACED:
            self.read_pronoun(r, state, intent=r.intent)

    def route(self, r: Reading, state: ConversationState) -> Answer:
        row = self.row_for(r, state)
        if "question" not in row.keeps:
            state.pending_question, state.answers = None, {}
        if "delete" not in row.keeps:
            state.delete_pending = None
        return row.handle(r, state)

    def row_for(self, r: Reading, state: ConversationState) -> Route:
        """The first row of the table whose condition holds (the last row always does)."""
        return next(row for row in self.table if row.when(r, state))

    # the table's conditions ------------------------------------------------------------------------
    def answers_the_question(self, r: Reading, state: ConversationState) -> bool:
        return bool(state.pending_question) and self.clarifying.read_answer(state.pending_question or "", r.text) is not None

    def describes_while_asking(self, r: Reading, state: ConversationState) -> bool:
        return bool(state.pending_question) and not r.is_button and (r.intent in READ_WHILE_ASKING or r.judgement_only)

    def stale_option(self, r: Reading, state: ConversationState) -> bool:
        return not state.pending_question and not r.is_button and self.clarifying.stale_choice(r.text, state) is not None

    def names_saved_customer(self, r: Reading, state: ConversationState) -> bool:
        if r.is_button or r.intent not in MAY_NAME_A_CUSTOMER or not r.customer_named:
            return False
        row = r.customer_named
        if row["name"] != state.customer_name:
            return True
        rest = self.without_name(r, row)  # already the customer at hand: only a question NLU missed is ours
        return r.intent not in FOLLOW_UPS and self.asks(rest)

    def says_new_customer(self, r: Reading, state: ConversationState) -> bool:
        return (
            not r.is_button
            and r.intent in ("describe_customer", "new_customer", "out_of_scope", "nlu_fallback")
            and r.new_customer is not None
        )

    def corrects_nothing(self, r: Reading, state: ConversationState) -> bool:
        """NLU read a correction, but none is said ("hmm") and no type is described."""
        return (
            not r.is_button
            and r.intent == "correct_type"
            and not r.entity("type_id")
            and not self.corrections.corrects(r.text)
            and self.described_type(r.text) is None
        )

    def opens_with_correction(self, r: Reading, state: ConversationState) -> bool:
        return not r.is_button and bool(state.customer_type) and r.intent in (*UNPLACED, "deny") and r.correction

    def says_the_type_is_wrong(self, r: Reading, state: ConversationState) -> bool:
        """A bare no to the remembered type ("not right", 「不对」); a lone "no" is left to answer a question."""
        if r.is_button or not state.customer_type or r.intent not in (*UNPLACED, "deny"):
            return False
        if state.delete_pending or state.proposed_type or r.norm.strip(" .!。！") in BARE_NO:
            return False
        return self.corrections.disagrees(r.text) and self.corrections.bare_disagreement(r.text)

    def follow_up_tells_situation(self, r: Reading, state: ConversationState) -> bool:
        """'what if he walks out?': the situation for this customer, not the avoid list."""
        return (
            not r.is_button
            and bool(state.customer_type)
            and r.intent in ("ask_avoid", "ask_phrase", "ask_stage", "ask_why")
            and bool(r.situation)
        )

    def only_judges_a_customer(self, r: Reading) -> bool:
        """A statement that judges a customer and says nothing else (no question, no new-customer words)."""
        return not r.question and (r.names_a_customer or r.pronoun is not None) and r.judgement_only and not r.says("new_customer")

    # the table's handlers --------------------------------------------------------------------------
    def practice_turn(self, r: Reading, state: ConversationState) -> Answer:
        if r.intent == "start_practice" and r.is_button:
            return self.start_practice(r, state)
        return self.practice.turn(state.user, r.text, r.intent, state.lang)

    def unknown_button(self, r: Reading, state: ConversationState) -> Answer:
        return self.coach.fixed("unknown_button", state.lang, menu=True)  # an old or made-up payload

    def no_words(self, r: Reading, state: ConversationState) -> Answer:
        return Answer().say(self.kb.text("empty_input", state.lang))

    def clarifying_answer(self, r: Reading, state: ConversationState) -> Answer:
        answer = self.clarifying.read_answer(state.pending_question or "", r.text) or "skip"
        return self.clarifying.answer_question(answer, state, "" if r.is_button else r.text)

    def description_while_asking(self, r: Reading, state: ConversationState) -> Answer:
        return self.clarifying.description_while_asking(r.text, state)

    def answer_stale_option(self, r: Reading, state: ConversationState) -> Answer:
        return self.clarifying.stale_option(r.text, state) or self.fallback(r, state)

    def describe(self, r: Reading, state: ConversationState) -> Answer:
        return self.coach.describe(r.text, state)

    def correct_type(self, r: Reading, state: ConversationState) -> Answer:
        return self.corrections.correct(r.text, state, named=r.entity("type_id"))

    def read_pronoun(self, r: Reading, state: ConversationState, intent: str) -> None:
        """Coaching speaks of the customer as the salesperson does; 'she' after a 'he' customer is someone new in
        English. Not in Chinese: 他 and 她 sound the same, and many write 他 for anyone (and voice input does)."""
        self.apply_pronoun(r.pronoun, r.text, intent, state, situation=bool(r.situation))

    def apply_pronoun(self, pronoun: Optional[str], text: str, intent: str, state: ConversationState, situation: bool) -> None:
        if not pronoun or pronoun == state.pronoun:
            return
        chinese = bool(han_count(text))
        if state.customer_type and state.pronoun != "they" and intent == "describe_customer" and not chinese and not situation:
            state.forget_customer()
        said_again = intent == "describe_customer" and not chinese
        if said_again or not state.customer_type or state.pronoun == "they":
            state.pronoun = pronoun

    def new_customer_described(self, r: Reading, state: ConversationState) -> Answer:
        """'another customer: quiet, says whatever' / 「新客户：一个大妈…」 starts afresh and coaches the rest."""
        rest = r.new_customer or ""
        state.forget_customer()
        if len(rest) < 6 or not any(ch.isalpha() for ch in rest):
            return self.coach.new_customer(state)
        self.apply_pronoun(self.reader.pronoun_of(rest), rest, "describe_customer", state, situation=bool(self.coach.situation_of(rest)))
        return self.coach.describe(rest, state)

    # coaching --------------------------------------------------------------------------
    def follow_up(self, r: Reading, state: ConversationState) -> Answer:
        return self.coach.follow_up(r.intent, r.text, state, stage=r.entity("stage"))

    def fallback(self, r: Reading, state: ConversationState) -> Answer:
        """NLU was unsure or called it out of scope: coach a description (or a development of the current
        customer), ask about a thin one that names a customer, answer a question about the bot or a topic it
        names, otherwise say what the bot can do."""
        text = r.text
        key = "out_of_scope" if r.intent == "out_of_scope" else "fallback"
        if r.is_button:
            return self.coach.fixed(key, state.lang, menu=True)
        if r.says("about_bot_words"):
            return self.coach.fixed("help", state.lang, menu=True)
        if r.comparing and len(r.types_named or self.library.types_compared(text)) >= 2:
            return self.library.answer(text, state)  # "表面热心型和畏怯友善型怎么区分？"
        result = r.identification
        if state.customer_type and r.question and not r.topic_named and (result.needs_more_info or not result.about_customer):
            asked = self.follow_up_asked(r, r.norm) or "ask_phrase"  # "so how do I make the most of it?"
            return self.coach.follow_up(asked, text, state)
        about_them = result.about_customer or r.names_a_customer or r.pronoun is not None
        if state.customer_type and about_them:
            return self.coach.development(text, state, result)
        if result.about_customer and not result.needs_more_info and result.types[0][1] >= 0.3:
            return self.coach.describe(text, state, result)
        topic = r.topic_named if r.question else None
        if topic:  # "a big client left us, how do I win them back?"
            return self.library.topic(topic, state)
        if r.names_a_customer:  # about a customer, but too thin to judge: ask
            return self.clarifying.start(text, state)
        return self.coach.fixed(key, state.lang, menu=True)

    def affirm(self, r: Reading, state: ConversationState) -> Answer:
        if state.delete_pending:
            return self.customers.delete("", state, name=state.delete_pending, confirm="yes")
        if state.proposed_type:
            return self.corrections.confirm(state)
        return self.coach.fixed("affirm", state.lang, menu=True)

    def deny(self, r: Reading, state: ConversationState) -> Answer:
        if state.delete_pending:
            return self.customers.delete("", state, name=state.delete_pending, confirm="no")
        return self.coach.fixed("deny", state.lang, menu=True)

    @staticmethod
    def without_name(r: Reading, row: Dict) -> str:
        return r.norm.replace(normalise(row["name"]), " ")

    def asks(self, rest: str) -> bool:
        """A message read without the customer's name still asks something: a situation or a follow-up."""
        return bool(self.coach.situation_of(rest) or self.follow_up_asked(None, rest))

    def saved_customer_named(self, r: Reading, state: ConversationState) -> Answer:
        """A message naming a saved customer brings that customer back, then answers what it asks. The name
        changes nothing else: 「王总嫌贵怎么办」 is answered as 「他嫌贵怎么办」, whatever NLU made of the name."""
        row = r.customer_named or {}
        rest = self.without_name(r, row)
        if row["name"] == state.customer_name:
            return self.about_customer(r, rest, state)
        if not self.asks(rest) and (r.intent == "recall_customer" or len(re.sub(r"\W+", "", rest)) <= 8):
            return self.customers.recall(r.text, state, name=row["name"])
        self.customers.load(row, state)
        head = Answer().say(self.kb.text("recalled", state.lang, name=row["name"], date=row["updated"][:10]))
        body = self.about_customer(r, rest, state)
        return Answer(bubbles=head.bubbles + body.bubbles, buttons=body.buttons)

    def about_customer(self, r: Reading, rest: str, state: ConversationState) -> Answer:
        """What a message about the remembered customer asks, read without the customer's name: a situation
        ("what if ... walks out") before a follow-up, except a discount asked outright."""
        situation = self.coach.situation_of(rest)
        asked = r.intent if r.intent in FOLLOW_UPS else self.follow_up_asked(None, rest)
        if asked and (asked == "ask_discount" or not situation):
            return self.coach.follow_up(asked, r.text, state, stage=r.entity("stage"))
        return self.coach.development(r.text, state)

    def follow_up_asked(self, r: Optional[Reading], norm: str) -> Optional[str]:
        """The follow-up a question asks by its words (a discount, what to avoid, a stage), for when NLU did not
        read it as one; None for a statement."""
        if not QUESTION.search(norm):
            return None
        for key, intent in (("discount_words", "ask_discount"), ("avoid_words", "ask_avoid")):
            if says(norm, words(self.kb, key)):
                return intent
        return "ask_stage" if self.coach.stage_of(norm) else None

    # knowledge ----------------------------------------------------------------------------
    def described_type(self, text: str) -> Optional[str]:
        read = self.coach.identifier.identify(text)
        return None if read.needs_more_info or read.types[0][1] < 0.3 else read.types[0][0]

    def show_more(self, r: Reading, state: ConversationState) -> Answer:
        more = self.library.more(r.text, state, item=r.entity("item"))
        if more is not None:
            return more
        if state.customer_type:
            return self.coach.follow_up("ask_stage", r.text, state)
        return Answer().say(self.kb.text("no_topic_open", state.lang))

    def about_bot(self, r: Reading, state: ConversationState) -> Answer:
        if r.entity("item") == "describe":
            return self.coach.menu(Answer().say(self.kb.text("how_to_describe", state.lang)), state.lang)
        for key in ("about_languages", "about_privacy"):
            if r.says(key):
                return self.coach.menu(Answer().say(self.kb.text(key, state.lang)), state.lang)
        return self.coach.fixed("help", state.lang, menu=True)

    # the salesperson's trade -------------------------------------------------------------
    def set_trade(self, r: Reading, state: ConversationState) -> Answer:
        chosen = r.entity("trade")
        if chosen in TRADES:
            state.trade = chosen
        elif chosen == "none":
            state.trade = None
            return Answer().say(self.kb.text("trade_general", state.lang))
        state.trade_asked = True
        if state.trade and (chosen or not r.is_button):
            reply = Answer().say(self.kb.text("trade_set", state.lang, trade=local(self.kb.ui.trades[state.trade].names, state.lang)))
            if state.customer_type:
                return self.coach.next_buttons(reply, state.customer_type, state.lang)
            return self.coach.menu(reply, state.lang)
        reply = Answer().say(self.kb.text("ask_trade", state.lang))
        for trade_id, trade in self.kb.ui.trades.items():
            reply.button(local(trade.names, state.lang), "set_trade", trade=trade_id)
        return reply.button(self.kb.text("trade_other", state.lang), "set_trade", trade="none")

    # practice, quiz, progress ----------------------------------------------------------------
    def start_practice(self, r: Reading, state: ConversationState) -> Answer:
        trade = r.entity("trade") if r.entity("trade") in TRADES else state.trade
        named = r.entity("type_id")
        if not named and not r.is_button:  # "practise with a cold, quiet customer": the type it describes
            named = type_in(self.kb, r.text)
            named = named or self.described_type(r.text)
        return self.practice.start(state.user, state.lang, "" if r.is_button else r.text, named=named, trade=trade)

    def practice_help(self, r: Reading, state: ConversationState) -> Answer:
        return self.practice.outside_session(r.intent, r.text, state.lang, named=r.entity("type_id") or state.customer_type)

    def quiz(self, r: Reading, state: ConversationState) -> Answer:
        reply = self.trainer.quiz(state.lang)
        state.quiz_type = reply.slots.get("quiz_type")
        return reply

    def quiz_answer(self, r: Reading, state: ConversationState) -> Answer:
        reply = self.trainer.answer(state.quiz_type, r.text, state.lang, named=r.entity("type_id"))
        state.quiz_type = None
        return reply
