"""Where content lives and where build artefacts go, in one place so every entry point agrees."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
CONTENT_DIR = PACKAGE_DIR / "content"
TRAINING_DIR = PACKAGE_DIR / "training"
TAXONOMY_PATH = CONTENT_DIR / "taxonomy.yaml"  # a copy of ../shared/taxonomy.yaml; a test keeps them equal


def var_dir() -> Path:
    """Git-ignored folder for built stores and models; COACH_VAR_DIR overrides it (tests use that)."""
    path = Path(os.environ.get("COACH_VAR_DIR", PROJECT_DIR / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def kb_db_path() -> Path:
    return var_dir() / "knowledge.db"


def app_db_path() -> Path:
    """Read-write store for what users create: feedback, saved customers, practice progress."""
    return var_dir() / "coach.db"


def models_path(fingerprint: str) -> Path:
    """The engine's trained models, named by the content fingerprint they were trained from."""
    return var_dir() / f"models-{fingerprint}.pkl"
