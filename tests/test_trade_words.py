"""Coaching fits the salesperson's trade: no premium discounts for insurance, no boss or procurement in a household
sale, no family member's gender assumed (ui.yaml: trades.<trade>.avoid, assumed_words; knowledge/loader.py
check_trade_words; engine/coaching.py leaves avoided items out)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from knowledge import paths
from knowledge.engine.state import ConversationState
from knowledge.loader import ContentError, load_content
from knowledge.schema import STAGES, TRADES
from knowledge.text import word_used


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(paths.CONTENT_DIR, target)
    return target


def _edit_type(content: Path, type_id: str, edit) -> None:
    path = content / "types" / f"{type_id}.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_a_phrase_that_assumes_a_wife_fails_naming_file_and_field(tmp_path):
    content = _copy(tmp_path)

    def edit(data):
        data["phrases"][0]["en"] = "Shall we ask your wife what she thinks?"

    _edit_type(content, "picky", edit)
    with pytest.raises(ContentError) as err:
        load_content(content, paths.TRAINING_DIR)
    assert "picky.yaml: field 'phrases.0.en'" in str(err.value) and "wife" in str(err.value)


def test_a_type_left_with_only_discount_tactics_for_insurance_fails(tmp_path):
    """Every objections tactic offering a discount: an insurance agent would be left with none he may use."""
    content = _copy(tmp_path)

    def edit(data):
        data["tactics"]["objections"] = [
            {"en": "Offer a small discount to close.", "zh": "给一点折扣促成。"},
            {"en": "Give one concession, once.", "zh": "只让步一次。"},
            {"en": "If they push, take a little off the price.", "zh": "他再压价，就降价一点。", "tags": ["price"]},
        ]

    _edit_type(content, "picky", edit)
    with pytest.raises(ContentError) as err:
        load_content(content, paths.TRAINING_DIR)
    assert "picky.yaml: field 'tactics.objections'" in str(err.value) and "'insurance'" in str(err.value)


@pytest.mark.parametrize("trade", [t for t in TRADES])
def test_no_coaching_answer_uses_a_word_its_trade_avoids(dialogue, engine, trade):
    """Every type's card, stage advice, discount talk and pitfalls, in both languages, for a salesperson of the
    trade: none uses a word the trade avoids or one that assumes a family member's gender."""
    ui = engine.kb.ui
    avoid = [*ui.trades[trade].avoid.en, *ui.trades[trade].avoid.zh]
    assumed = [*ui.assumed_words.en, *ui.assumed_words.zh]
    coach = dialogue.coach
    for type_id in engine.kb.types:
        for lang in ("en", "zh"):
            state = ConversationState(user=f"w-{uuid.uuid4().hex[:6]}", lang=lang, trade=trade, trade_asked=True)
            state.customer_type = type_id
            answers = [coach.card(type_id, state, [])]
            answers += [coach.follow_up(intent, "", state) for intent in ("ask_discount", "ask_avoid")]
            answers += [coach.follow_up("ask_stage", "", state, stage=stage) for stage in STAGES]
            text = "\n".join(a.text for a in answers)
            # the interface's own words ("When this customer asks for a discount", the trade's price note) are not advice
            note = ui.trades[trade].price_note
            said = [engine.kb.text("discount_for", lang, name=engine.kb.type_name(type_id, lang))]
            for fixed in said + ([getattr(note, lang)] if note else []):
                text = text.replace(fixed, "")
            assert word_used(text, avoid) is None, (type_id, lang, word_used(text, avoid))
            assert word_used(text, assumed) is None, (type_id, lang, word_used(text, assumed))


def test_an_insurance_discount_question_says_premiums_are_not_discounted(dialogue, engine):
    note = engine.kb.ui.trades["insurance"].price_note
    assert note is not None
    for lang in ("en", "zh"):
        state = ConversationState(user="w-ins", lang=lang, trade="insurance", trade_asked=True)
        state.customer_type = "detached"
        assert getattr(note, lang) in dialogue.coach.follow_up("ask_discount", "", state).text


PRICE_PROMISES_AND_GIFTS = {
    "en": ["what I can do on the price", "better price", "gift", "for free", "goodwill gesture", "friendly gesture"],
    "zh": ["争取", "心意", "礼物", "赠品", "送您", "免费", "返佣", "打折"],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_insurance_price_question_gets_a_plan_change_not_a_price_promise_or_a_gift(dialogue, engine, lang):
    """An agent cannot negotiate a premium and may not give a policyholder gifts (persona 3: 「价格上我尽量帮您争取」,
    「送点小心意」): every type's discount answer says an insurance line, the plan adjusted, and none of those."""
    for type_id, t in engine.kb.types.items():
        state = ConversationState(user=f"w-{uuid.uuid4().hex[:6]}", lang=lang, trade="insurance", trade_asked=True)
        state.customer_type = type_id
        text = dialogue.coach.follow_up("ask_discount", "", state).text
        note = getattr(engine.kb.ui.trades["insurance"].price_note, lang)
        advice = text.replace(note, "")
        assert word_used(advice, PRICE_PROMISES_AND_GIFTS[lang]) is None, (type_id, word_used(advice, PRICE_PROMISES_AND_GIFTS[lang]))
        own = [getattr(p, lang) for p in t.phrases if "insurance" in p.trades and "price" in p.tags]
        assert any(line in text for line in own), type_id
