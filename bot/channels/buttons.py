"""A bot message's buttons as every channel shows them, in one place.

Rasa hands a channel the buttons the action sent: dicts with `title` and `payload`, in principle, but of any shape
in practice (a missing title, a number for a payload). Every channel turns them into {"title": str, "payload": str}
and drops what is not a dict; the team and Chinese connectors have their own copies until their shared base lands
(issue 27), and should then call this one.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional


def normalise(buttons: Optional[Iterable[Any]]) -> List[Dict[str, str]]:
    return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons or [] if isinstance(b, dict)]
