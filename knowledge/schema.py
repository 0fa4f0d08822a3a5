"""The schema every knowledge file must satisfy; a trainer's mistake fails the build with file and field named."""

from typing import Dict, List, Optional

from pydantic import BaseModel, Extra, Field, conint, conlist, constr, validator

LANGS = ("en", "zh")
STAGES = ("opening", "presenting", "objections", "closing", "follow_up")
DOMAINS = ("real_estate", "car", "b2b_software", "insurance")

NonEmpty = constr(strip_whitespace=True, min_length=1)


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid


class Text(Strict):
    """One user-visible text in both languages."""

    en: NonEmpty
    zh: NonEmpty


def _lists(min_items: int):
    """A per-language list of texts with a minimum count in each language."""

    class Lists(Strict):
        en: conlist(NonEmpty, min_items=min_items)
        zh: conlist(NonEmpty, min_items=min_items)

    Lists.__name__ = f"Lists{min_items}"
    return Lists


Lists2, Lists3, Lists4, Lists8, Lists15 = (_lists(n) for n in (2, 3, 4, 8, 15))


class Tactic(Text):
    tags: List[NonEmpty] = []


class Tactics(Strict):
    opening: conlist(Tactic, min_items=3)
    presenting: conlist(Tactic, min_items=3)
    objections: conlist(Tactic, min_items=3)
    closing: conlist(Tactic, min_items=3)
    follow_up: conlist(Tactic, min_items=3)

    @validator("objections")
    def has_price_tactic(cls, v: List[Tactic]) -> List[Tactic]:
        if not any("price" in t.tags for t in v):
            raise ValueError("needs at least one objections tactic tagged 'price' (discount requests)")
        return v


class Pitfall(Strict):
    avoid: Text
    why: Text


class Phrase(Text):
    stage: NonEmpty

    @validator("stage")
    def known_stage(cls, v: str) -> str:
        if v not in STAGES:
            raise ValueError(f"unknown stage {v!r}; use one of {', '.join(STAGES)}")
        return v


class ModelLink(Text):
    code: NonEmpty


class Models(Strict):
    disc: ModelLink
    social_styles: ModelLink


class Lines(Strict):
    warm: Lists3
    neutral: Lists3
    cold: Lists3
    agree: Lists2
    walk_away: Lists2


class Scenario(Text):
    domain: NonEmpty


class Practice(Strict):
    persona: Text
    warms_to: conlist(Text, min_items=3)
    cools_at: conlist(Text, min_items=3)
    openings: Lists3
    lines: Lines
    rubric: Dict[str, conint(ge=-2, le=2)]
    scenarios: conlist(Scenario, min_items=4)

    @validator("scenarios")
    def all_domains(cls, v: List[Scenario]) -> List[Scenario]:
        missing = set(DOMAINS) - {s.domain for s in v}
        if missing:
            raise ValueError(f"scenarios miss the domains {sorted(missing)}")
        return v


class Source(Strict):
    file: NonEmpty
    section: NonEmpty


class Sourced(Strict):
    """Where the facts come from; `general_knowledge` marks what goes beyond the seed documents."""

    sources: conlist(Source, min_items=1)
    general_knowledge: List[Text] = []


class CustomerType(Sourced):
    id: NonEmpty
    kind: NonEmpty
    group: NonEmpty
    names: Text
    aliases: Lists4
    summary: Text
    psychology: Text
    cues: Lists15
    keywords: Lists8
    tactics: Tactics
    pitfalls: conlist(Pitfall, min_items=3)
    phrases: conlist(Phrase, min_items=6)
    models: Models
    practice: Practice


class Section(Strict):
    id: NonEmpty
    title: Text
    body: Text
    advice: Optional[Text] = None
    signs: Optional[Lists2] = None


class Topic(Sourced):
    id: NonEmpty
    title: Text
    aliases: Lists4
    summary: Text
    sections: conlist(Section, min_items=2)


class Move(Strict):
    id: NonEmpty
    names: Text
    description: Text
    hint: Text
    default_weight: conint(ge=-2, le=2)
    keywords: Lists8
    examples: _lists(20)


class Moves(Strict):
    moves: conlist(Move, min_items=1)


class Stage(Strict):
    id: NonEmpty
    names: Text
    aliases: Lists2


class UiText(Strict):
    """Interface wording (button labels, headings, short replies) kept out of code."""

    texts: Dict[str, Text]
    answers: Dict[str, Lists2]  # words the engine listens for: clarifying answers, a customer being described
    stages: conlist(Stage, min_items=5)
    domains: Dict[str, Text]


class TrainingExample(Strict):
    """One written message: a customer description with its type, facts only (type null), or, with
    about_customer false, something that is not about a customer at all (small talk, a question to the bot)."""

    text: NonEmpty
    type: Optional[str] = Field(...)
    about_customer: bool = True

    @validator("about_customer")
    def untyped_when_not_about_a_customer(cls, about: bool, values: dict) -> bool:
        if not about and values.get("type") is not None:
            raise ValueError("a message that is not about a customer has no type (use null)")
        return about
