"""Who may speak as a REST or socket.io sender: a tool on this machine, or the holder of a sender token.

REST and socket.io let the client name its sender id, so without a check anyone who can reach the Rasa port reads
and writes any conversation whose id they guess. Here:

- a request from this machine (loopback peer, no X-Forwarded-For / X-Real-IP / Forwarded header: bot/limits.py
  is_local) keeps working without a token, so `make shell`, the eval scripts and the tests do;
- anything else (another machine, or anything through the cluster's nginx or a tunnel, which add the header)
  must carry a *sender token*: an HS256 JWT signed with the Rasa server's JWT secret (the one its HTTP API takes,
  read the same way: knowledge/secret_files.py JWT) whose `sub` is the sender id and whose `aud` is
  SENDER_AUDIENCE. `scripts/api-token.sh --sender ID` mints one; a site embedding a widget mints them on its
  server for its signed-in users.

The audience keeps the two kinds of token apart both ways: the HTTP API's operator or per-conversation tokens
(claims `user.username` / `user.role`, no audience) are refused here, and a sender token is refused by Rasa's
HTTP API (PyJWT rejects a token with an audience it was not asked to check).
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Mapping, Optional

import jwt

from bot.limits import is_local
from knowledge import secret_files

logger = logging.getLogger(__name__)

SENDER_AUDIENCE = "coach-sender"
LEEWAY_SECONDS = 30  # clock difference tolerated between the minting site and this server


@functools.lru_cache(maxsize=1)
def jwt_secret() -> str:
    """The Rasa server's JWT secret, read as bot/start.py read it for Rasa's HTTP API (knowledge/secret_files.py:
    $COACH_JWT_SECRET, else the file $COACH_JWT_SECRET_FILE names, else var/jwt_secret), so one secret signs both
    kinds of token. Read once per process, as Rasa holds its copy: a file changed later takes effect for both at the
    next start. "" when it cannot be read (then only local requests are served)."""
    try:
        return secret_files.JWT.load()
    except secret_files.SecretError as e:
        logger.error("sender tokens are refused: %s", e)
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
