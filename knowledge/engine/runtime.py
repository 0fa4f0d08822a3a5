"""One loaded engine per process: the knowledge store plus the trained models, as knowledge/build.py wrote them.

The engine only loads; building (which can train models for a minute) is the entry points' job: the
composition root knowledge/app.py and `coach kb build`. A missing or out-of-date build is an error that names
the file and the command that fixes it.
"""

from __future__ import annotations

import pickle
from functools import lru_cache
from pathlib import Path

from .. import paths, store
from ..loader import content_hash
from ..store import KnowledgeBase
from .identify import Identifier
from .replies import ReplyScorer
from .train import lexicons

BUILD_COMMAND = "`coach kb build` (or `make kb`)"


class EngineNotBuilt(RuntimeError):
    """The knowledge store or the models are missing, or older than the content and build code."""


class Engine:
    """The knowledge store, the identifier and the reply scorer, loaded from a build."""

    def __init__(self, db_path: Path, model_path: Path) -> None:
        self.kb = KnowledgeBase(db_path)
        models = pickle.loads(model_path.read_bytes())
        self.identifier = Identifier(models["identifier"], lexicons(self.kb.types), self.kb.styles, models["gate"])
        rubrics = {i: t.practice.rubric for i, t in self.kb.types.items()}
        self.scorer = ReplyScorer(models["moves"], self.kb.moves.moves, rubrics).learn_context(self.kb)

    @classmethod
    def load(cls) -> Engine:
        """The engine of the current content; EngineNotBuilt when the build is missing or stale."""
        fingerprint = content_hash()
        db_path, model_path = paths.kb_db_path(), paths.models_path(fingerprint)
        built = store.fingerprint_of(db_path)
        if built is None:
            raise EngineNotBuilt(f"{db_path}: no knowledge store; run {BUILD_COMMAND}")
        if built != fingerprint:
            raise EngineNotBuilt(f"{db_path}: built from older content or build code; run {BUILD_COMMAND}")
        if not model_path.exists():
            raise EngineNotBuilt(f"{model_path}: the models are missing; run {BUILD_COMMAND}")
        return cls(db_path, model_path)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process's engine, loaded once; entry points build first (knowledge/app.py: engine())."""
    return Engine.load()
