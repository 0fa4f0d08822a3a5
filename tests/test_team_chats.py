"""The team-chat connectors (bot/channels/team/), on loopback only: a Sanic server with all five connectors and a
stub bot, and a fake platform API that catches every outgoing call. Requests are built and signed here the way
each platform signs them."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Tuple

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.channels.team import common
from bot.channels.team.mattermost import Mattermost
from bot.channels.team.rocketchat import RocketChat
from bot.channels.team.slack import Slack
from bot.channels.team.teams import ISSUER, Teams
from bot.channels.team.telegram import Payloads, Telegram

PLATFORMS = ["slack", "botframework", "telegram", "mattermost", "rocketchat"]
SLACK_SECRET, TEAMS_APP = "slack-signing-secret", "teams-app-id"
TG_TOKEN, TG_SECRET, TG_BOT = "123456:TEST-token", "tg-secret", "coach_bot"
MM_TOKEN, RC_TOKEN, RC_BOT_ID = "mm-webhook-token", "rc-webhook-token", "BOTID"
RUNNING: Dict[str, str] = {}  # the fake API's URL once started, for payloads that name a callback URL
PAYLOAD = '/start_practice{"type_id": "suspicious", "trade": "b2b_software"}'  # longer than Telegram's 64-byte callback_data
SECRET_TEXT = "my customer Mr Wang keeps doubting every number"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeAPI:
    """Stands in for every platform's API: records each call, answers what the connectors read."""

    def __init__(self, jwks: Dict[str, Any]) -> None:
        self.calls: List[Dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if "users.info" in self.path:  # slack_sdk reads users.info with GET
                    user = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("user", [""])[0]
                    self.answer({"ok": True, "user": {"id": user, "name": "x", "profile": {"display_name": f"Slacker {user}"}}})
                else:
                    self.answer({"jwks_uri": f"{api.url}/jwks"} if self.path == "/openid" else jwks)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                api.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path == "/token":
                    self.answer({"access_token": "bf-token", "expires_in": 3600})
                else:
                    self.answer({"ok": True, "success": True, "result": {}})

            def answer(self, data: Dict[str, Any]) -> None:
                out = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent(self, part: str) -> List[Dict[str, Any]]:
        return [c for c in self.calls if part in c["path"] and not c["path"].endswith(("users.info", "/token"))]


class Bot:
    """The stub Rasa: records each UserMessage and answers with a bold text and a button through its channel."""

    def __init__(self) -> None:
        self.messages: List[Any] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Try **this**"})
        await message.output_channel.send_response(
            message.sender_id, {"text": "Practise?", "buttons": [{"title": "Practise with him", "payload": PAYLOAD}]})


@pytest.fixture(autouse=True, scope="module")
def sanic_test_mode() -> Iterator[None]:
    """Several Sanic apps in one process (other test modules start theirs) need Sanic's test mode."""
    from sanic import Sanic

    before, Sanic.test_mode = Sanic.test_mode, True
    yield
    Sanic.test_mode = before


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def world(key: Any) -> Iterator[Dict[str, Any]]:
    """The Sanic app with the five connectors on a free loopback port, the fake API and the stub bot."""
    from sanic import Sanic

    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    fake = FakeAPI({"keys": [{**jwk, "kid": "test-key"}]})
    RUNNING["api"] = fake.url
    channels = [
        Slack.from_credentials({"slack_token": "xoxb-test", "slack_signing_secret": SLACK_SECRET, "api_url": fake.url + "/"}),
        Teams.from_credentials({"app_id": TEAMS_APP, "app_password": "pw", "openid_url": fake.url + "/openid",
                                "token_url": fake.url + "/token"}),
        Telegram.from_credentials({"access_token": TG_TOKEN, "verify": TG_BOT, "secret_token": TG_SECRET, "api_url": fake.url}),
        Mattermost.from_credentials({"url": fake.url + "/api/v4", "token": "mm-bot", "tokens": f"{MM_TOKEN},mm-command-token",
                                     "webhook_url": "http://coach.example/webhooks/mattermost/webhook"}),
        RocketChat.from_credentials({"server_url": fake.url, "user_id": RC_BOT_ID, "token": "rc-bot", "user": "coach",
                                     "webhook_token": RC_TOKEN, "workspace": "chat.example"}),
    ]
    bot = Bot()
    app = Sanic(f"team_chats_{id(bot)}", configure_logging=False)
    for channel in channels:
        app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    port, loop = free_port(), asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True))
        loop.run_until_complete(server.startup())  # type: ignore[union-attr]
        loop.run_until_complete(server.start_serving())  # type: ignore[union-attr]
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{port}/webhooks"
    for _ in range(100):
        try:
            requests.get(f"{url}/slack/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.05)
    yield {"url": url, "fake": fake, "bot": bot, "key": key}
    loop.call_soon_threadsafe(loop.stop)
    fake.server.shutdown()


# each platform's requests, signed as the platform signs them --------------------------------------------------------
Request = Tuple[str, Dict[str, str], bytes]


def slack(kind: str, user: str = "U1", text: str = "<@UBOT> he keeps doubting", forge: str = "") -> Request:
    if kind == "button":
        body = urllib.parse.urlencode({"payload": json.dumps({
            "type": "block_actions", "user": {"id": user, "name": user.lower(), "team_id": "T1"}, "team": {"id": "T1"},
            "channel": {"id": "C1"}, "message": {"ts": "100.1"}, "actions": [{"type": "button", "value": PAYLOAD}]})}).encode()
        ctype = "application/x-www-form-urlencoded"
    else:
        event = ({"type": "app_mention", "channel": "C1", "channel_type": "channel"} if kind == "mention" else
                 {"type": "message", "channel": "D1", "channel_type": "im"} if kind == "dm" else
                 {"type": "message", "channel": "C1", "channel_type": "channel"})
        body = json.dumps({"type": "event_callback", "team_id": "T1", "authorizations": [{"user_id": "UBOT"}],
                           "event": {**event, "user": user, "text": text, "ts": "100.1"}}).encode()
        ctype = "application/json"
    stamp = str(int(time.time()) - (600 if forge == "stale" else 0))
    secret = "wrong" if forge == "signature" else SLACK_SECRET
    headers = {"content-type": ctype, "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()}
    if forge == "unsigned":
        headers.pop("X-Slack-Signature")
    return "slack", headers, body


def teams_token(key: Any, service_url: str, forge: str = "", aud: str = TEAMS_APP) -> str:
    claims = {"iss": ISSUER, "aud": aud, "exp": int(time.time()) + (-3600 if forge == "stale" else 600), "serviceUrl": service_url}
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048) if forge == "signature" else key
    return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": "test-key"})


def teams(kind: str, user: str = "U1", text: str = "<at>Coach</at> he keeps doubting", forge: str = "", *,
          world: Dict[str, Any]) -> Request:
    conversation = ({"id": "a:dm", "conversationType": "personal"} if kind == "dm" else
                    {"id": "19:chan@thread.tacv2", "conversationType": "channel"})
    activity: Dict[str, Any] = {
        "type": "message", "id": "act1", "serviceUrl": world["fake"].url, "text": text, "conversation": conversation,
        "from": {"id": f"29:{user}", "aadObjectId": user, "name": f"Teamer {user}"}, "recipient": {"id": "28:bot", "name": "Coach"},
        "channelData": {"tenant": {"id": "tenant1"}},
        "entities": [{"type": "mention", "mentioned": {"id": "28:bot"}, "text": "<at>Coach</at>"}] if kind == "mention" else []}
    if kind == "button":
        activity.update(text="Practise with him", value={"payload": PAYLOAD})
    headers = {"content-type": "application/json"}
    if forge != "unsigned":
        headers["Authorization"] = "Bearer " + teams_token(world["key"], world["fake"].url, forge)
    return "botframework", headers, json.dumps(activity).encode()


def telegram(kind: str, user: str = "11", text: str = "@coach_bot he keeps doubting", forge: str = "") -> Request:
    chat = {"id": int(user), "type": "private"} if kind == "dm" else {"id": -100, "type": "supergroup"}
    sender = {"id": int(user), "is_bot": False, "first_name": "Tele", "last_name": user}
    message = {"message_id": 7, "from": sender, "chat": chat, "text": text}
    update: Dict[str, Any] = {"update_id": 1, "message": message}
    if kind == "button":
        data = Payloads().pack(PAYLOAD)
        update = {"update_id": 2, "callback_query": {"id": "cb1", "from": sender, "data": data, "message": {
            "message_id": 8, "chat": chat, "text": "Practise?",
            "reply_markup": {"inline_keyboard": [[{"text": "Practise with him", "callback_data": data}]]}}}}
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "wrong" if forge == "signature" else TG_SECRET}
    if forge == "unsigned":
        headers.pop("X-Telegram-Bot-Api-Secret-Token")
    return "telegram", headers, json.dumps(update).encode()


def mattermost(kind: str, user: str = "u1", text: str = "@coach he keeps doubting", forge: str = "") -> Request:
    token = "wrong" if forge == "signature" else MM_TOKEN
    if kind == "button":
        sig = common.sign(MM_TOKEN, user, PAYLOAD) if forge != "signature" else "0" * 32
        body: Dict[str, Any] = {"user_id": user, "user_name": user, "team_id": "team1", "channel_id": "c1",
                                "context": {"action": PAYLOAD, "root": "p1", "sig": sig}}
        if forge == "unsigned":
            body["context"].pop("sig")
        return "mattermost", {"content-type": "application/json"}, json.dumps(body).encode()
    if kind == "dm":  # DMs reach the bot through the slash command, form-encoded
        form = {"token": token, "team_id": "team1", "channel_id": "dm1", "user_id": user, "user_name": f"mm-{user}",
                "command": "/coach", "text": text.replace("@coach ", ""), "response_url": f"{RUNNING['api']}/hooks/cmd"}
    else:
        form = {"token": token, "team_id": "team1", "channel_id": "c1", "user_id": user, "user_name": f"mm-{user}",
                "post_id": "p1", "text": text, "trigger_word": "@coach" if kind == "mention" else ""}
    if forge == "unsigned":
        form.pop("token")
    return "mattermost", {"content-type": "application/x-www-form-urlencoded"}, urllib.parse.urlencode(form).encode()


def rocketchat(kind: str, user: str = "u1", text: str = "@coach he keeps doubting", forge: str = "") -> Request:
    room = f"{RC_BOT_ID}{user}" if kind == "dm" else "GENERAL"
    if kind == "button":
        text = f"@coach {PAYLOAD}"
    body = {"token": "wrong" if forge == "signature" else RC_TOKEN, "channel_id": room, "message_id": "m1",
            "user_id": user, "user_name": f"rc-{user}", "text": text, "bot": False}
    if forge == "unsigned":
        body.pop("token")
    return "rocketchat", {"content-type": "application/json"}, json.dumps(body).encode()


BUILDERS: Dict[str, Callable[..., Request]] = {"slack": slack, "botframework": teams, "telegram": telegram,
                                                "mattermost": mattermost, "rocketchat": rocketchat}


def post(world: Dict[str, Any], platform: str, kind: str, **kw: Any) -> requests.Response:
    if platform == "botframework":
        kw["world"] = world
    name, headers, body = BUILDERS[platform](kind, **kw)
    return requests.post(f"{world['url']}/{name}/webhook", data=body, headers=headers, timeout=10)


def wait(check: Callable[[], bool], seconds: float = 5) -> bool:
    """Slack's connector answers Slack first and handles the message in the background."""
    deadline = time.time() + seconds
    while not check():
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def fresh(world: Dict[str, Any]) -> Dict[str, Any]:
    world["bot"].messages.clear()
    world["fake"].calls.clear()
    return world


def other(platform: str) -> str:
    return {"slack": "U2", "botframework": "U2", "telegram": "22", "mattermost": "u2", "rocketchat": "u2"}[platform]


# the platform's own button element, as caught on the fake API --------------------------------------------------------
def buttons_sent(platform: str, calls: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(title, what pressing it sends back) of every button in the outgoing calls, read the platform's way."""
    found: List[Tuple[str, str]] = []
    for call in calls:
        body = call["body"]
        if platform == "slack":
            blocks = json.loads(body["blocks"]) if isinstance(body.get("blocks"), str) else body.get("blocks") or []
            found += [(e["text"]["text"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]
        elif platform == "botframework":
            found += [(a["title"], a["value"]["payload"]) for att in body.get("attachments") or []
                      if att["contentType"] == "application/vnd.microsoft.card.hero" for a in att["content"]["buttons"]]
        elif platform == "telegram":
            found += [(b["text"], Payloads.unpack(PACKED, b["callback_data"]) or "") for row in
                      (body.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        elif platform == "mattermost":
            found += [(a["name"], a["integration"]["context"]["action"]) for att in (body.get("props") or {}).get("attachments", [])
                      for a in att["actions"]]
        else:
            found += [(a["text"], a["msg"]) for att in body.get("attachments") or [] for a in att["actions"]]
    return found


PACKED = Payloads()
PACKED.pack(PAYLOAD)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_two_people_mentioning_the_bot_in_one_channel_get_two_conversations(fresh: Dict[str, Any], platform: str) -> None:
    for user in (None, other(platform)):
        r = post(fresh, platform, "mention", **({"user": user} if user else {}))
        assert r.status_code == 200, r.text
    assert wait(lambda: len(fresh["bot"].messages) == 2)
    first, second = fresh["bot"].messages
    assert first.sender_id != second.sender_id
    assert all(m.sender_id.startswith(f"{platform}:") and m.sender_id.count(":") >= 2 for m in (first, second))
    assert first.sender_id.split(":")[1] == second.sender_id.split(":")[1], "same workspace or chat"
    assert first.text == "he keeps doubting" and first.input_channel == platform
    assert wait(lambda: len(fresh["fake"].sent("")) >= 4), fresh["fake"].calls
    pressed = f"@coach {PAYLOAD}" if platform == "rocketchat" else PAYLOAD  # a Rocket.Chat button sends a mention
    assert ("Practise with him", pressed) in buttons_sent(platform, fresh["fake"].calls)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_direct_message_is_answered(fresh: Dict[str, Any], platform: str) -> None:
    r = post(fresh, platform, "dm", text="he keeps doubting")
    assert r.status_code == 200, r.text
    assert wait(lambda: len(fresh["bot"].messages) == 1 and len(fresh["fake"].sent("")) >= 2)
    assert fresh["bot"].messages[0].text == "he keeps doubting"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_button_press_reaches_the_bot_as_its_payload(fresh: Dict[str, Any], platform: str) -> None:
    r = post(fresh, platform, "button")
    assert r.status_code == 200, r.text
    assert wait(lambda: len(fresh["bot"].messages) == 1)
    assert fresh["bot"].messages[0].text == PAYLOAD
    assert fresh["bot"].messages[0].sender_id.startswith(f"{platform}:")


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if p != "botframework"])  # Teams itself sends only mentions
def test_channel_chatter_without_a_mention_is_ignored(fresh: Dict[str, Any], platform: str) -> None:
    r = post(fresh, platform, "chatter", text="lunch anyone?")
    assert r.status_code == 200
    time.sleep(0.2)
    assert fresh["bot"].messages == [] and fresh["fake"].sent("") == []


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("forge", ["unsigned", "signature", "stale"])
def test_forged_requests_are_refused_and_logged_without_the_text(fresh: Dict[str, Any], platform: str, forge: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    if forge == "stale" and platform not in ("slack", "botframework"):
        pytest.skip("only Slack and Teams sign with a time")
    caplog.set_level(logging.WARNING, logger="bot.channels.team")
    for kind in ("mention", "button"):
        r = post(fresh, platform, kind, text=SECRET_TEXT, forge=forge)
        assert r.status_code in (401, 403), (kind, r.status_code, r.text)
    time.sleep(0.1)
    assert fresh["bot"].messages == [] and fresh["fake"].sent("") == []
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "bot.channels.team"]
    assert lines and all(line.startswith(f"{platform}: rejected request") for line in lines), lines
    assert not any("doubting" in line or "Wang" in line for line in caplog.text.splitlines())


def test_display_names_and_team_are_kept_for_the_leaderboard(fresh: Dict[str, Any]) -> None:
    from knowledge.app import userdata

    for platform in PLATFORMS:
        post(fresh, platform, "mention")
        post(fresh, platform, "mention", user=other(platform))
    assert wait(lambda: len(fresh["bot"].messages) == 10)
    teams_seen = set()
    for message in fresh["bot"].messages:
        profile = userdata().profile(message.sender_id)
        assert profile["name"] and message.sender_id.split(":")[-1] != profile["name"], profile
        assert profile["team"].startswith(message.input_channel + ":")
        teams_seen.add(profile["team"])
    assert len(teams_seen) == 5
    members = userdata().team_members("slack:T1")
    assert {m["name"] for m in members} >= {"Slacker U1", "Slacker U2"}


def test_slack_answers_in_the_thread_and_teams_replies_to_the_activity(fresh: Dict[str, Any]) -> None:
    post(fresh, "slack", "mention")
    post(fresh, "botframework", "mention")
    assert wait(lambda: len(fresh["fake"].sent("chat.postMessage")) >= 2 and len(fresh["fake"].sent("/v3/")) >= 2)
    assert all(c["body"].get("thread_ts") == "100.1" for c in fresh["fake"].sent("chat.postMessage"))
    assert all(c["path"].endswith("/activities/act1") and c["headers"]["Authorization"] == "Bearer bf-token"
               for c in fresh["fake"].sent("/v3/"))


def test_mattermost_slash_commands_answer_privately_on_the_response_url(fresh: Dict[str, Any]) -> None:
    assert post(fresh, "mattermost", "dm", text="he keeps doubting").status_code == 200
    calls = fresh["fake"].sent("/hooks/cmd")
    assert len(calls) == 2 and all(c["body"]["response_type"] == "ephemeral" for c in calls)
    assert fresh["fake"].sent("/posts") == []


def test_markup_is_converted_per_platform() -> None:
    text = "Try **this** <now> & then"
    assert common.to_slack(text) == "Try *this* &lt;now&gt; &amp; then"
    assert common.to_telegram_html(text) == "Try <b>this</b> &lt;now&gt; &amp; then"
    assert common.to_rocketchat(text) == "Try *this* <now> & then"
    assert common.to_teams("a\nb\n\nc") == "a  \nb\n\nc"


def test_long_telegram_payloads_fit_callback_data() -> None:
    payloads = Payloads()
    packed = payloads.pack(PAYLOAD)
    assert len(packed.encode()) <= 64 and payloads.unpack(packed) == PAYLOAD
    assert payloads.pack("/greet") == "/greet"
    assert Payloads().unpack(packed) is None  # after a restart: the connector falls back to the button's title


def test_unconfigured_connectors_stay_off_and_half_configured_ones_refuse_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.exceptions import InvalidConfigException

    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TELEGRAM_TOKEN",
                "TELEGRAM_SECRET_TOKEN", "TELEGRAM_BOT_USERNAME", "MATTERMOST_URL", "MATTERMOST_BOT_TOKEN", "MATTERMOST_TOKENS",
                "ROCKETCHAT_URL", "ROCKETCHAT_BOT_TOKEN", "ROCKETCHAT_WEBHOOK_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    for cls in (Slack, Teams, Telegram, Mattermost, RocketChat):
        assert cls.from_credentials(None).enabled is False  # type: ignore[attr-defined]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(InvalidConfigException):
        Slack.from_credentials(None)  # the shipped rule: no signing secret, no start
    monkeypatch.setenv("TELEGRAM_TOKEN", TG_TOKEN)
    with pytest.raises(InvalidConfigException):
        Telegram.from_credentials(None)


def test_team_chat_senders_cannot_collide_with_web_chat_or_rest() -> None:
    from bot.channels.webchat import SENDER_RE

    sender = common.sender_id("slack", "T1", "U1")
    assert not SENDER_RE.match(sender) and sender != "U1"
    assert common.sender_id("telegram", "-100", "11") != common.sender_id("telegram", "-100", "22")
