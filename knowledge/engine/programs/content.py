"""The programmes' wording and word lists (knowledge/content/programs.yaml), validated: every text in both
languages with the same placeholders, a word list for every level, the weekdays Monday first.

Typed fields rather than a free mapping, so a text the code names and the file lacks fails the type check and
the loader, never a conversation.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Set

import yaml
from pydantic import Field, ValidationError, conint, root_validator, validator

from ... import paths
from ...loader import ContentError
from ...schema import LANGS, NonEmpty, Strict, Text, local
from ..practice.tuning import LEVELS

PROGRAMS_PATH = paths.CONTENT_DIR / "programs.yaml"


class LevelText(Strict):
    names: Text
    about: Text


class Words(Strict):
    en: List[NonEmpty] = Field(..., min_items=1)
    zh: List[NonEmpty] = Field(..., min_items=1)


class Weekdays(Strict):
    """Each language's names of the days, Monday first (datetime's weekday() order)."""

    en: List[List[NonEmpty]]
    zh: List[List[NonEmpty]]

    @validator("en", "zh")
    def seven_days(cls, v: List[List[str]]) -> List[List[str]]:
        if len(v) != 7 or not all(v):
            raise ValueError("seven days, Monday first, each with at least one name")
        return v


class ProgramWords(Strict):
    levels: Dict[str, Words]
    practice: Words
    level_nouns: Words
    certificates: Words
    my_assignments: Words
    assign: Words
    report: Words
    team: Words
    exam: Words
    pass_mark: Words
    attempts: Words
    tomorrow: Words
    next_week: Words
    weekdays: Weekdays
    team_view: Words
    leaderboard_on: Words
    leaderboard_off: Words

    @validator("levels")
    def every_level(cls, v: Dict[str, Words]) -> Dict[str, Words]:
        if set(v) != set(LEVELS):
            raise ValueError(f"levels must be exactly {list(LEVELS)}")
        return v


class ProgramTexts(Strict):
    levels_menu: Text
    level_row: Text
    btn_level: Text
    btn_type_at_level: Text
    btn_certificates: Text
    certificates_head: Text
    certificate_row: Text
    certificates_none: Text
    certificate_next: Text
    step_both: Text
    step_hard: Text
    step_normal: Text
    no_best: Text
    certificate_earned: Text
    certificates_all: Text
    btn_my_assignments: Text
    btn_assign: Text
    btn_report: Text
    btn_start_assignment: Text
    assign_not_manager: Text
    assign_no_team: Text
    assign_pick_type: Text
    assign_pick_trade: Text
    assign_pick_due: Text
    assign_unknown_person: Text
    assigned: Text
    assigned_exam: Text
    assigned_note: Text
    who_team: Text
    due_none: Text
    btn_due_days: Text
    btn_due_none: Text
    btn_any_trade: Text
    any_trade: Text
    assignments_head: Text
    assignment_row: Text
    kind_exam: Text
    no_assignments: Text
    status_todo: Text
    status_done: Text
    status_failed: Text
    status_overdue: Text
    status_running: Text
    assignment_gone: Text
    exam_taken: Text
    assignment_intro: Text
    assignment_counted_pass: Text
    report_head: Text
    report_row: Text
    report_none: Text
    someone: Text
    you: Text
    team_head: Text
    team_head_empty: Text
    team_completion: Text
    team_assignment_row: Text
    team_no_assignments: Text
    team_weakest: Text
    team_type_score: Text
    team_person_row: Text
    team_person_idle: Text
    team_page_note: Text
    team_not_manager: Text
    btn_my_progress: Text
    leaderboard_off: Text
    leaderboard_now_on: Text
    leaderboard_now_off: Text
    leaderboard_switch_refused: Text
    btn_leaderboard_on: Text
    btn_leaderboard_off: Text

    @root_validator(skip_on_failure=True)
    def same_placeholders(cls, values: dict) -> dict:
        """A text's languages fill in the same {placeholders}: the code passes one set of values."""
        for key, text in values.items():
            found = {lang: placeholders(local(text, lang)) for lang in LANGS}
            if found["en"] != found["zh"]:
                raise ValueError(f"{key}: placeholders differ between en {sorted(found['en'])} and zh {sorted(found['zh'])}")
        return values


class ProgramContent(Strict):
    default_pass_mark: conint(ge=1, le=100)  # type: ignore[valid-type]
    default_timezone: NonEmpty
    levels: Dict[str, LevelText]
    texts: ProgramTexts
    words: ProgramWords

    @validator("levels")
    def every_level(cls, v: Dict[str, LevelText]) -> Dict[str, LevelText]:
        if list(v) != list(LEVELS):
            raise ValueError(f"levels must be exactly {list(LEVELS)}, in that order")
        return v

    @validator("default_timezone")
    def known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


def placeholders(text: str) -> Set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_programs(path: Path = PROGRAMS_PATH) -> ProgramContent:
    """programs.yaml validated; ContentError naming the file and the field otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}") from exc
    try:
        return ProgramContent.parse_obj(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContentError(f"{path}: field '{'.'.join(str(x) for x in first['loc'])}': {first['msg']}") from exc


@lru_cache(maxsize=1)
def programs_content() -> ProgramContent:
    return load_programs()


def say(text: Text, lang: str, **values: object) -> str:
    """A programme text in one language, filled in."""
    return str(local(text, lang)).format(**values)
