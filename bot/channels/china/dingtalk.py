"""DingTalk (钉钉) enterprise-internal robot, HTTP mode: message callback at /webhooks/dingtalk/webhook.

Security (DingTalk "robot receives messages"): each request carries headers `timestamp` (ms) and
`sign` = base64(HMAC-SHA256(app secret, timestamp + "\n" + app secret)); a timestamp more than an hour away
from now is refused. Replies go to the request's sessionWebhook (valid until sessionWebhookExpiredTime), which
must point at the configured API host, so a forged body cannot make the server call elsewhere.

An unprompted message (send_direct: reminders) goes through the robot's one-to-one message API
(api.dingtalk.com /v1.0/robot/oToMessages/batchSend), which needs DINGTALK_APP_KEY and DINGTALK_ROBOT_CODE too;
its choices are numbered (a reply with the number picks one).

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

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.buttons import pressable
from bot.channels.connector import (
    MAX_BUTTONS,
    ApiClient,
    Connector,
    Incoming,
    Parsed,
    Refused,
    TokenCache,
    numbered_choices,
    setting,
)
from bot.channels.markup import first_line, markdown, plain_text

logger = logging.getLogger(__name__)

NEEDS = "DINGTALK_APP_SECRET"
PLATFORM = "dingtalk"
DEFAULT_API = "https://oapi.dingtalk.com"
DEFAULT_OPENAPI = "https://api.dingtalk.com"  # the newer API: access tokens by app key, the robot's one-to-one messages
MAX_SKEW_MS = 3600 * 1000  # DingTalk's documented limit: a timestamp more than one hour off is not from DingTalk
CARD_TITLE = 20  # characters of the ActionCard title (shown in the chat list preview)


def sign(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def action_card(text: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    btns = [
        {"title": b["title"], "actionURL": "dtmd://dingtalkclient/sendMessage?content=" + quote(b["title"], safe="")}
        for b in pressable(buttons, MAX_BUTTONS)
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


class DingTalkDirect(OutputChannel):
    """The robot's one-to-one message to a person (send_direct): Markdown, choices numbered."""

    def __init__(self, channel: DingTalk, staff_id: str):
        self.channel, self.staff_id = channel, staff_id

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.send_one_to_one(self.staff_id, text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.channel.buttons.offer(recipient_id, buttons)
        await self.send_text_message(recipient_id, f"{text}\n\n{numbered_choices(buttons)}".strip())


class DingTalk(Connector, InputChannel):
    """Set DINGTALK_APP_SECRET (the robot app's AppSecret / Client Secret) to enable."""

    platform, needs, answer_first = PLATFORM, NEEDS, True

    def __init__(
        self,
        app_secret: str = "",
        robot_code: str = "",
        api_base: str = DEFAULT_API,
        app_key: str = "",
        openapi_base: str = DEFAULT_OPENAPI,
    ):
        self.app_secret, self.robot_code, self.app_key = app_secret, robot_code, app_key
        self.api = ApiClient(PLATFORM, api_base)
        self.openapi = ApiClient(PLATFORM, openapi_base)
        self.tokens = TokenCache(self._fetch_token)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> DingTalk:
        return cls(
            app_secret=setting(credentials, "app_secret", "DINGTALK_APP_SECRET"),
            robot_code=setting(credentials, "robot_code", "DINGTALK_ROBOT_CODE"),
            api_base=setting(credentials, "api_base", "DINGTALK_API_BASE", DEFAULT_API),
            app_key=setting(credentials, "app_key", "DINGTALK_APP_KEY"),
            openapi_base=setting(credentials, "openapi_base", "DINGTALK_OPENAPI_BASE", DEFAULT_OPENAPI),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.app_secret)

    def ack(self) -> HTTPResponse:
        return response.json({})

    async def _fetch_token(self) -> Tuple[str, float]:
        data = await self.openapi.call("POST", "/v1.0/oauth2/accessToken", json={"appKey": self.app_key, "appSecret": self.app_secret})
        if not data.get("accessToken"):
            raise RuntimeError("dingtalk: no accessToken")
        return str(data["accessToken"]), float(data.get("expireIn", 7200))

    async def send_one_to_one(self, staff_id: str, text: str) -> None:
        params = {"title": first_line(text, CARD_TITLE) or "…", "text": markdown(text)}
        body = {
            "robotCode": self.robot_code,
            "userIds": [staff_id],
            "msgKey": "sampleMarkdown",
            "msgParam": json.dumps(params, ensure_ascii=False),
        }
        headers = {"x-acs-dingtalk-access-token": await self.tokens.get()}
        data = await self.openapi.call("POST", "/v1.0/robot/oToMessages/batchSend", json=body, headers=headers)
        if not data.get("processQueryKey"):
            logger.warning("dingtalk: one-to-one message not accepted (%s)", data.get("code") or "no answer")

    async def direct_output(self, platform_user: str, space: str) -> Optional[OutputChannel]:
        return DingTalkDirect(self, platform_user) if self.app_key and self.robot_code else None

    async def verified(self, request: Request) -> Dict[str, Any]:
        try:
            data = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise Refused(400, "body is not a JSON object")
        reason = self.check(request, data)
        if reason:
            raise Refused(401 if reason != "message for another robot" else 403, reason)
        return data

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

    async def parse(self, request: Request, data: Dict[str, Any]) -> Parsed:
        if data.get("msgtype") != "text":
            return None
        text = str((data.get("text") or {}).get("content") or "").strip()
        user = str(data.get("senderStaffId") or data.get("senderId") or "")
        if not text or not user:
            return None
        org = str(data.get("senderCorpId") or data.get("chatbotCorpId") or "")
        group = str(data.get("conversationType")) == "2"
        return Incoming(
            text,
            self.sender_id(org, user),
            DingTalkOutput(self, str(data["sessionWebhook"]), str(data.get("senderStaffId") or ""), group),
            {"platform": PLATFORM, "chat_type": "group" if group else "p2p", "chat_id": str(data.get("conversationId") or "")},
            message_id=str(data.get("msgId") or "") or None,
            delivery_id=str(data.get("msgId") or ""),
            name=str(data.get("senderNick") or ""),
            workspace=str(data.get("conversationId") or "") if group else "",  # the id, never the title: titles repeat
            team_name=str(data.get("conversationTitle") or "") if group else "",
            typed_choice=True,
        )
