"""Build the knowledge store and the engine's models from content, only when the content changed.

Called by the entry points (the `coach kb build` command, the composition root knowledge/app.py), never by the
engine: the engine only loads what this wrote (engine/runtime.py) and says which command to run when it is missing.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Tuple

from . import paths, store
from .engine.train import train_models
from .loader import content_hash, load_content


def ensure_built(force: bool = False) -> Tuple[Path, Path, bool]:
    """(store path, models path, whether anything was rebuilt). Idempotent: unchanged content is a no-op."""
    fingerprint = content_hash()
    db_path, model_path = paths.kb_db_path(), paths.models_path(fingerprint)
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
