"""What the Feishu, DingTalk and WeCom connectors share: settings, identities, retries, tokens, buttons, markup.

Each platform retries a callback it thinks was not answered in time, so every connector answers the HTTP
request at once, handles the message in a background task, and remembers delivery ids for a while.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Tuple

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.markup import quiet

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # bytes per callback: a text message of a few thousand characters, encrypted and base64-encoded
MAX_TEXT = 4000  # characters per message handed to Rasa; the engine reads descriptions of a few sentences
DELIVERY_TTL = 8 * 3600  # seconds a delivery id is remembered: Feishu's last retry comes about 6 hours after the first try
DELIVERY_LIMIT = 20000  # delivery ids kept at most (oldest dropped first): a busy day of a large sales floor
TOKEN_MARGIN = 300  # seconds before a token's stated expiry that it is renewed, so a reply never carries a dying token
HTTP_TIMEOUT = 15  # seconds per call to a platform API
MAX_BUTTONS = 10  # choices remembered per person; the coach offers fewer

Handler = Callable[[Any], Awaitable[Any]]


def setting(credentials: Optional[Mapping[str, Any]], key: str, env: str, default: str = "") -> str:
    """A value from credentials.yml, else from the environment variable, else the default."""
    value = (credentials or {}).get(key)
    if value is None or str(value).strip() == "":
        value = os.environ.get(env, "")
    return str(value).strip() or default


def sender_id(platform: str, org: str, user: str) -> str:
    """One conversation per person: `<platform>:<tenant or corp>:<user>`, never the group."""
    return f"{platform}:{org or '-'}:{user}"


def client_ip(request: Request) -> str:
    return request.headers.get("x-forwarded-for", "").split(",")[0].strip() or (request.ip or "?")


def reject(platform: str, request: Request, status: int, reason: str) -> HTTPResponse:
    """Refuse a request with a log line naming the platform and the reason, never the message text."""
    logger.warning("%s: rejected a callback from %s (%d): %s", platform, client_ip(request), status, reason)
    return response.json({"error": reason}, status=status)


REDIS_URL_ENV = "COACH_REDIS_URL"  # redis://:password@host:port/db: shared retry and button memory (the cluster sets it)
BUTTONS_TTL = 24 * 3600  # seconds offered choices are kept in Redis: a day's conversation


class Shared:
    """The Redis the servers of a cluster share ($COACH_REDIS_URL), or None on one machine (memory is enough).
    A client per event loop, made on first use; a Redis that fails is logged and the connector falls back to
    this process's memory for that call (a retry may then be answered twice, never dropped)."""

    def __init__(self, url: Optional[str] = None):
        self.url = os.environ.get(REDIS_URL_ENV, "") if url is None else url
        self._client: Any = None

    def client(self) -> Any:
        if not self.url:
            return None
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        return self._client


class DeliveryCache:
    """Delivery ids seen recently: a platform's retry of an event already taken is answered once, by whichever
    server of a cluster it reaches (Redis SET NX with the TTL), or per process on one machine."""

    def __init__(
        self,
        ttl: float = DELIVERY_TTL,
        limit: int = DELIVERY_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        platform: str = "",
        shared: Optional[Shared] = None,
    ):
        self.ttl, self.limit, self.clock, self.platform = ttl, limit, clock, platform
        self.shared = shared or Shared("")
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def first_time(self, key: str) -> bool:
        """True the first time a key is offered within the TTL (and records it), False for a repeat."""
        redis = self.shared.client()
        if redis is not None:
            try:
                return bool(await redis.set(f"coach:{self.platform}:delivery:{key}", "1", nx=True, ex=max(1, int(self.ttl))))
            except Exception as e:  # noqa: BLE001 - any Redis failure: fall back to this process's memory
                logger.warning("%s: shared delivery memory unavailable (%s): this server's own is used", self.platform, type(e).__name__)
        return self.first_time_here(key)

    def first_time_here(self, key: str) -> bool:
        now = self.clock()
        while self._seen and (next(iter(self._seen.values())) < now - self.ttl or len(self._seen) >= self.limit):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class TokenCache:
    """An access token fetched once and reused until shortly before it expires; one fetch at a time."""

    def __init__(self, fetch: Callable[[], Awaitable[Tuple[str, float]]], clock: Callable[[], float] = time.monotonic):
        self.fetch, self.clock = fetch, clock
        self._token, self._expires = "", 0.0
        self._lock: Optional[asyncio.Lock] = None

    async def get(self) -> str:
        if self._token and self.clock() < self._expires:
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not (self._token and self.clock() < self._expires):
                token, lifetime = await self.fetch()
                self._token, self._expires = token, self.clock() + max(float(lifetime) - TOKEN_MARGIN, 60.0)
        return self._token

    def invalidate(self) -> None:
        self._token, self._expires = "", 0.0


class ButtonMemory:
    """The choices last offered to each person, so a typed number or title (DingTalk's card buttons send the
    title as a message; WeCom's text choices are numbered) comes back as the button's payload, on whichever server
    of a cluster the answer reaches (Redis), or in this process on one machine."""

    def __init__(self, limit: int = DELIVERY_LIMIT, platform: str = "", shared: Optional[Shared] = None):
        self.limit, self.platform = limit, platform
        self.shared = shared or Shared("")
        self._offered: OrderedDict[str, List[Dict[str, str]]] = OrderedDict()

    def _key(self, sender: str) -> str:
        return f"coach:{self.platform}:buttons:{sender}"

    async def offer(self, sender: str, buttons: List[Dict[str, Any]]) -> None:
        choices = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons[:MAX_BUTTONS]]
        redis = self.shared.client()
        if redis is not None:
            try:
                if choices:
                    await redis.set(self._key(sender), json.dumps(choices, ensure_ascii=False), ex=BUTTONS_TTL)
                else:
                    await redis.delete(self._key(sender))
                return
            except Exception as e:  # noqa: BLE001 - any Redis failure: keep them here instead
                logger.warning("%s: shared button memory unavailable (%s)", self.platform, type(e).__name__)
        self._offered.pop(sender, None)
        if choices:
            self._offered[sender] = choices
            while len(self._offered) > self.limit:
                self._offered.popitem(last=False)

    async def resolve(self, sender: str, text: str) -> Optional[Dict[str, str]]:
        """The offered button this text picks (its number or its exact title), once; None for anything else."""
        redis = self.shared.client()
        choices: List[Dict[str, str]] = self._offered.get(sender) or []
        if redis is not None and not choices:
            try:
                raw = await redis.get(self._key(sender))
                choices = json.loads(raw) if raw else []
            except Exception as e:  # noqa: BLE001 - any Redis failure: nothing remembered elsewhere
                logger.warning("%s: shared button memory unavailable (%s)", self.platform, type(e).__name__)
        typed = normalise_choice(text)
        for number, choice in enumerate(choices, 1):
            if typed == str(number) or typed == normalise_choice(choice["title"]):
                self._offered.pop(sender, None)
                if redis is not None:
                    try:
                        await redis.delete(self._key(sender))
                    except Exception:  # noqa: BLE001 - it expires with its TTL
                        pass
                return choice
        return None


def normalise_choice(text: str) -> str:
    """Full-width digits and spaces folded, so '１' and ' 1 ' pick the first choice."""
    return text.translate(FULL_WIDTH_DIGITS).strip().strip("。.、").casefold()


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def numbered_choices(buttons: List[Dict[str, Any]]) -> str:
    """Buttons as text lines a person can answer with the number."""
    return "\n".join(f"{n}. {b.get('title', '')}" for n, b in enumerate(buttons[:MAX_BUTTONS], 1))


# markup ----------------------------------------------------------------------------------------------------
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.S)
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_TAG = re.compile(r"</?(?:b|strong|i|em|br)\s*/?>", re.I)


def plain_text(text: str) -> str:
    """The bot's light Markdown as plain text for text messages: bold marks dropped, links as 'title (url)', and
    what people typed made inert (a Feishu text with <at user_id="all"> pings everyone: bot/channels/markup.py)."""
    text = _TAG.sub("", text or "")
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return quiet(_BOLD.sub(lambda m: m.group(1) or m.group(2), text))


def markdown(text: str) -> str:
    """The bot's Markdown for platforms that render a Markdown subset (Feishu lark_md, DingTalk, WeCom): bold
    passes, mentions, tags and links (the bot writes none; a person's typed ones) are made inert; line breaks are
    kept as Markdown hard breaks."""
    text = quiet(_TAG.sub("", text or ""))
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


def first_line(text: str, limit: int) -> str:
    line = next((part.strip() for part in plain_text(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


# background work -------------------------------------------------------------------------------------------
class Background:
    """Messages handled after the HTTP answer: the platforms wait 3-5 seconds and then retry."""

    def __init__(self, platform: str):
        self.platform = platform
        self.tasks: Set[asyncio.Task] = set()

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(self._guarded(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(self, work: Awaitable[Any]) -> None:
        try:
            await work
        except Exception:
            logger.exception("%s: handling a message failed", self.platform)

    async def drain(self) -> None:
        """Wait until every message taken so far has been answered (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


class ApiClient:
    """One aiohttp session per connector, made in the running loop on first use."""

    def __init__(self, platform: str, base_url: str):
        self.platform, self.base_url = platform, base_url.rstrip("/")
        self._session: Optional[aiohttp.ClientSession] = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT))
        return self._session

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    async def call(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        """The JSON answer of an API call; {} with a log line (status only, never the text) when it fails."""
        try:
            async with self.session().request(method, self.url(path), **kwargs) as resp:
                data = await resp.json(content_type=None)
                if resp.status >= 400:
                    logger.warning("%s: API %s answered HTTP %d", self.platform, path.split("?")[0], resp.status)
                return data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            logger.warning("%s: API %s failed: %s", self.platform, path.split("?")[0], type(e).__name__)
            return {}

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


# display names for the leaderboard ---------------------------------------------------------------------------
async def keep_profile(sender: str, name: str, platform: str, workspace: str = "", team_name: str = "") -> None:
    """Store the person's display name, and make them a member of the team of `workspace` (a group chat's id, or
    the corp's: ids, never display names, knowledge/teams.py); an empty value keeps what is stored, and nothing is
    written when nothing changed. In a worker thread: a busy database never holds up the server's event loop."""
    await asyncio.to_thread(_keep_profile, sender, name, platform, workspace, team_name)


def _keep_profile(sender: str, name: str, platform: str, workspace: str, team_name: str) -> None:
    from knowledge.app import userdata
    from knowledge.teams import Teams

    store = userdata()
    current = store.profile(sender)
    name = name.strip() or current.get("name", "")
    if name != current.get("name", ""):
        store.set_profile(sender, name)
    if workspace and current.get("team") != f"{platform}:{workspace}":
        Teams(store).join_platform(sender, platform, workspace, team_name)


def channel_blueprint(platform: str, enabled: bool, needs: str) -> Tuple[Blueprint, bool]:
    """The connector's blueprint with its health route, or without any route (and a log line) when it is off."""
    bp = Blueprint(platform, f"bot.channels.china.{platform}")
    if not enabled:
        logger.info("%s: off (set %s to enable)", platform, needs)
        return bp, False

    @bp.route("/", methods=["GET"])
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return bp, True
