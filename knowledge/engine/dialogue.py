"""The dialogue router: one user turn and the remembered conversation in, one Answer out.

Rasa's NLU names the intent; this decides what the turn means in context, in a fixed order:
1. a running practice session takes every message (the trainee is talking to the simulated customer);
2. an open clarifying question takes an answer or a description, and lets any other request through;
3. otherwise the intent picks the answer, reading saved customers and the trade named in the message.
Every answer is then fitted to the conversation (pronoun, script, punctuation) in one place.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, Optional

from ..schema import TRADES, local
from ..text import clean, detect_lang, han_count, has_words, normalise
from ..userdata import UserData
from .answer import Answer
from .clarifying import CLARIFY_ORDER, ClarifyingQuestions
from .coaching import Coach
from .corrections import Corrections
from .customers import Customers
from .library import Library
from .lookup import mentions, type_in
from .practice import Practice, Trainer
from .runtime import Engine
from .state import ConversationState, UserTurn
from .wording import finish, pronoun_in, script_of

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
# A bare judgement of a customer ("difficult customer", 「遇到一个难缠的客户」) is read as a thin description whatever
# intent NLU gave it: its few words pull NLU anywhere (practice, knowledge, help, leaderboard were all seen).
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
# "I sell cars", "I'm in insurance", 「我是卖房的」「我做保险」: where a trade is said outright
_TRADE_STATEMENT = re.compile(
    r"\b(?:i|we)\s*(?:'m|am|are)?\s*(?:sell(?:ing)?|work(?:ing)?\s+(?:in|at|for)|in|do|an?)\b(.{0,40})|"
    r"(?:我|我们)(?:是|在|也)?(.{0,5}?(?:卖|做|搞|干|从事).{0,12})|"
    r"(?:我|我们)(?:是|在)(.{0,10}?(?:顾问|销售|代理|经纪|中介|业务员|经理))",
    re.I,
)
NEW_CUSTOMER_REACH = 12  # "ok so, another customer: ..." - the marker opens the message
QUESTION = re.compile(r"[?？]|\b(how|what|why|which|when|should)\b|怎么|如何|为什么|哪些|什么|吗", re.I)
COMPARING = re.compile(r"\b(differen\w*|differ|compare\w*|vs\.?|versus|tell (?:them )?apart)\b|区别|区分|不同|差别|比较", re.I)
BARE_NO = ("no", "nope", "nah", "no thanks", "不", "不是", "没有", "不要", "不用")  # a no to a question, not to the type
SHORT_LETTERS = 3  # "B", "ok": too short to say which language the user writes in, so the conversation's stays


class Dialogue:
    def __init__(self, engine: Engine, userdata: UserData):
        self.kb = engine.kb
        self.userdata = userdata
        self.practice = Practice(engine, userdata)
        trade_words = self.practice.trade_words()
        self.coach = Coach(
            engine.kb,
            engine.identifier,
            clarify=lambda text, state: self.clarifying.start(text, state),
            trade_words=trade_words,
            offer_reading=lambda text, state, read: self.corrections.offer_reading(text, state, read),
        )
        self.clarifying = ClarifyingQuestions(engine.kb, engine.identifier, self.coach)
        self.corrections = Corrections(engine.kb, engine.identifier, userdata, self.coach)
        self.library = Library(engine.kb, self.described_type)
        self.customers = Customers(engine.kb, userdata, self.coach)
        self.trainer = Trainer(engine, userdata)
        self.routes: Dict[str, Callable[[UserTurn, ConversationState], Answer]] = {
            "greet": lambda t, s: self.coach.fixed("greet", s.lang, menu=True),
            "goodbye": lambda t, s: self.coach.fixed("goodbye", s.lang),
            "thank": lambda t, s: self.coach.fixed("thank", s.lang),
            "bot_challenge": lambda t, s: self.coach.fixed("bot_challenge", s.lang),
            "help": lambda t, s: self.coach.fixed("help", s.lang, menu=True),
            "about_bot": self.about_bot,
            "affirm": self.affirm,
            "deny": self.deny,
            "set_trade": self.set_trade,
            "describe_customer": lambda t, s: self.coach.describe(t.text, s),
            "correct_type": lambda t, s: self.corrections.correct(t.text, s, named=t.entity("type_id")),
            "confirm_type": lambda t, s: self.corrections.confirm(s, named=t.entity("type_id")),
            "new_customer": lambda t, s: self.coach.new_customer(s),
            "list_types": lambda t, s: self.library.list_types(s.lang),
            "ask_knowledge": lambda t, s: self.library.answer(t.text, s, named=t.entity("type_id")),
            "show_more": self.show_more,
            "save_customer": lambda t, s: self.customers.save(t.text, s, name=t.entity("name")),
            "list_customers": lambda t, s: self.customers.list(s),
            "recall_customer": lambda t, s: self.customers.recall(t.text, s, name=t.entity("name")),
            "update_customer": lambda t, s: self.customers.update(t.text, s, name=t.entity("name"), type_id=t.entity("type_id")),
            "rename_customer": lambda t, s: self.customers.rename(t.text, s, name=t.entity("name"), new_name=t.entity("new_name")),
            "delete_customer": lambda t, s: self.customers.delete(t.text, s, name=t.entity("name"), confirm=t.entity("confirm")),
            "start_practice": self.start_practice,
            "practice_hint": self.practice_help,
            "practice_end": self.practice_help,
            "show_rubric": self.practice_help,
            "quiz": self.quiz,
            "quiz_answer": self.quiz_answer,
            "my_progress": lambda t, s: self.trainer.progress(s.user, s.lang),
            "leaderboard": lambda t, s: self.trainer.leaderboard(s.lang, viewer=s.user),
        }
        for intent in FOLLOW_UPS:
            self.routes[intent] = self.follow_up

    # the turn ------------------------------------------------------------------------
    def respond(self, turn: UserTurn, state: ConversationState) -> Answer:
        state.drop_unknown(self.kb.types, self.kb.topics, TRADES, CLARIFY_ORDER)
        turn.text = turn.text if turn.is_button else clean(turn.text)
        self.read_language(turn, state)
        if not turn.is_button:
            trade = self.trade_stated(turn.text, anywhere=turn.intent == "set_trade")
            if not trade and not state.trade and turn.intent in TRADE_GIVEN_AWAY:
                trade = self.trade_given_away(turn.text)
            if trade:
                state.trade = trade
        reply = self.route(turn, state)
        if not reply.bubbles:
            reply = self.coach.fixed("fallback", state.lang, menu=True)
        return finish(reply, state.lang, state.script, state.pronoun)

    def route(self, turn: UserTurn, state: ConversationState) -> Answer:
        if self.practice.active(state.user):
            if turn.intent == "start_practice" and turn.is_button:
                return self.start_practice(turn, state)
            return self.practice.turn(state.user, turn.text, turn.intent, state.lang)
        explained = None if turn.is_button else self.practice.explain_score(state.user, turn.text, state.lang)
        if explained is not None:  # "why did I only get 59?": from that session's own parts
            return explained
        if turn.is_button and self.button_intent(turn.text) not in self.routes:
            return self.coach.fixed("unknown_button", state.lang, menu=True)  # an old or made-up payload
        if not turn.is_button and not has_words(turn.text):
            return Answer().say(self.kb.text("empty_input", state.lang))
        if state.pending_question:
            if not turn.is_button:  # "cold, and he finds fault with everything": coached as 'he' from now on
                self.read_pronoun(UserTurn(turn.text, "describe_customer"), state)
            answer = self.clarifying.read_answer(state.pending_question, turn.text)
            if answer is not None:
                return self.clarifying.answer_question(answer, state, "" if turn.is_button else turn.text)
            if not turn.is_button and (turn.intent in READ_WHILE_ASKING or self.coach.judgement_only(turn.text)):
                return self.clarifying.description_while_asking(turn.text, state)
            state.pending_question, state.answers = None, {}
        elif not turn.is_button:
            stale = self.clarifying.stale_option(turn.text, state)
            if stale is not None:
                return stale
        if turn.intent in MAY_NAME_A_CUSTOMER and not turn.is_button:
            recalled = self.saved_customer_named(turn, state)
            if recalled is not None:
                return recalled
        if not turn.is_button and turn.intent in ("describe_customer", "new_customer", "out_of_scope", "nlu_fallback"):
            fresh = self.new_customer_described(turn, state)
            if fresh is not None:
                return fresh
        if not turn.is_button and turn.intent in ("describe_customer", "out_of_scope", "nlu_fallback"):
            self.read_pronoun(turn, state)
        intent = self.intent_in_context(turn, state)
        if intent not in ("affirm", "deny", "delete_customer"):
            state.delete_pending = None
        return self.routes.get(intent, self.fallback)(turn, state)

    @staticmethod
    def button_intent(payload: str) -> str:
        """The intent a '/intent{...}' payload names, whatever NLU made of an unknown one."""
        return re.split(r"[{\s]", payload[1:], maxsplit=1)[0]

    def intent_in_context(self, turn: UserTurn, state: ConversationState) -> str:
        """What the message asks, given the remembered customer, where NLU's reading alone falls short:
        'not quite, she's more...' corrects the type; 'what if he walks out?' is a situation, not the avoid list."""
        if turn.is_button:
            return turn.intent
        if turn.intent == "correct_type" and not turn.entity("type_id") and not self.corrections.corrects(turn.text):
            if self.described_type(turn.text) is None:
                return "fallback"  # "hmm": NLU's guess, but no correction is said
        if self.only_judges_a_customer(turn.text):
            return "describe_customer"  # "difficult customer", "customer is a pain": thin, so the questions are asked
        if not state.customer_type:
            return turn.intent
        if turn.intent in ("describe_customer", "out_of_scope", "nlu_fallback", "deny") and self.corrections.is_correction(turn.text):
            return "correct_type"
        if turn.intent in ("describe_customer", "out_of_scope", "nlu_fallback", "deny") and self.says_the_type_is_wrong(turn.text, state):
            return "correct_type"  # "that's not right" about the type just read: the picker
        if turn.intent in ("ask_avoid", "ask_phrase", "ask_stage", "ask_why") and self.coach.situation_of(turn.text):
            return "describe_customer"  # the development path answers the situation for this customer
        return turn.intent

    def says_the_type_is_wrong(self, text: str, state: ConversationState) -> bool:
        """A bare no to the remembered type ("not right", 「不对」); a lone "no" is left to answer a question."""
        if state.delete_pending or state.proposed_type or normalise(text).strip(" .!。！") in BARE_NO:
            return False
        return self.corrections.disagrees(text) and self.corrections.bare_disagreement(text)

    def only_judges_a_customer(self, text: str) -> bool:
        """A statement that judges a customer and says nothing else (no question, no new-customer words)."""
        return (
            not QUESTION.search(text)
            and (self.coach.names_a_customer(text) or self.pronoun_of(text) is not None)
            and self.coach.judgement_only(text)
            and not self.says_any(text, "new_customer")
        )

    def read_pronoun(self, turn: UserTurn, state: ConversationState) -> None:
        """Coaching speaks of the customer as the salesperson does; 'she' after a 'he' customer is someone new in
        English. Not in Chinese: 他 and 她 sound the same, and many write 他 for anyone (and voice input does)."""
        pronoun = self.pronoun_of(turn.text)
        if not pronoun or pronoun == state.pronoun:
            return
        if (
            state.customer_type
            and state.pronoun != "they"
            and turn.intent == "describe_customer"
            and not han_count(turn.text)
            and not self.coach.situation_of(turn.text)
        ):
            state.forget_customer()
        said_again = turn.intent == "describe_customer" and not han_count(turn.text)
        if said_again or not state.customer_type or state.pronoun == "they":
            state.pronoun = pronoun

    def new_customer_described(self, turn: UserTurn, state: ConversationState) -> Optional[Answer]:
        """'another customer: quiet, says whatever' / 「新客户：一个大妈…」 starts afresh and coaches the rest."""
        words = self.kb.ui.answers["new_customer"]
        norm = normalise(turn.text)
        hit = None
        for word in sorted((normalise(w) for w in words.en + words.zh), key=len, reverse=True):
            pos = norm.find(word)
            if 0 <= pos <= NEW_CUSTOMER_REACH and (not word.isascii() or re.search(rf"\b{re.escape(word)}\b", norm)):
                hit = (pos, word)
                break
        if hit is None:
            return None
        source = turn.text if len(turn.text) == len(norm) else norm
        rest = source[hit[0] + len(hit[1]) :].lstrip(" ,.:;!?，。：；！？-—")
        state.forget_customer()
        if len(rest) < 6 or not has_words(rest):
            return self.coach.new_customer(state)
        self.read_pronoun(UserTurn(rest, "describe_customer"), state)
        return self.coach.describe(rest, state)

    def read_language(self, turn: UserTurn, state: ConversationState) -> None:
        """The reply language follows the message; a button, an emoji or a letter or two keep the conversation's."""
        text = turn.text
        if turn.is_button or not has_words(text):
            return
        if not han_count(text) and sum(ch.isalpha() for ch in text) < SHORT_LETTERS:
            return
        state.lang = detect_lang(text, state.lang)
        if state.lang == "zh":
            state.script = script_of(text, state.script)

    # coaching --------------------------------------------------------------------------
    def follow_up(self, turn: UserTurn, state: ConversationState) -> Answer:
        return self.coach.follow_up(turn.intent, turn.text, state, stage=turn.entity("stage"))

    def fallback(self, turn: UserTurn, state: ConversationState) -> Answer:
        """NLU was unsure or called it out of scope: coach a description (or a development of the current
        customer), ask about a thin one that names a customer, answer a question about the bot or a topic it
        names, otherwise say what the bot can do."""
        text = turn.text
        key = "out_of_scope" if turn.intent == "out_of_scope" else "fallback"
        if turn.is_button:
            return self.coach.fixed(key, state.lang, menu=True)
        if self.says_any(text, "about_bot_words"):
            return self.coach.fixed("help", state.lang, menu=True)
        if COMPARING.search(text) and len(self.library.types_named(text) or self.library.types_compared(text)) >= 2:
            return self.library.answer(text, state)  # "表面热心型和畏怯友善型怎么区分？"
        result = self.coach.identifier.identify(text)
        if (
            state.customer_type
            and QUESTION.search(text)
            and not self.library.topic_named(text)
            and (result.needs_more_info or not result.about_customer)
        ):
            asked = self.follow_up_asked(text) or "ask_phrase"  # "so how do I make the most of it?"
            return self.coach.follow_up(asked, text, state)
        about_them = result.about_customer or self.coach.names_a_customer(text) or self.pronoun_of(text) is not None
        if state.customer_type and about_them:
            return self.coach.development(text, state, result)
        if result.about_customer and not result.needs_more_info and result.types[0][1] >= 0.3:
            return self.coach.describe(text, state, result)
        topic = self.library.topic_named(text) if QUESTION.search(text) else None
        if topic:  # "a big client left us, how do I win them back?"
            return self.library.topic(topic, state)
        if self.coach.names_a_customer(text):  # about a customer, but too thin to judge: ask
            return self.clarifying.start(text, state)
        return self.coach.fixed(key, state.lang, menu=True)

    def says_any(self, text: str, key: str) -> bool:
        words = self.kb.ui.answers[key]
        return bool(mentions(normalise(text), {key: words.en + words.zh}))

    def pronoun_of(self, text: str) -> Optional[str]:
        """'she' / 'he' when the message speaks of the customer so ('the lady', 「大妈」), else None."""
        answers = self.kb.ui.answers
        return pronoun_in(text, answers["she_words"].en + answers["she_words"].zh, answers["he_words"].en + answers["he_words"].zh)

    def affirm(self, turn: UserTurn, state: ConversationState) -> Answer:
        if state.delete_pending:
            return self.customers.delete("", state, name=state.delete_pending, confirm="yes")
        if state.proposed_type:
            return self.corrections.confirm(state)
        return self.coach.fixed("affirm", state.lang, menu=True)

    def deny(self, turn: UserTurn, state: ConversationState) -> Answer:
        if state.delete_pending:
            return self.customers.delete("", state, name=state.delete_pending, confirm="no")
        return self.coach.fixed("deny", state.lang, menu=True)

    def saved_customer_named(self, turn: UserTurn, state: ConversationState) -> Optional[Answer]:
        """A message naming a saved customer brings that customer back, then answers what it asks. The name
        changes nothing else: 「王总嫌贵怎么办」 is answered as 「他嫌贵怎么办」, whatever NLU made of the name."""
        row = self.customers.named_in(state.user, turn.text)
        if not row:
            return None
        rest = normalise(turn.text).replace(normalise(row["name"]), " ")
        asks = bool(self.coach.situation_of(rest) or self.follow_up_asked(rest))
        if row["name"] == state.customer_name:  # already the customer at hand: only a question NLU missed is ours
            return None if turn.intent in FOLLOW_UPS or not asks else self.about_customer(turn, rest, state)
        if not asks and (turn.intent == "recall_customer" or len(re.sub(r"\W+", "", rest)) <= 8):
            return self.customers.recall(turn.text, state, name=row["name"])
        self.customers.load(row, state)
        head = Answer().say(self.kb.text("recalled", state.lang, name=row["name"], date=row["updated"][:10]))
        body = self.about_customer(turn, rest, state)
        return Answer(bubbles=head.bubbles + body.bubbles, buttons=body.buttons)

    def about_customer(self, turn: UserTurn, rest: str, state: ConversationState) -> Answer:
        """What a message about the remembered customer asks, read without the customer's name: a situation
        ("what if ... walks out") before a follow-up, except a discount asked outright."""
        situation = self.coach.situation_of(rest)
        asked = turn.intent if turn.intent in FOLLOW_UPS else self.follow_up_asked(rest)
        if asked and (asked == "ask_discount" or not situation):
            return self.coach.follow_up(asked, turn.text, state, stage=turn.entity("stage"))
        return self.coach.development(turn.text, state)

    def follow_up_asked(self, text: str) -> Optional[str]:
        """The follow-up a question asks by its words (a discount, what to avoid, a stage), for when NLU did not
        read it as one; None for a statement."""
        if not QUESTION.search(text):
            return None
        for key, intent in (("discount_words", "ask_discount"), ("avoid_words", "ask_avoid")):
            if self.says_any(text, key):
                return intent
        return "ask_stage" if self.coach.stage_of(text) else None

    # knowledge ----------------------------------------------------------------------------
    def described_type(self, text: str) -> Optional[str]:
        read = self.coach.identifier.identify(text)
        return None if read.needs_more_info or read.types[0][1] < 0.3 else read.types[0][0]

    def show_more(self, turn: UserTurn, state: ConversationState) -> Answer:
        more = self.library.more(turn.text, state, item=turn.entity("item"))
        if more is not None:
            return more
        if state.customer_type:
            return self.coach.follow_up("ask_stage", turn.text, state)
        return Answer().say(self.kb.text("no_topic_open", state.lang))

    def about_bot(self, turn: UserTurn, state: ConversationState) -> Answer:
        if turn.entity("item") == "describe":
            return self.coach.menu(Answer().say(self.kb.text("how_to_describe", state.lang)), state.lang)
        for key in ("about_languages", "about_privacy"):
            if self.says_any(turn.text, key):
                return self.coach.menu(Answer().say(self.kb.text(key, state.lang)), state.lang)
        return self.coach.fixed("help", state.lang, menu=True)

    # the salesperson's trade -------------------------------------------------------------
    def trade_stated(self, text: str, anywhere: bool = False) -> Optional[str]:
        """The trade a message states ("I sell cars"); `anywhere` when NLU already read it as saying so."""
        if anywhere:
            scope = text
        else:
            m = _TRADE_STATEMENT.search(normalise(text))
            if not m:
                return None
            scope = next((g for g in m.groups() if g), "")
        found = mentions(normalise(scope), {tid: t.aliases.en + t.aliases.zh for tid, t in self.kb.ui.trades.items()})
        return found[0][1] if found else None

    def trade_given_away(self, text: str) -> Optional[str]:
        """The one trade whose words a description uses ("knows cars better than me", 「说隔壁小区更便宜」), when
        the salesperson has not said it; two trades named leave it open."""
        norm = normalise(text)

        def said(word: str) -> bool:  # whole words: "car" is not in "careful"
            word = normalise(word)
            return bool(re.search(rf"\b{re.escape(word)}\b", norm)) if word.isascii() else word in norm

        trades = [tid for tid, t in self.kb.ui.trades.items() if any(said(w) for w in t.aliases.en + t.aliases.zh)]
        return trades[0] if len(trades) == 1 else None

    def set_trade(self, turn: UserTurn, state: ConversationState) -> Answer:
        chosen = turn.entity("trade")
        if chosen in TRADES:
            state.trade = chosen
        elif chosen == "none":
            state.trade = None
            return Answer().say(self.kb.text("trade_general", state.lang))
        state.trade_asked = True
        if state.trade and (chosen or not turn.is_button):
            reply = Answer().say(self.kb.text("trade_set", state.lang, trade=local(self.kb.ui.trades[state.trade].names, state.lang)))
            if state.customer_type:
                return self.coach.next_buttons(reply, state.customer_type, state.lang)
            return self.coach.menu(reply, state.lang)
        reply = Answer().say(self.kb.text("ask_trade", state.lang))
        for trade_id, trade in self.kb.ui.trades.items():
            reply.button(local(trade.names, state.lang), "set_trade", trade=trade_id)
        return reply.button(self.kb.text("trade_other", state.lang), "set_trade", trade="none")

    # practice, quiz, progress ----------------------------------------------------------------
    def start_practice(self, turn: UserTurn, state: ConversationState) -> Answer:
        trade = turn.entity("trade") if turn.entity("trade") in TRADES else state.trade
        named = turn.entity("type_id")
        if not named and not turn.is_button:  # "practise with a cold, quiet customer": the type it describes
            named = type_in(self.kb, turn.text)
            named = named or self.described_type(turn.text)
        return self.practice.start(state.user, state.lang, "" if turn.is_button else turn.text, named=named, trade=trade)

    def practice_help(self, turn: UserTurn, state: ConversationState) -> Answer:
        return self.practice.outside_session(turn.intent, turn.text, state.lang, named=turn.entity("type_id") or state.customer_type)

    def quiz(self, turn: UserTurn, state: ConversationState) -> Answer:
        reply = self.trainer.quiz(state.lang)
        state.quiz_type = reply.slots.get("quiz_type")
        return reply

    def quiz_answer(self, turn: UserTurn, state: ConversationState) -> Answer:
        reply = self.trainer.answer(state.quiz_type, turn.text, state.lang, named=turn.entity("type_id"))
        state.quiz_type = None
        return reply
