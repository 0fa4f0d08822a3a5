"""The Rasa domain, the rules, the NLU data, the engine's router and ui.yaml agree with each other.

Every name the code uses across a boundary (an intent, an entity in a button payload, the memory slot,
the action, a ui text key) is checked against the file that declares it, so a rename on one side fails here
instead of in a conversation.
"""

from __future__ import annotations

import ast
import json
import random
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from knowledge.engine.answer import Answer
from knowledge.engine.clarifying import CLARIFY_OPTIONS, CLARIFY_ORDER
from knowledge.engine.dialogue import FEATURES
from knowledge.engine.library import _MODELS
from knowledge.engine.practice import STAGES
from knowledge.engine.practice.tuning import LEVELS
from knowledge.engine.state import ENTITIES, MEMORY_SLOT, ConversationState, UserTurn
from knowledge.loader import load_yaml

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_DIR = ROOT / "bot" / "domain"
ENGINE_SOURCES = sorted((ROOT / "knowledge").rglob("*.py"))
# intents NLU emits without the domain declaring them; the router's fallback answers them on purpose
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}
MIN_EXAMPLES_PER_LANGUAGE = 10


@lru_cache(maxsize=1)
def domain() -> Dict[str, list]:
    """The split domain files merged as Rasa merges them: lists concatenated, mappings united."""
    merged: Dict[str, list] = {"intents": [], "entities": [], "slots": [], "actions": []}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        for key in merged:
            value = data.get(key) or []
            merged[key] += list(value) if isinstance(value, list) else list(value.keys())
    return merged


def domain_intents() -> List[str]:
    return [i if isinstance(i, str) else next(iter(i)) for i in domain()["intents"]]


@pytest.fixture(scope="module")
def routes(dialogue) -> Set[str]:
    return set(dialogue.routes)


# domain, rules, router ---------------------------------------------------------------------------------
def test_no_name_is_declared_twice():
    for key in ("intents", "entities", "slots", "actions"):
        names = domain_intents() if key == "intents" else domain()[key]
        dup = [n for n, c in Counter(names).items() if c > 1]
        assert not dup, f"{key} declared twice in bot/domain: {dup}"


def test_every_intent_has_a_rule_to_the_one_action():
    rules = load_yaml((ROOT / "data" / "rules" / "respond.yml").read_text(encoding="utf-8"))["rules"]
    ruled: Dict[str, List[str]] = {}
    for rule in rules:
        steps = rule["steps"]
        assert len(steps) == 2 and "intent" in steps[0] and "action" in steps[1], rule
        ruled.setdefault(steps[0]["intent"], []).append(steps[1]["action"])
    missing = [i for i in domain_intents() if i not in ruled]
    assert not missing, f"intents without a rule in data/rules/respond.yml: {missing}"
    assert "nlu_fallback" in ruled, "a low-confidence message must reach the router too"
    assert {a for actions in ruled.values() for a in actions} == {"action_respond"}
    unknown = set(ruled) - set(domain_intents()) - FALLBACK_INTENTS
    assert not unknown, f"rules for intents the domain does not declare: {unknown}"


def test_every_intent_has_a_route_or_falls_back_on_purpose(routes):
    missing = [i for i in domain_intents() if i not in routes and i not in FALLBACK_INTENTS]
    assert not missing, f"intents the router sends to its fallback by accident: {missing}"
    stale = routes - set(domain_intents())
    assert not stale, f"routes for intents the domain does not declare: {stale}"


def test_the_only_slot_is_the_memory_and_the_only_action_is_action_respond():
    assert domain()["slots"] == [MEMORY_SLOT]
    assert domain()["actions"] == ["action_respond"]
    from actions.common import ActionRespond

    assert ActionRespond().name() == "action_respond"
    action_classes = [
        node.name
        for path in (ROOT / "actions").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "Action" for b in node.bases)
    ]
    assert action_classes == ["ActionRespond"]


def test_rasa_reads_the_domain_as_these_tests_do():
    from rasa.shared.core.domain import Domain

    loaded = Domain.load(str(DOMAIN_DIR))
    assert set(domain_intents()) <= set(loaded.intents)
    assert [s.name for s in loaded.slots if not s.name.startswith("requested_slot") and s.name != "session_started_metadata"] == [
        MEMORY_SLOT
    ]
    assert set(loaded.entities) == set(domain()["entities"])
    assert loaded.user_actions == ["action_respond"]


# NLU examples ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nlu_counts() -> Counter:
    from rasa.shared.nlu.training_data.loading import load_data

    counts: Counter = Counter()
    for message in load_data(str(ROOT / "data" / "nlu")).intent_examples:
        text = message.get("text")
        lang = "zh" if re.search(r"[\u3400-\u9fff]", text) else "en"
        counts[(message.get("intent"), lang)] += 1
    return counts


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_intent_has_examples_in_both_languages(nlu_counts, lang):
    thin = {i: nlu_counts[(i, lang)] for i in domain_intents() if nlu_counts[(i, lang)] < MIN_EXAMPLES_PER_LANGUAGE}
    assert not thin, f"intents with fewer than {MIN_EXAMPLES_PER_LANGUAGE} {lang} examples: {thin}"


def test_nlu_names_no_intent_outside_the_domain(nlu_counts):
    unknown = {intent for intent, _ in nlu_counts} - set(domain_intents())
    assert not unknown, f"NLU examples for intents the domain does not declare: {unknown}"


# what the engine's source uses ------------------------------------------------------------------------------
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def calls(attr: str) -> Iterator[Tuple[Path, ast.Call, List[ast.AST]]]:
    """Every call `x.<attr>(...)` in knowledge/, with its enclosing functions (innermost last)."""
    for path in ENGINE_SOURCES:
        yield from calls_in(path, ast.parse(path.read_text(encoding="utf-8")), attr, [])


def calls_in(path: Path, node: ast.AST, attr: str, functions: List[ast.AST]) -> Iterator[Tuple[Path, ast.Call, List[ast.AST]]]:
    if isinstance(node, FUNCTIONS):
        functions = functions + [node]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attr:
        yield path, node, functions
    for child in ast.iter_child_nodes(node):
        yield from calls_in(path, child, attr, functions)


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"


def test_every_button_names_a_declared_intent_and_entities(routes):
    """Payloads are built by Answer.button(title, intent, **entities): both names must exist on the Rasa side."""
    declared_entities = set(domain()["entities"])
    assert declared_entities == set(ENTITIES), "state.ENTITIES (what the action reads) and the domain's entities differ"
    found = 0
    for path, call, _ in calls("button"):
        if len(call.args) < 2:
            continue
        found += 1
        intent = call.args[1]
        assert isinstance(intent, ast.Constant) and isinstance(intent.value, str), f"{where(path, call)}: intent not a literal"
        assert intent.value in domain_intents() and intent.value in routes, f"{where(path, call)}: /{intent.value}"
        for kw in call.keywords:
            assert kw.arg in declared_entities, f"{where(path, call)}: entity {kw.arg!r} not in the domain"
    assert found >= 20, "the scan found too few buttons: has Answer.button changed its signature?"


# f-string keys and the values their placeholder takes
FSTRING_VARIANTS: Dict[str, Tuple[str, ...]] = {
    "ask_{}": CLARIFY_ORDER,
    "answer_{}": tuple(o for options in CLARIFY_OPTIONS.values() for o in options),
    "pstage_{}": STAGES,
    "outcome_{}": ("agree", "walk_away", "ended", "out_of_turns"),  # Practice.finish's outcomes
    "practice_level_{}": tuple(LEVELS),  # the level a session is played at (Practice.start)
    "{}_overview": tuple(_MODELS),
    "group_{}": ("style", "problem", "sales_point"),  # Library.list_types' groups
    "feature_{}": FEATURES,  # the chooser's feature buttons (Dialogue.choose_reading)
}


def template(node: ast.AST) -> str | None:
    """'ask_{}' for f"ask_{slot}" or 'group_' + group; None when the key is not built from a literal."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        part = lambda side: side.value if isinstance(side, ast.Constant) else (template(side) or "{}")
        return part(node.left) + part(node.right)
    return None


def strings_in(node: ast.AST) -> List[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def values_of(name: str, functions: List[ast.AST]) -> List[str]:
    """The literals a local name is given in its function: `key = "a" if x else "b"`, `for key in ("a", "b")`."""
    found: List[str] = []
    for func in reversed(functions):
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found += strings_in(node.value)
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
                found += strings_in(node.iter)
        if found:
            break
    return found


def keys_passed(path: Path, arg: ast.AST, functions: List[ast.AST], depth: int = 0) -> List[Tuple[str, str]]:
    """(key, where) for one key argument: a literal, an f-string expanded, a local, or a parameter's callers' literals."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [(arg.value, where(path, arg))]
    shape = template(arg)
    if shape is not None:
        assert shape in FSTRING_VARIANTS, f"{where(path, arg)}: add the values of {shape!r} to FSTRING_VARIANTS"
        return [(shape.format(v), where(path, arg)) for v in FSTRING_VARIANTS[shape]]
    if isinstance(arg, ast.Name):
        local = values_of(arg.id, functions)
        if local:
            return [(v, where(path, arg)) for v in local]
        func = functions[-1] if functions else None
        params = [a.arg for a in func.args.args] if isinstance(func, FUNCTIONS) else []
        if arg.id in params and depth < 2:
            position = params.index(arg.id) - (1 if params and params[0] == "self" else 0)
            out: List[Tuple[str, str]] = []
            for caller_path, call, caller_functions in calls(func.name):
                if len(call.args) > position:
                    out += keys_passed(caller_path, call.args[position], caller_functions, depth + 1)
            assert out, f"{where(path, arg)}: no caller of {func.name}() passes a key"
            return out
    raise AssertionError(f"{where(path, arg)}: a ui key this test cannot resolve; use a literal or extend the test")


@lru_cache(maxsize=1)
def ui_texts() -> Dict[str, dict]:
    return load_yaml((ROOT / "knowledge" / "content" / "ui.yaml").read_text(encoding="utf-8"))["texts"]


def used_ui_keys() -> List[Tuple[str, str]]:
    used: List[Tuple[str, str]] = []
    for path, call, functions in calls("text"):
        if not call.args or "kb" not in ast.unparse(call.func.value):
            continue
        used += keys_passed(path, call.args[0], functions)
    return used


def test_every_ui_key_used_in_code_exists_in_both_languages():
    used = used_ui_keys()
    assert len({k for k, _ in used}) >= 100, "the scan found too few keys: has kb.text changed?"
    missing = sorted({f"{key} ({at})" for key, at in used if key not in ui_texts()})
    assert not missing, f"ui keys used in code but not in knowledge/content/ui.yaml texts: {missing}"
    for key, at in used:
        entry = ui_texts()[key]
        assert all(isinstance(entry, dict) and entry.get(lang) for lang in ("en", "zh")), f"{key} ({at}) lacks a language"


def test_the_key_scan_sees_every_kind_of_key():
    """The resolver itself: literals, f-strings, locals and a parameter's callers all reach the list."""
    keys = {k for k, _ in used_ui_keys()}
    for key in (
        "btn_types",
        "ask_warmth",
        "answer_holds_back",
        "outcome_walk_away",
        "disc_overview",
        "group_sales_point",
        "evidence_quote",
        "quiz_wrong",
        "about_privacy",
        "greet",
        "out_of_scope",
        "fallback",
    ):
        assert key in keys, key


# every button the bot can send is handled ------------------------------------------------------------------
Turn = Tuple[str, str, Dict[str, str]]  # (text, intent as NLU read it, entities)


def said(text: str, intent: str = "describe_customer", **entities: str) -> Turn:
    return text, intent, entities


# conversations that end in a state showing buttons: each is replayed for every button, so a button is
# always pressed in the state that showed it (practice sessions live in the user-data store, not in the state)
SCENARIOS: Dict[str, Dict[str, List[Turn]]] = {
    "en": {
        "menu": [said("hello", "greet")],
        "levels": [said("what levels are there?", "help")],
        "certificates": [said("my certificates", "my_certificates")],
        "help": [said("what can you do", "help")],
        "description": [said("he doubts every number I give him and wants proof for everything")],
        "thin description": [said("he is in his 50s and runs a small factory")],
        "second question": [said("he is in his 50s and runs a small factory"), said("he takes the lead", "")],
        "correction": [
            said("she's sweet and agreeable, says yes to everything, but can't bring herself to sign"),
            said("not quite, she's more the kind who thinks everything through slowly and compares every option", "correct_type"),
        ],
        "bare correction": [said("he doubts every number I give him"), said("/correct_type", "correct_type")],
        "follow-up": [said("he doubts every number I give him"), said("what should I avoid?", "ask_avoid")],
        "situation": [said("he doubts every number I give him"), said("what if he walks out?", "describe_customer")],
        "list customers": [
            said("he wants proof for every claim"),
            said("save him as Mr Li", "save_customer"),
            said("my customers", "list_customers"),
        ],
        "delete": [
            said("he wants proof for every claim"),
            said("save him as Mr Li", "save_customer"),
            said("delete Mr Li", "delete_customer"),
        ],
        "types": [said("what types are there", "list_types")],
        "topic": [said("how do I win back a lost customer?", "ask_knowledge")],
        "compare": [said("what's the difference between picky and suspicious?", "ask_knowledge")],
        "disc": [said("what is DISC?", "ask_knowledge")],
        "no topic": [said("tell me about the weather on mars", "ask_knowledge")],
        "quiz": [said("quiz me", "quiz")],
        "quiz answered": [said("quiz me", "quiz"), said("picky", "quiz_answer")],
        "practice start": [said("practise with a suspicious customer, I sell cars", "start_practice")],
        "practice turn": [
            said("practise with a suspicious customer, I sell cars", "start_practice"),
            said("Here is the signed warranty and the inspection report, please check them", ""),
        ],
        "practice end": [said("practise with a suspicious customer", "start_practice"), said("/practice_end", "practice_end")],
        "progress": [
            said("practise with a picky customer", "start_practice"),
            said("/practice_end", "practice_end"),
            said("my progress", "my_progress"),
        ],
        "no progress": [said("my progress", "my_progress")],
        "hint outside practice": [said("give me a hint", "practice_hint")],
        "trade question": [said("what I sell", "set_trade")],
        "trade set": [said("he doubts every number I give him"), said("I sell cars", "set_trade")],
        "fallback": [said("asdf qwerty", "nlu_fallback")],
    },
    "zh": {
        "menu": [said("你好", "greet")],
        "levels": [said("练习有哪些难度？", "help")],
        "certificates": [said("我的证书", "my_certificates")],
        "description": [said("他什么都要看合同原文，每个数字都要我拿证据")],
        "thin description": [said("客户五十多岁，开了个小厂")],
        "second question": [said("客户五十多岁，开了个小厂"), said("他比较强势", "")],
        "correction": [said("客户一进门就冷着脸，问什么都不怎么回应"), said("不对，他其实做不了主，说要回去问老婆", "correct_type")],
        "follow-up": [said("他什么都要看合同原文"), said("要避免什么？", "ask_avoid")],
        "situation": [said("他什么都要看合同原文"), said("他说要回去考虑一下", "describe_customer")],
        "list customers": [said("这个客户说话特别冲，总打断我"), said("把他存为王总", "save_customer"), said("我的客户", "list_customers")],
        "delete": [said("这个客户说话特别冲，总打断我"), said("把他存为王总", "save_customer"), said("删除王总", "delete_customer")],
        "types": [said("有哪些客户类型", "list_types")],
        "topic": [said("客户忠诚有哪几种？", "ask_knowledge")],
        "compare": [said("挑剔型和疑心型有什么区别？", "ask_knowledge")],
        "quiz": [said("考考我", "quiz")],
        "quiz answered": [said("考考我", "quiz"), said("挑剔型", "quiz_answer")],
        "practice start": [said("我想练习，来个疑心重的客户，我是卖车的", "start_practice")],
        "practice turn": [said("我想练习", "start_practice"), said("这是保修合同和检测报告，您可以仔细看看", "")],
        "practice end": [said("我想练习", "start_practice"), said("/practice_end", "practice_end")],
        "progress": [said("我想练习", "start_practice"), said("/practice_end", "practice_end"), said("我的进度", "my_progress")],
        "trade question": [said("我是做什么的", "set_trade")],
        "fallback": [said("啊啊啊", "nlu_fallback")],
    },
}
FALLBACK_TEXTS = ("Sorry, I didn't get that", "抱歉，我没看懂")


def pressed_turn(payload: str) -> Turn:
    """What the channel sends for a button: Rasa reads '/intent{json}' as that intent and its entities;
    a clarifying answer's payload is its title, typed text that NLU may read as anything."""
    if not payload.startswith("/"):
        return payload, "nlu_fallback", {}
    intent, _, raw = payload[1:].partition("{")
    return payload, intent, json.loads("{" + raw) if raw else {}


class SeededRandom:
    """Stands in for the `random` module inside practice (session.py, trainer.py): an unseeded Random (a new quiz, a new practice
    customer) gets the replay's next seed, so replaying a conversation reaches the same quiz and scene again."""

    def __init__(self):
        self.salt, self.count = "", 0

    def __getattr__(self, name: str):
        return getattr(random, name)

    def Random(self, seed=None) -> random.Random:  # noqa: N802 - the name it replaces
        if seed is None:
            self.count += 1
            seed = f"{self.salt}:{self.count}"
        return random.Random(seed)


class Replay:
    """Plays a conversation for a fresh salesperson each time, so every button is pressed in its own copy of
    the state that showed it (a practice session lives in the user-data store, so copying the state is not enough)."""

    def __init__(self, dialogue, lang: str, seeds: SeededRandom):
        self.dialogue, self.lang, self.seeds, self.runs = dialogue, lang, seeds, 0

    def play(self, scenario: str, turns: List[Turn]) -> Answer:
        self.runs += 1
        self.seeds.salt, self.seeds.count = scenario, 0
        state = ConversationState(user=f"buttons-{self.lang}-{self.runs}", lang=self.lang)
        reply = Answer()
        for text, intent, entities in turns:
            reply = self.dialogue.respond(UserTurn(text=text, intent=intent, entities=dict(entities)), state)
        return reply


@pytest.fixture
def replay(dialogue, monkeypatch):
    from knowledge.engine.practice import session, trainer

    seeds = SeededRandom()
    for practice_module in (session, trainer):  # the new practice customer and the new quiz
        monkeypatch.setattr(practice_module, "random", seeds)
    return lambda lang: Replay(dialogue, lang, seeds)


@pytest.mark.slow  # an exhaustive sweep of the content (every type, trade, stage): make test
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_button_pressed_in_its_state_gets_a_real_answer(replay, routes, engine, lang):
    """Each scenario's buttons, and the buttons of each answer they open, pressed one by one: a route exists,
    nothing raises, the answer is not empty, is not the "didn't get that" fallback, and never says
    "a Opinion-driven customer" (a ui text with "a" before a type name)."""
    vowel_names = [engine.kb.type_name(t, "en") for t in engine.kb.types if engine.kb.type_name(t, "en")[0] in "AEIOU"]
    article_slip = re.compile(r"\b[Aa] (?:" + "|".join(map(re.escape, vowel_names)) + r")\b") if vowel_names else None
    replay = replay(lang)
    problems: List[str] = []
    pressed = 0
    for scenario, turns in SCENARIOS[lang].items():
        shown = replay.play(scenario, turns)
        assert shown.buttons, f"{lang}/{scenario}: expected buttons, got {shown.text[:200]!r}"
        queue = [(turns, button, 1) for button in shown.buttons]
        seen: Set[str] = set()
        while queue:
            before, (title, payload), depth = queue.pop(0)
            if payload in seen:
                continue
            seen.add(payload)
            pressed += 1
            at = f"{lang}/{scenario}: {title!r} {payload}"
            intent = pressed_turn(payload)[1]
            if payload.startswith("/") and intent not in routes:
                problems.append(f"{at} has no route")
                continue
            steps = before + [pressed_turn(payload)]
            try:
                answer = replay.play(scenario, steps)
            except Exception as exc:  # noqa: BLE001 - every raising button is listed, not only the first
                problems.append(f"{at} raised {exc!r}")
                continue
            if not answer.text.strip():
                problems.append(f"{at} got an empty answer")
            elif any(text in answer.text for text in FALLBACK_TEXTS):
                problems.append(f"{at} got the fallback: {answer.text[:120]!r}")
            elif lang == "en" and article_slip and article_slip.search(answer.text):
                problems.append(f"{at}: {article_slip.search(answer.text).group(0)!r} in {answer.text[:80]!r}")
            if depth == 1:
                queue += [(steps, button, 2) for button in answer.buttons]
    assert not problems, "\n".join(problems)
    assert pressed >= (150 if lang == "en" else 100), f"only {pressed} buttons pressed"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_quiz_answered_by_button_is_judged_against_the_question_shown(replay, engine, lang):
    play = replay(lang)
    turns = [said("quiz me" if lang == "en" else "考考我", "quiz")]
    question = play.play("quiz", turns)
    assert len(question.buttons) >= 3
    right = engine.kb.text("quiz_right", lang, name="{}").split("{}")[0]
    verdicts = [play.play("quiz", turns + [pressed_turn(p)]).text.startswith(right) for _, p in question.buttons]
    assert verdicts.count(True) == 1, question.text
