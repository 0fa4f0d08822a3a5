"""What users create, kept per sender in SQLite: corrections, saved customers, practice progress.

Separate from the read-only knowledge store so rebuilding knowledge never touches user data.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlite_utils

from . import paths

MAX_NAME = 60


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class UserData:
    def __init__(self, path: Optional[Path] = None):
        conn = sqlite3.connect(path or paths.app_db_path(), timeout=10, check_same_thread=False)
        conn.execute("pragma journal_mode=wal")
        self.db = sqlite_utils.Database(conn)
        self._ensure_tables()

    def _ensure_tables(self) -> None:
        db = self.db
        db["feedback"].create({"id": int, "user": str, "text": str, "predicted": str, "corrected": str, "created": str},
                              pk="id", if_not_exists=True)
        db["customers"].create({"user": str, "name": str, "type_id": str, "evidence": str, "notes": str, "updated": str},
                               pk=("user", "name"), if_not_exists=True)
        db["practice_sessions"].create(
            {"id": int, "user": str, "type_id": str, "scenario": int, "lang": str, "started": str, "ended": str,
             "status": str, "trust": float, "turns": int, "score": int, "state": str}, pk="id", if_not_exists=True)
        db["practice_turns"].create({"session_id": int, "n": int, "reply": str, "score": float, "moves": str},
                                    pk=("session_id", "n"), if_not_exists=True)
        db["profiles"].create({"user": str, "name": str, "team": str, "updated": str}, pk="user", if_not_exists=True)

    # corrections -----------------------------------------------------------
    def add_feedback(self, user: str, text: str, predicted: Optional[str], corrected: str) -> None:
        self.db["feedback"].insert({"user": user, "text": text, "predicted": predicted or "", "corrected": corrected,
                                    "created": now()})

    def corrections(self) -> List[Dict[str, Any]]:
        """The latest correction of each described text, as training rows a trainer can review and add."""
        latest: Dict[str, str] = {}
        for row in self.db.query("select text, corrected from feedback where text != '' order by id"):
            latest[row["text"]] = row["corrected"]
        return [{"text": text, "type": type_id} for text, type_id in latest.items()]

    # saved customers ---------------------------------------------------------
    def save_customer(self, user: str, name: str, type_id: str, evidence: List[str], notes: str) -> Dict[str, Any]:
        row = {"user": user, "name": name[:MAX_NAME], "type_id": type_id, "evidence": json.dumps(evidence, ensure_ascii=False),
               "notes": notes, "updated": now()}
        self.db["customers"].upsert(row, pk=("user", "name"))
        return row

    def customers(self, user: str) -> List[Dict[str, Any]]:
        """Saved customers, newest first, evidence as a list (the caller names the type in its language)."""
        return [{**r, "evidence": json.loads(r["evidence"] or "[]")}
                for r in self.db["customers"].rows_where("user = ?", [user], order_by="updated desc")]

    def rename_customer(self, user: str, old: str, new: str) -> None:
        with self.db.conn:
            self.db.execute("update customers set name = ?, updated = ? where user = ? and name = ?",
                            [new[:MAX_NAME], now(), user, old])

    def delete_customer(self, user: str, name: str) -> None:
        with self.db.conn:
            self.db.execute("delete from customers where user = ? and name = ?", [user, name])

    def find_customer(self, user: str, name: str) -> Optional[Dict[str, Any]]:
        """By exact name first, then by a name that contains or is contained in the one asked for."""
        wanted = name.strip().lower()
        if not wanted:
            return None
        rows = list(self.db["customers"].rows_where("user = ?", [user]))
        exact = [r for r in rows if r["name"].lower() == wanted]
        close = [r for r in rows if wanted in r["name"].lower() or (len(r["name"]) >= 2 and r["name"].lower() in wanted)]
        found = (exact or close or [None])[0]
        return {**found, "evidence": json.loads(found["evidence"] or "[]")} if found else None

    # profiles (the web chat's optional name and team) -------------------------
    def set_profile(self, user: str, name: str, team: str) -> Dict[str, str]:
        row = {"user": user, "name": name.strip()[:MAX_NAME], "team": team.strip()[:MAX_NAME], "updated": now()}
        self.db["profiles"].upsert(row, pk="user")
        return row

    def profile(self, user: str) -> Dict[str, str]:
        rows = list(self.db["profiles"].rows_where("user = ?", [user], limit=1))
        return rows[0] if rows else {"user": user, "name": "", "team": "", "updated": ""}

    def team_members(self, team: str) -> List[Dict[str, str]]:
        """Everyone who gave the same team name (case-insensitive), for the team leaderboard."""
        return list(self.db["profiles"].rows_where("lower(team) = lower(?) and team != ''", [team.strip()]))

    # practice ----------------------------------------------------------------
    def start_session(self, user: str, type_id: str, scenario: int, lang: str, state: Dict[str, Any]) -> int:
        for row in self.db["practice_sessions"].rows_where("user = ? and status = 'active'", [user]):
            self.db["practice_sessions"].update(row["id"], {"status": "abandoned", "ended": now()})
        table = self.db["practice_sessions"].insert(
            {"user": user, "type_id": type_id, "scenario": scenario, "lang": lang, "started": now(), "ended": "",
             "status": "active", "trust": state.get("trust", 0.0), "turns": 0, "score": 0,
             "state": json.dumps(state, ensure_ascii=False)})
        return int(table.last_pk)

    def active_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = list(self.db["practice_sessions"].rows_where("user = ? and status = 'active'", [user],
                                                             order_by="id desc", limit=1))
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def last_session(self, user: str) -> Optional[Dict[str, Any]]:
        rows = list(self.db["practice_sessions"].rows_where("user = ?", [user], order_by="id desc", limit=1))
        return {**rows[0], "state": json.loads(rows[0]["state"])} if rows else None

    def record_turn(self, session_id: int, n: int, reply: str, score: float, moves: List[str], state: Dict[str, Any]) -> None:
        self.db["practice_turns"].upsert({"session_id": session_id, "n": n, "reply": reply[:2000], "score": score,
                                          "moves": json.dumps(moves)}, pk=("session_id", "n"))
        self.db["practice_sessions"].update(session_id, {"turns": n, "trust": state.get("trust", 0.0),
                                                         "state": json.dumps(state, ensure_ascii=False)})

    def finish_session(self, session_id: int, score: int, status: str, state: Dict[str, Any]) -> None:
        self.db["practice_sessions"].update(session_id, {"status": status, "score": score, "ended": now(),
                                                         "state": json.dumps(state, ensure_ascii=False)})

    def progress(self, user: str) -> Dict[str, Any]:
        sessions = [
            {"type": r["type_id"], "score": r["score"], "turns": r["turns"], "outcome": r["status"],
             "started": r["started"], "ended": r["ended"]}
            for r in self.db["practice_sessions"].rows_where("user = ? and status not in ('active', 'abandoned')", [user],
                                                             order_by="id")
        ]
        by_type: Dict[str, List[int]] = {}
        for s in sessions:
            by_type.setdefault(s["type"], []).append(s["score"])
        averages = {t: round(sum(v) / len(v), 1) for t, v in by_type.items()}
        weakest = min(averages, key=lambda t: averages[t]) if averages else None
        return {"user": user, "sessions": sessions, "by_type": averages, "weakest_type": weakest,
                "average": round(sum(s["score"] for s in sessions) / len(sessions), 1) if sessions else None}

    def leaderboard(self, users: Optional[List[str]] = None, limit: int = 5, min_sessions: int = 3) -> List[Dict[str, Any]]:
        """Trainees ranked by their average over finished sessions (with at least one scored reply), only
        those with min_sessions of them: a single short lucky session cannot top the board."""
        sql = ("select user, type_id, score from practice_sessions "
               "where status not in ('active', 'abandoned') and turns > 0 ")
        params: List[Any] = []
        if users:
            sql += f"and user in ({','.join('?' * len(users))}) "
            params += users
        scores: Dict[str, List[int]] = {}
        by_type: Dict[str, Dict[str, List[int]]] = {}
        for user, type_id, score in self.db.execute(sql, params).fetchall():
            scores.setdefault(user, []).append(score)
            by_type.setdefault(user, {}).setdefault(type_id, []).append(score)
        rows = [{"user": u, "average": round(sum(v) / len(v), 1), "sessions": len(v),
                 "by_type": {t: round(sum(x) / len(x)) for t, x in sorted(by_type[u].items())}}
                for u, v in scores.items() if len(v) >= min_sessions]
        return sorted(rows, key=lambda r: (-r["average"], -r["sessions"], r["user"]))[:limit]
