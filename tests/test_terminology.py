"""One name per concept in each language (knowledge/content/terms.yaml), and neutral pronouns in advice.

Checks the content files as written, so a banned name cannot come back through any file a trainer edits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from knowledge.loader import load_yaml

CONTENT = Path(__file__).resolve().parents[1] / "knowledge" / "content"
TERMS = load_yaml((CONTENT / "terms.yaml").read_text(encoding="utf-8"))
LANGS = ("en", "zh")
# Every file a user's text comes from; terms.yaml itself and the copy of the shared taxonomy are not content.
CONTENT_FILES = sorted(
    [
        *CONTENT.glob("types/*.yaml"),
        *CONTENT.glob("topics/*.yaml"),
        *CONTENT.glob("scenes/*.yaml"),
        CONTENT / "situations.yaml",
        CONTENT / "moves.yaml",
        CONTENT / "ui.yaml",
    ]
)
# Keys whose text quotes the seeds (their headings keep the seeds' own wording).
QUOTED_KEYS = {"sources"}
# English pronouns for one customer; advice speaks of the customer as 'they' and the engine fits he/she.
GENDERED = re.compile(r"\b(he|him|his|himself|he's|he'll|he'd|she|her|hers|herself|she's)\b", re.IGNORECASE)


def texts_by_lang(node: Any, lang: str = "", path: str = "") -> Iterator[Tuple[str, str, str]]:
    """(language, path, text) for every string under an `en` or `zh` key, skipping quoted seed headings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in QUOTED_KEYS:
                continue
            yield from texts_by_lang(value, key if key in LANGS else lang, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from texts_by_lang(value, lang, f"{path}.{i}")
    elif isinstance(node, str) and lang:
        yield lang, path, node


def load(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


def uses(text: str, name: str, lang: str) -> bool:
    """Whole words, any case, in English; anywhere in Chinese (no word breaks)."""
    if lang == "en":
        return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) is not None
    return name in text


ALL_TEXTS: List[Tuple[str, str, str, str]] = [
    (path.relative_to(CONTENT).as_posix(), lang, where, text) for path in CONTENT_FILES for lang, where, text in texts_by_lang(load(path))
]


def test_the_terms_table_is_well_formed():
    assert TERMS["terms"], "terms.yaml lists no terms"
    for term in TERMS["terms"]:
        assert term["concept"].strip()
        for lang in LANGS:
            preferred, banned = term["preferred"][lang], term["banned"][lang]
            assert preferred.strip() and banned, f"{term['concept']}: {lang} needs a preferred and a banned name"
            clash = [b for b in banned if uses(preferred, b, lang) or uses(b, preferred, lang) and lang == "zh" and b.startswith(preferred)]
            assert not clash, f"{term['concept']}: banned {clash} would match the preferred name {preferred!r}"


@pytest.mark.parametrize("term", TERMS["terms"], ids=lambda t: t["preferred"]["en"])
def test_no_content_uses_a_banned_name(term: Dict[str, Any]):
    found = [
        f"{file}: {where}: {banned!r} (say {term['preferred'][lang]!r})"
        for file, lang, where, text in ALL_TEXTS
        for banned in term["banned"][lang]
        if uses(text, banned, lang)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("term", TERMS["terms"], ids=lambda t: t["preferred"]["en"])
def test_each_preferred_name_is_in_use(term: Dict[str, Any]):
    """A preferred name nobody uses means the table drifted from the content."""
    for lang in LANGS:
        assert any(
            uses(text, term["preferred"][lang], lang) for _, text_lang, _, text in ALL_TEXTS if text_lang == lang
        ), f"{term['preferred'][lang]!r} is not used in any content file"


def test_model_names_are_not_type_aliases():
    for path in sorted(CONTENT.glob("types/*.yaml")):
        data = load(path)
        for lang, reserved in TERMS["reserved_for_models"].items():
            taken = set(data["aliases"][lang]) & set(reserved)
            assert not taken, f"{path.name}: aliases.{lang} {sorted(taken)} name a Social Style, not this type"


def test_advice_speaks_of_the_customer_as_they():
    """Tactics and pitfalls say they/them; the engine turns them into he or she when the salesperson does.
    Phrases are exempt: they are said to the customer and may speak of a third person ('your wife ... she')."""
    found = []
    for path in sorted(CONTENT.glob("types/*.yaml")):
        data = load(path)
        texts = [(f"tactics.{stage}.{i}", t["en"]) for stage, items in data["tactics"].items() for i, t in enumerate(items)]
        texts += [(f"pitfalls.{i}.{part}", p[part]["en"]) for i, p in enumerate(data["pitfalls"]) for part in ("avoid", "why")]
        found += [f"{path.name}: {where}: {text}" for where, text in texts if GENDERED.search(text)]
    assert not found, "\n".join(found)
