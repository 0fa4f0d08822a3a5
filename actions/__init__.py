"""Rasa SDK action server: one thin action that hands each turn to the engine's dialogue (knowledge/engine)."""

from knowledge import paths
from knowledge.app import dialogue
from knowledge.engine.runtime import EngineNotBuilt
from knowledge.loader import ContentError, content_hash


def _load_or_exit() -> None:
    """Load the engine (knowledge store and models) when the action server starts, so the first message of the day
    is answered as fast as any other (loading takes several seconds; scripts/bench_engine.py), and a missing or
    broken build stops the server at once, naming the file and the command, instead of failing every turn."""
    try:
        dialogue()
    except (EngineNotBuilt, ContentError) as exc:  # their messages name the file and what to run
        raise SystemExit(f"The action server cannot start: {exc}") from exc
    except Exception as exc:  # a damaged file that still has the right name and fingerprint
        raise SystemExit(
            f"The action server cannot start: the knowledge store {paths.kb_db_path()} or the models "
            f"{paths.models_path(content_hash())} cannot be read ({type(exc).__name__}: {exc}). Rebuild them with "
            "`.venv/bin/coach kb build --force` (or delete them and run `make kb`)."
        ) from exc


_load_or_exit()
