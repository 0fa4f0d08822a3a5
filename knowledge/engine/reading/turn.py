"""One message, read once: everything the router and the coaching need to know about what the user said.

`Reader.read` turns a UserTurn (the text and NLU's intent) into a `Reading`. Cheap facts (language, the text
normalised once, question, negation) are read at once; the rest (the types, topics, stages and saved customers it
names, the trade, a social line, the identification) is read the first time it is asked for and kept for the
turn, so the identifier runs at most once per text per turn (`TurnIdentifier`). Nothing here changes what the
conversation remembers: the router decides what a reading means in context (dialogue.py: the routing table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...schema import LANGS, TRADES
from ...store import KnowledgeBase
from ...text import clean, detect_lang, han_count, has_words, normalise
from ...userdata import UserData
from .. import clauses
from ..identify import Identification, Identifier
from ..lookup import mentions, named_in_order, saved_customer_in, topic_in, type_names
from ..situations import find_situation
from ..state import ConversationState, UserTurn
from ..wording import pronoun_in, script_of

SHORT_LETTERS = 3  # "B", "ok": too short to say which language the user writes in, so the conversation's stays
QUESTION = re.compile(
    r"[?？]|\b(how|what|why|which|when|should)\b|怎么|如何|为什么|哪些|什么|吗|要不要|能不能|可不可以|该不该|"
    r"(?:^|[.!;]\s+)\W*(?:(?:ok|so|and|but|well|wait|hmm)\W+)*"
    r"(?:(?:will|would|can|could|shall)\s+(?!not\b|rather\b)\w+|(?:do|does|did|is|are|was)\s+(?:i|you|we|he|she|they|it|my|this|that)\b)",
    re.I,
)
NEGATION = re.compile(r"\b(?:not|no|never|nope|nah|don'?t|doesn'?t|isn'?t|won'?t|can'?t)\b|n't|[不没别]")
COMPARING = re.compile(r"\b(differen\w*|differ|diff|compare\w*|vs\.?|versus|tell (?:them )?apart)\b|区别|区分|不同|差别|比较", re.I)
NEW_CUSTOMER_REACH = 12  # "ok so, another customer: ..." - the marker opens the message
# a person introduced near the opening ("then there's this woman who...", 「另外一个事，有个小姑娘…」): letters from
# the start, and words (characters) between the introducing head and the person word ("this older chinese woman")
INTRO_REACH = {"en": 16, "zh": 8}
INTRO_GAP = {"en": 3, "zh": 6}
OTHER_MEETING_TIME = re.compile(r"\b(?:around|at|about)\s+\d{1,2}(?::\d\d)?\s*(?:am|pm|ish)?\b|\d{1,2}\s*点")  # "around 3", 「3点」
# meeting notes: this many sentences or lines, and this long, are read as one description (persona 6's notes were
# 17 lines, 1,566 letters; the longest description in the dev, held-out and shared conversations is 95 letters in
# English and 23 characters in Chinese, so ordinary descriptions stay far below)
LONG_NOTE_SENTENCES = 4
LONG_NOTE_CHARS = {"en": 240, "zh": 60}
# "I sell cars", "I'm in insurance", 「我是卖房的」「我做保险」: where a trade is said outright
TRADE_STATEMENT = re.compile(
    # "I don't sell CRM, it's HR software": what follows the correction is what they sell
    r"\b(?:don'?t|do not|not)\s+sell(?:ing)?\b[^,.;!?]*?(?:[,.;!?]|\s-\s)\s*(?:it'?s|it is|they'?re|we do|i do|just|only)\s+(.{0,40})|"
    r"\b(?:i|we)\s*(?:'m|am|are)?\s*(?:sell(?:ing)?|work(?:ing)?\s+(?:in|at|for)|in|do|an?)\b(.{0,40})|"
    r"(?:我|我们)(?:是|在|也)?(.{0,5}?(?:卖|做|搞|干|从事).{0,12})|"
    r"(?:我|我们)(?:是|在)(.{0,10}?(?:顾问|销售|代理|经纪|中介|业务员|经理))",
    re.I,
)
# what a trade statement sells, up to the first pause: "cosmetics btw, B2C retail" -> "cosmetics"
_TRADE_OBJECT_END = re.compile(
    r"[,.;:!?，。；：！？]|\b(?:btw|but|and|so|now|too|also|by the way|not|rather than|instead of)\b|(?:的|，|啊|呢|吧|不是)"
)
_LEAD_IN = r"^(?:\W*(?:ok|okay|oh|btw|also|and|so|well|actually|by the way|fyi|wait|no|nope|nah|sorry|hmm|um|yeah|yes)\b)*\W*"
_STATEMENT_SELLS = re.compile(
    _LEAD_IN + r"(?:i|we)\s*(?:sell|am selling|are selling|'m selling)\s+(.+)$|"
    r"^(?:(?:对了|顺便说一下|另外|不对|不是|其实|哦|嗯|等等)\W*)*(?:我|我们)(?:是)?(?:卖|做|搞)(.+?)(?:的)?$",
    re.I,
)
BUTTON_INTENT = re.compile(r"^/([A-Za-z_]+)")


class TurnIdentifier:
    """The identifier with a memory for the current turn: the same text is identified once however many
    readers ask (the router, the coaching, the corrections); `begin_turn` forgets the last turn's."""

    def __init__(self, identifier: Identifier):
        self.identifier = identifier
        self._memo: Dict[str, Identification] = {}
        self.calls = 0  # how often the model ran this turn (tests/test_reading.py holds it to one per text)

    def begin_turn(self) -> None:
        self._memo, self.calls = {}, 0

    def identify(self, raw: object) -> Identification:
        key = clean(raw)
        if key not in self._memo:
            self.calls += 1
            self._memo[key] = self.identifier.identify(key)
        return self._memo[key]

    def __getattr__(self, name: str) -> Any:  # nearest_cue, classes, ...: the identifier's own
        return getattr(self.identifier, name)


def words(kb: KnowledgeBase, key: str) -> List[str]:
    """ui.yaml's word list `answers.<key>`, both languages."""
    w = kb.ui.answers[key]
    return list(w.en) + list(w.zh)


def says(norm: str, phrases: Sequence[str], affirmed: bool = False) -> bool:
    """Any phrase occurs; English phrases as whole words ("her" is not in "here"). `affirmed`: only where it is not
    negated ("not the leaderboard", 「不要排行榜」)."""
    for phrase in phrases:
        p = normalise(phrase)
        if not p:
            continue
        m = re.search(rf"(?<![a-z']){re.escape(p)}(?![a-z])", norm) if p.isascii() else None
        pos = m.start() if m else (norm.find(p) if not p.isascii() else -1)
        if pos >= 0 and not (affirmed and clauses.negated_at(norm, pos)):
            return True
    return False


def without(norm: str, phrases: Sequence[str]) -> str:
    """The text with every phrase taken out (longest first), English as whole words."""
    rest = norm.replace("’", "'")
    for p in sorted({normalise(x) for x in phrases if x.strip()}, key=len, reverse=True):
        rest = re.sub(rf"(?<![a-z']){re.escape(p)}(?![a-z'])", " ", rest) if p.isascii() else rest.replace(p, " ")
    return rest


def substance(text: str) -> int:
    """Letters and Chinese characters left: how much a remainder still says."""
    return len(re.findall(r"[a-z0-9\u4e00-\u9fff]", text))


def labels_of(t: Any, type_id: str) -> List[str]:
    """A type's labels: its names (and their parts), its id, one-word English aliases, Chinese aliases ending in 型."""
    names = [t.names.en, *(p.strip() for p in t.names.en.split("/")), t.names.zh, t.names.zh.removesuffix("型")]
    names += [type_id.replace("_", " "), type_id.replace("_", "-"), type_id]
    # one-word English aliases, but not verb forms ("cutting" in "kept cutting me off" describes, it names nothing)
    names += [a for a in t.aliases.en if " " not in a.strip() and not a.endswith("ing")] + [a for a in t.aliases.zh if a.endswith("型")]
    names += [n.replace("-", " ") for n in names if "-" in n]  # "opinion driven" as typed
    return [n for n in names if len(n) >= 2]


@dataclass
class Reading:
    """One message as understood: what was written, what NLU said, and what it names, asks or answers."""

    text: str  # cleaned, as written (a button's payload as sent)
    norm: str  # the form the engine analyses: Simplified, lower-case, full-width folded
    intent: str  # NLU's intent (a button's own)
    confidence: float
    entities: Dict[str, str]
    is_button: bool
    has_words: bool
    lang: Optional[str]  # the message's language, None when too short to tell (the conversation's stays)
    script: Optional[str]  # 'hans' | 'hant' for Chinese, None when not Chinese or not telling
    question: bool
    negated: bool
    reader: Reader = field(repr=False)
    user: str = "anonymous"
    practising: bool = False  # a practice session runs for this user (set by the dialogue, which owns practice)
    hinted_trade: bool = False  # the trade this turn is coached in was only read from the description (a guess)
    remembered_pronoun: str = "they"  # how the customer at hand was spoken of before this message (set by the dialogue)

    # UserTurn's interface, so handlers written for a turn read a Reading the same way
    def entity(self, name: str) -> Optional[str]:
        value = self.entities.get(name)
        return value if isinstance(value, str) and value else None

    @property
    def button_intent(self) -> str:
        """The intent a '/intent{...}' payload names, whatever NLU made of an unknown one."""
        m = BUTTON_INTENT.match(self.text) if self.is_button else None
        return m.group(1) if m else ""

    # what the message names (read on first use) ---------------------------------------------------
    @cached_property
    def identification(self) -> Identification:
        return self.reader.identifier.identify(self.text)

    @cached_property
    def types_named(self) -> List[str]:
        """Every customer type the message names, in the order they appear."""
        return [] if self.is_button else self.reader.types_named(self.norm)

    @cached_property
    def types_labelled(self) -> List[str]:
        """The types the message calls by a label ("picky", "deliberate", 「挑剔型」, "fussy"), not by a
        description an alias also is ("thinks it through", 「做不了主」): what a statement of the type uses."""
        return [] if self.is_button else self.reader.types_named(self.norm, labels_only=True)

    @cached_property
    def types_affirmed(self) -> List[str]:
        """The labelled types not said not to fit: 「王先生是疑心型的，不是事不关己型」 -> suspicious."""
        return [t for t in self.types_labelled if not self.reader.type_negated(self.norm, t)]

    @cached_property
    def topic_named(self) -> Optional[str]:
        """A knowledge topic named by its title or an alias (no full-text guess)."""
        if self.is_button:
            return None
        kb = self.reader.kb
        hits = mentions(self.norm, {i: [t.title.en, t.title.zh, *t.aliases.en, *t.aliases.zh] for i, t in kb.topics.items()})
        return hits[0][1] if hits else None

    @cached_property
    def topic_searched(self) -> Optional[Tuple[str, Optional[str]]]:
        """(topic, section) by aliases, then full-text search: the topic a question is most likely about."""
        return None if self.is_button else topic_in(self.reader.kb, self.text)

    @cached_property
    def stages(self) -> List[Tuple[str, bool]]:
        """(stage, negated) for every stage named, in order: 'not opening, closing' -> opening negated, closing."""
        return [] if self.is_button else self.reader.stages_in(self.norm)

    @property
    def stage_named(self) -> Optional[str]:
        """The stage asked about: the first one named and not negated ('not the opening, the closing')."""
        return next((s for s, negated in self.stages if not negated), None)

    @cached_property
    def situation(self) -> Optional[str]:
        return None if self.is_button else find_situation(self.reader.kb, self.text)

    @cached_property
    def customer_named(self) -> Optional[Dict[str, Any]]:
        """The saved customer whose name the message contains (the longest name wins)."""
        return None if self.is_button else self.reader.saved_customer_in(self.user, self.norm)

    @cached_property
    def pronoun(self) -> Optional[str]:
        """'she' / 'he' when the message speaks of the customer so ('the lady', 「大妈」)."""
        return None if self.is_button else self.reader.pronoun_of(self.text)

    @cached_property
    def trade_statement(self) -> Tuple[Optional[str], Optional[str]]:
        """(supported trade id, words of a trade the coach has no examples for) said outright, or (None, None)."""
        return (None, None) if self.is_button else self.reader.trade_statement(self.norm, self.intent == "set_trade", self.question)

    @property
    def trade_stated(self) -> Optional[str]:
        """A supported trade said outright ("I sell cars"; anywhere in a message NLU read as set_trade)."""
        return self.trade_statement[0]

    @property
    def trade_unsupported(self) -> Optional[str]:
        """The words of a trade said outright that the coach has no examples for ("I sell phone plans")."""
        return self.trade_statement[1]

    @cached_property
    def trade_hinted(self) -> Optional[str]:
        """The one trade whose words a description uses (a guess: "knows cars better than me")."""
        return None if self.is_button else self.reader.trade_given_away(self.norm)

    @cached_property
    def new_customer(self) -> Optional[str]:
        """What follows a new-customer marker that opens the message ('another customer: quiet, ...'), '' when
        nothing does; None without a marker."""
        return None if self.is_button else self.reader.after_new_customer_marker(self.text, self.norm)

    @cached_property
    def introduces_someone(self) -> bool:
        """A person introduced at the opening without saying it is another customer ("then there's this woman who
        only wants the cheapest", 「还有个客户，一直砍价」): maybe someone new, a guess the coach asks about."""
        return not self.is_button and self.new_customer is None and self.reader.introduces_someone(self.norm)

    @cached_property
    def long_note(self) -> bool:
        """Several sentences or lines of notes (a meeting write-up): read as one description, not by its words."""
        if self.is_button:
            return False
        sentences = [s for s in re.split(r"[.!?。！？;；\n]+|\s-\s", self.text) if substance(normalise(s)) >= 3]
        size = len(re.findall(r"[\u4e00-\u9fff]", self.text)) if self.lang == "zh" else len(self.text)
        return len(sentences) >= LONG_NOTE_SENTENCES and size >= LONG_NOTE_CHARS["zh" if self.lang == "zh" else "en"]

    @cached_property
    def social(self) -> Optional[str]:
        """'thanks' | 'goodbye' | 'complaint' | 'small_talk' | 'greeting' when the message is only that."""
        return None if self.is_button or not self.has_words else self.reader.social_kind(self.norm)

    @cached_property
    def confirmation(self) -> Optional[str]:
        """'yes' | 'no' when the message answers a yes/no question, else None (neither)."""
        return None if self.is_button else self.reader.yes_or_no(self.norm)

    @cached_property
    def correction(self) -> bool:
        """Opens with correcting words and goes on: 'not quite, she's more...', '不对，他其实...'."""
        return False if self.is_button else self.reader.opens_with_correction(self.text)

    @cached_property
    def judgement_only(self) -> bool:
        """Only judges a customer ("difficult customer", 「这个客户不好对付」), shows no behaviour."""
        return False if self.is_button else self.reader.judgement_only(self.norm)

    @cached_property
    def names_a_customer(self) -> bool:
        return False if self.is_button else says(self.norm, words(self.reader.kb, "customer"))

    @cached_property
    def comparing(self) -> bool:
        return not self.is_button and bool(COMPARING.search(self.text))

    def says(self, key: str, affirmed: bool = False) -> bool:
        """One of ui.yaml's `answers.<key>` phrases occurs in the message (English as whole words); `affirmed`: and
        is not negated there."""
        return not self.is_button and says(self.norm, words(self.reader.kb, key), affirmed)

    def mentions(self, key: str) -> bool:
        """One of ui.yaml's `answers.<key>` phrases occurs, English on word starts ("practi" in "practise")."""
        return not self.is_button and bool(mentions(self.norm, {key: words(self.reader.kb, key)}))


class Reader:
    """Reads messages for one Dialogue: the knowledge base's words, the identifier, the saved customers."""

    def __init__(self, kb: KnowledgeBase, identifier: TurnIdentifier, userdata: UserData):
        self.kb = kb
        self.identifier = identifier
        self.userdata = userdata
        self._type_labels = {type_id: labels_of(t, type_id) for type_id, t in kb.types.items()}
        self._type_names = type_names(kb)

    def read(self, turn: UserTurn, state: ConversationState) -> Reading:
        is_button = turn.is_button
        text = turn.text if is_button else clean(turn.text)
        norm = text if is_button else normalise(text)
        lang, script = (None, None) if is_button else self.language(text)
        if lang is None and turn.channel_lang in LANGS:  # a button or an emoji: the page's language (its toggle)
            lang = turn.channel_lang
        return Reading(
            text=text,
            norm=norm,
            intent=turn.intent,
            confidence=turn.confidence,
            entities=dict(turn.entities),
            is_button=is_button,
            has_words=has_words(text),
            lang=lang,
            script=script,
            question=not is_button and bool(QUESTION.search(norm)),
            negated=not is_button and bool(NEGATION.search(norm)),
            reader=self,
            user=state.user,
        )

    # language --------------------------------------------------------------------------------------
    @staticmethod
    def language(text: str) -> Tuple[Optional[str], Optional[str]]:
        """(lang, script) the message is written in; (None, None) for an emoji or a letter or two."""
        if not has_words(text):
            return None, None
        if not han_count(text) and sum(ch.isalpha() for ch in text) < SHORT_LETTERS:
            return None, None
        lang = detect_lang(text, "en")
        return lang, (script_of(text, "") or None) if lang == "zh" else None

    # names -----------------------------------------------------------------------------------------
    def types_named(self, norm: str, labels_only: bool = False) -> List[str]:
        return named_in_order(norm, self._type_labels if labels_only else self._type_names)

    def without_labels(self, norm: str, type_id: str) -> str:
        """The text with the type's labels taken out (longest first)."""
        return without(norm, self._type_labels[type_id])

    def type_negated(self, norm: str, type_id: str) -> bool:
        """The type is named only to be denied: "he's not picky", 「他不是挑剔型」."""
        for name in self._type_names[type_id]:
            p = normalise(name)
            pos = norm.find(p) if len(p) >= 2 else -1
            if pos >= 0 and re.search(
                r"(?:\bnot|n't|\bnever|\bno\s+to|\bno)\s+(?:\w+\s+){0,2}$|(?:不是|不算|并不|不)\S{0,2}$", norm[max(0, pos - 16) : pos]
            ):
                return True
        return False

    def stages_in(self, norm: str) -> List[Tuple[str, bool]]:
        found: List[Tuple[int, str, bool]] = []
        for s in self.kb.ui.stages:
            best: Optional[Tuple[int, int]] = None  # (position, length) of the longest name found
            for name in (s.names.en, s.names.zh, *s.aliases.en, *s.aliases.zh):
                p = normalise(name)
                if not p:
                    continue
                m = re.search(rf"\b{re.escape(p)}", norm) if p.isascii() else None
                pos = m.start() if m else (norm.find(p) if not p.isascii() else -1)
                if pos >= 0 and (best is None or len(p) > best[1]):
                    best = (pos, len(p))
            if best is not None:
                before = norm[max(0, best[0] - 12) : best[0]]
                negated = bool(re.search(r"(?:\bnot|n't|\bno)\s+(?:the\s+|about\s+(?:the\s+)?)?$|(?:不是|不要|别|不)$", before))
                found.append((best[0], s.id, negated))
        return [(sid, neg) for _, sid, neg in sorted(found)]

    def saved_customer_in(self, user: str, norm: str) -> Optional[Dict[str, Any]]:
        return saved_customer_in(self.userdata.customers(user), norm)

    def pronoun_of(self, text: str) -> Optional[str]:
        a = self.kb.ui.answers
        return pronoun_in(text, a["she_words"].en + a["she_words"].zh, a["he_words"].en + a["he_words"].zh)

    # trades ----------------------------------------------------------------------------------------
    def _trade_aliases(self) -> Dict[str, List[str]]:
        return {tid: list(t.aliases.en) + list(t.aliases.zh) for tid, t in self.kb.ui.trades.items() if tid in TRADES}

    def trade_statement(self, norm: str, nlu_says_trade: bool, question: bool = False) -> Tuple[Optional[str], Optional[str]]:
        """What the salesperson sells, said outright: what follows "I sell" / 「我卖」 up to the first pause decides
        ("I sell cosmetics btw, B2C retail" is cosmetics, which the coach has no examples for); else a trade named
        in a statement about the salesperson ("I'm in insurance"), or anywhere when NLU read the message so, unless
        it is a question ("do you have phone shop scenes?" says nothing of what they sell). A trade said not to be
        theirs ("not sofas", 「不是卖车的」) is never taken."""
        aliases = self._trade_aliases()
        m = _STATEMENT_SELLS.match(norm)
        if m:
            clause = re.split(r"[,.;:!?，。；：！？]", next(g for g in m.groups() if g).strip(), maxsplit=1)[0]
            obj = re.sub(r"^(?:a|an|the|some)\s+", "", _TRADE_OBJECT_END.split(clause, maxsplit=1)[0].strip(" .,'\""))
            found = self._trades_affirmed(clause, aliases)
            if found:
                return found[0], None
            if 2 <= substance(obj) <= 40 and not says(obj, words(self.kb, "customer") + words(self.kb, "judgement")):
                return None, obj
        if nlu_says_trade and not question:
            scope = norm
        else:
            statement = TRADE_STATEMENT.search(norm)
            if not statement:
                return None, None
            scope = next((g for g in statement.groups() if g), "")
        found = self._trades_affirmed(normalise(scope), aliases)
        return (found[0] if found else None), None

    @staticmethod
    def _trades_affirmed(scope: str, aliases: Dict[str, List[str]]) -> List[str]:
        """The trades named in `scope`, longest alias first, leaving out those said only not to be it ("not sofas"; "I don't
        sell CRM, it's HR software" names software affirmed)."""
        kept = []
        for _, trade in mentions(scope, aliases):
            positions = [scope.find(normalise(a)) for a in aliases[trade] if normalise(a) and normalise(a) in scope]
            if any(p >= 0 and not clauses.negated_at(scope, p) for p in positions):
                kept.append(trade)
        return kept

    def trade_given_away(self, norm: str) -> Optional[str]:
        def said(word: str) -> bool:  # whole words: "car" is not in "careful"
            word = normalise(word)
            return bool(re.search(rf"\b{re.escape(word)}\b", norm)) if word.isascii() else word in norm

        trades = [tid for tid, aliases in self._trade_aliases().items() if any(said(w) for w in aliases)]
        return trades[0] if len(trades) == 1 else None

    # what the message does -------------------------------------------------------------------------
    def after_new_customer_marker(self, text: str, norm: str) -> Optional[str]:
        """What follows the marker; correcting words may come first ("no no, that's a different customer. new
        customer: a woman..."), and a second marker after the first is skipped too."""
        lead = self.without_correcting_words(text)
        if lead != clean(text) and lead:
            text, norm = lead, normalise(lead)
        rest = self._after_marker(text, norm)
        if rest:
            again = self._after_marker(rest, normalise(rest))
            rest = again if again else rest
        return rest

    def _after_marker(self, text: str, norm: str) -> Optional[str]:
        hit = None
        for word in sorted((normalise(w) for w in words(self.kb, "new_customer")), key=len, reverse=True):
            pos = norm.find(word)
            if 0 <= pos <= NEW_CUSTOMER_REACH and (not word.isascii() or re.search(rf"\b{re.escape(word)}\b", norm)):
                hit = (pos, word)
                break
        if hit is None:
            return None
        source = text if len(text) == len(norm) else norm
        return source[hit[0] + len(hit[1]) :].lstrip(" ,.:;!?，。：；！？-—")

    def introduces_someone(self, norm: str) -> bool:
        zh = bool(re.search(r"[\u4e00-\u9fff]", norm[: INTRO_REACH["en"]]))
        lang = "zh" if zh else "en"
        heads = sorted((normalise(w) for w in words(self.kb, "someone_new_heads")), key=len, reverse=True)
        people = sorted((normalise(w) for w in words(self.kb, "person_words")), key=len, reverse=True)
        head_re = "|".join(re.escape(h) for h in heads if h)
        person_re = "|".join(re.escape(p) for p in people if p)
        if zh:
            pattern = rf"(?:{head_re})[^，。,.!?！？]{{0,{INTRO_GAP['zh']}}}?(?:{person_re})"
        else:
            pattern = rf"\b(?:{head_re})\s+(?:[\w'-]+\s+){{0,{INTRO_GAP['en']}}}?(?:{person_re})\b"
        m = re.search(pattern, norm)
        return m is not None and m.start() <= INTRO_REACH[lang]

    def meets_someone_else(self, norm: str, remembered: str, question: bool = False) -> bool:
        """A person other than the remembered customer may be meant: spoken of as the other gender ("she" when
        the customer is "he"), or pointed at ("this lady", 「那个小姑娘」) with another gender or at another meeting
        ("came in around 3", 「下午」「昨天来的」)."""
        said = self.pronoun_of(norm)
        other_gender = remembered in ("he", "she") and said in ("he", "she") and said != remembered
        # 他 and 她 sound alike and are often written alike (read_pronoun); a question ("how do I get her to sign?")
        # asks about the customer at hand
        if other_gender and not han_count(norm) and not question:
            return True
        other_meeting = bool(OTHER_MEETING_TIME.search(norm)) or says(norm, words(self.kb, "other_meeting_words"))
        return (other_meeting or other_gender) and self._points_at_someone(norm)

    def _points_at_someone(self, norm: str) -> bool:
        """A demonstrative and a person word that is no mere "customer" ("this lady", 「那个小姑娘」)."""
        generic = {normalise(w) for w in words(self.kb, "customer")}
        people = sorted((normalise(w) for w in words(self.kb, "person_words") if normalise(w) not in generic), key=len, reverse=True)
        heads = sorted((normalise(w) for w in words(self.kb, "someone_pointed_heads")), key=len, reverse=True)
        head_re, person_re = "|".join(re.escape(h) for h in heads if h), "|".join(re.escape(p) for p in people if p)
        zh = rf"(?:{head_re})[^，。,.!?！？]{{0,{INTRO_GAP['zh']}}}?(?:{person_re})"
        en = rf"\b(?:{head_re})\s+(?:[\w'-]+\s+){{0,{INTRO_GAP['en']}}}?(?:{person_re})\b"
        return bool(re.search(zh, norm) or re.search(en, norm))

    def social_kind(self, norm: str) -> Optional[str]:
        """A social line and nothing else: once its words and the fillers are out, nothing is left. A complaint
        about the bot may say more ("you're kind of useless tbh"), but never speaks of a customer."""
        kinds = ("complaint", "goodbye", "thanks", "small_talk", "greeting")
        found = [k for k in kinds if says(norm, words(self.kb, f"social_{k}"))]
        if not found:
            return None
        rest = without(norm, [w for k in found for w in words(self.kb, f"social_{k}")] + words(self.kb, "social_filler"))
        if "complaint" in found:
            if self.pronoun_of(norm) is None and not says(norm, words(self.kb, "customer")) and substance(rest) <= 24:
                return "complaint"
            found.remove("complaint")
        if substance(rest) > 3:
            return None
        for kind in ("goodbye", "thanks", "small_talk", "greeting"):  # "ok thanks 拜拜": the goodbye answers both
            if kind in found:
                return kind
        return None

    def yes_or_no(self, norm: str) -> Optional[str]:
        """A yes or a no that opens the message ("no, leave it as suspicious", 「不用换」, "yes please")."""
        head = norm.strip(" .!。！,，")
        for kind in ("no", "yes"):
            for w in sorted((normalise(x) for x in words(self.kb, f"confirm_{kind}")), key=len, reverse=True):
                if head.startswith(w) and (not w.isascii() or len(head) == len(w) or not head[len(w)].isalpha()):
                    return kind
        return None

    def opens_with_correction(self, text: str) -> bool:
        rest = self.without_correcting_words(text)
        return rest != clean(text) and len(rest) >= 6 and bool(re.match(r"^\s*(not|no\b|nope|wrong|不对|不是|不太对)", clean(text), re.I))

    def without_correcting_words(self, text: str) -> str:
        """'not quite, he's more deliberate' -> 'he's more deliberate': the correcting words are no evidence."""
        correcting = words(self.kb, "correcting")
        out = clean(text)
        for _ in range(3):
            low = out.lower()
            for w in sorted(correcting, key=len, reverse=True):
                w = w.lower()
                if low.startswith(w) and (not w.isascii() or len(low) == len(w) or not low[len(w)].isalpha()):
                    out = out[len(w) :].lstrip(" ,，。.:：;；!！-—")
                    break
            else:
                break
        return out

    def judgement_only(self, norm: str) -> bool:
        """Only a judgement of the customer: once the judgement, customer and filler words are out, no word
        that could show a behaviour is left."""
        if not says(norm, words(self.kb, "judgement")):
            return False
        keys = ("judgement", "judgement_filler", "customer", "he_words", "she_words")
        rest = norm
        for word in sorted({w.lower() for k in keys for w in words(self.kb, k)}, key=len, reverse=True):
            rest = re.sub(rf"(?<![a-z']){re.escape(word)}(?![a-z])", " ", rest) if word.isascii() else rest.replace(word, " ")
        return not re.search(r"[a-z0-9\u4e00-\u9fff]", rest)
