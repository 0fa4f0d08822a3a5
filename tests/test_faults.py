"""Reliability through the real servers (issue 18): bad input at every entry point, the action server or the Rasa
server dying mid-conversation, a broken build at start, and a short load run (scripts/soak.py, `make soak` full size)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import requests

from bot.action_fallback import TEXT_KEY, ui_text
from knowledge.engine.answer import Answer
from knowledge.engine.wording import finish

from .conftest import BIN, ROOT, free_port, texts

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(ROOT / "scripts"))


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def memory(servers, s: str) -> Dict:
    return servers.tracker(s)["slots"].get("coach_memory") or {}


# bad input -------------------------------------------------------------------------------------------------------
def body(message: object, **extra: object) -> bytes:
    return json.dumps({"sender": "SENDER", "message": message, **extra}).encode()


REST_CASES: List[Tuple[str, bytes, int]] = [  # (kind, raw body, expected status); SENDER is replaced per case
    ("empty body", b"", 400),
    ("not JSON", b"{not json", 400),
    ("invalid UTF-8", b'{"sender": "SENDER", "message": "\xff\xfe bad"}', 400),
    ("JSON array", b'["SENDER", "hi"]', 400),
    ("JSON string", b'"hello"', 400),
    ("message is a number", body(5), 400),
    ("message is null", body(None), 400),
    ("message is a list", body(["a", "b"]), 400),
    ("message is an object", body({"text": "hi"}), 400),
    ("no sender", b'{"message": "hi"}', 400),
    ("sender is a number", b'{"sender": 12, "message": "hi"}', 400),
    ("sender with control characters", b'{"sender": "a\\u0000b", "message": "hi"}', 400),
    ("sender too long", json.dumps({"sender": "x" * 500, "message": "hi"}).encode(), 400),
    ("metadata is a string", body("hi", metadata="x"), 400),
    ("message of 1 MB", body("a" * 1_000_000), 413),
    ("message over 20,000 characters", body("客" * 20_001), 413),
    ("a sender of the web chat", b'{"sender": "web-00000000000000000000000000000000", "message": "hi"}', 403),
    ("empty message", body(""), 200),
    ("only spaces", body("   \n\t "), 200),
    ("only control characters", body("\u0000\u0007\u001b"), 200),
    ("message of 10,000 characters", body("x" * 10_000), 200),
    ("control characters", body("he keeps\u0000 interrupting\u0007 me \u001b[31m and knows better"), 200),
    ("lone surrogate", b'{"sender": "SENDER", "message": "he doubts everything \\ud800 I say"}', 200),
    ("markup", body("<script>alert(1)</script><b>he</b> keeps interrupting me"), 200),
    ("emoji only", body("\U0001f600\U0001f44d"), 200),
    ("unknown intent payload", body("/no_such_intent"), 200),
    ("payload with broken JSON", body('/describe_customer{"type_id": '), 200),
    ("payload with wrong entity types", body('/start_practice{"type_id": 5, "name": ["x"]}'), 200),
    ("payload for an unknown type", body('/start_practice{"type_id": "dragon"}'), 200),
    ("unknown fields", body("hello", input_channel="webchat", extra={"a": 1}), 200),
]


@pytest.mark.parametrize("kind, raw, status", REST_CASES, ids=[c[0] for c in REST_CASES])
def test_bad_rest_input_gets_a_clear_answer_or_a_4xx(servers, kind, raw, status):
    s = sender("bad")
    servers.say(s, "hello")
    try:
        r = requests.post(
            f"{servers.url}/webhooks/rest/webhook",
            data=raw.replace(b"SENDER", s.encode()),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        got = r.status_code
    except requests.ConnectionError:  # Sanic may drop the socket of a too-large body: that is its 413
        got, r = 413, None
    print(f"REST {kind}: {got}")
    assert got == status, (kind, got, r.text[:300] if r is not None else "")
    if r is not None and status != 200:
        assert r.json()["error"]
    if r is not None and status == 200:
        answer = texts(r.json())
        assert answer.strip(), f"{kind}: no answer"
        assert "<script>" not in answer and "\x00" not in answer
    # nothing stored broken: the conversation goes on (whatever mode the input put it in), its tracker reads back
    assert texts(servers.say(s, "hello")).strip()
    events = servers.tracker(s)["events"]
    stored = [e.get("text") or "" for e in events if e.get("event") == "user"]
    assert all("\x00" not in t and "\ud800" not in t for t in stored)


WEBCHAT_CASES = [
    ("control characters", {"text": "she doubts\u0000 every\u0007 number"}, 200),
    ("lone surrogate", '{"text": "she doubts \\ud800 everything"}', 200),
    ("markup", {"text": "<img src=x onerror=alert(1)> she haggles over every price"}, 200),
    ("unknown payload", {"text": '/no_such_intent{"x": 1}'}, 200),
    ("wrong types", {"text": "hi", "lang": 5}, 400),
    ("title over the limit", {"text": "hi", "title": "t" * 500}, 413),
]


@pytest.mark.parametrize("kind, payload, status", WEBCHAT_CASES, ids=[c[0] for c in WEBCHAT_CASES])
def test_bad_web_chat_input_gets_a_clear_answer_or_a_4xx(servers, kind, payload, status):
    visitor = requests.Session()
    visitor.get(f"{servers.url}/chat/", timeout=30)
    data = payload if isinstance(payload, str) else json.dumps(payload)
    r = visitor.post(f"{servers.url}/chat/api/message", data=data, headers={"Content-Type": "application/json"}, timeout=60)
    print(f"web chat {kind}: {r.status_code}")
    assert r.status_code == status, (kind, r.status_code, r.text[:300])
    if status == 200:
        shown = " ".join(m["text"] for m in r.json()["messages"])
        assert shown.strip() and "<img" not in shown
    history = visitor.get(f"{servers.url}/chat/api/history", timeout=30)
    assert history.status_code == 200


CLI_CASES = {  # command -> (kind, one stdin line); one process per command reads them all, one JSON line out per line
    "identify": [
        ("not JSON", b"{not json"),
        ("a JSON array", b"[1, 2]"),
        ("text is a number", b'{"text": 5}'),
        ("text is null", b'{"text": null}'),
        ("markup and control characters", b'{"text": "<b>he</b> doubts\\u0000 everything"}'),
        ("1 MB of text", json.dumps({"text": "a" * 1_000_000}).encode()),
        ("invalid UTF-8", b'{"text": "\xff\xfe he doubts"}'),
        ("a lone surrogate", b'{"text": "he doubts \\ud800 everything"}'),
    ],
    "score-reply": [
        ("unknown type", b'{"type": "dragon", "reply": "hi"}'),
        ("reply is a list", b'{"type": "suspicious", "reply": ["x"]}'),
        ("no reply", b'{"type": "suspicious"}'),
    ],
}


@pytest.mark.parametrize("command", list(CLI_CASES))
def test_bad_cli_input_gets_an_error_line_never_a_traceback(var_dir, command):
    from knowledge.app import engine

    engine()  # the CLI only loads: build the test var dir's store and models first (a no-op when built)
    cases = CLI_CASES[command]
    stdin = b"\n\n".join(line for _, line in cases) + b"\n"  # blank lines between: skipped, as documented
    env = {**os.environ, "COACH_VAR_DIR": str(var_dir)}
    done = subprocess.run([str(BIN / "coach"), command], input=stdin, capture_output=True, env=env, timeout=300)
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    for (kind, _), line in zip(cases, lines, strict=False):  # a missing line fails the count below
        print(f"coach {command}, {kind}: {line[:100]}")
    assert "Traceback" not in done.stderr.decode("utf-8", "replace"), done.stderr[-1500:]
    assert done.returncode == 0 and len(lines) == len(cases), (done.returncode, lines)
    for line in lines:
        json.loads(line)  # every output line is JSON: a result or an error object


# the action server down mid-conversation --------------------------------------------------------------------------
def expected_apology(lang: str, script: str = "hans") -> str:
    return finish(Answer().say(getattr(ui_text().texts[TEXT_KEY], lang)), lang, script, "they").text


@pytest.mark.slow
def test_action_server_down_gets_a_try_again_in_the_users_language_then_the_conversation_goes_on(own_servers):
    servers = own_servers(actions=True)  # this test kills the action server: its own, never the shared one
    s = sender("down")
    first = servers.say(s, "She doubts every number I give her and wants proof for each claim.")
    assert "Ms Down" in texts(servers.say(s, "save her as Ms Down")), texts(first)
    before = memory(servers, s)
    assert before.get("customer_type")
    servers.actions.send_signal(signal.SIGKILL)
    servers.actions.wait()
    try:
        checks = [
            ("what should I avoid with her?", "en", "hans"),
            ("她这种客户怎么成交？", "zh", "hans"),
            ("她這種客戶怎麼成交？", "zh", "hant"),
            ("/ask_avoid", "en", "hans"),
        ]
        for message, lang, script in checks:
            t0 = time.time()
            reply = servers.say(s, message)
            print(f"action server down, {message!r}: {texts(reply)!r} in {time.time() - t0:.1f} s")
            assert texts(reply) == expected_apology(lang, script), (message, reply)
        assert memory(servers, s) == before  # nothing forgotten while the server was away
    finally:
        servers.start_actions()
    after = servers.say(s, "what should I avoid with her?")
    assert texts(after) and texts(after) != expected_apology("en"), after
    assert memory(servers, s).get("customer_type") == before["customer_type"]
    assert "Ms Down" in texts(servers.say(s, "my customers"))


# the Rasa server killed and restarted -----------------------------------------------------------------------------
@pytest.mark.slow
def test_rasa_killed_and_restarted_keeps_trackers_customers_and_practice(own_servers):
    from knowledge.app import userdata

    servers = own_servers()  # this test kills its Rasa server: its own, never the shared one

    s = sender("crash")
    servers.say(s, "He keeps interrupting me and says he knows better than me.")
    servers.say(s, "save him as Mr Crash")
    servers.say(s, '/start_practice{"type_id": "suspicious"}')
    servers.say(s, "Here is the contract and the inspection report, please check every clause yourself.")
    tracker = servers.tracker(s)
    session = userdata().active_session(s)
    assert session and session["turns"] == 1
    servers.rasa.send_signal(signal.SIGKILL)  # no clean shutdown
    servers.rasa.wait()
    servers.start_rasa()
    again = servers.tracker(s)
    assert len(again["events"]) >= len(tracker["events"]) and again["slots"] == tracker["slots"]
    servers.say(s, "I understand. Could you tell me what matters most to you?")
    assert userdata().active_session(s)["turns"] == 2  # the same session goes on
    servers.say(s, "/practice_end")
    assert [x["turns"] for x in userdata().progress(s)["sessions"]] == [2]
    assert "Mr Crash" in texts(servers.say(s, "my customers"))


# a broken build at start ------------------------------------------------------------------------------------------
def test_action_server_with_damaged_models_stops_with_the_file_and_the_command(var_dir, servers, tmp_path):
    """Missing files are rebuilt at start (knowledge/app.py); a damaged one with the right name cannot be, so it must
    stop the server at once with a message naming the file and the command."""
    from knowledge import paths
    from knowledge.loader import content_hash

    broken = tmp_path / "var"
    broken.mkdir()
    model_name = paths.models_path(content_hash()).name
    shutil.copy2(var_dir / "knowledge.db", broken / "knowledge.db")
    (broken / model_name).write_bytes(b"not a pickle")
    env = {**servers.env, "COACH_VAR_DIR": str(broken)}
    proc = subprocess.run(
        [str(BIN / "python"), "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    print("damaged models:", message)
    assert proc.returncode != 0
    assert model_name in proc.stderr and "coach kb build" in proc.stderr and "Traceback" not in proc.stderr


def test_run_sh_refuses_a_missing_or_damaged_model(tmp_path):
    script = (ROOT / "scripts" / "run.sh").read_text()
    work = tmp_path / "project"
    (work / "scripts").mkdir(parents=True)
    (work / "var" / "models").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "api-token.sh", work / "scripts" / "api-token.sh")
    (work / "scripts" / "run.sh").write_text(script)
    env = {"PATH": os.environ["PATH"], "COACH_JWT_SECRET": "x" * 32, "COACH_ACTION_SECRET": "y" * 32}
    missing = subprocess.run(["bash", "scripts/run.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "make train" in missing.stderr, missing.stderr
    (work / "var" / "models" / "20260101-000000-broken.tar.gz").write_bytes(b"not gzip")
    damaged = subprocess.run(["bash", "scripts/run.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert damaged.returncode != 0 and "broken.tar.gz" in damaged.stderr and "make train" in damaged.stderr, damaged.stderr


# load -------------------------------------------------------------------------------------------------------------
def test_short_load_run_has_no_errors_and_records_everything_once(servers):
    """10 concurrent conversations x 6 turns, both languages, coaching and practice (`make soak`: 50 x 20)."""
    from soak import soak

    figures = soak(servers.url, conversations=10, turns=6)
    print("load:", json.dumps(figures))
    assert figures["errors"] == 0 and figures["unanswered"] == 0 and figures["record_problems"] == 0, figures
    assert figures["saved_customers"] == 10 and figures["practice_sessions"] == 10, figures


def test_soak_script_prints_one_json_line_at_the_end(servers):
    done = subprocess.run(
        [str(BIN / "python"), str(ROOT / "scripts" / "soak.py"), "--url", servers.url, "--conversations", "2", "--turns", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and last["errors"] == 0 and last["conversations"] == 2, done.stdout[-2000:]
    assert Path(ROOT / "scripts" / "soak.py").exists()
