"""The coaching conversation as plain Python: each turn takes the remembered state and returns a Reply.

The Rasa actions only translate a tracker into `State` and a Reply into messages and slots.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..schema import STAGES
from ..text import clean, detect_lang, has_words, normalise
from .explain import stage_name
from .identify import Identification
from .lookup import customer_name_in, mentions, stage_in, topic_in, type_in
from .reply import Reply
from .runtime import Engine

ADDITIVE = re.compile(r"^\s*(also|and|plus|besides|oh and|one more thing|还有|另外|而且|并且|他还|她还|他也|她也|补充)", re.I)
FIXED_INTENTS = ("greet", "goodbye", "thank", "help", "bot_challenge", "out_of_scope", "affirm", "deny", "fallback")
FALLBACK_MIN_SCORE = 0.3  # a message NLU did not place is coached only when its type is this clear


@dataclass
class State:
    """What the conversation remembers about the current customer (Rasa slots)."""

    user: str = "anonymous"
    lang: str = "en"
    customer_type: Optional[str] = None
    customer_notes: str = ""
    evidence: Dict[str, Any] = field(default_factory=dict)  # {"ranked": [...], "spans": [...]}
    phrase_index: int = 0


def language(text: str, fallback: str) -> str:
    """The reply language: that of the message, or the last one used when the message is a button payload."""
    return fallback if not text or text.startswith("/") or not has_words(text) else detect_lang(text, fallback)


class Coach:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.kb = engine.kb

    # fixed turns ---------------------------------------------------------------
    def fixed(self, intent: str, lang: str) -> Reply:
        key = intent if intent in FIXED_INTENTS or intent in ("no_practice", "fallback") else "fallback"
        reply = Reply().say(self.kb.text(key, lang))
        if intent in ("greet", "help", "out_of_scope", "affirm", "deny", "fallback"):
            self.menu(reply, lang)
        return reply

    def fallback(self, text: str, state: State, intent: str = "fallback") -> Reply:
        """Low confidence or out of scope: coach when it reads as a customer description, ask when it is a thin
        one, and otherwise say what the bot can do."""
        result = self.engine.identifier.identify(text)
        if result.about_customer and not result.needs_more_info and result.types[0][1] >= FALLBACK_MIN_SCORE:
            return self.describe(text, state, result)
        if result.about_customer and result.needs_more_info and self.names_a_customer(text):
            return self.describe(text, state, result)  # thin: the two clarifying questions
        return self.fixed(intent, state.lang).with_slots(clarifying=False)

    def names_a_customer(self, text: str) -> bool:
        """Says outright that it is about a customer: the bar for asking questions about a thin message."""
        words = self.kb.ui.answers["customer"]
        return bool(mentions(normalise(clean(text)), {"customer": words.en + words.zh}))

    def menu(self, reply: Reply, lang: str) -> Reply:
        return (reply.button(self.kb.text("btn_describe", lang), "help")
                .button(self.kb.text("btn_types", lang), "list_types")
                .button(self.kb.text("btn_practice", lang), "start_practice")
                .button(self.kb.text("btn_quiz", lang), "quiz"))

    # describing a customer -------------------------------------------------------
    def describe(self, text: str, state: State, read: Optional[Identification] = None) -> Reply:
        """`read`: the identification of this very text when the caller already made it (not redone)."""
        text = clean(text)
        if not has_words(text):
            return Reply(slots={"clarifying": False}).say(self.kb.text("empty_input", state.lang))
        adding = bool(state.customer_type or state.customer_notes) and bool(ADDITIVE.match(text))
        notes = f"{state.customer_notes} {text}".strip() if adding else text
        result = read if read is not None and not adding else self.engine.identifier.identify(notes)
        if result.needs_more_info:
            if not (adding or result.about_customer or self.names_a_customer(text)):
                # NLU took it for a description, so one sign of a customer is enough; junk shows neither
                return self.fixed("fallback", state.lang).with_slots(clarifying=False)
            return Reply(slots={"customer_notes": notes, "clarifying": True}).say(self.kb.text("needs_more_info", state.lang))
        previous = state.customer_type if adding else None
        reply = Reply(slots=self._remember(result, notes))  # also clears "clarifying"
        if previous and previous != result.top:
            reply.say(self.kb.text("changed", state.lang, old=self.kb.type_name(previous, state.lang),
                                   new=self.kb.type_name(result.top, state.lang)))
        elif previous:
            reply.say(self.kb.text("unchanged", state.lang, name=self.kb.type_name(previous, state.lang)))
        return self.card(result.top, state.lang, result.evidence, reply, traits=result.traits)

    def _remember(self, result: Identification, notes: str) -> Dict[str, Any]:
        return {"customer_type": result.top, "customer_notes": notes[:3000], "phrase_index": 0, "clarifying": False,
                "evidence": {"ranked": [t for t, _ in result.types[:4]], "spans": result.evidence[:8]}}

    def card(self, type_id: str, lang: str, evidence: List[Dict[str, Any]], reply: Optional[Reply] = None,
             traits: Optional[List[str]] = None) -> Reply:
        """Type, why, top three tactics, pitfalls, one phrase, and the next steps as buttons."""
        reply = reply or Reply()
        t = self.kb.types[type_id]
        pick = lambda obj: getattr(obj, lang)  # noqa: E731
        head = self.kb.text("identified", lang, name=pick(t.names))
        others = [self.kb.type_name(x, lang) for x in (traits or []) if x != type_id][:2]
        if others:
            head += " " + self.kb.text("also_traits", lang, names=", ".join(others))
        reply.say(f"{head}\n{self.why_line(type_id, lang, evidence)}")
        tactics = [t.tactics.opening[0], t.tactics.presenting[0], t.tactics.closing[0]]
        lines = [self.kb.text("top_tactics", lang)] + [f"• {pick(x)}" for x in tactics]
        lines += [self.kb.text("avoid_short", lang)] + [f"• {pick(p.avoid)}" for p in t.pitfalls[:2]]
        reply.say("\n".join(lines))
        reply.say(self.kb.text("try_saying", lang, phrase=pick(t.phrases[0])))
        return self.next_buttons(reply, type_id, lang)

    def next_buttons(self, reply: Reply, type_id: str, lang: str) -> Reply:
        return (reply.button(self.kb.text("btn_say", lang), "ask_phrase")
                .button(self.kb.text("btn_avoid", lang), "ask_avoid")
                .button(self.kb.text("btn_close", lang), "ask_stage", stage="closing")
                .button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
                .button(self.kb.text("btn_not_right", lang), "correct_type"))

    def why_line(self, type_id: str, lang: str, evidence: List[Dict[str, Any]]) -> str:
        spans = [e for e in evidence if e.get("type") == type_id]
        if not spans:
            return self.kb.text("why_none", lang)
        seen, items = set(), []
        for e in spans:
            if e["text"] in seen:
                continue
            seen.add(e["text"])
            items.append(self.kb.text("evidence_item", lang, text=e["text"], cue=e.get("cue") or e["text"]))
        return self.kb.text("why", lang, evidence="; ".join(items[:2]))

    # follow-ups on the remembered customer ---------------------------------------
    def follow_up(self, intent: str, text: str, state: State, stage: Optional[str] = None) -> Reply:
        type_id = state.customer_type
        if not type_id:
            # "my customer keeps haggling, what do I do?" as a first message: coach the description it holds
            if not text.startswith("/"):  # a button payload carries no description
                result = self.engine.identifier.identify(text)
                if result.about_customer and not result.needs_more_info:
                    return self.describe(text, state, result)
            return Reply().say(self.kb.text("no_customer_yet", state.lang))
        t, lang = self.kb.types[type_id], state.lang
        pick = lambda obj: getattr(obj, lang)  # noqa: E731
        name = pick(t.names)
        reply = Reply()
        if intent == "ask_phrase":
            index = (state.phrase_index + 1) % len(t.phrases)
            reply.slots["phrase_index"] = index
            phrase = t.phrases[index]
            reply.say(self.kb.text("phrase_for", lang, name=name, stage=stage_name(self.kb, phrase.stage, lang),
                                   phrase=pick(phrase)))
        elif intent == "ask_avoid":
            lines = [self.kb.text("avoid_for", lang, name=name)]
            lines += [f"• {pick(p.avoid)}: {pick(p.why)}" for p in t.pitfalls[:4]]
            reply.say("\n".join(lines))
        elif intent == "ask_discount":
            tactics = [x for x in t.tactics.objections if "price" in x.tags] or t.tactics.objections[:1]
            lines = [self.kb.text("discount_for", lang, name=name)] + [f"• {pick(x)}" for x in tactics[:3]]
            reply.say("\n".join(lines))
            phrase = next((p for p in t.phrases if p.stage == "objections"), None)
            if phrase:
                reply.say(self.kb.text("try_saying", lang, phrase=pick(phrase)))
        elif intent == "ask_why":
            spans = state.evidence.get("spans", [])
            reply.say(self.why_line(type_id, lang, spans))
            reply.say(self.kb.text("type_is", lang, name=name, summary=pick(t.summary)))
        else:  # ask_stage
            stage = stage if stage in STAGES else stage_in(self.kb, text) or "opening"
            lines = [self.kb.text("stage_for", lang, name=name, stage=stage_name(self.kb, stage, lang))]
            lines += [f"• {pick(x)}" for x in getattr(t.tactics, stage)[:4]]
            reply.say("\n".join(lines))
            phrase = next((p for p in t.phrases if p.stage == stage), None)
            if phrase:
                reply.say(self.kb.text("try_saying", lang, phrase=pick(phrase)))
        return self.next_buttons(reply, type_id, lang)

    # corrections -----------------------------------------------------------------------
    def correct(self, text: str, state: State, named: Optional[str] = None) -> Reply:
        lang = state.lang
        wanted = named if named in self.kb.types else type_in(self.kb, text)
        if wanted and wanted != state.customer_type:
            from ..userdata import UserData

            UserData().add_feedback(state.user, state.customer_notes, state.customer_type, wanted)
            reply = Reply(slots={"customer_type": wanted, "phrase_index": 0})
            old = self.kb.type_name(state.customer_type, lang) if state.customer_type else "-"
            reply.say(self.kb.text("corrected", lang, old=old, new=self.kb.type_name(wanted, lang)))
            return self.card(wanted, lang, [], reply)
        ranked = [t for t in state.evidence.get("ranked", []) if t != state.customer_type][:3]
        options = ranked or list(self.kb.types)[:4]
        reply = Reply().say(self.kb.text("which_instead", lang))
        for type_id in options:
            reply.button(self.kb.type_name(type_id, lang), "correct_type", type_id=type_id)
        return reply.button(self.kb.text("btn_types", lang), "list_types")

    def new_customer(self, state: State) -> Reply:
        slots = {"customer_type": None, "customer_notes": "", "evidence": {}, "phrase_index": 0, "clarifying": False}
        return Reply(slots=slots).say(self.kb.text("new_customer", state.lang))

    # the clarifying questions (style axes) -----------------------------------------------
    def clarify_question(self, slot: str, lang: str) -> Reply:
        from .clarify import question

        return question(self.kb, slot, lang)

    def clarified(self, state: State, lead: Optional[str], warmth: Optional[str], extra: Optional[str]) -> Reply:
        """Coach from the two answers plus anything else said; skipped answers fall back to the notes alone."""
        style = {("leads", "friendly"): "dominant_friendly", ("leads", "cold"): "dominant_hostile",
                 ("holds_back", "friendly"): "timid_friendly", ("holds_back", "cold"): "timid_hostile"}
        notes = " ".join(x for x in (state.customer_notes, extra if extra not in (None, "skip") else "") if x).strip()
        result = self.engine.identifier.identify(notes) if notes else None
        chosen = style.get((lead, warmth))
        if result and not result.needs_more_info and (not chosen or result.top not in style.values()):
            chosen = result.top if not chosen or result.types[0][1] >= 0.5 else chosen
        if not chosen:
            reply = Reply(slots={"clarifying": False})
            return reply.say(self.kb.text("still_unclear", state.lang))
        evidence = result.evidence if result and not result.needs_more_info else []
        reply = Reply(slots={"customer_type": chosen, "customer_notes": notes, "phrase_index": 0, "clarifying": False,
                             "evidence": {"ranked": [chosen], "spans": evidence}})
        return self.card(chosen, state.lang, evidence, reply)

    # knowledge questions ---------------------------------------------------------------
    def list_types(self, lang: str) -> Reply:
        groups: Dict[str, List[str]] = {}
        for i, t in self.kb.types.items():
            groups.setdefault(t.group, []).append(getattr(t.names, lang))
        lines = [self.kb.text("types_intro", lang)]
        for group in ("style", "problem", "sales_point"):
            lines.append(f"{self.kb.text('group_' + group, lang)}: {', '.join(groups.get(group, []))}")
        reply = Reply().say("\n".join(lines))
        for type_id in ("suspicious", "picky", "dominant_hostile", "deliberate"):
            reply.button(self.kb.type_name(type_id, lang), "ask_knowledge", type_id=type_id)
        return reply

    def knowledge(self, text: str, state: State, named: Optional[str] = None) -> Reply:
        lang = state.lang
        norm = text.lower()
        type_id = named if named in self.kb.types else type_in(self.kb, text)
        models = any(w in norm for w in ("disc", "social style"))
        if models and not type_id:
            type_id = state.customer_type
        if type_id:
            return self.type_info(type_id, lang, models)
        found = topic_in(self.kb, text)
        if not found:
            return self.menu(Reply().say(self.kb.text("no_topic", lang)), lang)
        topic_id, section_id = found
        return self.topic(topic_id, section_id, lang)

    def type_info(self, type_id: str, lang: str, models_first: bool = False) -> Reply:
        t = self.kb.types[type_id]
        pick = lambda obj: getattr(obj, lang)  # noqa: E731
        model_line = (f"DISC ({t.models.disc.code}): {pick(t.models.disc)}\n"
                      f"Social Styles ({t.models.social_styles.code}): {pick(t.models.social_styles)}")
        reply = Reply()
        if models_first:
            reply.say(f"{pick(t.names)}\n{model_line}")
        else:
            reply.say(f"{pick(t.names)}: {pick(t.summary)}", pick(t.psychology), model_line)
        return (reply.button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id)
                .button(self.kb.text("btn_types", lang), "list_types"))

    def topic(self, topic_id: str, section_id: Optional[str], lang: str) -> Reply:
        topic = self.kb.topics[topic_id]
        pick = lambda obj: getattr(obj, lang)  # noqa: E731
        reply = Reply()
        section = next((s for s in topic.sections if s.id == section_id), None)
        if section and topic.sections.index(section) >= 0 and section_id:
            body = f"{pick(section.title)}: {pick(section.body)}"
            if section.advice:
                body += f"\n{self.kb.text('advice', lang)}: {pick(section.advice)}"
            reply.say(f"{pick(topic.title)}\n{body}")
        else:
            lines = [f"{pick(topic.title)}", pick(topic.summary)]
            lines += [f"{n}. {pick(s.title)}: {pick(s.body)}" for n, s in enumerate(topic.sections, 1)]
            reply.say("\n".join(lines))
        return reply

    # saved customers -----------------------------------------------------------------
    def customers(self, intent: str, text: str, state: State) -> Reply:
        from ..userdata import UserData

        lang, store = state.lang, UserData()
        if intent == "list_customers":
            rows = store.customers(state.user)
            if not rows:
                return Reply().say(self.kb.text("no_customers", lang))
            reply = Reply().say(self.kb.text("your_customers", lang) + "\n" + "\n".join(
                f"• {r['name']}: {self.kb.type_name(r['type_id'], lang)} ({r['updated'][:10]})" for r in rows[:10]))
            for r in rows[:4]:
                reply.button(r["name"], "recall_customer")
            return reply
        name = customer_name_in(text)
        if intent == "save_customer":
            if not state.customer_type:
                return Reply().say(self.kb.text("no_customer_yet", lang))
            if not name:
                return Reply().say(self.kb.text("ask_name", lang))
            spans = [e["text"] for e in state.evidence.get("spans", []) if e.get("type") == state.customer_type]
            store.save_customer(state.user, name, state.customer_type, spans[:5], state.customer_notes)
            return Reply().say(self.kb.text("saved", lang, name=name, type=self.kb.type_name(state.customer_type, lang)))
        profile = store.find_customer(state.user, name or text)
        if not profile:
            return Reply().say(self.kb.text("unknown_customer", lang, name=name or text))
        evidence = [{"type": profile["type_id"], "text": e, "cue": e} for e in profile["evidence"]]
        reply = Reply(slots={"customer_type": profile["type_id"], "customer_notes": profile["notes"], "phrase_index": 0,
                             "evidence": {"ranked": [profile["type_id"]], "spans": evidence}})
        reply.say(self.kb.text("recalled", lang, name=profile["name"], date=profile["updated"][:10]))
        return self.card(profile["type_id"], lang, evidence, reply)
