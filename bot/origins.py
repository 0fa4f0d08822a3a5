"""Which other web sites may talk to the Rasa server from a browser: `COACH_CORS_ORIGINS`, read in one place.

A comma- or space-separated list of origins (`https://shop.example.com`, `http://localhost:8000`): scheme, host and
an optional port, nothing else. Empty or unset: no cross-origin access at all (the web chat at /chat/ is the same
origin and needs none). A wildcard is refused: list the sites. The list feeds Rasa's CORS headers (bot/start.py
passes it as `--cors`), the REST channel (bot/channels/rest.py) and the socket.io handshake
(bot/channels/socketio.py), so a third-party Rasa widget works from a listed site and from no other; the web chat
(bot/channels/webchat.py) takes its own site only. may_connect() is the one origin check of every channel.
"""

from __future__ import annotations

import os
import re
from typing import List, Optional, Sequence
from urllib.parse import urlsplit

ENV = "COACH_CORS_ORIGINS"
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class OriginError(ValueError):
    """A listed origin that is not scheme://host[:port]."""


def parse(value: str) -> List[str]:
    """The origins of a setting's value, each checked and without a trailing slash."""
    origins = []
    for item in re.split(r"[,\s]+", value.strip()):
        if not item:
            continue
        origin = item.rstrip("/")
        if not ORIGIN_RE.match(origin):
            raise OriginError(f"{ENV}: {item!r} is not an origin like https://shop.example.com (scheme://host[:port], no wildcard)")
        origins.append(origin.lower())
    return origins


def allowed() -> List[str]:
    return parse(os.environ.get(ENV, ""))


def may_connect(origin: Optional[str], host: Optional[str], origins: Sequence[str] = ()) -> bool:
    """A browser request from `origin` to this server at `host` (its Host header, with its port): the same site, or
    one of `origins` (allowed(); none for the web chat, whose cookie is for its own pages only). No Origin header at
    all is not a browser page on another site (scripts, phones' apps, server-to-server). An Origin without a host
    ("null": a sandboxed frame, a file) is never the same site."""
    if not origin:
        return True
    netloc = urlsplit(origin.strip()).netloc.lower()
    if netloc and netloc == (host or "").strip().lower():
        return True
    return origin.strip().rstrip("/").lower() in origins
