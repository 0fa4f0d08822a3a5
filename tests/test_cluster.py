"""The scaled-out cluster (issue 18): PostgreSQL, Redis, two Rasa servers and two action servers behind nginx.

Conversations in both languages (coaching with a saved customer, and practice) send their turns alternately to
the two Rasa servers directly and, in parallel, through nginx. After a few turns one Rasa server is killed
(SIGKILL, a crash); the conversations go on through the survivor (and nginx routes around the dead one) while
it restarts; the last turns alternate over both again. Every turn must answer as the conversation so far
implies (the remembered customer, the practice scores), every user turn must be in the shared tracker store
exactly once, and the saved customers and practice sessions must be in the application store (PostgreSQL).
A second test sends one conversation's messages to both servers at the same moment (the Redis lock store).

Skipped, naming what is missing, when PostgreSQL, redis-server or nginx is not installed (`make postgres redis nginx`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest
import requests

from .conftest import ROOT, dump, texts
from .fake_platform import FakePlatform

sys.path.insert(0, str(ROOT / "scripts"))
import cluster as cluster_script  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.timeout(1800)]

KILL_AFTER_TURN = 3  # turns 0-3 alternate over both servers, then server 2 crashes
BACK_FROM_TURN = 7  # from here on, server 2 is back (restarted during turns 4-6) and turns alternate again
KILLED = 1  # index of the Rasa server that crashes

Check = Callable[[List[Dict]], bool]
# Polite but generic trainee replies: the simulated customer neither agrees nor walks away within five of them
# (scripts/simulate_practice.py's "generic" trainee stays 7 replies on average; these five kept every one of
# 90 simulated sessions per language open), so the session runs across the crash and ends on /practice_end.
GENERIC = {
    "en": [
        "That's a great question.",
        "We have lots of great options.",
        "It's a very popular choice.",
        "Let me know if you have any questions.",
        "I understand.",
    ],
    "zh": ["这个问题问得好。", "我们有很多不错的选择。", "这款很受欢迎的。", "有什么问题随时问我。", "我理解。"],
}


@dataclass
class Step:
    message: str
    check: Check
    press: Optional[str] = None  # send the payload of the button whose title contains this, from the last reply
    scored: bool = False  # a practice reply: the store must count it


@dataclass
class Conversation:
    name: str
    steps: List[Step]
    via_nginx: bool
    sender: str = field(default_factory=lambda: "")
    sent: int = 0
    last: List[Dict] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    servers: List[str] = field(default_factory=list)


def has(*words: str) -> Check:
    return lambda reply: all(w in texts(reply) for w in words)


def conversations(engine) -> Dict[str, List[Step]]:
    name = engine.kb.type_name
    caustic_en, hostile_zh = name("caustic", "en"), name("dominant_hostile", "zh")
    suspicious_en, timid_zh = name("suspicious", "en"), name("timid_friendly", "zh")
    coaching_en = [
        Step("hello", has("sales coach")),
        Step("Sarcastic guy, mocks everything we offer and laughs at our prices.", has(caustic_en)),
        Step("save him as Mr Zhang", has("Mr Zhang")),
        Step("what should I avoid?", has(caustic_en)),  # remembered across servers
        Step("another customer", lambda r: bool(r)),  # server 2 is down from here
        Step("my customers", has("Mr Zhang")),
        Step("", has(caustic_en), press="Mr Zhang"),  # the saved customer, read from the store
        Step("what should I avoid?", has(caustic_en)),  # both servers again
        Step('/ask_stage{"stage": "closing"}', lambda r: bool(texts(r))),
    ]
    coaching_zh = [
        Step("你好", has("销售教练")),
        Step("这个客户说话特别冲，总打断我，觉得自己什么都懂", has(hostile_zh)),
        Step("把他存为王总", has("王总")),
        Step("要避免什么？", has(hostile_zh)),
        Step("换个客户", lambda r: bool(r)),
        Step("我的客户", has("王总")),
        Step("", has(hostile_zh), press="王总"),
        Step("要避免什么？", has(hostile_zh)),
        Step('/ask_stage{"stage": "closing"}', lambda r: bool(texts(r))),
    ]
    practice_en = [
        Step("hello", has("sales coach")),
        Step('/start_practice{"type_id": "suspicious"}', has(suspicious_en)),
        *[Step(text, has("/10"), scored=True) for text in GENERIC["en"]],
        Step("/practice_end", has("/100")),
    ]
    practice_zh = [
        Step("你好", has("销售教练")),
        Step('/start_practice{"type_id": "timid_friendly"}', has(timid_zh)),
        *[Step(text, has("/10"), scored=True) for text in GENERIC["zh"]],
        Step("/practice_end", has("/100")),
    ]
    return {"coaching-en": coaching_en, "coaching-zh": coaching_zh, "practice-en": practice_en, "practice-zh": practice_zh}


@pytest.fixture(scope="module")
def built(var_dir):
    """The knowledge store and models, built into the test's var dir before the two action servers start (so
    they load it instead of both building it at once)."""
    from knowledge.app import engine
    from knowledge.engine.runtime import EngineNotBuilt

    for _ in range(2):  # content edited while it was building (a working tree, not CI): build again
        try:
            return engine()
        except EngineNotBuilt:
            pass
    return engine()


@pytest.fixture(scope="module")
def cluster(request) -> Iterator[cluster_script.Cluster]:
    missing = cluster_script.missing_tools()
    if missing:
        pytest.skip("cluster test skipped, missing: " + "; ".join(missing))
    request.getfixturevalue("built")  # before the action servers start
    if not list((ROOT / "var" / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in var/models: run `make train` (make test does it)")
    workdir = Path(tempfile.mkdtemp(prefix="coach-cluster-"))
    wecom_api = request.getfixturevalue("wecom_api")
    env = {"COACH_VAR_DIR": os.environ["COACH_VAR_DIR"], **wecom_settings(wecom_api.url)}
    c = cluster_script.Cluster(workdir, cluster_script.Ports.free(), env=env)
    try:
        c.start()
        SENDER_SECRET["jwt"] = c.secrets["jwt_secret"]
        yield c
    finally:
        SENDER_SECRET.clear()
        c.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# WeCom in the cluster: a platform's retry, and a numbered choice, reaching the other server ------------------------
def wecom_settings(api: str) -> Dict[str, str]:
    from .test_china_chats import WC_CORP, WC_KEY, WC_TOKEN

    return {
        "WECOM_CORP_ID": WC_CORP,
        "WECOM_AGENT_ID": "1000002",
        "WECOM_SECRET": "wecom-secret-test",
        "WECOM_TOKEN": WC_TOKEN,
        "WECOM_ENCODING_AES_KEY": WC_KEY,
        "WECOM_API_BASE": api,
    }


class WeComAPI(FakePlatform):
    """WeCom's API as the connector calls it (token, member name, message/send), recording every message sent."""

    def __init__(self) -> None:
        super().__init__(WeComAPI.answer)

    def answer(self, call: Dict) -> Dict:
        if call["method"] == "GET":
            token = call["path"].startswith("/cgi-bin/gettoken")
            return {"errcode": 0, "access_token": "wc-token", "expires_in": 7200} if token else {"errcode": 0, "name": "李四"}
        return {"errcode": 0}

    def texts(self) -> List[str]:
        return [c["body"].get("text", {}).get("content", "") for c in self.calls]

    def wait_for_text(self, contains: str, seconds: float = 120) -> List[str]:
        """The texts sent so far, once one contains `contains` (or the time is up)."""
        self.wait_for(lambda: any(contains in t for t in self.texts()), seconds)
        return self.texts()


@pytest.fixture(scope="module")
def wecom_api() -> Iterator[WeComAPI]:
    api = WeComAPI()
    yield api
    api.close()


SENDER_SECRET: Dict[str, str] = {}  # the cluster's JWT secret, once it is up: REST through nginx needs sender tokens


def post(url: str, sender: str, message: str) -> List[Dict]:
    """A REST turn; with a sender token (bot/channels/sender_auth.py), which nginx's forwarding header makes
    necessary and a direct loopback call ignores."""
    from bot.channels.sender_auth import mint

    headers = {"Authorization": f"Bearer {mint(sender, SENDER_SECRET['jwt'])}"} if SENDER_SECRET else {}
    r = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, headers=headers, timeout=120)
    r.raise_for_status()
    return r.json()


def take_turn(c: cluster_script.Cluster, conv: Conversation, n: int, down: set) -> None:
    step = conv.steps[n]
    message = step.message
    if step.press:
        payloads = [b["payload"] for m in conv.last for b in m.get("buttons", []) if step.press in b.get("title", "")]
        if not payloads:
            conv.failures.append(f"turn {n}: no button {step.press!r} in {dump(conv.last)}")
            return
        message = payloads[0]
    if conv.via_nginx:
        url = c.url
    else:  # alternate; a client of a crashed server goes to the other one, as the proxy does
        target = n % len(c.rasa)
        url = c.rasa_url(target if target not in down else next(i for i in range(len(c.rasa)) if i not in down))
    conv.servers.append(url)
    try:
        reply = post(url, conv.sender, message)
    except requests.RequestException as e:
        conv.failures.append(f"turn {n} ({message!r}) to {url}: {e}")
        return
    conv.sent += 1
    conv.last = reply
    if not step.check(reply):
        conv.failures.append(f"turn {n} ({message!r}) to {url}: unexpected reply {dump(reply)}")


def test_conversations_move_between_servers_and_survive_a_crash(cluster, built):
    scripts = conversations(built)
    run = uuid.uuid4().hex[:6]
    convs = [
        Conversation(name=f"{name}-{route}", steps=steps, via_nginx=route == "nginx", sender=f"cl-{name}-{route}-{run}")
        for name, steps in scripts.items()
        for route in ("direct", "nginx")
    ]
    down: set = set()
    restart: Optional[threading.Thread] = None
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=len(convs)) as pool:
        for n in range(max(len(c.steps) for c in convs)):
            if n == KILL_AFTER_TURN + 1:
                cluster.kill_rasa(KILLED)
                down.add(KILLED)
                with pytest.raises(requests.ConnectionError):
                    post(cluster.rasa_url(KILLED), "probe", "hello")
                restart = threading.Thread(target=cluster.restart_rasa, args=(KILLED,))
                restart.start()
            if n == BACK_FROM_TURN and restart is not None:
                restart.join()
                down.discard(KILLED)
            # every conversation's turn n at once: the lock store serialises nothing here, each sender is distinct
            list(pool.map(lambda conv, n=n: take_turn(cluster, conv, n, down), [c for c in convs if n < len(c.steps)]))
    turns_s = time.time() - t0

    failures = [f"{c.name}: {f}" for c in convs for f in c.failures]
    assert not failures, "\n".join(failures)
    for conv in convs:
        if not conv.via_nginx:
            assert len(set(conv.servers)) == 2, f"{conv.name} did not use both servers: {conv.servers}"

    # nothing lost, nothing duplicated: each user turn once in the shared tracker store
    for conv in convs:
        tracker = api_get(cluster, f"/conversations/{conv.sender}/tracker")
        user_turns = [e for e in tracker["events"] if e["event"] == "user"]
        assert len(user_turns) == conv.sent == len(conv.steps), f"{conv.name}: {len(user_turns)} user events, {conv.sent} sent"
        if conv.name.startswith("coaching"):  # the customer the conversation ended on, as the last server stored it
            remembered = (tracker["slots"].get("coach_memory") or {}).get("customer_type")
            assert remembered == ("caustic" if "-en-" in conv.name else "dominant_hostile"), conv.name

    # nginx spread the turns over both servers, answered none with an error, and routed around the crash
    access = (cluster.workdir / "nginx-access.log").read_text().splitlines()
    webhook = [line for line in access if "/webhooks/rest/webhook" in line]
    assert not [line for line in webhook if " 50" in line.split('"')[2][:5]], "\n".join(webhook)
    upstreams = {p for p in cluster.ports.rasa if any(f"127.0.0.1:{p}" in line for line in webhook)}
    assert upstreams == set(cluster.ports.rasa), webhook[:4]
    dead = f"upstream=127.0.0.1:{cluster.ports.rasa[KILLED]}, "  # refused by the crashed server, passed to the other
    assert any(dead in line for line in webhook), "nginx never met the crashed server"

    # the application store has every saved customer and practice session, once
    store = app_store(cluster)
    for conv in convs:
        kind, lang = conv.name.split("-")[:2]
        if kind == "coaching":
            saved = store.customers(conv.sender)
            assert [c["name"] for c in saved] == ["Mr Zhang" if lang == "en" else "王总"], saved
        else:
            session = store.last_session(conv.sender)
            scored = sum(s.scored for s in conv.steps)
            assert session and session["status"] != "active", session
            assert session["turns"] == scored, f"{conv.name}: {session['turns']} practice turns stored, {scored} sent"
            assert len(store.progress(conv.sender)["sessions"]) == 1, "a practice session recorded twice"
    print(
        f"\ncluster: started in {cluster.started_s:.0f} s; {sum(c.sent for c in convs)} turns in {turns_s:.1f} s"
        f" over {len(convs)} conversations, one Rasa server crashed and restarted"
    )


def api_get(c: cluster_script.Cluster, path: str) -> Dict:
    r = requests.get(f"{c.url}{path}", headers=c.api_headers(), timeout=30)
    r.raise_for_status()
    return r.json()


def app_store(c: cluster_script.Cluster):
    """The application store the action servers wrote to: the cluster's PostgreSQL database."""
    from knowledge.userdata import UserData

    store = UserData(url=c.database_url())
    assert store.dialect == "postgresql"
    return store


def test_a_platform_retry_and_a_numbered_choice_reaching_the_other_server(cluster, wecom_api):
    """Issue 25 item 13: the Chinese connectors kept retry de-duplication and offered choices per process, so a
    WeCom retry that reached the second Rasa server was answered twice and a numbered choice failed there. Both
    are in the cluster's Redis now (COACH_REDIS_URL)."""
    from .test_china_chats import wc_post, wc_text

    def deliver(server: int, text: str, msg_id: str) -> None:
        request = wc_post(wc_text("lisi-cluster", text, msg_id))
        r = requests.post(f"{cluster.rasa_url(server)}/webhooks/wecom/webhook", data=request["body"], params=request["params"], timeout=30)
        assert r.status_code == 200, r.text

    describe = "He asked three times whether the guarantee is real and wants to see proof of everything."
    deliver(0, describe, "70001")
    deliver(1, describe, "70001")  # WeCom's retry of the same message, balanced to the other server
    answered = wecom_api.wait_for_text("\n1. ")
    assert any("\n1. " in t for t in answered), answered  # the reply with its numbered choices
    deliver(1, "1", "70002")  # the first choice, typed to the other server
    sender = f"wecom:{wecom_settings('')['WECOM_CORP_ID']}:lisi-cluster"

    def users() -> List[str]:
        return [e["text"] for e in api_get(cluster, f"/conversations/{sender}/tracker")["events"] if e["event"] == "user"]

    deadline = time.time() + 120
    while time.time() < deadline and len(users()) < 2:
        time.sleep(0.5)
    said = users()
    assert said.count(describe) == 1, f"the retry was taken twice: {said}"
    assert len(said) == 2 and said[1].startswith("/"), f"the choice reached the coach as its button's payload: {said}"


def test_the_web_chat_through_nginx(cluster):
    """Issue 25 item 13: nginx sent `Host $host` (the port dropped), so every web-chat POST through it from a browser
    (whose Origin has the port) got 401. Through nginx: as a browser's requests, then in the headless browser."""
    visitor = requests.Session()
    visitor.get(f"{cluster.url}/chat/", timeout=30).raise_for_status()
    origin = {"Origin": cluster.url}
    r = visitor.post(f"{cluster.url}/chat/api/message", json={"text": "hello"}, headers=origin, timeout=120)
    assert r.status_code == 200 and r.json()["messages"], r.text
    assert "secure" not in visitor.get(f"{cluster.url}/chat/", timeout=30).headers.get("Set-Cookie", "").lower()

    from .test_webchat import DESCRIPTIONS, bubbles, chromium_paths, open_browser, ready, type_message, wait_for_bot

    paths = chromium_paths()
    if not paths:
        pytest.skip("chromium and chromedriver not found: as root, `make browser` installs them")
    driver = open_browser(paths, 375, 812)
    try:
        driver.get(f"{cluster.url}/chat/")
        ready(driver)
        description, type_name = DESCRIPTIONS["en"]
        type_message(driver, description)
        wait_for_bot(driver, 0, type_name)
        assert type_name in "\n".join(bubbles(driver, "bot"))
        driver.get(f"{cluster.url}/chat/")  # the signed cookie holds through nginx: the history comes back
        ready(driver)
        assert description in "\n".join(e.text for e in driver.find_elements("css selector", "#log .msg.user"))
    finally:
        driver.quit()


def test_nginx_limits_each_client_address_but_not_the_platforms_webhooks(cluster):
    """Issue 25 item 7: nginx had no per-address limit. A client elsewhere (here: as a proxy on this machine reports
    it in X-Forwarded-For, which nginx believes only from loopback) gets 429 past the burst; another address and the
    team chats' webhooks are not affected."""

    def burst(path: str, client: str, n: int) -> List[int]:
        headers = {"X-Forwarded-For": f"203.0.113.250, {client}"}  # the last entry is the one the proxy appended
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda _: requests.get(f"{cluster.url}{path}", headers=headers, timeout=30).status_code, range(n)))

    codes: List[int] = []
    while codes.count(429) < 20 and len(codes) < 3000:  # past the burst (200) faster than the refill (20/s), however busy
        codes += burst("/chat/static/webchat.css", "198.51.100.31", 320)
    assert codes.count(429) >= 20 and set(codes) <= {200, 429}, sorted(set(codes))
    assert burst("/chat/static/webchat.css", "198.51.100.32", 5) == [200] * 5, "another address keeps its own budget"
    webhook = burst("/webhooks/wecom/webhook", "198.51.100.31", 30)  # unsigned: refused by the connector, not by nginx
    assert 429 not in webhook and set(webhook) <= {401, 403}, webhook
    limited = [line for line in (cluster.workdir / "nginx-access.log").read_text().splitlines() if '" 429 ' in line]  # the status
    assert limited and all(line.startswith("198.51.100.31 ") for line in limited), limited[:3]


def test_one_conversation_at_both_servers_at_once(cluster):
    """Two messages of one conversation sent at the same moment, one to each server: both answered, both stored
    once, each followed by the bot's turn (Rasa takes the conversation's lock in Redis before each turn)."""
    import redis

    sender = f"cl-lock-{uuid.uuid4().hex[:6]}"
    pairs = [("hello", "what types are there?"), ("how do I win back a lost customer?", "你好")] * 3
    lock_writes = lambda: redis.Redis(host="127.0.0.1", port=cluster.ports.redis, password=cluster.secrets["redis_password"]).info(
        "commandstats"
    )["cmdstat_set"]["calls"]
    before = lock_writes()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for first, second in pairs:
            replies = list(
                pool.map(lambda args: post(*args), [(cluster.rasa_url(0), sender, first), (cluster.rasa_url(1), sender, second)])
            )
            assert all(texts(r) for r in replies), [dump(r) for r in replies]
    events = [e["event"] for e in api_get(cluster, f"/conversations/{sender}/tracker")["events"] if e["event"] in ("user", "action")]
    rounds = "".join("u" if e == "user" else "a" for e in events)
    assert rounds.count("u") == 2 * len(pairs) and "uu" not in rounds, rounds
    assert lock_writes() - before >= 2 * len(pairs), "the Redis lock store was not used"
