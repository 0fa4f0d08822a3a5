"""Coaching on the customer at hand: describe, follow up, report what happened, correct, clarify.

Plain Python over the knowledge base and the identifier: each method takes the conversation state, updates
it, and returns a Answer. The dialogue router (dialogue.py) decides which method a turn needs.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from ..schema import STAGES, CustomerType, local
from ..store import KnowledgeBase
from ..text import clean, detect_lang, has_words, normalise
from ..userdata import UserData
from .answer import Answer
from .explain import stage_name
from .identify import Identification, Identifier
from .lookup import mentions, stage_in, type_in
from .situations import find_situation, general_reply, situation_reply
from .state import ConversationState
from .wording import LIST_SEPARATOR, short_quote

ADDITIVE = re.compile(r"^\s*(also|and|plus|besides|oh and|one more thing|another thing|还有|另外|而且|并且|他还|她还|他也|她也|补充)", re.I)
FALLBACK_MIN_SCORE = 0.3  # a message NLU did not place is coached only when its type is this clear
CHANGE_MIN_SCORE = 0.45  # a development replaces the remembered type only when the new read is this clear (dev set)
CLARIFY_STYLE = {("leads", "friendly"): "dominant_friendly", ("leads", "cold"): "dominant_hostile",
                 ("holds_back", "friendly"): "timid_friendly", ("holds_back", "cold"): "timid_hostile"}
CLARIFY_OPTIONS = {"lead": ("leads", "holds_back"), "warmth": ("friendly", "cold")}
CLARIFY_ORDER = ("lead", "warmth")


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
        elif depth == 0 and ch in ".!?。！？" and (i + 1 == len(text) or text[i + 1] in " \n" or lang == "zh"):
            cut = text[:i + 1]
            break
    if len(cut) > limit:
        colon = re.search(r"[:：]", cut[:limit])
        if colon:
            cut = cut[:colon.start()] + ("." if lang == "en" else "。")
    if len(cut) > limit:
        cut = (cut[:limit].rsplit(" ", 1)[0] if lang == "en" else cut[:limit]).rstrip(",，;；") + "…"
    return cut


def fits_trade(item: Any, trade: Optional[str]) -> bool:
    """Trade-neutral knowledge fits everyone; trade-tagged knowledge only the salesperson of that trade."""
    trades = getattr(item, "trades", None) or []
    return not trades or (trade is not None and trade in trades)


def for_trade(items: Sequence[Any], trade: Optional[str]) -> List[Any]:
    """The items that fit the trade, the trade's own first."""
    fitting = [x for x in items if fits_trade(x, trade)]
    return sorted(fitting, key=lambda x: 0 if trade and trade in (getattr(x, "trades", None) or []) else 1)


class Coach:
    def __init__(self, kb: KnowledgeBase, identifier: Identifier, userdata: UserData,
                 trade_words: Optional[Dict[str, Dict[str, List[str]]]] = None):
        self.kb = kb
        self.identifier = identifier
        self.userdata = userdata
        self.trade_words = trade_words or {}  # trade -> lang -> words only that trade uses (the practice scenes')

    # fixed turns ---------------------------------------------------------------
    def fixed(self, key: str, lang: str, menu: bool = False) -> Answer:
        reply = Answer().say(self.kb.text(key, lang))
        return self.menu(reply, lang) if menu else reply

    def menu(self, reply: Answer, lang: str) -> Answer:
        return (reply.button(self.kb.text("btn_describe", lang), "about_bot", item="describe")
                .button(self.kb.text("btn_types", lang), "list_types")
                .button(self.kb.text("btn_practice", lang), "start_practice")
                .button(self.kb.text("btn_quiz", lang), "quiz"))

    def names_a_customer(self, text: str) -> bool:
        """Says outright that it is about a customer: the bar for asking questions about a thin message."""
        words = self.kb.ui.answers["customer"]
        return bool(mentions(normalise(clean(text)), {"customer": words.en + words.zh}))

    # describing a customer -------------------------------------------------------
    def describe(self, text: str, state: ConversationState, read: Optional[Identification] = None) -> Answer:
        """A new description, or more about the remembered customer ("also...", a fact, something that happened)."""
        text = clean(text)
        if not has_words(text):
            return Answer().say(self.kb.text("empty_input", state.lang))
        if state.customer_type:
            return self.development(text, state, read)
        result = read or self.identifier.identify(text)
        if result.needs_more_info:
            general = self.general_situation(text, state.lang)
            if general is not None:
                return general
            if not (result.about_customer or self.names_a_customer(text)):
                return self.fixed("fallback", state.lang, menu=True)
            return self.start_clarifying(text, state)
        return self.coach_on(result, text, state)

    def coach_on(self, result: Identification, notes: str, state: ConversationState,
                 previous: Optional[str] = None) -> Answer:
        type_id = result.types[0][0]
        self._remember(state, type_id, notes, result)
        reply = Answer()
        if previous and previous != type_id:
            reply.say(self.kb.text("changed", state.lang, old=self.kb.type_name(previous, state.lang),
                                   new=self.kb.type_name(type_id, state.lang)))
        return self.card(type_id, state, result.evidence, reply, traits=result.traits)

    def development(self, text: str, state: ConversationState, read: Optional[Identification] = None) -> Answer:
        """Something new about the remembered customer: a situation gets its own answer; a clear new read
        changes the type; anything else is noted and keeps the type."""
        current = state.customer_type or ""
        adding = bool(ADDITIVE.match(text))
        situation = self.situation_of(text)
        result = read or self.identifier.identify(text)
        clear_other = (not result.needs_more_info and result.types[0][0] != current and not self.is_moment(text)
                       and result.types[0][1] >= CHANGE_MIN_SCORE and self._has_evidence(result))
        if situation:  # something that happened (find_situation skips habits): this customer's next step
            state.customer_notes = join_notes(state.customer_notes, text)
            return self.situation(current, situation, state.lang)
        notes = join_notes(state.customer_notes, text)
        if clear_other and not adding:  # a description that shows another type is another customer
            pronoun = state.pronoun
            state.forget_customer()
            state.pronoun = pronoun
            reply = Answer().say(self.kb.text("new_customer_started", state.lang))
            self._remember(state, result.types[0][0], text, result)
            return self.card(result.types[0][0], state, result.evidence, reply, traits=result.traits)
        if adding or clear_other:
            combined = self.identifier.identify(notes)
            if not combined.needs_more_info:
                if combined.types[0][0] == current:
                    self._remember(state, current, notes, combined)
                    reply = Answer().say(self.kb.text("unchanged", state.lang, name=self.kb.type_name(current, state.lang)))
                    return self.card(current, state, combined.evidence, reply, traits=combined.traits)
                return self.coach_on(combined, notes, state, previous=current)
        state.customer_notes = join_notes(state.customer_notes, text)
        reply = Answer().say(self.kb.text("noted_fact", state.lang, name=self.kb.type_name(current, state.lang)))
        return self.stage_advice(current, self.stage_of(text) or "presenting", state, reply)

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

    def situation(self, type_id: str, situation_id: str, lang: str) -> Answer:
        return self.next_buttons(situation_reply(self.kb, type_id, situation_id, lang), type_id, lang)

    def stage_of(self, text: str) -> Optional[str]:
        return stage_in(self.kb, text)

    @staticmethod
    def _has_evidence(result: Identification) -> bool:
        return any(e.get("type") == result.types[0][0] for e in result.evidence)

    def _remember(self, state: ConversationState, type_id: str, notes: str, result: Optional[Identification]) -> None:
        state.customer_type, state.customer_notes, state.phrase_index = type_id, notes[-NOTES_CHARS:], 0
        state.pending_question, state.answers, state.proposed_type = None, {}, None
        if result is not None:
            state.evidence = {"ranked": [t for t, _ in result.types[:4]],
                              "spans": [e for e in result.evidence if e.get("type") == type_id][:6]}

    def card(self, type_id: str, state: ConversationState, evidence: List[Dict[str, Any]], reply: Optional[Answer] = None,
             traits: Optional[List[str]] = None, head: bool = True) -> Answer:
        """Type, why, three tactics for the trade, two pitfalls, one phrase, and the next steps as buttons.
        Without `head` the caller has already named the type (a recalled customer, a proposed correction)."""
        reply, lang, t = reply or Answer(), state.lang, self.kb.types[type_id]
        if head:
            line = self.kb.text("identified", lang, name=self.kb.type_name(type_id, lang))
            others = [self.kb.type_name(x, lang) for x in (traits or []) if x != type_id][:2]
            if others:
                line += (" " if lang == "en" else "") + self.kb.text("also_traits", lang, names=LIST_SEPARATOR[lang].join(others))
            reply.say(f"{line}\n{self.why_line(type_id, lang, evidence, state.trade)}")
        elif evidence:
            reply.say(self.why_line(type_id, lang, evidence, state.trade))
        tactics = [self.tactics(t, stage, state.trade)[0] for stage in ("opening", "presenting", "closing")]
        reply.say("\n".join([self.kb.text("top_tactics", lang)] + [f"• {first_sentence(local(x, lang), lang)}" for x in tactics]))
        lines = [self.kb.text("avoid_short", lang)] + [f"• {local(p.avoid, lang)}" for p in t.pitfalls[:2]]
        lines += ["", self.kb.text("try_saying", lang, phrase=local(self.phrases(t, None, state.trade)[0], lang))]
        if not state.trade and not state.trade_asked:
            state.trade_asked = True
            lines += ["", self.kb.text("trade_tip", lang)]
        reply.say("\n".join(lines))
        return self.next_buttons(reply, type_id, lang)

    def tactics(self, t: CustomerType, stage: str, trade: Optional[str]) -> List[Any]:
        return for_trade(getattr(t.tactics, stage), trade) or list(getattr(t.tactics, stage))

    def phrases(self, t: CustomerType, stage: Optional[str], trade: Optional[str]) -> List[Any]:
        pool = [p for p in t.phrases if stage is None or p.stage == stage]
        return for_trade(pool, trade) or for_trade(t.phrases, trade) or list(t.phrases)

    def next_buttons(self, reply: Answer, type_id: str, lang: str) -> Answer:
        return (reply.button(self.kb.text("btn_say", lang), "ask_phrase")
                .button(self.kb.text("btn_avoid", lang), "ask_avoid")
                .button(self.kb.text("btn_close", lang), "ask_stage", stage="closing")
                .button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
                .button(self.kb.text("btn_not_right", lang), "correct_type"))

    def other_trade_in(self, text: str, trade: Optional[str], lang: str) -> bool:
        """The text speaks of another trade's things (a flat's building to an insurance agent)."""
        low = text.lower()
        for other, words in self.trade_words.items():
            if other != trade and any(re.search(rf"\b{re.escape(w.lower())}\b", low) if w.isascii() else w in low
                                      for w in words.get(lang, [])):
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
            if cue and (detect_lang(cue) != lang or self.other_trade_in(cue, trade, lang)):
                cue = ""
            same = not cue or normalise(cue) in normalise(str(e["text"])) or normalise(str(e["text"])) in normalise(cue)
            key = "evidence_quote" if same else "evidence_item"
            items.append(self.kb.text(key, lang, text=quote, cue=short_quote(cue, lang)))
            if len(items) == 2:
                break
        if not items:
            return self.kb.text("why_none", lang)
        return self.kb.text("why", lang, evidence=("; " if lang == "en" else "；").join(items))

    # follow-ups on the remembered customer ---------------------------------------
    def follow_up(self, intent: str, text: str, state: ConversationState, stage: Optional[str] = None) -> Answer:
        type_id, lang = state.customer_type, state.lang
        if not type_id:
            # "my customer keeps haggling, what do I do?" as a first message: coach the description it holds
            if text and not text.startswith("/"):
                result = self.identifier.identify(text)
                if result.about_customer and not result.needs_more_info:
                    return self.coach_on(result, text, state)
                general = self.general_situation(text, lang)
                if general is not None:
                    return general
                if result.about_customer and self.names_a_customer(text):  # thin, but about a customer: ask
                    return self.start_clarifying(text, state)
            return Answer().say(self.kb.text("no_customer_yet", lang))
        t, name = self.kb.types[type_id], self.kb.type_name(type_id, lang)
        reply = Answer()
        if intent == "ask_phrase":
            wanted = stage if stage in STAGES else stage_in(self.kb, text)
            pool = self.phrases(t, wanted, state.trade)
            index = (state.phrase_index + 1) % len(pool)
            state.phrase_index = index
            phrase = pool[index]
            reply.say(self.kb.text("phrase_for", lang, name=name, stage=stage_name(self.kb, phrase.stage, lang),
                                   phrase=local(phrase, lang)))
        elif intent == "ask_avoid":
            lines = [self.kb.text("avoid_for", lang, name=name)]
            lines += [f"• {local(p.avoid, lang)} {local(p.why, lang)}" for p in t.pitfalls[:4]]
            reply.say("\n".join(lines))
        elif intent == "ask_discount":
            tactics = [x for x in self.tactics(t, "objections", state.trade) if "price" in x.tags] or \
                self.tactics(t, "objections", state.trade)[:1]
            lines = [self.kb.text("discount_for", lang, name=name)] + [f"• {local(x, lang)}" for x in tactics[:3]]
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

    # corrections -----------------------------------------------------------------------
    def correct(self, text: str, state: ConversationState, named: Optional[str] = None) -> Answer:
        """A type pressed on a button switches at once and is kept as feedback; a typed correction is read
        (without its correcting words) and the best reading is offered with a yes button and the next two."""
        lang, current = state.lang, state.customer_type
        if named in self.kb.types and named != current:
            return self.switch_to(named, state, store=True)
        description = self._without_correcting_words(text)
        ranked: List[str] = []
        evidence: List[Dict[str, Any]] = []
        if has_words(description) and len(description) >= 3:
            result = self.identifier.identify(description)
            if not result.needs_more_info:
                ranked, evidence = [t for t, _ in result.types if t != current], result.evidence
            named_type = type_in(self.kb, description)
            if named_type and named_type != current:
                ranked = [named_type] + [t for t in ranked if t != named_type]
        if not ranked:
            options = [t for t in state.evidence.get("ranked", []) if t != current][:3]
            reply = Answer().say(self.kb.text("which_instead", lang))
            for type_id in options or [t for t in self.kb.types if t != current][:4]:
                reply.button(self.kb.type_name(type_id, lang), "correct_type", type_id=type_id)
            return reply.button(self.kb.text("btn_types", lang), "list_types")
        best = ranked[0]
        self._remember(state, best, join_notes(state.customer_notes, description), None)
        state.proposed_type, state.corrected_from = best, current
        state.evidence = {"ranked": ranked[:4], "spans": [e for e in evidence if e.get("type") == best][:6]}
        reply = Answer().say(self.kb.text("correction_proposal", lang, name=self.kb.type_name(best, lang)))
        named_in_text = type_in(self.kb, description) == best
        reply = self.card(best, state, [] if named_in_text else evidence, reply, head=False)
        reply.buttons = []
        reply.button(self.kb.text("btn_yes_type", lang, name=self.kb.type_name(best, lang)), "confirm_type", type_id=best)
        for other in ranked[1:3]:
            reply.button(self.kb.type_name(other, lang), "correct_type", type_id=other)
        return reply.button(self.kb.text("btn_types", lang), "list_types")

    def confirm(self, state: ConversationState, named: Optional[str] = None) -> Answer:
        """The salesperson's yes to a proposed type: only now is the correction kept as feedback."""
        wanted = named if named in self.kb.types else state.proposed_type
        if not wanted:
            return Answer().say(self.kb.text("nothing_to_confirm", state.lang))
        self.userdata.add_feedback(state.user, state.customer_notes, state.corrected_from, wanted)
        state.customer_type, state.proposed_type, state.corrected_from = wanted, None, None
        reply = Answer().say(self.kb.text("correction_confirmed", state.lang, name=self.kb.type_name(wanted, state.lang)))
        return self.next_buttons(reply, wanted, state.lang)

    def switch_to(self, wanted: str, state: ConversationState, store: bool) -> Answer:
        lang, current = state.lang, state.customer_type
        if store:
            self.userdata.add_feedback(state.user, state.customer_notes, current, wanted)
        state.customer_type, state.phrase_index, state.proposed_type = wanted, 0, None
        old = self.kb.type_name(current, lang) if current else "-"
        reply = Answer().say(self.kb.text("corrected", lang, old=old, new=self.kb.type_name(wanted, lang)))
        return self.card(wanted, state, [], reply)

    def is_correction(self, text: str) -> bool:
        """Opens with correcting words and goes on to describe: 'not quite, she's more...', '不对，他其实...'."""
        rest = self._without_correcting_words(text)
        return rest != clean(text) and len(rest) >= 6 and bool(re.match(r"^\s*(not|no\b|nope|wrong|不对|不是|不太对)", clean(text), re.I))

    def _without_correcting_words(self, text: str) -> str:
        """'not quite, he's more deliberate' -> 'he's more deliberate': the correcting words are no evidence."""
        words = self.kb.ui.answers["correcting"]
        out = clean(text)
        for _ in range(3):
            norm = out.lower()
            for w in sorted(words.en + words.zh, key=len, reverse=True):
                w = w.lower()
                if norm.startswith(w) and (not w.isascii() or len(norm) == len(w) or not norm[len(w)].isalpha()):
                    out = out[len(w):].lstrip(" ,，。.:：;；!！-—")
                    break
            else:
                break
        return out

    def new_customer(self, state: ConversationState) -> Answer:
        state.forget_customer()
        return Answer().say(self.kb.text("new_customer", state.lang))

    # the clarifying questions (style axes) -----------------------------------------------
    def start_clarifying(self, text: str, state: ConversationState) -> Answer:
        state.customer_type, state.evidence = None, {}
        state.customer_notes, state.answers, state.pending_question = join_notes("", text), {}, CLARIFY_ORDER[0]
        reply = Answer().say(self.kb.text("needs_more_info", state.lang))
        return self.question(CLARIFY_ORDER[0], state.lang, reply)

    def question(self, slot: str, lang: str, reply: Optional[Answer] = None) -> Answer:
        reply = (reply or Answer()).say(self.kb.text(f"ask_{slot}", lang))
        for option in CLARIFY_OPTIONS[slot]:
            title = self.kb.text(f"answer_{option}", lang)
            reply.buttons.append((title, title))
        skip = self.kb.text("answer_skip", lang)
        reply.buttons.append((skip, skip))
        return reply

    def read_answer(self, slot: str, text: str) -> Optional[str]:
        """A canonical answer ('leads', 'cold'), 'skip', 'stop', or None when the message answers nothing."""
        norm = normalise(clean(text))
        if not norm:
            return "skip"
        keys = ("stop", "skip", *CLARIFY_OPTIONS[slot])
        found = mentions(norm, {k: local(self.kb.ui.answers[k], "en") + local(self.kb.ui.answers[k], "zh") for k in keys})
        if not found or (len(found) > 1 and found[0][0] == found[1][0]):
            return None
        return found[0][1] if len(norm) <= 40 or found[0][1] in ("stop", "skip") else None

    def answer_question(self, answer: str, state: ConversationState) -> Answer:
        """A button or a typed answer to the open question: the next question, or the coaching."""
        if answer == "stop":
            return self.clarified(state)
        slot = state.pending_question or CLARIFY_ORDER[0]
        if answer != "skip":
            state.answers[slot] = answer
        return self.next_question(state)

    def next_question(self, state: ConversationState) -> Answer:
        slot = state.pending_question or CLARIFY_ORDER[0]
        later = CLARIFY_ORDER[CLARIFY_ORDER.index(slot) + 1:]
        if later:
            state.pending_question = later[0]
            return self.question(later[0], state.lang)
        return self.clarified(state)

    def description_while_asking(self, text: str, state: ConversationState) -> Answer:
        """A message typed while a question is open is read as more description: coached when it shows the
        type, else noted, and the questions move on (never the same question twice)."""
        notes = join_notes(state.customer_notes, text)
        alone = self.identifier.identify(text)
        if not alone.needs_more_info:
            return self.coach_on(alone, notes, state)  # the evidence is in this message, not in the thin one
        state.customer_notes = notes
        return self.next_question(state)

    def clarified(self, state: ConversationState) -> Answer:
        """Coach from the answers plus the notes; skipped answers fall back to the notes alone."""
        chosen = CLARIFY_STYLE.get((state.answers.get("lead", ""), state.answers.get("warmth", "")))
        notes = state.customer_notes
        result = self.identifier.identify(notes) if notes else None
        if result and not result.needs_more_info and (not chosen or result.types[0][1] >= 0.5):
            chosen = result.types[0][0]
        state.pending_question, state.answers = None, {}
        if not chosen:
            return self.menu(Answer().say(self.kb.text("still_unclear", state.lang)), state.lang)
        evidence = result.evidence if result and not result.needs_more_info else []
        self._remember(state, chosen, notes, None)
        state.evidence = {"ranked": [chosen], "spans": [e for e in evidence if e.get("type") == chosen][:6]}
        return self.card(chosen, state, evidence)
