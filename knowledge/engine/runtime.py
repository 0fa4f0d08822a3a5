"""One loaded engine per process: the knowledge store plus the trained models, built if missing."""
from __future__ import annotations

import pickle
from functools import lru_cache

from ..build import ensure_built, lexicons
from ..store import KnowledgeBase
from .identify import Identifier
from .replies import ReplyScorer


class Engine:
    def __init__(self) -> None:
        db_path, model_path, _ = ensure_built()
        self.kb = KnowledgeBase(db_path)
        models = pickle.loads(model_path.read_bytes())
        self.identifier = Identifier(models["identifier"], lexicons(self.kb.types), self.kb.styles, models["gate"])
        rubrics = {i: t.practice.rubric for i, t in self.kb.types.items()}
        self.scorer = ReplyScorer(models["moves"], self.kb.moves.moves, rubrics).learn_context(self.kb)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return Engine()
