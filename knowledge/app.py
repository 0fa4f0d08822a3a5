"""The composition root: builds the engine, the user-data store and the dialogue once per process.

Entry points (the action server, the `coach` CLI, tests) ask here; nothing below builds its own. This is also
the one place that brings the knowledge store and the models up to date before loading them (the engine
below only loads).
"""

from __future__ import annotations

from functools import lru_cache

from .build import ensure_built
from .engine.dialogue import Dialogue
from .engine.programs import ProgramStore, program_store
from .engine.runtime import Engine, get_engine
from .userdata import UserData


@lru_cache(maxsize=1)
def engine() -> Engine:
    """Rebuild the store and the models if the content or build code changed (a no-op otherwise), then load."""
    ensure_built()
    return get_engine()


@lru_cache(maxsize=1)
def userdata() -> UserData:
    return UserData()


@lru_cache(maxsize=1)
def programs() -> ProgramStore:
    """The training programmes' tables (assignments, certificates, team settings) in the same application store."""
    return program_store(userdata())


@lru_cache(maxsize=1)
def dialogue() -> Dialogue:
    return Dialogue(engine(), userdata(), programs())
