"""The `coach` command's JSON-lines contract, as ../shared/eval/score.py uses it."""
import json
import subprocess
import sys
from pathlib import Path

COACH = str(Path(sys.executable).parent / "coach")


def run(args, lines):
    payload = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    out = subprocess.run([COACH, *args], input=payload, capture_output=True, text=True, check=True).stdout
    return [json.loads(x) for x in out.splitlines()]


def test_help_lists_every_subcommand():
    out = subprocess.run([COACH, "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("kb", "identify", "score-reply", "customers", "feedback", "progress"):
        assert name in out


def test_identify_one_line_out_per_line_in(engine):
    rows = run(["identify"], [{"text": "客户不太相信销售,担心我们在价格上做手脚"}, {"text": "She has two kids."}, {"nope": 1}])
    assert len(rows) == 3
    assert rows[0]["types"][0]["id"] == "suspicious" and rows[0]["needs_more_info"] is False
    assert all(0 <= t["score"] <= 1 for t in rows[0]["types"])
    assert rows[0]["evidence"]
    assert rows[1]["needs_more_info"] is True and rows[2]["needs_more_info"] is True


def test_score_reply_contract(engine):
    rows = run(["score-reply"], [
        {"type": "suspicious", "reply": "Here is the signed warranty and the inspection report to check."},
        {"type": "suspicious", "reply": "Just trust me."},
        {"type": "grumpy", "reply": "hello"},
    ])
    assert rows[0]["score"] > rows[1]["score"]
    assert rows[0]["feedback"] and rows[2]["error"].startswith("unknown type id")


def test_malformed_json_line_gets_an_error_line(engine):
    out = subprocess.run([COACH, "identify"], input="{not json\n", capture_output=True, text=True, check=True).stdout
    assert "error" in json.loads(out)


def test_customers_export_csv_and_json(engine, dialogue):
    from knowledge.engine.state import ConversationState, UserTurn

    state = ConversationState(user="crm-user", lang="en")
    dialogue.respond(UserTurn("He doubts every figure and wants every promise in writing", "describe_customer"), state)
    dialogue.respond(UserTurn("save him as Mr Wu", "save_customer"), state)
    csv_out = subprocess.run([COACH, "customers", "export", "--user", "crm-user", "--format", "csv"],
                             capture_output=True, text=True, check=True).stdout
    assert csv_out.splitlines()[0].startswith("name,type_id") and "Mr Wu,suspicious" in csv_out
    rows = json.loads(subprocess.run([COACH, "customers", "export", "--user", "crm-user", "--format", "json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert rows[0]["name"] == "Mr Wu"


def test_feedback_export_gives_reviewable_training_rows(engine, dialogue):
    from knowledge.engine.state import ConversationState

    text = "客户话不多,问什么都说还行"
    state = ConversationState(user="fb-user", lang="zh", customer_notes=text, customer_type="timid_friendly")
    dialogue.coach.correct("不对,他其实挺冷淡的", state, named="timid_hostile")
    dialogue.coach.correct("no, more suspicious", state, named="suspicious")
    out = subprocess.run([COACH, "feedback", "export"], capture_output=True, text=True, check=True).stdout
    rows = [json.loads(x) for x in out.splitlines()]
    assert {"text": text, "type": "suspicious"} in rows
    assert sum(r["text"] == text for r in rows) == 1
