"""The team model (knowledge/teams.py, issue 25 item 1) without a server, on SQLite and PostgreSQL: teams keyed by
platform and workspace id, web-chat teams joined only with an invite code, leaderboards limited to one team."""

from __future__ import annotations

import pytest

from knowledge import cli
from knowledge.teams import INVITE_CHARS, TeamError, Teams, normalise_code
from knowledge.userdata import UserData

from .test_privacy import pg, practise, urls  # noqa: F401 - pg and urls: a fresh store on each database


@pytest.fixture
def app_store(urls):  # noqa: F811
    s = UserData(url=urls[0])
    yield s
    s.close()


WEB_EVE = "web-" + "e" * 32


def test_a_web_visitor_cannot_put_themselves_on_a_workspace_board_by_naming_it(app_store):
    """The attack of item 1: naming `slack:T1` (any case) as a team gave the workspace's names and scores."""
    store = app_store
    teams = Teams(store)
    for user, name in (("slack:T1:U1", "Ann"), ("slack:T1:U2", "Bob")):
        store.set_profile(user, name)
        teams.join_platform(user, "slack", "T1", "Acme sales")
        for score in (60, 70, 80):
            practise(store, user, score)
    store.set_profile(WEB_EVE, "Eve")
    for typed in ("slack:T1", "SLACK:t1", "Acme sales", "botframework:tenant"):
        assert teams.join(WEB_EVE, typed) is None, typed
    assert store.profile(WEB_EVE)["team"] == "" and store.team_members(store.profile(WEB_EVE)["team"]) == []
    assert {m["name"] for m in store.team_members("slack:T1")} == {"Ann", "Bob"}
    assert store.team_members("slack:t1") == [] and store.team_members("") == []


def test_web_teams_are_joined_with_the_invite_code_and_a_new_code_retires_the_old(app_store):
    store = app_store
    teams = Teams(store)
    team, code = teams.create("North  region")
    assert team.name == "North region" and len(normalise_code(code)) == INVITE_CHARS
    with pytest.raises(TeamError):
        teams.create("north REGION")
    other, other_code = teams.create("South")
    assert teams.join(WEB_EVE, code.lower().replace("-", " ")) == team, "case, spaces and dashes do not matter"
    assert store.profile(WEB_EVE)["team"] == team.key and store.profile(WEB_EVE)["team_name"] == "North region"
    assert teams.join(WEB_EVE, other_code) == other and [m["user"] for m in store.team_members(team.key)] == []
    fresh = teams.new_invite("South")
    assert teams.join("web-" + "f" * 32, other_code) is None and teams.join("web-" + "f" * 32, fresh) == other
    assert {m.user for m in teams.members(other)} == {WEB_EVE, "web-" + "f" * 32}
    assert store.rows("teams", id=other.id)[0]["invite"] != normalise_code(fresh), "only a hash"
    assert teams.remove("South") == 2 and store.profile(WEB_EVE)["team"] == "" and teams.by_name("South") is None


def test_platform_teams_are_keyed_by_workspace_id_never_by_display_name(app_store):
    """Two Feishu groups both called 销售部 are two teams; a renamed group stays one team."""
    store = app_store
    teams = Teams(store)
    a = teams.join_platform("feishu:tk:ou_1", "feishu", "oc_aaa", "销售部")
    b = teams.join_platform("feishu:tk:ou_2", "feishu", "oc_bbb", "销售部")
    assert a.id != b.id and a.name == b.name == "销售部"
    renamed = teams.join_platform("feishu:tk:ou_3", "feishu", "oc_aaa", "华东销售")
    assert renamed.id == a.id and renamed.name == "华东销售"
    assert {m["user"] for m in store.team_members(a.key)} == {"feishu:tk:ou_1", "feishu:tk:ou_3"}
    with pytest.raises(TeamError):
        teams.join_platform("x", "myspace", "1")


def test_roles_for_managers_and_forget_removes_memberships(app_store):
    store = app_store
    teams = Teams(store)
    team, code = teams.create("Managers")
    teams.join(WEB_EVE, code)
    teams.set_role(team, WEB_EVE, "manager")
    assert store.profile(WEB_EVE)["role"] == "manager" and teams.members(team)[0].role == "manager"
    with pytest.raises(TeamError):
        teams.set_role(team, WEB_EVE, "owner")
    teams.join(WEB_EVE, teams.new_invite("Managers"))  # joining the same team again keeps the role
    assert teams.members(team)[0].role == "manager"
    assert WEB_EVE in store.users() and store.forget([WEB_EVE])["team_members"] == 1 and teams.members(team) == []


def test_coach_team_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    assert cli.main(["team", "create", "Shanghai desk"]) == 0
    code = capsys.readouterr().out.split("shown only now): ")[1].split()[0]
    assert Teams(UserData()).join(WEB_EVE, code) is not None
    assert cli.main(["team", "create", "shanghai DESK"]) == 2 and "already exists" in capsys.readouterr().err
    assert cli.main(["team", "list"]) == 0 and "Shanghai desk  1 member(s)" in capsys.readouterr().out
    assert cli.main(["team", "invite", "Shanghai desk"]) == 0
    new = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
    assert new != code and Teams(UserData()).join("web-" + "1" * 32, code) is None
    assert cli.main(["team", "members", "Shanghai desk"]) == 0 and WEB_EVE in capsys.readouterr().out
    assert cli.main(["team", "remove", "Shanghai desk"]) == 0 and "1 member(s) left" in capsys.readouterr().out
    assert cli.main(["team", "remove", "Nowhere"]) == 2


def test_a_viewers_board_holds_their_team_by_name_and_no_one_else(app_store):
    """UserData.team_leaderboard, what the progress page shows: the viewer's teammates by name (an unnamed one with
    no name), the viewer's own row marked, and nobody of another workspace; without a team, the viewer alone."""
    store, teams = app_store, Teams(app_store)
    for user, name, workspace in (("slack:T1:U1", "Ann", "T1"), ("slack:T1:U2", "", "T1"), ("slack:T2:U9", "Zed", "T2")):
        store.set_profile(user, name)
        teams.join_platform(user, "slack", workspace)
        for score in (60, 70, 90 if name == "Zed" else 80):
            practise(store, user, score)
    for score in (50, 50, 50):
        practise(store, WEB_EVE, score)
    board = store.team_leaderboard("slack:T1:U1", min_sessions=3)
    assert [(r["user"], r["name"], r["viewer"]) for r in board] == [("slack:T1:U1", "Ann", True), ("slack:T1:U2", "", False)]
    assert [(r["user"], r["viewer"]) for r in store.team_leaderboard(WEB_EVE, min_sessions=3)] == [(WEB_EVE, True)]
    assert store.team_leaderboard(WEB_EVE, min_sessions=4) == []
