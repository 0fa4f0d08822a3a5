"""The clarifying questions: a description too thin to read is asked about on two style axes (does the customer
lead or hold back? friendly or cold?), by button or typed answer, and the answers plus the notes pick the type.

The dialogue router (dialogue.py) routes a turn here while a question is open; coaching (coaching.py) opens the
questions through the callback the router gives it, so this module builds on coaching and not the other way round.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ..schema import LANGS, local
from ..store import KnowledgeBase
from ..text import clean, han_count, normalise
from .answer import Answer
from .coaching import Coach, join_notes
from .identify import Identifier
from .lookup import mentions
from .state import ConversationState

CLARIFY_STYLE = {
    ("leads", "friendly"): "dominant_friendly",
    ("leads", "cold"): "dominant_hostile",
    ("holds_back", "friendly"): "timid_friendly",
    ("holds_back", "cold"): "timid_hostile",
}
CLARIFY_OPTIONS = {"lead": ("leads", "holds_back"), "warmth": ("friendly", "cold")}
CLARIFY_ORDER = ("lead", "warmth")
# letters (or Chinese characters) beyond the answer's words that make a typed answer a description too: 「冷淡，一直挑毛病」
DESCRIPTION_MIN_CHARS = {"en": 12, "zh": 4}


class ClarifyingQuestions:
    def __init__(self, kb: KnowledgeBase, identifier: Identifier, coach: Coach):
        self.kb = kb
        self.identifier = identifier
        self.coach = coach  # the card and the remembered customer once the answers are in

    def start(self, text: str, state: ConversationState) -> Answer:
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
        found = mentions(norm, {k: [w for lang in LANGS for w in local(self.kb.ui.answers[k], lang)] for k in keys})
        if not found or (len(found) > 1 and found[0][0] == found[1][0]):
            return None
        return found[0][1] if len(norm) <= 40 or found[0][1] in ("stop", "skip") else None

    def answer_question(self, answer: str, state: ConversationState, text: str = "") -> Answer:
        """A button or a typed answer to the open question: the next question, or the coaching. An answer that
        goes on to describe (「冷淡，看房的时候一直挑毛病」) adds its description to the notes the type is read from."""
        if self.describes_beyond_answer(text):
            state.customer_notes = join_notes(state.customer_notes, text)
            if not self.coach.is_thin(state.customer_notes, self.identifier.identify(state.customer_notes)):
                answer = "stop"  # the whole description now shows the type: no more questions
        if answer == "stop":
            return self.clarified(state)
        slot = state.pending_question or CLARIFY_ORDER[0]
        if answer != "skip":
            state.answers[slot] = answer
        return self.next_question(state)

    def describes_beyond_answer(self, text: str) -> bool:
        """More than a clarifying answer's words: what is left once they are taken out still says something."""
        norm = normalise(clean(text))
        words = sorted(
            {
                w.lower()
                for k in (*CLARIFY_OPTIONS["lead"], *CLARIFY_OPTIONS["warmth"], "skip", "stop")
                for lang in LANGS
                for w in local(self.kb.ui.answers[k], lang)
            },
            key=len,
            reverse=True,
        )
        for word in words:
            norm = re.sub(rf"(?<![a-z]){re.escape(word)}(?![a-z])", " ", norm) if word.isascii() else norm.replace(word, " ")
        rest = re.sub(r"[^a-z\u4e00-\u9fff]+", "", norm)
        return len(rest) >= DESCRIPTION_MIN_CHARS["zh" if han_count(rest) else "en"]

    def stale_choice(self, text: str, state: ConversationState) -> Optional[Tuple[str, str]]:
        """(question, option) when the message is an option's title sent with no question open (an old button
        pressed again, or 'leads' typed); None otherwise, and in a quiz, which takes its own answers, and for
        'skip' after a card, which may mean anything else."""
        norm = normalise(clean(text)).strip(" .!。！")
        chosen = None
        for slot, options in CLARIFY_OPTIONS.items():
            for option in (*options, "skip"):
                titles = (normalise(self.kb.text(f"answer_{option}", lang)) for lang in LANGS)
                if norm and norm in titles:
                    chosen = chosen or (slot, option)
        if chosen is None or state.quiz_type or (chosen[1] == "skip" and state.customer_type):
            return None
        return chosen

    def stale_option(self, text: str, state: ConversationState) -> Optional[Answer]:
        """A stale option is never read as another request (NLU takes 'Leads' for the leaderboard). A
        remembered customer is told the question is answered; a description still waiting for its type takes
        it as the answer."""
        chosen = self.stale_choice(text, state)
        if chosen is None:
            return None
        lang = state.lang
        if state.customer_type:
            reply = Answer().say(self.kb.text("question_answered", lang, name=self.kb.type_name(state.customer_type, lang)))
            return self.coach.next_buttons(reply, state.customer_type, lang)
        if not state.customer_notes:
            return self.coach.menu(Answer().say(self.kb.text("how_to_describe", lang)), lang)
        slot, option = chosen
        if option == "skip":
            return self.clarified(state)
        state.answers[slot] = option
        open_slots = [s for s in CLARIFY_ORDER if s not in state.answers]
        if not open_slots:
            return self.clarified(state)
        state.pending_question = open_slots[0]
        return self.question(open_slots[0], lang)

    def next_question(self, state: ConversationState) -> Answer:
        slot = state.pending_question or CLARIFY_ORDER[0]
        later = CLARIFY_ORDER[CLARIFY_ORDER.index(slot) + 1 :]
        if later:
            state.pending_question = later[0]
            return self.question(later[0], state.lang)
        return self.clarified(state)

    def description_while_asking(self, text: str, state: ConversationState) -> Answer:
        """A message typed while a question is open is read as more description: coached when it shows the
        type, else noted, and the questions move on (never the same question twice). An answer that only judges
        the customer again (「就是很难沟通」) shows no behaviour: it is not noted, the next question is asked."""
        if self.coach.judgement_only(text):
            return self.next_question(state)
        notes = join_notes(state.customer_notes, text)
        alone = self.identifier.identify(text)
        if not self.coach.is_thin(text, alone):
            return self.coach.coach_on(alone, notes, state)  # the evidence is in this message, not in the thin one
        state.customer_notes = notes
        return self.next_question(state)

    def clarified(self, state: ConversationState) -> Answer:
        """Coach from the answers plus the notes; skipped answers fall back to the notes alone."""
        chosen = CLARIFY_STYLE.get((state.answers.get("lead", ""), state.answers.get("warmth", "")))
        notes = state.customer_notes
        result = self.identifier.identify(notes) if notes else None
        if result and not self.coach.is_thin(notes, result):
            chosen = result.types[0][0]  # a cue in what was said outweighs the coarse style answers
        state.pending_question, state.answers = None, {}
        if not chosen:
            return self.coach.menu(Answer().say(self.kb.text("still_unclear", state.lang)), state.lang)
        evidence = result.evidence if result and not self.coach.is_thin(notes, result) else []
        self.coach.remember(state, chosen, notes, None)
        state.evidence = {"ranked": [chosen], "spans": [e for e in evidence if e.get("type") == chosen][:6]}
        return self.coach.card(chosen, state, evidence)
