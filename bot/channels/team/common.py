"""What the team-chat connectors share: settings, per-person sender ids, verification, buttons and markup.

Sender ids are `<platform>:<workspace or chat>:<user>` so that in a shared channel every person keeps their own
customer, practice and progress, and no id can collide with the web chat's (`web-...`) or a REST sender.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

from sanic import response
from sanic.response import HTTPResponse

from bot.channels.markup import quiet

logger = logging.getLogger("bot.channels.team")

MAX_NAME = 60  # the profiles table keeps names this long (knowledge/userdata.py MAX_NAME)


def setting(credentials: Optional[Dict[str, Any]], key: str, env: str, default: str = "") -> str:
    """A credentials-file value if given, else the environment variable: either way turns a connector on."""
    value = (credentials or {}).get(key)
    if value is None or str(value).strip() == "":
        value = os.environ.get(env, default)
    return str(value).strip()


def sender_id(platform: str, space: str, user: str) -> str:
    return f"{platform}:{space}:{user}"


def reject(platform: str, reason: str, status: int = 401) -> HTTPResponse:
    """Refuse an unverified request with a log line naming platform and reason, never the message text."""
    logger.warning("%s: rejected request (%d): %s", platform, status, reason)
    return response.text(f"{platform}: request rejected: {reason}", status=status)


def malformed_is_400(platform: str) -> Callable[[Callable[..., Awaitable[HTTPResponse]]], Callable[..., Awaitable[HTTPResponse]]]:
    """A verified request whose payload is not what the platform sends (a list for an object, a number for a text):
    400 with a log line naming the platform and the kind of fault, instead of a 500 from deep in the parsing."""

    def wrap(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
        @wraps(handler)
        async def checked(request: Any, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                return await handler(request, *args, **kwargs)
            except (AttributeError, KeyError, TypeError, ValueError, IndexError, RecursionError) as fault:
                return reject(platform, f"malformed payload ({type(fault).__name__})", status=400)

        return checked

    return wrap


def disabled(platform: str, needs: str) -> HTTPResponse:
    return response.json({"status": "disabled", "platform": platform, "set": needs}, status=404)


def same_secret(given: Optional[str], expected: str) -> bool:
    """Constant-time comparison; an unset expected secret never matches."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def any_secret(given: Optional[str], expected: Sequence[str]) -> bool:
    return any(same_secret(given, e) for e in expected if e)


def secrets_list(value: str) -> List[str]:
    """A comma-separated list of tokens (one per webhook or slash command pointing here)."""
    return [v.strip() for v in value.split(",") if v.strip()]


def strip_mention(text: str, *handles: str) -> str:
    """The message without the bot's handle(s), whatever form the platform writes a mention in."""
    for handle in handles:
        if handle:
            text = re.sub(re.escape(handle), " ", text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]+", " ", text).strip()


async def remember_profile(sender: str, name: Optional[str], platform: str, workspace: Optional[str], team_name: str = "") -> None:
    """Keep the platform's display name, and make the person a member of their workspace's team (keyed by the
    platform and the workspace id, knowledge/teams.py), so the leaderboard shows names (never ids) and only to
    people of the same workspace. A DM (workspace None) keeps the team it had. In a worker thread: a busy database
    is waited for there, never on the server's event loop."""
    if name or workspace:
        await asyncio.to_thread(_remember_profile, sender, name, platform, workspace, team_name)


def _remember_profile(sender: str, name: Optional[str], platform: str, workspace: Optional[str], team_name: str) -> None:
    try:
        from knowledge.app import userdata
        from knowledge.teams import Teams

        store = userdata()
        known = store.profile(sender)
        new_name = (name or known.get("name") or "").strip()[:MAX_NAME]
        if new_name != known.get("name"):
            store.set_profile(sender, new_name)
        if workspace and known.get("team") != f"{platform}:{workspace}":
            Teams(store).join_platform(sender, platform, workspace, team_name)
    except Exception:  # a profile is a nicety: never lose the message over it
        logger.exception("team chat: could not store the profile of %s", sender)


def buttons_of(buttons: Optional[List[Dict[str, Any]]]) -> List[Dict[str, str]]:
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in buttons or []
        if isinstance(b, dict) and b.get("payload")
    ]


# markup: the bot writes plain text with **bold** at most; each platform gets its own form -------------------------
BOLD = re.compile(r"\*\*(.+?)\*\*")


def to_slack(text: str) -> str:
    """Slack mrkdwn: escape &, <, > (they start links and mentions), *bold*."""
    text = quiet(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BOLD.sub(r"*\1*", text)


def to_telegram_html(text: str) -> str:
    """Telegram's HTML parse mode: escape, <b>bold</b>; @username made inert (it would notify that person)."""
    text = quiet(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BOLD.sub(r"<b>\1</b>", text)


def to_teams(text: str) -> str:
    """Teams markdown joins single newlines: make each a hard line break."""
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", quiet(text))


def to_mattermost(text: str) -> str:
    return quiet(text)  # Mattermost renders the same markdown (**bold**, line breaks); @all would ping the channel


def to_rocketchat(text: str) -> str:
    return BOLD.sub(r"*\1*", quiet(text))  # Rocket.Chat's bold is a single star; @all/@here would ping the room


def team_blueprint(platform: str, enabled: bool, needs: str) -> Tuple[Any, bool]:
    """(blueprint, live): a configured connector's blueprint with its health route, to which it adds its webhook;
    else the disabled one (health says what to set, the webhook answers 404) and False."""
    from sanic import Blueprint
    from sanic.request import Request

    if not enabled:
        return disabled_blueprint(platform, needs), False
    bp = Blueprint(f"team_{platform}")

    @bp.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return bp, True


def disabled_blueprint(platform: str, needs: str) -> Any:
    """What an unconfigured connector serves: a health line saying what to set, and 404 on its webhook."""
    from sanic import Blueprint
    from sanic.request import Request

    bp = Blueprint(f"team_{platform}_off")

    @bp.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "disabled", "set": needs})

    @bp.route("/webhook", methods=["GET", "POST"])
    async def webhook(_: Request) -> HTTPResponse:
        return disabled(platform, needs)

    return bp


def log_disabled(platform: str, needs: str) -> None:
    logger.info("%s: not configured (set %s): its webhook is off", platform, needs)


INTENT_OF_COMMAND = {"/start": "/greet", "/help": "/help"}  # platform commands that mean "hello" or "help"
