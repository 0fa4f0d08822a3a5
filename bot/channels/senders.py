"""Sender ids, registered in one place: which channel a conversation belongs to, from its id alone.

- a platform connector's sender is `<platform>:<workspace, tenant, corp or chat>:<user>` (`sender_id`), one
  conversation per person per workspace, never per group; the platforms are knowledge/teams.py's PLATFORMS;
- the web chat's is `web-` and 32 hex digits (bot/channels/webchat.py);
- a REST or socket.io sender may be anything else: `reserved` refuses the other channels' ids there, so REST
  cannot read or write their conversations.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from knowledge.teams import PLATFORMS

WEB_PREFIX = "web-"
WEB_SENDER = re.compile(rf"^{WEB_PREFIX}[0-9a-f]{{32}}$")
SEPARATOR = ":"  # no REST sender may contain it: every platform sender does
EMPTY_SPACE = "-"  # the middle part of a sender whose platform named no workspace


def sender_id(platform: str, space: str, user: str) -> str:
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}: add it to knowledge/teams.py PLATFORMS")
    return f"{platform}{SEPARATOR}{space or EMPTY_SPACE}{SEPARATOR}{user}"


def parts(sender: str) -> Optional[Tuple[str, str, str]]:
    """(platform, space, user) of a platform sender; None for any other sender."""
    platform, _, rest = sender.partition(SEPARATOR)
    space, _, user = rest.partition(SEPARATOR)
    if platform not in PLATFORMS or not space or not user:
        return None
    return platform, space, user


def reserved(sender: str) -> bool:
    """A sender id of the web chat or a platform: never a REST or socket.io client's to use."""
    return sender.startswith(WEB_PREFIX) or SEPARATOR in sender
