"""A bot message's buttons as every channel shows them, in one place.

Rasa hands a channel the buttons the action sent: dicts with `title` and `payload`, in principle, but of any shape
in practice (a missing title, a number for a payload). Every channel turns them into {"title": str, "payload": str}
and drops what is not a dict; the platform connectors (bot/channels/connector.py) show only `pressable` ones.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional


def normalise(buttons: Optional[Iterable[Any]]) -> List[Dict[str, str]]:
    return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons or [] if isinstance(b, dict)]


def pressable(buttons: Optional[Iterable[Any]], limit: Optional[int] = None) -> List[Dict[str, str]]:
    """The buttons a platform can show: normalised, without those that would send nothing when pressed, at most
    `limit` (what the platform's card or keyboard takes)."""
    kept = [b for b in normalise(buttons) if b["payload"]]
    return kept if limit is None else kept[:limit]
