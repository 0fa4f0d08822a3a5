"""Feishu / Lark (飞书) bot: event subscription callback at /webhooks/feishu/webhook.

Security (Feishu Open Platform, "receive events" and "encrypt key" guides): the Encrypt Key is required (without
it a callback would be proved by the static Verification Token alone, issue 25), so every
callback body is {"encrypt": base64(iv + AES-256-CBC(PKCS7(json)))} with the AES key SHA-256(encrypt key), and
events carry X-Lark-Signature = sha256_hex(timestamp + nonce + encrypt key + raw body). Every event (and the
URL verification challenge) carries the app's Verification Token, which must match.

Messages: p2p chats and @mentions in groups (im.message.receive_v1); button clicks on the bot's interactive
cards (card.action.trigger, subscribed on the same URL). Replies go through the message API (reply to the
person's message) with a tenant_access_token cached until shortly before it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from typing import Any, Dict, List, Optional, Tuple

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.buttons import pressable
from bot.channels.connector import ApiClient, Connector, Incoming, Parsed, Refused, TokenCache, setting
from bot.channels.markup import markdown, plain_text

logger = logging.getLogger(__name__)

NEEDS = "FEISHU_APP_ID, FEISHU_APP_SECRET, FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY"
PLATFORM = "feishu"
DEFAULT_API = "https://open.feishu.cn"  # Lark (international): https://open.larksuite.com
MENTION_KEY = re.compile(r"@_user_\d+")
CARD_BUTTONS = 10  # buttons per card shown at most; the coach offers fewer


class FeishuError(Refused):
    """A callback that is not from Feishu or cannot be read; the message names the reason for the log."""


def aes_key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def decrypt(encrypt_key: str, encrypted: str) -> str:
    """Feishu's documented scheme: base64 of a 16-byte IV followed by AES-256-CBC with PKCS7 padding."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (ValueError, TypeError):
        raise FeishuError(400, "encrypted body is not base64") from None
    if len(raw) < 32 or len(raw) % 16:
        raise FeishuError(400, "encrypted body has a wrong length")
    decryptor = Cipher(algorithms.AES(aes_key(encrypt_key)), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize()) + unpadder.finalize()
        return plain.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise FeishuError(401, "body does not decrypt with the Encrypt Key") from None


def encrypt(encrypt_key: str, plain: str, iv: bytes) -> str:
    """The inverse of decrypt (tests build callbacks with it)."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def card(text: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """An interactive message card: the text as lark_md, one button per choice carrying payload and title."""
    actions = [
        {
            "tag": "button",
            "type": "primary" if n == 0 else "default",
            "text": {"tag": "plain_text", "content": b["title"]},
            "value": {"payload": b["payload"], "title": b["title"]},
        }
        for n, b in enumerate(pressable(buttons, CARD_BUTTONS))
    ]
    elements: List[Dict[str, Any]] = []
    if text.strip():
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": markdown(text)}})
    elements.append({"tag": "action", "actions": actions})
    return {"config": {"wide_screen_mode": True, "update_multi": False}, "elements": elements}


class FeishuOutput(OutputChannel):
    """Replies to one person's message (in the p2p chat, or threaded under the @mention in a group)."""

    def __init__(self, channel: Feishu, message_id: str, open_id: str = ""):
        self.channel, self.message_id, self.open_id = channel, message_id, open_id

    async def post(self, msg_type: str, content: Dict[str, Any]) -> None:
        if self.message_id:
            await self.channel.reply(self.message_id, msg_type, content)
        else:
            await self.channel.send_to(self.open_id, msg_type, content)

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.post("text", {"text": plain_text(text)})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.post("interactive", card(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class Feishu(Connector, InputChannel):
    """Set FEISHU_APP_ID, FEISHU_APP_SECRET, FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY to enable."""

    platform, needs, answer_first = PLATFORM, NEEDS, True

    def __init__(
        self, app_id: str = "", app_secret: str = "", verification_token: str = "", encrypt_key: str = "", api_base: str = DEFAULT_API
    ):
        self.app_id, self.app_secret = app_id, app_secret
        self.verification_token, self.encrypt_key = verification_token, encrypt_key
        self.api = ApiClient(PLATFORM, api_base)
        self.tokens = TokenCache(self._fetch_token)
        self._profiles_known: set = set()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Feishu:
        return cls(
            app_id=setting(credentials, "app_id", "FEISHU_APP_ID"),
            app_secret=setting(credentials, "app_secret", "FEISHU_APP_SECRET"),
            verification_token=setting(credentials, "verification_token", "FEISHU_VERIFICATION_TOKEN"),
            encrypt_key=setting(credentials, "encrypt_key", "FEISHU_ENCRYPT_KEY"),
            api_base=setting(credentials, "api_base", "FEISHU_API_BASE", DEFAULT_API),
        )

    @property
    def enabled(self) -> bool:
        """All four: without the Encrypt Key a callback would be proved by the static Verification Token alone."""
        return bool(self.app_id and self.app_secret and self.verification_token and self.encrypt_key)

    def ack(self) -> HTTPResponse:
        return response.json({})

    # API ---------------------------------------------------------------------------------------------------
    async def _fetch_token(self) -> Tuple[str, float]:
        data = await self.api.call(
            "POST", "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": self.app_id, "app_secret": self.app_secret}
        )
        token = data.get("tenant_access_token")
        if data.get("code") != 0 or not token:
            raise RuntimeError(f"feishu: no tenant_access_token (code {data.get('code')})")
        return str(token), float(data.get("expire", 7200))

    async def authorised(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        """An API call with the tenant token; a token the server calls invalid is renewed once."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {await self.tokens.get()}"}
            data = await self.api.call(method, path, headers=headers, **kwargs)
            if data.get("code") in (99991661, 99991663, 99991668) and attempt == 0:  # token missing/invalid/expired
                self.tokens.invalidate()
                continue
            if data.get("code") not in (0, None):
                logger.warning("feishu: API %s answered code %s", path.split("?")[0], data.get("code"))
            return data
        return {}

    async def reply(self, message_id: str, msg_type: str, content: Dict[str, Any]) -> None:
        await self.authorised(
            "POST",
            f"/open-apis/im/v1/messages/{message_id}/reply",
            json={"msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False)},
        )

    async def send_to(self, open_id: str, msg_type: str, content: Dict[str, Any]) -> None:
        """A new message in the person's chat with the bot (send_direct), by their open_id."""
        await self.authorised(
            "POST",
            "/open-apis/im/v1/messages?receive_id_type=open_id",
            json={"receive_id": open_id, "msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False)},
        )

    async def direct_output(self, platform_user: str, space: str) -> OutputChannel:
        return FeishuOutput(self, "", open_id=platform_user)

    async def profile(self, incoming: Incoming) -> Optional[Tuple[str, str, str]]:
        """Display name (contact API) and group name (chat API), looked up once per person and group per process;
        without the contact permission the name stays empty and the leaderboard shows the person as unnamed."""
        open_id, chat_id = incoming.sender.rsplit(":", 1)[-1], incoming.workspace
        key = f"{incoming.sender}|{chat_id}"
        if key in self._profiles_known:
            return None
        self._profiles_known.add(key)
        user = await self.authorised("GET", f"/open-apis/contact/v3/users/{open_id}?user_id_type=open_id")
        name = str(((user.get("data") or {}).get("user") or {}).get("name") or "")
        team_name = ""
        if chat_id:
            chat = await self.authorised("GET", f"/open-apis/im/v1/chats/{chat_id}")
            team_name = str((chat.get("data") or {}).get("name") or "")
        return name, chat_id, team_name

    # callback ----------------------------------------------------------------------------------------------
    async def verified(self, request: Request) -> Dict[str, Any]:
        """The verified, decrypted callback, or a FeishuError naming what is wrong."""
        body = request.body or b""
        try:
            outer = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise FeishuError(400, "body is not JSON") from None
        if not isinstance(outer, dict):
            raise FeishuError(400, "body is not a JSON object")
        if "encrypt" not in outer or not self.encrypt_key:
            raise FeishuError(401, "plain callback: the connector takes only callbacks encrypted with the Encrypt Key")
        try:
            data = json.loads(decrypt(self.encrypt_key, str(outer["encrypt"])))
        except (ValueError, RecursionError) as e:
            raise e if isinstance(e, FeishuError) else FeishuError(400, "decrypted body is not JSON") from None
        if not isinstance(data, dict):
            raise FeishuError(400, "callback is not a JSON object")
        if data.get("type") != "url_verification":
            timestamp = request.headers.get("x-lark-request-timestamp", "")
            nonce = request.headers.get("x-lark-request-nonce", "")
            expected = signature(timestamp, nonce, self.encrypt_key, body)
            if not hmac.compare_digest(request.headers.get("x-lark-signature", "").encode(), expected.encode()):
                raise FeishuError(401, "bad X-Lark-Signature")
        token = (data.get("header") or {}).get("token") if data.get("schema") == "2.0" else data.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.verification_token.encode()):
            raise FeishuError(401, "wrong verification token")
        return data

    async def parse(self, request: Request, data: Dict[str, Any]) -> Parsed:
        if data.get("type") == "url_verification":
            return response.json({"challenge": data.get("challenge", "")})
        header = data.get("header") or {}
        event = data.get("event") or {}
        event_type = header.get("event_type") or event.get("type")
        if event_type == "im.message.receive_v1":
            taken = self.message(header, event)
        elif event_type == "card.action.trigger":
            taken = self.card_action(header, event)
        else:
            taken = None
        if taken is None:
            logger.debug("feishu: event of type %s ignored", event_type)
        else:
            taken.delivery_id = str(header.get("event_id") or data.get("uuid") or "")
        return taken

    def message(self, header: Dict[str, Any], event: Dict[str, Any]) -> Optional[Incoming]:
        sender, message = event.get("sender") or {}, event.get("message") or {}
        if sender.get("sender_type", "user") != "user" or message.get("message_type") != "text":
            return None
        group = message.get("chat_type") != "p2p"
        if group and not message.get("mentions"):
            return None  # a group message not addressed to the bot (apps allowed to read every group message)
        try:
            text = str(json.loads(message.get("content") or "{}").get("text") or "")
        except (ValueError, RecursionError, AttributeError):  # not JSON, nested thousands deep, not an object
            return None
        text = MENTION_KEY.sub(" ", text).strip()
        open_id = str((sender.get("sender_id") or {}).get("open_id") or "")
        if not text or not open_id or not message.get("message_id"):
            return None
        tenant = str(sender.get("tenant_key") or header.get("tenant_key") or "")
        chat_id = str(message.get("chat_id") or "")
        return Incoming(
            text,
            self.sender_id(tenant, open_id),
            FeishuOutput(self, str(message["message_id"])),
            {"platform": PLATFORM, "chat_type": "group" if group else "p2p", "chat_id": chat_id},
            message_id=str(message["message_id"]),
            workspace=chat_id if group else "",
        )

    def card_action(self, header: Dict[str, Any], event: Dict[str, Any]) -> Optional[Incoming]:
        operator, action, context = event.get("operator") or {}, event.get("action") or {}, event.get("context") or {}
        value = action.get("value") or {}
        payload = str(value.get("payload") or "") if isinstance(value, dict) else ""
        open_id = str(operator.get("open_id") or "")
        message_id = str(context.get("open_message_id") or "")
        if not payload or not open_id or not message_id:
            return None
        tenant = str(operator.get("tenant_key") or header.get("tenant_key") or "")
        chat_id = str(context.get("open_chat_id") or "")
        return Incoming(
            payload,
            self.sender_id(tenant, open_id),
            FeishuOutput(self, message_id),
            {"platform": PLATFORM, "shown": str(value.get("title") or ""), "chat_id": chat_id},
        )
