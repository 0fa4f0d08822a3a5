"""Security of the running servers (issue 18): the HTTP API only with a JWT, the action server on localhost behind a
shared secret, per-sender rate limits and request size limits on the public channels."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

import jwt
import pytest
import requests

from bot.limits import MAX_REQUEST_BYTES, RATE_BURST, RateLimiter

from .conftest import texts

pytestmark = pytest.mark.e2e


def sender(prefix: str = "sec") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bearer(claims: Dict, secret: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


# HTTP API --------------------------------------------------------------------------------------------------------
def test_the_http_api_takes_only_a_valid_jwt(servers):
    s = sender()
    servers.say(s, "hello")
    url = f"{servers.url}/conversations/{s}/tracker"
    admin = {"user": {"username": "operator", "role": "admin"}, "exp": int(time.time()) + 60}
    refused = {
        "no token": {},
        "token in the query (the old --auth-token)": {"params": {"token": "test-token"}},
        "the JWT secret as a query token": {"params": {"token": servers.jwt_secret}},
        "not a JWT": {"headers": {"Authorization": "Bearer not-a-jwt"}},
        "signed with another secret": {"headers": bearer(admin, "another-secret-of-at-least-32-bytes!")},
        "expired": {"headers": bearer({**admin, "exp": int(time.time()) - 600}, servers.jwt_secret)},  # past the leeway
        "no role": {"headers": bearer({"user": {"username": "operator"}}, servers.jwt_secret)},
        "another conversation's user token": {"headers": servers.api_headers(user="someone-else")},
    }
    results = {kind: requests.get(url, timeout=30, **kwargs).status_code for kind, kwargs in refused.items()}
    print("HTTP API refusals:", results)
    assert all(code in (401, 403) for code in results.values()), results
    assert results["token in the query (the old --auth-token)"] == 401
    for headers in (servers.api_headers(), servers.api_headers(user=s)):  # the operator, and the conversation's owner
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 200 and r.json()["sender_id"] == s
    assert requests.get(f"{servers.url}/status", headers=servers.api_headers(), timeout=30).status_code == 200


def test_api_token_script_mints_a_jwt_for_the_configured_secret(servers, tmp_path):
    import subprocess

    from .conftest import ROOT

    env = {"PATH": "/usr/bin:/bin", "COACH_JWT_SECRET": servers.jwt_secret}
    token = subprocess.run(
        [str(ROOT / "scripts" / "api-token.sh")], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert jwt.decode(token, servers.jwt_secret, algorithms=["HS256"])["user"]["role"] == "admin"
    r = requests.get(f"{servers.url}/status", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200
    secret = subprocess.run(
        [str(ROOT / "scripts" / "api-token.sh"), "--secret"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert secret == servers.jwt_secret


# action server ---------------------------------------------------------------------------------------------------
def listening_addresses(port: int) -> List[str]:
    """The local addresses a TCP socket listens on at `port`, from /proc (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def action_call(sender_id: str) -> Dict:
    """What Rasa posts to the action server for one turn (a minimal tracker)."""
    return {
        "next_action": "action_respond",
        "sender_id": sender_id,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender_id,
            "slots": {},
            "latest_message": {"text": "hello", "intent": {"name": "greet"}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_action_server_listens_on_localhost_only(servers):
    addresses = listening_addresses(servers.action_port)
    print("action server listens on", addresses)
    assert addresses and all(a in ("0100007F", "00000000000000000000000001000000") for a in addresses), addresses


@pytest.mark.parametrize(
    "kind, headers, status",
    [
        ("no secret", {}, 401),
        ("wrong secret", {"X-Coach-Action-Secret": "guess"}, 403),
        ("empty secret", {"X-Coach-Action-Secret": ""}, 401),
        ("the right secret", {"X-Coach-Action-Secret": "test-action-secret"}, 200),
    ],
)
def test_the_action_server_needs_the_shared_secret(servers, kind, headers, status):
    url = f"http://127.0.0.1:{servers.action_port}"
    r = requests.post(f"{url}/webhook", json=action_call(sender("direct")), headers=headers, timeout=60)
    assert r.status_code == status, (kind, r.status_code, r.text[:300])
    if status == 200:
        assert r.json()["responses"], r.text[:300]
    assert requests.get(f"{url}/actions", headers=headers, timeout=30).status_code == status
    assert requests.get(f"{url}/health", timeout=30).status_code == 200  # liveness stays open
    assert "Access-Control-Allow-Origin" not in requests.get(f"{url}/health", headers={"Origin": "http://evil.example"}, timeout=30).headers


def test_rasa_reaches_the_action_server_with_the_secret(servers):
    assert "sales coach" in texts(servers.say(sender(), "hello")).lower()


# rate and size limits --------------------------------------------------------------------------------------------
def burst(post, n: int) -> List[requests.Response]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda _: post(), range(n)))


def test_rest_is_rate_limited_per_sender(servers):
    s, other = sender("burst"), sender("calm")
    hook = f"{servers.url}/webhooks/rest/webhook"
    # empty messages: counted like any other, but answered without Rasa's per-conversation lock, so the burst is fast
    replies = burst(lambda: requests.post(hook, json={"sender": s, "message": ""}, timeout=120), RATE_BURST + 10)
    codes = sorted(r.status_code for r in replies)
    print(f"REST burst of {len(replies)}: {codes.count(200)} answered, {codes.count(429)} limited")
    assert set(codes) <= {200, 429} and codes.count(429) >= 5 and codes.count(200) >= RATE_BURST - 1, codes
    limited = next(r for r in replies if r.status_code == 429)
    assert limited.json()["error"] and int(limited.headers["Retry-After"]) >= 1
    assert requests.post(hook, json={"sender": s, "message": "hello"}, timeout=60).status_code == 429
    assert servers.say(other, "hello")  # another sender is not affected


def test_web_chat_is_rate_limited_per_session(servers):
    visitor = requests.Session()
    visitor.get(f"{servers.url}/chat/", timeout=30)
    url = f"{servers.url}/chat/api/message"
    replies = burst(lambda: visitor.post(url, json={"text": ""}, timeout=120), RATE_BURST + 10)  # 400s count too
    codes = sorted(r.status_code for r in replies)
    print(f"web chat burst of {len(replies)}: {codes.count(400)} refused as empty, {codes.count(429)} limited")
    assert set(codes) <= {400, 429} and codes.count(429) >= 5, codes
    assert visitor.post(url, json={"text": "hello"}, timeout=60).status_code == 429
    assert next(r for r in replies if r.status_code == 429).json()["error"]


@pytest.mark.parametrize("where", ["rest", "webchat", "api"])
def test_bodies_over_the_size_limit_get_413(servers, where):
    body = b'{"sender": "big", "message": "' + b"a" * (MAX_REQUEST_BYTES + 1000) + b'"}'
    url = {"rest": "/webhooks/rest/webhook", "webchat": "/chat/api/message", "api": "/model/parse"}[where]
    headers: Optional[Dict[str, str]] = servers.api_headers() if where == "api" else None
    try:
        r = requests.post(f"{servers.url}{url}", data=body, headers=headers, timeout=60)
        status = r.status_code
    except requests.ConnectionError:  # Sanic may close the socket while a too-large body is still being sent
        status = 413
    assert status == 413, status


def test_rest_refuses_the_other_channels_sender_ids(servers):
    hook = f"{servers.url}/webhooks/rest/webhook"
    for taken in ("web-" + "0" * 32, "slack:T1:U1", "feishu:tenant:user"):
        r = requests.post(hook, json={"sender": taken, "message": "/my_progress"}, timeout=30)
        assert r.status_code == 403 and r.json()["error"], (taken, r.status_code)


def test_the_token_bucket_refills_at_its_rate():
    now = [0.0]
    limiter = RateLimiter(burst=3, per_second=0.5, max_keys=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a") == 2
    now[0] += 2.0
    assert limiter.allow("a") and not limiter.allow("a")
    limiter.allow("b"), limiter.allow("c")  # only two senders are kept: "a" (least recently used) starts afresh
    assert [limiter.allow("a") for _ in range(3)] == [True, True, True]


def test_limited_handler_drops_messages_over_the_limit():
    import asyncio
    from types import SimpleNamespace

    from bot.limits import limited_handler

    handled: List[str] = []

    async def on_new_message(message):
        handled.append(message.sender_id)

    handler = limited_handler(on_new_message, "socketio", RateLimiter(burst=2, per_second=0.0))
    for who in ("a", "a", "a", "b"):
        asyncio.run(handler(SimpleNamespace(sender_id=who)))
    assert handled == ["a", "a", "b"]
