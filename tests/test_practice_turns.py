"""Practice, issue 23's remaining defects: the early-close check reads the customer's open doubt, the customer
answers the question asked and never repeats a line, "why?" about one reply explains that reply, and a trade said
mid-session is kept. Every case comes with two other phrasings, in English, Simplified and Traditional Chinese."""

from pathlib import Path

import pytest

from knowledge.engine.practice import Practice, SessionState
from knowledge.userdata import UserData


@pytest.fixture()
def store(tmp_path: Path) -> UserData:
    return UserData(tmp_path / "coach.db")


@pytest.fixture()
def practice(engine, store) -> Practice:
    return Practice(engine, store)


def state(type_id: str, stage: str, raised: int = 0, handled: bool = False, trade: str = "b2b_software") -> SessionState:
    return SessionState(type_id=type_id, trade=trade, lang="en", trust=0.5, seed=1, raised=raised, handled=handled, stage=stage)


# "asked for the decision before the doubt was answered" only when a voiced doubt is still open ---------------------
@pytest.mark.parametrize(
    "reply, context",
    [
        (  # persona re-test 4 T28: the customer's ERP question answered with facts, and a meeting proposed
            "On the ERP: we sync both ways with SAP Business One every 15 minutes, and I'll send the spec in writing. "
            "So, does Tuesday at 10 work with your IT lead?",
            "Whatever we buy has to talk to our ERP; we won't do double entry.",
        ),
        ("Here's the integration spec and a reference customer on the same ERP. Shall we book a call for Thursday?", None),
        ("ERP對接的規格書在這裡，同樣用SAP的客戶也可以給您打電話問。那我們週四約個時間？", None),
    ],
)
def test_a_close_that_comes_with_proof_before_any_doubt_is_not_too_early(practice, reply, context):
    scored = practice.scoring.reply(state("deliberate", "presenting"), reply, context)
    assert not scored.too_early and scored.quality > practice.tune.early_close_cap


@pytest.mark.parametrize("reply", ["Shall we sign the contract today?", "那我们今天就把合同签了吧？", "那我們今天就把合約簽了吧？"])
def test_a_bare_close_before_anything_is_not_ready_and_explained_so(practice, engine, reply):
    st = state("deliberate", "opening")
    scored = practice.scoring.reply(st, reply, None)
    assert scored.too_early and not scored.objection_voiced
    lang = "zh" if scored.result.lang == "zh" else "en"
    line = practice.feedback.score_line(st, scored.result, scored.kind, scored.quality, False, True, lang, objection_voiced=False)
    assert engine.kb.text("turn_not_ready", lang) in line and engine.kb.text("turn_too_early", lang) not in line


@pytest.mark.parametrize("reply", ["So shall we go ahead today?", "那我们今天就定下来吧？", "那我們今天就定下來吧？"])
def test_a_close_is_too_early_only_while_the_voiced_doubt_is_open(practice, reply):
    assert practice.scoring.reply(state("deliberate", "objections", raised=1), reply, None).too_early
    assert not practice.scoring.reply(state("deliberate", "closing", raised=1, handled=True), reply, None).too_early


@pytest.mark.parametrize(
    "reply",
    ["Just curious, is it you and your partner plus kids?", "家里是您和爱人，再加上孩子吗？", "家裡是您跟太太，還有兩個小孩嗎？"],
)
def test_asking_who_is_in_the_family_is_a_question_not_a_close(practice, reply):
    """Persona re-test 7 T10: 1.1/10 and "asked for the decision" for a family-needs question."""
    scored = practice.scoring.reply(state("timid_friendly", "needs", trade="insurance"), reply, "We'll sort it out one of these days.")
    assert not scored.too_early and scored.reaction == "question"


def test_why_about_a_not_ready_close_gives_the_bubbles_reason(practice, store, engine):
    """The explanation after the session says what the reply's bubble said (persona re-test 4 T32 contradicted it)."""
    practice.start("early", "en", named="deliberate", trade="car", seed=3)
    practice.turn("early", "Shall we sign the contract today?", "", "en")
    practice.turn("early", "end", "practice_end", "en")
    text = practice.explain_score("early", "why did I get such a low score?", "en").text
    assert engine.kb.text("why_not_ready", "en") in text and engine.kb.text("why_too_early", "en") not in text


# the customer answers the question asked, and never says a line twice -------------------------------------------------
TOPIC_QUESTIONS = {
    "budget": ["What budget did you have in mind?", "您的预算大概是多少？", "您的預算大概是多少？"],
    "timeline": ["When do you need it by?", "您最晚什么时候要用上？", "您最晚什麼時候要用上？"],
    "people": ["How many people will it be for?", "一共有多少人会用到？", "一共有多少人會用到？"],
    "problem": ["What's the biggest problem with what you have now?", "现在最让您头疼的问题是什么？", "現在最讓您頭疼的問題是什麼？"],
    "use": ["What will you use it for day to day?", "平时主要用来做什么？", "平時主要用來做什麼？"],
}


@pytest.mark.parametrize("topic", sorted(TOPIC_QUESTIONS))
def test_a_question_is_read_for_what_it_asks(practice, topic):
    for question in TOPIC_QUESTIONS[topic]:
        assert practice.trainee.asked_topics(question)[:1] == [topic], question


def _scene_state(practice, scene_id: str, lang: str) -> SessionState:
    scene = practice.customer.all_scenes[scene_id]
    st = SessionState(type_id="deliberate", trade=scene.trade or scene_id, scene=scene_id, lang=lang, trust=0.5, seed=2, stage="needs")
    return st


@pytest.mark.parametrize("topic", sorted(TOPIC_QUESTIONS))
def test_the_customer_answers_the_need_the_question_asks_about_in_every_scene(practice, topic):
    """Persona re-test 4 T6: the ERP question was answered with the number of reps (the next fact in line)."""
    for scene_id, scene in practice.customer.all_scenes.items():
        wanted = [i for i, t in enumerate(scene.needs_about) if t == topic]
        for question in TOPIC_QUESTIONS[topic]:
            lang = "en" if question.isascii() else "zh"
            st = _scene_state(practice, scene_id, lang)
            lines, _ = practice.customer.answer(st, "question", "read", 0.8, False, False, topics=practice.trainee.asked_topics(question))
            said = [practice.customer.line_text(r, lang) for r in lines]
            if wanted:
                need = local_need(scene, wanted[0], lang)
                assert need in said, (scene_id, question, said)
            else:  # nothing in the scene answers it: the customer says so, and promises no answer
                assert not any(r.startswith("t:") for r in lines), (scene_id, question, said)


def local_need(scene, index: int, lang: str) -> str:
    return str(getattr(scene.needs, lang)[index])


@pytest.mark.parametrize(
    "lang, question", [("en", "What budget did you have in mind?"), ("zh", "您的预算大概是多少？"), ("zh", "您的預算大概是多少？")]
)
def test_a_question_already_answered_gets_no_preamble_and_no_new_fact(practice, lang, question):
    """Asked again, the customer says it was told ("I told you that already"), not "OK, I'll tell you" with nothing after."""
    st = _scene_state(practice, "car", lang)
    topics = practice.trainee.asked_topics(question)
    first, _ = practice.customer.answer(st, "question", "read", 0.8, False, False, topics=topics)
    st.turn += 1
    again, _ = practice.customer.answer(st, "question", "read", 0.8, False, False, topics=topics)
    assert [r for r in again if r.startswith("a:said_before")] and not [r for r in again if r.startswith("t:")]
    assert not set(again) & set(first)


def _varied_reply(n: int, lang: str) -> str:
    en = [
        "What's the biggest problem with what you have now?",
        "When do you need it by?",
        "What budget did you have in mind?",
        "Here's the independent test report; you can check it yourself.",
        "What budget did you have in mind?",
        "Take your time, there's no pressure to decide today.",
        "How many people will it be for?",
        "Shall we go ahead today?",
        "What will you use it for day to day?",
        "ok",
    ]
    zh = [
        "现在最让您头疼的问题是什么？",
        "您最晚什么时候要用上？",
        "您的预算大概是多少？",
        "这是第三方的检测报告，您可以自己去核实。",
        "您的预算大概是多少？",
        "您慢慢考虑，今天不用做决定。",
        "一共有多少人会用到？",
        "那我们今天就定下来吧？",
        "平时主要用来做什么？",
        "好",
    ]
    return (en if lang == "en" else zh)[n % 10]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_customer_line_is_said_twice_in_a_session_in_any_scene(practice, store, engine, lang):
    """Every scene with two types (every type in turn), ten replies of mixed moves (questions asked twice among them):
    no line text twice."""
    types = sorted(engine.kb.types)
    for i, scene_id in enumerate(practice.customer.all_scenes):
        scene = practice.customer.all_scenes[scene_id]
        for type_id in (types[i % len(types)], types[(i + 6) % len(types)]):
            user = f"r-{type_id}-{scene_id}-{lang}"
            practice.start(user, lang, named=type_id, trade=scene.trade or scene_id, seed=11)
            session = store.active_session(user)
            st = SessionState.from_dict(session["state"])
            st.scene = scene_id
            store.record_turn(session["id"], 0, "", 0.0, [], st.to_dict())
            for n in range(10):
                if not practice.active(user):
                    break
                practice.turn(user, _varied_reply(n + len(type_id), lang), "", lang)
            state = SessionState.from_dict(store.last_session(user)["state"])
            said = practice.customer_lines(state, lang)
            assert len(said) == len(set(said)), (type_id, scene_id, [s for s in said if said.count(s) > 1])


# a trade said mid-session is kept for the next session, and the current one answers plainly -------------------------
@pytest.mark.parametrize(
    "text, start_trade, said_trade",
    [
        ("I don't sell CRM, it's HR software", "b2b_software", "b2b_software"),  # persona re-test 4 T11
        ("我不是卖车的，我卖保险", "car", "insurance"),
        ("我不是賣車的，我賣保險", "car", "insurance"),
        ("actually we don't sell cars, it's insurance", "car", "insurance"),
    ],
)
def test_a_trade_said_mid_session_is_noted_and_kept_for_the_next(dialogue, engine, text, start_trade, said_trade):
    from knowledge.engine.state import ConversationState, UserTurn

    user = f"trade-{abs(hash(text))}"
    state = ConversationState(user=user, lang="en", trade=start_trade)
    dialogue.respond(
        UserTurn(text='/start_practice{"type_id": "deliberate"}', intent="start_practice", entities={"type_id": "deliberate"}), state
    )
    store = dialogue.userdata
    if start_trade == "b2b_software":  # the CRM scene, whatever the draw
        session = store.active_session(user)
        store.save_session_state(session["id"], {**session["state"], "scene": "b2b_software"})
    reply = dialogue.respond(UserTurn(text=text, intent="set_trade"), state)
    lang = "zh" if not text.isascii() else "en"
    noted = engine.kb.text("practice_trade_noted", lang, trade="")[:8]
    assert reply.bubbles[0].startswith(noted) or reply.bubbles[0].startswith(noted.replace("记", "記")), reply.bubbles
    assert store.active_session(user)["state"]["turns"] == []  # not scored
    assert state.trade == said_trade
    dialogue.respond(UserTurn(text="/practice_end", intent="practice_end"), state)
    dialogue.respond(UserTurn(text='/start_practice{"type_id": "picky"}', intent="start_practice", entities={"type_id": "picky"}), state)
    following = store.active_session(user)["state"]
    assert following["trade"] == said_trade
    if said_trade == "b2b_software":  # HR software is a product of the trade: its scene of any product, not the CRM
        assert following["scene"] == "b2b_software_any"


@pytest.mark.parametrize(
    "reply",
    ["We sell the best CRM for teams like yours, and here is a reference customer.", "我们卖的车保值率在同级里最高，这是第三方报告。"],
)
def test_naming_the_sessions_own_trade_to_the_customer_stays_a_scored_reply(practice, store, reply):
    trade = "b2b_software" if reply.isascii() else "car"
    practice.start("own-trade", "en", named="deliberate", trade=trade, seed=4)
    practice.turn("own-trade", reply, "", "en", stated=(trade, None))
    assert len(store.active_session("own-trade")["state"]["turns"]) == 1


# "why?" about one reply gets that reply's explanation; "why did I get N?" the session's -----------------------------
@pytest.mark.parametrize(
    "lang, question",
    [("en", "why was that reply only 5?"), ("zh", "为什么这句只有6分"), ("zh", "為什麼這句只有6分？"), ("en", "why?"), ("zh", "为什么？")],
)
def test_why_right_after_a_reply_explains_that_reply(practice, store, engine, lang, question):
    user = f"why-turn-{abs(hash(question))}"
    practice.start(user, lang, named="suspicious", trade="car", seed=5)
    first = {"en": "Trust me, it's a great car, just sign today.", "zh": "相信我，车没问题的，今天就签吧。"}[lang]
    practice.turn(user, first, "", lang)
    reply = practice.turn(user, question, "", lang)
    state = SessionState.from_dict(store.active_session(user)["state"])
    assert len(state.turns) == 1  # the question is not scored
    head = engine.kb.text("turn_why_head", lang, n=1, reply="", score=round(state.turns[0].score * 10, 1)).split("“")[0]
    assert reply.bubbles[0].startswith(head), reply.bubbles
    assert engine.kb.text("why_score_head", lang, score=0)[:6] not in reply.text
    cost = engine.kb.text("turn_why_cost", lang, why="")
    assert cost.strip() in reply.bubbles[0]


@pytest.mark.parametrize("lang, question", [("en", "why was reply 2 only 3/10?"), ("zh", "为什么第2句只有3分"), ("zh", "為什麼第2句才3分")])
def test_why_about_a_numbered_reply_after_the_session_explains_that_reply(practice, store, engine, lang, question):
    user = f"why-after-{abs(hash(question))}"
    practice.start(user, lang, named="suspicious", trade="car", seed=5)
    lines = {
        "en": ["What matters most to you in the next car?", "Trust me, it's a great car, just sign today."],
        "zh": ["您下一台车最看重什么？", "相信我，车没问题的，今天就签吧。"],
    }[lang]
    for line in lines:
        practice.turn(user, line, "", lang)
    practice.turn(user, "end", "practice_end", lang)
    reply = practice.explain_score(user, question, lang)
    assert reply is not None and reply.bubbles[0].startswith(engine.kb.text("turn_why_head", lang, n=2, reply="", score=0).split("“")[0])
    session = practice.explain_score(user, {"en": "why did I get such a low score?", "zh": "为什么总分这么低"}[lang], lang)
    assert session is not None and session.bubbles[0].startswith(engine.kb.text("why_score_head", lang, score=0)[:6])


@pytest.mark.parametrize(
    "reply",
    ["Why not take the 5-seater for a spin this weekend?", "为什么不周末开那台5座的去试试呢？", "為什麼不週末開那台5座的去試試呢？"],
)
def test_a_why_question_to_the_customer_stays_a_reply(practice, store, reply):
    practice.start("why-reply", "en", named="suspicious", trade="car", seed=5)
    practice.turn("why-reply", "What matters most to you in the next car?", "", "en")
    practice.turn("why-reply", reply, "", "en")
    assert len(store.active_session("why-reply")["state"]["turns"]) == 2


# a feature dump is not a good reply ------------------------------------------------------------------------------
FEATURE_DUMPS = [
    ("volatile", "en", "ok so our plans are really good, we have unlimited data, 5G, free roaming in europe and you get netflix included."),
    (
        "picky",
        "en",
        "This sofa has a solid oak frame, feather cushions, removable covers, stain protection, a ten-year warranty and free delivery.",
    ),
    ("suspicious", "zh", "这款车有全景天窗、自适应巡航、360度影像、无线充电，还有八年电池质保。"),
    ("timid_friendly", "zh", "這份保單有重大疾病、意外、住院醫療、失能給付，還有保費豁免。"),
]


@pytest.mark.parametrize("type_id, lang, reply", FEATURE_DUMPS)
def test_a_feature_dump_scores_low_and_is_never_praised(practice, store, engine, type_id, lang, reply):
    """Persona re-test 9 T11: a feature list read as small talk, 8.8/10, and listed under 'went well'."""
    user = f"dump-{type_id}-{lang}"
    practice.start(user, lang, named=type_id, trade="retail", seed=3)
    bubble = practice.turn(user, reply, "", lang).bubbles[0]
    turn = SessionState.from_dict(store.active_session(user)["state"]).turns[0]
    assert turn.kind == "list" and turn.score <= practice.tune.list_cap
    assert bubble.startswith(engine.kb.text("turn_list", lang, score=round(turn.score * 10, 1)))
    summary = practice.turn(user, "end", "practice_end", lang).text
    assert engine.kb.text("went_well", lang) not in summary


@pytest.mark.parametrize(
    "question, reply",
    [
        ("What's included in the top plan?", "Unlimited data, 5G, roaming in Europe, and Netflix included."),
        ("保养都包括哪些项目？", "机油、机滤、空滤、刹车油，还有全车检查。"),
        ("保障範圍有哪些？", "重大疾病、意外、住院醫療，還有失能給付。"),
    ],
)
def test_a_list_the_customer_asked_for_is_an_answer(practice, question, reply):
    scored = practice.scoring.reply(state("deliberate", "needs", trade="retail"), reply, question)
    assert scored.kind != "list"


@pytest.mark.parametrize(
    "reply, said",
    [
        ("Yes, the app works on any phone, and here's the security certificate in writing.", False),
        ("手机上都能用，这是安全认证证书。", False),
        ("Trust me, it's fine, just sign.", True),
    ],
)
def test_the_customer_never_quotes_words_the_trainee_did_not_say(practice, reply, said):
    """Persona replay: "'Trust me'? That's exactly what the last one said." after a reply that never said it."""
    for seed in range(8):
        st = state("suspicious", "presenting")
        st.seed = seed
        lines, _ = practice.customer.answer(st, "pressure", "read", 0.2, False, False, reply=reply)
        quoting = [r for r in lines if "“" in practice.customer.line_text(r, "zh")]
        assert said or not quoting, [practice.customer.line_text(r, "en") for r in lines]


@pytest.mark.parametrize("reply", ["so u want it?", "那你要不要嘛", "那你要不要嘛？"])
def test_a_reply_with_no_clear_move_never_scores_well(practice, reply):
    """Persona replay: 7.2/10 beside "I couldn't tell what your reply was trying to do"."""
    scored = practice.scoring.reply(state("caustic", "needs", trade="car"), reply, None)
    assert scored.result.clear or scored.quality <= practice.tune.unclear_cap


@pytest.mark.parametrize("reply", ["This flat is really nice.", "这套房子挺好的。", "這套房子挺好的。"])
def test_the_customer_hears_an_offer_only_when_something_concrete_is_offered(practice, reply):
    """Persona replay: 「这套房子挺好的」 read as steering to the offer, and the customer said 「突然又有商量的余地了」."""
    assert practice.scoring.reply(state("caustic", "presenting", trade="real_estate"), reply, None).reaction != "offer"
