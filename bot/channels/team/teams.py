"""Microsoft Teams through the Bot Framework: the shipped JWT check, tightened (RS256 only, issuer, expiry, and the
token's serviceUrl must be the activity's), keys fetched when first needed instead of at start-up, then daily
and off the event loop (an unknown key id fetches again at most every KEYS_RETRY_SECONDS), configurable
OpenID/token URLs, a sender per person per tenant, replies in the message's thread and hero-card buttons.

In a channel Teams delivers a message only when the bot is @mentioned; the mention is checked again here.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import time
from typing import Any, Dict, List, Optional

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import (
    MICROSOFT_OAUTH2_PATH,
    MICROSOFT_OAUTH2_URL,
    MICROSOFT_OPEN_ID_URI,
    BotFramework,
    BotFrameworkInput,
)
from sanic.request import Request

from bot.channels.buttons import pressable
from bot.channels.connector import REACH_TTL, Connector, Incoming, Parsed, Refused, setting
from bot.channels.markup import to_teams

logger = logging.getLogger(__name__)

PLATFORM = "botframework"
NEEDS = "TEAMS_APP_ID and TEAMS_APP_PASSWORD"
ISSUER = "https://api.botframework.com"
MAX_BODY = 1024 * 1024  # bytes: an activity with a long message, its entities and channel data, with room to spare
KEYS_MAX_AGE = 24 * 3600.0  # seconds: Microsoft's advice, refresh the signing keys daily
KEYS_RETRY_SECONDS = 300.0  # an unknown key id fetches the keys again at most this often: forged key ids cost nothing
KEYS_TIMEOUT = 10  # seconds per fetch of the OpenID configuration or the keys
AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class Tokens:
    """The bot's outgoing access token, shared by the replies of one connector (not class-wide as shipped)."""

    def __init__(self, app_id: str, password: str, url: str) -> None:
        self.app_id, self.password, self.url = app_id, password, url
        self.token, self.expires = "", datetime.datetime.min

    async def header(self) -> Dict[str, str]:
        if datetime.datetime.now() >= self.expires:
            data = {
                "client_id": self.app_id,
                "client_secret": self.password,
                "grant_type": "client_credentials",
                "scope": "https://api.botframework.com/.default",
            }
            async with aiohttp.ClientSession() as session, session.post(self.url, data=data) as r:
                r.raise_for_status()
                body = await r.json(content_type=None)
            self.token = body["access_token"]
            self.expires = datetime.datetime.now() + datetime.timedelta(seconds=int(body.get("expires_in", 3600)) - 60)
        return {"Authorization": f"Bearer {self.token}", "content-type": "application/json"}


class TeamsOutput(BotFramework):
    """Replies to one activity: in its thread, markdown text, buttons as a hero card of messageBack actions."""

    def __init__(
        self,
        app_id: str,
        app_password: str,
        conversation: Dict[str, Any],
        bot: Dict[str, Any],
        service_url: str,
        reply_to: Optional[str],
        tokens: Tokens,
        user: Dict[str, Any],
    ) -> None:
        service_url = service_url if service_url.endswith("/") else service_url + "/"  # the shipped one appends "v3/"
        super().__init__(app_id, app_password, conversation, bot, service_url)  # type: ignore[arg-type]
        self.reply_to, self.tokens, self.user = reply_to, tokens, user

    def prepare_message(self, recipient_id: str, message_data: Dict[str, Any]) -> Dict[str, Any]:
        """Addressed to the person's Teams account, not to the Rasa sender id the shipped one would use."""
        data = super().prepare_message(recipient_id, message_data)
        data["recipient"] = {"id": self.user.get("id", ""), "name": self.user.get("name", "")}
        return data

    async def send(self, message_data: Dict[str, Any]) -> None:
        url = f"{self.global_uri}conversations/{self.conversation['id']}/activities"
        if self.reply_to:
            url += f"/{self.reply_to}"
            message_data["replyToId"] = self.reply_to
        message_data["conversation"] = {"id": self.conversation["id"]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, headers=await self.tokens.header(), data=json.dumps(message_data)) as r,
        ):
            if r.status >= 300:
                logger.error("botframework: sending failed with HTTP %d", r.status)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send(self.prepare_message(recipient_id, {"text": to_teams(text), "textFormat": "markdown"}))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.send(self.prepare_message(recipient_id, {"attachments": [hero_card(text, buttons)]}))


def hero_card(text: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A pressed messageBack button comes back as a message whose `value` carries the payload (no @mention needed)."""
    actions = [
        {"type": "messageBack", "title": b["title"], "text": b["title"], "displayText": b["title"], "value": {"payload": b["payload"]}}
        for b in pressable(buttons)
    ]
    return {"contentType": "application/vnd.microsoft.card.hero", "content": {"text": to_teams(text), "buttons": actions}}


class Teams(Connector, BotFrameworkInput):
    platform, needs, max_body = PLATFORM, NEEDS, MAX_BODY

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Teams:
        return cls(
            setting(credentials, "app_id", "TEAMS_APP_ID"),
            setting(credentials, "app_password", "TEAMS_APP_PASSWORD"),
            setting(credentials, "openid_url", "TEAMS_OPENID_URL", MICROSOFT_OPEN_ID_URI),
            setting(credentials, "token_url", "TEAMS_TOKEN_URL", f"{MICROSOFT_OAUTH2_URL}/{MICROSOFT_OAUTH2_PATH}"),
            setting(credentials, "issuer", "TEAMS_JWT_ISSUER", ISSUER),
        )

    def __init__(
        self,
        app_id: str,
        app_password: str,
        openid_url: str = MICROSOFT_OPEN_ID_URI,
        token_url: str = f"{MICROSOFT_OAUTH2_URL}/{MICROSOFT_OAUTH2_PATH}",
        issuer: str = ISSUER,
    ) -> None:
        # not the shipped __init__: it fetches Microsoft's keys at start-up; here they are fetched on first use
        self.app_id, self.app_password = app_id, app_password
        self.openid_url, self.issuer = openid_url, issuer
        self.tokens = Tokens(app_id, app_password, token_url)
        self.jwt_keys: Dict[str, Any] = {}
        self.keys_fetched = self.keys_tried = -1e12  # time.monotonic() of the last good fetch and of the last try
        self._keys_lock: Optional[asyncio.Lock] = None

    @property
    def enabled(self) -> bool:
        return bool(self.app_id and self.app_password)

    def keys_due(self, kid: Any) -> bool:
        """Time to fetch the keys: they are a day old, or the token names a key not held and the last try is
        KEYS_RETRY_SECONDS ago (so a flood of forged key ids makes at most one fetch per period)."""
        now = time.monotonic()
        if now - self.keys_fetched > KEYS_MAX_AGE and now - self.keys_tried > KEYS_RETRY_SECONDS / 10:
            return True
        return kid not in self.jwt_keys and now - self.keys_tried > KEYS_RETRY_SECONDS

    async def refresh_keys(self, kid: Any) -> None:
        """Fetch Microsoft's signing keys without blocking the event loop, one fetch at a time."""
        if self._keys_lock is None:
            self._keys_lock = asyncio.Lock()
        async with self._keys_lock:
            if not self.keys_due(kid):  # another request fetched them while this one waited
                return
            self.keys_tried = time.monotonic()
            try:
                timeout = aiohttp.ClientTimeout(total=KEYS_TIMEOUT)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.get(self.openid_url) as conf:
                        conf.raise_for_status()
                        jwks_uri = (await conf.json(content_type=None))["jwks_uri"]
                    async with session.get(jwks_uri) as keys:
                        keys.raise_for_status()
                        self.jwt_keys = {key["kid"]: key for key in (await keys.json(content_type=None))["keys"]}
                self.keys_fetched = time.monotonic()
            except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, TypeError, ValueError):
                logger.warning("botframework: could not fetch the signing keys from %s", self.openid_url)

    async def unverified(self, auth_header: Optional[str], activity: Dict[str, Any]) -> Optional[str]:
        """Why a request is not the Bot Framework's (None when it is)."""
        match = re.match(r"Bearer\s+(\S+)$", auth_header or "")
        if not match:
            return "no Bearer token in the Authorization header"
        token = match.group(1)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return "malformed JWT"
        if header.get("alg") != "RS256":
            return f"JWT algorithm {header.get('alg')!r} not allowed"
        if self.keys_due(header.get("kid")):
            await self.refresh_keys(header.get("kid"))
        if header.get("kid") not in self.jwt_keys:
            return "JWT signed by an unknown key"
        try:
            key: Any = RSAAlgorithm.from_jwk(self.jwt_keys[header["kid"]])
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
                leeway=300,
            )
        except jwt.ExpiredSignatureError:
            return "JWT expired"
        except jwt.InvalidAudienceError:
            return "JWT for another app id"
        except jwt.InvalidIssuerError:
            return "JWT from another issuer"
        except jwt.PyJWTError as e:
            return f"JWT invalid ({type(e).__name__})"
        if claims.get("serviceUrl") and claims["serviceUrl"].rstrip("/") != str(activity.get("serviceUrl", "")).rstrip("/"):
            return "serviceUrl does not match the token"
        return None

    async def verified(self, request: Request) -> Any:
        try:
            activity = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            activity = None
        if not isinstance(activity, dict):
            raise Refused(400, "body is not a JSON activity")
        reason = await self.unverified(request.headers.get("Authorization"), activity)
        if reason:
            raise Refused(401, reason)
        return activity

    def output(
        self, conversation: Dict[str, Any], bot: Dict[str, Any], service_url: str, reply_to: Optional[str], user: Dict[str, Any]
    ) -> TeamsOutput:
        return TeamsOutput(self.app_id, self.app_password, conversation, bot, service_url, reply_to, self.tokens, user)

    async def direct_output(self, platform_user: str, space: str) -> Optional[TeamsOutput]:
        """The person's 1:1 conversation with the bot, as their last personal message gave it (Teams needs its
        service URL and conversation id; kept REACH_TTL in the connectors' memory: the cluster's Redis, else this
        process); None until they have written to the bot privately."""
        raw = await self.memory.get(f"reach:{space}:{platform_user}")
        if not raw:
            return None
        known = json.loads(raw)
        return self.output(known["conversation"], known["bot"], known["service_url"], None, known["user"])

    async def parse(self, request: Request, activity: Any) -> Parsed:
        if activity.get("type") != "message":
            return None
        conversation, bot, user = activity.get("conversation") or {}, activity.get("recipient") or {}, activity.get("from") or {}
        value: Dict[str, Any] = activity["value"] if isinstance(activity.get("value"), dict) else {}
        personal = conversation.get("conversationType", "personal") == "personal"
        mentioned = any(
            e.get("type") == "mention" and (e.get("mentioned") or {}).get("id") == bot.get("id") for e in activity.get("entities") or []
        )
        if not (personal or mentioned or value.get("payload")):
            return None
        text = value.get("payload") or AT_TAG.sub(" ", activity.get("text") or "").strip()
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id") or conversation.get("tenantId") or "default"
        person = user.get("aadObjectId") or user.get("id", "")
        service_url = activity.get("serviceUrl", "")
        if personal and person:
            reach = {"conversation": conversation, "bot": bot, "service_url": service_url, "user": user}
            await self.memory.put(f"reach:{tenant}:{person}", json.dumps(reach), REACH_TTL)
        return Incoming(
            text,
            self.sender_id(tenant, person),
            self.output(conversation, bot, service_url, None if personal else activity.get("id"), user),
            {"tenant": tenant, "conversation": conversation.get("id")},
            name=user.get("name") or "",
            workspace=tenant,
        )
