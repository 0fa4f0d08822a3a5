"""Rocket.Chat: the shipped connector checks nothing and keys by channel (a room shares one conversation). Here the
outgoing integration's token is required, each person has a sender per server, channels are answered when the bot
is @mentioned (DMs always) in the message's thread, and buttons are message actions that send `@bot <payload>`.

Replies go through the REST API with the bot's personal access token (no password login at start-up).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp
from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.rocketchat import RocketChatInput
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.buttons import pressable
from bot.channels.connector import Connector, Incoming, Parsed, Refused, same_secret, setting, strip_mention
from bot.channels.markup import to_rocketchat

logger = logging.getLogger(__name__)

PLATFORM = "rocketchat"
MAX_BODY = 1024 * 1024  # bytes: an outgoing-integration post with a long message, with room to spare
NEEDS = "ROCKETCHAT_URL, ROCKETCHAT_BOT_USER_ID, ROCKETCHAT_BOT_TOKEN, ROCKETCHAT_BOT_USERNAME and ROCKETCHAT_WEBHOOK_TOKEN"


class RocketChatOut(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(self, server: str, user_id: str, token: str, bot: str, room: str, thread: Optional[str]) -> None:
        self.server, self.user_id, self.token, self.bot, self.room, self.thread = server.rstrip("/"), user_id, token, bot, room, thread

    async def post(self, text: str, attachments: Optional[List[Dict[str, Any]]] = None) -> None:
        body: Dict[str, Any] = {"roomId": self.room, "text": to_rocketchat(text)}
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
            for b in pressable(buttons)
        ]
        await self.post(text, [{"actions": actions}])


class RocketChat(Connector, RocketChatInput):
    platform, needs, max_body = PLATFORM, NEEDS, MAX_BODY

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> RocketChat:
        return cls(
            setting(credentials, "server_url", "ROCKETCHAT_URL"),
            setting(credentials, "user_id", "ROCKETCHAT_BOT_USER_ID"),
            setting(credentials, "token", "ROCKETCHAT_BOT_TOKEN"),
            setting(credentials, "user", "ROCKETCHAT_BOT_USERNAME"),
            setting(credentials, "webhook_token", "ROCKETCHAT_WEBHOOK_TOKEN"),
            setting(credentials, "workspace", "ROCKETCHAT_WORKSPACE"),
        )

    def __init__(self, server_url: str, user_id: str, token: str, username: str, webhook_token: str, workspace: str = "") -> None:
        super().__init__(username.lstrip("@"), "", server_url)
        self.user_id, self.token, self.webhook_token = user_id, token, webhook_token
        self.workspace = workspace or urlsplit(server_url).netloc or "rocketchat"

    @property
    def enabled(self) -> bool:
        return all((self.server_url, self.user_id, self.token, self.user, self.webhook_token))

    def ack(self) -> HTTPResponse:
        return response.json({})

    async def verified(self, request: Request) -> Any:
        data = request.json
        if not isinstance(data, dict):
            raise Refused(400, "body is not a Rocket.Chat payload")
        if not data.get("token"):
            raise Refused(401, "missing token")
        if not same_secret(str(data["token"]), self.webhook_token):
            raise Refused(403, "wrong token")
        return data

    async def direct_output(self, platform_user: str, space: str) -> RocketChatOut:
        """A direct room's id is the two members' user ids joined in sorted order (the room of their last DM)."""
        room = "".join(sorted((self.user_id, platform_user)))
        return RocketChatOut(self.server_url, self.user_id, self.token, self.user, room, None)

    async def parse(self, request: Request, data: Any) -> Parsed:
        user, room, text = str(data.get("user_id") or ""), str(data.get("channel_id") or ""), str(data.get("text") or "")
        if not user or not room or user == self.user_id or data.get("bot") or data.get("user_name") == self.user:
            return None  # the bot's own posts and other bots
        direct = self.user_id in room  # a DM room's id joins the two members' ids
        if not direct and f"@{self.user}".lower() not in text.lower():
            return None
        thread = None if direct else str(data.get("tmid") or data.get("message_id") or "") or None
        return Incoming(
            strip_mention(text, f"@{self.user}"),
            self.sender_id(self.workspace, user),
            RocketChatOut(self.server_url, self.user_id, self.token, self.user, room, thread),
            {"room": room},
            name=str(data.get("user_name") or ""),
            workspace=self.workspace,
        )
