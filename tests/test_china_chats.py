"""The Feishu, DingTalk and WeCom connectors (bot/channels/china/) in process, loopback only.

Each test starts the channel's blueprint in a real Sanic server and a fake platform API (aiohttp) on 127.0.0.1;
the callbacks are built here from test keys with the platforms' documented algorithms. Rasa is replaced by a
stub on_new_message that records what it is handed and answers through the channel's output channel.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import os
import socket
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Optional
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels import connector, markup, senders
from bot.channels.china import dingtalk, feishu, wecom

TIMEOUT = aiohttp.ClientTimeout(total=20)
BUTTONS = [{"title": "疑心型", "payload": '/choose_type{"type_id":"suspicious"}'}, {"title": "Practice", "payload": "/practice"}]
SECRET_TEXT = "客户合同的秘密条款"  # must never appear in a log line
_apps = itertools.count()


@pytest.fixture(autouse=True, scope="module")
def sanic_test_mode():
    """Several Sanic apps in one process (one per test) need Sanic's test mode, as sanic-testing sets it."""
    before, Sanic.test_mode = Sanic.test_mode, True
    yield
    Sanic.test_mode = before


class FakeApi:
    """A stand-in for the three platforms' HTTP APIs: records every call and answers like the real ones."""

    NAMES = {"ou_anna": "安娜", "ou_bo": "Bo", "lisi": "李四"}

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.url = ""
        self._runner: Optional[web.AppRunner] = None

    def paths(self, prefix: str) -> List[Dict[str, Any]]:
        return [c for c in self.calls if c["path"].startswith(prefix)]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        call = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "json": json.loads(body) if body else None,
        }
        self.calls.append(call)
        path = request.path
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            return web.json_response({"code": 0, "tenant_access_token": "t-test", "expire": 7200})
        if path.startswith("/open-apis/contact/v3/users/"):
            return web.json_response({"code": 0, "data": {"user": {"name": self.NAMES.get(path.rsplit("/", 1)[-1], "")}}})
        if path.startswith("/open-apis/im/v1/chats/"):
            return web.json_response({"code": 0, "data": {"name": "华东销售一组"}})
        if path == "/v1.0/oauth2/accessToken":
            return web.json_response({"accessToken": "dt-token", "expireIn": 7200})
        if path == "/v1.0/robot/oToMessages/batchSend":
            return web.json_response({"processQueryKey": "q-1"})
        if path == "/cgi-bin/gettoken":
            return web.json_response({"errcode": 0, "access_token": "wx-token", "expires_in": 7200})
        if path == "/cgi-bin/user/get":
            return web.json_response({"errcode": 0, "name": self.NAMES.get(request.query.get("userid", ""), "")})
        if path.startswith("/open-apis/"):
            return web.json_response({"code": 0, "data": {}})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


class Rasa:
    """The stub on_new_message: records each UserMessage and answers with a canned message with buttons."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": f"**收到**：{message.text}", "buttons": list(BUTTONS)})

    def senders(self) -> List[str]:
        return [m.sender_id for m in self.messages]


class Server:
    def __init__(self, channel: Any, rasa: Rasa, api: FakeApi, url: str):
        self.channel, self.rasa, self.api, self.url = channel, rasa, api, url
        self.session = aiohttp.ClientSession(timeout=TIMEOUT)

    async def post(
        self, path: str, body: bytes, headers: Optional[Dict[str, str]] = None, params: Optional[Dict[str, str]] = None
    ) -> aiohttp.ClientResponse:
        resp = await self.session.post(self.url + path, data=body, headers=headers or {}, params=params)
        await resp.read()
        await self.channel.background.drain()
        return resp

    async def get(self, path: str, params: Dict[str, str]) -> aiohttp.ClientResponse:
        resp = await self.session.get(self.url + path, params=params)
        await resp.read()
        return resp


@asynccontextmanager
async def serving(make_channel) -> AsyncIterator[Server]:
    """The channel (made with the fake API's base URL) served by Sanic on loopback, beside the fake API."""
    api = FakeApi()
    await api.start()
    channel = make_channel(api.url)
    rasa = Rasa()
    app = Sanic(f"china_test_{next(_apps)}", configure_logging=False)
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.name()}")
    # a socket bound here to a port the system picks: Sanic 21.12 reads port=0 as "no port" and binds 8000, which
    # another process on a shared machine may hold (this test then failed with "address already in use")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = await app.create_server(sock=sock, return_asyncio_server=True, debug=False, access_log=False)
    assert srv is not None
    await srv.startup()
    await srv.start_serving()
    server = Server(channel, rasa, api, f"http://127.0.0.1:{port}/webhooks/{channel.name()}")
    try:
        yield server
    finally:
        await server.session.close()
        await channel.api.close()
        srv.close()
        await srv.wait_closed()
        await api.stop()


def run(coro) -> Any:
    return asyncio.run(coro)


def rejected(caplog, platform: str, reason: str) -> None:
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(line.startswith(f"{platform}: rejected") and reason in line for line in lines), lines
    assert not any(SECRET_TEXT in line for line in lines)


def profile(sender: str) -> Dict[str, str]:
    from knowledge.app import userdata

    return userdata().profile(sender)


# documented examples ----------------------------------------------------------------------------------------


def test_crypto_matches_the_platforms_documented_examples():
    # Feishu "receive events" guide: encrypt key "test key" decrypts this to "hello world"
    assert feishu.decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == "hello world"
    with pytest.raises(feishu.FeishuError):
        feishu.decrypt("other key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")
    # WeCom "encryption scheme" sample: the URL verification request and its echostr plaintext
    crypto = wecom.WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
    echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    crypto.verify("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", echostr)
    assert crypto.decrypt(echostr) == "1616140317555161061"
    other_corp = wecom.WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww_other")
    with pytest.raises(wecom.WeComError, match="receive id"):
        other_corp.decrypt(echostr)
    # DingTalk's documented formula: base64(HMAC-SHA256(secret, timestamp + "\n" + secret)); the docs give no vector
    expected = base64.b64encode(hmac.new(b"this is secret", b"1577262236757\nthis is secret", hashlib.sha256).digest()).decode()
    assert dingtalk.sign("1577262236757", "this is secret") == expected


def test_shared_caches_buttons_and_markup():
    now = [1000.0]
    cache = connector.DeliveryCache(ttl=60, clock=lambda: now[0])
    assert run(cache.first_time("e1")) and not run(cache.first_time("e1"))
    now[0] += 61
    assert run(cache.first_time("e1"))  # forgotten after the TTL

    fetched: List[int] = []

    async def fetch():
        fetched.append(1)
        return f"token{len(fetched)}", 7200

    tokens = connector.TokenCache(fetch, clock=lambda: now[0])
    assert run(tokens.get()) == "token1" and run(tokens.get()) == "token1"
    now[0] += 7200 - connector.TOKEN_MARGIN + 1
    assert run(tokens.get()) == "token2"  # renewed before the stated expiry

    memory = connector.ButtonMemory()
    run(memory.offer("p", BUTTONS))
    assert run(memory.resolve("q", "1")) is None  # another person's choices are not theirs
    assert run(memory.resolve("p", "２"))["payload"] == "/practice"  # full-width digit
    assert run(memory.resolve("p", "1")) is None  # answered once
    run(memory.offer("p", BUTTONS))
    assert run(memory.resolve("p", "疑心型"))["payload"].startswith("/choose_type")

    assert markup.plain_text("**疑心型**：看[合同](https://x.cn/a)") == "疑心型：看合同 (https://x.cn/a)"
    assert senders.sender_id("feishu", "tenant", "ou_1") == "feishu:tenant:ou_1"


def test_connectors_are_off_without_their_variables(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("FEISHU_", "DINGTALK_", "WECOM_")):
            monkeypatch.delenv(name)
    for cls in (feishu.Feishu, dingtalk.DingTalk, wecom.WeCom):
        assert not live(cls.from_credentials(None))  # health says what to set, the webhook answers 404
    monkeypatch.setenv("DINGTALK_APP_SECRET", "s")
    assert live(dingtalk.DingTalk.from_credentials(None))
    for name, value in (("FEISHU_APP_ID", "cli"), ("FEISHU_APP_SECRET", "s"), ("FEISHU_VERIFICATION_TOKEN", "t")):
        monkeypatch.setenv(name, value)
    assert not live(feishu.Feishu.from_credentials(None)), "a static token alone is not enough"
    monkeypatch.setenv("FEISHU_ENCRYPT_KEY", "k")
    assert live(feishu.Feishu.from_credentials(None))


def live(channel: Any) -> bool:
    """The connector serves its webhook (an unconfigured one's blueprint is the `_off` one: bot/channels/connector.py)."""
    bp = channel.blueprint(Rasa())
    return not bp.name.endswith("_off") and any(route.uri == "/webhook" for route in bp._future_routes)


# Feishu / Lark ----------------------------------------------------------------------------------------------
FS_TOKEN, FS_KEY, TENANT = "vtoken-test", "encrypt-key-test", "tenant-a"


def fs_channel(encrypt_key: str = FS_KEY):
    return lambda base: feishu.Feishu("cli_test", "app-secret-test", FS_TOKEN, encrypt_key, api_base=base)


def fs_signed(payload: Dict[str, Any], key: str = FS_KEY, forge: bool = False) -> Dict[str, Any]:
    """An encrypted callback body and its signature headers, as Feishu sends them."""
    body = json.dumps({"encrypt": feishu.encrypt(key, json.dumps(payload, ensure_ascii=False), os.urandom(16))}).encode()
    timestamp, nonce = str(int(time.time())), "nonce-1"
    sig = feishu.signature(timestamp, nonce, key, body)
    if forge:
        sig = sig[::-1]
    return {
        "body": body,
        "headers": {
            "Content-Type": "application/json",
            "X-Lark-Request-Timestamp": timestamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": sig,
        },
    }


def fs_message(event_id: str, open_id: str, text: str, chat_type: str = "p2p", message_id: str = "om_1") -> Dict[str, Any]:
    mentions = [{"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "Coach"}] if chat_type == "group" else []
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": "im.message.receive_v1",
            "token": FS_TOKEN,
            "tenant_key": TENANT,
            "app_id": "cli_test",
            "create_time": "1700000000000",
        },
        "event": {
            "sender": {"sender_id": {"open_id": open_id}, "sender_type": "user", "tenant_key": TENANT},
            "message": {
                "message_id": message_id,
                "chat_id": "oc_group",
                "chat_type": chat_type,
                "message_type": "text",
                "content": json.dumps({"text": ("@_user_1 " if mentions else "") + text}, ensure_ascii=False),
                "mentions": mentions,
            },
        },
    }


def test_feishu_url_verification_plain_and_encrypted(caplog):
    async def main():
        challenge = {"challenge": "ch-123", "token": FS_TOKEN, "type": "url_verification"}
        without_key = fs_channel(encrypt_key="")("http://127.0.0.1:9")  # issue 25 item 8: a static token is not enough
        assert not without_key.enabled and not live(without_key)
        async with serving(fs_channel()) as s:
            forged = fs_signed({**challenge, "token": "forged"})
            r = await s.post("/webhook", forged["body"], {"Content-Type": "application/json"})
            assert r.status == 401
            signed = fs_signed(challenge)
            r = await s.post("/webhook", signed["body"], {"Content-Type": "application/json"})  # no signature on this one
            assert r.status == 200 and (await r.json()) == {"challenge": "ch-123"}
            r = await s.post("/webhook", json.dumps(challenge).encode())  # plain while an Encrypt Key is set
            assert r.status == 401

    run(main())
    rejected(caplog, "feishu", "wrong verification token")
    rejected(caplog, "feishu", "plain callback")


def test_feishu_encrypted_message_is_answered_with_a_card_through_the_message_api(caplog):
    async def main():
        async with serving(fs_channel()) as s:
            r = await s.post("/webhook", **fs_signed(fs_message("ev-1", "ou_anna", "客户总怀疑价格")))
            assert r.status == 200
            [message] = s.rasa.messages
            assert message.sender_id == f"feishu:{TENANT}:ou_anna" and message.text == "客户总怀疑价格"
            [reply] = s.api.paths("/open-apis/im/v1/messages/om_1/reply")
            assert reply["headers"]["Authorization"] == "Bearer t-test"
            assert reply["json"]["msg_type"] == "interactive"
            card = json.loads(reply["json"]["content"])
            assert card["elements"][0]["text"] == {"tag": "lark_md", "content": "**收到**：客户总怀疑价格"}
            assert [a["value"] for a in card["elements"][1]["actions"]] == [{"payload": b["payload"], "title": b["title"]} for b in BUTTONS]
            # a second message reuses the cached tenant token
            await s.post("/webhook", **fs_signed(fs_message("ev-2", "ou_anna", "还有呢", message_id="om_2")))
            assert len(s.api.paths("/open-apis/auth/v3/tenant_access_token")) == 1
            assert profile(message.sender_id)["name"] == "安娜"
            # forged: a wrong signature, and a body encrypted with another key
            r = await s.post("/webhook", **fs_signed(fs_message("ev-3", "ou_anna", SECRET_TEXT), forge=True))
            assert r.status == 401
            r = await s.post("/webhook", **fs_signed(fs_message("ev-4", "ou_anna", SECRET_TEXT), key="another-key"))
            assert r.status == 401
            assert len(s.rasa.messages) == 2

    run(main())
    rejected(caplog, "feishu", "bad X-Lark-Signature")


def test_feishu_group_members_are_separate_people_and_a_retry_is_answered_once():
    async def main():
        async with serving(fs_channel()) as s:
            first = fs_signed(fs_message("ev-g1", "ou_anna", "我的客户很挑剔", chat_type="group", message_id="om_g1"))
            await s.post("/webhook", **first)
            await s.post("/webhook", **first)  # Feishu's retry of the same event
            await s.post("/webhook", **fs_signed(fs_message("ev-g2", "ou_bo", "mine is quiet", chat_type="group", message_id="om_g2")))
            assert s.rasa.senders() == [f"feishu:{TENANT}:ou_anna", f"feishu:{TENANT}:ou_bo"]
            assert s.rasa.messages[0].text == "我的客户很挑剔"  # the @mention is not part of the text
            assert len(s.api.paths("/open-apis/im/v1/messages/om_g1/reply")) == 1
            bo = profile(f"feishu:{TENANT}:ou_bo")
            # the leaderboard's name, and the team keyed by the group's chat id (its name is only shown)
            assert (bo["name"], bo["team"], bo["team_name"]) == ("Bo", "feishu:oc_group", "华东销售一组")

    run(main())


def test_feishu_card_click_comes_back_as_the_button_payload():
    async def main():
        async with serving(fs_channel()) as s:
            click = {
                "schema": "2.0",
                "header": {"event_id": "ev-c1", "event_type": "card.action.trigger", "token": FS_TOKEN, "tenant_key": TENANT},
                "event": {
                    "operator": {"open_id": "ou_anna", "tenant_key": TENANT},
                    "action": {"tag": "button", "value": {"payload": "/practice", "title": "Practice"}},
                    "context": {"open_message_id": "om_card", "open_chat_id": "oc_p2p"},
                },
            }
            r = await s.post("/webhook", **fs_signed(click))
            assert r.status == 200
            [message] = s.rasa.messages
            assert (message.text, message.metadata["shown"]) == ("/practice", "Practice")
            assert len(s.api.paths("/open-apis/im/v1/messages/om_card/reply")) == 1

    run(main())


# DingTalk ---------------------------------------------------------------------------------------------------
DT_SECRET, CORP = "dingtalk-secret-test", "ding-corp"


def dt_channel():
    return lambda base: dingtalk.DingTalk(DT_SECRET, api_base=base)


def dt_request(
    api: str,
    msg_id: str,
    staff: str,
    nick: str,
    text: str,
    group: bool = True,
    stale: bool = False,
    secret: str = DT_SECRET,
    webhook: Optional[str] = None,
) -> Dict[str, Any]:
    timestamp = str(int(time.time() * 1000) - (2 * 3600 * 1000 if stale else 0))
    body = {
        "conversationId": "cid-group" if group else "cid-p2p",
        "chatbotCorpId": CORP,
        "msgId": msg_id,
        "senderNick": nick,
        "senderStaffId": staff,
        "senderCorpId": CORP,
        "conversationType": "2" if group else "1",
        "senderId": f"$:{staff}",
        "conversationTitle": "华南销售群" if group else "",
        "isInAtList": True,
        "msgtype": "text",
        "sessionWebhook": webhook or f"{api}/robot/sendBySession?session=s-{msg_id}",
        "sessionWebhookExpiredTime": int(time.time() * 1000) + 3600 * 1000,
        "text": {"content": f" {text}"},
    }
    return {
        "body": json.dumps(body, ensure_ascii=False).encode(),
        "headers": {"Content-Type": "application/json", "timestamp": timestamp, "sign": dingtalk.sign(timestamp, secret)},
    }


def test_dingtalk_signed_callback_is_answered_on_the_session_webhook_with_an_action_card(caplog):
    async def main():
        async with serving(dt_channel()) as s:
            r = await s.post("/webhook", **dt_request(s.api.url, "m1", "zhangsan", "张三", "客户总说再考虑"))
            assert r.status == 200
            [message] = s.rasa.messages
            assert message.sender_id == f"dingtalk:{CORP}:zhangsan" and message.text == "客户总说再考虑"
            [reply] = s.api.paths("/robot/sendBySession")
            assert reply["query"] == {"session": "s-m1"}
            card = reply["json"]["actionCard"]
            assert reply["json"]["msgtype"] == "actionCard" and card["text"] == "**收到**：客户总说再考虑"
            assert card["btns"][0]["actionURL"] == "dtmd://dingtalkclient/sendMessage?content=" + quote("疑心型", safe="")
            # a tap on the card's button sends its title back: the connector hands Rasa the payload
            await s.post("/webhook", **dt_request(s.api.url, "m2", "zhangsan", "张三", "疑心型"))
            assert (s.rasa.messages[1].text, s.rasa.messages[1].metadata["shown"]) == (BUTTONS[0]["payload"], "疑心型")
            zhang = profile(message.sender_id)
            assert (zhang["name"], zhang["team"], zhang["team_name"]) == ("张三", "dingtalk:cid-group", "华南销售群")
            # forged: stale timestamp, wrong secret, a session webhook pointing elsewhere
            for forged in (
                dt_request(s.api.url, "m3", "zhangsan", "张三", SECRET_TEXT, stale=True),
                dt_request(s.api.url, "m4", "zhangsan", "张三", SECRET_TEXT, secret="guessed"),
                dt_request(s.api.url, "m5", "zhangsan", "张三", SECRET_TEXT, webhook="http://203.0.113.9/steal"),
            ):
                assert (await s.post("/webhook", **forged)).status == 401
            assert len(s.rasa.messages) == 2 and len(s.api.paths("/robot/sendBySession")) == 2

    run(main())
    rejected(caplog, "dingtalk", "stale timestamp")
    rejected(caplog, "dingtalk", "bad signature")
    rejected(caplog, "dingtalk", "session webhook outside")


def test_dingtalk_group_members_are_separate_people_and_a_retry_is_answered_once():
    async def main():
        async with serving(dt_channel()) as s:
            first = dt_request(s.api.url, "g1", "zhangsan", "张三", "客户很强势")
            await s.post("/webhook", **first)
            await s.post("/webhook", **first)
            await s.post("/webhook", **dt_request(s.api.url, "g2", "lisi", "李四", "客户很犹豫"))
            assert s.rasa.senders() == [f"dingtalk:{CORP}:zhangsan", f"dingtalk:{CORP}:lisi"]
            replies = s.api.paths("/robot/sendBySession")
            assert [r["query"]["session"] for r in replies] == ["s-g1", "s-g2"]

    run(main())


# WeCom ------------------------------------------------------------------------------------------------------
WC_TOKEN, WC_KEY, WC_CORP = "wecom-token-test", base64.b64encode(bytes(range(32))).decode().rstrip("="), "ww-corp-test"


def wc_channel(template_cards: bool = False):
    return lambda base: wecom.WeCom(
        WC_CORP, "1000002", "wecom-secret-test", WC_TOKEN, WC_KEY, api_base=base, template_cards=template_cards, team="华北大客户部"
    )


def wc_post(xml: str, receive_id: str = WC_CORP, forge: bool = False) -> Dict[str, Any]:
    crypto = wecom.WeComCrypto(WC_TOKEN, WC_KEY, receive_id)
    encrypted = crypto.encrypt(xml)
    timestamp, nonce = str(int(time.time())), "1372623149"
    signature = crypto.signature(timestamp, nonce, encrypted)
    body = (
        f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        "<AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return {
        "body": body.encode(),
        "params": {"msg_signature": signature[::-1] if forge else signature, "timestamp": timestamp, "nonce": nonce},
    }


def wc_text(user: str, text: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )


def test_wecom_url_verification_echostr(caplog):
    async def main():
        async with serving(wc_channel()) as s:
            crypto = wecom.WeComCrypto(WC_TOKEN, WC_KEY, WC_CORP)
            echostr, timestamp, nonce = crypto.encrypt("8346512874563"), "1700000000", "263014780"
            query = {
                "msg_signature": crypto.signature(timestamp, nonce, echostr),
                "timestamp": timestamp,
                "nonce": nonce,
                "echostr": echostr,
            }
            r = await s.get("/webhook", query)
            assert r.status == 200 and await r.text() == "8346512874563"
            r = await s.get("/webhook", {**query, "msg_signature": "0" * 40})
            assert r.status == 401

    run(main())
    rejected(caplog, "wecom", "bad msg_signature")


def test_wecom_encrypted_message_is_answered_through_the_message_api_with_numbered_choices(caplog):
    async def main():
        async with serving(wc_channel()) as s:
            r = await s.post("/webhook", **wc_post(wc_text("lisi", "客户一直砍价", "m-1")))
            assert r.status == 200
            [message] = s.rasa.messages
            assert message.sender_id == f"wecom:{WC_CORP}:lisi" and message.text == "客户一直砍价"
            [send] = s.api.paths("/cgi-bin/message/send")
            assert send["query"] == {"access_token": "wx-token"}
            assert send["json"]["touser"] == "lisi" and send["json"]["agentid"] == 1000002
            assert send["json"]["text"]["content"] == "收到：客户一直砍价\n\n1. 疑心型\n2. Practice"
            # the person answers with a number: Rasa gets that button's payload; a retry of it is taken once
            choice = wc_post(wc_text("lisi", "2", "m-2"))
            await s.post("/webhook", **choice)
            await s.post("/webhook", **choice)
            assert [m.text for m in s.rasa.messages] == ["客户一直砍价", "/practice"]
            assert len(s.api.paths("/cgi-bin/gettoken")) == 1
            li = profile(message.sender_id)
            assert (li["name"], li["team"], li["team_name"]) == ("李四", f"wecom:{WC_CORP}", "华北大客户部")
            # forged: the right keys but another corp's receive id; a wrong signature
            r = await s.post("/webhook", **wc_post(wc_text("lisi", SECRET_TEXT, "m-3"), receive_id="ww-other-corp"))
            assert r.status == 403
            r = await s.post("/webhook", **wc_post(wc_text("lisi", SECRET_TEXT, "m-4"), forge=True))
            assert r.status == 401
            assert len(s.rasa.messages) == 2

    run(main())
    rejected(caplog, "wecom", "wrong receive id")
    rejected(caplog, "wecom", "bad msg_signature")


def test_wecom_two_people_are_separate_and_template_card_clicks_come_back_as_payloads():
    async def main():
        async with serving(wc_channel(template_cards=True)) as s:
            await s.post("/webhook", **wc_post(wc_text("lisi", "客户很挑剔", "c-1")))
            await s.post("/webhook", **wc_post(wc_text("wangwu", "客户很犹豫", "c-2")))
            assert s.rasa.senders() == [f"wecom:{WC_CORP}:lisi", f"wecom:{WC_CORP}:wangwu"]
            cards = [c["json"] for c in s.api.paths("/cgi-bin/message/send") if c["json"]["msgtype"] == "template_card"]
            assert [c["touser"] for c in cards] == ["lisi", "wangwu"]
            assert [b["key"] for b in cards[0]["template_card"]["button_list"]] == [b["payload"] for b in BUTTONS]
            click = (
                f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
                "<CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[/practice]]></EventKey>"
                f"<TaskId><![CDATA[{cards[0]['template_card']['task_id']}]]></TaskId><AgentID>1000002</AgentID></xml>"
            )
            await s.post("/webhook", **wc_post(click))
            await s.post("/webhook", **wc_post(click))  # retried
            assert [m.text for m in s.rasa.messages] == ["客户很挑剔", "客户很犹豫", "/practice"]

    run(main())


# every platform ---------------------------------------------------------------------------------------------


def test_traditional_input_reaches_rasa_unchanged_and_a_traditional_answer_reaches_the_person():
    """The engine answers Traditional in Traditional; the connectors must not convert either way."""
    text = "客戶總是說價格太貴，還要跟老闆商量"

    async def main():
        async with serving(fs_channel()) as s:
            await s.post("/webhook", **fs_signed(fs_message("ev-t", "ou_anna", text)))
            assert s.rasa.messages[0].text == text
            [reply] = s.api.paths("/open-apis/im/v1/messages/om_1/reply")
            assert text in json.loads(reply["json"]["content"])["elements"][0]["text"]["content"]
        async with serving(dt_channel()) as s:
            await s.post("/webhook", **dt_request(s.api.url, "t1", "zhangsan", "張三", text))
            assert s.rasa.messages[0].text == text
            assert text in s.api.paths("/robot/sendBySession")[0]["json"]["actionCard"]["text"]
        async with serving(wc_channel()) as s:
            await s.post("/webhook", **wc_post(wc_text("lisi", text, "t-1")))
            assert s.rasa.messages[0].text == text
            assert text in s.api.paths("/cgi-bin/message/send")[0]["json"]["text"]["content"]

    run(main())


# bad input with valid credentials ---------------------------------------------------------------------------
RAW_BAD = {
    "empty": b"",
    "not JSON": b"{{{ not json",
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "a JSON list": b"[1, 2]",
    "JSON nested 30000 deep": b"[" * 30000 + b"]" * 30000,  # issue 25 item 12: Python's parser gives up (RecursionError)
}


def _with_text(payload: Any, new: Any, key: str) -> Any:
    """The payload with every field named `key` replaced by `new` (wrong types, control characters, 1 MB)."""
    if isinstance(payload, dict):
        return {k: (new if k == key else _with_text(v, new, key)) for k, v in payload.items()}
    return payload


TEXT_BAD = {"a number": 12, "an object": {"a": [1]}, "null": None, "control characters": "hi\x00\x07\x1b[31m", "1 MB": "x" * 1_000_000}


def _fs_raw(body: bytes) -> Dict[str, Any]:
    timestamp, nonce = str(int(time.time())), "nonce-9"
    headers = {"Content-Type": "application/json", "X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce}
    return {"body": body, "headers": {**headers, "X-Lark-Signature": feishu.signature(timestamp, nonce, FS_KEY, body)}}


@pytest.mark.parametrize("kind", list(RAW_BAD) + list(TEXT_BAD))
def test_bad_input_with_valid_credentials_gets_an_answer_or_a_4xx_never_a_500(kind):
    """Each Chinese connector, its signature or encryption valid over the bad body: 200 (answered or acknowledged)
    or 4xx, never a server error. Kinds tried: RAW_BAD (the whole body) and TEXT_BAD (the message text's value)."""

    async def main():
        statuses = {}
        async with serving(fs_channel()) as s:
            if kind in RAW_BAD:
                request = _fs_raw(RAW_BAD[kind])
            else:
                message = fs_message("ev-bad", "ou_bad", "hello")
                message["event"]["message"]["content"] = json.dumps({"text": TEXT_BAD[kind]})
                request = fs_signed(message)
            statuses["feishu"] = (await s.post("/webhook", **request)).status
        async with serving(dt_channel()) as s:
            good = dt_request(s.api.url, "m-bad", "staff-bad", "坏", "hello")
            body = (
                RAW_BAD[kind] if kind in RAW_BAD else json.dumps(_with_text(json.loads(good["body"]), TEXT_BAD[kind], "content")).encode()
            )
            statuses["dingtalk"] = (await s.post("/webhook", body, good["headers"])).status
        async with serving(wc_channel()) as s:
            if kind in RAW_BAD:
                request = {"body": RAW_BAD[kind], "params": wc_post(wc_text("bad", "hello", "9"))["params"]}
            else:
                text = TEXT_BAD[kind] if isinstance(TEXT_BAD[kind], str) else json.dumps(TEXT_BAD[kind])
                request = wc_post(wc_text("bad", text, "9"))
            statuses["wecom"] = (await s.post("/webhook", request["body"], params=request["params"])).status
        return statuses

    statuses = run(main())
    print(kind, statuses)
    assert all(code < 500 for code in statuses.values()), (kind, statuses)


def test_a_non_ascii_signature_gets_a_4xx_never_a_500():
    """Issue 25 item 12: hmac.compare_digest raises on str with non-ASCII characters; a forged header must not."""

    async def main():
        statuses = {}
        async with serving(fs_channel()) as s:
            request = fs_signed(fs_message("ev-sig", "ou_sig", "hello"))
            request["headers"]["X-Lark-Signature"] = "签名é"
            statuses["feishu"] = (await s.post("/webhook", **request)).status
        async with serving(dt_channel()) as s:
            good = dt_request(s.api.url, "m-sig", "staff-sig", "签", "hello")
            statuses["dingtalk"] = (await s.post("/webhook", good["body"], {**good["headers"], "sign": "签名é"})).status
        async with serving(wc_channel()) as s:
            request = wc_post(wc_text("sig", "hello", "10"))
            statuses["wecom"] = (await s.post("/webhook", request["body"], params={**request["params"], "msg_signature": "签名é"})).status
        return statuses

    statuses = run(main())
    assert all(400 <= code < 500 for code in statuses.values()), statuses


# unprompted messages (reminders: bot/channels/connector.py send_direct) -------------------------------------------
def test_each_connector_reaches_a_person_unprompted_in_their_direct_chat():
    """send_direct(sender, text, buttons): no message to answer, the person's chat with the bot, choices that work
    when pressed or typed."""

    async def main():
        async with serving(fs_channel()) as s:
            assert await connector.send_direct(f"feishu:{TENANT}:ou_anna", "**练习**时间到了", BUTTONS)
            [sent] = s.api.paths("/open-apis/im/v1/messages")
            assert sent["query"] == {"receive_id_type": "open_id"} and sent["json"]["receive_id"] == "ou_anna"
            assert sent["json"]["msg_type"] == "interactive" and "练习" in sent["json"]["content"]
            assert not await connector.send_direct(f"dingtalk:{CORP}:zhangsan", "x"), "no live DingTalk connector yet"
        async with serving(lambda base: dingtalk.DingTalk(DT_SECRET, "robot-1", api_base=base, app_key="ak", openapi_base=base)) as s:
            assert await s.channel.send_direct(f"dingtalk:{CORP}:zhangsan", "**练习**时间到了", BUTTONS)
            [sent] = s.api.paths("/v1.0/robot/oToMessages/batchSend")
            assert sent["headers"]["x-acs-dingtalk-access-token"] == "dt-token"
            assert sent["json"]["userIds"] == ["zhangsan"] and sent["json"]["robotCode"] == "robot-1"
            assert "1. 疑心型" in json.loads(sent["json"]["msgParam"])["text"]
            person = f"dingtalk:{CORP}:zhangsan"
            assert (await s.channel.buttons.resolve(person, "2"))["payload"] == "/practice"  # the typed number works
            assert not await s.channel.send_direct(f"wecom:{WC_CORP}:lisi", "x"), "another platform's sender"
        async with serving(dt_channel()) as s:
            assert not await s.channel.send_direct(f"dingtalk:{CORP}:zhangsan", "x"), "without app key and robot code"
        async with serving(wc_channel()) as s:
            assert await connector.send_direct(f"wecom:{WC_CORP}:lisi", "练习时间到了", BUTTONS)
            [sent] = s.api.paths("/cgi-bin/message/send")
            assert sent["json"]["touser"] == "lisi" and "1. 疑心型" in sent["json"]["text"]["content"]

    run(main())
