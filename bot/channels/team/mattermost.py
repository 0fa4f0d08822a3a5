"""Mattermost: the shipped connector checks no token. Here every outgoing-webhook and slash-command request must
carry one of the configured tokens, button presses must carry a signature made for the person, team, channel and
thread they were sent to, valid for ACTION_LIFETIME, with a key of their own (MATTERMOST_ACTION_SECRET, else one
made once into var/mattermost_action_secret; never the webhook token), each person has a sender per team, mentions
(the webhook's trigger word, e.g. `@coach`) are answered in the post's thread and `/coach ...` (which also works in
DMs) privately through its response URL, which must be on the Mattermost server (or MATTERMOST_RESPONSE_HOSTS).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp
from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.mattermost import MattermostInput
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.buttons import pressable
from bot.channels.connector import Connector, Incoming, Parsed, Refused, any_secret, secrets_list, setting, strip_mention
from bot.channels.markup import to_mattermost
from knowledge import secret_files
from knowledge.secret_files import MIN_SECRET_CHARS

logger = logging.getLogger(__name__)

PLATFORM = "mattermost"
NEEDS = "MATTERMOST_URL, MATTERMOST_BOT_TOKEN, MATTERMOST_TOKENS and MATTERMOST_WEBHOOK_URL"
MAX_BODY = 1024 * 1024  # bytes: a post of 16,383 characters (Mattermost's limit) as a form or JSON, with room to spare
ACTION_LIFETIME = 7 * 24 * 3600  # seconds a button works: a week of a practice thread; older presses get 403


def action_signature(key: str, user: str, team: str, channel: str, root: str, payload: str, expires: str) -> str:
    """HMAC-SHA256 over everything a press must match, as one JSON list (no field can run into the next)."""
    fields = json.dumps(["mattermost-action", user, team, channel, root, payload, expires], ensure_ascii=False)
    return hmac.new(key.encode(), fields.encode(), hashlib.sha256).hexdigest()


def action_context(key: str, user: str, team: str, channel: str, root: str, payload: str, now: Optional[float] = None) -> Dict[str, str]:
    """What a button carries back to the webhook (Mattermost posts it with no token)."""
    expires = str(int((time.time() if now is None else now) + ACTION_LIFETIME))
    sig = action_signature(key, user, team, channel, root, payload, expires)
    return {"action": payload, "root": root, "team": team, "channel": channel, "exp": expires, "sig": sig}


def press_refusal(key: str, data: Dict[str, Any], context: Dict[str, Any], now: Optional[float] = None) -> Optional[str]:
    """Why a button press is not one the coach made for this person, team and channel (None when it is)."""
    user, team, channel = (str(data.get(k) or "") for k in ("user_id", "team_id", "channel_id"))
    expires, root, payload = str(context.get("exp") or ""), str(context.get("root") or ""), str(context.get("action") or "")
    if context.get("team") != team or context.get("channel") != channel:
        return "button press from another team or channel"
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return "button press expired"
    expected = action_signature(key, user, team, channel, root, payload, expires)
    if not hmac.compare_digest(str(context.get("sig") or "").encode(), expected.encode()):
        return "button press without a valid signature for this user"
    return None


class MattermostOut(OutputChannel):
    """Posts as the bot through the REST API (in the thread of `root`), or to a slash command's response URL."""

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(
        self, api: str, token: str, team: str, channel: str, root: str, response_url: str, webhook_url: str, key: str, user: str
    ) -> None:
        self.api, self.token, self.team, self.channel, self.root = api.rstrip("/"), token, team, channel, root
        self.response_url, self.webhook_url, self.key, self.user = response_url, webhook_url, key, user

    async def post(self, message: str, attachments: Optional[List[Dict[str, Any]]] = None) -> None:
        props = {"attachments": attachments} if attachments else {}
        if self.response_url:
            url, headers = self.response_url, {}
            body: Dict[str, Any] = {"response_type": "ephemeral", "text": message, "props": props}
        else:
            url, headers = f"{self.api}/posts", {"Authorization": f"Bearer {self.token}"}
            body = {"channel_id": self.channel, "message": message, "root_id": self.root, "props": props}
        async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
            if r.status >= 300:
                logger.error("mattermost: posting failed with HTTP %d", r.status)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.post(to_mattermost(text))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.post(to_mattermost(text), [{"actions": self.actions(buttons)}])

    def actions(self, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Interactive buttons: Mattermost posts `context` back to our webhook, signed for the person they are for."""
        return [
            {
                "id": f"coach{n}",
                "name": b["title"] or b["payload"],
                "type": "button",
                "integration": {
                    "url": self.webhook_url,
                    "context": action_context(self.key, self.user, self.team, self.channel, self.root, b["payload"]),
                },
            }
            for n, b in enumerate(pressable(buttons))
        ]


class Mattermost(Connector, MattermostInput):
    platform, needs, max_body = PLATFORM, NEEDS, MAX_BODY

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Mattermost:
        return cls(
            setting(credentials, "url", "MATTERMOST_URL"),
            setting(credentials, "token", "MATTERMOST_BOT_TOKEN"),
            setting(credentials, "webhook_url", "MATTERMOST_WEBHOOK_URL"),
            secrets_list(setting(credentials, "tokens", "MATTERMOST_TOKENS")),
            setting(credentials, "trigger", "MATTERMOST_TRIGGER", "@coach"),
            secrets_list(setting(credentials, "response_hosts", "MATTERMOST_RESPONSE_HOSTS")),
            setting(credentials, "action_secret", "MATTERMOST_ACTION_SECRET"),
        )

    def __init__(
        self,
        url: str,
        token: str,
        webhook_url: str,
        tokens: Optional[List[str]] = None,
        trigger: str = "@coach",
        response_hosts: Optional[List[str]] = None,
        action_secret: str = "",
    ) -> None:
        super().__init__(url, token, webhook_url)
        self.tokens, self.trigger = tokens or [], trigger
        if action_secret and len(action_secret) < MIN_SECRET_CHARS:
            raise ValueError(f"MATTERMOST_ACTION_SECRET is shorter than {MIN_SECRET_CHARS} characters: use a random one")
        self.action_secret = action_secret
        self._key = ""
        self._bot_id = ""
        # slash-command answers go only to the Mattermost server itself (or hosts the operator lists)
        self.response_hosts = {urlsplit(url).netloc.lower()} | {h.lower() for h in response_hosts or []}

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token and self.tokens)

    @property
    def key(self) -> str:
        """The buttons' own signing key (never a webhook token): MATTERMOST_ACTION_SECRET, else var/'s, read once."""
        if not self._key:
            self._key = self.action_secret or secret_files.MATTERMOST_ACTION.load()
        return self._key

    def ack(self) -> HTTPResponse:
        return response.json({})

    async def verified(self, request: Request) -> Any:
        form = (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded")
        data: Dict[str, Any] = {k: request.form.get(k) for k in request.form} if form else (request.json or {})
        if not isinstance(data, dict):
            raise Refused(400, "body is not a Mattermost payload")
        context = data.get("context") if isinstance(data.get("context"), dict) else None
        if context is not None:  # a button press: Mattermost sends no token, so the button carries a signature
            refused = press_refusal(self.key, data, context)
            if refused:
                raise Refused(403, refused)
            return data
        if not data.get("token"):
            raise Refused(401, "missing token")
        if not any_secret(str(data["token"]), self.tokens):
            raise Refused(403, "wrong token")
        response_url = str(data.get("response_url") or "") if data.get("command") else ""
        where = urlsplit(response_url)
        if response_url and (where.scheme not in ("http", "https") or where.netloc.lower() not in self.response_hosts):
            raise Refused(403, "response_url outside the Mattermost server")
        return data

    def output(self, team: str, channel: str, root: str, response_url: str, user: str) -> MattermostOut:
        return MattermostOut(self.url, self.token, team, channel, root, response_url, self.webhook_url, self.key, user)

    async def direct_output(self, platform_user: str, space: str) -> Optional[MattermostOut]:
        """The bot's direct channel with the person (POST /channels/direct with the bot's and their user ids)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        api = self.url.rstrip("/")
        async with aiohttp.ClientSession() as session:
            if not self._bot_id:
                async with session.get(f"{api}/users/me", headers=headers) as r:
                    self._bot_id = str((await r.json(content_type=None) or {}).get("id") or "") if r.status < 300 else ""
            if not self._bot_id:
                return None
            async with session.post(f"{api}/channels/direct", json=[self._bot_id, platform_user], headers=headers) as r:
                channel = str((await r.json(content_type=None) or {}).get("id") or "") if r.status < 300 else ""
        return self.output(space, channel, "", "", platform_user) if channel else None

    async def parse(self, request: Request, data: Any) -> Parsed:
        context = data.get("context") if isinstance(data.get("context"), dict) else None
        user, team, channel = str(data.get("user_id") or ""), str(data.get("team_id") or ""), str(data.get("channel_id") or "")
        root, response_url = "", ""
        if context is not None:
            text, root = str(context.get("action") or ""), str(context.get("root") or "")
        elif data.get("command"):  # slash command: `/coach he keeps interrupting me`, in channels and DMs
            text, response_url = str(data.get("text") or "") or "/help", str(data.get("response_url") or "")
        elif data.get("trigger_word") or self.trigger.lower() in str(data.get("text") or "").lower():
            text = strip_mention(str(data.get("text") or ""), str(data.get("trigger_word") or ""), self.trigger)
            root = str(data.get("root_id") or data.get("post_id") or "")
        else:
            return None
        if not user:
            return None
        return Incoming(
            text,
            self.sender_id(team, user),
            self.output(team, channel, root, response_url, user),
            {"team": team},
            name=str(data.get("user_name") or ""),
            workspace=team,
            team_name=str(data.get("team_domain") or ""),
        )
