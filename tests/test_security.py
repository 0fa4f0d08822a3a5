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


# who may speak as a REST / socket.io sender (issue 25 item 2) -----------------------------------------------------
ELSEWHERE = {"X-Forwarded-For": "203.0.113.9"}  # what the cluster's nginx or a tunnel adds: not this machine


@pytest.fixture
def sender_tokens(servers):
    """Sender tokens signed with the servers' JWT secret: the channels read it as bot/start.py read it for the HTTP
    API (knowledge/secret_files.py, here the file COACH_JWT_SECRET_FILE names), so one secret signs both."""
    from bot.channels.sender_auth import mint

    return lambda who: mint(who, servers.jwt_secret)


def test_rest_from_another_machine_needs_a_sender_token_for_that_sender(servers, sender_tokens):
    victim = sender("victim")
    hook = f"{servers.url}/webhooks/rest/webhook"
    assert servers.say(victim, "my customer Mr Wu keeps doubting every number")  # local tools need no token
    tries = {
        "no token": ELSEWHERE,
        "an operator's HTTP API token": {**ELSEWHERE, **servers.api_headers()},
        "the victim's HTTP API token": {**ELSEWHERE, **servers.api_headers(user=victim)},
        "another sender's token": {**ELSEWHERE, "Authorization": f"Bearer {sender_tokens('mallory')}"},
        "signed with another secret": {
            **ELSEWHERE,
            "Authorization": "Bearer "
            + jwt.encode({"sub": victim, "aud": "coach-sender", "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256"),
        },
        "spoofed leftmost X-Forwarded-For": {"X-Forwarded-For": "127.0.0.1"},
    }
    codes = {
        kind: requests.post(hook, json={"sender": victim, "message": "/my_customers"}, headers=h, timeout=30).status_code
        for kind, h in tries.items()
    }
    assert all(code in (401, 403) for code in codes.values()), codes
    own = {**ELSEWHERE, "Authorization": f"Bearer {sender_tokens(victim)}"}
    r = requests.post(hook, json={"sender": victim, "message": "hello"}, headers=own, timeout=60)
    assert r.status_code == 200 and r.json(), r.text
    tracker = f"{servers.url}/conversations/{victim}/tracker"
    assert requests.get(tracker, headers={"Authorization": own["Authorization"]}, timeout=30).status_code in (
        401,
        403,
    ), "a sender token is not an HTTP API token"


def test_rest_refuses_a_page_of_a_site_not_listed(servers):
    hook = f"{servers.url}/webhooks/rest/webhook"
    r = requests.post(hook, json={"sender": sender(), "message": "hi"}, headers={"Origin": "https://evil.example"}, timeout=30)
    assert r.status_code == 403


def socket_client(servers, headers: Dict[str, str], auth: Optional[Dict] = None):
    import socketio

    client = socketio.Client(reconnection=False)
    answers: List[Dict] = []
    confirmed: List[str] = []
    client.on("bot_uttered", lambda data: answers.append(data))
    client.on("session_confirm", lambda data: confirmed.append(data))
    client.connect(servers.url, headers=headers, auth=auth, transports=["polling"], socketio_path="socket.io", wait_timeout=20)
    return client, answers, confirmed


def wait_until(check, seconds: float = 90) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_socketio_from_another_machine_is_bound_to_its_tokens_sender(servers, sender_tokens):
    import socketio

    for headers, auth in (
        (ELSEWHERE, None),
        (ELSEWHERE, {"token": servers.api_headers()["Authorization"][7:]}),
        ({"Origin": "https://evil.example"}, None),
    ):
        with pytest.raises(socketio.exceptions.ConnectionError):
            socket_client(servers, headers, auth)
    me = sender("widget")
    client, answers, confirmed = socket_client(servers, ELSEWHERE, {"token": sender_tokens(me)})
    try:
        client.emit("session_request", {"session_id": "somebody-else"})
        assert wait_until(lambda: confirmed) and confirmed == [me], "the session is the token's sender, not the one asked"
        client.emit("user_uttered", {"message": "hello", "session_id": "somebody-else"})  # dropped: not the token's sender
        client.emit("user_uttered", {"message": "hello", "session_id": me})
        assert wait_until(lambda: answers), "answered on the bound session"
    finally:
        client.disconnect()
    assert "somebody-else" not in [e.get("sender_id") for e in [servers.tracker(me)]]
    r = requests.get(f"{servers.url}/conversations/somebody-else/tracker", headers=servers.api_headers(), timeout=30)
    assert not [e for e in r.json().get("events", []) if e.get("event") == "user"]


def test_sender_tokens_and_origins_unit():
    from bot.channels.sender_auth import SENDER_AUDIENCE, mint, subject
    from bot.origins import may_connect

    secret = "s" * 40
    assert subject(mint("me", secret), secret) == "me"
    api = jwt.encode({"user": {"username": "me", "role": "admin"}, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    both = jwt.encode({"user": {"username": "me"}, "sub": "me", "aud": SENDER_AUDIENCE, "exp": int(time.time()) + 60}, secret)
    assert subject(api, secret) is None and subject(both, secret) is None and subject(mint("me", secret), "") is None
    listed = ["https://shop.example"]
    assert may_connect(None, "h:5005", listed) and may_connect("http://h:5005", "h:5005", listed)
    assert may_connect("https://shop.example", "h:5005", listed) and not may_connect("https://shop.example", "h:5005")
    assert not may_connect("http://h:8080", "h:5005", listed) and not may_connect("https://evil.example", "h:5005", listed)
    assert not may_connect("null", "", listed) and not may_connect("null", None, listed)  # a sandboxed page, no Host


def test_the_tracker_database_the_server_makes_is_owner_only(servers):
    """Issue 25 item 5: Rasa made var/tracker.db 0644; the start-up (bot/start.py) sets umask 077 before Rasa runs."""
    servers.say(sender("perm"), "hello")
    made = list(servers.workdir.glob("tracker.db*"))
    assert made and all(f.stat().st_mode & 0o077 == 0 for f in made), [(f.name, oct(f.stat().st_mode)) for f in made]


def test_forwarded_headers_count_only_from_a_proxy_on_this_machine():
    """Per-address limits use the address the proxy saw, never the client's own leftmost X-Forwarded-For; https is
    believed only from a loopback proxy (items 3 and 7)."""
    from types import SimpleNamespace

    from bot.limits import client_address, is_local, over_https

    def req(ip, **headers):
        return SimpleNamespace(ip=ip, headers={k.lower().replace("_", "-"): v for k, v in headers.items()}, conn_info=None)

    assert client_address(req("127.0.0.1", x_forwarded_for="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_address(req("127.0.0.1", x_real_ip="198.51.100.7", x_forwarded_for="1.2.3.4")) == "198.51.100.7"
    assert client_address(req("203.0.113.5", x_forwarded_for="127.0.0.1")) == "203.0.113.5"
    assert is_local(req("127.0.0.1")) and is_local(req("::1"))
    assert not is_local(req("127.0.0.1", x_forwarded_for="127.0.0.1")) and not is_local(req("192.168.1.9"))
    assert over_https(req("127.0.0.1", x_forwarded_proto="https")) and not over_https(req("192.168.1.9", x_forwarded_proto="https"))
    assert not over_https(req("127.0.0.1"))


@pytest.mark.parametrize(
    "hostname_says, tls, phone",
    [
        ("192.168.1.23 10.0.0.7", "", "http://192.168.1.23:5405/chat/"),
        ("", "", "http://<this machine's IP>:5405/chat/"),
        ("192.168.1.23", "/etc/ssl/coach.pem", "https://192.168.1.23:5405/chat/"),  # COACH_TLS_CERT: Rasa serves https
    ],
)
def test_make_run_prints_the_phone_address_in_full(tmp_path, hostname_says, tls, phone):
    """Issue 25 item 14: an apostrophe inside the banner heredoc's ${LAN_IP:-...} cut the phone address off after
    the IP (bash: bad substitution). scripts/run.sh prints the banner with scripts/addresses.sh."""
    import os
    import subprocess

    from .conftest import ROOT

    fake = tmp_path / "hostname"
    fake.write_text(f"#!/bin/sh\necho '{hostname_says}'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "COACH_TLS_CERT": tls}
    out = subprocess.run([str(ROOT / "scripts" / "addresses.sh"), "5405"], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not out.stderr, out.stderr
    assert f"from a phone on the same Wi-Fi: {phone}\n" in out.stdout, out.stdout
    other = "http://" if tls else "https://"
    assert other not in out.stdout, out.stdout  # every address in the one scheme the server speaks
    assert 'scripts/addresses.sh "$RASA_PORT"' in (ROOT / "scripts" / "run.sh").read_text()


# per-address limits (issue 25 item 7) ----------------------------------------------------------------------------
def address() -> Dict[str, str]:
    """A client elsewhere, as the proxy on this machine reports it (each test its own address)."""
    return {"X-Real-IP": f"198.51.100.{uuid.uuid4().int % 250 + 1}", "X-Forwarded-For": "203.0.113.1"}


def test_new_identities_buy_no_extra_messages_per_address(servers):
    """Limits were per sender only: a new web-chat identity or REST sender id was a fresh bucket. Now every
    request counts against the client's address (the one the proxy saw, never the client's own X-Forwarded-For):
    at most the burst plus the refill over the time taken gets through, whatever sender each request names."""
    from bot.limits import ADDRESS_BURST, ADDRESS_PER_SECOND, NEW_IDENTITY_BURST, NEW_IDENTITY_PER_SECOND

    def burst(n: int, send) -> tuple:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(lambda _: send(), range(n)))
        return codes, time.monotonic() - start

    where = address()
    hook = f"{servers.url}/webhooks/rest/webhook"
    codes, took = burst(
        ADDRESS_BURST + 200, lambda: requests.post(hook, json={"sender": sender(), "message": ""}, headers=where, timeout=30).status_code
    )
    assert set(codes) <= {401, 429}, sorted(set(codes))
    assert codes.count(401) <= ADDRESS_BURST + ADDRESS_PER_SECOND * took + 2 and codes.count(429) >= 1, (codes.count(401), took)
    chat = [requests.post(f"{servers.url}/chat/api/message", json={"text": "hi"}, headers=where, timeout=30).status_code for _ in range(10)]
    assert chat.count(429) >= 7, f"the same address's budget, whichever route or identity: {chat}"
    where = address()
    fresh, took = burst(
        NEW_IDENTITY_BURST + 40, lambda: requests.get(f"{servers.url}/chat/api/session", headers=where, timeout=30).status_code
    )
    assert set(fresh) <= {200, 429} and fresh.count(200) <= NEW_IDENTITY_BURST + NEW_IDENTITY_PER_SECOND * took + 2, (
        fresh.count(200),
        took,
    )
    assert fresh.count(429) >= 1
    assert (
        requests.get(f"{servers.url}/chat/api/session", headers=address(), timeout=30).status_code == 200
    ), "another address is not affected"
    assert servers.say(sender(), "hello"), "nor a tool on this machine"


def test_profile_route_is_limited_so_invite_codes_cannot_be_tried_fast(servers):
    visitor = requests.Session()
    visitor.get(f"{servers.url}/chat/", timeout=30)
    url = f"{servers.url}/chat/api/profile"
    codes = [
        visitor.post(url, json={"name": "Eve", "invite": f"AAAA-BBBB-CCCC-{n:04d}"}, timeout=30).status_code for n in range(RATE_BURST + 20)
    ]
    assert set(codes) <= {403, 429} and codes.count(429) >= 3, sorted(set(codes))


def test_a_busy_application_store_never_stalls_the_server(servers, var_dir):
    """Issue 25 item 13: UserData waits for a locked database (and retries up to 30 s); run on the Rasa server's
    event loop, a profile write behind another writer's lock stalled every conversation on that process."""
    import sqlite3
    import threading

    visitor = requests.Session()
    visitor.get(f"{servers.url}/chat/", timeout=30)
    holder = sqlite3.connect(var_dir / "coach.db", timeout=1, isolation_level=None)
    holder.execute("begin immediate")  # another writer (a `coach` command, the action server) holds the lock
    done: List[int] = []
    writer = threading.Thread(
        target=lambda: done.append(visitor.post(f"{servers.url}/chat/api/profile", json={"name": "Ann"}, timeout=60).status_code)
    )
    try:
        writer.start()
        slowest = 0.0
        for _ in range(12):  # about three seconds of other traffic while the profile write waits for the lock
            start = time.monotonic()
            assert requests.get(f"{servers.url}/webhooks/rest/", timeout=30).status_code == 200
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.25)
        assert not done, "the profile write was waiting for the lock all along"
    finally:
        holder.execute("rollback")
        holder.close()
    writer.join(timeout=60)
    assert slowest < 1.0, f"the server answered nothing for {slowest:.1f} s"
    assert done == [200], "the write went through once the lock was free"


def test_odd_rest_input_gets_a_4xx_never_a_500(servers):
    """Issue 25 item 12 on REST: JSON nested deeper than Python's parser goes was a 500."""
    hook = f"{servers.url}/webhooks/rest/webhook"
    for body in (b'{"sender": "x", "message": ' + b"[" * 20000 + b"]" * 20000 + b"}", b"[" * 50000):
        r = requests.post(hook, data=body, timeout=30)
        assert r.status_code == 400 and r.json()["error"], r.status_code
