"""End to end through the REST channel of a real Rasa server and action server, in both languages."""

import json
import subprocess
import sys
import uuid

import pytest
import requests

from .conftest import ROOT, buttons, dump, texts

pytestmark = pytest.mark.e2e


def memory(servers, sender_id: str) -> dict:
    """What the conversation remembers, as the action server last stored it in the tracker."""
    return servers.tracker(sender_id)["slots"]["coach_memory"] or {}


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_greeting_in_the_language_of_the_message(servers):
    assert "sales coach" in texts(servers.say(sender("en"), "hello")).lower()
    assert "销售教练" in texts(servers.say(sender("zh"), "你好"))


def test_mixed_chinese_and_english_parses(servers):
    text = "这个客户很 picky,什么都嫌弃"
    r = requests.post(f"{servers.url}/model/parse", headers=servers.api_headers(), json={"text": text}, timeout=30)
    r.raise_for_status()
    assert r.json()["intent"]["name"] not in ("greet", "goodbye", "thank", "help", "quiz", "my_progress"), r.json()["intent"]
    reply = servers.say(sender("mixed"), text)
    assert "挑剔型" in texts(reply), dump(reply)  # whatever NLU called it, the router coaches a description


@pytest.mark.parametrize(
    "lang, description, name, follow",
    [
        (
            "en",
            "He asked three times whether the guarantee is real and wants to see proof of everything.",
            "Suspicious",
            "what should I avoid?",
        ),
        ("zh", "客户什么都要看合同原文才肯信,总担心我们在价格上做手脚", "疑心型", "要避免什么?"),
    ],
)
def test_describe_then_follow_ups(servers, engine, lang, description, name, follow):
    s = sender(lang)
    first = servers.say(s, description)
    assert name in texts(first), dump(first)
    assert "/ask_phrase" in buttons(first)
    avoid = servers.say(s, follow)
    assert engine.kb.types["suspicious"].pitfalls[0].avoid.dict()[lang] in texts(avoid), dump(avoid)
    close = servers.say(s, '/ask_stage{"stage": "closing"}')
    assert engine.kb.types["suspicious"].tactics.closing[0].dict()[lang] in texts(close)


@pytest.mark.parametrize(
    "lang, small_talk, first_question, type_name",
    [
        ("en", "tell me a joke", "my customer keeps haggling over every little flaw, what do I do?", "Picky"),
        ("zh", "今天好累啊", "客户老是挑毛病砍价,怎么办", "挑剔型"),
    ],
)
def test_small_talk_gets_the_menu_and_a_question_about_a_customer_gets_coached(servers, lang, small_talk, first_question, type_name):
    s = sender(lang)
    chat = servers.say(s, small_talk)
    assert "/list_types" in buttons(chat) and "/ask_phrase" not in buttons(chat), dump(chat)
    coached = servers.say(s, first_question)
    assert type_name in texts(coached) and "/ask_phrase" in buttons(coached), dump(coached)


@pytest.mark.slow
def test_slots_survive_a_server_restart(own_servers):
    servers = own_servers()  # restarted below: this test's own Rasa server
    s = sender("restart")
    servers.say(s, "She nitpicks every little flaw and keeps haggling over the price.")
    assert memory(servers, s)["customer_type"] == "picky"
    servers.restart_rasa()
    assert memory(servers, s)["customer_type"] == "picky"
    avoid = servers.say(s, "/ask_avoid")
    assert "With this Picky customer, avoid" in texts(avoid), dump(avoid)


def test_practice_session_through_rest(servers):
    s = sender("practice")
    start = servers.say(s, '/start_practice{"type_id": "suspicious"}')
    assert "Customer" in texts(start), dump(start)
    turn = servers.say(s, "Here is the contract and the inspection report, please check every clause yourself.")
    assert "/10" in texts(turn), dump(turn)
    end = servers.say(s, "/practice_end")
    assert "/100" in texts(end), dump(end)


@pytest.mark.parametrize("message", ["", "😀😀😀", "<script>alert(1)</script>", "x" * 10_000, "'; DROP TABLE events; --"])
def test_bad_input_never_crashes(servers, message):
    s = sender("bad")
    reply = servers.say(s, message)
    if message:  # Rasa may not run an action for an empty message; anything else gets a real answer, not []
        assert reply and all(m.get("text") for m in reply), dump(reply)
    assert "sales coach" in texts(servers.say(s, "hello")).lower()


PUSHY = {
    "en": ["Sign today or the price goes up.", "You're wrong, just buy it.", "Everyone takes this, stop thinking."],
    "zh": ["今天不签明天就涨价。", "您想错了，直接买吧。", "别犹豫了，大家都买这个。"],
}


@pytest.mark.parametrize(
    "lang, type_id, best, outcome_word",
    [
        ("en", "suspicious", True, "agreed"),
        ("zh", "timid_friendly", True, "同意"),
        ("en", "dominant_hostile", False, "walked away"),
        ("zh", "suspicious", False, "走了"),
    ],
)
def test_whole_practice_sessions(servers, dialogue, engine, lang, type_id, best, outcome_word):
    """Through REST: a trainee who makes the type's best move at each stage wins; a pushy one loses."""
    import random

    from knowledge.userdata import UserData

    store, rng, said = UserData(), random.Random(7), []
    s = sender(f"trainee-{lang}")
    servers.say(s, "hello" if lang == "en" else "你好")  # the language a button press answers in
    start = servers.say(s, f'/start_practice{{"type_id": "{type_id}"}}')
    assert engine.kb.type_name(type_id, lang) in texts(start), dump(start)
    answer: list = []
    for n in range(12):
        session = store.active_session(s)
        if not session:
            break
        if best:  # the move the type wants at this stage, as one of the move's example sentences
            st = session["state"]
            move = dialogue.practice.stage_move(type_id, st["stage"], handled=st["handled"])
            text = rng.choice([e for e in getattr(dialogue.practice.moves[move].examples, lang) if e not in said])
        else:
            text = PUSHY[lang][n % len(PUSHY[lang])]
        said.append(text)
        answer = servers.say(s, text)
    assert outcome_word in texts(answer), dump(answer)
    score = store.last_session(s)["score"]
    assert (score >= 70) if best else (score <= 35)
    progress = servers.say(s, "/my_progress")
    assert str(score) in texts(progress)


@pytest.mark.parametrize(
    "lang, thin, answers, expected",
    [
        ("en", "The customer came in at 3pm with his wife.", ["Leads", "Cold"], "Dominant-hostile"),
        ("zh", "客户是本地人,开一辆白色的车", ["被动", "友善"], "畏怯友善型"),
    ],
)
def test_thin_description_asks_two_questions_then_coaches(servers, lang, thin, answers, expected):
    s = sender("thin")
    first = servers.say(s, thin)
    assert len(buttons(first)) == 3, dump(first)
    second = servers.say(s, answers[0])
    assert len(buttons(second)) == 3, dump(second)
    done = servers.say(s, answers[1])  # two answers are enough: the coaching comes at once
    assert expected in texts(done), dump(done)


@pytest.mark.parametrize(
    "lang, describe, correction, new_name",
    [
        ("en", "She nitpicks every detail of the flat and is never satisfied.", "no, she's more suspicious", "Suspicious"),
        ("zh", "客户一直嫌这嫌那,什么都看不上", "不对,他更像疑心型", "疑心型"),
    ],
)
def test_correction_switches_the_type(servers, lang, describe, correction, new_name):
    s = sender("correct")
    servers.say(s, describe)
    fixed = servers.say(s, correction)
    assert new_name in texts(fixed), dump(fixed)
    # the type is named outright, so it is kept at once (issue 22); a described correction is offered instead
    assert memory(servers, s)["customer_type"] == "suspicious" and not memory(servers, s)["proposed_type"]
    assert '/start_practice{"type_id": "suspicious"}' in buttons(fixed)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("how do I win back a lost customer?", "win"),
        ("客户投诉怎么处理?", "投诉"),
        ("what types are there?", "13"),
    ],
)
def test_knowledge_questions(servers, question, expected):
    assert expected in texts(servers.say(sender("kb"), question)).lower()


def test_named_customers_and_fresh_start(servers):
    s = sender("crm")
    servers.say(s, "Sarcastic guy, mocks everything we offer and laughs at our prices.")
    assert "Mr Zhang" in texts(servers.say(s, "save him as Mr Zhang"))
    assert "Mr Zhang" in texts(servers.say(s, "my customers"))
    servers.say(s, "another customer")
    assert memory(servers, s)["customer_type"] is None
    recalled = servers.say(s, "coach me on Mr Zhang")
    assert "Mr Zhang" in texts(recalled), dump(recalled)
    assert memory(servers, s)["customer_type"] == "caustic"


@pytest.mark.slow
def test_practice_survives_a_restart_and_progress_exports(own_servers, var_dir):
    import json
    import subprocess
    import sys
    from pathlib import Path

    servers = own_servers()  # restarted below: this test's own Rasa server
    s = sender("restart-practice")
    servers.say(s, '/start_practice{"type_id": "deliberate"}')
    servers.restart_rasa()
    turn = servers.say(s, "Let me walk you through the pros and cons of each option, with the numbers side by side.")
    assert "/10" in texts(turn), dump(turn)
    end = servers.say(s, "/practice_end")
    assert "/100" in texts(end), dump(end)
    coach = str(Path(sys.executable).parent / "coach")
    out = subprocess.run([coach, "progress", "--user", s, "--json"], capture_output=True, text=True, check=True).stdout
    sessions = json.loads(out)["sessions"]
    assert sessions[-1]["type"] == "deliberate" and 0 <= sessions[-1]["score"] <= 100


def test_quiz_through_buttons(servers):
    s = sender("quiz")
    servers.say(s, "hello")
    quiz = servers.say(s, "quiz me")
    options = [p for p in buttons(quiz) if p.startswith("/quiz_answer")]
    assert len(options) == 4, dump(quiz)
    expected = memory(servers, s)["quiz_type"]
    answer = servers.say(s, next(p for p in options if expected in p))
    assert "Right" in texts(answer), dump(answer)


def test_a_socket_io_widget_is_answered(servers):
    """Rasa's socket.io channel (any Rasa web chat widget) as bot/credentials.yml configures it: answered in its
    session's room; a session id of another channel's conversation is refused. The refused message is sent first on
    the same connection, so once the widget's own answer has arrived it would have been handled too: its
    conversation must not exist."""
    import socketio

    session, foreign = sender("sio"), f"web-{uuid.uuid4().hex}"
    client = socketio.SimpleClient()
    client.connect(servers.url, transports=["websocket", "polling"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": foreign})  # not joined: it belongs to the web chat
        client.emit("user_uttered", {"message": "hello", "session_id": foreign})
        client.emit("session_request", {"session_id": session})  # joins the room the answers go to
        client.emit("user_uttered", {"message": "hello", "session_id": session})
        while True:
            event, data = client.receive(timeout=60)
            if event == "bot_uttered":
                break
    finally:
        client.disconnect()
    assert data.get("text")
    assert [e for e in servers.tracker(session)["events"] if e["event"] == "user"]
    assert [e for e in servers.tracker(foreign)["events"] if e["event"] == "user"] == []


CONVERSE = ROOT.parent / "shared" / "eval" / "converse.py"  # the shared conversation player (../shared/eval)


@pytest.mark.parametrize("part", ["dev", "heldout"])
def test_understanding_conversations_pass(servers, part):
    """Issue 22's conversations (tests/data/understanding: every failure class, several phrasings, both languages),
    played by the shared player against the running coach: every one passes."""
    if not CONVERSE.exists():
        pytest.skip(f"{CONVERSE} is not here (the shared evaluation folder sits beside the project)")
    data = ROOT / "tests" / "data" / "understanding" / f"{part}.yaml"
    done = subprocess.run(
        [sys.executable, str(CONVERSE), "--data", str(data), "--url", f"{servers.url}/webhooks/rest/webhook"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["passed"] == result["conversations"], done.stdout[-3000:]


def test_the_api_story_and_predict_read_the_whole_conversation(servers):
    """The tracker store reads a bounded tail only while handling a message (bot/tracker_store.py); the HTTP API's
    story and predict routes get every turn of the session, as from Rasa's own store."""
    from bot.tracker_store import TAIL_USER_TURNS

    s = sender("story")
    said = ["hello", "he keeps interrupting me", "what should I avoid?", "how do I close?", "thanks", "hello again", "bye"]
    assert len(said) > 2 * TAIL_USER_TURNS
    for message in said:
        servers.say(s, message)
    story = requests.get(f"{servers.url}/conversations/{s}/story", headers=servers.api_headers(), timeout=30)
    assert story.status_code == 200
    assert all(f"user: |-\n      {m}" in story.text or f"user: {m}" in story.text for m in said), story.text
    predicted = requests.post(f"{servers.url}/conversations/{s}/predict", headers=servers.api_headers(), timeout=30)
    assert predicted.status_code == 200
    users = [e["text"] for e in predicted.json()["tracker"]["events"] if e["event"] == "user"]
    assert users == said
