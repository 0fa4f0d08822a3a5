"""Answer scoring: the move a reply makes, weighed with the customer type's rubric."""

import pytest

PAIRS = [
    ("dominant_hostile", "You clearly know this market well; what would you want to see first?", "Actually you're wrong about that."),
    ("timid_friendly", "这套房您打算什么时候搬进来?我们先把车位也定下来吧。", "您今天不定,明天就没有了。"),
    ("suspicious", "这是合同原件和检测报告,您可以逐条核对。", "我怎么会骗您呢,相信我就行了。"),
    ("deliberate", "Let me walk you through the pros and cons of each plan.", "Don't overthink it, everyone buys this one."),
    ("detached", "我整理一份资料,方便您带回去给领导看?", "这点小事您自己定就好了。"),
    ("caustic", "I understand that was frustrating; let me put it right.", "There's no need to be rude."),
]


@pytest.mark.parametrize("type_id, good, bad", PAIRS)
def test_good_reply_beats_bad_reply(engine, type_id, good, bad):
    g, b = engine.scorer.score(type_id, good), engine.scorer.score(type_id, bad)
    assert g.score > b.score, (g, b)
    assert 0 <= b.score <= 1 and 0 <= g.score <= 1


def test_the_same_move_lands_differently_by_type(engine):
    reply = "Most of your neighbours chose this plan; here are their reviews."
    assert engine.scorer.score("opinion_seeker", reply).score > engine.scorer.score("deliberate", "Stop overthinking, just buy it.").score
    assert "social_proof" in {m.move for m in engine.scorer.score("opinion_seeker", reply).moves}


def test_empty_reply_scores_zero(engine):
    assert engine.scorer.score("picky", "   ").score == 0.0


# the customer's last line as context ------------------------------------------------------------------
CONTEXT_PAIRS = [
    (
        "volatile",
        "Ugh, I'm so fed up today, everything's going wrong.",
        "Sorry you're having such a rough day. No decisions needed now; shall I just send you the details for later?",
        "I hear you! Well, let's get the paperwork done now and cheer you up.",
    ),
    (
        "volatile",
        "今天烦死了，什么都不顺。",
        "听起来今天真够糟心的，辛苦了。今天不用做决定，我把资料发您，改天心情好了再聊。",
        "理解理解，那咱们趁现在把合同签了，签完您就开心了。",
    ),
    (
        "caustic",
        "就你们这服务，也好意思收这个价？",
        "您之前肯定遇到过不愉快，这个我理解。您最在意哪一点，我照实说。",
        "先生，请您说话客气一点，我们可是正规公司。",
    ),
    (
        "detached",
        "I'll need to ask my wife, she's the one who decides these things.",
        "Of course. Could we set up a time when she can come in too? I'll put the key points on one page for her.",
        "Surely you can decide this yourself, it's a small thing.",
    ),
]


@pytest.fixture(scope="module")
def scorer(engine):
    return engine.scorer.learn_context(engine.kb)


@pytest.mark.parametrize("type_id, context, good, bad", CONTEXT_PAIRS)
def test_right_for_the_type_beats_polite_but_wrong_given_the_customers_line(scorer, type_id, context, good, bad):
    assert scorer.score(type_id, good, context=context).score > scorer.score(type_id, bad, context=context).score


@pytest.mark.parametrize(
    "lang, keen, doubts, close",
    [
        ("en", "I love it. What's the next step?", "I'm not sure, it's expensive.", "Shall we go ahead today?"),
        ("zh", "太好了，下一步怎么办？", "我还拿不准，有点贵。", "那咱们今天就定下来吧？"),
    ],
)
def test_asking_for_the_decision_is_timely_only_when_the_customer_is_keen(scorer, lang, keen, doubts, close):
    assert scorer.customer_signal(keen) == "keen" and scorer.customer_signal(doubts) == "doubts"
    assert scorer.score("volatile", close, context=keen).score > scorer.score("volatile", close, context=doubts).score


def test_without_context_the_rubric_alone_decides(scorer):
    reply = "Let's sign today."
    assert scorer.score("volatile", reply).score == scorer.score("volatile", reply, context=None).score


@pytest.mark.parametrize("reply", ["Is fuel cost the main worry?", "最让销售团队头疼的是哪一块？"])
def test_a_question_reads_as_a_needs_question_not_an_attack(engine, reply):
    clear = [m.move for m in engine.scorer.score("picky", reply).clear]
    assert clear and clear[0] == "ask_needs", clear
    assert not {"dismiss", "blame", "argue", "small_talk"} & set(clear)


@pytest.mark.parametrize("reply", ["welcome", "不敢", "您自己比"])
def test_a_fragment_is_not_read_as_a_clear_move(engine, reply):
    assert not engine.scorer.score("timid_friendly", reply).clear


@pytest.mark.parametrize("reply", ["fine, I'll give you a discount", "可以的，给您打个折"])
def test_a_keyword_does_not_let_a_filler_word_read_as_an_attack(engine, reply):
    clear = {m.move for m in engine.scorer.score("picky", reply).clear}
    assert "dismiss" not in clear and "blame" not in clear


@pytest.mark.parametrize("reply", ["Buy now!", "Sign here now.", "Pay today!", "现在就买吧！", "快签！", "赶紧下单。"])
def test_a_short_pushy_line_reads_clearly_as_pressure(engine, reply):
    clear = engine.scorer.score("suspicious", reply).clear
    assert clear and clear[0].move == "pressure", clear


@pytest.mark.parametrize("reply", ["You don't have to buy now, take your time.", "不用马上签，您慢慢考虑。"])
def test_saying_there_is_no_hurry_is_not_pressure(engine, reply):
    clear = engine.scorer.score("suspicious", reply).clear
    assert "pressure" not in [m.move for m in clear[:1]], clear


# negation, offers, courtesy, questions, modesty and the customer's question (issue 23) ------------------------------
def _cases(name):
    import json
    from pathlib import Path

    path = Path(__file__).parent / "data" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", _cases("moves_dev.jsonl"), ids=lambda c: c["reply"][:40])
def test_what_changes_a_phrase_is_read(engine, case):
    """tests/data/moves_dev.jsonl, the form of ../shared/eval/dev_moves.jsonl (moves_heldout.jsonl is measured with
    score.py, never tuned on)."""
    read = {m.move for m in engine.scorer.score(case["type"], case["reply"], context=case.get("context")).clear}
    assert set(case["must"]) <= read and not set(case["must_not"]) & read, read


@pytest.mark.parametrize(
    "question, answer",
    [
        (
            "What would the rollout plan look like from here?",
            "Six weeks: import in week one, configuration and a parallel run, then go-live.",
        ),
        ("保养一年大概要花多少钱？", "一年两次保养，每次六百左右，配件价格都在这张价目表上。"),
    ],
)
def test_answering_the_customers_question_is_not_flooding(engine, question, answer):
    """Detail the customer asked for is an answer; the same words unasked may be too much."""
    asked = engine.scorer.score("detached", answer, context=question)
    assert "overwhelm" not in {m.move for m in asked.clear}
    assert asked.score >= engine.scorer.score("detached", answer).score


@pytest.mark.parametrize("reply", ["Who will make the final call, and what would they want to see?", "最后谁来拍板？他们最关心什么？"])
def test_asking_who_decides_is_a_needs_question_not_a_close(engine, reply):
    result = engine.scorer.score("detached", reply, context="It's not really my decision, you know.")
    deciders = [m for m in result.clear if m.move == "involve_decider"]
    assert deciders and all(engine.scorer.reaction(m) == "question" and m.weight > 0 for m in deciders)
    assert not [m for m in result.clear if engine.scorer.reaction(m) == "close"]
