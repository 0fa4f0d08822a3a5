"""WeCom (企业微信) self-built application: callback at /webhooks/wecom/webhook (GET verifies, POST delivers).

Security (WeCom "encryption and decryption scheme"): msg_signature = sha1 of the sorted concatenation of
token, timestamp, nonce and the encrypted text; AESKey = base64(EncodingAESKey + "="), AES-256-CBC with the
key's first 16 bytes as IV and PKCS#7 padding to 32 bytes; the plaintext is random(16) + length(4, big-endian)
+ message + receive id, and the receive id must be our corp id.

Replies go through /cgi-bin/message/send with an access token cached until shortly before it expires. Buttons
are numbered text choices (a reply with the number or the title picks one), or with WECOM_TEMPLATE_CARDS=1
a button_interaction template card whose clicks come back as template_card_event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import struct
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional, Tuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.buttons import pressable
from bot.channels.connector import ApiClient, Connector, Incoming, Parsed, Refused, TokenCache, numbered_choices, reject, setting
from bot.channels.markup import first_line, plain_text

logger = logging.getLogger(__name__)

PLATFORM = "wecom"
NEEDS = "WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN and WECOM_ENCODING_AES_KEY"
DEFAULT_API = "https://qyapi.weixin.qq.com"
BLOCK = 32  # WeCom pads to a multiple of 32 bytes (its documented PKCS#7 variant)
CARD_BUTTONS = 6  # button_interaction cards take at most 6 buttons
CARD_TITLE = 26  # characters of a template card's main title
CARD_KEY = 1024  # bytes of a button key
EVENT_IDENTITY = ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")  # what tells events apart (they have no MsgId)
TOKEN_ERRORS = (40014, 42001)  # invalid / expired access_token: fetch a new one and retry once


class WeComError(Refused):
    """A callback that is not from WeCom or cannot be read; the message names the reason for the log."""


class WeComCrypto:
    """WXBizMsgCrypt in a few lines, on `cryptography`."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token, self.receive_id = token, receive_id
        try:
            self.key = base64.b64decode(encoding_aes_key + "=")
        except ValueError:
            self.key = b""
        if len(self.key) != 32:
            raise ValueError("WECOM_ENCODING_AES_KEY must be the 43-character EncodingAESKey")

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return hashlib.sha1("".join(sorted([self.token, timestamp, nonce, encrypted])).encode()).hexdigest()

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        if not hmac.compare_digest(msg_signature.encode(), self.signature(timestamp, nonce, encrypted).encode()):
            raise WeComError(401, "bad msg_signature")

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except ValueError:
            raise WeComError(400, "encrypted text is not base64") from None
        if not raw or len(raw) % 16:
            raise WeComError(400, "encrypted text has a wrong length")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise WeComError(401, "text does not decrypt with the EncodingAESKey")
        content = plain[16:-pad]
        if len(content) < 4:
            raise WeComError(400, "decrypted text too short")
        (length,) = struct.unpack(">I", content[:4])
        message, receive_id = content[4 : 4 + length], content[4 + length :]
        if len(message) != length:
            raise WeComError(400, "decrypted text has a wrong length field")
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WeComError(403, "wrong receive id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise WeComError(400, "decrypted text is not UTF-8") from None

    def encrypt(self, message: str, random16: Optional[bytes] = None) -> str:
        """The inverse of decrypt (tests build callbacks with it)."""
        body = message.encode()
        plain = (random16 or secrets.token_bytes(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def parse_xml(text: str) -> Dict[str, str]:
    """The child elements of a flat WeCom XML document; DTDs (entity expansion) are refused."""
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise WeComError(400, "XML with a DTD")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise WeComError(400, "body is not XML") from None
    return {child.tag: (child.text or "") for child in root}


class WeComOutput(OutputChannel):
    def __init__(self, channel: WeCom, user: str):
        self.channel, self.user = channel, user

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.send(self.user, "text", {"content": plain_text(text)})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        buttons = pressable(buttons)
        cards = self.channel.template_cards and all(len(b["payload"].encode()) <= CARD_KEY for b in buttons)
        if not cards:
            await self.channel.buttons.offer(recipient_id, buttons)
            await self.send_text_message(recipient_id, f"{text}\n\n{numbered_choices(buttons)}".strip())
            return
        if text.strip():
            await self.send_text_message(recipient_id, text)
        card = {
            "card_type": "button_interaction",
            "task_id": secrets.token_hex(16),
            "main_title": {"title": first_line(text.splitlines()[-1] if text.strip() else "", CARD_TITLE) or "…"},
            "button_list": [{"text": b["title"][:20], "style": 1, "key": b["payload"]} for b in buttons[:CARD_BUTTONS]],
        }
        await self.channel.send(self.user, "template_card", card)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class WeCom(Connector, InputChannel):
    """Set WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN and WECOM_ENCODING_AES_KEY to enable."""

    platform, needs, answer_first = PLATFORM, NEEDS, True

    def __init__(
        self,
        corp_id: str = "",
        agent_id: str = "",
        secret: str = "",
        token: str = "",
        encoding_aes_key: str = "",
        api_base: str = DEFAULT_API,
        template_cards: bool = False,
        team: str = "",
    ):
        self.corp_id, self.agent_id, self.secret = corp_id, agent_id, secret
        self.team = team  # self-built apps never join group chats: the team is the corp, WECOM_TEAM its shown name
        self.template_cards = template_cards
        self.crypto: Optional[WeComCrypto] = None
        if corp_id and agent_id and secret and token and encoding_aes_key:
            self.crypto = WeComCrypto(token, encoding_aes_key, corp_id)
        self.api = ApiClient(PLATFORM, api_base)
        self.tokens = TokenCache(self._fetch_token)
        self._profiles_known: set = set()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> WeCom:
        return cls(
            corp_id=setting(credentials, "corp_id", "WECOM_CORP_ID"),
            agent_id=setting(credentials, "agent_id", "WECOM_AGENT_ID"),
            secret=setting(credentials, "secret", "WECOM_SECRET"),
            token=setting(credentials, "token", "WECOM_TOKEN"),
            encoding_aes_key=setting(credentials, "encoding_aes_key", "WECOM_ENCODING_AES_KEY"),
            api_base=setting(credentials, "api_base", "WECOM_API_BASE", DEFAULT_API),
            template_cards=setting(credentials, "template_cards", "WECOM_TEMPLATE_CARDS").lower() in ("1", "true", "yes"),
            team=setting(credentials, "team", "WECOM_TEAM"),
        )

    @property
    def enabled(self) -> bool:
        return self.crypto is not None

    # API ---------------------------------------------------------------------------------------------------
    async def _fetch_token(self) -> Tuple[str, float]:
        data = await self.api.call("GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})
        if data.get("errcode") not in (0, None) or not data.get("access_token"):
            raise RuntimeError(f"wecom: no access_token (errcode {data.get('errcode')})")
        return str(data["access_token"]), float(data.get("expires_in", 7200))

    async def authorised(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        params = dict(kwargs.pop("params", {}) or {})
        for attempt in range(2):
            params["access_token"] = await self.tokens.get()
            data = await self.api.call(method, path, params=params, **kwargs)
            if data.get("errcode") in TOKEN_ERRORS and attempt == 0:
                self.tokens.invalidate()
                continue
            if data.get("errcode") not in (0, None):
                logger.warning("wecom: API %s answered errcode %s", path, data.get("errcode"))
            return data
        return {}

    async def send(self, user: str, msgtype: str, content: Dict[str, Any]) -> None:
        agent: Any = int(self.agent_id) if self.agent_id.isdigit() else self.agent_id
        body = {"touser": user, "msgtype": msgtype, "agentid": agent, msgtype: content}
        await self.authorised("POST", "/cgi-bin/message/send", json=body)

    async def direct_output(self, platform_user: str, space: str) -> OutputChannel:
        return WeComOutput(self, platform_user)  # the app's messages always go to the person: the same as a reply

    async def profile(self, incoming: Incoming) -> Optional[Tuple[str, str, str]]:
        """The member's name from the contact API, once per person per process (apps made after mid-2022 no longer
        get names this way; the leaderboard then shows the person as unnamed)."""
        if incoming.sender in self._profiles_known:
            return None
        self._profiles_known.add(incoming.sender)
        data = await self.authorised("GET", "/cgi-bin/user/get", params={"userid": incoming.sender.rsplit(":", 1)[-1]})
        return str(data.get("name") or ""), self.corp_id, self.team

    # callback ----------------------------------------------------------------------------------------------
    @staticmethod
    def query(request: Request) -> Tuple[str, str, str]:
        return (request.args.get("msg_signature", ""), request.args.get("timestamp", ""), request.args.get("nonce", ""))

    def routes(self, bp: Blueprint) -> None:
        crypto = self.crypto
        assert crypto is not None

        @bp.route("/webhook", methods=["GET"])
        async def verify_url(request: Request) -> HTTPResponse:
            msg_signature, timestamp, nonce = self.query(request)
            echostr = request.args.get("echostr", "").replace(" ", "+")  # a raw '+' in the query reads as a space
            try:
                crypto.verify(msg_signature, timestamp, nonce, echostr)
                return response.text(crypto.decrypt(echostr))
            except WeComError as e:
                return reject(PLATFORM, request, e.status, e.reason)

    async def verified(self, request: Request) -> Dict[str, str]:
        assert self.crypto is not None
        msg_signature, timestamp, nonce = self.query(request)
        encrypted = parse_xml((request.body or b"").decode("utf-8", "replace")).get("Encrypt", "")
        if not encrypted:
            raise WeComError(400, "no Encrypt element")
        self.crypto.verify(msg_signature, timestamp, nonce, encrypted)
        return parse_xml(self.crypto.decrypt(encrypted))

    async def parse(self, request: Request, message: Dict[str, str]) -> Parsed:
        user = message.get("FromUserName", "")
        if not user:
            return None
        if message.get("MsgType") == "text":
            text, typed = message.get("Content", "").strip(), True
        elif message.get("MsgType") == "event" and message.get("Event") == "template_card_event":
            text, typed = message.get("EventKey", ""), False
        else:
            return None
        return Incoming(
            text,
            self.sender_id(self.corp_id, user),
            WeComOutput(self, user),
            {"platform": PLATFORM, "chat_type": "p2p"},
            message_id=message.get("MsgId") or None,
            delivery_id=message.get("MsgId") or "|".join(message.get(k, "") for k in EVENT_IDENTITY),
            typed_choice=typed,
        )
