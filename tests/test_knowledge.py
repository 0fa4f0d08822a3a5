"""The knowledge base: complete in both languages, validated, searchable, exportable."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from knowledge import paths
from knowledge.loader import ContentError, load_content
from knowledge.schema import STAGES

REQUIRED_TOPICS = {
    "consumer_segments", "reading_principles", "loyalty_kinds", "gauging_loyalty", "lost_customer_kinds", "win_back",
    "complaint_steps", "customer_loss_mistakes", "relationship_matrices", "ford_rapport", "satisfaction_vs_loyalty",
    "relationship_practices", "customer_kinds", "customer_orientations", "management_strategies", "customer_life_cycle",
}
COACH = str(Path(sys.executable).parent / "coach")


@pytest.fixture(scope="module")
def content():
    return load_content()


def test_every_taxonomy_type_has_a_complete_file(content):
    assert sorted(content.types) == sorted(content.taxonomy.type_ids)
    for type_id, t in content.types.items():
        for lang in ("en", "zh"):
            assert len(getattr(t.cues, lang)) >= 15, type_id
            assert len({getattr(p, lang) for p in t.phrases}) >= 5, type_id
            assert all(getattr(x, lang) for stage in STAGES for x in getattr(t.tactics, stage))
            assert len(getattr(t.practice.openings, lang)) >= 3
        assert t.names.zh == content.taxonomy.styles.get(type_id, content.taxonomy.traits.get(type_id))["zh"]
        assert t.models.disc.code and t.models.social_styles.code
        assert t.sources


def test_taxonomy_copy_matches_the_shared_contract():
    shared = paths.PROJECT_DIR.parent / "shared" / "taxonomy.yaml"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert yaml.safe_load(shared.read_text()) == yaml.safe_load(paths.TAXONOMY_PATH.read_text())


def test_every_topic_exists_in_both_languages(content):
    assert REQUIRED_TOPICS <= set(content.topics)
    for topic in content.topics.values():
        assert topic.title.en and topic.title.zh and topic.sources
        assert all(s.body.en and s.body.zh for s in topic.sections)
    assert len(content.topics["loyalty_kinds"].sections) == 7
    assert len(content.topics["consumer_segments"].sections) == 9
    assert len(content.topics["complaint_steps"].sections) == 5


def _broken_copy(tmp_path: Path, edit) -> Path:
    target = tmp_path / "content"
    shutil.copytree(paths.CONTENT_DIR, target)
    edit(target)
    return target


@pytest.mark.parametrize("edit, expected", [
    (lambda d: _drop(d / "types" / "picky.yaml", "pitfalls"), "picky.yaml: field 'pitfalls'"),
    (lambda d: _set(d / "types" / "picky.yaml", ["names", "zh"], None), "picky.yaml: field 'names.zh'"),
    (lambda d: _set(d / "types" / "picky.yaml", ["cues", "zh"], ["太挑剔"]), "picky.yaml: field 'cues.zh'"),
    (lambda d: _rename_type(d, "picky", "grumpy"), "unknown type id 'grumpy'"),
    (lambda d: _set(d / "topics" / "win_back.yaml", ["id"], "ford_rapport"), "duplicate id 'ford_rapport'"),
    (lambda d: _set(d / "topics" / "win_back.yaml", ["id"], "win_again"), "must match the file name"),
])
def test_invalid_content_fails_naming_file_and_field(tmp_path, edit, expected):
    broken = _broken_copy(tmp_path, edit)
    with pytest.raises(ContentError) as err:
        load_content(broken, paths.TRAINING_DIR)
    assert expected in str(err.value)


def test_training_row_not_about_a_customer_cannot_have_a_type(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "nice weather", "type": "picky", "about_customer": false}\n')
    with pytest.raises(ContentError) as err:
        load_content(paths.CONTENT_DIR, tmp_path)
    assert "bad.jsonl:1" in str(err.value) and "no type" in str(err.value)


def _drop(path: Path, key: str) -> None:
    data = yaml.safe_load(path.read_text())
    del data[key]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def _rename_type(content_dir: Path, old: str, new: str) -> None:
    (content_dir / "types" / f"{old}.yaml").rename(content_dir / "types" / f"{new}.yaml")
    _set(content_dir / "types" / f"{new}.yaml", ["id"], new)


def _set(path: Path, keys, value) -> None:
    data = yaml.safe_load(path.read_text())
    node = data
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("query", ["折扣", "discount"])
def test_search_finds_the_picky_discount_tactics_in_both_languages(engine, query):
    hits = engine.kb.search(query, limit=50)
    assert any(h["kind"] == "tactic" and h["ref"] == "picky" and h["field"].startswith("objections") for h in hits)


def test_rebuild_is_idempotent(engine):
    from knowledge.build import ensure_built

    _, _, rebuilt = ensure_built()
    assert rebuilt is False


def test_store_is_opened_read_only(engine):
    import sqlite3

    with pytest.raises(sqlite3.OperationalError):
        engine.kb.db.execute("delete from types")


def test_cli_export_holds_everything(engine, content):
    out = subprocess.run([COACH, "kb", "export"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert set(data["types"]) == set(content.types) and set(data["topics"]) == set(content.topics)
    assert data["types"]["picky"]["tactics"]["objections"][0]["zh"]


def test_cli_show_and_search(engine):
    shown = subprocess.run([COACH, "kb", "show", "suspicious", "--lang", "zh"], capture_output=True, text=True, check=True)
    assert "疑心型" in shown.stdout
    bad = subprocess.run([COACH, "kb", "show", "grumpy"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown type id" in bad.stderr
    found = subprocess.run([COACH, "kb", "search", "折扣"], capture_output=True, text=True, check=True)
    assert "picky" in found.stdout
