"""Practice mode in plain Python: a good trainee wins the customer, a bad one loses them."""
import pytest

from knowledge.engine.practice import MAX_TURNS, Practice, Trainer
from knowledge.userdata import UserData


def examples(engine, type_id, lang, best=True):
    rubric = engine.kb.types[type_id].practice.rubric
    moves = sorted(rubric, key=lambda m: -rubric[m] if best else rubric[m])[:2]
    by_id = {m.id: m for m in engine.kb.moves.moves}
    return [e for m in moves for e in getattr(by_id[m].examples, lang)[:4]]


def play(engine, user, type_id, lang, best):
    practice = Practice(engine)
    practice.start(user, lang, named=type_id, seed=1)
    assert practice.customer_line(user).bubbles
    for reply in examples(engine, type_id, lang, best)[:MAX_TURNS]:
        turn = practice.turn(user, reply)
        if turn.slots.get("done"):
            break
    else:
        practice.turn(user, "end", "practice_end")
    return UserData().last_session(user), practice.summary(user)


@pytest.mark.parametrize("type_id, lang", [("suspicious", "en"), ("timid_friendly", "zh"), ("caustic", "en")])
def test_good_trainee_gets_agreement_and_high_score(engine, type_id, lang):
    session, summary = play(engine, f"good-{type_id}", type_id, lang, best=True)
    assert session["status"] == "agree"
    assert session["score"] >= 70
    assert summary.bubbles and "→" in summary.text


@pytest.mark.parametrize("type_id, lang", [("suspicious", "zh"), ("dominant_hostile", "en")])
def test_bad_trainee_loses_the_customer_and_scores_low(engine, type_id, lang):
    session, summary = play(engine, f"bad-{type_id}", type_id, lang, best=False)
    assert session["status"] == "walk_away"
    assert session["score"] <= 35


def test_hint_rubric_and_end(engine):
    practice = Practice(engine)
    practice.start("cmd-user", "en", named="deliberate", seed=2)
    assert "Hint" in practice.turn("cmd-user", "hint", "practice_hint").text
    assert "score well" in practice.turn("cmd-user", "rubric", "show_rubric").text
    assert practice.turn("cmd-user", "end", "practice_end").slots["done"] is True
    assert UserData().last_session("cmd-user")["status"] == "ended"


def test_two_trainees_never_share_a_session(engine):
    practice = Practice(engine)
    practice.start("alice", "en", named="picky", seed=3)
    practice.start("bob", "zh", named="volatile", seed=3)
    practice.turn("alice", "Good catch, let me fix that for you right away.")
    store = UserData()
    assert store.active_session("alice")["type_id"] == "picky"
    assert store.active_session("bob")["state"]["turn"] == 0


def test_progress_and_leaderboard(engine):
    play(engine, "progress-user", "picky", "en", best=True)
    play(engine, "progress-user", "caustic", "en", best=False)
    progress = UserData().progress("progress-user")
    assert [s["type"] for s in progress["sessions"]] == ["picky", "caustic"]
    assert progress["weakest_type"] == "caustic"
    trainer = Trainer(engine)
    assert engine.kb.type_name("caustic", "en") in trainer.progress("progress-user", "en").bubbles[0].splitlines()[-1]
    assert "1. progress-user: " in trainer.leaderboard("en", users=["progress-user", "nobody-yet"]).text
    best = [int(line.split(": ")[1].split()[0]) for line in trainer.leaderboard("en").text.splitlines()[1:]]
    assert best == sorted(best, reverse=True)


def test_quiz_round(engine):
    trainer = Trainer(engine)
    quiz = trainer.quiz("zh", seed=4)
    expected = quiz.slots["quiz_type"]
    assert len(quiz.buttons) == 4 and any(expected in p for _, p in quiz.buttons)
    assert "答对了" in trainer.answer(expected, "", "zh", named=expected).text
    wrong = next(t for t in engine.kb.types if t != expected)
    assert "不太对" in trainer.answer(expected, "", "zh", named=wrong).text


def test_rubric_before_a_session_and_nothing_to_end(engine):
    practice = Practice(engine)
    assert "score well" in practice.outside_session("show_rubric", "how is a suspicious customer scored?", "en").text
    assert practice.outside_session("practice_end", "结束", "zh").text == engine.kb.text("no_practice", "zh")
