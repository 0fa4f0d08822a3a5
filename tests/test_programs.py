"""Training programmes without a server (issue 26): levels, certificates, assignments and exams, through the dialogue
as a trainee and a manager meet them, in English and Chinese (Traditional input where it differs)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from typing import Dict, List, Tuple

import pytest

from knowledge.engine.answer import Answer
from knowledge.engine.practice.tuning import LEVELS, TUNING
from knowledge.engine.programs import load_programs, program_store
from knowledge.engine.programs.content import ProgramTexts, placeholders
from knowledge.engine.state import ConversationState, UserTurn
from knowledge.loader import ContentError
from knowledge.teams import Teams

EXPERT = {  # replies that win the suspicious customer (tests/test_practice.py's expert lines)
    "en": [
        "Welcome! What matters most to you, and what would you need to see to trust a deal?",
        "Here is the inspection report and the full service history, please check every line yourself.",
        "I'll put the price and the warranty in writing, and you can take a week to check it with anyone you like.",
        "Would you like to take the report home and decide when you're ready?",
    ]
}


def person(prefix: str = "p") -> str:
    return f"web-{prefix}-{uuid.uuid4().hex[:8]}"


def ask(dialogue, state: ConversationState, text: str, intent: str = "", **entities: str) -> Answer:
    return dialogue.respond(UserTurn(text=text, intent=intent, entities=entities), state)


def press(dialogue, state: ConversationState, payload: str) -> Answer:
    intent, _, rest = payload[1:].partition("{")
    entities = json.loads("{" + rest) if rest else {}
    return ask(dialogue, state, payload, intent, **entities)


def payloads(reply: Answer) -> List[str]:
    return [p for _, p in reply.buttons]


def session_state(dialogue, user: str) -> Dict:
    return dialogue.userdata.active_session(user)["state"]


def finished(dialogue, user: str, type_id: str, level: str, score: int) -> None:
    """A finished session stored as practice stores one (the score as given)."""
    store = dialogue.userdata
    sid = store.start_session(user, type_id, 0, "en", {"type_id": type_id, "trade": "car", "level": level})
    store.record_turn(sid, 1, "a reply", 0.8, [], {"type_id": type_id, "trade": "car", "level": level})
    store.finish_session(sid, score, "agree", {"type_id": type_id, "trade": "car", "level": level, "turns": []})


@pytest.fixture
def team(dialogue) -> Tuple[str, str, str, str]:
    """A web team: a manager (Mia) and two trainees (Ann, Bo); their sender ids and the team's name."""
    teams = Teams(dialogue.userdata)
    name = f"Team {uuid.uuid4().hex[:6]}"
    made, code = teams.create(name)
    people = [person("mia"), person("ann"), person("bo")]
    for user, shown in zip(people, ("Mia", "Ann", "Bo"), strict=True):
        teams.join(user, code)
        dialogue.userdata.set_profile(user, shown)
    teams.set_role(made, people[0], "manager")
    return people[0], people[1], people[2], name


# the content --------------------------------------------------------------------------------------------
def test_programs_content_is_valid_and_every_text_has_both_languages():
    content = load_programs()
    assert list(content.levels) == list(LEVELS)
    for key in ProgramTexts.__fields__:
        text = getattr(content.texts, key)
        assert text.en.strip() and text.zh.strip() and placeholders(text.en) == placeholders(text.zh), key


def test_a_broken_programs_file_names_the_file_and_field(tmp_path):
    bad = tmp_path / "programs.yaml"
    data = load_programs().dict()
    data["texts"]["assigned"]["zh"] = "已布置给{who}"  # placeholders differ from English
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ContentError, match=r"programs.yaml: field 'texts.*assigned"):
        load_programs(bad)
    data = load_programs().dict()
    data["default_timezone"] = "Mars/Olympus"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ContentError, match="default_timezone"):
        load_programs(bad)


# levels ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, lang, level",
    [
        ("practise the picky customer on hard", "en", "hard"),
        ("let's do a practice at easy level with a suspicious one", "en", "easy"),
        ("hard mode practice please", "en", "hard"),
        ("困难模式练习挑剔型客户", "zh", "hard"),
        ("用简单模式练一下", "zh", "easy"),
        ("練習一下，困難模式", "zh", "hard"),
    ],
)
def test_a_level_said_in_words_starts_the_session_at_it(dialogue, text, lang, level):
    state = ConversationState(user=person(), lang=lang)
    reply = ask(dialogue, state, text, "start_practice")
    assert session_state(dialogue, state.user)["level"] == level, reply.text
    assert ("/practice_hint" in payloads(reply)) == LEVELS[level].hints


def test_levels_change_the_customer_and_the_hints(dialogue, engine):
    hard, easy = ConversationState(user=person(), lang="en"), ConversationState(user=person(), lang="zh")
    press(dialogue, hard, '/start_practice{"type_id": "picky", "level": "hard"}')
    press(dialogue, easy, '/start_practice{"type_id": "picky", "level": "easy"}')
    assert session_state(dialogue, hard.user)["trust"] == round(TUNING.start_trust + LEVELS["hard"].trust, 3)
    assert session_state(dialogue, easy.user)["trust"] > session_state(dialogue, hard.user)["trust"]
    refused = ask(dialogue, hard, "hint", "practice_hint")
    assert engine.kb.text("practice_no_hints", "en") in refused.text and "/practice_hint" not in payloads(refused)
    assert "/practice_hint" in payloads(ask(dialogue, easy, "提示", "practice_hint"))
    ended = ask(dialogue, hard, "end", "practice_end")
    assert '/start_practice{"type_id": "picky", "trade": "' in payloads(ended)[0] and '"level": "hard"' in payloads(ended)[0]


def test_a_level_word_that_describes_a_customer_starts_nothing(dialogue):
    state = ConversationState(user=person(), lang="en")
    ask(dialogue, state, "he's hard to deal with and makes everything difficult", "describe_customer")
    assert not dialogue.practice.active(state.user)


@pytest.mark.parametrize("text, lang", [("what levels are there?", "en"), ("练习有哪些难度？", "zh"), ("可以選難度嗎", "zh")])
def test_asking_about_levels_shows_each_with_a_working_button(dialogue, text, lang):
    state = ConversationState(user=person(), lang=lang)
    menu = ask(dialogue, state, text, "help")
    assert [p for p in payloads(menu)] == [f'/start_practice{{"level": "{lv}"}}' for lv in LEVELS]
    for payload in payloads(menu):
        state = ConversationState(user=person(), lang=lang)
        press(dialogue, state, payload)
        assert session_state(dialogue, state.user)["level"] in LEVELS


# certificates -----------------------------------------------------------------------------------------------
def test_a_certificate_needs_a_pass_on_normal_and_on_hard(dialogue, engine):
    user = person()
    state = ConversationState(user=user, lang="en")
    none = ask(dialogue, state, "my certificates", "my_certificates")
    assert "No certificates yet" in none.text and "70" in none.text
    finished(dialogue, user, "picky", "normal", 82)
    path = ask(dialogue, state, "show my certificates", "my_certificates")
    assert "Next: Picky" in path.text and "on hard" in path.text
    assert payloads(path) == ['/start_practice{"type_id": "picky", "level": "hard"}']
    finished(dialogue, user, "picky", "hard", 64)  # below the pass mark: not yet
    assert dialogue.programs.newly_earned(user) == []
    finished(dialogue, user, "picky", "hard", 75)
    held = ask(dialogue, ConversationState(user=user, lang="zh"), "我的证书", "my_certificates")
    assert "挑剔型" in held.text and "🎓" in held.text
    assert dialogue.programs.store.certificates(user).keys() == {"picky"}


def test_a_certificate_earned_in_a_session_is_announced_when_it_ends(dialogue, engine):
    user = person()
    finished(dialogue, user, "suspicious", "normal", 90)
    state = ConversationState(user=user, lang="en")
    press(dialogue, state, '/start_practice{"type_id": "suspicious", "trade": "car", "level": "hard"}')
    reply = Answer()
    for line in EXPERT["en"]:
        reply = ask(dialogue, state, line, "describe_customer")
        if not dialogue.practice.active(user):
            break
    if dialogue.practice.active(user):
        reply = ask(dialogue, state, "end", "practice_end")
    score = dialogue.userdata.last_session(user)["score"]
    assert ("Certificate earned: Suspicious" in reply.text) == (score >= 70), reply.text


# assignments ---------------------------------------------------------------------------------------------------
def test_a_manager_assigns_in_words_and_trainees_start_it_with_a_button(dialogue, team):
    manager, ann, bo, _ = team
    m = ConversationState(user=manager, lang="en")
    given = ask(dialogue, m, "assign the suspicious customer in cars, pass mark 75, by Friday, to my team", "assign_practice")
    assert "Assigned to the whole team (2)" in given.text and "pass mark 75" in given.text and "Friday" in given.text, given.text
    report_button = payloads(given)[0]
    assert report_button.startswith('/assignment_report{"assignment": "')
    a = ConversationState(user=ann, lang="en")
    mine = ask(dialogue, a, "my assignments", "my_assignments")
    assert "Suspicious, Cars, Normal, pass mark 75" in mine.text and "to do" in mine.text
    start = press(dialogue, a, payloads(mine)[0])
    assert "pass mark 75" in start.text and session_state(dialogue, ann)["trade"] == "car"
    ask(dialogue, a, "Welcome! What matters most to you?", "describe_customer")
    end = ask(dialogue, a, "end", "practice_end")
    assert "Counted for your assignment" in end.text
    report = press(dialogue, m, report_button)
    assert "Ann: to do (1 of 1 attempts" in report.text and "Bo: to do (0 of 1" in report.text, report.text


def test_a_trainee_cannot_assign_and_a_stranger_has_no_assignments(dialogue, team):
    _, ann, _, _ = team
    refused = ask(dialogue, ConversationState(user=ann, lang="en"), "assign picky to my team by Friday", "assign_practice")
    assert "Only a team's managers" in refused.text
    alone = ConversationState(user=person(), lang="zh")
    assert "还没有加入团队" in ask(dialogue, alone, "给全组布置：疑心型客户，汽车，75分及格，周五前", "assign_practice").text
    assert "目前没有给你的作业" in ask(dialogue, alone, "我的作业", "my_assignments").text


def test_a_chinese_assignment_in_words_and_a_report_in_traditional(dialogue, team):
    manager, ann, _, _ = team
    z = ConversationState(user=manager, lang="zh")
    given = ask(dialogue, z, "给全组布置：疑心型客户，汽车，75分及格，周五前", "assign_practice")
    assert "已布置给全组（2人）" in given.text and "及格线75分" in given.text and "周五" in given.text, given.text
    report = ask(dialogue, z, "誰完成了作業？", "assignment_report")
    assert "Ann" in report.text and "未完成" in report.text


def test_an_assignment_asked_for_by_buttons_asks_each_missing_part(dialogue, team):
    manager, ann, _, _ = team
    m = ConversationState(user=manager, lang="en")
    first = press(dialogue, m, "/assign_practice")
    assert len(first.buttons) == 13 and all(p.startswith('/assign_practice{"type_id"') for p in payloads(first))
    trade = press(dialogue, m, '/assign_practice{"type_id": "picky"}')
    assert '/assign_practice{"trade": "retail"}' in payloads(trade)
    due = press(dialogue, m, '/assign_practice{"trade": "retail"}')
    assert payloads(due)[-1] == '/assign_practice{"due": "none"}'
    done = press(dialogue, m, '/assign_practice{"due": "7"}')
    assert "Picky customer, Retail, Normal, pass mark 70" in done.text, done.text
    mine = ask(dialogue, ConversationState(user=ann, lang="en"), "what have I been assigned?", "my_assignments")
    assert "Picky, Retail" in mine.text


def test_an_assignment_to_a_person_by_name_and_to_an_unknown_name(dialogue, team):
    manager, ann, bo, _ = team
    m = ConversationState(user=manager, lang="en")
    unknown = ask(dialogue, m, "assign the picky customer in retail by tomorrow to Zed", "assign_practice")
    assert 'can\'t find "zed"' in unknown.text.lower() and "Ann" in unknown.text
    given = ask(dialogue, m, "assign the picky customer in retail, 3 attempts, by tomorrow, to Bo", "assign_practice")
    assert "Assigned to Bo" in given.text and "attempts to make: 3" in given.text, given.text
    assert "Picky" not in ask(dialogue, ConversationState(user=ann, lang="en"), "my assignments", "my_assignments").text
    assert "Picky" in ask(dialogue, ConversationState(user=bo, lang="en"), "my assignments", "my_assignments").text


def test_an_exam_gives_two_trainees_the_same_customer_once(dialogue, team):
    manager, ann, bo, _ = team
    m = ConversationState(user=manager, lang="en")
    given = ask(dialogue, m, "set an exam for the team: the caustic customer, real estate, on hard, by 2031-03-01", "assign_practice")
    assert "Exam for the whole team" in given.text and "Hard" in given.text, given.text
    openings = []
    for user in (ann, bo):
        state = ConversationState(user=user, lang="en")
        mine = ask(dialogue, state, "my assignments", "my_assignments")
        exam_button = next(p for t, p in mine.buttons if "Caustic" in t)
        start = press(dialogue, state, exam_button)
        assert "/practice_hint" not in payloads(start) and "exam" in start.text.lower()
        s = session_state(dialogue, user)
        openings.append((s["scene"], s["seed"], s["line"], s["exam"], s["level"]))
        ask(dialogue, state, "Hello, how can I help you today?", "describe_customer")
        ask(dialogue, state, "end", "practice_end")
        again = press(dialogue, state, exam_button)
        assert "taken this exam already" in again.text and not dialogue.practice.active(user)
    assert openings[0] == openings[1] and openings[0][3] is True and openings[0][4] == "hard"


def test_due_dates_are_days_in_the_team_time_zone(dialogue, engine):
    from knowledge.engine.programs.requests import ProgramReader
    from knowledge.engine.programs.store import ProgramStore, Settings

    reader = ProgramReader(engine.kb, load_programs().words)
    wednesday = date(2026, 12, 9)
    cases = {
        "by Friday": "2026-12-11",
        "by wednesday": "2026-12-16",  # today's weekday is next week's
        "周五前": "2026-12-11",
        "星期一之前": "2026-12-14",
        "by tomorrow": "2026-12-10",
        "明天": "2026-12-10",
        "in 10 days": "2026-12-19",
        "10天内": "2026-12-19",
        "by Jan 5": "2027-01-05",
        "1月5日前": "2027-01-05",
        "by 2027-02-01": "2027-02-01",
        "pass mark 75": None,  # "mark 75" is no date
    }
    for text, due in cases.items():
        assert reader.request(text, wednesday).due == due, text
    clock = lambda: datetime(2026, 12, 9, 20, 0, tzinfo=timezone.utc)  # noqa: E731 - Thursday 04:00 in Shanghai
    store = ProgramStore(dialogue.userdata, clock=clock, defaults=Settings(70, "UTC", False))
    teams = Teams(dialogue.userdata)
    made, _ = teams.create(f"Zone {uuid.uuid4().hex[:6]}")
    assert store.today(made) == date(2026, 12, 9)
    store.set_settings(made, timezone_name="Asia/Shanghai", pass_mark=80)
    assert store.today(made) == date(2026, 12, 10) and store.settings(made).pass_mark == 80
    with pytest.raises(ValueError):
        store.set_settings(made, timezone_name="Nowhere/Town")


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "assign the suspicious customer in cars, pass mark 75, by Friday, to my team",
            {"type_id": "suspicious", "trade": "car", "pass_mark": 75, "team": True},
        ),
        (
            "give my team the picky one on hard, 2 attempts, at least 80",
            {"type_id": "picky", "level": "hard", "attempts": 2, "pass_mark": 80},
        ),
        ("给全组布置：疑心型客户，汽车，75分及格，周五前", {"type_id": "suspicious", "trade": "car", "pass_mark": 75, "team": True}),
        (
            "給大家佈置考核：刻薄型客户，房地产，困难模式，练3次",
            {"type_id": "caustic", "trade": "real_estate", "level": "hard", "exam": True, "attempts": 3},
        ),
    ],
)
def test_an_assignment_request_reads_each_part(engine, text, parts):
    from knowledge.engine.programs.requests import ProgramReader

    req = ProgramReader(engine.kb, load_programs().words).request(text, date(2026, 12, 9))
    for key, value in parts.items():
        assert getattr(req, key) == value, (key, req)


def test_forget_removes_what_the_programmes_keep(dialogue, team):
    manager, ann, _, _ = team
    ask(dialogue, ConversationState(user=manager, lang="en"), "assign the picky customer in retail by Friday to Ann", "assign_practice")
    finished(dialogue, ann, "picky", "normal", 90)
    finished(dialogue, ann, "picky", "hard", 90)
    assert dialogue.programs.newly_earned(ann) == ["picky"]
    counts = program_store(dialogue.userdata).forget([ann])
    assert counts["certificates"] == 1 and counts["assignments"] == 1
    assert dialogue.programs.store.certificates(ann) == {}


def test_the_operator_names_managers_and_sets_the_pass_mark_and_time_zone(dialogue, team, capsys):
    from knowledge import cli

    manager, ann, _, name = team
    assert cli.main(["team", "manager", name, "ann"]) == 0 and "now a manager" in capsys.readouterr().out
    assert dialogue.userdata.profile(ann)["role"] == "manager"
    assert cli.main(["team", "member", name, ann]) == 0 and dialogue.userdata.profile(ann)["role"] == "member"
    assert cli.main(["team", "manager", name, "Nobody"]) == 2 and "no member" in capsys.readouterr().err
    assert cli.main(["team", "set", name, "--timezone", "Mars/Base"]) == 2 and "unknown time zone" in capsys.readouterr().err
    assert cli.main(["team", "set", name, "--pass-mark", "80", "--timezone", "Asia/Shanghai"]) == 0
    assert "pass mark 80, time zone Asia/Shanghai, leaderboard off" in capsys.readouterr().out
    assert cli.main(["team", "set", name, "--leaderboard", "on"]) == 0
    assert "pass mark 80, time zone Asia/Shanghai, leaderboard on" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse's own refusal: on or off only
        cli.main(["team", "set", name, "--leaderboard", "maybe"])
    none = ask(dialogue, ConversationState(user=ann, lang="en"), "my certificates", "my_certificates")
    assert "at 80 or more" in none.text


# the manager's view and the leaderboard setting (slice 6) -----------------------------------------------------
def test_how_is_my_team_doing_gives_a_manager_completion_averages_and_the_weakest_types(dialogue, team):
    manager, ann, bo, name = team
    m = ConversationState(user=manager, lang="en")
    given = ask(dialogue, m, "assign the suspicious customer in cars, pass mark 75, by Friday, to my team", "assign_practice")
    assignment = int(json.loads("{" + payloads(given)[0].split("{", 1)[1])["assignment"])
    finished(dialogue, ann, "picky", "normal", 50)
    finished(dialogue, ann, "suspicious", "normal", 80)
    sid = dialogue.userdata.last_session(ann)["id"]
    dialogue.programs.store.link_session(sid, assignment, ann)
    finished(dialogue, ann, "caustic", "hard", 64)
    for phrasing in ("how is my team doing?", "How's the team doing", "team progress please"):  # leaderboard-free
        view = ask(dialogue, ConversationState(user=manager, lang="en"), phrasing, "leaderboard")
        assert f"{name}: 2 trainees; finished sessions: 3, average score 64.7." in view.text, (phrasing, view.text)
        assert "Weakest types: Picky 50, Caustic 64, Suspicious 80." in view.text
        assert "Assignments: 1 of 2 done." in view.text and "Suspicious, Normal, due Friday" in view.text
        assert "• Ann: sessions 3, average 64.7, weakest Picky, certificates 0" in view.text
        assert "• Bo: no finished practice yet" in view.text and "Mia" not in view.text  # a manager is not a trainee
        assert "Ranked" not in view.text and '/leaderboard{"switch": "on"}' in payloads(view)
    zh = ask(dialogue, ConversationState(user=manager, lang="zh"), "我的团队练得怎么样", "leaderboard")
    assert "2名学员，共完成3次练习，平均64.7分" in zh.text and "最弱的类型：挑剔型50分" in zh.text.replace("客户", ""), zh.text
    hant = ask(dialogue, ConversationState(user=manager, lang="zh"), "團隊練得如何？", "leaderboard")
    assert "名學員" in hant.text and "團隊頁面" in hant.text, hant.text


def test_a_trainee_asking_how_the_team_is_doing_is_pointed_to_their_own_progress(dialogue, team):
    _, ann, _, _ = team
    reply = ask(dialogue, ConversationState(user=ann, lang="en"), "how is my team doing?", "leaderboard")
    assert "for its managers" in reply.text and payloads(reply) == ["/my_progress"]
    assert "还没有加入团队" in ask(dialogue, ConversationState(user=person(), lang="zh"), "团队练得怎么样？", "leaderboard").text


def test_the_leaderboard_is_a_team_setting_off_by_default_that_a_manager_switches(dialogue, team):
    manager, ann, _, name = team
    a, m = ConversationState(user=ann, lang="en"), ConversationState(user=manager, lang="en")
    for _ in range(3):
        finished(dialogue, ann, "picky", "normal", 70)
    off = ask(dialogue, a, "show me the leaderboard", "leaderboard")
    assert f"{name}'s leaderboard is off" in off.text and "1. " not in off.text and payloads(off) == ["/my_progress"]
    assert "Only a team's managers" in ask(dialogue, a, "turn the leaderboard on", "leaderboard").text
    on = ask(dialogue, m, "turn the leaderboard on", "leaderboard")
    assert f"{name}'s leaderboard is on" in on.text and payloads(on) == ['/leaderboard{"switch": "off"}']
    board = ask(dialogue, a, "leaderboard", "leaderboard")
    assert "1. You: 70" in board.text, board.text
    assert "已关闭" in press(dialogue, ConversationState(user=manager, lang="zh"), payloads(on)[0]).text
    assert "排行榜已关闭" in ask(dialogue, ConversationState(user=ann, lang="zh"), "看看排行榜", "leaderboard").text
    # a trainee's button cannot switch it
    assert "Only a team's managers" in press(dialogue, a, '/leaderboard{"switch": "on"}').text
    assert dialogue.programs.store.settings(Teams(dialogue.userdata).team_of(ann)).leaderboard is False


def test_the_team_overview_matrix_weeks_and_csv(dialogue, team):
    from knowledge.engine.programs.team_view import as_csv, safe_cell

    manager, ann, bo, _ = team
    dialogue.userdata.set_profile(bo, "=HYPERLINK(1)")
    finished(dialogue, ann, "picky", "normal", 60)
    finished(dialogue, ann, "picky", "hard", 80)
    finished(dialogue, bo, "caustic", "normal", 90)
    made = Teams(dialogue.userdata).team_of(ann)
    view = dialogue.programs.overview(made)
    ann_row = next(p for p in view.people if p.user == ann)
    assert ann_row.by_type["picky"].sessions == 2 and ann_row.by_type["picky"].average == 70.0
    assert view.types == ["picky", "caustic"] and view.weeks[-1].sessions == 3 and view.weeks[-1].people[bo] == 90.0
    table = as_csv(view, lambda t: t, "teammate")
    assert table.splitlines()[0] == "person,type,sessions,average,certificate,assignments"
    assert "Ann,picky,2,70.0,," in table and "'=HYPERLINK(1),caustic,1,90.0,," in table, table
    assert safe_cell("+1") == "'+1" and safe_cell("Ann") == "Ann"
