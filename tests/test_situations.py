"""Mid-sale situations: recognised in questions and reports in both languages, never in plain character
descriptions, and answered for every type from situations.yaml (not the card, not the avoid list)."""

import re
from pathlib import Path

import pytest
import yaml

from knowledge.engine.situations import find_situation, situation_ids, situation_reply
from knowledge.loader import ContentError, load_situations, load_taxonomy, load_yaml
from knowledge.paths import CONTENT_DIR

MESSAGES = {
    "stall": {
        "en": [
            "she said she'll think about it",
            "what if he says he needs to think it over?",
            "he told me he wants to sleep on it",
            "what do I do when she says she's not ready yet?",
        ],
        "zh": ["她说要回去考虑考虑", "客户说还没想好，再想想", "如果他说要考虑一下怎么办？", "他说以后再说吧"],
    },
    "ask_time": {
        "en": [
            "he asked for a few more days",
            "she wants more time before deciding",
            "he said call him back next week",
            "what if she asks me to get back to her next month?",
        ],
        "zh": ["客户说下周再联系", "他让我多给点时间", "她说过几天再说，要我下周再打给她", "客户要求宽限几天怎么办"],
    },
    "walk_out": {
        "en": ["what if he walks out?", "he just walked out", "she hung up on me", "he's threatening to leave"],
        "zh": ["他说不要了转身就走", "客户直接把电话挂了", "如果他要走人怎么办？", "刚才客户掉头就走了"],
    },
    "bring_someone": {
        "en": [
            "what if she brings her sister along",
            "he brought his wife today",
            "she needs to check with her boss first",
            "he wants to ask his partner before deciding",
        ],
        "zh": ["他把老婆带来了", "她说要问问她老公", "客户带着他妹妹来了", "他说要回家跟家里人商量一下"],
    },
    "competitor": {
        "en": [
            "he got a cheaper quote from another dealer",
            "what if she compares us with the competition?",
            "he says the other company offered him a better deal",
            "she's shopping around",
        ],
        "zh": ["客户说别家更便宜", "他拿竞品跟我们比", "如果客户说另一家报价更低怎么办", "她在货比三家"],
    },
    "silence": {
        "en": ["she stopped answering my messages", "he's ghosting me", "what if he goes quiet?", "he hasn't replied in days"],
        "zh": ["客户突然不回消息了", "他已读不回", "她电话也不接，联系不上了", "发了资料一直没回复"],
    },
    "buying_signal": {
        "en": [
            "he finally asked about financing",
            "she asked when we can deliver",
            "he wanted to know which colours it comes in",
            "she asked whether she can pay in installments",
        ],
        "zh": ["他终于问到贷款了", "客户问什么时候能交货", "她问能不能分期", "他问有几种颜色"],
    },
    "upset": {
        "en": [
            "she's angry now because delivery is late",
            "he's furious, we made a mistake on the invoice",
            "the customer is upset about the delay",
            "what do I do, he filed a complaint",
        ],
        "zh": ["交车晚了客户很生气", "客户投诉了", "我们搞错了，他很恼火", "客户发火了，说要退款"],
    },
    # persona 3 (insurance, Traditional): claims questions got the product pitch; both scripts on purpose
    "claims_worry": {
        "en": [
            "what if they worry the claim won't be paid",
            "she heard insurers never pay out",
            "how do I explain the claims process to him?",
        ],
        "zh": ["那理賠呢？很怕買了出事不理賠", "她听朋友说保险公司都不赔怎么办", "客户担心出险以后拒赔，我该怎么讲"],
    },
    "deposit": {
        "en": [
            "he asked if the deposit is refundable",
            "what if she wants to pay a deposit to hold it?",
            "should I ask him for a holding fee?",
        ],
        "zh": ["客户问定金能不能退", "她想先交訂金留著，我要怎麼說", "如果他问要不要先付订金怎么办"],
    },
}

# talking to or winning over a customer's parents or family is the bring-someone situation
FAMILY = {
    "en": ["how do I talk to her parents?", "what if his parents don't agree?", "how can I win over her family?"],
    "zh": ["我怎么跟他爸妈说", "要怎麼說服她的父母", "如果她家人不同意怎么办"],
}

DESCRIPTIONS = [
    "he doubts every number",
    "he asks a lot of questions about the fine print and wants everything in writing",
    "he is in his 50s and runs a small factory",
    "he keeps interrupting me and says he knows better",
    "she's sweet and agreeable, says yes to everything, but can't bring herself to sign",
    "she keeps asking what the other mums at school bought",
    "he always goes quiet when we talk numbers",
    "Complains about every small scratch and keeps asking for a lower price.",
    "not quite, he's more deliberate, he just takes his time to think through everything",
    "客户不太相信销售,总担心我们在价格上做手脚",
    "不对，他更像是拖着不做决定的那种",
    "这个客户说话特别冲，总打断我，觉得自己什么都懂",
    "客户一进门就冷着脸，问什么都不怎么回应",
    "他总是不回消息，性格比较冷淡",
    "预算在一百五十万左右,首付准备了五十万",
    "he didn't walk out, he stayed until the end",
]


@pytest.fixture(scope="module")
def kb(engine):
    return engine.kb


@pytest.mark.parametrize("situation_id", list(MESSAGES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_situation_found_in_questions_and_reports(kb, situation_id, lang):
    for text in MESSAGES[situation_id][lang]:
        assert find_situation(kb, text) == situation_id, text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_talking_to_the_family_is_bringing_someone(kb, lang):
    for text in FAMILY[lang]:
        assert find_situation(kb, text) == "bring_someone", text


NOT_CLAIMS = [
    "he claims he's busy this week",
    "她保費很在意，說一個月三千塊太貴了",
    "he thinks insurance is too expensive to pay every month",
]


def test_a_claims_word_in_another_sense_is_no_situation(kb):
    """'claims' as 'says' and a premium question are not a claims worry."""
    for text in NOT_CLAIMS:
        assert find_situation(kb, text) is None, text


def test_traditional_chinese_is_understood(kb):
    assert find_situation(kb, "她說要回去考慮考慮") == "stall"
    assert find_situation(kb, "客戶突然不回訊息了") == "silence"


@pytest.mark.parametrize("text", DESCRIPTIONS)
def test_plain_descriptions_are_not_situations(kb, text):
    assert find_situation(kb, text) is None


def test_every_situation_has_test_messages(kb):
    assert set(MESSAGES) == set(situation_ids(kb))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_type_answers_every_situation(kb, lang):
    for type_id in kb.types:
        for situation_id in situation_ids(kb):
            advice = kb.situations.by_type[type_id][situation_id]
            reply = situation_reply(kb, type_id, situation_id, lang)
            text = reply.text
            assert kb.type_name(type_id, lang) in reply.bubbles[0]
            assert all(b in text for b in getattr(advice.advice, lang))
            assert getattr(advice.phrase, lang) in reply.bubbles[-1]
            assert not reply.buttons and all(len(b) <= 600 for b in reply.bubbles)
            assert "{" not in text and "}" not in text


def test_answers_differ_between_types_and_situations(kb):
    texts = {(t, s): situation_reply(kb, t, s, "en").text for t in kb.types for s in situation_ids(kb)}
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize("type_id", ["dominant_hostile", "timid_friendly", "suspicious"])
def test_walk_out_answer_is_not_the_avoid_list(kb, type_id):
    for lang in ("en", "zh"):
        text = situation_reply(kb, type_id, "walk_out", lang).text
        avoid = [getattr(p.avoid, lang) for p in kb.types[type_id].pitfalls]
        assert not any(a in text for a in avoid)
        assert kb.text("avoid_for", lang, name=kb.type_name(type_id, lang)) not in text


def test_content_is_phone_sized_neutral_and_full_width(kb):
    half_width = re.compile(r"[,.:;!?()]")
    pronoun = re.compile(r"\b(he|she|him|her|his|hers|himself|herself)\b", re.I)
    for type_id, answers in kb.situations.by_type.items():
        for situation_id, advice in answers.items():
            where = f"{type_id}.{situation_id}"
            assert 2 <= len(advice.advice.en) <= 3 and len(advice.advice.zh) == len(advice.advice.en), where
            for text in [*advice.advice.en, advice.phrase.en]:
                assert not pronoun.search(text), (where, text)
            for text in [*advice.advice.zh, advice.phrase.zh]:
                assert not half_width.search(text) and len(text) <= 60, (where, text)
    for s in kb.situations.situations:
        assert not half_width.search(s.general.zh + s.names.zh)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "situations.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_loader_names_file_and_field(tmp_path):
    data = load_yaml((CONTENT_DIR / "situations.yaml").read_text(encoding="utf-8"))
    type_ids = load_taxonomy(CONTENT_DIR / "taxonomy.yaml").type_ids

    missing = load_yaml(yaml.safe_dump(data))
    del missing["by_type"]["picky"]["walk_out"]
    with pytest.raises(ContentError, match=r"situations\.yaml: field 'by_type\.picky': missing situations \['walk_out'\]"):
        load_situations(_write(tmp_path, missing), type_ids)

    unknown_type = load_yaml(yaml.safe_dump(data))
    unknown_type["by_type"]["grumpy"] = unknown_type["by_type"]["picky"]
    with pytest.raises(ContentError, match=r"field 'by_type\.grumpy': unknown type id"):
        load_situations(_write(tmp_path, unknown_type), type_ids)

    unknown_situation = load_yaml(yaml.safe_dump(data))
    unknown_situation["by_type"]["picky"]["haggles"] = unknown_situation["by_type"]["picky"]["stall"]
    with pytest.raises(ContentError, match=r"field 'by_type\.picky\.haggles': unknown situation id"):
        load_situations(_write(tmp_path, unknown_situation), type_ids)

    too_long = load_yaml(yaml.safe_dump(data))
    too_long["by_type"]["picky"]["stall"]["advice"]["en"][0] = " ".join(["word"] * 31)
    with pytest.raises(ContentError, match=r"field 'by_type\.picky\.stall\.advice\.en'"):
        load_situations(_write(tmp_path, too_long), type_ids)


@pytest.mark.parametrize(
    "text",
    [
        "她要是走了怎么办？",
        "她要走怎么办",
        "他要是走了怎么辦？",
        "万一客户走掉了呢",
        "客户起身要走了",
        "他准备离开，我该说什么",
        "如果对方转身离开呢",
        "what if she walks away?",
        "what if he gets up and leaves?",
    ],
)
def test_the_common_ways_to_ask_what_if_they_leave(kb, text):
    assert find_situation(kb, text) == "walk_out", text


@pytest.mark.parametrize("text", ["他想走分期付款", "这单要走公司的采购流程", "如果走贷款，月供多少"])
def test_going_through_a_process_is_no_walk_out(kb, text):
    assert find_situation(kb, text) != "walk_out", text
