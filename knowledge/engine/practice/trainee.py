"""What a message sent during a session is: a command, a question to the coach, out of role, or a reply to
the customer; and the plain facts about a reply (too short, only agreement, concrete, only a greeting)."""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from ...schema import LANGS, QUESTION_TOPICS, Scene, local
from ...text import han_count, has_words, normalise
from .. import clauses
from ..lookup import mentions, type_in
from ..replies import ReplyScore, is_question, text_units
from ..runtime import Engine
from .tuning import COACH_INTENTS, COMMANDS, OFF_ROLE_INTENTS, TUNING, Tuning


class TraineeText:
    """Reads a trainee's message as the session needs it; the knowledge base's word lists (ui.yaml answers)."""

    def __init__(self, engine: Engine, scenes: Dict[str, Scene], tune: Tuning = TUNING):
        self.engine = engine
        self.kb = engine.kb
        self.scenes = scenes
        self.tune = tune
        self.moves = {m.id: m for m in self.kb.moves.moves}
        self.vocab = self._known_words()

    def trade_in(self, text: str) -> Optional[str]:
        if not text:
            return None
        hits = mentions(normalise(text), {k: [*v.aliases.en, *v.aliases.zh] for k, v in self.kb.ui.trades.items()})
        return hits[0][1] if hits else None

    def asked_topics(self, text: str) -> List[str]:
        """What the reply's questions ask about (schema QUESTION_TOPICS, most specific first): "what budget did you have in
        mind?" asks budget, 「家里几口人？」 people. A tag question ("…, right?", 「…，对吗？」) asks about the clause before it."""
        norm = normalise(text)
        spans = [c for c in clauses.split(norm) if has_words(c.text)]
        asked: List[str] = []
        for i, c in enumerate(spans):
            if is_question(c.text, norm[c.end : c.end + 1]):
                asked.append(c.text)
                if i and text_units(c.text) <= self.tune.tag_question_units:
                    asked.append(spans[i - 1].text)
        return [t for t in QUESTION_TOPICS if any(self.says(q, f"asks_{t}") for q in asked)]

    def turn_asked(self, text: str, bare: bool = False) -> Optional[int]:
        """Which reply a "why?" asks about: its number ("reply 4", 「第4句」, 1-based), 0 for the last one ("why was that
        reply only 5?", 「为什么这句只有6分」, a score out of ten); None when it asks about something else, or about the
        session ("why did I get 93?"). `bare`: a plain "why?" / 「为什么？」 counts (right after a reply's score)."""
        norm = normalise(text)
        if not self.says(norm, "score_why"):
            return None
        numbered = re.search(r"(?:reply|line|answer|response)\s*#?\s*(\d{1,2})\b|第\s*(\d{1,2}|[一二三四五六七八九十])\s*[句条个]", norm)
        if numbered:
            raw = numbered.group(1) or numbered.group(2)
            return int(raw) if raw.isdigit() else "一二三四五六七八九十".index(raw) + 1
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d)?", norm)]
        if any(n > 10 for n in numbers):
            return None  # a session's score
        # a number is a score only said as one ("only 5", "3/10", "5 points", 「6分」), not "why not the 5-seater?"
        scored = self.says(norm, "score_words") or bool(re.search(r"/\s*10\b|\bonly\s+\d|只有\s*\d|才\s*\d", norm))
        if (numbers and scored) or self.says(norm, "turn_words"):
            return 0
        rest = re.sub(r"[\W_]+", "", norm)
        whys = [re.sub(r"[\W_]+", "", normalise(w)) for w in self.words("score_why")]
        return 0 if bare and rest in whys else None

    def command(self, text: str, intent: str) -> Optional[str]:
        """Hint, rubric or end: a button payload, the bare command word, or a short message the NLU read as one.
        A reply that merely contains the word ("the offer ends today", "早鸟价结束了") stays a reply."""
        if text.startswith("/") and text[1:].split("{")[0] in COMMANDS:
            return COMMANDS[text[1:].split("{")[0]]
        bare = re.sub(r"[\W_]+", "", normalise(text))
        words = {
            re.sub(r"[\W_]+", "", normalise(local(self.kb.ui.texts[f"cmd_{k}"], lang))): k
            for k in ("hint", "rubric", "end")
            for lang in LANGS
        }
        if bare in words:
            return words[bare]
        if intent in COMMANDS and len(bare) <= self.tune.command_chars:
            return COMMANDS[intent]
        return None

    def _known_words(self) -> set:
        """Every word the content uses: a message made mostly of other words is nonsense, not a reply."""
        texts: List[str] = []
        for lang in LANGS:
            for m in self.kb.moves.moves:
                texts += local(m.examples, lang) + local(m.keywords, lang)
            for t in self.kb.types.values():
                texts += local(t.cues, lang)
            for scene in self.scenes.values():
                for key in ("openings", "needs", "questions", "prompts", "ready"):
                    texts += local(getattr(scene, key), lang)
        for t in self.kb.types.values():
            texts += ["".join(local(p, lang) for lang in LANGS) for p in t.phrases]
        words = set()
        for text in texts:
            norm = normalise(text)
            words.update(re.findall(r"[a-z']{2,}", norm))
            words.update(ch for ch in norm if han_count(ch))
        return words

    def off_role(self, text: str, intent: str) -> bool:
        """Not a reply to the customer: a question to the bot, or nonsense."""
        if not has_words(text):
            return True
        if intent in OFF_ROLE_INTENTS and not self.makes_move(text):
            return True
        norm = normalise(text)
        if mentions(norm, {"off": self.words("out_of_role")}):
            return True
        if type_in(self.kb, text) and mentions(norm, {"meaning": self.words("asks_meaning")}):
            return True  # "what does a picky customer mean?": a question about the course
        units = re.findall(r"[a-z']{2,}", norm) + [ch for ch in norm if han_count(ch)]
        if not units:
            return False
        if len(units) >= 3 and len(set(units)) == 1:  # "哈哈哈哈", "lol lol lol"
            return True
        known = sum(u in self.vocab for u in units) / len(units)
        return known < self.tune.known_words

    def asks_coach(self, text: str, intent: str) -> bool:
        """A question to the coach about the customer or the type ("what should I avoid with this type?",
        「这种客户我应该避免什么？」), not to the customer: the customer in the third person, or a coaching intent
        or a named type with a coach_asks phrase. "What matters most to you?" speaks to the customer and stays a reply."""
        norm = normalise(text)
        polite = han_count(norm) and self.says(norm, "addresses_customer")  # 「您这种客户」 is said to the customer
        if self.says(norm, "about_the_customer") and not polite:
            return True
        if self.says(norm, "addresses_customer"):
            return False
        asks = self.says(norm, "coach_asks")
        coaching = intent in COACH_INTENTS
        if self.says(norm, "this_customer") and (asks or coaching):
            return True
        return asks and (coaching or bool(type_in(self.kb, text)))

    def says(self, norm: str, key: str) -> bool:
        """One of the ui word list's phrases, English as whole words ("her" is not "here")."""
        for phrase in self.words(key):
            p = normalise(phrase)
            if re.search(rf"\b{re.escape(p)}\b", norm) if p.isascii() else p in norm:
                return True
        return False

    def makes_move(self, text: str) -> bool:
        """The scorer reads a sales move clearly enough to believe it over an NLU intent meant for the bot."""
        return max((c for c, _ in self.engine.scorer.detect(text).values()), default=0.0) >= self.tune.move_for_sure

    def pushes(self, result: ReplyScore) -> bool:
        """Clear pressure ("Buy now!", 「快签！」): short, but a move the customer reacts to, not a non-answer."""
        return any(
            self.moves[m.move].reaction == "pressure" and m.weight < 0 and m.confidence >= self.tune.pressure_sure for m in result.clear
        )

    def words(self, key: str) -> List[str]:
        words = self.kb.ui.answers[key]
        return [*words.en, *words.zh]

    def thin(self, text: str) -> bool:
        """Agreement and little else ("ok let's do it then", 「好吧，那就给您便宜点」): no content to score."""
        norm = normalise(text).strip()
        if self.concrete(text):
            return False
        if han_count(norm):
            lead = [w for w in self.kb.ui.answers["agreement_filler"].zh if norm.startswith(w)]
            return bool(lead) and han_count(norm[len(max(lead, key=len)) :]) < self.tune.thin_units_zh
        words = re.findall(r"[a-z0-9']+", norm)
        lead = [w for w in self.kb.ui.answers["agreement_filler"].en if words[: len(w.split())] == w.split()]
        return bool(lead) and len(words) - len(max(lead, key=len).split()) < self.tune.thin_units_en

    def concrete(self, text: str) -> bool:
        """A number or a named extra, fix or guarantee: something the customer can hold the salesperson to."""
        norm = normalise(text)
        return bool(re.search(r"\d|[一二三四五六七八九十两百千万半][折成块元万千百个年月天次倍%]", norm)) or bool(
            mentions(norm, {"concrete": self.words("concrete_offer")})
        )

    def short(self, text: str) -> bool:
        han = han_count(text)
        if han:
            return han < self.tune.short_han_zh
        return len(re.findall(r"[A-Za-z']+", text)) < self.tune.short_words_en

    def greeting_only(self, text: str, result: ReplyScore) -> bool:
        """A greeting with nothing that moves the sale (no question, evidence, offer or close)."""
        norm = normalise(text)
        greets = mentions(norm, {"g": [*self.kb.ui.answers["greeting"].en, *self.kb.ui.answers["greeting"].zh]})
        moving = [m for m in result.clear if self.moves[m.move].reaction in ("question", "evidence", "offer", "close")]
        return bool(greets) and not moving
