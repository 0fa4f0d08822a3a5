"""Corrections of the type the coach read: a type pressed on a button switches at once, a typed correction is
read and proposed with a yes button, and only a confirmed type is kept as feedback for retraining.

The dialogue router (dialogue.py) sends `correct_type` / `confirm_type` here and asks `is_correction` whether a
message that NLU read otherwise corrects the remembered type.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from ..store import KnowledgeBase
from ..text import clean, has_words, normalise
from ..userdata import UserData
from .answer import Answer
from .coaching import Coach, join_notes
from .identify import Identification, Identifier
from .lookup import type_in
from .state import ConversationState

PICKER_SIZE = 3  # other types offered when a correction names none (phone-sized button row)
# a no to the type: English negations, Chinese 不 (不对、不是、不像) and 错
DISAGREEMENT = re.compile(r"\b(?:not|no|nope|nah|wrong|incorrect|disagree)\b|n't|[不错]")


class Corrections:
    def __init__(self, kb: KnowledgeBase, identifier: Identifier, userdata: UserData, coach: Coach):
        self.kb = kb
        self.identifier = identifier
        self.userdata = userdata  # confirmed corrections are stored as feedback
        self.coach = coach  # the card and the remembered customer for the corrected type

    def correct(self, text: str, state: ConversationState, named: Optional[str] = None, said: Sequence[str] = ()) -> Answer:
        """A type pressed on a button switches at once and is kept as feedback; a typed correction is read
        (without its correcting words) and the best reading is offered with a yes button and the next two."""
        lang, current = state.lang, state.customer_type
        if named in self.kb.types and named != current:
            return self.switch_to(named, state, store=True)
        description = self._without_correcting_words(text)
        if self.bare_disagreement(description):
            description = ""  # "that's not right" says no, it describes nothing: the picker below
        ranked: List[str] = []
        evidence: List[Dict[str, Any]] = []
        if has_words(description) and len(description) >= 3:
            result = self.identifier.identify(description)
            if not result.needs_more_info:
                ranked, evidence = [t for t, _ in result.types if t != current], result.evidence
            named_type = next((t for t in said if t != current), None)
            if named_type:  # "no, she's picky": the type said outright is kept at once
                return self.switch_to(named_type, state, store=True)
        if not ranked:
            options = self.runners_up(state)
            reply = Answer().say(self.kb.text("which_instead", lang))
            for type_id in options or [t for t in self.kb.types if t != current][:4]:
                reply.button(self.kb.type_name(type_id, lang), "correct_type", type_id=type_id)
            return reply.button(self.kb.text("btn_types", lang), "list_types")
        return self.offer(
            ranked,
            evidence,
            description,
            state,
            Answer().say(self.kb.text("correction_proposal", lang, name=self.kb.type_name(ranked[0], lang))),
        )

    def runners_up(self, state: ConversationState) -> List[str]:
        """The next readings of the customer, best first: those of the last identification, then (after the
        questions or a recalled customer, which keep only one) the reading of everything said about them."""
        current = state.customer_type
        options = [t for t in state.evidence.get("ranked", []) if t != current]
        if len(options) < PICKER_SIZE and has_words(state.customer_notes):
            read = self.identifier.identify(state.customer_notes)
            options += [t for t, _ in read.types if t != current and t not in options]
        return options[:PICKER_SIZE]

    def disagrees(self, text: str) -> bool:
        """Says no to the type read ("that's not right", 「不对」), unlike a bare "hmm"."""
        return bool(DISAGREEMENT.search(normalise(clean(text))))

    def corrects(self, text: str) -> bool:
        """Says the type is wrong or which it is instead: a no, a correcting opener ("more like..."), a named type."""
        return self.disagrees(text) or self._without_correcting_words(text) != clean(text) or type_in(self.kb, text) is not None

    def bare_disagreement(self, text: str) -> bool:
        """Nothing but disagreement: once the correcting and disagreeing words are out, no word is left."""
        answers = self.kb.ui.answers
        words = sorted({w.lower() for k in ("correcting", "disagreeing") for w in answers[k].en + answers[k].zh}, key=len, reverse=True)
        rest = normalise(clean(text)).replace("’", "'")
        for word in words:
            rest = re.sub(rf"(?<![a-z']){re.escape(word)}(?![a-z'])", " ", rest) if word.isascii() else rest.replace(word, " ")
        return not re.search(r"[a-z0-9\u4e00-\u9fff]", rest)

    def offer_reading(self, text: str, state: ConversationState, result: Identification) -> Answer:
        """More about the remembered customer that clearly shows another type: the better reading is offered,
        with a yes button and one to keep the type read before (the customer stays the same)."""
        current, lang = state.customer_type, state.lang
        ranked = [t for t, _ in result.types if t != current][:2] + ([current] if current else [])
        reply = Answer().say(
            self.kb.text("reading_offer", lang, name=self.kb.type_name(ranked[0], lang), old=self.kb.type_name(current or ranked[0], lang))
        )
        return self.offer(ranked, result.evidence, text, state, reply)

    def offer(self, ranked: List[str], evidence: List[Dict[str, Any]], description: str, state: ConversationState, reply: Answer) -> Answer:
        """The best reading's card under `reply`, with buttons for it, the next reading and (when the customer has
        a type) keeping that type. Only a yes makes it the customer's type: the proposal shapes this answer, and
        a no, or going on to something else, leaves the customer as they were."""
        lang, current, best = state.lang, state.customer_type, ranked[0]
        spans = [e for e in evidence if e.get("type") == best][:6]
        state.customer_notes = join_notes(state.customer_notes, description)
        if not current:  # nothing to keep: the reading is the customer's until corrected
            self.coach.remember(state, best, state.customer_notes, None)
            state.evidence = {"ranked": ranked[:4], "spans": spans}
        state.proposed_type, state.corrected_from = best, current
        state.evidence["proposed"] = {"ranked": ranked[:4], "spans": spans}
        named_in_text = type_in(self.kb, description) == best
        reply = self.coach.card(best, state, [] if named_in_text else evidence, reply, head=False)
        reply.buttons = []
        reply.button(self.kb.text("btn_yes_type", lang, name=self.kb.type_name(best, lang)), "confirm_type", type_id=best)
        for other in [t for t in ranked[1:] if t != current][: 1 if current else 2]:
            reply.button(self.kb.type_name(other, lang), "correct_type", type_id=other)
        if current:
            return reply.button(self.kb.text("btn_keep_type", lang, name=self.kb.type_name(current, lang)), "deny")
        return reply.button(self.kb.text("btn_types", lang), "list_types")

    def confirm(self, state: ConversationState, named: Optional[str] = None) -> Answer:
        """The salesperson's yes to a proposed type (or their pick between two): only now does the customer's type
        change, a saved customer under discussion with it, and the correction is kept as feedback."""
        wanted = named if named in self.kb.types else state.proposed_type
        if not wanted:
            return Answer().say(self.kb.text("nothing_to_confirm", state.lang))
        before = state.customer_type
        choosing = wanted in (state.evidence.pop("choosing", None) or [])  # a pick between two close readings
        proposal = state.evidence.pop("proposed", None) or {}
        self.userdata.add_feedback(state.user, state.customer_notes, state.corrected_from, wanted)
        state.customer_type, state.proposed_type, state.corrected_from, state.phrase_index = wanted, None, None, 0
        if proposal.get("spans") and wanted == (proposal.get("ranked") or [None])[0]:
            state.evidence = {"ranked": proposal.get("ranked", [wanted]), "spans": proposal["spans"]}
        elif wanted != before or choosing:
            read = self.identifier.identify(state.customer_notes) if has_words(state.customer_notes) else None
            spans = [e for e in (read.evidence if read else []) if e.get("type") == wanted][:6]
            state.evidence = {"ranked": [wanted], "spans": spans}
        if state.customer_name:
            quotes = [str(e["text"]) for e in state.evidence.get("spans", []) if e.get("type") == wanted]
            self.userdata.save_customer(state.user, state.customer_name, wanted, quotes[:5], state.customer_notes)
        if not before or choosing:  # a pick between readings: the card of the one picked
            return self.coach.card(wanted, state, state.evidence.get("spans", []))
        reply = Answer().say(self.kb.text("correction_confirmed", state.lang, name=self.kb.type_name(wanted, state.lang)))
        return self.coach.next_buttons(reply, wanted, state.lang)

    def decline(self, state: ConversationState) -> Answer:
        """A no to the proposed type: the customer stays as they were."""
        kept = state.corrected_from or state.customer_type
        state.proposed_type, state.corrected_from = None, None
        state.evidence.pop("proposed", None)
        if not kept:
            return self.coach.fixed("deny", state.lang, menu=True)
        reply = Answer().say(self.kb.text("proposal_kept", state.lang, name=self.kb.type_name(kept, state.lang)))
        return self.coach.next_buttons(reply, kept, state.lang)

    def switch_to(self, wanted: str, state: ConversationState, store: bool) -> Answer:
        """The type the salesperson named or pressed, kept at once (with a saved customer under discussion) and, when
        `store`, kept as feedback under the type they named."""
        lang, current = state.lang, state.customer_type
        if store:
            self.userdata.add_feedback(state.user, state.customer_notes, current, wanted)
        state.customer_type, state.phrase_index, state.proposed_type, state.corrected_from = wanted, 0, None, None
        state.evidence = {"ranked": [wanted], "spans": []}
        if state.customer_name:
            self.userdata.save_customer(state.user, state.customer_name, wanted, [], state.customer_notes)
        if current:
            head = self.kb.text("corrected", lang, old=self.kb.type_name(current, lang), new=self.kb.type_name(wanted, lang))
        else:
            head = self.kb.text("type_noted", lang, name=self.kb.type_name(wanted, lang))
        reply = Answer().say(f"{head}\n{self.kb.text('why_named', lang)}")
        return self.coach.card(wanted, state, [], reply, head=False)

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
                    out = out[len(w) :].lstrip(" ,，。.:：;；!！-—")
                    break
            else:
                break
        return out
