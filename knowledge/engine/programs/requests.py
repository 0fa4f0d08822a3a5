"""What a programme message says: a level, or a manager's assignment in words ("assign the suspicious customer in
cars, pass mark 75, by Friday, to my team", 「给全组布置：疑心型客户，汽车，75分及格，周五前」).

Each part is read on its own and may be missing (the buttons then ask for it); nothing here decides who may assign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, List, Optional, Sequence

from ...schema import TRADES
from ...store import KnowledgeBase
from ...text import normalise
from ..lookup import named_in_order, type_names
from ..reading import says
from .content import ProgramWords, Words

MAX_DUE_DAYS = 366  # "in 500 days" is a slip, not a plan
MAX_ATTEMPTS = 10
MIN_PASS_MARK, MAX_PASS_MARK = 1, 100

# a number said as the pass mark: "pass mark 75", "75 to pass", 「75分及格」, 「及格线80」
PASS_NUMBER = re.compile(r"(\d{1,3})\s*(?:分|points?|pts|%)|(?:mark|score|at|with|least|线|格)\s*(?:of\s*)?(\d{1,3})\b")
ATTEMPTS_NUMBER = re.compile(r"(\d{1,2})\s*(?:attempts?|times|tries|sessions|rounds|次)|(?:练|做)\s*(\d{1,2})\s*(?:遍|次)")
IN_DAYS = re.compile(r"\bin\s+(\d{1,3})\s+days?\b|(\d{1,3})\s*(?:天内|天之内|天后|日内)|within\s+(\d{1,3})\s+days?")
ISO_DAY = re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
ZH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
MONTH_NAMES = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
EN_DAY = re.compile(rf"\b{MONTH_NAMES}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_NAMES}\b")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def both(words: Words) -> List[str]:
    return list(words.en) + list(words.zh)


@dataclass
class AssignmentRequest:
    """The parts of an assignment a message gives; None (or empty) for a part it does not say."""

    type_id: Optional[str] = None
    trade: Optional[str] = None
    level: Optional[str] = None
    pass_mark: Optional[int] = None
    attempts: Optional[int] = None
    due: Optional[str] = None  # an ISO day, or "" for "no due date"
    team: bool = False  # "to my team"
    people: List[str] = field(default_factory=list)  # the names of team members it names
    exam: bool = False

    def as_draft(self) -> Dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False, [])}


class ProgramReader:
    def __init__(self, kb: KnowledgeBase, words: ProgramWords):
        self.kb = kb
        self.words = words
        self.level_words = {level: both(w) for level, w in words.levels.items()}
        self.trade_words = {tid: list(t.aliases.en) + list(t.aliases.zh) + [t.names.en, t.names.zh] for tid, t in kb.ui.trades.items()}
        self.type_words = type_names(kb)

    def says(self, norm: str, key: str) -> bool:
        return says(norm, both(getattr(self.words, key)))

    def level(self, norm: str) -> Optional[str]:
        """The level a message names in a level's own words ("on hard", 「困难模式」); None for none or two."""
        found = [level for level, phrases in self.level_words.items() if says(norm, phrases)]
        return found[0] if len(found) == 1 else None

    def asks_levels(self, norm: str) -> bool:
        return self.says(norm, "level_nouns")

    def type_in(self, norm: str) -> Optional[str]:
        found = named_in_order(norm, self.type_words)
        return found[0] if found else None

    def trade_in(self, norm: str) -> Optional[str]:
        found = [t for t in named_in_order(norm, self.trade_words) if t in TRADES]
        return found[0] if found else None

    def request(self, text: str, today: date, members: Sequence[Dict[str, str]] = ()) -> AssignmentRequest:
        """Every part of an assignment the message says. `today` is the day in the team's time zone (due dates
        are days there); `members` the team's people ({user, name}), to find a name said ("to Alice", 「给小王」)."""
        norm = normalise(text)
        req = AssignmentRequest(type_id=self.type_in(norm), trade=self.trade_in(norm), level=self.level(norm))
        req.exam = self.says(norm, "exam")
        req.team = self.says(norm, "team")
        req.pass_mark = self.pass_mark(norm)
        req.attempts = self.attempts(norm)
        req.due = self.due(norm, today)
        for m in members:
            name = normalise(m.get("name") or "")
            if len(name) >= 2 and (re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", norm) if name.isascii() else name in norm):
                req.people.append(m["user"])
        return req

    def pass_mark(self, norm: str) -> Optional[int]:
        if not self.says(norm, "pass_mark"):
            return None
        rest = ATTEMPTS_NUMBER.sub(" ", IN_DAYS.sub(" ", ZH_DAY.sub(" ", ISO_DAY.sub(" ", norm))))
        for m in PASS_NUMBER.finditer(rest):
            value = int(m.group(1) or m.group(2))
            if MIN_PASS_MARK <= value <= MAX_PASS_MARK:
                return value
        numbers = [int(n) for n in re.findall(r"\d{1,3}", rest) if MIN_PASS_MARK <= int(n) <= MAX_PASS_MARK]
        return numbers[0] if len(numbers) == 1 else None

    def attempts(self, norm: str) -> Optional[int]:
        m = ATTEMPTS_NUMBER.search(norm)
        if not m:
            return None
        value = int(m.group(1) or m.group(2))
        return value if 1 <= value <= MAX_ATTEMPTS else None

    def due(self, norm: str, today: date) -> Optional[str]:
        """The due day a message names: a weekday (the next one, today's counts as next week's), tomorrow, next
        week, in N days, a date (this year's, or next year's when it has passed)."""
        m = ISO_DAY.search(norm)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                return None
        m = ZH_DAY.search(norm)
        if m:
            return self._this_or_next_year(today, int(m.group(1)), int(m.group(2)))
        m = EN_DAY.search(norm)
        if m:
            month = MONTHS.index((m.group(1) or m.group(4))[:3]) + 1
            return self._this_or_next_year(today, month, int(m.group(2) or m.group(3)))
        m = IN_DAYS.search(norm)
        if m:
            days = int(next(g for g in m.groups() if g))
            return (today + timedelta(days=days)).isoformat() if 0 < days <= MAX_DUE_DAYS else None
        if says(norm, both(self.words.tomorrow)):
            return (today + timedelta(days=1)).isoformat()
        for weekday in range(7):
            names = list(self.words.weekdays.en[weekday]) + list(self.words.weekdays.zh[weekday])
            if says(norm, names):
                ahead = (weekday - today.weekday()) % 7 or 7
                return (today + timedelta(days=ahead)).isoformat()
        if says(norm, both(self.words.next_week)):
            return (today + timedelta(days=7)).isoformat()
        return None

    @staticmethod
    def _this_or_next_year(today: date, month: int, day: int) -> Optional[str]:
        try:
            this = date(today.year, month, day)
            return (this if this >= today else date(today.year + 1, month, day)).isoformat()
        except ValueError:
            return None
