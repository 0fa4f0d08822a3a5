"""Telegram: the shipped connector keys by chat (a whole group shares one conversation) and ignores the webhook's
secret token. Here every request must carry X-Telegram-Bot-Api-Secret-Token, each person in a chat has their own
sender, groups are answered only when the bot is mentioned, commanded (/coach) or replied to, answers quote the
person's message (in forum topics that keeps them in the topic), and buttons are inline keyboards.

The webhook is registered once by hand (see README) instead of at start-up, so starting the server calls no one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any, Dict, List, Optional

import aiohttp
from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.telegram import TelegramInput
from rasa.shared.exceptions import InvalidConfigException
from sanic.request import Request

from bot.channels.buttons import pressable
from bot.channels.connector import INTENT_OF_COMMAND, Connector, Incoming, Memory, Parsed, Refused, same_secret, setting, strip_mention
from bot.channels.markup import to_telegram_html

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
NEEDS = "TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN and TELEGRAM_BOT_USERNAME"
DEFAULT_API = "https://api.telegram.org"
MAX_BODY = 1024 * 1024  # bytes: an update with a 4096-character message and its entities, with room to spare
MAX_CALLBACK = 64  # bytes of callback_data Telegram accepts
PAYLOAD_TTL = 7 * 24 * 3600  # seconds a long button payload is kept: a week of a practice thread, as Mattermost's buttons
COMMANDS = ("coach", "start", "help")


class Payloads:
    """Payloads longer than callback_data allows, kept by a short hash in the connectors' one store (the cluster's
    Redis, so a press reaching another server works; else this process: a press after a restart falls back to the
    button's title)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def pack(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK and not payload.startswith("#"):
            return payload
        key = "#" + hashlib.sha256(payload.encode()).hexdigest()[:20]
        await self.memory.put(f"payload:{key}", payload, PAYLOAD_TTL)
        return key

    async def unpack(self, data: str) -> Optional[str]:
        return await self.memory.get(f"payload:{data}") if data.startswith("#") else data


class TelegramOut(OutputChannel):
    """sendMessage at a configurable API base; HTML markup; in groups a reply to the person's message."""

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def __init__(self, api: str, token: str, chat_id: int, reply_to: Optional[int], payloads: Payloads) -> None:
        self.url = f"{api.rstrip('/')}/bot{token}/"
        self.chat_id, self.reply_to, self.payloads = chat_id, reply_to, payloads

    async def call(self, method: str, body: Dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as session, session.post(self.url + method, json=body) as r:
            if r.status >= 300:
                logger.error("telegram: %s failed with HTTP %d", method, r.status)

    async def message(self, text: str, markup: Optional[Dict[str, Any]] = None) -> None:
        body: Dict[str, Any] = {"chat_id": self.chat_id, "text": to_telegram_html(text) or "…", "parse_mode": "HTML"}
        if self.reply_to:
            body["reply_to_message_id"] = self.reply_to
            body["allow_sending_without_reply"] = True
        if markup:
            body["reply_markup"] = markup
        await self.call("sendMessage", body)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.message(text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.message(text, await inline_keyboard(buttons, self.payloads))


async def inline_keyboard(buttons: List[Dict[str, Any]], payloads: Payloads) -> Dict[str, Any]:
    """One button a row: the coach's titles are short sentences that do not fit side by side on a phone."""
    return {
        "inline_keyboard": [
            [{"text": b["title"] or b["payload"], "callback_data": await payloads.pack(b["payload"])}] for b in pressable(buttons)
        ]
    }


def display_name(user: Dict[str, Any]) -> str:
    return " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or user.get("username", "")


class Telegram(Connector, TelegramInput):
    platform, needs, max_body = PLATFORM, NEEDS, MAX_BODY

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Telegram:
        return cls(
            setting(credentials, "access_token", "TELEGRAM_TOKEN"),
            setting(credentials, "verify", "TELEGRAM_BOT_USERNAME"),
            setting(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN"),
            setting(credentials, "api_url", "TELEGRAM_API_URL", DEFAULT_API),
        )

    def __init__(self, access_token: str, bot_username: str, secret_token: str, api_url: str = DEFAULT_API) -> None:
        super().__init__(access_token, bot_username.lstrip("@"), None, debug_mode=False)
        self.secret_token, self.api_url = secret_token, api_url
        self.payloads = Payloads(self.memory)
        if self.enabled and not (secret_token and bot_username):
            raise InvalidConfigException(
                "telegram: TELEGRAM_SECRET_TOKEN and TELEGRAM_BOT_USERNAME are required with "
                "TELEGRAM_TOKEN: without the secret anyone could post as any user"
            )

    @property
    def enabled(self) -> bool:
        return bool(self.access_token)

    def addressed(self, message: Dict[str, Any]) -> Optional[str]:
        """The text meant for the bot (mention and command removed), or None when the group chat is not for it."""
        text = message.get("text") or ""
        bot = (self.verify or "").lower()
        private = (message.get("chat") or {}).get("type") == "private"
        command = re.match(r"^/(\w+)(?:@(\w+))?\s*", text)
        if command and command.group(1).lower() in COMMANDS and (not command.group(2) or command.group(2).lower() == bot):
            rest = text[command.end() :].strip()
            return rest or INTENT_OF_COMMAND.get(f"/{command.group(1).lower()}", "/greet")
        mentioned = f"@{bot}" in text.lower()
        replied = ((message.get("reply_to_message") or {}).get("from") or {}).get("username", "").lower() == bot
        if private or mentioned or replied:
            return strip_mention(text, f"@{self.verify}")
        return None

    async def verified(self, request: Request) -> Any:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if not given:
            raise Refused(401, "missing X-Telegram-Bot-Api-Secret-Token")
        if not same_secret(given, self.secret_token):
            raise Refused(403, "wrong secret token")
        return request.json or {}

    def output(self, chat_id: int, reply_to: Optional[int]) -> TelegramOut:
        return TelegramOut(self.api_url, self.access_token or "", chat_id, reply_to, self.payloads)

    async def direct_output(self, platform_user: str, space: str) -> Optional[TelegramOut]:
        """A person's private chat with the bot has their user id as its chat id (once they have started it)."""
        return self.output(int(platform_user), None) if platform_user.lstrip("-").isdigit() else None

    async def parse(self, request: Request, update: Any) -> Parsed:
        query = update.get("callback_query")
        if query:
            message, user = query.get("message") or {}, query.get("from") or {}
            text = await self.payloads.unpack(query.get("data") or "")
            if text is None:  # a long payload from before a restart: say the button's words instead
                keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
                text = next((b["text"] for row in keyboard for b in row if b.get("callback_data") == query.get("data")), "")
            await self.output(0, None).call("answerCallbackQuery", {"callback_query_id": query.get("id")})
        else:
            message = update.get("message") or {}  # edits are not answered again
            user = message.get("from") or {}
            text = self.addressed(message) if message.get("text") else None
        chat = message.get("chat") or {}
        if not text or not user.get("id") or user.get("is_bot") or "id" not in chat:
            return None
        group = chat.get("type") != "private"
        return Incoming(
            text,
            self.sender_id(str(chat["id"]), str(user["id"])),
            self.output(chat["id"], message.get("message_id") if group and not query else None),
            {"chat": chat["id"]},
            name=display_name(user),
            workspace=str(chat["id"]) if group else "",
            team_name=str(chat.get("title") or "") if group else "",
        )
