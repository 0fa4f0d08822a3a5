"""The routing table row by row: for every row, a message (and the remembered conversation it needs) that the
row answers, and the Reading's fields on messages that name, ask or answer something.

NLU's intent is given, as in tests/test_dialogue.py, so each row is held without a server.
"""

from __future__ import annotations

import uuid
from typing import Callable, Dict, List, Tuple

import pytest

from knowledge.engine.state import ConversationState, UserTurn

Setup = Callable[[object, ConversationState], None]


def fresh(lang: str = "en") -> ConversationState:
    return ConversationState(user=f"r-{uuid.uuid4().hex[:8]}", lang=lang)


def coached(text: str, intent: str = "describe_customer") -> Setup:
    """A conversation that has coached on `text` first."""

    def setup(dialogue, state: ConversationState) -> None:
        dialogue.respond(UserTurn(text=text, intent=intent), state)

    return setup


def nothing(dialogue, state: ConversationState) -> None:
    return None


def practising(dialogue, state: ConversationState) -> None:
    dialogue.respond(UserTurn(text="/start_practice", intent="start_practice", entities={"type_id": "picky"}), state)


def practised(dialogue, state: ConversationState) -> None:
    """A finished practice session: two replies, then the end."""
    practising(dialogue, state)
    for text in ("Thanks for coming in. What matters most to you?", "end"):
        dialogue.respond(UserTurn(text=text, intent="describe_customer" if text != "end" else "practice_end"), state)
    assert not dialogue.practice.active(state.user)


def asking(dialogue, state: ConversationState) -> None:
    dialogue.respond(UserTurn(text="I have a difficult customer", intent="describe_customer"), state)
    assert state.pending_question


def asking_zh(dialogue, state: ConversationState) -> None:
    dialogue.respond(UserTurn(text="遇到一个难缠的客户", intent="describe_customer"), state)
    assert state.pending_question


def saved(name: str, text: str) -> Setup:
    def setup(dialogue, state: ConversationState) -> None:
        dialogue.respond(UserTurn(text=text, intent="describe_customer"), state)
        dialogue.respond(UserTurn(text=f"save him as {name}", intent="save_customer"), state)
        dialogue.respond(UserTurn(text="another customer", intent="new_customer"), state)

    return setup


def coached_then(*steps: Tuple[str, str]) -> Setup:
    def setup(dialogue, state: ConversationState) -> None:
        for text, intent in steps:
            dialogue.respond(UserTurn(text=text, intent=intent), state)

    return setup


def proposed(description: str, development: str) -> Setup:
    """A conversation where the coach proposed another type for the customer at hand."""

    def setup(dialogue, state: ConversationState) -> None:
        dialogue.respond(UserTurn(text=description, intent="describe_customer"), state)
        dialogue.respond(UserTurn(text=development, intent="describe_customer"), state)
        assert state.proposed_type and state.proposed_type != state.customer_type

    return setup


SUSPICIOUS = "he doubts every number I give him and wants proof for everything"
SUSPICIOUS_ZH = "他对我说的每个数字都怀疑，什么都要看证据"

PROPOSED = proposed(SUSPICIOUS, "he also picks on every little flaw in the paintwork and the trim")
PROPOSED_ZH = proposed(SUSPICIOUS_ZH, "他总是挑毛病，嫌这嫌那，连包装都嫌不好看")

MAYBE_NEW = coached_then(
    (SUSPICIOUS, "describe_customer"), ("then there's this woman who only wants the cheapest option", "describe_customer")
)
MAYBE_NEW_ZH = coached_then((SUSPICIOUS_ZH, "describe_customer"), ("另外，有个小姑娘看房话很少，问她啥都说还行还行", "describe_customer"))
NOTES = (
    "notes from the meeting with Greg (ops manager).\n- showed up late, on his phone most of the first part\n"
    "- asked for references, then said references are always cherry picked\n- wanted everything in writing, asked twice "
    "if we sell the data\n- said the competitor is 20% cheaper but wouldn't say who\n- kept saying that's what they all say"
)
NOTES_ZH = (
    "周二见客户的记录：\n- 迟到了十五分钟，一直看手机\n- 要我们给老客户的联系方式，又说推荐的都是挑过的\n"
    "- 什么都要白纸黑字写下来，问了两遍数据会不会卖给别人\n- 说竞争对手便宜两成，但不说是谁\n- 一直说你们都这么说"
)

# (row, setup, message, NLU intent): the message the row answers, both languages where the row reads words
ROW_EXAMPLES: List[Tuple[str, Setup, str, str]] = [
    ("practice session", practising, "What matters most to you?", "describe_customer"),
    ("practice session", practising, "您最看重的是什么？", "describe_customer"),
    ("unknown button", nothing, "/made_up_intent", "made_up_intent"),
    ("two types compared", nothing, "picky or suspicious? whats the diff", "quiz_answer"),
    ("two types compared", coached(SUSPICIOUS), "ok 那 deliberate 和 timid friendly 呢, both slow to decide", "quiz_answer"),
    ("why a practice score", practised, "why did I only get that score?", "my_progress"),
    ("why a practice score", practised, "为什么只有这么点分？", "ask_why"),
    ("no words", nothing, "😡😡😡", "nlu_fallback"),
    # training programmes (knowledge/engine/programs): levels, certificates, assignments, by their own words
    ("practice at a named level", nothing, "practise the picky customer on hard", "start_practice"),
    ("practice at a named level", nothing, "困难模式练一下", "describe_customer"),
    ("levels asked", nothing, "what levels are there?", "help"),
    ("levels asked", nothing, "练习有哪些难度", "start_practice"),
    ("certificates asked", nothing, "which certificates do I have?", "my_progress"),
    ("certificates asked", nothing, "我的證書", "my_progress"),
    ("own assignments asked", nothing, "what's in my assignments?", "my_progress"),
    ("own assignments asked", nothing, "我的作业有哪些", "my_progress"),
    ("assignment given", nothing, "assign the suspicious customer in cars to my team by Friday", "start_practice"),
    ("assignment given", nothing, "给全组布置：疑心型客户，汽车，75分及格，周五前", "describe_customer"),
    ("assignment report asked", nothing, "who has done the assignment?", "leaderboard"),
    ("assignment report asked", nothing, "作业完成情况怎么样", "my_progress"),
    ("leaderboard switched", nothing, "please turn the leaderboard on for my team", "leaderboard"),
    ("leaderboard switched", nothing, "關閉排行榜", "leaderboard"),
    ("team view asked", nothing, "how is my team doing?", "leaderboard"),
    ("team view asked", nothing, "我的团队练得怎么样", "my_progress"),
    ("team view asked", nothing, "團隊練得如何", "leaderboard"),
    ("team view asked", nothing, "how are my trainees doing?", "ask_knowledge"),
    ("team view asked", nothing, "大家最近練得怎麼樣", "ask_knowledge"),
    ("clarifying answer", asking, "leads", "leaderboard"),
    ("clarifying answer", asking_zh, "主导", "describe_customer"),
    ("description while asking", asking, "he checks his phone the whole time", "describe_customer"),
    ("description while asking", asking_zh, "他一直看手机", "describe_customer"),
    ("yes to the proposed type", PROPOSED, "yes", "affirm"),
    ("yes to the proposed type", PROPOSED, "yes, switch", "describe_customer"),
    ("yes to the proposed type", PROPOSED_ZH, "对，换吧", "affirm"),
    ("social line", PROPOSED_ZH, "行 谢了 拜拜", "goodbye"),  # a goodbye with an ok in it switches nothing
    ("social line", PROPOSED, "ok thanks, bye", "affirm"),
    ("no to the proposed type", PROPOSED, "no, leave it as suspicious", "practice_end"),
    ("no to the proposed type", PROPOSED_ZH, "不用换，他还是疑心型", "deny"),
    ("no to the proposed type", PROPOSED_ZH, "不用換", "deny"),
    ("social line", nothing, "you're kind of useless tbh", "thank"),
    ("social line", nothing, "ok thanks 拜拜", "nlu_fallback"),
    ("social line", nothing, "好吧謝謝", "thank"),
    (
        "update of a saved customer",
        saved("Big Mike", SUSPICIOUS),
        "update big mike: he picks on every flaw in the trim",
        "describe_customer",
    ),
    ("update of a saved customer", saved("王总", SUSPICIOUS_ZH), "更新王总：他其实什么都挑毛病", "describe_customer"),
    ("type named in a statement", coached(SUSPICIOUS), "wtf. forget it. shes deliberate", "quiz_answer"),
    ("type named in a statement", coached(SUSPICIOUS), "they're picky", "quiz_answer"),
    ("type named in a statement", coached(SUSPICIOUS_ZH), "她其实是挑剔型啦", "quiz_answer"),
    ("type named in a statement", coached(SUSPICIOUS_ZH), "陳小姐是畏怯友善型啦", "quiz_answer"),
    ("type added to the customer", coached(SUSPICIOUS), "also picky", "quiz_answer"),
    ("type added to the customer", coached(SUSPICIOUS_ZH), "他也挺挑剔型的", "describe_customer"),
    ("DISC letter asked", nothing, "which type is a high D", "ask_knowledge"),
    ("DISC letter asked", nothing, "high C 对应哪个类型", "leaderboard"),
    ("question about a named type", coached(SUSPICIOUS), "what should I tell Jason about timid-friendly?", "ask_phrase"),
    ("question about a named type", nothing, "挑剔型的客户怎么应对？", "ask_knowledge"),
    ("which type fits a description", nothing, "which one is the indecisive type??", "ask_knowledge"),
    ("which type fits a description", nothing, "犹豫不决的是哪种类型？", "ask_knowledge"),
    ("trade without examples said", nothing, "i sell phone plans", "set_trade"),
    ("trade without examples said", nothing, "我是賣化妝品的", "set_trade"),
    ("unsure reading", nothing, "complaints keep coming in, what do we do first?", "leaderboard@0.45"),
    ("unsure reading", nothing, "团队里谁最会处理投诉？", "leaderboard@0.4"),
    ("stale clarifying option", coached(SUSPICIOUS), "Leads", "leaderboard"),
    ("saved customer named", saved("Mr Li", SUSPICIOUS), "Mr Li", "out_of_scope"),
    ("saved customer named", saved("mrs patel", SUSPICIOUS), "mrs patel", "delete_customer"),  # the name alone deletes nothing
    ("saved customer named", saved("王总", SUSPICIOUS_ZH), "王总", "rename_customer"),
    ("saved customer named", saved("王总", SUSPICIOUS_ZH), "王总嫌贵怎么办", "ask_discount"),
    ("new customer said", nothing, "another customer: quiet, agrees with everything but never signs", "new_customer"),
    ("new customer said", nothing, "新客户：一个大妈，什么都说好，就是不签", "new_customer"),
    ("correction that corrects nothing", coached(SUSPICIOUS), "hmm", "correct_type"),
    ("only judges a customer", nothing, "my customer is difficult", "leaderboard"),
    ("only judges a customer", nothing, "这个客户很难搞", "start_practice"),
    ("opens with a correction", coached(SUSPICIOUS), "not quite, he's more the kind who thinks everything through", "describe_customer"),
    ("opens with a correction", coached(SUSPICIOUS_ZH), "不对，他其实做不了主，要回去问老婆", "describe_customer"),
    ("says the type is wrong", coached(SUSPICIOUS), "that's not right", "deny"),
    ("says the type is wrong", coached(SUSPICIOUS_ZH), "不对", "describe_customer"),
    ("follow-up that tells a situation", coached(SUSPICIOUS), "what if he walks out?", "ask_avoid"),
    ("follow-up that tells a situation", coached(SUSPICIOUS_ZH), "他要是甩手走人怎么办", "ask_phrase"),
    ("a different person said", MAYBE_NEW, "no no thats a diff person. the lady. not gary", "correct_type"),
    ("a different person said", MAYBE_NEW_ZH, "不是他！我说的是另一个小姑娘", "correct_type"),
    (
        "a different person said",
        coached_then((SUSPICIOUS, "describe_customer"), ("she lets her husband choose", "describe_customer")),
        "not him, someone else",
        "deny",
    ),
    ("maybe a new customer", coached(SUSPICIOUS), "then this lady came in around 3, wants it her way", "describe_customer"),
    ("maybe a new customer", coached(SUSPICIOUS_ZH), "下午那个小姑娘也是，听我爸妈的", "describe_customer"),
    ("maybe a new customer", coached(SUSPICIOUS_ZH), "昨天來的那個阿姨，一直問能不能再便宜", "ask_discount"),
    ("same customer said", MAYBE_NEW, "same customer", "describe_customer"),
    ("same customer said", MAYBE_NEW_ZH, "还是同一个", "affirm"),
    ("long notes", nothing, NOTES, "ask_discount"),
    ("long notes", nothing, NOTES_ZH, "ask_discount"),
    ("team invite asked", nothing, "how do I get an invite code for my team?", "leaderboard"),
    ("team invite asked", nothing, "团队邀请码在哪里拿？", "my_progress"),
    ("coaching the team asked", nothing, "how do I coach my reps on the suspicious type?", "ask_knowledge"),
    ("coaching the team asked", nothing, "怎么带新人应对挑剔型客户", "ask_knowledge"),
    ("coaching the team asked", nothing, "my team keeps getting complaints, what do we do first?", "leaderboard@0.45"),
    ("maybe a new customer", coached(SUSPICIOUS), "then there's this woman who only wants the cheapest option", "describe_customer"),
    ("maybe a new customer", coached(SUSPICIOUS_ZH), "还有个客户，一直砍价", "ask_discount"),
    ("type of the customer asked", coached(SUSPICIOUS), "so what type is greg", "ask_knowledge"),
    ("type of the customer asked", coached(SUSPICIOUS_ZH), "他是什么类型？", "ask_knowledge"),
    ("anything else", nothing, "qwzx vbnm", "nlu_fallback"),
]


@pytest.fixture(scope="module")
def intent_rows(dialogue) -> List[str]:
    return [row.name for row in dialogue.table if row.name.startswith("intent ")]


def row_for(dialogue, setup: Setup, text: str, intent: str, entities: Dict[str, str] | None = None) -> str:
    state = fresh("zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en")
    setup(dialogue, state)
    dialogue.identifier.begin_turn()
    intent, _, confidence = intent.partition("@")  # "leaderboard@0.45": NLU's intent and how sure it was
    turn = UserTurn(text=text, intent=intent, confidence=float(confidence or 1.0), entities=entities or {})
    reading = dialogue.read(turn, state)
    dialogue.settle(reading, state)
    return dialogue.row_for(reading, state).name


@pytest.mark.parametrize("row, setup, text, intent", ROW_EXAMPLES, ids=[f"{r}: {t[:30]}" for r, _, t, _ in ROW_EXAMPLES])
def test_each_row_answers_its_example(dialogue, row, setup, text, intent):
    assert row_for(dialogue, setup, text, intent) == row


def test_every_row_has_an_example(dialogue):
    """A row added to the table gets an example here (the intent rows: by their button, below)."""
    named = {r for r, *_ in ROW_EXAMPLES}
    missing = [row.name for row in dialogue.table if not row.name.startswith("intent ") and row.name not in named]
    assert not missing


def test_each_intent_row_answers_its_button(dialogue):
    """Every intent has its row, reached by its button on a fresh conversation, and answers with words."""
    for row in dialogue.table:
        if not row.name.startswith("intent "):
            continue
        intent = row.name.removeprefix("intent ")
        assert row_for(dialogue, nothing, f"/{intent}", intent) == row.name
        state = fresh()
        reply = dialogue.respond(UserTurn(text=f"/{intent}", intent=intent), state)
        assert reply.bubbles, intent


def test_rows_are_named_once(dialogue):
    names = [row.name for row in dialogue.table]
    assert len(names) == len(set(names))
    assert names[-1] == "anything else"


# the Reading ---------------------------------------------------------------------------------------
def read(dialogue, text: str, intent: str = "describe_customer", state: ConversationState | None = None):
    state = state or fresh()
    dialogue.identifier.begin_turn()
    return dialogue.read(UserTurn(text=text, intent=intent), state)


@pytest.mark.parametrize(
    "text, lang, script",
    [
        ("he keeps interrupting me", "en", None),
        ("这个客户很挑剔", "zh", "hans"),
        ("這位客戶很挑剔", "zh", "hant"),
        ("ok", None, None),
        ("😡", None, None),
    ],
)
def test_reading_language_and_script(dialogue, text, lang, script):
    r = read(dialogue, text)
    assert (r.lang, r.script) == (lang, script)


def test_reading_names_types_stages_and_negated_stages(dialogue):
    r = read(dialogue, "what's the difference between picky and suspicious?")
    assert r.types_named == ["picky", "suspicious"] and r.question and r.comparing
    r = read(dialogue, "not opening, closing. how do I get her to sign?")
    assert r.stage_named == "closing" and ("opening", True) in r.stages
    r = read(dialogue, "不是开场，我是说怎么成交")
    assert r.stage_named == "closing"


def test_reading_trade_stated_unsupported_and_hinted(dialogue):
    assert read(dialogue, "I sell cars").trade_stated == "car"
    assert read(dialogue, "我是卖房子的").trade_stated == "real_estate"
    assert read(dialogue, "i sell phone plans", "set_trade").trade_unsupported == "phone plans"
    assert read(dialogue, "I sell cosmetics btw, B2C retail", "set_trade").trade_unsupported == "cosmetics"
    assert read(dialogue, "我是卖化妆品的", "set_trade").trade_unsupported == "化妆品"
    assert read(dialogue, "I sell HR and payroll software", "set_trade").trade_stated == "b2b_software"
    assert read(dialogue, "he knows more about cars than me").trade_hinted == "car"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("thanks", "thanks"),
        ("ok thanks 拜拜", "goodbye"),
        ("cool thx, 再见", "goodbye"),
        ("thanks, that's all", "goodbye"),
        ("谢谢", "thanks"),
        ("好吧謝謝", "thanks"),
        ("you're kind of useless tbh", "complaint"),
        ("你这个太没用了", "complaint"),
        ("how are you?", "small_talk"),
        ("hello", "greeting"),
        ("he said thanks and left", None),
        ("he says our product is useless", None),
        ("thanks, what should I say to open?", None),
    ],
)
def test_reading_social_lines(dialogue, text, kind):
    assert read(dialogue, text).social == kind


@pytest.mark.parametrize(
    "text, answer",
    [
        ("yes", "yes"),
        ("yes please", "yes"),
        ("对", "yes"),
        ("no, leave it as suspicious", "no"),
        ("不用换", "no"),
        ("不用換", "no"),
        ("nope", "no"),
    ]
    + [("what should I say?", None), ("not bad", None)],
)
def test_reading_confirmation(dialogue, text, answer):
    assert read(dialogue, text).confirmation == answer


def test_reading_identifies_each_text_once_per_turn(dialogue):
    """The identifier runs at most once per text in a turn, however many readers ask."""
    state = fresh()
    dialogue.respond(UserTurn(text="he keeps interrupting me and says he knows better", intent="describe_customer"), state)
    calls = dialogue.identifier.calls
    texts = len(dialogue.identifier._memo)
    assert calls == texts
    dialogue.respond(UserTurn(text="he finally asked about financing", intent="describe_customer"), state)
    assert dialogue.identifier.calls == len(dialogue.identifier._memo)


def test_an_unsure_reading_offers_both_and_each_button_answers(dialogue, engine):
    state = fresh()
    reply = dialogue.respond(UserTurn(text="complaints keep coming in, what do we do first?", intent="leaderboard", confidence=0.45), state)
    payloads = [p for _, p in reply.buttons]
    assert payloads[0] == "/leaderboard" and '/ask_knowledge{"item": "complaint_steps"}' in payloads
    topic = dialogue.respond(UserTurn(text=payloads[1], intent="ask_knowledge", entities={"item": "complaint_steps"}), state)
    assert engine.kb.topics["complaint_steps"].title.en in topic.text
    sure = dialogue.respond(UserTurn(text="show me the leaderboard", intent="leaderboard", confidence=0.95), fresh())
    assert not any(p == '/ask_knowledge{"item": "complaint_steps"}' for _, p in sure.buttons)


def test_every_option_the_chooser_offers_names_a_route(dialogue, engine):
    """The chooser builds its payloads itself (tests/test_domain.py sees only Answer.button): each names a route."""
    from knowledge.engine.chooser import two_types
    from knowledge.engine.dialogue import FEATURES

    assert set(FEATURES) <= set(dialogue.routes)
    for _, payload in two_types(engine.kb, "picky", "suspicious", "en").buttons:
        assert payload[1:].partition("{")[0] in dialogue.routes
    state = fresh()
    for intent in FEATURES:
        reply = dialogue.respond(
            UserTurn(text="my team keeps getting complaints, what do we do first?", intent=intent, confidence=0.3), state
        )
        assert all(p[1:].partition("{")[0] in dialogue.routes for _, p in reply.buttons)


def test_a_button_follows_the_channels_language_and_typed_text_its_own(dialogue):
    """The web chat's language toggle sends no message: its setting comes with the next one (channel_lang), and
    decides for a button or an emoji; what the user writes still decides for text."""
    state = fresh("en")
    dialogue.respond(UserTurn(text=SUSPICIOUS, intent="describe_customer", channel_lang="en"), state)
    dialogue.respond(UserTurn(text="/ask_avoid", intent="ask_avoid", channel_lang="zh"), state)
    assert state.lang == "zh"
    dialogue.respond(UserTurn(text="what do I say to close?", intent="ask_stage", channel_lang="zh"), state)
    assert state.lang == "en"
