"""Read and validate every content file; cross-file rules (ids, rubrics, taxonomy) are checked here."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type

import yaml
from pydantic import BaseModel, ValidationError

from . import paths
from .schema import (
    LANGS,
    NEUTRAL_SCENE,
    STAGES,
    TRADES,
    CustomerType,
    Moves,
    Reactions,
    Scene,
    Situations,
    Topic,
    TrainingExample,
    UiText,
    local,
)
from .text import word_used


class ContentError(ValueError):
    """A content file is invalid; the message names the file and the field."""


@dataclass
class Taxonomy:
    styles: Dict[str, Dict[str, str]]
    traits: Dict[str, Dict[str, str]]
    segments: Dict[str, Dict[str, str]]

    @property
    def type_ids(self) -> List[str]:
        return [*self.styles, *self.traits]


@dataclass
class Content:
    """Everything a trainer can edit, validated; the store is built from this."""

    taxonomy: Taxonomy
    types: Dict[str, CustomerType]
    topics: Dict[str, Topic]
    moves: Moves
    ui: UiText
    training: List[TrainingExample]
    scenes: Dict[str, Scene]
    situations: Situations


# libyaml's safe loader when PyYAML has it: the same documents read 11x faster (1.44 s -> 0.13 s of CPU for the
# content, measured), which is most of a content load; PyYAML's own safe loader otherwise
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """yaml.safe_load, with libyaml when it is there."""
    return yaml.load(text, Loader=SAFE_LOADER)


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc


def _parse(model: Type[BaseModel], data: Any, path: Path) -> Any:
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        problems = "; ".join(f"field '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise ContentError(f"{path}: {problems}") from exc


def load_taxonomy(path: Path = paths.TAXONOMY_PATH) -> Taxonomy:
    data = _read_yaml(path)
    return Taxonomy(styles=data["styles"], traits=data["traits"], segments=data.get("segments", {}))


def _load_dir(folder: Path, model: Type[BaseModel]) -> Dict[str, Any]:
    items: Dict[str, Any] = {}
    for path in sorted(folder.glob("*.yaml")):
        item = _parse(model, _read_yaml(path), path)
        if item.id in items:
            raise ContentError(f"{path}: field 'id': duplicate id {item.id!r}")
        if path.stem != item.id:
            raise ContentError(f"{path}: field 'id': {item.id!r} must match the file name")
        items[item.id] = item
    return items


def _check_types(types: Dict[str, CustomerType], taxonomy: Taxonomy, move_ids: List[str], folder: Path) -> None:
    known = set(taxonomy.type_ids)
    for type_id, item in types.items():
        path = folder / f"{type_id}.yaml"
        if type_id not in known:
            raise ContentError(f"{path}: field 'id': unknown type id {type_id!r}; see taxonomy.yaml")
        expected_kind = "style" if type_id in taxonomy.styles else "trait"
        if item.kind != expected_kind:
            raise ContentError(f"{path}: field 'kind': must be {expected_kind!r}")
        for field_name in ("handle_with", "close_with"):
            unknown_moves = [m for m in getattr(item.practice, field_name) if m not in move_ids]
            if unknown_moves:
                raise ContentError(f"{path}: field 'practice.{field_name}': unknown moves {unknown_moves}")
        gaps = _trade_gaps(item)
        if gaps:
            raise ContentError(f"{path}: {gaps[0]}")
        missing = [m for m in move_ids if m not in item.practice.rubric]
        unknown = [m for m in item.practice.rubric if m not in move_ids]
        if missing or unknown:
            raise ContentError(f"{path}: field 'practice.rubric': missing moves {missing}, unknown moves {unknown}")
    absent = sorted(known - set(types))
    if absent:
        raise ContentError(f"{folder}: missing type files for {absent}")
    _check_neighbours(types, folder)


def _check_neighbours(types: Dict[str, CustomerType], folder: Path) -> None:
    """Every tell-apart entry names a known type whose card holds the mirror entry with the same question, and
    the two sides' signs differ: the coach asks that question with the two signs as buttons."""
    for type_id, item in types.items():
        for n, entry in enumerate(item.tell_apart):
            if entry.type not in types:
                raise ContentError(
                    f"{folder / (type_id + '.yaml')}: field 'tell_apart.{n}.type': unknown type id {entry.type!r}; see taxonomy.yaml"
                )
    for type_id, item in types.items():
        path = folder / f"{type_id}.yaml"
        for n, entry in enumerate(item.tell_apart):
            where = f"{path}: field 'tell_apart.{n}"
            mirror = next((m for m in types[entry.type].tell_apart if m.type == type_id), None)
            if mirror is None:
                raise ContentError(f"{where}.type': {folder / (entry.type + '.yaml')} has no tell_apart entry for {type_id!r}")
            for lang in LANGS:
                if local(entry.question, lang) != local(mirror.question, lang):
                    raise ContentError(f"{where}.question.{lang}': must be the same question as in {folder / (entry.type + '.yaml')}")
                if local(entry.sign, lang).lower() == local(mirror.sign, lang).lower():
                    raise ContentError(f"{where}.sign.{lang}': the same sign as {entry.type!r}'s; the two buttons must differ")


def trade_words_in(text: str, scenes: Dict[str, Scene], lang: str) -> List[str]:
    """Trades whose marker words occur in a text: a customer line must name none but its own trade."""
    low = text.lower()

    def found(word: str) -> bool:
        word = word.lower()
        return bool(re.search(rf"\b{re.escape(word)}\b", low)) if word.isascii() else word in low

    return [trade for trade, scene in scenes.items() if any(found(w) for w in local(scene.words, lang))]


def load_ui(path: Path = paths.CONTENT_DIR / "ui.yaml") -> UiText:
    """ui.yaml alone, validated: for a process that shows a text without loading the engine (the Rasa server)."""
    return _parse(UiText, _read_yaml(path), path)


def load_scenes(folder: Path = paths.CONTENT_DIR / "scenes") -> Dict[str, Scene]:
    """One scene per trade; no scene line may use another trade's marker words."""
    scenes: Dict[str, Scene] = {}
    for trade in TRADES:
        path = folder / f"{trade}.yaml"
        if not path.exists():
            raise ContentError(f"{path}: missing practice scene for trade {trade!r}")
        scene = _parse(Scene, _read_yaml(path), path)
        if scene.id != trade:
            raise ContentError(f"{path}: field 'id': {scene.id!r} must match the file name")
        scenes[trade] = scene
    for trade, scene in scenes.items():
        check_own_trade_words(scene, trade, scenes, folder / (trade + ".yaml"))
    return scenes


def check_own_trade_words(scene: Scene, trade: Optional[str], scenes: Dict[str, Scene], path: Path) -> None:
    """Every line of a scene uses only its own trade's marker words (`trade` None: the neutral scene, none)."""
    lines = [
        (f"{key}.{lang}", t)
        for key in ("openings", "needs", "questions", "prompts", "ready")
        for lang in LANGS
        for t in local(getattr(scene, key), lang)
    ]
    lines += [(f"objections.{k}.{lang}", t) for k, v in scene.objections.items() for lang in LANGS for t in local(v, lang)]
    for where, line in lines:
        others = [t for t in trade_words_in(line, scenes, where.rsplit(".", 1)[1]) if t != trade]
        if others:
            raise ContentError(f"{path}: field '{where}': {line!r} uses words of {others}")


def load_more_scenes(scenes: Dict[str, Scene], folder: Path = paths.CONTENT_DIR / "scenes" / "more") -> Dict[str, Scene]:
    """Further scenes of a trade (its `trade`) and the neutral scene for trades the coach has no scenes for, by id.
    A scene's lines may use only its own trade's marker words (the neutral scene's: none)."""
    more: Dict[str, Scene] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.exists() else []:
        scene = _parse(Scene, _read_yaml(path), path)
        if scene.id != path.stem or scene.id in scenes:
            raise ContentError(f"{path}: field 'id': {scene.id!r} must match the file name and not be a trade's first scene")
        check_own_trade_words(scene, scene.trade, scenes, path)
        more[scene.id] = scene
    if NEUTRAL_SCENE not in more:
        raise ContentError(f"{folder}: missing the neutral scene {NEUTRAL_SCENE}.yaml (for trades without scenes)")
    return more


def load_shared_reactions(folder: Path = paths.CONTENT_DIR / "scenes") -> Reactions:
    """What any practice customer may say once the type's own reactions are used up."""
    return _parse(Reactions, _read_yaml(folder / "any_trade.yaml"), folder / "any_trade.yaml")


def _check_reactions(reactions: Reactions, scenes: Dict[str, Scene], where: Path, prefix: str) -> None:
    """Reactions are said in every trade, so they may not name any trade's things."""
    for key, lists in reactions:
        if lists is None:  # a shared-only pool (said_before, not_thought) a type does not give
            continue
        for lang in LANGS:
            for line in local(lists, lang):
                trades = trade_words_in(line, scenes, lang)
                if trades:
                    raise ContentError(f"{where}: field '{prefix}{key}.{lang}': {line!r} names {trades}; keep reactions trade-neutral")


def coaching_items(item: CustomerType) -> List[Tuple[str, Any]]:
    """(field, text) of every piece of a type's coaching a salesperson is shown: tactics, phrases, pitfalls."""
    found: List[Tuple[str, Any]] = []
    for stage in STAGES:
        found += [(f"tactics.{stage}.{n}", x) for n, x in enumerate(getattr(item.tactics, stage))]
    found += [(f"phrases.{n}", p) for n, p in enumerate(item.phrases)]
    found += [(f"pitfalls.{n}.{part}", getattr(p, part)) for n, p in enumerate(item.pitfalls) for part in ("avoid", "why")]
    return found


def _fits(x: Any, tags: List[str], trade: str, avoid: List[str]) -> bool:
    return (not tags or trade in tags) and not any(word_used(local(x, lang), avoid) for lang in LANGS)


def check_trade_words(types: Dict[str, CustomerType], ui: UiText, folder: Path) -> None:
    """No coaching text assumes a family member's gender (ui.yaml assumed_words), and every type keeps advice for
    every trade without the words that trade avoids (trades.<trade>.avoid: no discounts for insurance premiums, no
    boss in a household sale): each stage a tactic and a phrase, and two pitfalls, that the trade's salesperson
    may be shown (engine/coaching.py leaves the others out for them)."""
    assumed = [*ui.assumed_words.en, *ui.assumed_words.zh]
    for type_id, item in types.items():
        path = folder / f"{type_id}.yaml"
        for where, x in coaching_items(item):
            for lang in LANGS:
                word = word_used(local(x, lang), assumed)
                if word:
                    raise ContentError(f"{path}: field '{where}.{lang}': {word!r} assumes a family member's gender; say partner / 家里人")
        for trade, t in ui.trades.items():
            avoid = [*t.avoid.en, *t.avoid.zh]
            if not avoid:
                continue

            for stage in STAGES:
                if not any(_fits(x, x.trades, trade, avoid) for x in getattr(item.tactics, stage)):
                    raise ContentError(f"{path}: field 'tactics.{stage}': no tactic for trade {trade!r} without its avoided words")
                if not any(_fits(p, p.trades, trade, avoid) for p in item.phrases if p.stage == stage):
                    raise ContentError(f"{path}: field 'phrases': no {stage!r} phrase for trade {trade!r} without its avoided words")
            if sum(_fits(p.avoid, [], trade, avoid) and _fits(p.why, [], trade, avoid) for p in item.pitfalls) < 2:
                raise ContentError(f"{path}: field 'pitfalls': fewer than two pitfalls for trade {trade!r} without its avoided words")


def _trade_gaps(item: CustomerType) -> List[str]:
    """Fields where a type cannot serve every salesperson: a stage with no trade-neutral phrase or tactic (the
    fallback for a trade the knowledge does not cover), or a trade with no phrase of its own."""
    gaps: List[str] = []
    for stage in STAGES:
        if not any(p.stage == stage and not p.trades for p in item.phrases):
            gaps.append(f"field 'phrases': no trade-neutral phrase (without trades) for stage {stage!r}")
        if not any(not t.trades for t in getattr(item.tactics, stage)):
            gaps.append(f"field 'tactics.{stage}': no trade-neutral tactic (without trades)")
    for trade in TRADES:
        if not any(trade in p.trades for p in item.phrases):
            gaps.append(f"field 'phrases': no phrase with trades [{trade}]")
    if not any(p.stage == "objections" and "price" in p.tags and not p.trades for p in item.phrases):
        gaps.append("field 'phrases': no trade-neutral objections phrase tagged 'price' (the answer to a discount request)")
    return gaps


_EN_COUNTS = {w: n for n, w in enumerate("two three four five six seven eight nine ten eleven twelve".split(), 2)}
_ZH_COUNTS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
# "Seven points", "7 steps"; not "one-to-one", "80/20 rule" or "100-1=0".
_EN_NUMBER = re.compile(r"\b(?:(" + "|".join(_EN_COUNTS) + r")\b(?!-)|(?<![\d/.-])(\d{1,2})\s+[a-z])", re.I)
# "七种/七个/七大/七点", "八忌", "5个步骤": a numeral followed by a measure word.
_ZH_NUMBER = re.compile(r"(十[一二]?|[两二三四五六七八九]|(?<![\d/.-])\d{1,2})\s*[种个大点项条步类忌招层]")


def title_count(title: str, lang: str) -> Optional[int]:
    """How many points a title promises ("Seven kinds of loyalty", "七种客户忠诚"), or None."""
    found = (_EN_NUMBER if lang == "en" else _ZH_NUMBER).search(title)
    if not found:
        return None
    word = next(g for g in found.groups() if g)
    return int(word) if word.isdigit() else (_EN_COUNTS.get(word.lower()) or _ZH_COUNTS[word])


def _check_topics(topics: Dict[str, Topic], folder: Path) -> None:
    """A topic titled "Seven points ..." must hold exactly seven sections: the bot lists them as the points."""
    for topic_id, topic in topics.items():
        for lang in LANGS:
            promised = title_count(local(topic.title, lang), lang)
            if promised is not None and promised != len(topic.sections):
                raise ContentError(
                    f"{folder / f'{topic_id}.yaml'}: field 'title.{lang}': promises {promised} points "
                    f"but the topic has {len(topic.sections)} sections"
                )


def _load_training(folder: Path, known: Iterable[str]) -> List[TrainingExample]:
    known = set(known)
    rows: List[TrainingExample] = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = TrainingExample.parse_obj(json.loads(line))
            except (ValueError, ValidationError) as exc:
                raise ContentError(f"{path}:{number}: {exc}") from exc
            if row.type is not None and row.type not in known:
                raise ContentError(f"{path}:{number}: field 'type': unknown type id {row.type!r}")
            rows.append(row)
    return rows


def load_situations(path: Path, type_ids: Iterable[str]) -> Situations:
    """Mid-sale situations: every type must answer every situation, and only known ids may appear."""
    situations = _parse(Situations, _read_yaml(path), path)
    ids = [s.id for s in situations.situations]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{path}: field 'situations.id': duplicate situation id")
    for n, item in enumerate(situations.situations):
        for lang in LANGS:
            for keyword in local(item.keywords, lang):
                unknown = [w for w in re.findall(r"\{(\w+)\}", keyword) if w not in situations.lists]
                if unknown:
                    raise ContentError(f"{path}: field 'situations.{n}.keywords.{lang}': {keyword!r} uses unknown list {unknown[0]!r}")
    for type_id, answers in situations.by_type.items():
        if type_id not in type_ids:
            raise ContentError(f"{path}: field 'by_type.{type_id}': unknown type id {type_id!r}; see taxonomy.yaml")
        for situation_id in answers:
            if situation_id not in ids:
                raise ContentError(f"{path}: field 'by_type.{type_id}.{situation_id}': unknown situation id {situation_id!r}")
        missing = [i for i in ids if i not in answers]
        if missing:
            raise ContentError(f"{path}: field 'by_type.{type_id}': missing situations {missing}")
    absent = [t for t in type_ids if t not in situations.by_type]
    if absent:
        raise ContentError(f"{path}: field 'by_type': missing types {absent}")
    return situations


def load_content(content_dir: Path = paths.CONTENT_DIR, training_dir: Path = paths.TRAINING_DIR) -> Content:
    """Load and validate all content; raises ContentError naming the first bad file and field."""
    taxonomy = load_taxonomy(content_dir / "taxonomy.yaml")
    moves = _parse(Moves, _read_yaml(content_dir / "moves.yaml"), content_dir / "moves.yaml")
    move_ids = [m.id for m in moves.moves]
    if len(set(move_ids)) != len(move_ids):
        raise ContentError(f"{content_dir / 'moves.yaml'}: field 'moves.id': duplicate move id")
    ui = load_ui(content_dir / "ui.yaml")
    types = _load_dir(content_dir / "types", CustomerType)
    _check_types(types, taxonomy, move_ids, content_dir / "types")
    check_trade_words(types, ui, content_dir / "types")
    topics = _load_dir(content_dir / "topics", Topic)
    _check_topics(topics, content_dir / "topics")
    training = _load_training(training_dir, taxonomy.type_ids)
    scenes = load_scenes(content_dir / "scenes")
    load_more_scenes(scenes, content_dir / "scenes" / "more")  # validated with the rest; practice loads them itself
    shared = load_shared_reactions(content_dir / "scenes")
    _check_reactions(shared, scenes, content_dir / "scenes" / "any_trade.yaml", "")
    for type_id, item in types.items():
        _check_reactions(item.practice.reactions, scenes, content_dir / "types" / f"{type_id}.yaml", "practice.reactions.")
        for lang in LANGS:
            for line in local(item.practice.openings, lang):
                if trade_words_in(line, scenes, lang):
                    raise ContentError(
                        f"{content_dir / 'types' / (type_id + '.yaml')}: field 'practice.openings.{lang}': "
                        f"{line!r} names a trade's things; keep openings trade-neutral"
                    )
    situations = load_situations(content_dir / "situations.yaml", taxonomy.type_ids)
    return Content(taxonomy, types, topics, moves, ui, training, scenes, situations)


# The code that decides what the store holds and what the models learn (engine/train.py: features, classifiers,
# training sets): a change here rebuilds; a change anywhere else (the dialogue, how identify.py and replies.py
# read the trained models) does not.
BUILD_CODE = ("build.py", "store.py", "loader.py", "schema.py", "text.py", "engine/train.py", "engine/clauses.py")


def content_hash() -> str:
    """Fingerprint of the content and of exactly the code that builds from it (BUILD_CODE), so the store and
    models rebuild when either changed and only then."""
    digest = hashlib.sha256()
    sources = [paths.CONTENT_DIR, paths.TRAINING_DIR] + [paths.PACKAGE_DIR / name for name in BUILD_CODE]
    for root in sources:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in (f for f in files if f.suffix in {".yaml", ".jsonl", ".py"}):
            digest.update(str(path.relative_to(paths.PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
