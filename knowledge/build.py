"""Build the knowledge store and the engine's models from content, only when the content changed."""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Dict, Tuple

from . import paths, store
from .engine.identify import TypeLexicon, build_classifier, build_gate, training_set
from .engine.replies import build_move_model
from .loader import Content, content_hash, load_content


def models_path(fingerprint: str) -> Path:
    return paths.var_dir() / f"models-{fingerprint}.pkl"


def lexicons(types) -> Dict[str, TypeLexicon]:
    return {i: TypeLexicon(cues=t.cues.dict(), keywords=t.keywords.dict()) for i, t in types.items()}


def train_models(content: Content) -> Dict[str, object]:
    lex = lexicons(content.types)
    texts, labels = training_set(((r.text, r.type) for r in content.training if r.about_customer), lex)
    other = [r.text for r in content.training if not r.about_customer]
    return {"identifier": build_classifier(texts, labels),
            "gate": build_gate(texts + other, [True] * len(texts) + [False] * len(other)),
            "moves": build_move_model(content.moves.moves)}


def ensure_built(force: bool = False) -> Tuple[Path, Path, bool]:
    """(store path, models path, whether anything was rebuilt). Idempotent: unchanged content is a no-op."""
    fingerprint = content_hash()
    db_path, model_path = paths.kb_db_path(), models_path(fingerprint)
    if not force and store.fingerprint_of(db_path) == fingerprint and model_path.exists():
        return db_path, model_path, False
    content = load_content()
    store.build(content, db_path, fingerprint)
    tmp = model_path.with_name(f"{model_path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(train_models(content)))
    os.replace(tmp, model_path)
    for old in paths.var_dir().glob("models-*.pkl"):
        if old != model_path:
            old.unlink(missing_ok=True)
    return db_path, model_path, True
