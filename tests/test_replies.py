"""Reply scoring: the move a reply makes, weighed with the customer type's rubric."""
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
