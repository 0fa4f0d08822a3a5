"""Coaching on the customer at hand: describe, follow up, report what happened, and the type card.

Plain Python over the knowledge base and the identifier: each method takes the conversation state, updates
it, and returns an Answer. The dialogue router (dialogue.py) decides which method a turn needs; corrections
(corrections.py) and the clarifying questions (clarifying.py) build on the card and memory kept here.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..schema import STAGES, CustomerType, local
from ..store import KnowledgeBase
from ..text import clean, detect_lang, has_words, normalise, word_used
from .answer import Answer
from .chooser import two_types
from .explain import stage_name
from .identify import Identification, Identifier
from .lookup import mentions, stage_in
from .reading.turn import QUESTION, says
from .situations import find_situation, general_reply, situation_reply
from .state import ConversationState
from .wording import CLAUSE_SEPARATOR, FULL_STOP, LIST_SEPARATOR, SENTENCE_GLUE, SPACED, short_quote

ADDITIVE = re.compile(r"^\s*(also|and|plus|besides|oh and|one more thing|another thing|还有|另外|而且|并且|他还|她还|他也|她也|补充)", re.I)
FALLBACK_MIN_SCORE = 0.3  # a message NLU did not place is coached only when its type is this clear
CHANGE_MIN_SCORE = 0.45  # a development replaces the remembered type only when the new read is this clear (dev set)


CARD_TACTIC_CHARS = {"en": 150, "zh": 60}  # the card shows each tactic's first sentence; the stage answers show all
NOTES_CHARS = 3000


def join_notes(notes: str, text: str) -> str:
    """Everything said about the customer, as sentences (so 'factory' and 'he asks' do not run together)."""
    notes, text = notes.strip(), clean(text)
    if not notes:
        return text[-NOTES_CHARS:]
    if not text:
        return notes
    mark = "" if notes[-1] in ".!?。！？" else ("。" if "\u4e00" <= notes[-1] <= "\u9fff" else ".")
    return f"{notes}{mark} {text}"[-NOTES_CHARS:]


def first_sentence(text: str, lang: str) -> str:
    """The lead sentence of a tactic: cut at the first sentence end outside quotes and brackets, or at a colon
    when the sentence is still too long for the card."""
    limit, text = CARD_TACTIC_CHARS[lang], text.strip()
    depth, cut = 0, text
    for i, ch in enumerate(text):
        if ch in "(（“「" or (ch == "'" and (i == 0 or text[i - 1] in " (")):
            depth += 1
        elif ch in ")）”」" or (ch == "'" and depth and (i + 1 == len(text) or not text[i + 1].isalpha())):
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ".!?。！？" and (i + 1 == len(text) or text[i + 1] in " \n" or not SPACED[lang]):
            cut = text[: i + 1]
            break
    if len(cut) > limit:
        colon = re.search(r"[:：]", cut[:limit])
        if colon:
            cut = cut[: colon.start()] + FULL_STOP[lang]
    if len(cut) > limit:
        cut = (cut[:limit].rsplit(" ", 1)[0] if SPACED[lang] else cut[:limit]).rstrip(",，;；") + "…"
    return cut


def fits_trade(item: Any, trade: Optional[str], avoid: Sequence[str] = ()) -> bool:
    """Trade-neutral knowledge fits everyone; trade-tagged knowledge only the salesperson of that trade; neither when
    it uses a word the trade avoids (`avoid`: ui.yaml trades.<trade>.avoid, "discount" for insurance)."""
    trades = getattr(item, "trades", None) or []
    if trades and (trade is None or trade not in trades):
        return False
    return not avoid or word_used(f"{getattr(item, 'en', '')} {getattr(item, 'zh', '')}", avoid) is None


def for_trade(items: Sequence[Any], trade: Optional[str], avoid: Sequence[str] = ()) -> List[Any]:
    """The items that fit the trade, the trade's own first."""
    fitting = [x for x in items if fits_trade(x, trade, avoid)]
    return sorted(fitting, key=lambda x: 0 if trade and trade in (getattr(x, "trades", None) or []) else 1)


class Coach:
    def __init__(
        self,
        kb: KnowledgeBase,
        identifier: Identifier,
        clarify: Callable[[str, ConversationState], Answer],
        trade_words: Optional[Dict[str, Dict[str, List[str]]]] = None,
        offer_reading: Optional[Callable[[str, ConversationState, Identification], Answer]] = None,
    ):
        self.kb = kb
        self.identifier = identifier
        # opens the clarifying questions on a thin description (clarifying.py, which builds on this module)
        self.clarify = clarify
        # offers another type for the same customer, confirmed by the salesperson (corrections.py builds on this module)
        self.offer_reading = offer_reading
        self.trade_words = trade_words or {}  # trade -> lang -> words only that trade uses (the practice scenes')
        self.avoid = {tid: [*t.avoid.en, *t.avoid.zh] for tid, t in kb.ui.trades.items()}  # words each trade never gets

    # fixed turns ---------------------------------------------------------------
    def fixed(self, key: str, lang: str, menu: bool = False) -> Answer:
        reply = Answer().say(self.kb.text(key, lang))
        return self.menu(reply, lang) if menu else reply

    def menu(self, reply: Answer, lang: str) -> Answer:
        return (
            reply.button(self.kb.text("btn_describe", lang), "about_bot", item="describe")
            .button(self.kb.text("btn_types", lang), "list_types")
            .button(self.kb.text("btn_practice", lang), "start_practice")
            .button(self.kb.text("btn_quiz", lang), "quiz")
        )

    def names_a_customer(self, text: str) -> bool:
        """Says outright that it is about a customer: the bar for asking questions about a thin message."""
        words = self.kb.ui.answers["customer"]
        return bool(mentions(normalise(clean(text)), {"customer": words.en + words.zh}))

    def judgement_only(self, text: str) -> bool:
        """Only a judgement of the customer ("my customer is difficult", 「这个客户不好对付」): once the judgement,
        customer and filler words are taken out, no word that could show a behaviour is left."""
        answers = self.kb.ui.answers
        norm = normalise(clean(text))
        if not mentions(norm, {"judgement": answers["judgement"].en + answers["judgement"].zh}):
            return False
        keys = ("judgement", "judgement_filler", "customer", "he_words", "she_words")
        words = sorted({w.lower() for k in keys for w in answers[k].en + answers[k].zh}, key=len, reverse=True)
        rest = norm
        for word in words:
            rest = re.sub(rf"(?<![a-z']){re.escape(word)}(?![a-z])", " ", rest) if word.isascii() else rest.replace(word, " ")
        return not re.search(r"[a-z0-9\u4e00-\u9fff]", rest)

    def is_thin(self, text: str, result: Identification) -> bool:
        """Too thin to name a type: the identifier needs more, no cue of the read type was found (the "why" would be
        only the overall tone), or the message only judges the customer."""
        return result.needs_more_info or not self._has_evidence(result) or self.judgement_only(text)

    # describing a customer -------------------------------------------------------
    def describe(self, text: str, state: ConversationState, read: Optional[Identification] = None) -> Answer:
        """A new description, or more about the remembered customer ("also...", a fact, something that happened)."""
        text = clean(text)
        if not has_words(text):
            return Answer().say(self.kb.text("empty_input", state.lang))
        if state.customer_type:
            return self.development(text, state, read)
        result = read or self.identifier.identify(text)
        if self.is_thin(text, result):
            general = self.general_situation(text, state.lang)
            if general is not None:
                return general
            if not (result.about_customer or self.names_a_customer(text)):
                return self.fixed("fallback", state.lang, menu=True)
            return self.clarify(text, state)
        if result.close:  # two types too close to call: name both, ask what separates them, one button each
            return self.choose_between(result, text, state)
        return self.coach_on(result, text, state)

    def choose_between(self, result: Identification, text: str, state: ConversationState) -> Answer:
        """The chooser for Identification.close. The better reading is the working one meanwhile (a save or a
        follow-up before the pick uses it); the pick is kept as said (Corrections.confirm shows its card)."""
        a, b = result.close or (result.types[0][0], result.types[1][0])
        self.remember(state, a, join_notes(state.customer_notes, text), result)
        state.evidence["choosing"] = [a, b]
        return two_types(self.kb, a, b, state.lang)

    def coach_on(self, result: Identification, notes: str, state: ConversationState, previous: Optional[str] = None) -> Answer:
        type_id = result.types[0][0]
        self.remember(state, type_id, notes, result)
        reply = Answer()
        if previous and previous != type_id:
            reply.say(
                self.kb.text("changed", state.lang, old=self.kb.type_name(previous, state.lang), new=self.kb.type_name(type_id, state.lang))
            )
        return self.card(type_id, state, result.evidence, reply, traits=result.traits)

    def development(self, text: str, state: ConversationState, read: Optional[Identification] = None) -> Answer:
        """Something new about the remembered customer: a situation gets its own answer; a clear new read
        changes the type; anything else is noted and keeps the type."""
        current = state.customer_type or ""
        adding = bool(ADDITIVE.match(text))
        situation = self.situation_of(text)
        result = read or self.identifier.identify(text)
        if not result.about_customer and not self.speaks_of_customer(text, state):  # 「我的电脑坏了怎么办」: no note, no new type
            stage = self.stage_of(text)  # "what if i ask for a deposit to hold the car": a stage of the sale, asked
            return self.stage_advice(current, stage, state, Answer()) if stage else self.off_topic(current, state)
        asks_only = bool(QUESTION.search(normalise(text))) and not self.is_habit(text)  # "how do I talk to his parents?"
        clear_other = (
            not asks_only  # a question about what to do is no evidence of another type (persona 2)
            and not self.is_thin(text, result)  # "he is tough" judges, it shows no other type
            and result.types[0][0] != current
            and (self.is_habit(text) or not self.is_moment(text))
            and result.types[0][1] >= CHANGE_MIN_SCORE
        )
        if situation:  # something that happened (find_situation skips habits): this customer's next step
            state.customer_notes = join_notes(state.customer_notes, text)
            return self.situation(current, situation, state.lang)
        notes = join_notes(state.customer_notes, text)
        if clear_other and not adding and self.offer_reading is not None:
            # the same customer (a new one is said outright: "another customer", a saved name, 'she' after 'he'),
            # so the better reading is offered (with a button to keep the type) rather than a fresh customer started
            return self.offer_reading(text, state, result)
        if (adding and not asks_only) or clear_other:
            combined = self.identifier.identify(notes)
            if not combined.needs_more_info:
                if combined.types[0][0] == current:
                    self.remember(state, current, notes, combined)
                    reply = Answer().say(self.kb.text("unchanged", state.lang, name=self.kb.type_name(current, state.lang)))
                    return self.card(current, state, combined.evidence, reply, traits=combined.traits)
                if self.offer_reading is not None:  # "also picky": asked, never a silent switch
                    return self.offer_reading(text, state, combined)
                return self.coach_on(combined, notes, state, previous=current)
        name = self.kb.type_name(current, state.lang)
        if not self.describes_customer(text, result, state):  # the weather, a broken laptop: not a note about them
            stage = self.stage_of(text)  # "what if i ask for a deposit to hold the car": a stage of the sale, asked
            return self.stage_advice(current, stage, state, Answer()) if stage else self.off_topic(current, state)
        if asks_only:  # asks about them, tells nothing new
            return self.stage_advice(current, self.stage_of(text) or "presenting", state, Answer())
        state.customer_notes = join_notes(state.customer_notes, text)
        reply = Answer().say(self.kb.text("noted_fact", state.lang, name=name))
        return self.stage_advice(current, self.stage_of(text) or "presenting", state, reply)

    def off_topic(self, type_id: str, state: ConversationState) -> Answer:
        """A short honest answer to a line that is not about the customer, and what the coach can do for them."""
        reply = Answer().say(self.kb.text("off_topic_customer", state.lang, name=self.kb.type_name(type_id, state.lang)))
        return self.next_buttons(reply, type_id, state.lang)

    def speaks_of_customer(self, text: str, state: ConversationState) -> bool:
        """Says 'he', 'she', 'they', 'the customer', the people around them ('his parents') or the saved customer's
        name (whole words): about someone, not the weather."""
        a = self.kb.ui.answers
        norm = normalise(clean(text))
        people = [*a["he_words"].en, *a["he_words"].zh, *a["she_words"].en, *a["she_words"].zh, *a["customer"].en, *a["customer"].zh]
        people += [*a["customer_circle"].en, *a["customer_circle"].zh]
        named = bool(state.customer_name) and normalise(state.customer_name or "") in norm
        return says(norm, people + ["they", "them", "their", "对方"]) or named

    def describes_customer(self, text: str, result: Identification, state: ConversationState) -> bool:
        """Only a description of the customer becomes a note: it speaks of them, or the identifier reads enough of
        a customer in it."""
        return self.speaks_of_customer(text, state) or (result.about_customer and not result.needs_more_info)

    def situation_of(self, text: str) -> Optional[str]:
        return find_situation(self.kb, text)

    def general_situation(self, text: str, lang: str) -> Optional[Answer]:
        """'what if they walk out?' before any description: the general answer, then ask about the customer."""
        situation = self.situation_of(text)
        if not situation:
            return None
        return general_reply(self.kb, situation, lang).say(self.kb.text("no_customer_yet", lang))

    def is_moment(self, text: str) -> bool:
        """Tells what happened today or just now ("today he was in a good mood"): news about this customer, not
        a description of another one."""
        words = self.kb.situations.moment_words
        norm = normalise(text)
        return any(re.search(rf"\b{re.escape(w)}\b", norm) if w.isascii() else w in norm for w in words.en + words.zh)

    def is_habit(self, text: str) -> bool:
        """Tells what the customer keeps doing ("he always...", 「他一直挑毛病怎么办」): a description of the
        customer even when it asks what to do now."""
        habit, ongoing = self.kb.situations.habit_words, self.kb.ui.answers["ongoing"]
        norm = normalise(text)
        words = habit.en + habit.zh + ongoing.en + ongoing.zh
        return any(re.search(rf"\b{re.escape(w)}\b", norm) if w.isascii() else w in norm for w in words)

    def situation(self, type_id: str, situation_id: str, lang: str) -> Answer:
        return self.next_buttons(situation_reply(self.kb, type_id, situation_id, lang), type_id, lang)

    def stage_of(self, text: str) -> Optional[str]:
        return stage_in(self.kb, text)

    @staticmethod
    def _has_evidence(result: Identification) -> bool:
        return any(e.get("type") == result.types[0][0] for e in result.evidence)

    def remember(self, state: ConversationState, type_id: str, notes: str, result: Optional[Identification]) -> None:
        """The customer coached from now on (also after a correction or the questions): any open question or
        proposed type is settled by it; without `result` the caller sets the evidence."""
        state.customer_type, state.customer_notes, state.phrase_index = type_id, notes[-NOTES_CHARS:], 0
        state.pending_question, state.answers, state.proposed_type = None, {}, None
        if result is not None:
            state.evidence = {
                "ranked": [t for t, _ in result.types[:4]],
                "spans": [e for e in result.evidence if e.get("type") == type_id][:6],
            }

    def card(
        self,
        type_id: str,
        state: ConversationState,
        evidence: List[Dict[str, Any]],
        reply: Optional[Answer] = None,
        traits: Optional[List[str]] = None,
        head: bool = True,
    ) -> Answer:
        """Type, why, three tactics for the trade, two pitfalls, one phrase, and the next steps as buttons.
        Without `head` the caller has already named the type (a recalled customer, a proposed correction)."""
        reply, lang, t = reply or Answer(), state.lang, self.kb.types[type_id]
        if head:
            line = self.kb.text("identified", lang, name=self.kb.type_name(type_id, lang))
            others = [self.kb.type_name(x, lang) for x in (traits or []) if x != type_id][:2]
            if others:
                line += SENTENCE_GLUE[lang] + self.kb.text("also_traits", lang, names=LIST_SEPARATOR[lang].join(others))
            reply.say(f"{line}\n{self.why_line(type_id, lang, evidence, state.trade)}")
        elif evidence:
            reply.say(self.why_line(type_id, lang, evidence, state.trade))
        tactics = [self.tactics(t, stage, state.trade)[0] for stage in ("opening", "presenting", "closing")]
        reply.say("\n".join([self.kb.text("top_tactics", lang)] + [f"• {first_sentence(local(x, lang), lang)}" for x in tactics]))
        lines = [self.kb.text("avoid_short", lang)] + [f"• {local(p.avoid, lang)}" for p in self.pitfalls(t, state.trade)[:2]]
        lines += ["", self.kb.text("try_saying", lang, phrase=local(self.phrases(t, None, state.trade)[0], lang))]
        if not state.trade and not state.trade_asked:
            state.trade_asked = True
            lines += ["", self.kb.text("trade_tip", lang)]
        reply.say("\n".join(lines))
        return self.next_buttons(reply, type_id, lang)

    def avoided(self, trade: Optional[str]) -> List[str]:
        return self.avoid.get(trade or "", [])

    def tactics(self, t: CustomerType, stage: str, trade: Optional[str]) -> List[Any]:
        """The stage's tactics for the trade (the loader checks every trade keeps at least one)."""
        return for_trade(getattr(t.tactics, stage), trade, self.avoided(trade)) or list(getattr(t.tactics, stage))

    def phrases(self, t: CustomerType, stage: Optional[str], trade: Optional[str]) -> List[Any]:
        pool = [p for p in t.phrases if stage is None or p.stage == stage]
        avoid = self.avoided(trade)
        return for_trade(pool, trade, avoid) or for_trade(t.phrases, trade, avoid) or list(t.phrases)

    def pitfalls(self, t: CustomerType, trade: Optional[str]) -> List[Any]:
        """The pitfalls that fit the trade (none about discounts for insurance)."""
        avoid = self.avoided(trade)
        return [p for p in t.pitfalls if fits_trade(p.avoid, trade, avoid) and fits_trade(p.why, trade, avoid)] or list(t.pitfalls)

    def next_buttons(self, reply: Answer, type_id: str, lang: str) -> Answer:
        return (
            reply.button(self.kb.text("btn_say", lang), "ask_phrase")
            .button(self.kb.text("btn_avoid", lang), "ask_avoid")
            .button(self.kb.text("btn_close", lang), "ask_stage", stage="closing")
            .button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
            .button(self.kb.text("btn_not_right", lang), "correct_type")
        )

    def other_trade_in(self, text: str, trade: Optional[str], lang: str) -> bool:
        """The text speaks of another trade's things (a flat's building to an insurance agent)."""
        low = text.lower()
        for other, words in self.trade_words.items():
            if other != trade and any(
                re.search(rf"\b{re.escape(w.lower())}\b", low) if w.isascii() else w in low for w in words.get(lang, [])
            ):
                return True
        return False

    def why_line(self, type_id: str, lang: str, evidence: List[Dict[str, Any]], trade: Optional[str] = None) -> str:
        """Short quotes of the user's own words that point to the type, each with the cue it resembles."""
        seen, items = set(), []
        for e in (e for e in evidence if e.get("type") == type_id):
            quote = short_quote(str(e["text"]), lang)
            if quote.lower() in seen:
                continue
            seen.add(quote.lower())
            cue = str(e.get("cue") or "")
            if cue and (detect_lang(cue) != lang or self.other_trade_in(cue, trade, lang) or word_used(cue, self.avoided(trade))):
                cue = ""
            same = not cue or normalise(cue) in normalise(str(e["text"])) or normalise(str(e["text"])) in normalise(cue)
            key = "evidence_quote" if same else "evidence_item"
            items.append(self.kb.text(key, lang, text=quote, cue=short_quote(cue, lang)))
            if len(items) == 2:
                break
        if not items:
            return self.kb.text("why_none", lang)
        return self.kb.text("why", lang, evidence=CLAUSE_SEPARATOR[lang].join(items))

    # follow-ups on the remembered customer ---------------------------------------
    def follow_up(self, intent: str, text: str, state: ConversationState, stage: Optional[str] = None) -> Answer:
        type_id, lang = state.customer_type, state.lang
        if not type_id:
            # "my customer keeps haggling, what do I do?" as a first message: coach the description it holds
            if text and not text.startswith("/"):
                result = self.identifier.identify(text)
                if result.about_customer and not self.is_thin(text, result):
                    return self.coach_on(result, text, state)
                general = self.general_situation(text, lang)
                if general is not None:
                    return general
                if result.about_customer and self.names_a_customer(text):  # thin, but about a customer: ask
                    return self.clarify(text, state)
            return Answer().say(self.kb.text("no_customer_yet", lang))
        t, name = self.kb.types[type_id], self.kb.type_name(type_id, lang)
        reply = Answer()
        if intent == "ask_phrase":
            wanted = stage if stage in STAGES else stage_in(self.kb, text)
            pool = self.phrases(t, wanted, state.trade)
            index = (state.phrase_index + 1) % len(pool)
            state.phrase_index = index
            phrase = pool[index]
            reply.say(
                self.kb.text("phrase_for", lang, name=name, stage=stage_name(self.kb, phrase.stage, lang), phrase=local(phrase, lang))
            )
        elif intent == "ask_avoid":
            lines = [self.kb.text("avoid_for", lang, name=name)]
            lines += [f"• {local(p.avoid, lang)} {local(p.why, lang)}" for p in self.pitfalls(t, state.trade)[:4]]
            reply.say("\n".join(lines))
        elif intent == "ask_discount":
            tactics = [x for x in self.tactics(t, "objections", state.trade) if "price" in x.tags] or self.tactics(
                t, "objections", state.trade
            )[:1]
            lines = [self.kb.text("discount_for", lang, name=name)] + [f"• {local(x, lang)}" for x in tactics[:3]]
            note = self.kb.ui.trades[state.trade].price_note if state.trade else None
            if note is not None:  # what the trade's price talk must say whatever the type (no premium discounts)
                lines.insert(1, f"• {local(note, lang)}")
            reply.say("\n".join(lines))
            pool = self.phrases(t, "objections", state.trade)
            phrase = next((p for p in pool if "price" in p.tags), pool[0])
            reply.say(self.kb.text("try_saying", lang, phrase=local(phrase, lang)))
        elif intent == "ask_why":
            reply.say(self.why_line(type_id, lang, state.evidence.get("spans", []), state.trade))
            reply.say(self.kb.text("type_is", lang, name=name, summary=local(t.summary, lang)))
        else:  # ask_stage
            wanted = stage if stage in STAGES else stage_in(self.kb, text) or "opening"
            return self.stage_advice(type_id, wanted, state, reply)
        return self.next_buttons(reply, type_id, lang)

    def stage_advice(self, type_id: str, stage: str, state: ConversationState, reply: Answer) -> Answer:
        t, lang = self.kb.types[type_id], state.lang
        lines = [self.kb.text("stage_for", lang, name=self.kb.type_name(type_id, lang), stage=stage_name(self.kb, stage, lang))]
        lines += [f"• {local(x, lang)}" for x in self.tactics(t, stage, state.trade)[:4]]
        reply.say("\n".join(lines))
        reply.say(self.kb.text("try_saying", lang, phrase=local(self.phrases(t, stage, state.trade)[0], lang)))
        return self.next_buttons(reply, type_id, lang)

    def new_customer(self, state: ConversationState) -> Answer:
        state.forget_customer()
        return Answer().say(self.kb.text("new_customer", state.lang))
