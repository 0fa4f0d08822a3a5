"""The coaching conversation as plain Python, turn by turn, in both languages."""
import pytest

from knowledge.engine.coaching import State


def apply(state: State, reply) -> State:
    for k, v in reply.slots.items():
        if hasattr(state, k):
            setattr(state, k, v if v is not None else ("" if k == "customer_notes" else {} if k == "evidence" else v))
    return state


@pytest.mark.parametrize("lang, text, name", [
    ("en", "He asked three times whether the guarantee is real and wants to see proof.", "Suspicious"),
    ("zh", "客户不太相信销售,总担心我们在价格上做手脚", "疑心型"),
])
def test_describe_names_type_why_tactics_pitfall_phrase_and_buttons(coach, lang, text, name):
    reply = coach.describe(text, State(lang=lang))
    assert name in reply.bubbles[0]
    assert reply.text.count("•") >= 4
    assert reply.slots["customer_type"] == "suspicious"
    payloads = [p for _, p in reply.buttons]
    assert payloads[:3] == ["/ask_phrase", "/ask_avoid", '/ask_stage{"stage": "closing"}']
    assert any(p.startswith("/start_practice") for p in payloads) and "/correct_type" in payloads
    assert all(len(b) <= 600 for b in reply.bubbles)


def test_follow_ups_use_the_remembered_type(coach, engine):
    state = apply(State(lang="en"), coach.describe("She nitpicks every detail and is never satisfied", State(lang="en")))
    picky = engine.kb.types["picky"]
    avoid = coach.follow_up("ask_avoid", "what should I avoid?", state)
    assert picky.pitfalls[0].avoid.en in avoid.text
    close = coach.follow_up("ask_stage", "how do I close?", state)
    assert picky.tactics.closing[0].en in close.text
    opening = coach.follow_up("ask_stage", "how do I open?", state)
    assert picky.tactics.opening[0].en in opening.text
    discount = coach.follow_up("ask_discount", "he's asking for a discount", state)
    assert any(t.en in discount.text for t in picky.tactics.objections if "price" in t.tags)
    first = coach.follow_up("ask_phrase", "give me another phrase", state)
    apply(state, first)
    second = coach.follow_up("ask_phrase", "another one", state)
    assert first.text != second.text
    why = coach.follow_up("ask_why", "why do you think so?", state)
    assert "nitpick" in why.text.lower() or "why" in why.text.lower()


def test_follow_up_without_a_customer_asks_for_one(coach):
    reply = coach.follow_up("ask_avoid", "what should I avoid?", State(lang="en"))
    assert "customer" in reply.text.lower() and "customer_type" not in reply.slots


def test_first_message_read_as_a_follow_up_still_coaches_the_customer_it_describes(coach):
    reply = coach.follow_up("ask_discount", "客户每样东西都挑毛病,就是为了让我降价,怎么办", State(lang="zh"))
    assert reply.slots["customer_type"] == "picky" and reply.buttons


def test_more_detail_updates_the_picture_and_says_what_changed(coach):
    state = apply(State(lang="en"), coach.describe("Very quiet, barely says a word and avoids eye contact", State(lang="en")))
    before = state.customer_type
    reply = coach.describe("also he doesn't trust anything we say and wants every claim in writing", state)
    assert reply.slots["customer_type"] == "suspicious"
    assert before != "suspicious" and "→" in reply.bubbles[0]


def test_correction_switches_type_and_is_stored(coach, engine):
    from knowledge.userdata import UserData

    state = apply(State(user="corrector", lang="en"), coach.describe("She nitpicks every detail", State(user="corrector", lang="en")))
    reply = coach.correct("no, he's more suspicious", state)
    assert reply.slots["customer_type"] == "suspicious"
    rows = list(UserData().db["feedback"].rows_where("user = ?", ["corrector"]))
    assert rows and rows[-1]["corrected"] == "suspicious" and rows[-1]["predicted"] == "picky"
    ask = coach.correct("not quite", state)
    assert all(p.startswith("/correct_type") or p == "/list_types" for _, p in ask.buttons)


def test_thin_description_asks_and_then_coaches(coach):
    reply = coach.describe("客户是本地人,开一辆白色的车", State(lang="zh"))
    assert reply.slots["clarifying"] is True
    state = apply(State(lang="zh"), reply)
    question = coach.clarify_question("lead", "zh")
    assert len(question.buttons) == 3
    done = coach.clarified(state, "leads", "cold", "skip")
    assert done.slots["customer_type"] == "dominant_hostile"


@pytest.mark.parametrize("text, topic_word", [
    ("how do I win back a lost customer?", "win"),
    ("the customer is complaining, what do I do?", "complain"),
    ("客户投诉怎么处理", "投诉"),
    ("what kind of loyalty is it when he only buys during promotions?", "incentive"),
])
def test_knowledge_questions_answer_from_topics(coach, text, topic_word):
    from knowledge.text import detect_lang

    reply = coach.knowledge(text, State(lang=detect_lang(text)))
    assert topic_word in reply.text.lower()


def test_type_questions_and_disc(coach):
    assert "Picky" in coach.knowledge("tell me about picky customers", State(lang="en")).text
    state = State(lang="en", customer_type="deliberate")
    assert "DISC" in coach.knowledge("what is this type in DISC?", state).text
    assert "疑心型" in coach.list_types("zh").text


def test_saved_customers_round_trip(coach):
    state = apply(State(user="saver", lang="en"), coach.describe("Sarcastic, mocks everything we offer", State(user="saver", lang="en")))
    saved = coach.customers("save_customer", "save him as Mr Zhang", state)
    assert "Mr Zhang" in saved.text
    listed = coach.customers("list_customers", "my customers", State(user="saver", lang="en"))
    assert "Mr Zhang" in listed.text
    recalled = coach.customers("recall_customer", "coach me on Mr Zhang", State(user="saver", lang="en"))
    assert recalled.slots["customer_type"] == state.customer_type
    others = coach.customers("list_customers", "my customers", State(user="someone-else", lang="en"))
    assert others.text == coach.kb.text("no_customers", "en")


def test_new_customer_forgets_the_old_one(coach):
    reply = coach.new_customer(State(lang="en", customer_type="picky"))
    assert reply.slots["customer_type"] is None


@pytest.mark.parametrize("text", ["", "😀😀😀", "<script>alert('x')</script>", "'; DROP TABLE customers; --", "x" * 10_000])
def test_bad_input_gets_a_friendly_answer(coach, text):
    reply = coach.describe(text, State(lang="en"))
    assert reply.bubbles and all(len(b) <= 600 for b in reply.bubbles)
    assert "<script>" not in reply.text


def test_fallback_coaches_a_description_asks_on_a_thin_one_and_suggests_otherwise(coach):
    thin = coach.fallback("The customer came in at 3pm with his wife.", State(lang="en"), "out_of_scope")
    assert thin.slots["clarifying"] is True
    clear = coach.fallback("客户讲话带刺,总喜欢冷嘲热讽", State(lang="zh"))
    assert clear.slots["customer_type"] == "caustic"
    other = coach.fallback("what's the weather in Paris tomorrow?", State(lang="en"), "out_of_scope")
    assert other.slots["clarifying"] is False and other.buttons
    for junk in ("'; DROP TABLE events; --", "<img src=x onerror=alert(1)>", "asdf qwer"):
        for reply in (coach.fallback(junk, State(lang="en")), coach.describe(junk, State(lang="en"))):
            assert reply.slots["clarifying"] is False and "customer_type" not in reply.slots, junk


def nlu_examples(intent: str) -> list:
    """The Rasa training examples of one intent: sentences the identifier never learnt from."""
    import yaml

    from knowledge.paths import PROJECT_DIR

    blocks = [item["examples"] for path in sorted((PROJECT_DIR / "data" / "nlu").glob("*.yml"))
              for item in yaml.safe_load(path.read_text())["nlu"] if item.get("intent") == intent]
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("- ") and "[" not in line]


def test_small_talk_that_reaches_the_fallback_is_not_coached_as_a_customer(coach):
    texts = nlu_examples("out_of_scope")
    coached = [t for t in texts if "customer_type" in coach.fallback(t, State(lang="en"), "out_of_scope").slots]
    assert len(coached) / len(texts) <= 0.05, coached[:20]


def test_descriptions_that_reach_the_fallback_are_coached(coach):
    texts = nlu_examples("describe_customer")
    coached = [t for t in texts if coach.fallback(t, State(lang="en")).slots.get("customer_type")]
    assert len(coached) / len(texts) >= 0.85
