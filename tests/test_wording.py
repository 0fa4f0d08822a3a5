"""The last touch on answers: pronouns, script, Chinese punctuation, short quotes; and the wording data itself."""

import re

import pytest

from knowledge.engine.answer import Answer, split_bubble
from knowledge.engine.wording import finish, fit_pronoun, full_width, pronoun_in, script_of, short_quote
from knowledge.loader import load_yaml

SHE, HE = ["she", "her", "lady", "她", "阿姨"], ["he", "him", "his", "guy", "他", "先生"]
HALF_WIDTH_NEAR_HAN = re.compile(r"[\u4e00-\u9fff][,!?:;()]|[,!?:;(][\u4e00-\u9fff]|\"[^\"]*[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("she keeps asking what the other mums bought", "she"),
        ("the lady wants the cheapest SUV", "she"),
        ("he argues with everything", "he"),
        ("他老是打断我", "he"),
        ("一个阿姨，问什么都说随便", "she"),
        ("the customer wants proof", None),
        ("其他人都买了", None),
    ],
)
def test_the_customer_pronoun_is_read_from_the_message(text, expected):
    assert pronoun_in(text, SHE, HE) == expected


def test_content_is_fitted_to_her_and_him():
    assert fit_pronoun("Let him speak first; build on his point.", "she", "en") == "Let her speak first; build on her point."
    assert fit_pronoun("Ask her what she needs and give her time.", "he", "en") == "Ask him what he needs and give him time."
    assert fit_pronoun("Ask her budget.", "he", "en") == "Ask his budget."
    assert fit_pronoun("让他先说，其他人等一等", "she", "zh") == "让她先说，其他人等一等"
    assert fit_pronoun("Let them speak first.", "they", "en") == "Let them speak first."


def test_script_follows_the_writer():
    assert script_of("這位客戶什麼都要挑毛病", "hans") == "hant"
    assert script_of("这位客户什么都要挑毛病", "hant") == "hans"
    assert script_of("好", "hant") == "hant"  # one character says nothing
    reply = finish(Answer(bubbles=["这个客户为什么说话"], buttons=[("怎么说", "/ask_phrase")]), "zh", "hant", "they")
    assert reply.bubbles == ["這個客戶為什麼說話"] and reply.buttons[0][0] == "怎麼說"


def test_chinese_punctuation_is_full_width():
    assert full_width('依据:他说"太贵了",然后走了(没回头)') == "依据：他说“太贵了”，然后走了（没回头）"
    assert full_width("识别关键词： 理性， 做过功课") == "识别关键词：理性，做过功课"
    assert full_width("Score 7.5/10, ok") == "Score 7.5/10, ok"


def test_quotes_are_short():
    assert len(short_quote("he keeps interrupting me " * 20, "en")) <= 71
    assert short_quote("客户很挑剔" * 50, "zh").endswith("…")
    assert short_quote("he doubts every number", "en") == "he doubts every number"


def test_a_lone_bullet_does_not_get_its_own_bubble():
    text = "Avoid:\n" + "\n".join(f"• {'x' * 180} {n}" for n in range(4))
    bubbles = split_bubble(text)
    assert all("\n" in b for b in bubbles)


def test_chinese_interface_wording_uses_full_width_punctuation(engine):
    bad = {key: t.zh for key, t in engine.kb.ui.texts.items() if HALF_WIDTH_NEAR_HAN.search(t.zh)}
    assert not bad, bad


def test_english_templates_are_article_safe(engine):
    bad = {key: t.en for key, t in engine.kb.ui.texts.items() if re.search(r"\ba \{(name|type)\}", t.en)}
    assert not bad, bad


def test_chinese_content_uses_full_width_punctuation():
    """Every Chinese string a user can read (sources cite the seeds' own headings and are exempt)."""
    import glob

    def strings(node, key=""):
        if isinstance(node, str):
            if key not in ("sources", "file", "section", "general_knowledge"):
                yield node
        elif isinstance(node, dict):
            for k, v in node.items():
                yield from strings(v, key if k in ("en", "zh") else str(k))
        elif isinstance(node, list):
            for v in node:
                yield from strings(v, key)

    bad = []
    for path in sorted(glob.glob("knowledge/content/**/*.yaml", recursive=True)):
        if path.endswith("terms.yaml"):
            continue
        with open(path, encoding="utf-8") as f:
            bad += [(path, s) for s in strings(load_yaml(f)) if HALF_WIDTH_NEAR_HAN.search(s) and '"' not in s]
    assert not bad, bad[:5]


def test_plain_text_payloads_follow_the_script_and_intent_payloads_keep_their_ids():
    """The channel sends a plain payload back as the user's message: it must be in the user's script."""
    reply = Answer().say("选一个")
    reply.buttons = [("被动", "被动"), ("跳过", "跳过"), ("统御敌对型", '/correct_type{"type_id": "dominant_hostile"}')]
    fitted = finish(reply, "zh", "hant", "they")
    assert fitted.buttons[:2] == [("被動", "被動"), ("跳過", "跳過")]
    assert fitted.buttons[2][1] == '/correct_type{"type_id": "dominant_hostile"}'


def test_type_names_stay_whole_in_traditional(engine):
    """OpenCC segments the whole text: 「对表面热心型」 once became 「對錶面熱心型」 (对表, to set a watch)."""
    from knowledge.engine.answer import Answer
    from knowledge.engine.wording import finish

    names = [engine.kb.type_name(t, "zh") for t in engine.kb.types]
    reply = finish(Answer().say("这位客户更像对表面热心型的，不像对深思熟虑型的"), "zh", "hant", "he", names)
    assert "表面熱心型" in reply.text and "錶" not in reply.text and "深思熟慮型" in reply.text
