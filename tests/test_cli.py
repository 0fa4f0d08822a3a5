"""The `coach` command's JSON-lines contract, as ../shared/eval/score.py uses it."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.tables import customers

COACH = str(Path(sys.executable).parent / "coach")


def run(args, lines):
    payload = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    out = subprocess.run([COACH, *args], input=payload, capture_output=True, text=True, check=True).stdout
    return [json.loads(x) for x in out.splitlines()]


def test_help_lists_every_subcommand():
    out = subprocess.run([COACH, "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("kb", "identify", "score-reply", "customers", "feedback", "progress"):
        assert name in out


@pytest.mark.slow  # the console script in a subprocess (loads the engine): its in-process twin runs in make check
def test_identify_one_line_out_per_line_in(engine):
    rows = run(["identify"], [{"text": "客户不太相信销售,担心我们在价格上做手脚"}, {"text": "She has two kids."}, {"nope": 1}])
    assert len(rows) == 3
    assert rows[0]["types"][0]["id"] == "suspicious" and rows[0]["needs_more_info"] is False
    assert all(0 <= t["score"] <= 1 for t in rows[0]["types"])
    assert rows[0]["evidence"]
    assert rows[1]["needs_more_info"] is True and rows[2]["needs_more_info"] is True


@pytest.mark.slow  # the console script in a subprocess (loads the engine): its in-process twin runs in make check
def test_score_reply_contract(engine):
    rows = run(
        ["score-reply"],
        [
            {"type": "suspicious", "reply": "Here is the signed warranty and the inspection report to check."},
            {"type": "suspicious", "reply": "Just trust me."},
            {"type": "grumpy", "reply": "hello"},
        ],
    )
    assert rows[0]["score"] > rows[1]["score"]
    assert rows[0]["feedback"] and rows[2]["error"].startswith("unknown type id")


@pytest.mark.slow  # the console script in a subprocess (loads the engine): its in-process twin runs in make check
def test_malformed_json_line_gets_an_error_line(engine):
    out = subprocess.run([COACH, "identify"], input="{not json\n", capture_output=True, text=True, check=True).stdout
    assert "error" in json.loads(out)


@pytest.mark.slow  # the console script in a subprocess (loads the engine): its in-process twin runs in make check
def test_customers_export_csv_and_json(engine, dialogue):
    from knowledge.engine.state import ConversationState, UserTurn

    state = ConversationState(user="crm-user", lang="en")
    dialogue.respond(UserTurn("He doubts every figure and wants every promise in writing", "describe_customer"), state)
    dialogue.respond(UserTurn("save him as Mr Wu", "save_customer"), state)
    csv_out = subprocess.run(
        [COACH, "customers", "export", "--user", "crm-user", "--format", "csv"], capture_output=True, text=True, check=True
    ).stdout
    assert csv_out.splitlines()[0].startswith("name,type_id") and "Mr Wu,suspicious" in csv_out
    rows = json.loads(
        subprocess.run(
            [COACH, "customers", "export", "--user", "crm-user", "--format", "json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert rows[0]["name"] == "Mr Wu"


@pytest.mark.slow  # the console script in a subprocess (loads the engine): its in-process twin runs in make check
def test_feedback_export_gives_reviewable_training_rows(engine, dialogue):
    from knowledge.engine.state import ConversationState

    text = "客户话不多,问什么都说还行"
    state = ConversationState(user="fb-user", lang="zh", customer_notes=text, customer_type="timid_friendly")
    dialogue.corrections.correct("不对,他其实挺冷淡的", state, named="timid_hostile")
    dialogue.corrections.correct("no, more suspicious", state, named="suspicious")
    out = subprocess.run([COACH, "feedback", "export"], capture_output=True, text=True, check=True).stdout
    rows = [json.loads(x) for x in out.splitlines()]
    assert {"text": text, "type": "suspicious"} in rows
    assert sum(r["text"] == text for r in rows) == 1


# in-process: knowledge.cli.main(argv) with stdin and stdout captured, as sqlite-utils tests its CLI ----------
def call(args, stdin="", monkeypatch=None, capsys=None):
    """Run `coach ARGS` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(rows):
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)


@pytest.fixture
def coach(monkeypatch, capsys):
    return lambda *args, stdin="": call(args, stdin, monkeypatch, capsys)


def test_in_process_identify_answers_every_line_in_order(engine, coach):
    code, out, err = coach(
        "identify",
        stdin=json_lines(
            [
                {"text": "he doubts every number and wants proof in writing"},
                "{not json",
                {"text": "客户总打断我，觉得自己什么都懂"},
                "[1, 2]",
                "",
                {"text": ""},
            ]
        ),
    )
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 5, "a blank line is skipped, every other line gets exactly one line out"
    assert rows[0]["types"][0]["id"] == "suspicious" and rows[0]["needs_more_info"] is False
    assert rows[1] == {"error": rows[1]["error"]} and rows[1]["error"].startswith("not JSON")
    assert rows[2]["types"][0]["id"] == "dominant_hostile"
    assert rows[3]["needs_more_info"] is True and rows[4]["needs_more_info"] is True  # not an object / empty text


def test_in_process_score_reply_reads_context_and_lang(engine, coach):
    close = "Shall we sign the contract today?"
    code, out, _ = coach(
        "score-reply",
        stdin=json_lines(
            [
                {"type": "suspicious", "reply": close, "context": "I still do not believe those numbers"},
                {"type": "suspicious", "reply": close, "context": "Sounds great, when can I get it?"},
                {"type": "suspicious", "reply": "Here are the documents, please verify every clause.", "lang": "zh"},
                {"type": "suspicious", "reply": "Here are the documents, please verify every clause.", "lang": "fr"},
                {"type": "nonesuch", "reply": "hello"},
                {"reply": "no type at all"},
                "{broken",
            ]
        ),
    )
    assert code == 0
    doubting, keen, zh, fr, unknown, missing, broken = [json.loads(x) for x in out.splitlines()]
    assert keen["score"] > doubting["score"], "asking to sign is premature while the customer still doubts"
    assert doubting["moves"] == keen["moves"] == ["propose_close"]
    assert re.search(r"[\u4e00-\u9fff]", zh["feedback"]) and zh["feedback"].endswith("。")
    assert not re.search(r"[\u4e00-\u9fff]", fr["feedback"]), "an unknown lang falls back to the reply's language"
    assert unknown["error"].startswith("unknown type id") and unknown["score"] == 0.0
    assert missing["error"].startswith("unknown type id")
    assert broken["error"].startswith("not JSON")


def test_in_process_kb_search_in_both_languages(engine, coach):
    code, out, _ = coach("kb", "search", "折扣", "--limit", "3")
    lines = out.splitlines()
    assert code == 0 and 1 <= len(lines) <= 3
    assert all(re.match(r"^\[\w+ \S+ \S+ (en|zh)\] ", line) and "折扣" in line for line in lines)
    code, out, _ = coach("kb", "search", "discount")
    assert code == 0 and out and all("discount" in line.lower() for line in out.splitlines())
    code, out, err = coach("kb", "search", "zzqxv")
    assert code == 0 and out == "" and "no match" in err


def test_in_process_kb_show_and_unknown_type(engine, coach):
    code, out, _ = coach("kb", "show", "picky", "--lang", "zh")
    assert code == 0 and "挑剔型" in out
    code, out, err = coach("kb", "show", "grumpy")
    assert code == 2 and out == "" and "unknown type id 'grumpy'" in err and "picky" in err


def test_in_process_bad_arguments_exit_with_usage(coach, capsys):
    for args in (["nonesuch"], ["kb"], ["customers", "export"], ["kb", "show", "picky", "--lang", "fr"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
        assert "usage: coach" in capsys.readouterr().err


def test_in_process_customers_export(engine, dialogue, coach):
    from knowledge.engine.state import ConversationState, UserTurn

    user = "crm-inproc"
    state = ConversationState(user=user, lang="zh")
    dialogue.respond(UserTurn("这个客户说话特别冲，总打断我，觉得自己什么都懂", "describe_customer"), state)
    dialogue.respond(UserTurn("把他存为王总", "save_customer"), state)
    code, out, _ = coach("customers", "export", "--user", user, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["name"], r["type_id"], r["type_name"]) for r in rows] == [("王总", "dominant_hostile", "Dominant-hostile")]
    assert isinstance(rows[0]["evidence"], str) and rows[0]["evidence"]
    code, out, _ = coach("customers", "export", "--user", user)
    header, *body = out.splitlines()
    assert header == "name,type_id,type_name,evidence,notes,updated" and body[0].startswith("王总,dominant_hostile,")
    code, out, _ = coach("customers", "export", "--user", "nobody-here", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_in_process_progress_json(engine, dialogue, coach):
    user = "progress-inproc"
    code, out, _ = coach("progress", "--user", user, "--json")
    empty = json.loads(out)
    assert code == 0 and empty["sessions"] == [] and empty["weakest_type"] is None
    dialogue.practice.start(user, "en", named="picky", trade="car")
    dialogue.practice.turn(user, "I understand. Could you tell me what matters most to you?", "practice_reply", "en")
    dialogue.practice.turn(user, "end", "practice_end", "en")  # a session with a scored reply is counted
    code, out, _ = coach("progress", "--user", user, "--json")
    progress = json.loads(out)
    assert code == 0 and len(progress["sessions"]) == 1
    assert progress["sessions"][0]["type"] == "picky" and progress["weakest_type"] == "picky"
    code, out, _ = coach("progress", "--user", user)
    assert "picky" in out and "weakest type: picky" in out


# retention and deletion: `coach purge`, `coach forget` (both stores in depth: tests/test_privacy.py) ----------
@pytest.fixture
def private_stores(tmp_path, monkeypatch):
    """An app store and a tracker store of their own, named the way a deployment names them (environment)."""
    from knowledge.userdata import UserData

    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("COACH_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    return UserData()


def test_in_process_purge_and_forget_are_listed_and_check_their_arguments(coach, capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "purge" in out and "forget" in out
    for args in (["purge"], ["purge", "--older-than", "soon"], ["purge", "--older-than", "-3"], ["forget"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2 and "usage: coach" in capsys.readouterr().err


def test_in_process_forget_says_what_it_deleted_per_store(coach, private_stores):
    store = private_stores
    for user in ("mattermost:team1:u7", "mattermost:team1:u8"):
        store.save_customer(user, "王总", "dominant_hostile", ["总打断我"], "这个客户说话特别冲")
        store.add_feedback(user, "这个客户说话特别冲", "picky", "dominant_hostile")
    code, out, _ = coach("forget", "--user", "mattermost:team1:u7", "--dry-run")
    assert code == 0 and "dry run" in out and "would delete 1 saved customers, 1 corrections" in out
    assert store.customers("mattermost:team1:u7"), "a dry run deletes nothing"
    code, out, _ = coach("forget", "--user", "mattermost:team1:u7")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "forget mattermost:team1:u7: 1 sender id(s): mattermost:team1:u7"
    assert lines[1].startswith("app store sqlite:///") and "deleted 1 saved customers, 1 corrections, 0 profiles" in lines[1]
    assert lines[2].startswith("tracker store sqlite:///") and "no tracker database yet: deleted 0 events" in lines[2]
    assert store.customers("mattermost:team1:u7") == [] and store.customers("mattermost:team1:u8")
    code, out, _ = coach("forget", "--user", "u8")
    assert code == 0 and "nothing stored" in out and "similar ids: mattermost:team1:u8" in out


def test_in_process_purge_json_report(coach, private_stores):
    store = private_stores
    store.save_customer("old", "Mr Wu", "picky", [], "")
    store.write(customers.update().values(updated="2020-01-01T00:00:00+00:00"))
    store.save_customer("recent", "Mr Li", "picky", [], "")
    code, out, _ = coach("purge", "--older-than", "365", "--json")
    report = json.loads(out)
    assert code == 0 and report["dry_run"] is False and report["app_store"]["customers"] == 1
    assert report["tracker_store"] == {"where": report["tracker_store"]["where"], "events": 0, "remembered_customers": 0}
    assert store.customers("old") == [] and store.customers("recent")
