"""The salesperson's saved customers: save, list, recall, update, rename, delete, by text or by button.

Names are found by looking for the salesperson's own saved names in the message, so "Mr Li called back, he
wants a discount" or 「王总又来了」 reach Mr Li without any pattern for how people phrase it.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ..store import KnowledgeBase
from ..text import clean, normalise
from ..userdata import UserData
from .answer import Answer
from .coaching import Coach, join_notes
from .lookup import customer_name_in, saved_customer_in, type_in, without_name_tail
from .state import ConversationState

LIST_SHOWN = 10
BUTTONS_SHOWN = 4
_RENAME = [
    re.compile(r"\bto\s+(.+?)\s*[.!?]*$", re.I),
    re.compile(r"\b(?:call|name)\s+(?:him|her|them)\s+(.+?)\s+instead\s*[.!?]*$", re.I),
    re.compile(r"(?:改名为|改名成|改名叫|改叫|重命名为|改成|改为|应该是|应该叫|應該是|應該叫)\s*(.+?)\s*[。！？!?，,]*$"),
]
RENAMING = re.compile(r"\binstead\b|改名|改叫|应该是|應該是|应该叫|應該叫", re.I)  # a saved name said again, to change
ALSO = re.compile(r"\b(?:also|too|as well)\b|也|还有点|还挺|还很", re.I)
_UPDATE_SEPARATOR = re.compile(r"[:：,，]\s*")


class Customers:
    def __init__(self, kb: KnowledgeBase, userdata: UserData, coach: Coach):
        self.kb = kb
        self.userdata = userdata
        self.coach = coach

    def named_in(self, user: str, text: str) -> Optional[Dict[str, Any]]:
        """The saved customer whose name the message contains (the longest name wins)."""
        return saved_customer_in(self.userdata.customers(user), normalise(clean(text)))

    def list(self, state: ConversationState) -> Answer:
        rows = self.userdata.customers(state.user)
        lang = state.lang
        if not rows:
            return Answer().say(self.kb.text("no_customers", lang))
        lines = [self.kb.text("your_customers", lang)]
        lines += [
            self.kb.text("customer_row", lang, name=r["name"], type=self._type_name(r["type_id"], lang), date=r["updated"][:10])
            for r in rows[:LIST_SHOWN]
        ]
        reply = Answer().say("\n".join(lines) + "\n" + self.kb.text("recall_in_list", lang))
        for r in rows[:BUTTONS_SHOWN]:
            reply.button(r["name"], "recall_customer", name=r["name"])
        return reply

    def _type_name(self, type_id: str, lang: str) -> str:
        return self.kb.type_name(type_id, lang) if type_id in self.kb.types else type_id

    def save(self, text: str, state: ConversationState, name: Optional[str] = None) -> Answer:
        lang = state.lang
        if not state.customer_type:
            return Answer().say(self.kb.text("no_customer_yet", lang))
        name = name or customer_name_in(text)
        if not name:
            return Answer().say(self.kb.text("ask_name", lang))
        if state.customer_name and normalise(name) != normalise(state.customer_name) and RENAMING.search(text):
            return self.rename(text, state, name=state.customer_name, new_name=name)  # "call him Mr Liu instead"
        spans = [e["text"] for e in state.evidence.get("spans", []) if e.get("type") == state.customer_type]
        self.userdata.save_customer(state.user, name, state.customer_type, spans[:5], state.customer_notes)
        state.customer_name = name
        return Answer().say(self.kb.text("saved", lang, name=name, type=self._type_name(state.customer_type, lang)))

    def recall(self, text: str, state: ConversationState, name: Optional[str] = None) -> Answer:
        profile = self._find(state.user, text, name)
        if not profile:
            return self._unknown(state, name or customer_name_in(text) or clean(text)[:60])
        self.load(profile, state)
        reply = Answer().say(self.kb.text("recalled", state.lang, name=profile["name"], date=profile["updated"][:10]))
        evidence = [{"type": profile["type_id"], "text": e, "cue": e} for e in profile["evidence"]]
        return self.coach.card(profile["type_id"], state, evidence, reply)

    def load(self, profile: Dict[str, Any], state: ConversationState) -> None:
        """Make a saved customer the one the conversation is about."""
        state.forget_customer()
        state.customer_type, state.customer_notes, state.customer_name = profile["type_id"], profile["notes"], profile["name"]
        state.evidence = {
            "ranked": [profile["type_id"]],
            "spans": [{"type": profile["type_id"], "text": e, "cue": e} for e in profile["evidence"]],
        }

    def _find(self, user: str, text: str, name: Optional[str]) -> Optional[Dict[str, Any]]:
        if name:
            return self.userdata.find_customer(user, name)
        row = self.named_in(user, text)
        if row:
            return self.userdata.find_customer(user, row["name"])
        guess = customer_name_in(text)
        return self.userdata.find_customer(user, guess) if guess else None

    def _unknown(self, state: ConversationState, name: str) -> Answer:
        if self.userdata.customers(state.user):
            reply = self.list(state)
            reply.bubbles.insert(0, self.kb.text("unknown_customer", state.lang, name=name))
            return reply
        return Answer().say(self.kb.text("unknown_customer", state.lang, name=name))

    def update(self, text: str, state: ConversationState, name: Optional[str] = None, type_id: Optional[str] = None) -> Answer:
        """'update Mr Li: he's also quite suspicious', '把张先生改成疑心型', 'add a note to Mr Li: prefers email'."""
        profile = self._find(state.user, text, name)
        if not profile:
            return self._which(state)
        return self.update_observed(text, state, profile["name"], named=[type_id] if type_id in self.kb.types else None)

    def update_observed(self, text: str, state: ConversationState, name: str, named: Optional[List[str]] = None) -> Answer:
        """A new observation of a saved customer: added to the notes, which become the customer at hand; a type
        said outright is kept; otherwise the type is read again from all the notes and, when it reads differently,
        the coach says so and asks before changing it (the yes is Corrections.confirm, which saves it)."""
        lang = state.lang
        profile = self.userdata.find_customer(state.user, name)
        if not profile:
            return self._which(state)
        rest = self._after_name(text, profile["name"])
        said = next((t for t in (named or []) if t in self.kb.types), None) or (type_in(self.kb, rest) if rest else None)
        also = None
        if said and ALSO.search(rest):  # "he's also quite picky": a trait added, asked about, never a silent switch
            said, also = None, said
        notes = join_notes(profile["notes"], rest) if rest else profile["notes"]
        old = profile["type_id"]
        at_hand = state.customer_name == profile["name"]
        if at_hand:
            state.customer_notes = notes
        if said and said != old:
            self.userdata.save_customer(state.user, profile["name"], said, [], notes)
            if at_hand:
                state.customer_type, state.evidence = said, {"ranked": [said], "spans": []}
            reply = Answer().say(self.kb.text("customer_updated", lang, name=profile["name"], type=self._type_name(said, lang)))
            return self.coach.next_buttons(reply, said, lang)
        self.userdata.save_customer(state.user, profile["name"], old, profile["evidence"], notes)
        read = self.coach.identifier.identify(notes) if rest else None
        new = also or (None if read is None or read.needs_more_info or said else read.types[0][0])
        if read is not None and new == old and read.close and old in read.close:  # the notes now fit two types: ask
            new = next(t for t in read.close if t != old)
        if read is None or not new or new == old or old not in self.kb.types:
            reply = Answer().say(self.kb.text("update_same", lang, name=profile["name"], type=self._type_name(old, lang)))
            return self.coach.next_buttons(reply, old, lang) if old in self.kb.types else reply
        key = "update_close" if read.close and old in read.close else "update_reread"
        self.load({**profile, "notes": notes}, state)  # the customer at hand, so the yes (Corrections.confirm) saves it
        state.proposed_type, state.corrected_from = new, old
        state.evidence["proposed"] = {
            "ranked": [new] + [t for t, _ in read.types[:3] if t != new],
            "spans": [e for e in read.evidence if e.get("type") == new][:6],
        }
        reply = Answer().say(self.kb.text(key, lang, name=profile["name"], new=self._type_name(new, lang), old=self._type_name(old, lang)))
        reply.button(self.kb.text("btn_yes_type", lang, name=self._type_name(new, lang)), "confirm_type", type_id=new)
        return reply.button(self.kb.text("btn_keep_type", lang, name=self._type_name(old, lang)), "deny")

    @staticmethod
    def _after_name(text: str, name: str) -> str:
        text = clean(text)
        pos = text.lower().find(name.lower())
        rest = text[pos + len(name) :] if pos >= 0 else text
        rest = _UPDATE_SEPARATOR.sub(" ", rest, count=1).strip()
        return re.sub(r"^(改成|改为|设为|是|is|to|as)\s*", "", rest).strip(" 。.")

    def rename(self, text: str, state: ConversationState, name: Optional[str] = None, new_name: Optional[str] = None) -> Answer:
        lang = state.lang
        profile = self._find(state.user, text, name)
        if not profile and state.customer_name:  # "call him Mr Liu instead": the customer at hand
            profile = self.userdata.find_customer(state.user, state.customer_name)
        if not profile:
            return self._which(state)
        if not new_name:
            rest = self._after_name(text, profile["name"])
            for pattern in _RENAME:
                m = pattern.search(rest) or pattern.search(text)
                if m:
                    new_name = without_name_tail(re.split(r"\s+(?:没有|沒有|不是)", m.group(1))[0].strip(" \"'“”「」"))
                    break
        if not new_name or normalise(new_name) == normalise(profile["name"]):
            return Answer().say(self.kb.text("rename_how", lang, name=profile["name"]))
        self.userdata.rename_customer(state.user, profile["name"], new_name)
        if state.customer_name == profile["name"]:
            state.customer_name = new_name
        return Answer().say(self.kb.text("customer_renamed", lang, old=profile["name"], new=new_name))

    def delete(self, text: str, state: ConversationState, name: Optional[str] = None, confirm: Optional[str] = None) -> Answer:
        """Asks first; the 'Yes, delete' button carries the confirmation, so nothing goes by a misread message."""
        lang = state.lang
        profile = self._find(state.user, text, name)
        if not profile:
            return self._which(state)
        state.delete_pending = None
        if confirm == "yes":
            self.userdata.delete_customer(state.user, profile["name"])
            if state.customer_name == profile["name"]:
                state.customer_name = None
            return Answer().say(self.kb.text("customer_deleted", lang, name=profile["name"]))
        if confirm == "no":
            return Answer().say(self.kb.text("customer_kept", lang, name=profile["name"]))
        state.delete_pending = profile["name"]  # a typed "yes" / 「是的」 answers it too
        reply = Answer().say(self.kb.text("confirm_delete", lang, name=profile["name"]))
        return reply.button(self.kb.text("btn_delete", lang), "delete_customer", name=profile["name"], confirm="yes").button(
            self.kb.text("btn_keep", lang), "delete_customer", name=profile["name"], confirm="no"
        )

    def _which(self, state: ConversationState) -> Answer:
        if not self.userdata.customers(state.user):
            return Answer().say(self.kb.text("no_customers", state.lang))
        reply = self.list(state)
        reply.bubbles.insert(0, self.kb.text("which_customer", state.lang))
        return reply

    def rows(self, user: str) -> List[Dict[str, Any]]:
        return self.userdata.customers(user)
