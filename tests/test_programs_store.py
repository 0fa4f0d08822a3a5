"""The programmes' store on both databases of the application store (SQLite, and PostgreSQL in a throwaway server
of its own, marked slow like tests/test_privacy.py's): settings, assignments with their ids, the sessions played
for them, drafts, certificates and forgetting a person."""

from __future__ import annotations

from datetime import datetime, timezone

from knowledge.engine.programs.store import ProgramStore, Settings
from knowledge.teams import Teams
from knowledge.userdata import UserData

from .test_privacy import pg, urls  # noqa: F401 - fixtures: a throwaway PostgreSQL, fresh databases of each kind


def clock() -> datetime:
    return datetime(2026, 12, 9, 20, 0, tzinfo=timezone.utc)


def test_the_programmes_store_on_sqlite_and_postgresql(urls):  # noqa: F811
    data = UserData(url=urls[0])
    try:
        store = ProgramStore(data, clock=clock, defaults=Settings(70, "UTC", False))
        team, _ = Teams(data).create("Store team")
        assert store.settings(team) == Settings(70, "UTC", False)
        store.set_settings(team, pass_mark=80, timezone_name="Asia/Shanghai")
        assert store.set_settings(team, leaderboard=True) == Settings(80, "Asia/Shanghai", True)
        assert store.today(team).isoformat() == "2026-12-10"

        first = store.add_assignment(team, "boss", "", "picky", "cars", "normal", 75, 2, "2026-12-11")
        second = store.add_assignment(team, "boss", "ann", "suspicious", "", "hard", 70, 1, "", exam=True, seed=7, scene="s1")
        assert second.id > first.id and second.exam and second.seed == 7 and second.assignee == "ann"
        assert [a.id for a in store.assignments_for("bob", team)] == [first.id]
        assert [a.id for a in store.assignments_for("ann", team)] == [first.id, second.id]

        played = data.start_session("bob", "picky", 0, "en", {"level": "normal"})
        store.link_session(played, first.id, "bob")
        store.link_session(played, first.id, "bob")  # a second link of one session changes nothing
        data.finish_session(played, 82, "won", {"level": "normal"})
        assert store.assignment_of_session(played) == first
        counted = store.attempts(first.id, ["bob", "ann"])
        assert (counted["bob"].made, counted["bob"].best, counted["ann"].started) == (1, 82, 0)
        assert store.finished_sessions("bob")[0]["level"] == "normal"

        store.save_draft("boss", {"type": "picky", "note": "价格"})
        store.save_draft("boss", {"type": "caustic"})
        assert store.draft("boss") == {"type": "caustic"}
        assert store.award("bob", "picky") and not store.award("bob", "picky")
        assert store.certificates("bob") == {"picky": "2026-12-09"}

        counts = store.forget(["bob", "ann"], dry_run=True)
        assert counts == {"certificates": 1, "assignment_drafts": 0, "assignment_sessions": 1, "assignments": 1}
        assert store.certificates("bob")  # a dry run changes nothing
        store.forget(["bob", "ann", "boss"])
        assert store.certificates("bob") == {} and store.draft("boss") == {} and store.assignment(second.id) is None
        assert store.assignment(first.id) is not None  # what a manager gave the whole team stays
    finally:
        data.close()
