"""DingTalk (钉钉) enterprise-internal robot, HTTP mode: message callback at /webhooks/dingtalk/webhook.

Security (DingTalk "robot receives messages"): each request carries headers `timestamp` (ms) and
`sign` = base64(HMAC-SHA256(app secret, timestamp + "\n" + app secret)); a timestamp more than an hour away
from now is refused. Replies go to the request's sessionWebhook (valid until sessionWebhookExpiredTime), which
must point at the configured API host, so a forged body cannot make the server call elsewhere.

Buttons become an ActionCard whose buttons are `dtmd://dingtalkclient/sendMessage?content=<title>` links: a tap
sends the title back as the person's message, and the connector maps it to the button's payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import limited_handler

from .common import (
    MAX_BODY,
    MAX_BUTTONS,
    MAX_TEXT,
    ApiClient,
    Background,
    ButtonMemory,
    DeliveryCache,
    Handler,
    Shared,
    channel_blueprint,
    first_line,
    keep_profile,
    markdown,
    plain_text,
    reject,
    sender_id,
    setting,
)

logger = logging.getLogger(__name__)

NEEDS = "DINGTALK_APP_SECRET"
PLATFORM = "dingtalk"
DEFAULT_API = "https://oapi.dingtalk.com"
MAX_SKEW_MS = 3600 * 1000  # DingTalk's documented limit: a timestamp more than one hour off is not from DingTalk
CARD_TITLE = 20  # characters of the ActionCard title (shown in the chat list preview)


def sign(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def action_card(text: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    btns = [
        {
            "title": str(b.get("title", "")),
            "actionURL": "dtmd://dingtalkclient/sendMessage?content=" + quote(str(b.get("title", "")), safe=""),
        }
        for b in buttons[:MAX_BUTTONS]
    ]
    return {
        "msgtype": "actionCard",
        "actionCard": {"title": first_line(text, CARD_TITLE) or "…", "text": markdown(text), "btnOrientation": "0", "btns": btns},
    }


class DingTalkOutput(OutputChannel):
    """Posts to the session webhook of the message being answered; in a group the person is @-mentioned."""

    def __init__(self, channel: DingTalk, webhook: str, staff_id: str, group: bool):
        self.channel, self.webhook, self.staff_id, self.group = channel, webhook, staff_id, group

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def post(self, body: Dict[str, Any]) -> None:
        if self.group and self.staff_id and body["msgtype"] == "text":
            body["at"] = {"atUserIds": [self.staff_id]}
        data = await self.channel.api.call("POST", self.webhook, json=body)
        if data.get("errcode") not in (0, None):
            logger.warning("dingtalk: session webhook answered errcode %s", data.get("errcode"))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.post({"msgtype": "text", "text": {"content": plain_text(text)}})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.channel.buttons.offer(recipient_id, buttons)
        await self.post(action_card(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class DingTalk(InputChannel):
    """Set DINGTALK_APP_SECRET (the robot app's AppSecret / Client Secret) to enable."""

    def __init__(self, app_secret: str = "", robot_code: str = "", api_base: str = DEFAULT_API):
        self.app_secret, self.robot_code = app_secret, robot_code
        self.api = ApiClient(PLATFORM, api_base)
        shared = Shared()  # the cluster's Redis ($COACH_REDIS_URL), so a retry to another server is answered once
        self.deliveries = DeliveryCache(platform=PLATFORM, shared=shared)
        self.buttons = ButtonMemory(platform=PLATFORM, shared=shared)
        self.background = Background(PLATFORM)

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> DingTalk:
        return cls(
            app_secret=setting(credentials, "app_secret", "DINGTALK_APP_SECRET"),
            robot_code=setting(credentials, "robot_code", "DINGTALK_ROBOT_CODE"),
            api_base=setting(credentials, "api_base", "DINGTALK_API_BASE", DEFAULT_API),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.app_secret)

    def check(self, request: Request, data: Dict[str, Any]) -> Optional[str]:
        """None for a genuine, fresh request; else the reason to refuse it."""
        timestamp, signed = request.headers.get("timestamp", ""), request.headers.get("sign", "")
        if not timestamp.isdigit() or not signed:
            return "missing timestamp or sign header"
        if abs(time.time() * 1000 - int(timestamp)) > MAX_SKEW_MS:
            return "stale timestamp"
        if not hmac.compare_digest(signed.encode(), sign(timestamp, self.app_secret).encode()):
            return "bad signature"
        if self.robot_code and data.get("robotCode") not in (None, self.robot_code):
            return "message for another robot"
        webhook = urlsplit(str(data.get("sessionWebhook") or ""))
        allowed = urlsplit(self.api.base_url)
        if (webhook.scheme, webhook.netloc) != (allowed.scheme, allowed.netloc):
            return "session webhook outside the DingTalk API host"
        expires = data.get("sessionWebhookExpiredTime")
        if isinstance(expires, int | float) and expires < time.time() * 1000:
            return "session webhook expired"
        return None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        on_new_message = limited_handler(on_new_message, PLATFORM)  # per-sender rate limit: bot/limits.py
        bp, on = channel_blueprint(PLATFORM, self.enabled, NEEDS)
        if not on:
            return bp

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY:
                return reject(PLATFORM, request, 413, "body too large")
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                data = None
            if not isinstance(data, dict):
                return reject(PLATFORM, request, 400, "body is not a JSON object")
            reason = self.check(request, data)
            if reason:
                return reject(PLATFORM, request, 401 if reason != "message for another robot" else 403, reason)
            msg_id = str(data.get("msgId") or "")
            if msg_id and not await self.deliveries.first_time(msg_id):
                logger.info("dingtalk: message %s delivered again: already taken", msg_id)
                return response.json({})
            await self.take(data, on_new_message)
            return response.json({})

        return bp

    async def take(self, data: Dict[str, Any], on_new_message: Handler) -> bool:
        if data.get("msgtype") != "text":
            return False
        text = str((data.get("text") or {}).get("content") or "").strip()[:MAX_TEXT]
        user = str(data.get("senderStaffId") or data.get("senderId") or "")
        if not text or not user:
            return False
        org = str(data.get("senderCorpId") or data.get("chatbotCorpId") or "")
        person = sender_id(PLATFORM, org, user)
        group = str(data.get("conversationType")) == "2"
        metadata: Dict[str, Any] = {
            "platform": PLATFORM,
            "chat_type": "group" if group else "p2p",
            "chat_id": str(data.get("conversationId") or ""),
        }
        chosen = await self.buttons.resolve(person, text)
        if chosen:
            text, metadata["shown"] = chosen["payload"], chosen["title"]
        output = DingTalkOutput(self, str(data["sessionWebhook"]), str(data.get("senderStaffId") or ""), group)
        message = UserMessage(
            text, output, person, input_channel=PLATFORM, message_id=str(data.get("msgId") or "") or None, metadata=metadata
        )
        group_id = str(data.get("conversationId") or "") if group else ""  # the id, never the title: titles repeat
        team = (group_id, str(data.get("conversationTitle") or "")) if group else ("", "")
        self.background.spawn(self.handle(on_new_message, message, str(data.get("senderNick") or ""), team))
        return True

    async def handle(self, on_new_message: Handler, message: UserMessage, name: str, team: Tuple[str, str]) -> None:
        try:
            await keep_profile(message.sender_id, name, PLATFORM, *team)
        except Exception:
            logger.warning("dingtalk: profile not stored", exc_info=True)
        await on_new_message(message)
