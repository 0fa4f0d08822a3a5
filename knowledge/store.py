"""The knowledge store: SQLite built with sqlite-utils, full-text searchable in English and Chinese.

Chinese has no spaces, so every passage is also kept segmented by jieba and the FTS5 index runs
over that column; a query is segmented the same way. The action server opens the file read-only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import sqlite_utils

from .loader import Content
from .schema import LANGS, STAGES, CustomerType, Moves, Situations, TellApart, Text, Topic, UiText, local

SCHEMA_VERSION = "2"


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    return jieba


def segment(text: str) -> str:
    """Words separated by spaces, lower-case: what the FTS index and queries are made of."""
    from .text import to_simplified

    words = _jieba().lcut_for_search(to_simplified(text).lower())
    return " ".join(w for w in words if w.strip() and (w.isalnum() or any(ch.isalnum() for ch in w)))


def _passages(content: Content) -> Iterator[Dict[str, str]]:
    for type_id, t in content.types.items():
        for lang in LANGS:
            yield dict(kind="type", ref=type_id, field="summary", lang=lang, text=local(t.summary, lang))
            for stage in STAGES:
                for i, tactic in enumerate(getattr(t.tactics, stage)):
                    yield dict(kind="tactic", ref=type_id, field=f"{stage}.{i}", lang=lang, text=local(tactic, lang))
            for i, p in enumerate(t.phrases):
                yield dict(kind="phrase", ref=type_id, field=f"{p.stage}.{i}", lang=lang, text=local(p, lang))
            for i, p in enumerate(t.pitfalls):
                yield dict(kind="pitfall", ref=type_id, field=str(i), lang=lang, text=f"{local(p.avoid, lang)} {local(p.why, lang)}")
    for topic_id, topic in content.topics.items():
        for lang in LANGS:
            yield dict(
                kind="topic",
                ref=topic_id,
                field="summary",
                lang=lang,
                text=f"{local(topic.title, lang)}. {local(topic.summary, lang)} {' '.join(local(topic.aliases, lang))}",
            )
            for s in topic.sections:
                advice = local(s.advice, lang) if s.advice else ""
                signs = " ".join(local(s.signs, lang)) if s.signs else ""
                yield dict(
                    kind="section",
                    ref=topic_id,
                    field=s.id,
                    lang=lang,
                    text=f"{local(s.title, lang)}. {local(s.body, lang)} {advice} {signs}".strip(),
                )


def build(content: Content, path: Path, fingerprint: str) -> Path:
    """Write the whole store to a temporary file and swap it in, so readers never see half a build."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.building")
    if tmp.exists():
        tmp.unlink()
    db = sqlite_utils.Database(tmp)
    db["meta"].insert_all([{"key": "fingerprint", "value": fingerprint}, {"key": "schema", "value": SCHEMA_VERSION}], pk="key")
    db["types"].insert_all(
        (
            {
                "id": i,
                "kind": t.kind,
                "group": t.group,
                **{f"name_{lang}": local(t.names, lang) for lang in LANGS},
                "data": json.dumps(t.dict(), ensure_ascii=False),
            }
            for i, t in content.types.items()
        ),
        pk="id",
    )
    db["tactics"].insert_all(
        (
            {"type_id": i, "stage": stage, "position": n, **{lang: local(tac, lang) for lang in LANGS}, "tags": json.dumps(tac.tags)}
            for i, t in content.types.items()
            for stage in STAGES
            for n, tac in enumerate(getattr(t.tactics, stage))
        ),
        foreign_keys=[("type_id", "types", "id")],
    )
    db["phrases"].insert_all(
        (
            {"type_id": i, "stage": p.stage, "position": n, **{lang: local(p, lang) for lang in LANGS}}
            for i, t in content.types.items()
            for n, p in enumerate(t.phrases)
        ),
        foreign_keys=[("type_id", "types", "id")],
    )
    db["cues"].insert_all(
        ({"type_id": i, "lang": lang, "text": c} for i, t in content.types.items() for lang in LANGS for c in local(t.cues, lang)),
        foreign_keys=[("type_id", "types", "id")],
    )
    db["topics"].insert_all(
        (
            {"id": i, **{f"title_{lang}": local(t.title, lang) for lang in LANGS}, "data": json.dumps(t.dict(), ensure_ascii=False)}
            for i, t in content.topics.items()
        ),
        pk="id",
    )
    db["content"].insert_all(
        [
            {"key": "moves", "data": json.dumps(content.moves.dict(), ensure_ascii=False)},
            {"key": "ui", "data": json.dumps(content.ui.dict(), ensure_ascii=False)},
            {"key": "taxonomy", "data": json.dumps(content.taxonomy.__dict__, ensure_ascii=False)},
            {"key": "situations", "data": json.dumps(content.situations.dict(), ensure_ascii=False)},
        ],
        pk="key",
    )
    db["passages"].insert_all({**p, "words": segment(p["text"])} for p in _passages(content))
    db["passages"].enable_fts(["words"], fts_version="FTS5", tokenize="porter unicode61")  # porter: promotions ~ promotion
    db.conn.commit()
    db.close()
    os.replace(tmp, path)
    return path


def fingerprint_of(path: Path) -> Optional[str]:
    """The content fingerprint a built store was made from, or None when there is no usable store."""
    if not path.exists():
        return None
    try:
        db = open_readonly(path)
        rows = {r["key"]: r["value"] for r in db["meta"].rows}
        db.close()
    except sqlite3.DatabaseError:
        return None
    return rows.get("fingerprint") if rows.get("schema") == SCHEMA_VERSION else None


def open_readonly(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn)


class KnowledgeBase:
    """Read-only access to the built store, parsed once into the content models."""

    def __init__(self, path: Path):
        self.path = path
        self.db = open_readonly(path)
        self.types: Dict[str, CustomerType] = {r["id"]: CustomerType.parse_obj(json.loads(r["data"])) for r in self.db["types"].rows}
        self.topics: Dict[str, Topic] = {r["id"]: Topic.parse_obj(json.loads(r["data"])) for r in self.db["topics"].rows}
        blobs = {r["key"]: json.loads(r["data"]) for r in self.db["content"].rows}
        self.moves = Moves.parse_obj(blobs["moves"])
        self.ui = UiText.parse_obj(blobs["ui"])
        self.taxonomy = blobs["taxonomy"]
        # what to do when a customer stalls, walks out, goes quiet ... per type (situations.yaml)
        self.situations: Situations = Situations.parse_obj(blobs["situations"])

    @property
    def styles(self) -> List[str]:
        return list(self.taxonomy["styles"])

    def search(self, query: str, limit: int = 10, kind: Optional[str] = None, any_word: bool = False) -> List[Dict[str, str]]:
        """Full-text search in either language; every word must appear, or any of them when `any_word`."""
        words = [w for w in segment(query).split() if w]
        if not words:
            return []
        match = (" OR " if any_word else " ").join('"' + w.replace('"', '""') + '"' for w in words)
        sql = (
            "select passages.kind, passages.ref, passages.field, passages.lang, passages.text from passages "
            "join passages_fts on passages.rowid = passages_fts.rowid where passages_fts match ? "
        )
        params: list = [match]
        if kind:
            sql += "and passages.kind = ? "
            params.append(kind)
        sql += "order by passages_fts.rank limit ?"
        params.append(limit)
        return [dict(r) for r in self.db.execute(sql, params).fetchall()]

    def export(self) -> Dict[str, object]:
        return {
            "types": {i: t.dict() for i, t in self.types.items()},
            "topics": {i: t.dict() for i, t in self.topics.items()},
            "moves": self.moves.dict()["moves"],
        }

    def text(self, key: str, lang: str, **values: object) -> str:
        """Interface wording from ui.yaml, filled in."""
        return local(self.ui.texts[key], lang).format(**values)

    def neighbours(self, type_id: str) -> List[str]:
        """The types this one is easily taken for, as its card lists them (2-3)."""
        return [n.type for n in self.types[type_id].tell_apart]

    def tell_apart(self, a: str, b: str) -> TellApart:
        """How to tell type `a` from type `b`: the question that separates them and each side's sign (a button
        label), behaviour and advice, from the two cards' tell-apart parts when they are neighbours, else from
        their hallmarks, summaries and first opening tactics (`TellApart.neighbours` says which). Raises KeyError
        for an unknown type id and ValueError when a == b."""
        if a == b:
            raise ValueError(f"a type is not told apart from itself: {a!r}")
        ta, tb = self.types[a], self.types[b]
        side_a = next((n for n in ta.tell_apart if n.type == b), None)
        side_b = next((n for n in tb.tell_apart if n.type == a), None)
        if side_a is not None and side_b is not None:  # the loader checks that the two entries mirror each other
            return TellApart(
                a=a,
                b=b,
                neighbours=True,
                question=side_a.question,
                sign_a=side_a.sign,
                sign_b=side_b.sign,
                behaviour_a=side_a.behaviour,
                behaviour_b=side_b.behaviour,
                advice_a=side_a.advice,
                advice_b=side_b.advice,
            )

        def first_opening(t: CustomerType) -> Text:
            tactic = next(x for x in t.tactics.opening if not x.trades)  # the loader checks one exists
            return Text(**{lang: local(tactic, lang) for lang in LANGS})

        return TellApart(
            a=a,
            b=b,
            neighbours=False,
            question=self.ui.texts["tell_apart_question"],
            sign_a=ta.hallmark,
            sign_b=tb.hallmark,
            behaviour_a=ta.summary,
            behaviour_b=tb.summary,
            advice_a=first_opening(ta),
            advice_b=first_opening(tb),
        )

    def type_name(self, type_id: str, lang: str) -> str:
        """The short display name ("Picky", not "Picky / fault-finding") that reads well inside a sentence."""
        return local(self.types[type_id].names, lang).split(" / ")[0].strip()
