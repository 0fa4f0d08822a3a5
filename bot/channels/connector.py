"""The one base of the eight platform connectors (Slack, Microsoft Teams, Telegram, Mattermost, Rocket.Chat,
Feishu/Lark, DingTalk, WeCom): what they all do, written once.

A connector says only what is its platform's own: how a request is proved to be the platform's (`verified`), what it
says (`parse`, into an `Incoming` or an immediate answer such as a URL challenge), and how an answer is posted (its
OutputChannel). The base does the rest, the same way for every platform:

- settings: `setting()`, one rule (credentials.yml, else the environment variable, else the default; an empty
  value never overrides a default: `TEAMS_OPENID_URL=""` keeps Microsoft's URL);
- one blueprint: a health route, the webhook, or when the connector is off a health line saying what to set and a
  webhook answering 404;
- verified → parse → deliver: a body over `max_body` is 413, a refusal is logged with platform, address and reason
  (never the text), a verified payload that is not what the platform sends is 400, never a 500;
- sender ids `<platform>:<workspace>:<user>` (bot/channels/senders.py, the one registry);
- per-sender rate limits (bot/limits.py);
- de-duplication of platform retries and the memory of offered buttons, through one store (`Memory`: the
  cluster's Redis when $COACH_REDIS_URL is set, else this process);
- profiles (display name, workspace team) through the user-data store's interface (knowledge/teams.py
  `Teams.remember`), in a worker thread;
- `send_direct(sender, text, buttons)`: an unprompted message to a person (reminders), module-level
  `send_direct` finds the live connector from the sender id.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, ClassVar, Dict, List, Mapping, Optional, Set, Tuple, Union

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import senders
from bot.channels.buttons import pressable
from bot.limits import limited_handler

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

MAX_BODY = 64 * 1024  # bytes per callback: a text message of a few thousand characters, encrypted and base64-encoded
MAX_TEXT = 4000  # characters per message handed to Rasa; the engine reads descriptions of a few sentences
DELIVERY_TTL = 8 * 3600  # seconds a delivery id is remembered: Feishu's last retry comes about 6 hours after the first try
MEMORY_LIMIT = 20000  # keys one process remembers at most (oldest dropped first): a busy day of a large sales floor
BUTTONS_TTL = 24 * 3600  # seconds offered choices are kept: a day's conversation
REACH_TTL = 90 * 24 * 3600  # seconds a platform's address of a person's direct chat is kept (send_direct): a quarter
MAX_BUTTONS = 10  # choices remembered per person; the coach offers fewer
TOKEN_MARGIN = 300  # seconds before a token's stated expiry that it is renewed, so a reply never carries a dying token
HTTP_TIMEOUT = 15  # seconds per call to a platform API
REDIS_URL_ENV = "COACH_REDIS_URL"  # redis://:password@host:port/db: shared retry and button memory (the cluster sets it)
MALFORMED = (AttributeError, KeyError, TypeError, ValueError, IndexError, RecursionError, UnicodeDecodeError)


# settings -----------------------------------------------------------------------------------------------------
def setting(credentials: Optional[Mapping[str, Any]], key: str, env: str, default: str = "") -> str:
    """A value from credentials.yml, else from the environment variable, else the default. An empty value (a key
    written without a value, `VAR=""`) counts as not given, so it never overrides a default."""
    value = (credentials or {}).get(key)
    if value is None or str(value).strip() == "":
        value = os.environ.get(env, "")
    return str(value).strip() or default


def secrets_list(value: str) -> List[str]:
    """A comma-separated list of tokens (one per webhook or slash command pointing here)."""
    return [v.strip() for v in value.split(",") if v.strip()]


# refusals -----------------------------------------------------------------------------------------------------
class Refused(Exception):
    """A request that is not the platform's, or cannot be read; the reason goes to the log, never the text."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def client_ip(request: Request) -> str:
    return request.headers.get("x-forwarded-for", "").split(",")[0].strip() or (request.ip or "?")


def reject(platform: str, request: Request, status: int, reason: str) -> HTTPResponse:
    """Refuse a request with a log line naming the platform, the address and the reason, never the message text."""
    logger.warning("%s: rejected request from %s (%d): %s", platform, client_ip(request), status, reason)
    return response.json({"error": f"{platform}: request rejected: {reason}"}, status=status)


def same_secret(given: Optional[str], expected: str) -> bool:
    """Constant-time comparison of bytes (a str with non-ASCII characters would raise); an unset secret never matches."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def any_secret(given: Optional[str], expected: List[str]) -> bool:
    return any(same_secret(given, e) for e in expected if e)


# one store for what the connectors remember -------------------------------------------------------------------
class Memory:
    """Keys with a time to live, shared by the servers of a cluster (its Redis, $COACH_REDIS_URL) or kept in this
    process on one machine. A Redis that fails is logged and this process's memory answers that call instead (a
    retry may then be answered twice, never dropped)."""

    def __init__(
        self, platform: str = "", url: Optional[str] = None, limit: int = MEMORY_LIMIT, clock: Callable[[], float] = time.monotonic
    ):
        self.platform, self.limit, self.clock = platform, limit, clock
        self.url = os.environ.get(REDIS_URL_ENV, "") if url is None else url
        self._client: Any = None
        self._here: OrderedDict[str, Tuple[float, str]] = OrderedDict()

    def _redis(self) -> Any:
        if not self.url:
            return None
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        return self._client

    def _key(self, key: str) -> str:
        return f"coach:{self.platform}:{key}"

    def _warn(self, e: Exception) -> None:
        logger.warning("%s: shared memory unavailable (%s): this server's own is used", self.platform, type(e).__name__)

    def _expire_here(self) -> None:
        now = self.clock()
        while self._here and (next(iter(self._here.values()))[0] < now or len(self._here) > self.limit):
            self._here.popitem(last=False)

    def _held(self, key: str) -> Optional[str]:
        entry = self._here.get(key)
        return entry[1] if entry is not None and entry[0] >= self.clock() else None

    async def add(self, key: str, ttl: float) -> bool:
        """Remember `key` for `ttl` seconds; True when it was not remembered yet (the first time)."""
        redis = self._redis()
        if redis is not None:
            try:
                return bool(await redis.set(self._key(key), "1", nx=True, ex=max(1, int(ttl))))
            except Exception as e:  # noqa: BLE001 - any Redis failure: this process's memory
                self._warn(e)
        self._expire_here()
        if self._held(key) is not None:
            return False
        self._here[key] = (self.clock() + ttl, "1")
        return True

    async def put(self, key: str, value: str, ttl: float) -> None:
        redis = self._redis()
        if redis is not None:
            try:
                await redis.set(self._key(key), value, ex=max(1, int(ttl)))
                return
            except Exception as e:  # noqa: BLE001
                self._warn(e)
        self._here.pop(key, None)
        self._here[key] = (self.clock() + ttl, value)
        self._expire_here()

    async def get(self, key: str) -> Optional[str]:
        self._expire_here()
        held = self._held(key)
        if held is not None:
            return held
        redis = self._redis()
        if redis is not None:
            try:
                raw = await redis.get(self._key(key))
                return raw.decode() if isinstance(raw, bytes) else raw
            except Exception as e:  # noqa: BLE001
                self._warn(e)
        return None

    async def delete(self, key: str) -> None:
        self._here.pop(key, None)
        redis = self._redis()
        if redis is not None:
            try:
                await redis.delete(self._key(key))
            except Exception:  # noqa: BLE001 - it expires with its TTL
                pass


class DeliveryCache:
    """Delivery ids seen recently: a platform's retry of an event already taken is answered once, by whichever
    server of a cluster it reaches."""

    def __init__(self, memory: Optional[Memory] = None, ttl: float = DELIVERY_TTL, clock: Callable[[], float] = time.monotonic):
        self.memory = memory or Memory(url="", clock=clock)
        self.ttl = ttl

    async def first_time(self, key: str) -> bool:
        """True the first time a key is offered within the TTL (and records it), False for a repeat."""
        return await self.memory.add(f"delivery:{key}", self.ttl)


class ButtonMemory:
    """The choices last offered to each person, so a typed number or title (DingTalk's card buttons send the title
    as a message; WeCom's text choices are numbered) comes back as the button's payload, on whichever server of a
    cluster the answer reaches."""

    def __init__(self, memory: Optional[Memory] = None):
        self.memory = memory or Memory(url="")

    async def offer(self, sender: str, buttons: Any) -> None:
        choices = pressable(buttons, MAX_BUTTONS)
        if choices:
            await self.memory.put(f"buttons:{sender}", json.dumps(choices, ensure_ascii=False), BUTTONS_TTL)
        else:
            await self.memory.delete(f"buttons:{sender}")

    async def resolve(self, sender: str, text: str) -> Optional[Dict[str, str]]:
        """The offered button this text picks (its number or its exact title), once; None for anything else."""
        raw = await self.memory.get(f"buttons:{sender}")
        try:
            choices = json.loads(raw) if raw else []
        except ValueError:
            choices = []
        typed = normalise_choice(text)
        for number, choice in enumerate(choices, 1):
            if typed == str(number) or typed == normalise_choice(choice["title"]):
                await self.memory.delete(f"buttons:{sender}")
                return choice
        return None


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def normalise_choice(text: str) -> str:
    """Full-width digits and spaces folded, so '１' and ' 1 ' pick the first choice."""
    return text.translate(FULL_WIDTH_DIGITS).strip().strip("。.、").casefold()


def numbered_choices(buttons: Any) -> str:
    """Buttons as text lines a person can answer with the number."""
    return "\n".join(f"{n}. {b['title']}" for n, b in enumerate(pressable(buttons, MAX_BUTTONS), 1))


# platform APIs ------------------------------------------------------------------------------------------------
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


class Background:
    """Messages handled after the HTTP answer: Slack waits 3 s, the Chinese platforms 3-5 s, and then they retry."""

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
        """Wait until every message taken so far has been handled (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


# the connector --------------------------------------------------------------------------------------------------
@dataclass
class Incoming:
    """One verified message for the coach, as the platform's `parse` reads it."""

    text: str
    sender: str
    output: OutputChannel
    metadata: Dict[str, Any] = field(default_factory=dict)
    message_id: Optional[str] = None
    delivery_id: str = ""  # a platform retry of the same id is answered once (DELIVERY_TTL)
    name: str = ""  # the person's display name, when the platform sent it
    workspace: str = ""  # the id of the person's team on the platform; "" keeps the team they have
    team_name: str = ""  # the workspace's display name (shown, never matched)
    typed_choice: bool = False  # the text may be an offered choice's number or title (ButtonMemory)


Parsed = Union[None, Incoming, HTTPResponse]

_LIVE: Dict[str, Connector] = {}  # platform -> the connector whose webhook this process serves


class Connector:
    """Mixed into each platform's InputChannel (before Rasa's own connector class, when it extends one)."""

    platform: ClassVar[str] = ""
    needs: ClassVar[str] = ""  # the variables that turn the connector on, for the log and the health line
    answer_first: ClassVar[bool] = False  # answer the HTTP request at once and handle the message in the background
    max_body: ClassVar[int] = MAX_BODY
    methods: ClassVar[Tuple[str, ...]] = ("POST",)

    @classmethod
    def name(cls) -> str:
        return cls.platform

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    # what each platform says --------------------------------------------------------------------------------
    async def verified(self, request: Request) -> Any:
        """The request's payload once proved to be the platform's; raise Refused otherwise."""
        raise NotImplementedError

    async def parse(self, request: Request, payload: Any) -> Parsed:
        """The message for the coach in a verified payload; None when there is none for it (chatter, edits, the
        bot's own posts); or an immediate answer (a URL challenge)."""
        raise NotImplementedError

    def ack(self) -> HTTPResponse:
        """What the platform is answered once a request is taken (or ignored)."""
        return response.text("")

    async def profile(self, incoming: Incoming) -> Optional[Tuple[str, str, str]]:
        """(display name, workspace, workspace name) to store for the sender; None: nothing to store. The default
        stores what the request said; a platform that looks names up in its API overrides this."""
        return incoming.name, incoming.workspace, incoming.team_name

    async def direct_output(self, platform_user: str, space: str) -> Optional[OutputChannel]:
        """An output channel that reaches this person privately without a message to answer (send_direct); None
        when the platform cannot."""
        return None

    def routes(self, bp: Blueprint) -> None:
        """More routes of a live connector (WeCom's URL check), beside its webhook."""

    # the shared state, made on first use --------------------------------------------------------------------
    @property
    def memory(self) -> Memory:
        if "_memory" not in self.__dict__:
            self.__dict__["_memory"] = Memory(self.platform)
        return self.__dict__["_memory"]

    @property
    def deliveries(self) -> DeliveryCache:
        if "_deliveries" not in self.__dict__:
            self.__dict__["_deliveries"] = DeliveryCache(self.memory)
        return self.__dict__["_deliveries"]

    @property
    def buttons(self) -> ButtonMemory:
        if "_buttons" not in self.__dict__:
            self.__dict__["_buttons"] = ButtonMemory(self.memory)
        return self.__dict__["_buttons"]

    @property
    def background(self) -> Background:
        if "_background" not in self.__dict__:
            self.__dict__["_background"] = Background(self.platform)
        return self.__dict__["_background"]

    def sender_id(self, space: str, user: str) -> str:
        return senders.sender_id(self.platform, space, user)

    # the flow ------------------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Handler) -> Blueprint:
        if not self.enabled:
            logger.info("%s: not configured (set %s): its webhook is off", self.platform, self.needs)
            return self.off_blueprint()
        handler = limited_handler(on_new_message, self.platform)  # per-sender rate limit: bot/limits.py
        bp = Blueprint(f"coach_{self.platform}")
        _LIVE[self.platform] = self

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=list(self.methods))
        async def webhook(request: Request) -> HTTPResponse:
            return await self.take(request, handler)

        self.routes(bp)
        return bp

    def off_blueprint(self) -> Blueprint:
        """What an unconfigured connector serves: a health line saying what to set, and 404 on its webhook."""
        bp = Blueprint(f"coach_{self.platform}_off")
        platform, needs = self.platform, self.needs

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "disabled", "set": needs})

        @bp.route("/webhook", methods=["GET", "POST"])
        async def webhook(_: Request) -> HTTPResponse:
            return response.json({"status": "disabled", "platform": platform, "set": needs}, status=404)

        return bp

    async def take(self, request: Request, handler: Handler) -> HTTPResponse:
        """verified → parse → deliver (now, or after answering when `answer_first`)."""
        if len(request.body or b"") > self.max_body:
            return reject(self.platform, request, 413, "body too large")
        try:
            parsed = await self.parse(request, await self.verified(request))
        except Refused as refused:
            return reject(self.platform, request, refused.status, refused.reason)
        except MALFORMED as fault:  # verified, but not what the platform sends (a list for an object, ...)
            return reject(self.platform, request, 400, f"malformed payload ({type(fault).__name__})")
        if isinstance(parsed, HTTPResponse):
            return parsed
        if parsed is None or not parsed.text:
            return self.ack()
        if parsed.delivery_id and not await self.deliveries.first_time(parsed.delivery_id):
            logger.info("%s: %s delivered again: already taken", self.platform, parsed.delivery_id)
            return self.ack()
        if parsed.typed_choice:
            chosen = await self.buttons.resolve(parsed.sender, parsed.text)
            if chosen:
                parsed.text, parsed.metadata["shown"] = chosen["payload"], chosen["title"]
        if self.answer_first:
            self.background.spawn(self.deliver(parsed, handler))
        else:
            await self.deliver(parsed, handler)
        return self.ack()

    async def deliver(self, incoming: Incoming, handler: Handler) -> None:
        """Store the profile (a nicety: never lose the message over it), then hand the message to Rasa."""
        try:
            found = await self.profile(incoming)
            if found is not None:
                await remember_profile(incoming.sender, self.platform, *found)
        except Exception:
            logger.warning("%s: the profile of a sender could not be stored", self.platform, exc_info=True)
        message = UserMessage(
            incoming.text[:MAX_TEXT],
            incoming.output,
            incoming.sender,
            input_channel=self.platform,
            message_id=incoming.message_id,
            metadata=incoming.metadata,
        )
        try:
            await handler(message)
        except Exception:
            logger.exception("%s: the message could not be handled", self.platform)

    async def send_direct(self, sender: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> bool:
        """Send `text` (and buttons) to the person of `sender` (this platform's sender id) without a message to
        answer: in their direct chat with the bot. False when the connector is off, the sender is not this
        platform's, or the platform cannot reach the person (the log says why)."""
        found = senders.parts(sender)
        if not self.enabled or found is None or found[0] != self.platform:
            return False
        output = await self.direct_output(found[2], found[1])
        if output is None:
            logger.warning("%s: cannot reach a person unprompted (%s)", self.platform, self.needs)
            return False
        message: Dict[str, Any] = {"text": text}
        if buttons:
            message["buttons"] = pressable(buttons)
        await output.send_response(sender, message)
        return True


async def send_direct(sender: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> bool:
    """An unprompted message (a reminder) to a platform sender, through the live connector of its platform in this
    process (the Rasa server's); False when there is none or it cannot reach the person."""
    found = senders.parts(sender)
    connector = _LIVE.get(found[0]) if found else None
    return await connector.send_direct(sender, text, buttons) if connector else False


def live_connectors() -> Dict[str, Connector]:
    return dict(_LIVE)


async def remember_profile(sender: str, platform: str, name: str, workspace: str, team_name: str = "") -> None:
    """The person's display name, and membership of their workspace's team (knowledge/teams.py), in the user-data
    store; in a worker thread, so a busy database never holds up the server's event loop."""
    if not (name or workspace):
        return

    def write() -> None:
        from knowledge.app import userdata
        from knowledge.teams import Teams

        Teams(userdata()).remember(sender, name, platform, workspace, team_name)

    await asyncio.to_thread(write)


def strip_mention(text: str, *handles: str) -> str:
    """The message without the bot's handle(s), whatever form the platform writes a mention in."""
    for handle in handles:
        if handle:
            text = re.sub(re.escape(handle), " ", text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]+", " ", text).strip()


INTENT_OF_COMMAND = {"/start": "/greet", "/help": "/help"}  # platform commands that mean "hello" or "help"
