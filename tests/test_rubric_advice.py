"""The practice rubric and the advice of each type agree: what the coach recommends is never what it penalises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from knowledge.engine.identify import Matcher
from knowledge.loader import load_yaml
from knowledge.text import normalise

CONTENT = Path(__file__).resolve().parents[1] / "knowledge" / "content"
TYPE_FILES = sorted(CONTENT.glob("types/*.yaml"))
# Closing tactics that ask the customer for the decision (the move propose_close), as trainers write them.
ASKS_FOR_DECISION = re.compile(r"\b(ask|invite|request)(s|ing)?\b[^.;:]{0,40}\b(decision|order|signature|commitment)\b", re.IGNORECASE)


def load(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def move_matcher() -> Matcher:
    """The same keyword matcher the reply scorer uses, over moves.yaml keywords."""
    moves = load(CONTENT / "moves.yaml")["moves"]
    return Matcher({m["id"]: m["keywords"] for m in moves})


@pytest.mark.parametrize("path", TYPE_FILES, ids=lambda p: p.stem)
def test_no_recommended_phrase_makes_a_move_the_rubric_penalises(path: Path, move_matcher: Matcher):
    data = load(path)
    rubric: Dict[str, int] = data["practice"]["rubric"]
    penalised = {move for move, weight in rubric.items() if weight < 0}
    found: List[str] = []
    for i, phrase in enumerate(data["phrases"]):
        for lang in ("en", "zh"):
            hits = [h for h in move_matcher.find(normalise(phrase[lang])) if h["type"] in penalised and not h["negated"]]
            found += [
                f"phrases.{i}.{lang}: {h['text']!r} is a keyword of {h['type']} " f"(rubric {rubric[h['type']]}): {phrase[lang]}"
                for h in hits
            ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", TYPE_FILES, ids=lambda p: p.stem)
def test_a_type_told_to_ask_for_the_decision_does_not_penalise_proposing_it(path: Path):
    data = load(path)
    asking = [t["en"] for t in data["tactics"]["closing"] if ASKS_FOR_DECISION.search(t["en"])]
    if asking:
        assert (
            data["practice"]["rubric"]["propose_close"] >= 0
        ), f"closing tactics ask for the decision but the rubric penalises propose_close: {asking[0]}"


def test_the_decision_pattern_reads_closing_advice():
    """Guards the pattern itself: it must recognise the ways the content says 'ask for the decision'."""
    assert ASKS_FOR_DECISION.search("Once the proof is in, ask for the decision plainly")
    assert ASKS_FOR_DECISION.search("invite the decision directly and confidently")
    assert not ASKS_FOR_DECISION.search("Give them the time and the material to decide")


def test_no_example_of_another_move_holds_a_pressure_keyword(move_matcher: Matcher):
    """Pressure keywords (short imperatives like "just take it", 「快定」) must not sit inside the examples of the
    moves the course teaches: otherwise a recommended close or offer is read as pressure."""
    moves = load(CONTENT / "moves.yaml")["moves"]
    pushing = {m["id"] for m in moves if m["reaction"] == "pressure"}
    found = [
        f"{m['id']}.{lang}: {h['text']!r} ({h['type']}): {example}"
        for m in moves
        if m["id"] not in pushing
        for lang in ("en", "zh")
        for example in m["examples"][lang]
        for h in move_matcher.find(normalise(example))
        if h["type"] == "pressure" and not h["negated"]
    ]
    assert not found, "\n".join(found)
