"""The composition root: builds the engine, the user-data store and the dialogue once per process.

Entry points (the action server, the `coach` CLI, tests) ask here; nothing below builds its own.
"""
from __future__ import annotations

from functools import lru_cache

from .engine.dialogue import Dialogue
from .engine.runtime import get_engine
from .userdata import UserData


@lru_cache(maxsize=1)
def userdata() -> UserData:
    return UserData()


@lru_cache(maxsize=1)
def dialogue() -> Dialogue:
    return Dialogue(get_engine(), userdata())
