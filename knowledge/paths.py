"""Where content lives and where build artefacts go, in one place so every entry point agrees."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
CONTENT_DIR = PACKAGE_DIR / "content"
TRAINING_DIR = PACKAGE_DIR / "training"
TAXONOMY_PATH = CONTENT_DIR / "taxonomy.yaml"  # a copy of ../shared/taxonomy.yaml; a test keeps them equal


OWNER_ONLY_DIR, OWNER_ONLY_FILE = 0o700, 0o600  # var/ holds what people typed and the secrets: no one else reads it
OWNER_ONLY_UMASK = 0o077  # what a process takes off every file and folder it makes: all rights of group and others


def var_dir() -> Path:
    """Git-ignored folder for built stores and models; COACH_VAR_DIR overrides it (tests use that). Owner-only:
    the databases and secrets in it are unreadable by other local users whatever mode a file was made with."""
    path = Path(os.environ.get("COACH_VAR_DIR", PROJECT_DIR / "var"))
    path.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        try:
            path.chmod(OWNER_ONLY_DIR)
        except OSError:  # another user's folder: they keep its mode
            pass
    return path


def owner_only_from_now() -> None:
    """Files this process makes from now on are owner-only (umask 077): the SQLite tracker store Rasa opens, its
    -wal/-shm, logs. The servers' start-ups call it first (bot/start.py, actions/server.py)."""
    os.umask(OWNER_ONLY_UMASK)


def owner_only(path: Path) -> None:
    """Create `path` (if missing) readable and writable by its owner only, or take group and other rights off it."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, OWNER_ONLY_FILE))
    elif path.stat().st_mode & 0o077:
        path.chmod(OWNER_ONLY_FILE)


def kb_db_path() -> Path:
    return var_dir() / "knowledge.db"


def app_db_path() -> Path:
    """Read-write store for what users create: feedback, saved customers, practice progress."""
    return var_dir() / "coach.db"


def models_path(fingerprint: str) -> Path:
    """The engine's trained models, named by the content fingerprint they were trained from."""
    return var_dir() / f"models-{fingerprint}.pkl"
