"""Rate and size limits for the public channels (REST, web chat, team chats): one per-sender token bucket.

Every channel asks the same `RATE_LIMITER.allow(key)` before it hands a message to Rasa, so a script hammering
one conversation is answered 429 without costing an NLU parse, an action call and a tracker write per message.
The numbers are per Rasa process; behind a load balancer each server keeps its own buckets (a sender spread
over N servers gets at most N times the budget, which still bounds the cost per server).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
import unicodedata
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional

from sanic import response
from sanic.response import HTTPResponse

# A person reads each answer (several seconds of text, or a practice line to answer), so even fast button taps
# stay far under one message a second sustained; a scripted conversation (the eval sets' conversations, `make soak`'s
# 20 turns, a long practice session) fits the burst whole, so it is never throttled.
RATE_BURST = 60  # messages a sender may send back to back
RATE_PER_SECOND = 1.0  # refill: 60 messages a minute sustained
MAX_TRACKED_SENDERS = 100_000  # buckets kept in memory (about 100 bytes each); the least recently used go first
# Per client address (the address the proxy saw: client_address), over every sender of that address, so new
# identities cost an attacker nothing extra: a sales floor of 50 behind one office NAT, each sending a message every
# 10 s, is 5 a second; the burst covers them all opening the chat at once (page, session, history: 3 requests each).
ADDRESS_BURST = 300
ADDRESS_PER_SECOND = 5.0
# New web-chat identities (a page or session request without a valid cookie) per address: 60 people opening the
# chat for the first time at once, then one new visitor every 2 s.
NEW_IDENTITY_BURST = 60
NEW_IDENTITY_PER_SECOND = 0.5

# Request bodies. A message is a few sentences, but REST also takes pasted notes or an e-mail thread: the engine reads
# the first 5000 characters (knowledge/text.py MAX_CHARS), so REST refuses only what no one types (the web chat's
# own cap is 8000, bot/channels/webchat.py). The Sanic limit is for every route on the Rasa server: team-chat
# events are a few KB, the largest legitimate body is a tracker's events posted back through the HTTP API.
MAX_MESSAGE_CHARS = 20_000
MAX_REQUEST_BYTES = 1024 * 1024  # Sanic's REQUEST_MAX_SIZE (its default is 100 MB): larger bodies get 413

logger = logging.getLogger(__name__)

RETRY_MESSAGE = "too many messages: wait a few seconds and try again"


def plain_text(text: str) -> str:
    """Text without control characters (but newlines and tabs) and lone surrogates: what may be stored.

    A lone surrogate ("\\ud800" in JSON) decodes to a str that fails later, when the tracker store encodes it."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def _env_number(name: str, default: float) -> float:
    """An operator's override (COACH_RATE_BURST, COACH_RATE_PER_SECOND), else the default above."""
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


class RateLimiter:
    """Token bucket per key: `burst` tokens, refilled at `per_second`; a message costs one token."""

    def __init__(self, burst: float, per_second: float, max_keys: int = MAX_TRACKED_SENDERS, clock: Callable[[], float] = time.monotonic):
        self.burst, self.per_second, self.max_keys, self.clock = burst, per_second, max_keys, clock
        self._buckets: OrderedDict[str, list] = OrderedDict()  # key -> [tokens, last refill time]
        self._lock = threading.Lock()  # Sanic handlers share one loop, but the team chats may call from threads

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or [self.burst, now]
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.per_second)
            bucket[1] = now
            allowed = bucket[0] >= 1
            if allowed:
                bucket[0] -= 1
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has a token again (for the Retry-After header)."""
        with self._lock:
            tokens = self._buckets.get(key, [self.burst, 0.0])[0]
        return max(1, int((1 - tokens) / self.per_second + 0.999)) if self.per_second > 0 else 60


RATE_LIMITER = RateLimiter(_env_number("COACH_RATE_BURST", RATE_BURST), _env_number("COACH_RATE_PER_SECOND", RATE_PER_SECOND))
ADDRESS_LIMITER = RateLimiter(
    _env_number("COACH_ADDRESS_BURST", ADDRESS_BURST), _env_number("COACH_ADDRESS_PER_SECOND", ADDRESS_PER_SECOND)
)
NEW_IDENTITY_LIMITER = RateLimiter(NEW_IDENTITY_BURST, NEW_IDENTITY_PER_SECOND)


def too_many(key: str, limiter: Optional[RateLimiter] = None) -> Optional[HTTPResponse]:
    """None when `key` may send a message now, else the 429 answer to return (short JSON, Retry-After)."""
    limiter = limiter or RATE_LIMITER
    if limiter.allow(key):
        return None
    wait = limiter.retry_after(key)
    headers: Dict[str, str] = {"Retry-After": str(wait)}
    return response.json({"error": RETRY_MESSAGE, "retry_after": wait}, status=429, headers=headers)


def too_many_from(request: Any, limiter: Optional[RateLimiter] = None, kind: str = "addr") -> Optional[HTTPResponse]:
    """too_many() for the request's client address (bad and refused requests count too). A client on this machine
    (loopback, directly or as the proxy saw it: the tools, the tests, `make soak`) is not limited per address."""
    address = client_address(request)
    return None if loopback(address) else too_many(f"{kind}:{address}", limiter or ADDRESS_LIMITER)


def limited_handler(
    on_new_message: Callable[[Any], Awaitable[Any]], channel: str, limiter: Optional[RateLimiter] = None
) -> Callable[[Any], Awaitable[Any]]:
    """Rasa's `on_new_message` that drops (and logs, without the text) a message over its sender's limit.

    For channels whose requests cannot carry a 429 back to the sender (socket.io events, a platform's webhook that
    would retry a non-2xx answer): wrap the handler in `blueprint()`, `super().blueprint(limited_handler(h, name))`."""

    async def handle(message: Any) -> Any:
        if not (limiter or RATE_LIMITER).allow(f"{channel}:{message.sender_id}"):
            logger.warning("%s: a message over the rate limit was dropped", channel)
            return None
        return await on_new_message(message)

    return handle


# Who is asking: the peer of the TCP connection, or the address a proxy on this machine saw -----------------------
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def loopback(address: Optional[str]) -> bool:
    try:
        return ipaddress.ip_address((address or "").strip("[]")).is_loopback
    except ValueError:
        return False


def is_local(request: Any) -> bool:
    """A request from this machine itself: a loopback peer and no forwarding header. The cluster's nginx and any
    documented tunnel add X-Forwarded-For / X-Real-IP, so what they carry from elsewhere is never local."""
    return loopback(getattr(request, "ip", "")) and not any(request.headers.get(h) for h in FORWARDING_HEADERS)


def client_address(request: Any) -> str:
    """The address to limit per: the peer, unless the peer is a proxy on this machine (loopback), then the address
    that proxy saw: its X-Real-IP, else the last (rightmost) X-Forwarded-For entry, the one it appended. Never the
    leftmost X-Forwarded-For, which the client writes itself."""
    peer = str(getattr(request, "ip", "") or "?")
    if not loopback(peer):
        return peer
    real = (request.headers.get("x-real-ip") or "").strip()
    if real:
        return real
    forwarded = [part.strip() for part in (request.headers.get("x-forwarded-for") or "").split(",") if part.strip()]
    return forwarded[-1] if forwarded else peer


def over_https(request: Any) -> bool:
    """The request really came over HTTPS: TLS on this server's own socket, or a proxy on this machine (the
    cluster's nginx, a host nginx, a tunnel on loopback) that says so in X-Forwarded-Proto. A client elsewhere
    cannot claim it: the header counts only from a loopback peer. A phone on the Wi-Fi's http:// address is not."""
    conn = getattr(request, "conn_info", None)
    if conn is not None and getattr(conn, "ssl", False):
        return True
    proto = (request.headers.get("x-forwarded-proto") or "").split(",")[-1].strip().lower()
    return proto == "https" and loopback(getattr(request, "ip", ""))


def limit_request_size(app: object) -> None:
    """Cap request bodies for the whole Rasa server unless the operator set SANIC_REQUEST_MAX_SIZE themselves."""
    if os.environ.get("SANIC_REQUEST_MAX_SIZE"):
        return
    config = getattr(app, "config", None)
    if config is not None and getattr(config, "REQUEST_MAX_SIZE", 0) > MAX_REQUEST_BYTES:
        config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
