"""Types stay distinct: no two types give the same advice in other words, or describe customers with the same cue."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import yaml

CONTENT = Path(__file__).resolve().parents[1] / "knowledge" / "content"
TYPES: Dict[str, dict] = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(CONTENT.glob("types/*.yaml"))}
STOPWORDS = set(
    "a an the and or to of in on for with they them their is are it that this as by be at not no from your "
    "you what which when so than he his him she her".split()
)
# Word overlap (Jaccard) of two tactics for the same stage; the closest pair of different types measured 0.33
# (2026-11, after issue 12), interchangeable wording measured above 0.5.
MAX_TACTIC_OVERLAP = 0.45


def content_words(text: str) -> Set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in STOPWORDS}


def overlap(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    return len(wa & wb) / max(1, len(wa | wb))


def test_tactics_of_different_types_are_not_interchangeable():
    tactics: List[Tuple[str, str, str]] = [
        (type_id, stage, t["en"]) for type_id, data in TYPES.items() for stage, items in data["tactics"].items() for t in items
    ]
    close = [
        f"{a[0]} / {b[0]} ({a[1]}, {overlap(a[2], b[2]):.2f}): {a[2]!r} ~ {b[2]!r}"
        for a, b in itertools.combinations(tactics, 2)
        if a[0] != b[0] and a[1] == b[1] and overlap(a[2], b[2]) > MAX_TACTIC_OVERLAP
    ]
    assert not close, "\n".join(close)


def test_no_cue_or_keyword_belongs_to_two_types():
    for lang in ("en", "zh"):
        owner: Dict[str, str] = {}
        for type_id, data in TYPES.items():
            for text in [*data["cues"][lang], *data["keywords"][lang]]:
                key = re.sub(r"\W+", " ", text.lower()).strip()
                assert owner.setdefault(key, type_id) == type_id, f"{lang} {text!r}: both {owner[key]} and {type_id}"


def test_defensive_is_built_on_its_stance_not_on_doubt_or_faults():
    """The self-defensive customer resists from a high stance (seed 003 二.5 (1)); doubting claims is the
    suspicious customer's cue and finding faults the picky one's, so defensive cues do not lean on them."""
    borrowed = re.compile(
        r"\b(catch|scam\w*|burn(ed|t)|rip(ped)? off|proof|prove|verify|flaw\w*|defect\w*|scratch)\b|"
        r"套路|被坑|吃过亏|骗局|证据|核实|瑕疵|划痕",
        re.IGNORECASE,
    )
    found = [c for lang in ("en", "zh") for c in TYPES["defensive"]["cues"][lang] if borrowed.search(c)]
    assert not found, found
