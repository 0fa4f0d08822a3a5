"""The five team chats against the running coach: a real Rasa server (trained model, bot/credentials.yml) whose
environment turns on Slack, Teams, Telegram, Mattermost and Rocket.Chat against a fake platform API on loopback,
sharing the test run's action server. Requests are the platforms' own payloads, signed as they sign them; the
coach's answers are read off the fake API in each platform's own form (blocks, cards, keyboards, attachments)."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from bot.channels import senders
from knowledge.engine.practice import LEADERBOARD_MIN_SESSIONS

from .conftest import Servers
from .test_team_chats import PLATFORMS, SPACE, FakeAPI, Msg, Reply, post, sender_of, settings

pytestmark = pytest.mark.e2e

SUSPICIOUS = "My customer keeps asking whether the guarantee is real and wants proof of everything"
PICKY = "She nitpicks every little flaw and keeps haggling over the price."
CAUSTIC = "Sarcastic guy, mocks everything we offer and laughs at our prices."
PRACTICE_REPLY = "Here is the contract and the inspection report, please check every clause yourself."


class Team:
    """The running Rasa server with all five team chats on, and the fake platform API it talks to."""

    def __init__(self, server: Servers, fake: FakeAPI, key: Any, actions: Servers) -> None:
        self.server, self.fake, self.key, self.actions = server, fake, key, actions
        self.users = iter(range(100, 10_000))

    def logs(self) -> str:
        """The servers' last log lines, for a failing assertion's message."""
        return "\n".join(
            f"--- {p}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in (self.server.workdir / "rasa.log", self.actions.workdir / "actions.log")
            if p.exists()
        )

    def user(self, platform: str) -> str:
        """A new person (Telegram ids are numbers)."""
        n = next(self.users)
        return str(n) if platform == "telegram" else f"u{n}"

    def post(self, platform: str, m: Msg) -> requests.Response:
        return post(f"{self.server.url}/webhooks", self.fake.url, self.key, platform, m)

    def say(self, platform: str, m: Msg) -> List[Reply]:
        """Post `m` and return what the coach answered on the platform."""
        start, sender = len(self.fake.calls), sender_of(platform, m)
        heard = len(user_texts(self.events(sender))) if platform == "slack" else 0
        r = self.post(platform, m)
        assert r.status_code == 200, (r.status_code, r.text)
        if platform == "slack":  # answered at once, the message handled in the background: Rasa stores the
            deadline = time.time() + 30  # tracker after the last reply went out, so wait for the stored message
            while len(user_texts(self.events(sender))) == heard and time.time() < deadline:
                time.sleep(0.05)
        return self.fake.replies(platform, start)

    def events(self, sender: str) -> List[Dict[str, Any]]:
        return self.server.tracker(sender)["events"]

    def memory(self, sender: str) -> Dict[str, Any]:
        return self.server.tracker(sender)["slots"].get("coach_memory") or {}


@pytest.fixture(scope="module")
def team(servers: Servers) -> Iterator[Team]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = FakeAPI(key)
    workdir = Path(tempfile.mkdtemp(prefix="coach-team-chats-"))
    server = Servers(workdir, env=settings(fake.url), actions=servers)
    try:
        server.start_rasa()
        yield Team(server, fake, key, servers)
    finally:
        server.close()
        fake.close()
        shutil.rmtree(workdir, ignore_errors=True)


def text(replies: List[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def rest_text(messages: List[Dict[str, Any]]) -> str:
    """The text of the REST channel's or the web chat's answer."""
    return "\n".join(m.get("text", "") for m in messages)


def button(replies: List[Reply], title: str) -> Tuple[Reply, Any]:
    """The reply carrying the button `title` and what pressing it sends back."""
    found = [(r, press) for r in replies for t, press in r.buttons if t == title]
    assert found, [r.buttons for r in replies]
    return found[0]


def thread_of(platform: str, m: Msg) -> str:
    """The thread a mention is answered in: the message itself (Slack names it by its timestamp)."""
    return f"{m.id}.1" if platform == "slack" else m.id


def user_texts(events: List[Dict[str, Any]]) -> List[str]:
    return [e["text"] for e in events if e["event"] == "user"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_two_people_in_one_channel_keep_their_own_customer(team: Team, platform: str) -> None:
    ann, bo = Msg("mention", team.user(platform), SUSPICIOUS), Msg("mention", team.user(platform), "what should I avoid?")
    first = team.say(platform, ann)
    assert "Suspicious" in text(first), text(first) + team.logs()
    assert {r.thread for r in first} == {thread_of(platform, ann)}, "answered in the thread of the mention"
    assert {"What to avoid", "Practise this type"} <= {t for r in first for t, _ in r.buttons}, "the platform's buttons"
    second = team.say(platform, bo)
    assert second and "Suspicious" not in text(second) and "customer" in text(second), second  # asked to describe one
    assert {r.thread for r in second} == {thread_of(platform, bo)}
    ann_id, bo_id = sender_of(platform, ann), sender_of(platform, bo)
    assert team.memory(ann_id)["customer_type"] == "suspicious" and not team.memory(bo_id).get("customer_type")
    assert user_texts(team.events(ann_id)) == [SUSPICIOUS] and user_texts(team.events(bo_id)) == ["what should I avoid?"]
    assert all(e.get("input_channel") == platform for e in team.events(ann_id) if e["event"] == "user")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_direct_message_is_answered_in_the_direct_chat(team: Team, platform: str) -> None:
    m = Msg("dm", team.user(platform), "hello")
    replies = team.say(platform, m)
    assert "sales coach" in text(replies).lower(), replies
    assert {"Customer types", "Practise"} <= {t for r in replies for t, _ in r.buttons}
    assert all(r.thread is None for r in replies), "no thread in a direct chat"
    assert user_texts(team.events(sender_of(platform, m))) == ["hello"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_button_press_reaches_the_coach(team: Team, platform: str) -> None:
    user = team.user(platform)
    described = team.say(platform, Msg("mention", user, SUSPICIOUS))
    shown, press = button(described, "What to avoid")
    pressed = Msg("button", user, press=press, thread=shown.thread or "")
    answer = team.say(platform, pressed)
    assert "With this Suspicious customer, avoid" in text(answer), answer
    assert {r.where for r in answer} == {shown.where}, "answered where the button was"
    assert user_texts(team.events(sender_of(platform, pressed)))[-1] == "/ask_avoid"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrongly_signed_request_is_refused_and_reaches_nobody(team: Team, platform: str) -> None:
    user = team.user(platform)
    genuine = team.say(platform, Msg("mention", team.user(platform), SUSPICIOUS))  # a real button to forge a press of
    _, press = button(genuine, "What to avoid")
    start = len(team.fake.calls)
    for forged in (
        Msg("mention", user, SUSPICIOUS, forge="signature"),
        Msg("dm", user, "hello", forge="signature"),
        Msg("button", user, press=press, forge="signature"),
        Msg("mention", user, SUSPICIOUS, forge="unsigned"),
    ):
        r = team.post(platform, forged)
        assert r.status_code in (401, 403), (forged.kind, forged.forge, r.status_code, r.text)
    # the observable end: a genuine message sent after them is answered, and its answer is all that came since
    answered = team.say(platform, Msg("mention", team.user(platform), "hello"))
    assert answered and team.fake.replies(platform, start) == answered
    for kind in ("mention", "dm"):
        assert user_texts(team.events(sender_of(platform, Msg(kind, user)))) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_team_leaderboard_shows_names_from_the_platform_for_that_channel_only(team: Team, platform: str) -> None:
    """A colleague practises three times (the board's minimum) in the channel; once the operator turns the team's
    leaderboard on, someone else there asks for it and sees the colleague's display name, never an id; a practiser
    elsewhere is not on it."""
    other_space = {"slack": "T2", "botframework": "tenant2", "telegram": "-200", "mattermost": "team2"}.get(platform)
    dana, outsider, sam = team.user(platform), team.user(platform), team.user(platform)
    team.fake.names.update({dana: "Dana Reyes", outsider: "Olaf Outside", sam: "Sam Okafor"})  # Slack's users.info

    def practise(user: str, name: str, space: str) -> None:
        for _ in range(LEADERBOARD_MIN_SESSIONS):
            for message in ('/start_practice{"type_id": "suspicious"}', PRACTICE_REPLY, "/practice_end"):
                said = text(team.say(platform, Msg("mention", user, message, space=space, name=name)))
            assert "/100" in said, said + team.logs()

    practise(dana, "Dana Reyes", "")
    if other_space:  # Rocket.Chat: one server is one workspace
        practise(outsider, "Olaf Outside", other_space)
    from knowledge import cli

    for space in (SPACE[platform], other_space):  # a team's leaderboard is off until turned on (issue 26)
        if space:
            assert cli.main(["team", "set", f"{platform}:{space}", "--leaderboard", "on"]) == 0
    board = text(team.say(platform, Msg("mention", sam, "show the team leaderboard", name="Sam Okafor")))
    assert "1. Dana Reyes:" in board, board + team.logs()
    assert "Olaf" not in board and "Sam Okafor" not in board and "You" not in board, board
    assert f"{platform}:" not in board and not re.search(rf"\b{re.escape(dana)}\b", board), "no raw id"
    if other_space:
        elsewhere = text(team.say(platform, Msg("mention", outsider, "leaderboard", space=other_space, name="Olaf Outside")))
        assert "1. You:" in elsewhere and "Dana" not in elsewhere, elsewhere
    from knowledge.app import userdata

    profile = userdata().profile(sender_of(platform, Msg("mention", dana)))
    assert (profile["name"], profile["team"]) == ("Dana Reyes", f"{platform}:{SPACE[platform]}")


def test_web_chat_rest_and_a_team_chat_keep_separate_conversations(team: Team) -> None:
    """The same person, by the same id where the channel lets one choose it, on REST, in the web chat and on
    Slack: three conversations, each with its own customer, and REST cannot write into the other two."""
    person = "u42"
    assert "Caustic" in rest_text(team.server.say(person, CAUSTIC))
    slack = Msg("dm", person, PICKY)
    assert "Picky" in text(team.say("slack", slack))
    browser = requests.Session()
    assert browser.get(f"{team.server.url}/chat/api/session", timeout=30).status_code == 200
    web = browser.post(f"{team.server.url}/chat/api/message", json={"text": SUSPICIOUS}, timeout=60)
    assert "Suspicious" in rest_text(web.json()["messages"]), web.text
    web_id = browser.cookies["coach_chat"].split(".")[0]

    slack_id = sender_of("slack", slack)
    assert len({person, slack_id, web_id}) == 3 and slack_id == senders.sender_id("slack", "T1", person)
    for taken in (slack_id, web_id):  # REST lets the caller name the sender: never another channel's
        r = requests.post(f"{team.server.url}/webhooks/rest/webhook", json={"sender": taken, "message": CAUSTIC}, timeout=30)
        assert r.status_code == 403, (taken, r.status_code, r.text)
    expected = {person: ("caustic", CAUSTIC), slack_id: ("picky", PICKY), web_id: ("suspicious", SUSPICIOUS)}
    for sender, (type_id, said) in expected.items():
        assert team.memory(sender)["customer_type"] == type_id, sender
        assert user_texts(team.events(sender)) == [said], sender
    follow = browser.post(f"{team.server.url}/chat/api/message", json={"text": "/ask_avoid"}, timeout=60).json()
    assert "With this Suspicious customer" in rest_text(follow["messages"])
    assert "With this Picky customer" in text(team.say("slack", Msg("dm", person, "/ask_avoid")))
