"""Questions on the knowledge itself: the types, two types compared, DISC / Social Styles, and the topics.

A topic is shown as its numbered points first (phone-sized), and "more", "the third one" or 「第三点」 open
the details one by one; the state remembers which topic is open and which points were shown.
"""

from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple

from ..schema import local
from ..store import KnowledgeBase
from ..text import normalise
from .answer import Answer
from .lookup import mentions, named_in_order, topic_in
from .state import ConversationState
from .wording import LIST_SEPARATOR, QUOTED

LIST_BODY_CHARS = {"en": 160, "zh": 60}  # a point's first sentence in the list; longer bodies wait for "more"
_EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_ZH_NUMBERS = "一二三四五六七八九十"
_MODELS = {"disc": ("DISC", ("D", "I", "S", "C")), "social_styles": ("Social Styles", ("Driver", "Expressive", "Amiable", "Analytical"))}
_ZH_STYLE_NAMES = {"驾驭型": "Driver", "表达型": "Expressive", "亲和型": "Amiable", "分析型": "Analytical"}


LAST = -1  # "the last one", 「最后一点」


def item_number(text: str) -> Optional[int]:
    """'the third one', 'number 2', '#4', '第三点', '3' -> 3 (1-based); 'the last one' -> LAST; or None."""
    norm = normalise(text)
    if re.search(r"\blast\b", norm) or "最后" in norm:
        return LAST
    m = re.search(r"(?:^|\D)(\d{1,2})(?:\D|$)", norm)
    if m:
        return int(m.group(1))
    for n, word in enumerate(_EN_ORDINALS, 1):
        if re.search(rf"\b{word}\b", norm):
            return n
    m = re.search(r"第([一二三四五六七八九十]{1,2})", norm)
    if m:
        digits = m.group(1)
        if digits == "十":
            return 10
        if digits.startswith("十"):
            return 10 + _ZH_NUMBERS.index(digits[1]) + 1
        return _ZH_NUMBERS.index(digits[0]) + 1
    return None


def first_sentence(text: str, lang: str) -> str:
    cut = re.split(r"(?<=[.!?。！？])\s*", text.strip(), maxsplit=1)[0]
    limit = LIST_BODY_CHARS[lang]
    return cut if len(cut) <= limit else cut[:limit].rsplit(" ", 1)[0].rstrip(",，;；") + "…"


_COMPARISON = re.compile(
    r"^(.+?)\b(?:different from|differ from|compared (?:to|with)|vs\.?|versus)\b(.+)$|"
    r"^(.+?)(?:和|跟|与|同)(.+?)(?:有什么|有啥|之间)?(?:的)?(?:区别|不同|差别)",
    re.I,
)


class Library:
    def __init__(self, kb: KnowledgeBase, identify: Optional[Callable[[str], Optional[str]]] = None):
        self.kb = kb
        self.identify = identify  # the type a described customer reads as, for "how is a cold one different from..."

    # types -------------------------------------------------------------------------
    def list_types(self, lang: str) -> Answer:
        groups: dict = {}
        for type_id, t in self.kb.types.items():
            groups.setdefault(t.group, []).append(self.kb.type_name(type_id, lang))
        lines = [self.kb.text("types_intro", lang)]
        joiner = LIST_SEPARATOR[lang]
        for group in ("style", "problem", "sales_point"):
            lines.append(f"{self.kb.text('group_' + group, lang)}: {joiner.join(groups.get(group, []))}")
        reply = Answer().say("\n".join(lines))
        for type_id in ("suspicious", "picky", "dominant_hostile", "deliberate"):
            reply.button(self.kb.type_name(type_id, lang), "ask_knowledge", type_id=type_id)
        return reply

    def types_named(self, text: str) -> List[str]:
        """Every type a question names, in the order they appear."""
        names = {
            type_id: [t.names.en, t.names.zh, type_id.replace("_", " "), *t.aliases.en, *t.aliases.zh]
            + [part.strip() for part in t.names.en.split("/")]
            for type_id, t in self.kb.types.items()
        }
        return named_in_order(normalise(text), names)

    def answer(self, text: str, state: ConversationState, named: Optional[str] = None) -> Answer:
        """A question about types or topics, from text or a button."""
        lang = state.lang
        reply = self._types_answer(text, state, named)
        if reply is not None:
            state.topic, state.topic_shown = None, []  # "more" now means more about this, not the last topic
            return reply
        found = topic_in(self.kb, text)
        if not found:
            reply = Answer().say(self.kb.text("no_topic", lang))
            return reply.button(self.kb.text("btn_types", lang), "list_types").button(self.kb.text("btn_practice", lang), "start_practice")
        topic_id, section_id = found
        return self.topic(topic_id, state, section_id=section_id if self._asks_one_point(text) else None)

    def _types_answer(self, text: str, state: ConversationState, named: Optional[str]) -> Optional[Answer]:
        lang = state.lang
        if named in self.kb.types:
            return self.type_info(named, lang)
        model = self.model_asked(text)
        named_types = self.types_named(text)
        if model and not named_types:
            code = self.model_code(text, model)
            if code:
                return self.model_types(model, code, lang)
            return self.model_overview(model, lang)
        if len(named_types) < 2:
            named_types = self.types_compared(text) or named_types
        if len(named_types) >= 2:
            return self.compare(named_types[0], named_types[1], lang)
        if named_types:
            return self.type_info(named_types[0], lang, models_first=bool(model))
        return None

    def types_compared(self, text: str) -> List[str]:
        """The two types a comparison describes rather than names: each side read on its own."""
        m = _COMPARISON.search(normalise(text))
        if not m or self.identify is None:
            return []
        sides = [g for g in m.groups() if g][:2]
        found: List[str] = []
        for side in sides:
            named = self.types_named(side)
            type_id = named[0] if named else self.identify(side)
            if type_id and type_id not in found:
                found.append(type_id)
        return found if len(found) == 2 else []

    def model_overview(self, model: str, lang: str) -> Answer:
        """What DISC (or Social Styles) is, and the 13 types under each letter (style) by their main one."""
        label, codes = _MODELS[model]
        groups: dict = {code: [] for code in codes}
        for type_id, t in self.kb.types.items():
            main = re.split(r"[/,+]", getattr(t.models, model).code)[0].strip()
            if main in groups:
                groups[main].append(self.kb.type_name(type_id, lang))
        joiner = LIST_SEPARATOR[lang]
        lines = [self.kb.text(f"{model}_overview", lang)]
        lines += [f"• {code}: {joiner.join(names)}" for code, names in groups.items() if names]
        return Answer().say("\n".join(lines)).button(self.kb.text("btn_types", lang), "list_types")

    def model_asked(self, text: str) -> Optional[str]:
        """DISC or Social Styles, by ui.yaml's model_words as whole words ("discover" and "discuss" are not DISC)."""
        norm = normalise(text)
        for key, words in self.kb.ui.model_words.items():
            for word in (normalise(w) for w in words.en + words.zh):
                if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", norm) if word.isascii() else word in norm:
                    return key
        return None

    def model_code(self, text: str, model: str) -> Optional[str]:
        """The code asked about: 'high D', 'D型', 'an I', 'Amiable', '亲和型'."""
        if model == "disc":
            m = re.search(
                r"(?:high|a|an|the|高)\s*([disc])(?![a-z])|(?<![a-z])([disc])\s*(?:型|类|type|style|profile)|"
                r"(?:^|\s|[\u4e00-\u9fff])([DISC])(?:\s|$|\?|？|[\u4e00-\u9fff])",
                text,
                re.I,
            )
            letter = next((g for g in (m.groups() if m else ()) if g), None)
            return letter.upper() if letter else None
        norm = normalise(text)
        for code in _MODELS["social_styles"][1]:
            if re.search(rf"\b{code.lower()}\b", norm):
                return code
        return next((code for zh, code in _ZH_STYLE_NAMES.items() if zh in norm), None)

    def model_types(self, model: str, code: str, lang: str) -> Answer:
        label = _MODELS[model][0]
        matches = []
        for type_id, t in self.kb.types.items():
            link = getattr(t.models, model)
            parts = [p.strip() for p in re.split(r"[/,+]", link.code)]
            if code in parts:
                matches.append((parts.index(code), type_id, local(link, lang)))
        if not matches:
            return Answer().say(self.kb.text("model_none", lang, code=code, model=label))
        lines = [self.kb.text("model_types", lang, code=code, model=label)]
        lines += [f"• {self.kb.type_name(type_id, lang)}: {first_sentence(why, lang)}" for _, type_id, why in sorted(matches)]
        reply = Answer().say("\n".join(lines))
        for _, type_id, _why in sorted(matches)[:4]:
            reply.button(self.kb.type_name(type_id, lang), "ask_knowledge", type_id=type_id)
        return reply

    def type_info(self, type_id: str, lang: str, models_first: bool = False) -> Answer:
        t = self.kb.types[type_id]
        model_line = (
            f"DISC ({t.models.disc.code}): {local(t.models.disc, lang)}\n"
            f"{self.kb.text('model_social_styles', lang)} ({t.models.social_styles.code}): "
            f"{local(t.models.social_styles, lang)}"
        )
        reply = Answer()
        if models_first:
            reply.say(f"{local(t.names, lang)}\n{model_line}")
        else:
            reply.say(f"{local(t.names, lang)}: {local(t.summary, lang)}", local(t.psychology, lang), model_line)
        return reply.button(self.kb.text("btn_practise_type", lang), "start_practice", type_id=type_id).button(
            self.kb.text("btn_types", lang), "list_types"
        )

    def compare(self, a: str, b: str, lang: str) -> Answer:
        """Two types side by side: what each is, how to tell them apart, what changes in the approach."""
        ta, tb = self.kb.types[a], self.kb.types[b]
        na, nb = self.kb.type_name(a, lang), self.kb.type_name(b, lang)
        head = [
            self.kb.text("compare_head", lang, a=na, b=nb),
            f"• {na}: {first_sentence(local(ta.summary, lang), lang)}",
            f"• {nb}: {first_sentence(local(tb.summary, lang), lang)}",
        ]
        tell, approach = self.tell_apart_lines(a, b, lang)
        reply = Answer().say("\n".join(head), "\n".join(tell), "\n".join(approach))
        return (
            reply.button(na, "ask_knowledge", type_id=a)
            .button(nb, "ask_knowledge", type_id=b)
            .button(self.kb.text("btn_types", lang), "list_types")
        )

    def tell_apart_lines(self, a: str, b: str, lang: str) -> Tuple[List[str], List[str]]:
        """How to tell two types apart and what changes in the approach: the cards' tell-apart part (what each
        does, the question that separates them, the advice) for neighbours; their leading cue and first opening
        tactic for types the cards do not list as neighbours."""
        ta, tb = self.kb.types[a], self.kb.types[b]
        na, nb = self.kb.type_name(a, lang), self.kb.type_name(b, lang)
        pair = self.kb.tell_apart(a, b)
        if pair.neighbours:
            tell = [
                self.kb.text("compare_tell", lang),
                f"• {na}: {local(pair.behaviour_a, lang)}",
                f"• {nb}: {local(pair.behaviour_b, lang)}",
                self.kb.text("compare_question", lang, question=local(pair.question, lang)),
            ]
            approach = [
                self.kb.text("compare_approach", lang),
                f"• {na}: {local(pair.advice_a, lang)}",
                f"• {nb}: {local(pair.advice_b, lang)}",
            ]
            return tell, approach
        quote = QUOTED[lang]
        tell = [
            self.kb.text("compare_tell", lang),
            f"• {na}: " + quote.format(local(ta.cues, lang)[0]),
            f"• {nb}: " + quote.format(local(tb.cues, lang)[0]),
        ]
        approach = [
            self.kb.text("compare_approach", lang),
            f"• {na}: {local(ta.tactics.opening[0], lang)}",
            f"• {nb}: {local(tb.tactics.opening[0], lang)}",
        ]
        return tell, approach

    # topics ------------------------------------------------------------------------
    def topic_named(self, text: str) -> Optional[str]:
        """A topic the message names by its title or an alias, with no full-text guess: for messages NLU did not
        place ("a big client left us for a competitor, how do I get them back?")."""
        norm = normalise(text)
        hits = mentions(norm, {i: [t.title.en, t.title.zh, *t.aliases.en, *t.aliases.zh] for i, t in self.kb.topics.items()})
        return hits[0][1] if hits else None

    @staticmethod
    def _asks_one_point(text: str) -> bool:
        return item_number(text) is not None

    def topic(self, topic_id: str, state: ConversationState, section_id: Optional[str] = None) -> Answer:
        """The topic's points as a numbered list (titles and a first sentence), or one point in full."""
        topic, lang = self.kb.topics[topic_id], state.lang
        state.topic, state.topic_shown = topic_id, []
        if section_id:
            index = next((n for n, s in enumerate(topic.sections) if s.id == section_id), None)
            if index is not None:
                return self.point(index, state)
        lines = [f"{local(s.title, lang)}: {first_sentence(local(s.body, lang), lang)}" for s in topic.sections]
        reply = Answer().say(f"{local(topic.title, lang)}\n{local(topic.summary, lang)}")
        reply.say("\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1)))
        reply.say(self.kb.text("topic_pick", lang))
        for n, section in enumerate(topic.sections[:4], 1):
            reply.button(f"{n}. {local(section.title, lang)}", "show_more", item=str(n))
        return reply.button(self.kb.text("btn_more", lang), "show_more")

    def point(self, index: int, state: ConversationState) -> Answer:
        topic, lang = self.kb.topics[state.topic or ""], state.lang
        section = topic.sections[index]
        state.topic_shown = sorted(set(state.topic_shown) | {index})
        body = f"{index + 1}. {local(section.title, lang)}\n{local(section.body, lang)}"
        if section.advice:
            body += f"\n{self.kb.text('advice', lang)}: {local(section.advice, lang)}"
        if section.signs:
            body += "\n" + "\n".join(f"• {s}" for s in local(section.signs, lang))
        reply = Answer().say(body)
        following = [n for n in range(index + 1, len(topic.sections)) if n not in state.topic_shown] or [
            n for n in range(len(topic.sections)) if n not in state.topic_shown
        ]
        if following:
            nxt = following[0]
            reply.button(f"{nxt + 1}. {local(topic.sections[nxt].title, lang)}", "show_more", item=str(nxt + 1))
            reply.button(self.kb.text("btn_more", lang), "show_more")
        else:
            reply.say(self.kb.text("topic_done", lang, title=local(topic.title, lang)))
        return reply

    def more(self, text: str, state: ConversationState, item: Optional[str] = None) -> Optional[Answer]:
        """'more' / 'the third one' on the open topic; None when no topic is open (the caller decides)."""
        if not state.topic or state.topic not in self.kb.topics:
            return None
        sections = self.kb.topics[state.topic].sections
        number = int(item) if item and item.isdigit() else item_number(text)
        if number == LAST:
            number = len(sections)
        if number is not None:
            if 1 <= number <= len(sections):
                return self.point(number - 1, state)
            return None
        after = max(state.topic_shown, default=-1)
        following = [n for n in range(len(sections)) if n > after and n not in state.topic_shown] or [
            n for n in range(len(sections)) if n not in state.topic_shown
        ]
        if not following:
            return Answer().say(self.kb.text("topic_done", state.lang, title=local(self.kb.topics[state.topic].title, state.lang)))
        return self.point(following[0], state)
