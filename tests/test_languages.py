"""Languages come from knowledge/schema.py LANGS: adding one is an entry there plus the texts it names.

The content's texts (Text, Lists: one entry per language), the web chat's strings and the code's per-language
tables (separators, lengths, quote marks) are found by walking them; with a third language added to a copy of the
content, every text still to translate is listed, file by file.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from knowledge import paths, schema
from knowledge.loader import load_yaml
from knowledge.schema import LANGS, missing_texts

ROOT = Path(__file__).resolve().parent.parent
STRINGS = ROOT / "bot" / "channels" / "webchat_static" / "strings.json"
THIRD = "xx"  # a stand-in third language


def content_files(root: Path) -> List[Path]:
    return sorted(root.rglob("*.yaml"))


def missing_in(root: Path, langs: Tuple[str, ...]) -> Dict[str, List[Tuple[str, str]]]:
    """Per file (relative to `root`), the texts lacking a language of `langs`."""
    found = {str(p.relative_to(root)): missing_texts(load_yaml(p.read_text(encoding="utf-8")), langs) for p in content_files(root)}
    return {name: places for name, places in found.items() if places}


def texts_in(data: Any) -> int:
    """How many texts (mappings with a language key) `data` holds."""
    if isinstance(data, dict):
        return 1 if all(lang in data for lang in LANGS) else sum(texts_in(v) for v in data.values())
    return sum(texts_in(v) for v in data) if isinstance(data, list) else 0


@functools.lru_cache(maxsize=1)
def per_language_tables() -> Dict[str, Dict[str, Any]]:
    """The code's module-level tables keyed by language ("knowledge.engine.wording.LIST_SEPARATOR": {...})."""
    import bot.channels
    import knowledge

    tables: Dict[str, Dict[str, Any]] = {}
    for package in (knowledge, bot.channels):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith(("__main__", ".cli")) or "webchat_static" in info.name:
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, dict) and value and set(value) <= {*LANGS, THIRD} and set(value) & set(LANGS):
                    tables.setdefault(f"{info.name}.{name}", value)
    return tables


def test_every_text_and_table_has_every_language_now() -> None:
    assert missing_in(paths.CONTENT_DIR, LANGS) == {}
    strings = json.loads(STRINGS.read_text(encoding="utf-8"))
    assert set(strings) == set(LANGS) and all(set(strings[lang]) == set(strings[LANGS[0]]) for lang in LANGS)
    tables = per_language_tables()
    assert "knowledge.engine.wording.LIST_SEPARATOR" in tables, sorted(tables)
    assert {name: sorted(t) for name, t in tables.items() if set(t) != set(LANGS)} == {}
    assert set(schema.Text.__fields__) == set(LANGS) and set(schema.Lists3.__fields__) == set(LANGS)


def test_a_third_language_added_to_a_copy_of_the_content_lists_every_missing_string(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(paths.CONTENT_DIR, copy)
    langs = (*LANGS, THIRD)
    missing = missing_in(copy, langs)
    every = {str(p.relative_to(copy)): texts_in(load_yaml(p.read_text(encoding="utf-8"))) for p in content_files(copy)}
    assert {name: len(places) for name, places in missing.items()} == {name: n for name, n in every.items() if n}
    assert all(lang == THIRD for places in missing.values() for _, lang in places)

    # translating one file takes it off the list, and only it
    done = copy / "terms.yaml"
    done.write_text(yaml.safe_dump(translated(load_yaml(done.read_text(encoding="utf-8"))), allow_unicode=True), encoding="utf-8")
    after = missing_in(copy, langs)
    assert "terms.yaml" not in after and set(after) == set(missing) - {"terms.yaml"}

    # the web chat's strings and the code's per-language tables: each one named
    strings = json.loads(STRINGS.read_text(encoding="utf-8"))
    assert THIRD not in strings, "the web chat's strings would need a THIRD section"
    tables = per_language_tables()
    assert tables and all(THIRD not in t for t in tables.values())


def translated(data: Any) -> Any:
    """The data with a THIRD entry in every text (a copy of its first language's)."""
    if isinstance(data, dict):
        if all(lang in data for lang in LANGS):
            return {**data, THIRD: data[LANGS[0]]}
        return {k: translated(v) for k, v in data.items()}
    return [translated(v) for v in data] if isinstance(data, list) else data


@pytest.mark.parametrize("lang", LANGS)
def test_the_schema_requires_every_language_of_langs(lang: str) -> None:
    from pydantic import ValidationError

    given = {other: "text" for other in LANGS if other != lang}
    with pytest.raises(ValidationError, match=lang):
        schema.Text(**given)
