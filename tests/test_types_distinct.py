"""Types stay distinct: no two types give the same advice in other words, or describe customers with the same cue."""

from __future__ import annotations

import itertools
import re
from difflib import SequenceMatcher
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from knowledge.loader import load_yaml

CONTENT = Path(__file__).resolve().parents[1] / "knowledge" / "content"
TYPES: Dict[str, dict] = {p.stem: load_yaml(p.read_text(encoding="utf-8")) for p in sorted(CONTENT.glob("types/*.yaml"))}
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


def zh_bigrams(text: str) -> Set[str]:
    text = re.sub(r"\W+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def zh_overlap(a: str, b: str) -> float:
    ba, bb = zh_bigrams(a), zh_bigrams(b)
    return len(ba & bb) / max(1, len(ba | bb))


# A cue in other words: the closest cues of two types measured 0.46 (English content words) and 0.31 (Chinese
# character pairs) after issue 24, where they describe different behaviour ("looked up our registration on his
# phone" / "kept scrolling on his phone"); the defensive and caustic "last word" cues that issue 24 found shared
# measured 0.57 and 0.41.
MAX_CUE_OVERLAP = {"en": 0.5, "zh": 0.38}
# Closing tactics of two types: the closest pair measured 0.33 / 0.13 after issue 24; the defensive and
# dominant-hostile closings issue 24 found "almost word for word the same" measured 0.42 / 0.30.
MAX_CLOSING_OVERLAP = {"en": 0.36, "zh": 0.25}
MEASURES = {"en": overlap, "zh": zh_overlap}


def shared_phrase(a: str, b: str) -> List[str]:
    """The longest run of words two English texts share, when it has at least three content words
    ("has to have the last word"); a shared frame such as "and asked me to" does not count."""
    wa, wb = re.findall(r"[a-z']+", a.lower()), re.findall(r"[a-z']+", b.lower())
    m = SequenceMatcher(None, wa, wb, autojunk=False).find_longest_match(0, len(wa), 0, len(wb))
    run = wa[m.a : m.a + m.size]
    return run if m.size >= 4 and len([w for w in run if w not in STOPWORDS]) >= 3 else []


def cues_shared(a: str, b: str, lang: str) -> bool:
    return MEASURES[lang](a, b) > MAX_CUE_OVERLAP[lang] or (lang == "en" and bool(shared_phrase(a, b)))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_two_types_share_a_cue_in_other_words(lang):
    cues = [(type_id, c) for type_id, data in TYPES.items() for c in data["cues"][lang]]
    shared = [
        f"{a[0]} / {b[0]} ({MEASURES[lang](a[1], b[1]):.2f}, {' '.join(shared_phrase(a[1], b[1]))!r}): {a[1]!r} ~ {b[1]!r}"
        for a, b in itertools.combinations(cues, 2)
        if a[0] != b[0] and cues_shared(a[1], b[1], lang)
    ]
    assert not shared, "\n".join(shared)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_two_types_share_a_closing_tactic(lang):
    closings = [(type_id, t[lang]) for type_id, data in TYPES.items() for t in data["tactics"]["closing"]]
    shared = [
        f"{a[0]} / {b[0]} ({MEASURES[lang](a[1], b[1]):.2f}): {a[1]!r} ~ {b[1]!r}"
        for a, b in itertools.combinations(closings, 2)
        if a[0] != b[0] and MEASURES[lang](a[1], b[1]) > MAX_CLOSING_OVERLAP[lang]
    ]
    assert not shared, "\n".join(shared)


def test_the_cue_overlap_measure_catches_the_cues_issue_24_found_shared():
    """The measure above is not blind: the pairs the content review quoted score over the limits."""
    assert cues_shared("she has to have the last word on every single point", "sharp tongue, always has to have the last word", "en")
    assert cues_shared("he challenged every single point, just to show he could", "he challenged every point just to show he can", "en")
    assert cues_shared("跟我聊孩子聊了半天，一到要定的时候就不说话了", "跟我聊孩子聊了半天，一说要定就不吭声了", "zh")
    assert not cues_shared("every suggestion I make, he shoots down", "he asked me to comment on a forum thread", "en")
    # the closings issue 24 found the same in other words (dominant-hostile's and caustic's before it)
    assert CLOSING_MOVE.search("Leave the final choice to them: offer options and let them pick; the decision must feel like theirs.")
    assert CLOSING_MOVE.search("Leave them the choice and the final word, so that agreeing feels like their own win rather than giving in.")


# The closing move "leave them the final say" in its wordings: among neighbours only one type may close with it
# (issue 24: the self-defensive, dominant-hostile and caustic closings all said it in other words).
CLOSING_MOVE = re.compile(
    r"\b(final (choice|word|say)|hand them the decision|let them (pick|choose|set)|feels? like (theirs|their (own )?(win|victory)))",
    re.I,
)


def test_only_one_of_the_hostile_neighbours_closes_by_leaving_them_the_final_say():
    users = {
        t for t in ("defensive", "dominant_hostile", "caustic") for c in TYPES[t]["tactics"]["closing"] if CLOSING_MOVE.search(c["en"])
    }
    assert len(users) <= 1, users


@pytest.mark.parametrize(
    "group, stage",
    [
        (("defensive", "dominant_hostile", "caustic"), "opening"),
        (("defensive", "dominant_hostile", "caustic"), "closing"),
        (("dominant_friendly", "deliberate"), "opening"),
        (("dominant_friendly", "deliberate"), "closing"),
    ],
)
def test_neighbours_open_and_close_differently(group, stage):
    """The neighbours issue 24 named get tactics that do not say the same thing (no shared "set the agenda")."""
    tactics = [(type_id, t["en"]) for type_id in group for t in TYPES[type_id]["tactics"][stage]]
    close = [
        f"{a[0]} / {b[0]} ({overlap(a[1], b[1]):.2f}): {a[1]!r} ~ {b[1]!r}"
        for a, b in itertools.combinations(tactics, 2)
        if a[0] != b[0] and overlap(a[1], b[1]) > 0.3
    ]
    assert not close, "\n".join(close)
    agenda = [type_id for type_id, text in tactics if re.search(r"set the agenda", text, re.I)]
    assert len(agenda) <= 1, agenda


def test_every_type_card_tells_itself_apart_from_its_neighbours_in_both_languages():
    for type_id, data in TYPES.items():
        entries = data["tell_apart"]
        assert 2 <= len(entries) <= 3, type_id
        for entry in entries:
            mirror = next(m for m in TYPES[entry["type"]]["tell_apart"] if m["type"] == type_id)
            for lang in ("en", "zh"):
                for key in ("question", "sign", "behaviour", "advice"):
                    assert entry[key][lang].strip(), (type_id, entry["type"], key, lang)
                assert entry["question"][lang] == mirror["question"][lang]
                assert entry["sign"][lang] != mirror["sign"][lang]
                assert entry["advice"][lang] != mirror["advice"][lang]


def test_the_neighbours_issue_24_names_are_told_apart():
    named = [
        ("defensive", "caustic"),
        ("defensive", "dominant_hostile"),
        ("dominant_hostile", "caustic"),
        ("timid_friendly", "superficial"),
        ("picky", "superficial"),
        ("dominant_friendly", "dominant_hostile"),
        ("dominant_friendly", "deliberate"),
        ("deliberate", "picky"),
        ("deliberate", "suspicious"),
        ("picky", "suspicious"),
        ("detached", "timid_hostile"),
    ]
    for a, b in named:
        assert b in [e["type"] for e in TYPES[a]["tell_apart"]], (a, b)
