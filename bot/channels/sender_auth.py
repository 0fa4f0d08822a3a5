"""Who may speak as a REST or socket.io sender: a tool on this machine, or the holder of a sender token.

REST and socket.io let the client name its sender id, so without a check anyone who can reach the Rasa port reads
and writes any conversation whose id they guess. Here:

- a request from this machine (loopback peer, no X-Forwarded-For / X-Real-IP / Forwarded header: bot/limits.py
  is_local) keeps working without a token, so `make shell`, the eval scripts and the tests do;
- anything else (another machine, or anything through the cluster's nginx or a tunnel, which add the header)
  must carry a *sender token*: an HS256 JWT signed with the Rasa server's JWT secret whose `sub` is the sender
  id and whose `aud` is SENDER_AUDIENCE. `scripts/api-token.sh --sender ID` mints one; a site embedding a widget
  mints them on its server for its signed-in users.

The audience keeps the two kinds of token apart both ways: the HTTP API's operator or per-conversation tokens
(claims `user.username` / `user.role`, no audience) are refused here, and a sender token is refused by Rasa's
HTTP API (PyJWT rejects a token with an audience it was not asked to check).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import jwt

from bot.limits import is_local
from knowledge import paths

logger = logging.getLogger(__name__)

SENDER_AUDIENCE = "coach-sender"
JWT_SECRET_ENV = "COACH_JWT_SECRET"  # the secret itself (as scripts/api-token.sh reads it)
JWT_SECRET_FILE_ENV = "COACH_JWT_SECRET_FILE"  # or a file holding it; else var/jwt_secret
LEEWAY_SECONDS = 30  # clock difference tolerated between the minting site and this server


def jwt_secret() -> str:
    """The Rasa server's JWT secret: $COACH_JWT_SECRET, else the file $COACH_JWT_SECRET_FILE, else var/jwt_secret;
    "" when none is set (then only local requests are served)."""
    value = os.environ.get(JWT_SECRET_ENV, "").strip()
    if value:
        return value
    path = Path(os.environ.get(JWT_SECRET_FILE_ENV, "") or paths.var_dir() / "jwt_secret")
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def bearer(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization") or headers.get("Authorization") or ""
    return value[7:].strip() if value[:7].lower() == "bearer " else ""


def subject(token: str, secret: Optional[str] = None) -> Optional[str]:
    """The sender a sender token speaks for; None for anything else (an operator token, expired, forged)."""
    secret = jwt_secret() if secret is None else secret
    if not token or not secret:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=SENDER_AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWTError:
        return None
    if "user" in claims:  # an HTTP API token with an audience added: never a sender token
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


def mint(sender: str, secret: str, seconds: int = 24 * 3600) -> str:
    """A sender token (the site that embeds a widget does the same on its server)."""
    now = int(time.time())
    return jwt.encode({"sub": sender, "aud": SENDER_AUDIENCE, "iat": now, "exp": now + seconds}, secret, algorithm="HS256")


def refusal(request: Any, sender: str) -> Optional[tuple[int, str]]:
    """None when the request may speak as `sender`; else (status, reason)."""
    if is_local(request):
        return None
    token = bearer(request.headers)
    if not token:
        return 401, "a sender token is required from another machine: Authorization: Bearer <jwt with sub = the sender>"
    if subject(token) != sender:
        return 403, "the token is not a sender token for this sender"
    return None


def local_environ(environ: Mapping[str, Any]) -> bool:
    """is_local for a socket.io connection (python-engineio's environ carries the Sanic request)."""
    request = environ.get("sanic.request")
    return request is not None and is_local(request)


CORS_ORIGINS_ENV = "COACH_CORS_ORIGINS"  # comma-separated sites that may embed a widget: https://shop.example.com


def allowed_origins() -> list[str]:
    return [o.strip().rstrip("/").lower() for o in os.environ.get(CORS_ORIGINS_ENV, "").split(",") if o.strip()]


def origin_allowed(origin: Optional[str], host: Optional[str]) -> bool:
    """A browser request's Origin: none (not a browser page), this server's own pages (same host and port), or a
    site listed in $COACH_CORS_ORIGINS. Anything else is a page on another site using the visitor's browser."""
    if not origin:
        return True
    from urllib.parse import urlsplit

    if host and urlsplit(origin).netloc.lower() == host.lower():
        return True
    return origin.strip().rstrip("/").lower() in allowed_origins()
