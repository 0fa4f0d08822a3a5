"""Read and validate every content file; cross-file rules (ids, rubrics, taxonomy) are checked here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Type

import yaml
from pydantic import BaseModel, ValidationError

from . import paths
from .schema import CustomerType, Moves, Topic, TrainingExample, UiText


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
    training: List[TrainingExample] = field(default_factory=list)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
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


def _check_types(types: Dict[str, CustomerType], taxonomy: Taxonomy, move_ids: List[str], domains: List[str],
                 folder: Path) -> None:
    known = set(taxonomy.type_ids)
    for type_id, item in types.items():
        path = folder / f"{type_id}.yaml"
        if type_id not in known:
            raise ContentError(f"{path}: field 'id': unknown type id {type_id!r}; see taxonomy.yaml")
        expected_kind = "style" if type_id in taxonomy.styles else "trait"
        if item.kind != expected_kind:
            raise ContentError(f"{path}: field 'kind': must be {expected_kind!r}")
        for n, scenario in enumerate(item.practice.scenarios):
            if scenario.domain not in domains:
                raise ContentError(f"{path}: field 'practice.scenarios.{n}.domain': {scenario.domain!r} is not in ui.yaml domains")
        missing = [m for m in move_ids if m not in item.practice.rubric]
        unknown = [m for m in item.practice.rubric if m not in move_ids]
        if missing or unknown:
            raise ContentError(f"{path}: field 'practice.rubric': missing moves {missing}, unknown moves {unknown}")
    absent = sorted(known - set(types))
    if absent:
        raise ContentError(f"{folder}: missing type files for {absent}")


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


def load_content(content_dir: Path = paths.CONTENT_DIR, training_dir: Path = paths.TRAINING_DIR) -> Content:
    """Load and validate all content; raises ContentError naming the first bad file and field."""
    taxonomy = load_taxonomy(content_dir / "taxonomy.yaml")
    moves = _parse(Moves, _read_yaml(content_dir / "moves.yaml"), content_dir / "moves.yaml")
    move_ids = [m.id for m in moves.moves]
    if len(set(move_ids)) != len(move_ids):
        raise ContentError(f"{content_dir / 'moves.yaml'}: field 'moves.id': duplicate move id")
    ui = _parse(UiText, _read_yaml(content_dir / "ui.yaml"), content_dir / "ui.yaml")
    types = _load_dir(content_dir / "types", CustomerType)
    _check_types(types, taxonomy, move_ids, list(ui.domains), content_dir / "types")
    topics = _load_dir(content_dir / "topics", Topic)
    training = _load_training(training_dir, taxonomy.type_ids)
    return Content(taxonomy, types, topics, moves, ui, training)


def content_hash() -> str:
    """Fingerprint of the content and of the engine code that learns from it, so the store and models
    rebuild exactly when either changed (a stale model after a code change would go unnoticed)."""
    digest = hashlib.sha256()
    for root in (paths.CONTENT_DIR, paths.TRAINING_DIR, paths.PACKAGE_DIR / "engine", paths.PACKAGE_DIR / "text.py"):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in (f for f in files if f.suffix in {".yaml", ".jsonl", ".py"}):
            digest.update(str(path.relative_to(paths.PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
