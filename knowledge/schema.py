"""The schema every knowledge file must satisfy; a trainer's mistake fails the build with file and field named."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from pydantic import BaseModel, Extra, Field, conint, constr, create_model, root_validator, validator

LANGS = ("en", "zh")  # every language: each user-visible text has one entry per language (Text, Lists)
DEFAULT_LANG = LANGS[0]  # a conversation whose language nothing has shown yet
STAGES = ("opening", "presenting", "objections", "closing", "follow_up")
# The trades a salesperson can be in: knowledge is tagged with them, practice scenes are set in them.
TRADES = ("car", "real_estate", "insurance", "b2b_software", "retail", "education")

# Constrained scalars as aliases: to a type checker plain str and int, to pydantic the constrained types.
# Lists with a minimum length are `List[...] = Field(..., min_items=n)`, which pydantic turns into the same conlist.
if TYPE_CHECKING:
    NonEmpty = str
    Weight = int
else:
    NonEmpty = constr(strip_whitespace=True, min_length=1)
    Weight = conint(ge=-2, le=2)  # a rubric weight: -2 (hurts the sale) .. 2 (wins it)


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid


if TYPE_CHECKING:

    class Text(Strict):
        en: str
        zh: str

else:
    # One user-visible text in every language of LANGS: a field per language, made from LANGS.
    Text = create_model("Text", __base__=Strict, __module__=__name__, **{lang: (NonEmpty, ...) for lang in LANGS})


def missing_texts(data: Any, langs: Sequence[str] = LANGS, where: str = "") -> List[Tuple[str, str]]:
    """(place, language) of every text in `data` (content as read from YAML or JSON) that lacks a language of
    `langs`: a text is a mapping with an entry for every language of LANGS (Text, Lists). A language added to
    `langs` makes each of them a place to fill in; this lists them all at once, file by file."""
    found: List[Tuple[str, str]] = []
    if isinstance(data, dict):
        if all(lang in data for lang in LANGS):
            found += [(where or "/", lang) for lang in langs if data.get(lang) in (None, "", [])]
        else:
            for key, value in data.items():
                found += missing_texts(value, langs, f"{where}/{key}")
    elif isinstance(data, list):
        for n, value in enumerate(data):
            found += missing_texts(value, langs, f"{where}[{n}]")
    return found


def local(obj: object, lang: str):
    """The text (or list of texts) of a bilingual field in one language: the one way the engine reads content."""
    return getattr(obj, lang)


def _lists(min_items: int):
    """A per-language list of texts with a minimum count in each language."""

    fields: Dict[str, Any] = {lang: (List[NonEmpty], Field(..., min_items=min_items)) for lang in LANGS}
    return create_model(f"Lists{min_items}", __base__=Strict, __module__=__name__, **fields)


if TYPE_CHECKING:

    class LangLists(BaseModel):
        en: List[str]
        zh: List[str]

    Lists2 = LangLists
    Lists3 = LangLists
    Lists4 = LangLists
    Lists8 = LangLists
    Lists15 = LangLists
    Lists20 = LangLists
else:
    Lists2, Lists3, Lists4, Lists8, Lists15, Lists20 = (_lists(n) for n in (2, 3, 4, 8, 15, 20))


def _known_trades(v: List[str]) -> List[str]:
    """Trade tags must name a trade from TRADES, so the coach can match them to the salesperson's trade."""
    bad = [t for t in v if t not in TRADES]
    if bad:
        raise ValueError(f"unknown trade {bad[0]!r}; use one of {', '.join(TRADES)}")
    return v


PRICE_TACTIC_MAX_WORDS = 35  # a price tactic is read on a phone mid-negotiation (issue 12: 40-61 words was too long)


class Tactic(Text):
    tags: List[NonEmpty] = []
    trades: List[str] = []  # empty: trade-neutral, fits any trade

    _trades = validator("trades", allow_reuse=True)(_known_trades)

    @validator("tags")
    def short_price_tactic(cls, v: List[str], values: dict) -> List[str]:
        words = len(values.get("en", "").split())
        if "price" in v and words > PRICE_TACTIC_MAX_WORDS:
            raise ValueError(f"a price tactic has at most {PRICE_TACTIC_MAX_WORDS} English words (this one has {words})")
        return v


class Tactics(Strict):
    opening: List[Tactic] = Field(..., min_items=3)
    presenting: List[Tactic] = Field(..., min_items=3)
    objections: List[Tactic] = Field(..., min_items=3)
    closing: List[Tactic] = Field(..., min_items=3)
    follow_up: List[Tactic] = Field(..., min_items=3)

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
    trades: List[str] = []  # empty: trade-neutral, fits any trade
    tags: List[NonEmpty] = []  # "price": the line to say when the customer asks for a discount

    _trades = validator("trades", allow_reuse=True)(_known_trades)

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


# The typical objection a practice customer raises; each trade's scene words every kind in its own vocabulary.
NEUTRAL_SCENE = "neutral"  # the scene of any trade the coach has no scenes for (scenes/more/neutral.yaml)
OBJECTIONS = ("price", "proof", "risk", "time", "decider", "flaws", "control", "others", "focus")
# What a trainee's question asks about (ui.yaml answers asks_<topic>), and what each of a scene's needs answers (needs_about):
# the practice customer answers the question asked, not the next fact in line. Most specific first: a question that names
# two ("who will use it, and when?") is answered on the first.
QUESTION_TOPICS = ("decider", "budget", "timeline", "people", "problem", "use")
# What a practice customer reacts to; "close" is a request for the decision (answered by agreement or close_early).
MOVE_REACTIONS = ("question", "evidence", "rapport", "offer", "pressure", "close", "vague")


class Reactions(Strict):
    """What a practice customer of one type says back, keyed by what the trainee just did. Trade-neutral:
    the scene (trade, product, facts, objection wording) comes from scenes/<trade>.yaml."""

    question: Lists2  # asked about needs or invited to talk (said before the customer answers from the scene)
    evidence: Lists2  # facts, logic, documents, other buyers
    rapport: Lists2  # praise, empathy, room, choice, small talk
    offer: Lists2  # a concession or a concrete package
    pressure: Lists2  # pushing, arguing, blaming, brushing off, a flood of words
    close_early: Lists2  # asked for a decision before the objection was answered
    vague: Lists2  # a reply that says nothing ("ok", "sure", a greeting mid-sale)
    repeat: Lists2  # the same reply again
    agree: Lists2
    walk_away: Lists2
    # any_trade.yaml only: a question about something the customer already told, or about something the scene has no
    # answer for (said instead of a type's "question" preamble, which promises an answer)
    said_before: Optional[Lists2] = None
    not_thought: Optional[Lists2] = None


class CustomerRole(Strict):
    """How a type plays a practice customer: persona, reactions, typical objection, what wins them."""

    persona: Text
    warms_to: List[Text] = Field(..., min_items=3)
    cools_at: List[Text] = Field(..., min_items=3)
    openings: Lists3  # the type's first words, trade-neutral; the scene's opening line follows
    reactions: Reactions
    objection: NonEmpty  # one of OBJECTIONS
    handle_with: List[NonEmpty] = Field(..., min_items=1)  # moves that answer that objection for this type
    close_with: List[NonEmpty] = Field(..., min_items=1)  # ways of asking for the decision that suit the type
    rubric: Dict[str, Weight]

    @validator("objection")
    def known_objection(cls, v: str) -> str:
        if v not in OBJECTIONS:
            raise ValueError(f"unknown objection {v!r}; use one of {', '.join(OBJECTIONS)}")
        return v


class Scene(Strict):
    """One trade as a practice stage: product, situation, facts the customer answers questions with,
    and the wording of every kind of objection in this trade."""

    id: NonEmpty  # the trade id for a trade's first scene (scenes/<trade>.yaml), else the file name (scenes/more/<id>.yaml)
    trade: Optional[str] = None  # another scene of this trade (scenes/more/); none and id "neutral": any trade's scene
    any_product: bool = False  # names no particular product: played when the trainee sells another product of the trade
    # a place the customer can browse (shop, showroom, viewing): false for a call or the customer's home, where a type's
    # opening that browses ("Hi, sorry, I'm just looking", ui.yaml answers opening_browsing) does not fit
    browsing: bool = True
    product: Text
    setting: Text
    words: Lists4  # words that belong to this trade only: a line from another trade is caught by them
    openings: Lists2
    needs: Lists4  # answers to needs questions, in the order the customer gives them
    needs_about: List[str] = []  # what each need answers (QUESTION_TOPICS), one per need; none: any question
    questions: Lists3  # needs questions a good salesperson asks in this trade (hints and better lines)
    prompts: Lists2  # the customer invites a proposal
    ready: Lists2  # objection answered: the customer asks what comes next
    objections: Dict[str, Lists2]

    @root_validator(skip_on_failure=True)
    def known_trade(cls, values: dict) -> dict:
        trade, scene_id = values.get("trade"), values.get("id")
        if trade is None and scene_id not in (*TRADES, NEUTRAL_SCENE):
            raise ValueError(f"unknown trade {scene_id!r}; use one of {', '.join(TRADES)} (or give the scene's trade)")
        if trade is not None and trade not in TRADES:
            raise ValueError(f"unknown trade {trade!r}; use one of {', '.join(TRADES)}")
        return values

    @validator("needs_about")
    def topics_per_need(cls, v: List[str], values: dict) -> List[str]:
        needs = values.get("needs")
        unknown = [t for t in v if t not in QUESTION_TOPICS]
        if unknown:
            raise ValueError(f"unknown topics {unknown}; use {', '.join(QUESTION_TOPICS)}")
        if v and needs is not None and len(v) != min(len(needs.en), len(needs.zh)):
            raise ValueError(f"needs_about has {len(v)} topics for {min(len(needs.en), len(needs.zh))} needs: one per need")
        return v

    @validator("objections")
    def every_objection(cls, v: Dict[str, "Lists2"]) -> Dict[str, "Lists2"]:
        if set(v) != set(OBJECTIONS):
            raise ValueError(f"objections must be exactly {list(OBJECTIONS)}")
        return v


class Source(Strict):
    file: NonEmpty
    section: NonEmpty


class Sourced(Strict):
    """Where the facts come from; `general_knowledge` marks what goes beyond the seed documents."""

    sources: List[Source] = Field(..., min_items=1)
    general_knowledge: List[Text] = []


# A tell-apart sign is a button label on a phone: "Asks why it works" / 「追问原理」.
SIGN_EN_WORDS, SIGN_ZH_CHARS = 6, 12


class Sign(Text):
    """What this type does that its neighbour does not, short enough to be a button label."""

    @validator("en")
    def short_en(cls, v: str) -> str:
        if len(v.split()) > SIGN_EN_WORDS:
            raise ValueError(f"a sign is a button label: at most {SIGN_EN_WORDS} words")
        return v

    @validator("zh")
    def short_zh(cls, v: str) -> str:
        if len(v) > SIGN_ZH_CHARS:
            raise ValueError(f"a sign is a button label: at most {SIGN_ZH_CHARS} characters")
        return v


class Neighbour(Strict):
    """How to tell this type from one neighbour it is easily taken for. The neighbour's card holds the mirror
    entry with the same question (checked by the loader), so `KnowledgeBase.tell_apart` reads both sides."""

    type: NonEmpty  # the neighbour's type id
    question: Text  # the one thing the salesperson can check that separates the two
    sign: Sign  # this type's answer to the question, as a button label
    behaviour: Text  # what this customer does that the neighbour does not
    advice: Text  # what to do differently with this type than with the neighbour


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
    pitfalls: List[Pitfall] = Field(..., min_items=3)
    phrases: List[Phrase] = Field(..., min_items=6)
    models: Models
    practice: CustomerRole
    hallmark: Sign  # the type's telltale behaviour as a button label (telling it from a type that is not a neighbour)
    tell_apart: List[Neighbour] = Field(..., min_items=2, max_items=3)

    @validator("tell_apart")
    def distinct_neighbours(cls, v: List[Neighbour], values: dict) -> List[Neighbour]:
        ids = [n.type for n in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a neighbour is listed twice: {ids}")
        if values.get("id") in ids:
            raise ValueError("a type is not its own neighbour")
        return v


@dataclass(frozen=True)
class TellApart:
    """How to tell type `a` from type `b` (KnowledgeBase.tell_apart): the separating question and, per side, its
    button label (sign), what that customer does (behaviour) and what to do with them (advice). Bilingual: read
    a field with `local(field, lang)`. `neighbours` is False when the cards do not list the two as neighbours:
    then the question is the general "which sounds more like him?", the signs are the types' hallmarks, the
    behaviours their summaries and the advice their first trade-neutral opening tactic."""

    a: str
    b: str
    neighbours: bool
    question: Text
    sign_a: Text
    sign_b: Text
    behaviour_a: Text
    behaviour_b: Text
    advice_a: Text
    advice_b: Text


class Section(Strict):
    id: NonEmpty
    title: Text
    body: Text
    advice: Text  # what a salesperson does with this point, concretely (issue 24: every section has one)
    signs: Optional[Lists2] = None


class Topic(Sourced):
    id: NonEmpty
    title: Text
    aliases: Lists4
    summary: Text
    sections: List[Section] = Field(..., min_items=2)


class Move(Strict):
    id: NonEmpty
    names: Text
    description: Text
    hint: Text
    default_weight: Weight
    reaction: NonEmpty  # one of MOVE_REACTIONS: what a practice customer answers to
    # what the customer answers to when the move is read in an open question ("who else has a say?" asks about needs)
    asked_reaction: Optional[str] = None
    # kinds of objection (OBJECTIONS) this move answers in any trade, besides a type's own handle_with
    # ("take the documents home, shall we meet Thursday?" answers "we need time")
    answers: List[str] = []
    keywords: Lists8

    @validator("reaction", "asked_reaction")
    def known_reaction(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in MOVE_REACTIONS:
            raise ValueError(f"unknown reaction {v!r}; use one of {', '.join(MOVE_REACTIONS)}")
        return v

    examples: Lists20

    @validator("answers")
    def known_objections(cls, v: List[str]) -> List[str]:
        bad = [o for o in v if o not in OBJECTIONS]
        if bad:
            raise ValueError(f"unknown objection {bad[0]!r}; use one of {', '.join(OBJECTIONS)}")
        return v


class Moves(Strict):
    moves: List[Move] = Field(..., min_items=1)


class Stage(Strict):
    id: NonEmpty
    names: Text
    aliases: Lists2


class Words(Strict):
    """Words per language; either list may be empty."""

    en: List[NonEmpty] = []
    zh: List[NonEmpty] = []


class Trade(Strict):
    """A trade's name and the words that give it away ("I sell cars", "我是卖房的"). `avoid`: words coaching for
    this trade must never use (an insurance premium is not discounted; a household sale has no boss or procurement):
    an item using one is not shown to this trade's salesperson, and the loader checks every type keeps advice for
    the trade without them. `price_note`: what the trade's price talk must say whatever the type (shown with it)."""

    names: Text
    aliases: Lists2
    avoid: Words = Words()
    price_note: Optional[Text] = None


class ModelWords(Strict):
    """The words that ask about one personality model the types map to (DISC, Social Styles), per language.
    Matched as whole words, so "discover" or "discuss" never asks about DISC."""

    en: List[NonEmpty] = Field(..., min_items=1)
    zh: List[NonEmpty] = Field(..., min_items=1)


class UiText(Strict):
    """Interface wording (button labels, headings, short replies) kept out of code."""

    texts: Dict[str, Text]
    answers: Dict[str, Lists2]  # words the engine listens for: clarifying answers, a customer being described
    model_words: Dict[str, ModelWords]  # per personality model in Models (disc, social_styles): what asks about it
    stages: List[Stage] = Field(..., min_items=5)
    trades: Dict[str, Trade]
    # words no coaching text may use in any trade: a family member's gender assumed ("ask your wife", 「您太太」)
    assumed_words: Words = Words()

    @validator("trades")
    def every_trade(cls, v: Dict[str, "Trade"]) -> Dict[str, "Trade"]:
        if set(v) != set(TRADES):
            raise ValueError(f"trades must be exactly {list(TRADES)}")
        return v

    @validator("model_words")
    def every_model(cls, v: Dict[str, "ModelWords"]) -> Dict[str, "ModelWords"]:
        """One entry per model a type is mapped to, so every model can be asked about and no stray key is dead."""
        if set(v) != set(Models.__fields__):
            raise ValueError(f"model_words must be exactly {list(Models.__fields__)}")
        return v


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


# Phone-sized situation advice (set by the brief for the coach's mid-sale answers): words per English bullet
# and phrase, characters per Chinese bullet or phrase.
SITUATION_BULLET_WORDS, SITUATION_PHRASE_WORDS, SITUATION_ZH_CHARS = 30, 35, 60


class Situation(Strict):
    """Something that happens mid-sale ("he walked out", 「客户突然不回消息了」) and the words that give it away."""

    id: NonEmpty
    names: Text
    keywords: Lists3  # "..." is a short gap, "{name}" any word of the list Situations.lists[name]
    general: Text  # what holds for any customer type


class SituationBullets(Strict):
    en: List[NonEmpty] = Field(..., min_items=2, max_items=3)
    zh: List[NonEmpty] = Field(..., min_items=2, max_items=3)

    @validator("en")
    def short_en(cls, v: List[str]) -> List[str]:
        long = [b for b in v if len(b.split()) > SITUATION_BULLET_WORDS]
        if long:
            raise ValueError(f"bullet over {SITUATION_BULLET_WORDS} words: {long[0]!r}")
        return v

    @validator("zh")
    def short_zh(cls, v: List[str]) -> List[str]:
        long = [b for b in v if len(b) > SITUATION_ZH_CHARS]
        if long:
            raise ValueError(f"bullet over {SITUATION_ZH_CHARS} characters: {long[0]!r}")
        return v


class SituationPhrase(Text):
    @validator("en")
    def short_en(cls, v: str) -> str:
        if len(v.split()) > SITUATION_PHRASE_WORDS:
            raise ValueError(f"phrase over {SITUATION_PHRASE_WORDS} words")
        return v

    @validator("zh")
    def short_zh(cls, v: str) -> str:
        if len(v) > SITUATION_ZH_CHARS:
            raise ValueError(f"phrase over {SITUATION_ZH_CHARS} characters")
        return v


class SituationAdvice(Strict):
    """What to do in one situation with one customer type, and one thing to say."""

    advice: SituationBullets
    phrase: SituationPhrase


class Situations(Strict):
    """situations.yaml: the situations, the word lists their keywords refer to ("{people}"), and advice per type
    and situation (every type x every situation is checked by the loader)."""

    lists: Dict[str, Lists4]
    habit_words: Lists4  # a message with one of these describes the customer ...
    moment_words: Lists4  # ... unless it also asks what to do or tells what happens now
    situations: List[Situation] = Field(..., min_items=1)
    by_type: Dict[str, Dict[str, SituationAdvice]]
