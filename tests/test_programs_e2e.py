"""Training programmes through the running servers (issue 26, "Done when"): levels and certificates in the web chat,
a manager assigning in words and trainees completing it with buttons, in the web chat and on Slack (assigned in a
channel, done in a direct message), the manager seeing it; an exam that gives two trainees the same customer; the
manager's view of the team in chat and on the web team page, and the leaderboard as a team setting.

The managers are named as an operator names them: `coach team manager TEAM PERSON` (knowledge/cli.py)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Dict, List

import pytest
import requests

from knowledge import cli
from knowledge.engine.practice.tuning import LEVELS

from .test_team_chats import Msg, sender_of
from .test_team_chats_server import Team, button, team, text  # noqa: F401 - team: the Slack fixture
from .test_webchat import say, text_of, visit, web_team

pytestmark = pytest.mark.e2e

ASSIGN_EN = "assign the suspicious customer in cars, pass mark 75, by Friday, to my team"
ASSIGN_ZH = "给全组布置：疑心型客户，汽车，75分及格，周五前"
REPLY = "Welcome! What matters most to you, and what would you need to see to trust a deal?"


def payloads(messages: List[Dict]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def titled(messages: List[Dict], title: str) -> str:
    found = [b["payload"] for m in messages for b in m.get("buttons", []) if b["title"] == title]
    assert found, json.dumps(messages, ensure_ascii=False)[:2000]
    return found[0]


def joined(servers, name: str, team_name: str) -> requests.Session:
    visitor = visit(servers)
    r = visitor.post(f"{servers.url}/chat/api/profile", json={"name": name, "invite": web_team(team_name)}, timeout=30)
    assert r.status_code == 200, r.text
    return visitor


def make_manager(team_name: str, person: str, capsys) -> None:
    assert cli.main(["team", "manager", team_name, person]) == 0
    assert "now a manager" in capsys.readouterr().out


def test_levels_by_words_and_buttons_and_certificates_on_the_progress_page(servers):
    ann = visit(servers)
    menu = say(servers, ann, "what levels are there?")
    assert payloads(menu) == [f'/start_practice{{"level": "{lv}"}}' for lv in LEVELS], menu
    hard = say(servers, ann, '/start_practice{"type_id": "picky", "level": "hard"}', title="Hard")
    assert "Level: hard" in text_of(hard) and "/practice_hint" not in payloads(hard)
    refused = say(servers, ann, "hint")
    assert "No hints at this level" in text_of(refused)
    say(servers, ann, "end")
    zh = visit(servers)
    started = say(servers, zh, "困難模式練習挑剔型客戶", lang="zh")
    assert "難度：困難" in text_of(started) and "/practice_hint" not in payloads(started), text_of(started)
    say(servers, zh, "結束", lang="zh")  # mid-session every message is a reply to the customer
    certificates = say(servers, zh, "我的證書", lang="zh")
    assert "下一個" in text_of(certificates) and '"level": "normal"' in payloads(certificates)[0], text_of(certificates)
    page = ann.get(f"{servers.url}/chat/progress?lang=en", timeout=30).text
    assert "My certificates" in page and "No certificates yet" in page and "level=normal" in page


def test_a_manager_assigns_in_the_web_chat_and_sees_who_did_it(servers, capsys):
    name = f"North {uuid.uuid4().hex[:6]}"
    mia, ann, bo = (joined(servers, who, name) for who in ("Mia", "Ann", "Bo"))
    refused = say(servers, ann, ASSIGN_EN)
    assert "Only a team's managers" in text_of(refused)
    make_manager(name, "Mia", capsys)
    given = say(servers, mia, ASSIGN_EN)
    assert "Assigned to the whole team (2)" in text_of(given) and "pass mark 75" in text_of(given), text_of(given)
    mine = say(servers, ann, "my assignments")
    assert "Suspicious, Cars, Normal, pass mark 75" in text_of(mine)
    start = say(servers, ann, titled(mine, "Start: Suspicious"), title="Start: Suspicious")
    assert "This session counts" in text_of(start) and "Customer:" in text_of(start)
    say(servers, ann, REPLY)
    ended = say(servers, ann, "end")
    assert "Counted for your assignment" in text_of(ended), text_of(ended)
    report = say(servers, mia, titled(given, "Who has done it?"), title="Who has done it?")
    assert "Ann: to do (1 of 1 attempts" in text_of(report) and "Bo: to do (0 of 1" in text_of(report), text_of(report)
    zh = say(servers, mia, ASSIGN_ZH, lang="zh")
    assert "已布置给全组（2人）" in text_of(zh) and "周五" in text_of(zh), text_of(zh)
    listed = say(servers, bo, "我的作業", lang="zh")
    assert listed and len([p for p in payloads(listed) if p.startswith("/start_assignment")]) == 2, text_of(listed)


def test_an_exam_gives_two_trainees_the_same_customer(servers, capsys):
    name = f"Exam {uuid.uuid4().hex[:6]}"
    mia, ann, bo = (joined(servers, who, name) for who in ("Mia", "Ann", "Bo"))
    make_manager(name, "Mia", capsys)
    given = say(servers, mia, "set an exam for the team: the caustic customer, real estate, on hard, by 2031-03-01")
    assert "Exam for the whole team" in text_of(given), text_of(given)
    firsts = []
    for trainee in (ann, bo):
        mine = say(servers, trainee, "my assignments")
        start = say(servers, trainee, titled(mine, "Start: Caustic"), title="Start: Caustic")
        assert "This is an exam" in text_of(start) and "/practice_hint" not in payloads(start)
        firsts.append([m["text"] for m in start if m["text"].startswith("Customer:")])
        say(servers, trainee, "end")
        again = say(servers, trainee, titled(mine, "Start: Caustic"), title="Start: Caustic")
        assert "taken this exam already" in text_of(again)
    assert firsts[0] and firsts[0] == firsts[1], firsts


def test_a_slack_manager_assigns_in_a_channel_and_a_trainee_does_it_in_a_direct_message(team: Team, capsys):  # noqa: F811
    boss, rep = team.user("slack"), team.user("slack")
    team.fake.names.update({boss: "Boss Lee", rep: "Rep Wu"})
    hello = team.say("slack", Msg("dm", rep, "hello"))  # the rep joins the workspace's team with a first message
    assert hello, team.logs()
    refused = team.say("slack", Msg("mention", boss, ASSIGN_EN))
    assert "Only a team's managers" in text(refused), text(refused) + team.logs()
    make_manager("slack:T1", sender_of("slack", Msg("mention", boss)), capsys)
    given = team.say("slack", Msg("mention", boss, ASSIGN_EN))
    assert "Assigned to the whole team" in text(given), text(given)
    mine = team.say("slack", Msg("dm", rep, "my assignments"))
    shown, press = button(mine, "Start: Suspicious")
    start = team.say("slack", Msg("button", rep, press=press, thread=shown.thread or ""))
    assert "This session counts" in text(start), text(start)
    team.say("slack", Msg("dm", rep, REPLY))
    ended = team.say("slack", Msg("dm", rep, "end"))
    assert "Counted for your assignment" in text(ended), text(ended)
    shown, press = button(given, "Who has done it?")
    report = team.say("slack", Msg("button", boss, press=press, thread=shown.thread or ""))
    assert re.search(r"Rep Wu: to do \(1 of 1 attempts", text(report)), text(report)
    view = text(team.say("slack", Msg("mention", boss, "how is my team doing?")))  # the manager's view, in the channel
    assert "Rep Wu: sessions 1" in view and "Weakest types:" in view and "Boss Lee" not in view, view
    assert "for its managers" in text(team.say("slack", Msg("dm", rep, "how's the team doing?")))


def test_a_manager_sees_the_team_in_chat_and_on_the_team_page_and_switches_the_leaderboard(servers, capsys):
    """Slice 6 as a manager and a trainee meet it in the web chat: "how is my team doing?" (three scripts), the
    team page and its CSV (a manager's only: 403 for a trainee and a stranger), the leaderboard off by default
    and turned on with the team view's button."""
    name = f"View {uuid.uuid4().hex[:6]}"
    mia, ann = (joined(servers, who, name) for who in ("Mia", "Ann"))
    make_manager(name, "Mia", capsys)
    profile = lambda who: who.get(f"{servers.url}/chat/api/session", timeout=30).json()["profile"]  # noqa: E731
    assert profile(mia)["manager"] is True and profile(ann)["manager"] is False  # the web chat's Team link
    say(servers, mia, ASSIGN_EN)
    mine = say(servers, ann, "my assignments")
    say(servers, ann, titled(mine, "Start: Suspicious"), title="Start: Suspicious")
    say(servers, ann, REPLY)
    ended = say(servers, ann, "end")
    score = re.search(r"(\d+)/100", text_of(ended))
    assert score, text_of(ended)

    view = say(servers, mia, "how is my team doing?")
    shown = text_of(view)
    assert f"{name}: 1 trainees; finished sessions: 1, average score {score.group(1)}." in shown, shown
    assert "Weakest types: Suspicious" in shown and "Assignments:" in shown and "• Ann: sessions 1" in shown, shown
    assert "Ranked" not in shown and "Who has done it?" in [b["title"] for m in view for b in m.get("buttons", [])]
    assert "1名学员" in text_of(say(servers, mia, "我的团队练得怎么样", lang="zh"))
    assert "1名學員" in text_of(say(servers, mia, "團隊練得如何", lang="zh"))
    assert "for its managers" in text_of(say(servers, ann, "how's the team doing?"))

    page = mia.get(f"{servers.url}/chat/team?lang=en", timeout=30)
    assert page.status_code == 200 and "By person and type" in page.text and "Average score by week" in page.text
    assert "<td>Ann</td>" in page.text and "Suspicious" in page.text and 'href="team.csv?lang=en"' in page.text
    table = mia.get(f"{servers.url}/chat/team.csv?lang=en", timeout=30)
    assert table.status_code == 200 and table.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in table.headers["Content-Disposition"]
    lines = table.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "person,type,sessions,average,certificate,assignments" and lines[1].startswith("Ann,Suspicious,1,"), lines
    assert "我的团队" in mia.get(f"{servers.url}/chat/team?lang=zh", timeout=30).text
    stranger = requests.Session()
    for who in (ann, stranger, visit(servers)):
        for path in ("team", "team.csv"):
            assert who.get(f"{servers.url}/chat/{path}", timeout=30).status_code == 403, path

    off = say(servers, ann, "show me the leaderboard")
    assert f"{name}'s leaderboard is off" in text_of(off), text_of(off)
    assert f"Team {name}: leaderboard" not in ann.get(f"{servers.url}/chat/progress?lang=en", timeout=30).text
    on = say(servers, mia, titled(view, "Turn the leaderboard on"), title="Turn the leaderboard on")
    assert f"{name}'s leaderboard is on" in text_of(on), text_of(on)
    board = text_of(say(servers, ann, "show me the leaderboard"))
    assert "No scores yet" in board, board  # on: the board itself (Ann has fewer sessions than its minimum)
    assert f"Team {name}: leaderboard" in ann.get(f"{servers.url}/chat/progress?lang=en", timeout=30).text
    assert "已关闭" in text_of(say(servers, mia, "关闭排行榜", lang="zh"))
