"""Rocket.Chat: the shipped connector checks nothing and keys by channel (a room shares one conversation). Here the
outgoing integration's token is required, each person has a sender per server, channels are answered when the bot
is @mentioned (DMs always) in the message's thread, and buttons are message actions that send `@bot <payload>`.

Replies go through the REST API with the bot's personal access token (no password login at start-up).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rocketchat import RocketChatInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import limited_handler

from . import common

logger = logging.getLogger(__name__)

PLATFORM = "rocketchat"
NEEDS = "ROCKETCHAT_URL, ROCKETCHAT_BOT_USER_ID, ROCKETCHAT_BOT_TOKEN, ROCKETCHAT_BOT_USERNAME and ROCKETCHAT_WEBHOOK_TOKEN"


class RocketChatOut(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(self, server: str, user_id: str, token: str, bot: str, room: str, thread: Optional[str]) -> None:
        self.server, self.user_id, self.token, self.bot, self.room, self.thread = server.rstrip("/"), user_id, token, bot, room, thread

    async def post(self, text: str, attachments: Optional[List[Dict[str, Any]]] = None) -> None:
        body: Dict[str, Any] = {"roomId": self.room, "text": common.to_rocketchat(text)}
        if self.thread:
            body["tmid"] = self.thread
        if attachments:
            body["attachments"] = attachments
        headers = {"X-Auth-Token": self.token, "X-User-Id": self.user_id}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.server}/api/v1/chat.postMessage", json=body, headers=headers) as r,
        ):
            if r.status >= 300:
                logger.error("rocketchat: posting failed with HTTP %d", r.status)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.post(text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        actions = [
            {
                "type": "button",
                "text": b["title"] or b["payload"],
                "msg": f"@{self.bot} {b['payload']}",
                "msg_in_chat_window": True,
                "msg_processing_type": "sendMessage",
            }
            for b in common.buttons_of(buttons)
        ]
        await self.post(text, [{"actions": actions}])


class RocketChat(RocketChatInput):
    @classmethod
    def name(cls) -> str:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> RocketChat:
        get = lambda key, env: common.setting(credentials, key, env)
        return cls(
            get("server_url", "ROCKETCHAT_URL"),
            get("user_id", "ROCKETCHAT_BOT_USER_ID"),
            get("token", "ROCKETCHAT_BOT_TOKEN"),
            get("user", "ROCKETCHAT_BOT_USERNAME"),
            get("webhook_token", "ROCKETCHAT_WEBHOOK_TOKEN"),
            get("workspace", "ROCKETCHAT_WORKSPACE"),
        )

    def __init__(self, server_url: str, user_id: str, token: str, username: str, webhook_token: str, workspace: str = "") -> None:
        super().__init__(username.lstrip("@"), "", server_url)
        self.user_id, self.token, self.webhook_token = user_id, token, webhook_token
        self.workspace = workspace or urlsplit(server_url).netloc or "rocketchat"
        self.enabled = all((server_url, user_id, token, username, webhook_token))
        if not self.enabled:
            common.log_disabled(PLATFORM, NEEDS)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = limited_handler(on_new_message, PLATFORM)  # per-sender rate limit: bot/limits.py
        bp, live = common.team_blueprint(PLATFORM, self.enabled, NEEDS)
        if not live:
            return bp

        @bp.route("/webhook", methods=["POST"])
        @common.malformed_is_400(PLATFORM)
        async def webhook(request: Request) -> HTTPResponse:
            data = request.json
            if not isinstance(data, dict):
                return common.reject(PLATFORM, "body is not a Rocket.Chat payload", 400)
            if not data.get("token"):
                return common.reject(PLATFORM, "missing token")
            if not common.same_secret(str(data["token"]), self.webhook_token):
                return common.reject(PLATFORM, "wrong token", 403)
            user, room, text = str(data.get("user_id") or ""), str(data.get("channel_id") or ""), str(data.get("text") or "")
            if not user or not room or user == self.user_id or data.get("bot") or data.get("user_name") == self.user:
                return response.json({})  # the bot's own posts and other bots
            direct = self.user_id in room  # a DM room's id joins the two members' ids
            if not direct and f"@{self.user}".lower() not in text.lower():
                return response.json({})
            text = common.strip_mention(text, f"@{self.user}")
            if not text:
                return response.json({})
            sender = common.sender_id(PLATFORM, self.workspace, user)
            await common.remember_profile(sender, str(data.get("user_name") or ""), PLATFORM, self.workspace)
            thread = None if direct else str(data.get("tmid") or data.get("message_id") or "") or None
            out = RocketChatOut(self.server_url, self.user_id, self.token, self.user, room, thread)
            try:
                await on_new_message(UserMessage(text, out, sender, input_channel=PLATFORM, metadata={"room": room}))
            except Exception:
                logger.exception("rocketchat: the message could not be handled")
            return response.json({})

        return bp
