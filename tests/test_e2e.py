"""End to end through the REST channel of a real Rasa server and action server, in both languages."""
import uuid

import pytest
import requests

from .conftest import buttons, dump, texts

pytestmark = pytest.mark.e2e


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_greeting_in_the_language_of_the_message(servers):
    assert "sales coach" in texts(servers.say(sender("en"), "hello")).lower()
    assert "销售教练" in texts(servers.say(sender("zh"), "你好"))


def test_mixed_chinese_and_english_parses(servers):
    r = requests.post(f"{servers.url}/model/parse", params={"token": servers.token}, json={"text": "这个客户很 picky,什么都嫌弃"}, timeout=30)
    r.raise_for_status()
    assert r.json()["intent"]["name"]


@pytest.mark.parametrize("lang, description, name, follow", [
    ("en", "He asked three times whether the guarantee is real and wants to see proof of everything.", "Suspicious",
     "what should I avoid?"),
    ("zh", "客户什么都要看合同原文才肯信,总担心我们在价格上做手脚", "疑心型", "要避免什么?"),
])
def test_describe_then_follow_ups(servers, engine, lang, description, name, follow):
    s = sender(lang)
    first = servers.say(s, description)
    assert name in texts(first), dump(first)
    assert "/ask_phrase" in buttons(first)
    avoid = servers.say(s, follow)
    assert engine.kb.types["suspicious"].pitfalls[0].avoid.dict()[lang] in texts(avoid), dump(avoid)
    close = servers.say(s, '/ask_stage{"stage": "closing"}')
    assert engine.kb.types["suspicious"].tactics.closing[0].dict()[lang] in texts(close)


def test_slots_survive_a_server_restart(servers):
    s = sender("restart")
    servers.say(s, "She nitpicks every little flaw and keeps haggling over the price.")
    assert servers.tracker(s)["slots"]["customer_type"] == "picky"
    servers.restart_rasa()
    assert servers.tracker(s)["slots"]["customer_type"] == "picky"
    avoid = servers.say(s, "/ask_avoid")
    assert "Picky" in texts(avoid) or "picky" in texts(avoid).lower()


def test_practice_session_through_the_form(servers):
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
    assert isinstance(reply, list)
    assert "sales coach" in texts(servers.say(s, "hello")).lower()
