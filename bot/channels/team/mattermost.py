"""Mattermost: the shipped connector checks no token. Here every outgoing-webhook and slash-command request must
carry one of the configured tokens, button presses must carry a signature made for the person they were sent to,
each person has a sender per team, mentions (the webhook's trigger word, e.g. `@coach`) are answered in the
post's thread and `/coach ...` (which also works in DMs) privately through its response URL.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.mattermost import MattermostInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import limited_handler

from . import common

logger = logging.getLogger(__name__)

PLATFORM = "mattermost"
NEEDS = "MATTERMOST_URL, MATTERMOST_BOT_TOKEN, MATTERMOST_TOKENS and MATTERMOST_WEBHOOK_URL"


class MattermostOut(OutputChannel):
    """Posts as the bot through the REST API (in the thread of `root`), or to a slash command's response URL."""

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(self, api: str, token: str, channel: str, root: str, response_url: str, webhook_url: str, secret: str, user: str) -> None:
        self.api, self.token, self.channel, self.root = api.rstrip("/"), token, channel, root
        self.response_url, self.webhook_url, self.secret, self.user = response_url, webhook_url, secret, user

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
        await self.post(common.to_mattermost(text))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.post(common.to_mattermost(text), [{"actions": self.actions(buttons)}])

    def actions(self, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Interactive buttons: Mattermost posts `context` back to our webhook, signed for the person they are for."""
        return [
            {
                "id": f"coach{n}",
                "name": b["title"] or b["payload"],
                "type": "button",
                "integration": {
                    "url": self.webhook_url,
                    "context": {"action": b["payload"], "root": self.root, "sig": common.sign(self.secret, self.user, b["payload"])},
                },
            }
            for n, b in enumerate(common.buttons_of(buttons))
        ]


class Mattermost(MattermostInput):
    @classmethod
    def name(cls) -> str:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Mattermost:
        get = lambda key, env: common.setting(credentials, key, env)
        return cls(
            get("url", "MATTERMOST_URL"),
            get("token", "MATTERMOST_BOT_TOKEN"),
            get("webhook_url", "MATTERMOST_WEBHOOK_URL"),
            common.secrets_list(get("tokens", "MATTERMOST_TOKENS")),
            get("trigger", "MATTERMOST_TRIGGER") or "@coach",
        )

    def __init__(self, url: str, token: str, webhook_url: str, tokens: Optional[List[str]] = None, trigger: str = "@coach") -> None:
        super().__init__(url, token, webhook_url)
        self.tokens, self.trigger = tokens or [], trigger
        self.enabled = bool(url and token and self.tokens)
        if not self.enabled:
            common.log_disabled(PLATFORM, NEEDS)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        on_new_message = limited_handler(on_new_message, PLATFORM)  # per-sender rate limit: bot/limits.py
        bp, live = common.team_blueprint(PLATFORM, self.enabled, NEEDS)
        if not live:
            return bp
        secret = self.tokens[0]

        @bp.route("/webhook", methods=["POST"])
        @common.malformed_is_400(PLATFORM)
        async def webhook(request: Request) -> HTTPResponse:
            form = (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded")
            data: Dict[str, Any] = {k: request.form.get(k) for k in request.form} if form else (request.json or {})
            if not isinstance(data, dict):
                return common.reject(PLATFORM, "body is not a Mattermost payload", 400)
            context = data.get("context") if isinstance(data.get("context"), dict) else None
            user, team, channel = str(data.get("user_id") or ""), str(data.get("team_id") or ""), str(data.get("channel_id") or "")
            root, response_url = "", ""
            if context is not None:  # a button press: Mattermost sends no token, so the button carries a signature
                text = str(context.get("action") or "")
                if not common.same_secret(str(context.get("sig") or ""), common.sign(secret, user, text)):
                    return common.reject(PLATFORM, "button press without a valid signature for this user", 403)
                root = str(context.get("root") or "")
            else:
                if not data.get("token"):
                    return common.reject(PLATFORM, "missing token")
                if not common.any_secret(str(data["token"]), self.tokens):
                    return common.reject(PLATFORM, "wrong token", 403)
                if data.get("command"):  # slash command: `/coach he keeps interrupting me`, in channels and DMs
                    text, response_url = str(data.get("text") or "") or "/help", str(data.get("response_url") or "")
                elif data.get("trigger_word") or self.trigger.lower() in str(data.get("text") or "").lower():
                    text = common.strip_mention(str(data.get("text") or ""), str(data.get("trigger_word") or ""), self.trigger)
                    root = str(data.get("root_id") or data.get("post_id") or "")
                else:
                    return response.json({})
            if not user or not text:
                return response.json({})
            sender = common.sender_id(PLATFORM, team, user)
            common.remember_profile(sender, str(data.get("user_name") or ""), PLATFORM, team or None, str(data.get("team_domain") or ""))
            out = MattermostOut(self.url, self.token, channel, root, response_url, self.webhook_url, secret, user)
            try:
                await on_new_message(UserMessage(text, out, sender, input_channel=PLATFORM, metadata={"team": team}))
            except Exception:
                logger.exception("mattermost: the message could not be handled")
            return response.json({})

        return bp
