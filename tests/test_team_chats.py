"""The team-chat connectors (bot/channels/team/) in process, loopback only: what needs no Rasa.

Here: the five connectors in a Sanic app with a stub bot, for the refusals (every way a request can be forged),
the chatter they must ignore, markup and configuration. What the coach answers, with the real model and action
server, is in test_team_chats_server.py, which uses the requests, fake platform API and reply readers defined here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.channels import markup, senders
from bot.channels.connector import Memory
from bot.channels.markup import WORD_JOINER
from bot.channels.team.mattermost import ACTION_LIFETIME, Mattermost, action_context
from bot.channels.team.rocketchat import RocketChat
from bot.channels.team.slack import Slack
from bot.channels.team.teams import ISSUER, Teams
from bot.channels.team.telegram import Payloads, Telegram

from .fake_platform import FakePlatform

PLATFORMS = ["slack", "botframework", "telegram", "mattermost", "rocketchat"]
SLACK_SECRET, SLACK_BOT = "slack-signing-secret", "UBOT"
TEAMS_APP, TEAMS_KID = "teams-app-id", "test-key"
TG_TOKEN, TG_SECRET, TG_BOT = "123456:TEST-token", "tg-secret", "coach_bot"
MM_TOKEN, MM_COMMAND_TOKEN = "mm-webhook-token", "mm-command-token"
MM_ACTION_KEY = "mm-action-key-of-at-least-32-characters"  # signs the buttons: never a webhook token
RC_TOKEN, RC_BOT_ID, RC_WORKSPACE = "rc-webhook-token", "BOTID", "chat.example"
SECRET_TEXT = "my customer Mr Wang keeps doubting every number"  # must never appear in a log line
IDS = itertools.count(1000)  # message ids: each answer must land in the thread of the message it answers


def settings(api: str) -> Dict[str, str]:
    """The environment that turns all five connectors on against the fake API at `api` (as the README says)."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": api + "/",
        "TEAMS_APP_ID": TEAMS_APP,
        "TEAMS_APP_PASSWORD": "pw",
        "TEAMS_OPENID_URL": api + "/openid",
        "TEAMS_TOKEN_URL": api + "/token",
        "TELEGRAM_TOKEN": TG_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TG_SECRET,
        "TELEGRAM_BOT_USERNAME": TG_BOT,
        "TELEGRAM_API_URL": api,
        "MATTERMOST_URL": api + "/api/v4",
        "MATTERMOST_BOT_TOKEN": "mm-bot",
        "MATTERMOST_TOKENS": f"{MM_TOKEN},{MM_COMMAND_TOKEN}",
        "MATTERMOST_WEBHOOK_URL": "https://coach.example/webhooks/mattermost/webhook",
        "MATTERMOST_ACTION_SECRET": MM_ACTION_KEY,
        "ROCKETCHAT_URL": api,
        "ROCKETCHAT_BOT_USER_ID": RC_BOT_ID,
        "ROCKETCHAT_BOT_TOKEN": "rc-bot",
        "ROCKETCHAT_BOT_USERNAME": "coach",
        "ROCKETCHAT_WEBHOOK_TOKEN": RC_TOKEN,
        "ROCKETCHAT_WORKSPACE": RC_WORKSPACE,
    }


class FakeAPI(FakePlatform):
    """Stands in for every platform's API at once (tests/fake_platform.py): answers what the connectors read (Slack's
    users.info with `names`, the Bot Framework's OpenID keys and token, Mattermost's bot id and direct channel)."""

    def __init__(self, key: Any) -> None:
        self.names: Dict[str, str] = {}  # Slack user id -> display name
        self.jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": TEAMS_KID}
        super().__init__(FakeAPI.answer)

    def answer(self, call: Dict[str, Any]) -> Dict[str, Any]:
        path, body = call["path"], call["body"]
        if call["method"] == "GET":
            if path.endswith("/users/me"):  # Mattermost: the bot's own user id
                return {"id": "mmbot"}
            if "users.info" in path:  # slack_sdk reads users.info with GET
                user = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("user", [""])[0]
                name = self.names.get(user, f"Slacker {user}")
                return {"ok": True, "user": {"id": user, "name": "handle", "profile": {"display_name": name}}}
            return {"jwks_uri": f"{self.url}/jwks"} if path == "/openid" else {"keys": [self.jwk]}
        if path == "/token":
            return {"access_token": "bf-token", "expires_in": 3600}
        if path.endswith("/channels/direct"):  # Mattermost: the direct channel of the two user ids
            return {"id": "dm-" + "-".join(sorted(body))}
        return {"ok": True, "success": True, "result": {}, "ts": "1.0"}

    def replies(self, platform: str, since: int = 0) -> List[Reply]:
        """The bot's messages on `platform` among the calls from number `since` on, read the platform's way."""
        return [read_reply(platform, c) for c in self.calls[since:] if IS_REPLY[platform](c["path"])]


# what a person does on a platform, as the platform posts it to the webhook ----------------------------------------
@dataclass
class Msg:
    kind: str  # "mention" (in a channel), "dm", "chatter" (channel talk without a mention) or "button"
    user: str
    text: str = ""
    space: str = ""  # workspace, tenant, group or team: each platform's default when empty
    name: str = ""  # the name the platform sends along (Slack's comes from users.info instead)
    press: Any = None  # kind "button": what the pressed button carries, as the bot sent it (see Reply.buttons)
    thread: str = ""  # kind "button": the thread the buttons were posted in
    forge: str = ""  # "", "unsigned", "signature" (wrong secret, key or token) or "stale"
    id: str = field(default_factory=lambda: str(next(IDS)))


Request = Tuple[Dict[str, str], bytes]  # headers and body
FORM, JSON = "application/x-www-form-urlencoded", "application/json"


def slack(m: Msg, api: str, key: Any) -> Request:
    space = m.space or "T1"
    if m.kind == "button":
        message = {"ts": f"{m.id}.9", **({"thread_ts": m.thread} if m.thread else {})}
        body = urllib.parse.urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "user": {"id": m.user, "username": "handle", "team_id": space},
                        "team": {"id": space},
                        "channel": {"id": "C1"},
                        "message": message,
                        "actions": [{"type": "button", "action_id": "coach_0", "value": m.press}],
                    }
                )
            }
        ).encode()
        ctype = FORM
    else:
        event = (
            {"type": "app_mention", "channel": "C1", "text": f"<@{SLACK_BOT}> {m.text}"}
            if m.kind == "mention"
            else {"type": "message", "channel": f"D{m.user}", "channel_type": "im", "text": m.text}
            if m.kind == "dm"
            else {"type": "message", "channel": "C1", "channel_type": "channel", "text": m.text}
        )
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": space,
                "authorizations": [{"user_id": SLACK_BOT}],
                "event": {**event, "user": m.user, "ts": f"{m.id}.1"},
            }
        ).encode()
        ctype = JSON
    stamp = str(int(time.time()) - (600 if m.forge == "stale" else 0))
    secret = "wrong" if m.forge == "signature" else SLACK_SECRET
    headers = {
        "content-type": ctype,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest(),
    }
    if m.forge == "unsigned":
        headers.pop("X-Slack-Signature")
    return headers, body


def teams_token(key: Any, service_url: str, forge: str = "") -> str:
    claims = {"iss": ISSUER, "aud": TEAMS_APP, "exp": int(time.time()) + (-3600 if forge == "stale" else 600), "serviceUrl": service_url}
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048) if forge == "signature" else key
    return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": TEAMS_KID})


def teams(m: Msg, api: str, key: Any) -> Request:
    service_url = f"{api}/teams"  # like Teams' own https://smba.trafficmanager.net/emea (the connector adds the /)
    conversation = (
        {"id": f"a:{m.user}", "conversationType": "personal"}
        if m.kind == "dm"
        else {"id": "19:chan@thread.tacv2", "conversationType": "channel"}
    )
    activity: Dict[str, Any] = {
        "type": "message",
        "id": m.id,
        "serviceUrl": service_url,
        "conversation": conversation,
        "text": f"<at>Coach</at> {m.text}" if m.kind == "mention" else m.text,
        "from": {"id": f"29:{m.user}", "aadObjectId": m.user, "name": m.name or f"Teamer {m.user}"},
        "recipient": {"id": "28:bot", "name": "Coach"},
        "channelData": {"tenant": {"id": m.space or "tenant1"}},
        "entities": [{"type": "mention", "mentioned": {"id": "28:bot"}, "text": "<at>Coach</at>"}] if m.kind == "mention" else [],
    }
    if m.kind == "button":  # a messageBack press: the card's value, no mention
        activity.update(text="", value=m.press, replyToId=m.thread)
    headers = {"content-type": JSON}
    if m.forge != "unsigned":
        headers["Authorization"] = "Bearer " + teams_token(key, service_url, m.forge)
    return headers, json.dumps(activity).encode()


def telegram(m: Msg, api: str, key: Any) -> Request:
    chat = {"id": int(m.user), "type": "private"} if m.kind == "dm" else {"id": int(m.space or -100), "type": "supergroup"}
    first, _, last = (m.name or f"Tele {m.user}").partition(" ")
    person = {"id": int(m.user), "is_bot": False, "first_name": first, "last_name": last}
    text = f"@{TG_BOT} {m.text}" if m.kind == "mention" else m.text
    update: Dict[str, Any] = {"update_id": int(m.id), "message": {"message_id": int(m.id), "from": person, "chat": chat, "text": text}}
    if m.kind == "button":
        update = {
            "update_id": int(m.id),
            "callback_query": {
                "id": f"cb{m.id}",
                "from": person,
                "data": m.press,
                "message": {"message_id": int(m.thread or 1), "chat": chat, "text": "…"},
            },
        }
    headers = {"content-type": JSON, "X-Telegram-Bot-Api-Secret-Token": "wrong" if m.forge == "signature" else TG_SECRET}
    if m.forge == "unsigned":
        headers.pop("X-Telegram-Bot-Api-Secret-Token")
    return headers, json.dumps(update).encode()


def mattermost(m: Msg, api: str, key: Any) -> Request:
    space, name = m.space or "team1", m.name or f"mm-{m.user}"
    if m.kind == "button":  # an interactive button posts its context back, with no token: the signature inside counts
        context = dict(m.press)
        if m.forge == "signature":
            context["sig"] = "0" * 32
        elif m.forge == "unsigned":
            context.pop("sig", None)
        # Mattermost posts the press from the channel the button is in (the one its context was signed for)
        channel = str(m.press.get("channel") or "c1") if isinstance(m.press, dict) else "c1"
        body = {"user_id": m.user, "user_name": name, "team_id": space, "channel_id": channel, "context": context}
        return {"content-type": JSON}, json.dumps(body).encode()
    token = "wrong" if m.forge == "signature" else MM_COMMAND_TOKEN if m.kind == "dm" else MM_TOKEN
    if m.kind == "dm":  # outgoing webhooks do not fire in DMs: there the slash command, form-encoded
        data = {
            "token": token,
            "team_id": space,
            "channel_id": f"dm-{m.user}",
            "user_id": m.user,
            "user_name": name,
            "command": "/coach",
            "text": m.text,
            "response_url": f"{api}/hooks/commands/{m.id}",
        }
    else:  # the outgoing webhook, content type application/json as the README sets it up
        data = {
            "token": token,
            "team_id": space,
            "channel_id": "c1",
            "user_id": m.user,
            "user_name": name,
            "post_id": m.id,
            "text": f"@coach {m.text}" if m.kind == "mention" else m.text,
            "trigger_word": "@coach" if m.kind == "mention" else "",
        }
    if m.forge == "unsigned":
        data.pop("token")
    if m.kind == "dm":
        return {"content-type": FORM}, urllib.parse.urlencode(data).encode()
    return {"content-type": JSON}, json.dumps(data).encode()


def rocketchat(m: Msg, api: str, key: Any) -> Request:
    room = f"{RC_BOT_ID}{m.user}" if m.kind == "dm" else "GENERAL"
    text = {"mention": f"@coach {m.text}", "button": str(m.press)}.get(m.kind, m.text)  # a button sends "@coach <payload>"
    body = {
        "token": "wrong" if m.forge == "signature" else RC_TOKEN,
        "channel_id": room,
        "message_id": m.id,
        "user_id": m.user,
        "user_name": m.name or f"rc-{m.user}",
        "text": text,
        "bot": False,
        **({"tmid": m.thread} if m.kind == "button" and m.thread else {}),
    }
    if m.forge == "unsigned":
        body.pop("token")
    return {"content-type": JSON}, json.dumps(body).encode()


BUILD: Dict[str, Callable[[Msg, str, Any], Request]] = {
    "slack": slack,
    "botframework": teams,
    "telegram": telegram,
    "mattermost": mattermost,
    "rocketchat": rocketchat,
}
SPACE = {"slack": "T1", "botframework": "tenant1", "telegram": "-100", "mattermost": "team1", "rocketchat": RC_WORKSPACE}


def post(webhooks: str, api: str, key: Any, platform: str, m: Msg) -> requests.Response:
    headers, body = BUILD[platform](m, api, key)
    return requests.post(f"{webhooks}/{platform}/webhook", data=body, headers=headers, timeout=60)


def sender_of(platform: str, m: Msg) -> str:
    """The Rasa sender id the connector must give this person (a Telegram DM is its own chat)."""
    if platform == "telegram" and m.kind == "dm":
        return senders.sender_id(platform, m.user, m.user)
    return senders.sender_id(platform, m.space or SPACE[platform], m.user)


# the bot's messages, as caught on the fake API ----------------------------------------------------------------------
@dataclass
class Reply:
    text: str
    buttons: List[Tuple[str, Any]]  # (title, what pressing it sends back: Msg.press)
    where: str  # the channel, chat, room, conversation or response URL
    thread: Optional[str]  # the message it answers in the thread of (None: straight into the channel or DM)


IS_REPLY: Dict[str, Callable[[str], bool]] = {
    "slack": lambda path: path == "/chat.postMessage",
    "botframework": lambda path: path.startswith("/teams/v3/conversations/"),
    "telegram": lambda path: path.endswith("/sendMessage"),
    "mattermost": lambda path: path == "/api/v4/posts" or path.startswith("/hooks/commands/"),
    "rocketchat": lambda path: path == "/api/v1/chat.postMessage",
}


def read_reply(platform: str, call: Dict[str, Any]) -> Reply:
    body = call["body"]
    if platform == "slack":
        blocks = json.loads(body["blocks"]) if isinstance(body.get("blocks"), str) else body.get("blocks") or []
        buttons = [(e["text"]["text"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]
        return Reply(body["text"], buttons, body["channel"], body.get("thread_ts"))
    if platform == "botframework":
        cards = [a["content"] for a in body.get("attachments") or [] if a["contentType"] == "application/vnd.microsoft.card.hero"]
        buttons = [(a["title"], a["value"]) for c in cards for a in c["buttons"] if a["type"] == "messageBack"]
        text = body.get("text") or "\n".join(c["text"] for c in cards)
        return Reply(text, buttons, body["conversation"]["id"], body.get("replyToId"))
    if platform == "telegram":
        rows = (body.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [(b["text"], b["callback_data"]) for row in rows for b in row]
        thread = body.get("reply_to_message_id")
        return Reply(body["text"], buttons, str(body["chat_id"]), str(thread) if thread else None)
    if platform == "mattermost":
        attachments = (body.get("props") or {}).get("attachments") or []
        buttons = [(a["name"], a["integration"]["context"]) for att in attachments for a in att["actions"]]
        if call["path"].startswith("/hooks/"):
            assert body["response_type"] == "ephemeral"  # a slash command's answer: only the person who asked sees it
            return Reply(body["text"], buttons, call["path"], None)
        return Reply(body["message"], buttons, body["channel_id"], body.get("root_id") or None)
    buttons = [(a["text"], a["msg"]) for att in body.get("attachments") or [] for a in att["actions"]]
    return Reply(body["text"], buttons, body["roomId"], body.get("tmid"))


# in process: the five connectors around a stub bot -----------------------------------------------------------------
class Bot:
    """The stub Rasa: records each UserMessage and answers with a bold text and a button through its channel."""

    def __init__(self) -> None:
        self.messages: List[Any] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Try **this**"})
        await message.output_channel.send_response(
            message.sender_id, {"text": "Practise?", "buttons": [{"title": "Practise", "payload": "/start_practice"}]}
        )


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def world(key: Any) -> Iterator[Dict[str, Any]]:
    """The five connectors, configured from the environment the server tests give Rasa, in a Sanic app on a free
    loopback port around the stub bot; the fake API catches what they send."""
    from sanic import Sanic

    fake = FakeAPI(key)
    with pytest.MonkeyPatch.context() as env:
        for name, value in settings(fake.url).items():
            env.setenv(name, value)
        channels = [cls.from_credentials(None) for cls in (Slack, Teams, Telegram, Mattermost, RocketChat)]
    bot = Bot()
    before, Sanic.test_mode = Sanic.test_mode, True  # several Sanic apps in one process (other modules start theirs)
    app = Sanic(f"team_chats_{id(bot)}", configure_logging=False)
    for channel in channels:
        app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    loop, serving = asyncio.new_event_loop(), threading.Event()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound here: no other process can take the port meanwhile
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(app.create_server(sock=sock, return_asyncio_server=True))
        loop.run_until_complete(server.startup())  # type: ignore[union-attr]
        loop.run_until_complete(server.start_serving())  # type: ignore[union-attr]
        serving.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    assert serving.wait(timeout=60), "the connectors' test server did not start"
    url = f"http://127.0.0.1:{port}/webhooks"
    yield {"url": url, "fake": fake, "bot": bot, "key": key, "channels": channels, "loop": loop}
    loop.call_soon_threadsafe(loop.stop)
    fake.close()
    Sanic.test_mode = before


def settled(world: Dict[str, Any]) -> Dict[str, Any]:
    """Once every message the connectors took has been handled (Slack answers first and handles the message in the
    background: bot/channels/connector.py Background), the observable end of a request instead of a sleep."""

    async def drain() -> None:
        await asyncio.gather(*(channel.background.drain() for channel in world["channels"]))

    asyncio.run_coroutine_threadsafe(drain(), world["loop"]).result(timeout=60)
    return world


@pytest.fixture
def fresh(world: Dict[str, Any]) -> Dict[str, Any]:
    settled(world)  # nothing of an earlier test arrives during this one
    world["bot"].messages.clear()
    world["fake"].calls.clear()
    return world


def send(world: Dict[str, Any], platform: str, m: Msg) -> requests.Response:
    return post(world["url"], world["fake"].url, world["key"], platform, m)


PRESS = {
    "slack": "/start_practice",
    "botframework": {"payload": "/start_practice"},
    "telegram": "/start_practice",
    "mattermost": action_context(MM_ACTION_KEY, "u1", "team1", "c1", "", "/start_practice"),
    "rocketchat": "@coach /start_practice",
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("forge", ["unsigned", "signature", "stale"])
def test_forged_requests_are_refused_and_logged_without_the_text(
    fresh: Dict[str, Any], platform: str, forge: str, caplog: pytest.LogCaptureFixture
) -> None:
    if forge == "stale" and platform not in ("slack", "botframework"):
        pytest.skip("only Slack and Teams sign with a time")
    caplog.set_level(logging.WARNING, logger="bot.channels.connector")
    user = "11" if platform == "telegram" else "u1"
    for m in (
        Msg("mention", user, SECRET_TEXT, forge=forge),
        Msg("dm", user, SECRET_TEXT, forge=forge),
        Msg("button", user, press=PRESS[platform], forge=forge),
    ):
        r = send(fresh, platform, m)
        assert r.status_code in (401, 403), (m.kind, r.status_code, r.text)
    assert settled(fresh)["bot"].messages == [] and fresh["fake"].calls == []
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "bot.channels.connector"]
    assert lines and all(line.startswith(f"{platform}: rejected request") for line in lines), lines
    assert not any("doubting" in line or "Wang" in line for line in caplog.text.splitlines())


def test_a_mattermost_button_signed_for_someone_else_is_refused(fresh: Dict[str, Any]) -> None:
    r = send(fresh, "mattermost", Msg("button", "u2", press=PRESS["mattermost"]))  # u1's button, pressed by u2
    assert r.status_code == 403 and fresh["bot"].messages == []


def test_mattermost_buttons_are_bound_to_team_channel_and_time_and_answers_stay_on_the_server(fresh: Dict[str, Any]) -> None:
    """Issue 25 item 10: the signature covered only user and payload (no team, channel or expiry; key = the webhook
    token), and a slash command's response_url was posted to whatever host it named."""
    sign = lambda **changes: {**action_context(MM_ACTION_KEY, "u1", "team1", "c1", "", "/start_practice"), **changes}  # noqa: E731
    old_scheme = hmac.new(MM_TOKEN.encode(), b"u1|/start_practice", hashlib.sha256).hexdigest()[:32]
    forged = {
        "another channel": sign(channel="c2"),
        "another team": sign(team="team2"),
        "expired": action_context(MM_ACTION_KEY, "u1", "team1", "c1", "", "/start_practice", now=time.time() - ACTION_LIFETIME - 60),
        "signed with the webhook token": {"action": "/start_practice", "root": "", "sig": old_scheme},
        "expiry moved": sign(exp=str(int(time.time()) + 10 * ACTION_LIFETIME)),
    }
    for kind, context in forged.items():
        r = send(fresh, "mattermost", Msg("button", "u1", press=context))
        assert r.status_code == 403, (kind, r.status_code)
    assert fresh["bot"].messages == []
    assert send(fresh, "mattermost", Msg("button", "u1", press=sign())).status_code == 200
    assert [m.text for m in fresh["bot"].messages] == ["/start_practice"]
    headers, body = mattermost(Msg("dm", "u1", "hello"), fresh["fake"].url, fresh["key"])
    evil = urllib.parse.urlencode({**dict(urllib.parse.parse_qsl(body.decode())), "response_url": "https://evil.example/hooks/x"})
    calls = len(fresh["fake"].calls)
    r = requests.post(f"{fresh['url']}/mattermost/webhook", data=evil.encode(), headers=headers, timeout=10)
    assert r.status_code == 403 and len(fresh["fake"].calls) == calls and len(fresh["bot"].messages) == 1


def test_teams_refuses_a_token_for_another_service_url(fresh: Dict[str, Any]) -> None:
    headers, body = teams(Msg("mention", "u1", "hello"), fresh["fake"].url, fresh["key"])
    headers["Authorization"] = "Bearer " + teams_token(fresh["key"], "https://elsewhere.example/")
    r = requests.post(f"{fresh['url']}/botframework/webhook", data=body, headers=headers, timeout=10)
    assert r.status_code == 401 and fresh["bot"].messages == []


def test_forged_teams_key_ids_do_not_make_the_server_fetch_keys_each_time(fresh: Dict[str, Any]) -> None:
    """Issue 25 item 6: each unauthenticated POST naming an unknown key id made a blocking fetch of Microsoft's
    keys on the event loop (10 forged requests, 10 fetches, every channel stalled meanwhile)."""
    headers, body = teams(Msg("mention", "u1", "hello"), fresh["fake"].url, fresh["key"])
    assert send(fresh, "botframework", Msg("dm", "u1", "hello")).status_code == 200  # the keys are held
    before = fresh["fake"].gets.count("/openid")
    for n in range(10):
        claims = {"iss": ISSUER, "aud": TEAMS_APP, "exp": int(time.time()) + 600}
        forged = jwt.encode(claims, fresh["key"], algorithm="RS256", headers={"kid": f"unknown-{n}"})
        r = requests.post(
            f"{fresh['url']}/botframework/webhook", data=body, headers={**headers, "Authorization": f"Bearer {forged}"}, timeout=10
        )
        assert r.status_code == 401
    assert fresh["fake"].gets.count("/openid") - before <= 1, fresh["fake"].gets
    assert send(fresh, "botframework", Msg("dm", "u1", "hello")).status_code == 200, "the real key still works"


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if p != "botframework"])  # Teams itself sends only mentions
def test_channel_chatter_without_a_mention_is_ignored(fresh: Dict[str, Any], platform: str) -> None:
    user = "11" if platform == "telegram" else "u1"
    assert send(fresh, platform, Msg("chatter", user, "lunch anyone?")).status_code == 200
    assert settled(fresh)["bot"].messages == [] and fresh["fake"].calls == []


def test_a_slack_slash_command_reaches_the_bot_as_its_text(fresh: Dict[str, Any]) -> None:
    body = urllib.parse.urlencode(
        {"command": "/coach", "text": "he keeps doubting", "team_id": "T1", "user_id": "U1", "user_name": "ann", "channel_id": "C1"}
    ).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    r = requests.post(
        f"{fresh['url']}/slack/webhook",
        data=body,
        timeout=10,
        headers={"content-type": FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature},
    )
    assert r.status_code == 200
    assert [(m.text, m.sender_id) for m in settled(fresh)["bot"].messages] == [("he keeps doubting", "slack:T1:U1")]


def test_markup_is_converted_per_platform() -> None:
    text = "Try **this** <now> & then"
    seen = lambda out: out.replace(WORD_JOINER, "")  # noqa: E731 - what a person sees
    assert seen(markup.to_slack(text)) == "Try *this* &lt;now&gt; &amp; then"
    assert seen(markup.to_telegram_html(text)) == "Try <b>this</b> &lt;now&gt; &amp; then"
    assert seen(markup.to_rocketchat(text)) == "Try *this* <now> & then"
    assert markup.to_teams("a\nb\n\nc") == "a  \nb\n\nc"


TYPED = 'Saved @all and @here, @channel @所有人 <at user_id="all">all</at> <!channel> [prize](https://evil.example) ann@example.com'


def test_mentions_tags_and_links_people_typed_are_inert_on_every_platform() -> None:
    """Issue 25 item 11: the bot echoes names and notes; "Saved @all" pinged the channel on Mattermost, Rocket.Chat,
    and Feishu's <at user_id="all"> everyone. Each platform's text: no mention, tag or link can parse, it reads the
    same, the bot's own bold still renders, and an e-mail address is left alone."""
    from bot.channels.china.dingtalk import action_card
    from bot.channels.china.feishu import card

    texts = {
        "slack": markup.to_slack(TYPED),
        "telegram": markup.to_telegram_html(TYPED),
        "mattermost": markup.to_mattermost(TYPED),
        "rocketchat": markup.to_rocketchat(TYPED),
        "botframework": markup.to_teams(TYPED),
        "feishu text": markup.plain_text(TYPED),
        "feishu card": card(TYPED, [])["elements"][0]["text"]["content"],
        "dingtalk text": markup.plain_text(TYPED),
        "dingtalk card": action_card(TYPED, [])["actionCard"]["text"],
        "wecom": markup.plain_text(TYPED),
    }
    for where, out in texts.items():
        for live in ("@all", "@here", "@channel", "@所有人", "<at", "<!channel", "](", "<https"):
            assert live not in out, (where, live, out)
        assert "ann@example.com" in out and "@" + WORD_JOINER + "all" in out, (where, out)
    assert texts["mattermost"].replace(WORD_JOINER, "") == TYPED
    assert markup.to_mattermost("**Mr Wu** saved") == "**Mr Wu** saved"


def test_long_telegram_payloads_fit_callback_data() -> None:
    payload = '/start_practice{"type_id": "suspicious", "trade": "b2b_software"}'
    payloads = Payloads(Memory(url=""))
    packed = asyncio.run(payloads.pack(payload))
    assert len(packed.encode()) <= 64 and asyncio.run(payloads.unpack(packed)) == payload
    assert asyncio.run(payloads.pack("/greet")) == "/greet"
    assert asyncio.run(Payloads(Memory(url="")).unpack(packed)) is None  # after a restart: the button's title is used


def test_unconfigured_connectors_stay_off_and_half_configured_ones_refuse_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.exceptions import InvalidConfigException

    for var in settings("http://unused"):
        monkeypatch.delenv(var, raising=False)
    for cls in (Slack, Teams, Telegram, Mattermost, RocketChat):
        assert cls.from_credentials(None).enabled is False  # type: ignore[attr-defined]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(InvalidConfigException):
        Slack.from_credentials(None)  # the shipped rule: no signing secret, no start
    monkeypatch.setenv("TELEGRAM_TOKEN", TG_TOKEN)
    with pytest.raises(InvalidConfigException):
        Telegram.from_credentials(None)


def test_team_chat_senders_cannot_collide_with_web_chat_senders() -> None:
    from bot.channels.webchat import SENDER_RE

    assert not SENDER_RE.match(senders.sender_id("slack", "T1", "U1"))
    assert senders.sender_id("telegram", "-100", "11") != senders.sender_id("telegram", "-100", "22")


def _retyped(value: Any, new: Any) -> Any:
    """The payload with every "text" field replaced by `new` (a wrong type, markup, control characters)."""
    if isinstance(value, dict):
        return {k: (new if k == "text" else _retyped(v, new)) for k, v in value.items()}
    if isinstance(value, list):
        return [_retyped(v, new) for v in value]
    return value


BAD_BODIES: Dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda body: b"",
    "not JSON": lambda body: b"{{{ not json",
    "invalid UTF-8": lambda body: b'{"text": "\xff\xfe\xfd"}',
    "a JSON list": lambda body: b"[1, 2, 3]",
    "text a number": lambda body: json.dumps(_retyped(json.loads(body), 12)).encode(),
    "text an object": lambda body: json.dumps(_retyped(json.loads(body), {"a": [1]})).encode(),
    "text null": lambda body: json.dumps(_retyped(json.loads(body), None)).encode(),
    "control characters": lambda body: json.dumps(_retyped(json.loads(body), "hi\x00\x07\x1b[31m")).encode(),
    "markup": lambda body: json.dumps(_retyped(json.loads(body), "<script>alert(1)</script> **b** <@U1>")).encode(),
    "1 MB of text": lambda body: json.dumps(_retyped(json.loads(body), "x" * 1_000_000)).encode(),
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_bad_input_from_a_platform_gets_an_answer_or_a_4xx_never_a_500(fresh: Dict[str, Any], platform: str, kind: str) -> None:
    """Bad bodies sent with the platform's valid credentials (Slack's signature re-made over the bad body):
    answered (200) or refused (4xx), never a server error. Kinds tried: BAD_BODIES."""
    user = "11" if platform == "telegram" else "u1"
    headers, body = BUILD[platform](Msg("mention", user, "hello"), fresh["fake"].url, fresh["key"])
    headers = {**headers, "content-type": JSON}
    bad = BAD_BODIES[kind](body)
    if platform == "slack":
        stamp = headers["X-Slack-Request-Timestamp"]
        mac = hmac.new(SLACK_SECRET.encode(), f"v0:{stamp}:".encode() + bad, hashlib.sha256)
        headers["X-Slack-Signature"] = "v0=" + mac.hexdigest()
    r = requests.post(f"{fresh['url']}/{platform}/webhook", data=bad, headers=headers, timeout=60)
    assert r.status_code < 500, (platform, kind, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert settled(fresh)["bot"].messages == [], (platform, kind)


@pytest.mark.parametrize("platform, header", [("slack", "X-Slack-Signature"), ("telegram", "X-Telegram-Bot-Api-Secret-Token")])
def test_a_non_ascii_signature_is_refused_not_a_500(fresh: Dict[str, Any], platform: str, header: str) -> None:
    """Issue 25 item 12: hmac.compare_digest raises on a str with non-ASCII characters; the team connectors compare
    bytes (and their malformed-payload guard would answer 400 anyway): a 4xx, never a 500."""
    headers, body = BUILD[platform](Msg("dm", "11" if platform == "telegram" else "u1", "hello"), fresh["fake"].url, fresh["key"])
    headers[header] = "v0=é" + "0" * 60
    r = requests.post(f"{fresh['url']}/{platform}/webhook", data=body, headers={k: v.encode() for k, v in headers.items()}, timeout=10)
    assert 400 <= r.status_code < 500 and fresh["bot"].messages == [], r.status_code


DIRECT_CHAT = {"slack": "u77", "botframework": "a:u77", "telegram": "77", "mattermost": "dm-mmbot-u77", "rocketchat": f"{RC_BOT_ID}u77"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_connector_reaches_a_person_unprompted_in_their_direct_chat(fresh: Dict[str, Any], platform: str) -> None:
    """send_direct (bot/channels/connector.py), what reminders use: the person's direct chat with the bot, not the
    channel they last wrote in, with buttons that work when pressed. Teams needs the person's 1:1 conversation,
    learnt from their last private message."""
    from bot.channels import connector

    user = "77" if platform == "telegram" else "u77"  # no one else in this module: Teams has not seen them
    person = sender_of(platform, Msg("mention", user))
    sent = lambda: asyncio.run_coroutine_threadsafe(  # noqa: E731
        connector.send_direct(person, "Time to **practise**", [{"title": "Practise", "payload": "/start_practice"}]), fresh["loop"]
    ).result(timeout=60)
    if platform == "botframework":
        assert not sent(), "no 1:1 conversation known yet"
        assert send(fresh, platform, Msg("dm", user, "hello")).status_code == 200
    start = len(fresh["fake"].calls)
    assert sent()
    [reply] = fresh["fake"].replies(platform, start)
    assert reply.where == DIRECT_CHAT[platform] and reply.thread is None, reply
    assert "practise" in reply.text and [title for title, _ in reply.buttons] == ["Practise"]
    _, press = reply.buttons[0]
    settled(fresh)["bot"].messages.clear()
    pressed = Msg("dm", user, text=press) if platform == "rocketchat" else Msg("button", user, press=press)  # its DM room
    assert send(fresh, platform, pressed).status_code == 200
    assert [m.text for m in settled(fresh)["bot"].messages][-1:] == ["/start_practice"]


def test_one_rule_for_settings_an_empty_variable_never_overrides_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 27: TEAMS_OPENID_URL="" replaced Microsoft's URL with "" in the team chats (the Chinese ones kept it)."""
    from bot.channels.connector import setting

    monkeypatch.setenv("TEAMS_APP_ID", "app")
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "pw")
    for empty in ("", "  "):
        monkeypatch.setenv("TEAMS_OPENID_URL", empty)
        assert Teams.from_credentials(None).openid_url.startswith("https://login.botframework.com/")
        assert Teams.from_credentials({"openid_url": ""}).openid_url.startswith("https://login.botframework.com/")
    monkeypatch.setenv("TEAMS_OPENID_URL", "https://openid.example/")
    assert Teams.from_credentials(None).openid_url == "https://openid.example/"
    assert Teams.from_credentials({"openid_url": "https://file.example/"}).openid_url == "https://file.example/", "the file wins"
    monkeypatch.setenv("MATTERMOST_TRIGGER", "")
    assert setting(None, "trigger", "MATTERMOST_TRIGGER", "@coach") == "@coach"


def test_every_platform_connector_is_one_of_the_base_and_registered_once() -> None:
    """No connector re-implements what the base does (blueprint, settings, refusals, profiles), and each platform's
    sender ids are registered in one place (knowledge/teams.py PLATFORMS via bot/channels/senders.py)."""
    import inspect

    from bot.channels import connector
    from bot.channels.china.dingtalk import DingTalk
    from bot.channels.china.feishu import Feishu
    from bot.channels.china.wecom import WeCom
    from bot.channels.rest import parse
    from knowledge.teams import PLATFORMS as REGISTERED

    classes = (Slack, Teams, Telegram, Mattermost, RocketChat, Feishu, DingTalk, WeCom)
    assert sorted(cls.platform for cls in classes) == sorted(REGISTERED)
    for cls in classes:
        assert issubclass(cls, connector.Connector) and cls.name() == cls.platform
        for shared in ("blueprint", "take", "deliver", "send_direct"):
            assert shared not in cls.__dict__, f"{cls.__name__} re-implements {shared}"
        source = inspect.getsource(inspect.getmodule(cls))  # type: ignore[arg-type]
        for repeated in ("os.environ", "Blueprint(", "limited_handler", "set_profile", "join_platform", "userdata()"):
            assert repeated not in source, f"{cls.__name__}'s module repeats {repeated!r}"
    sender = senders.sender_id("slack", "T1", "U1")
    assert senders.parts(sender) == ("slack", "T1", "U1") and senders.reserved(sender) and senders.reserved("web-" + "0" * 32)
    with pytest.raises(ValueError):
        senders.sender_id("myspace", "T1", "U1")  # a new platform is registered first
    for name in (sender, "web-abc"):
        with pytest.raises(Exception, match="another channel"):
            parse(json.dumps({"sender": name, "message": "hi"}).encode())
