"""The application store on SQLite and PostgreSQL (one interface), concurrent writers, and the retention and
deletion commands (`coach purge`, `coach forget`) over the app store and Rasa's SQL tracker store.

Every store test runs twice: on a SQLite file, and on a throwaway PostgreSQL server (scripts/pg_cluster.py:
Debian's postgresql, started in a temp dir on a free loopback port, deleted afterwards). Without PostgreSQL
installed the second run is skipped with the reason (`make postgres` installs it as root).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from knowledge import tables
from knowledge.cli import main
from knowledge.privacy import TrackerEvents, tracker_url
from knowledge.teams import Teams
from knowledge.userdata import UserData

ROOT = Path(__file__).resolve().parents[1]
DAY = 86400.0


def _pg_cluster():
    spec = importlib.util.spec_from_file_location("pg_cluster", ROOT / "scripts" / "pg_cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pg_cluster = _pg_cluster()


@pytest.fixture(scope="module")
def pg():
    why = pg_cluster.unavailable()
    if why:
        pytest.skip(why)
    cluster = pg_cluster.PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # a server of its own: not in make check
def urls(request, tmp_path):
    """(app store URL, tracker store URL): fresh, empty databases of one kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coach.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    pg = request.getfixturevalue("pg")
    name = uuid.uuid4().hex[:10]
    return pg.create_database(f"app_{name}"), pg.create_database(f"tracker_{name}")


@pytest.fixture
def store(urls):
    s = UserData(url=urls[0])
    yield s
    s.close()


def ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")


def practise(store: UserData, user: str, score: int, replies=("Here is the signed warranty.",)) -> int:
    session = store.start_session(user, "suspicious", 0, "en", {"trust": 0.2, "turns": []})
    for n, reply in enumerate(replies, 1):
        store.record_turn(session, n, reply, 0.7, ["offer_proof"], {"trust": 0.4, "turns": [{"text": reply, "score": 0.7}]})
    store.finish_session(session, score, "won", {"trust": 0.6, "turns": [{"text": r, "score": 0.7} for r in replies]})
    return session


# one interface on both databases -------------------------------------------------------------------------
def test_store_contract_on_both_databases(store):
    user = "slack:T1:U1"
    store.save_customer(user, "Mr Wu", "picky", ["checks every clause"], "he checks every clause")
    store.save_customer(user, "Mr Wu", "suspicious", ["wants proof"], "wants proof")  # an upsert, not a second row
    assert [(c["name"], c["type_id"], c["evidence"]) for c in store.customers(user)] == [("Mr Wu", "suspicious", ["wants proof"])]
    store.rename_customer(user, "Mr Wu", "Wu Wei")
    assert store.find_customer(user, "wu")["name"] == "Wu Wei" and store.find_customer("someone-else", "wu") is None
    store.add_feedback(user, "客户什么都要看合同原文", "picky", "suspicious")
    assert store.corrections() == [{"text": "客户什么都要看合同原文", "type": "suspicious"}]
    store.set_profile(user, "Ann")
    store.set_profile("slack:T1:U2", "Bob")
    for member in (user, "slack:T1:U2"):
        Teams(store).join_platform(member, "slack", "T1")
    assert store.profile(user)["name"] == "Ann" and {m["name"] for m in store.team_members("slack:T1")} == {"Ann", "Bob"}
    for score in (60, 70, 80):
        practise(store, user, score, replies=("100% sure? Here is the report.",))
    active = store.start_session(user, "picky", 0, "en", {"trust": 0.1})
    assert store.active_session(user)["id"] == active and store.last_session(user)["state"] == {"trust": 0.1}
    progress = store.progress(user)
    assert [s["score"] for s in progress["sessions"]] == [60, 70, 80] and progress["weakest_type"] == "suspicious"
    assert store.leaderboard(min_sessions=3) == [{"user": user, "average": 70.0, "sessions": 3, "by_type": {"suspicious": 70}}]
    # what the practice engine and the progress page call (sqlite-utils' API), with `user` bare in the SQL
    rows = list(store.recent_sessions(user, 2, finished_only=True))
    assert [r["score"] for r in rows] == [80, 70] and json.loads(rows[0]["state"])["turns"][0]["text"].startswith("100%")
    assert [r["text"] for r in store.rows("feedback", user=user)] == ["客户什么都要看合同原文"]
    assert [r["score"] for r in store.recent_sessions(user, 5, finished_only=True)] == [80, 70, 60]
    store.delete_customer(user, "Wu Wei")
    assert store.customers(user) == []


def test_the_database_url_setting_picks_the_backend(urls, monkeypatch, tmp_path):
    monkeypatch.setenv("COACH_DATABASE_URL", urls[0])
    store = UserData()
    assert store.dialect == urls[0].split(":")[0]
    store.save_customer("env-user", "Ann", "picky", [], "")
    assert UserData(url=urls[0]).customers("env-user")[0]["name"] == "Ann"
    assert UserData(tmp_path / "explicit.db").customers("env-user") == [], "an explicit SQLite path wins over the setting"
    assert "***" in repr(store) or store.dialect == "sqlite", "the password never printed"


# concurrent writers -----------------------------------------------------------------------------------------
def test_two_writers_at_once_lose_nothing(urls):
    """Two processes' stores (two action servers) writing the same tables at the same time."""
    stores, errors = [UserData(url=urls[0]), UserData(url=urls[0])], []

    def write(store: UserData, who: str) -> None:
        try:
            for i in range(40):
                store.add_feedback(f"{who}-{i % 4}", f"text {i}", None, "picky")
                store.save_customer(f"{who}-{i % 4}", f"customer {i}", "picky", [], "")
                practise(store, f"{who}-{i % 4}", i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"w{n}")) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check = UserData(url=urls[0])
    assert len(check.rows("feedback")) == 80
    assert len(check.rows("customers")) == 80
    assert len(check.rows("practice_sessions", status="won")) == 80
    assert len(check.rows("practice_turns")) == 80


def test_sqlite_write_behind_another_writers_lock_is_retried_not_lost(tmp_path, caplog):
    path = tmp_path / "coach.db"
    store = UserData(path, busy_seconds=0.2)  # shorter than the lock below: SQLite gives up, the retry loop carries on
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("begin immediate")
    other.execute("insert into profiles (user, name, team, updated) values ('other-writer', 'O', '', '')")
    release = threading.Timer(1.0, lambda: other.execute("commit"))
    release.start()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="knowledge.userdata"):
        store.save_customer("waiting-user", "Mr Li", "picky", [], "a description that must not be logged")
    waited = time.monotonic() - started
    release.join()
    assert 0.7 < waited < 10, waited
    assert store.find_customer("waiting-user", "Mr Li") and store.profile("other-writer")["name"] == "O"
    assert "retrying" in caplog.text and "description" not in caplog.text


def test_postgresql_write_waits_for_a_table_lock_and_survives_a_dropped_connection(pg):
    import psycopg2

    url = pg.create_database(f"app_{uuid.uuid4().hex[:10]}")
    store = UserData(url=url)
    other = psycopg2.connect(url)
    other.cursor().execute("lock table customers in exclusive mode")
    release = threading.Timer(1.0, other.commit)
    release.start()
    started = time.monotonic()
    store.save_customer("waiting-user", "Mr Li", "picky", [], "")
    assert time.monotonic() - started > 0.7 and store.find_customer("waiting-user", "Mr Li")
    release.join()
    # the server drops the store's connection (a PostgreSQL restart): the next call reconnects
    other.autocommit = True
    other.cursor().execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sales-coach' " "and pid != pg_backend_pid()"
    )
    store.save_customer("waiting-user", "Mr Zhang", "picky", [], "")
    assert {c["name"] for c in store.customers("waiting-user")} == {"Mr Li", "Mr Zhang"}
    other.close()


# the tracker store ------------------------------------------------------------------------------------------
def tracker_store(url: str):
    from sqlalchemy.engine import make_url

    from bot.tracker_store import CoachSQLTrackerStore

    u = make_url(url)
    if u.drivername == "sqlite":
        return CoachSQLTrackerStore(dialect="sqlite", db=u.database)
    return CoachSQLTrackerStore(dialect="postgresql", host=u.host, port=u.port, db=u.database, username=u.username, password=u.password)


def save_conversation(store, sender: str, sessions) -> None:
    """sessions: [(start time, [(time, text), ...]), ...] as Rasa records them."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = []
    for start, messages in sessions:
        events += [
            ActionExecuted("action_session_start", timestamp=start),
            SessionStarted(timestamp=start),
            ActionExecuted("action_listen", timestamp=start),
        ]
        for at, text in messages:
            events += [UserUttered(text, timestamp=at), BotUttered("noted", timestamp=at), ActionExecuted("action_listen", timestamp=at)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def event_counts(url: str):
    events = TrackerEvents(url)
    with events.engine.connect() as conn:
        rows = conn.execute(events.sa.text("select sender_id, count(*) from events group by sender_id")).fetchall()
    return dict(rows)


def coach(*args):
    return main(list(args))


def test_purge_deletes_old_data_in_both_stores_and_keeps_anonymous_scores(urls, monkeypatch, capsys):
    app_url, tracker_db = urls
    monkeypatch.setenv("COACH_DATABASE_URL", app_url)
    store = UserData()
    now = time.time()
    tracker = tracker_store(tracker_db)
    save_conversation(tracker, "dormant", [(now - 40 * DAY, [(now - 40 * DAY, "he doubts every figure")])])
    save_conversation(
        tracker, "back-again", [(now - 40 * DAY, [(now - 40 * DAY, "an old customer")]), (now - DAY, [(now - DAY, "a new customer")])]
    )
    save_conversation(tracker, "long-session", [(now - 40 * DAY, [(now - 40 * DAY, "started long ago"), (now, "still going")])])
    assert event_counts(tracker_db) == {"dormant": 6, "back-again": 12, "long-session": 9}

    for user, days in (("old-user", 40), ("new-user", 1)):
        store.save_customer(user, "Mr Wu", "picky", [], f"{user} customer")
        store.add_feedback(user, f"{user} text", "picky", "suspicious")
        session = practise(store, user, 70 if user == "old-user" else 50)
        store.write(tables.customers.update().where(tables.customers.c.user == user).values(updated=ago(days)))
        store.write(tables.feedback.update().where(tables.feedback.c.user == user).values(created=ago(days)))
        sessions = tables.practice_sessions
        store.write(sessions.update().where(sessions.c.id == session).values(started=ago(days), ended=ago(days)))

    assert coach("purge", "--older-than", "30", "--tracker-db", tracker_db, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "would delete 1 saved customers, 1 corrections, 1 practice replies" in out
    for url in urls:
        password = url.split("@")[0].split(":")[-1] if "@" in url else None
        assert not password or password not in out, "database passwords are never printed"
    assert "would delete 13 events" in out  # dormant's 6, back-again's first session's 6, long-session's 1 before its start
    assert len(store.customers("old-user")) == 1 and sum(event_counts(tracker_db).values()) == 27, "a dry run changes nothing"

    assert coach("purge", "--older-than", "30", "--tracker-db", tracker_db, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["app_store"] | {"where": ""} == {
        "where": "",
        "customers": 1,
        "feedback": 1,
        "practice_replies": 1,
        "practice_sessions_anonymised": 1,
    }
    assert report["tracker_store"]["events"] == 13
    assert event_counts(tracker_db) == {"back-again": 6, "long-session": 8}, "a conversation's current session stays"
    assert store.customers("old-user") == [] and store.customers("new-user")
    assert [r["text"] for r in store.corrections()] == ["new-user text"]
    assert store.progress("old-user")["sessions"] == [] and len(store.progress("new-user")["sessions"]) == 1
    kept = store.rows("practice_sessions", user="")
    assert [(r["type_id"], r["score"], r["state"]) for r in kept] == [("suspicious", 70, "{}")], "the score stays, anonymous"
    assert [r["user"] for r in store.leaderboard(min_sessions=1)] == ["new-user"], "anonymous scores rank no one"
    assert asyncio.run(tracker.retrieve("back-again")).latest_message.text == "a new customer"
    long_session = asyncio.run(tracker.retrieve("long-session"))
    assert [e.text for e in long_session.events if e.type_name == "user"] == ["started long ago", "still going"]
    assert coach("purge", "--older-than", "30", "--tracker-db", tracker_db, "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert sum(v for k, v in again["app_store"].items() if k != "where") == 0 and again["tracker_store"]["events"] == 0


def test_forget_deletes_one_person_everywhere(urls, monkeypatch, capsys):
    app_url, tracker_db = urls
    monkeypatch.setenv("COACH_DATABASE_URL", app_url)
    monkeypatch.setenv("COACH_TRACKER_DB_URL", tracker_db)
    store = UserData()
    tracker = tracker_store(tracker_db)
    now = time.time()
    people = ("slack:T1:U1", "telegram:-100:42", "telegram:-200:42", "web-" + "a" * 32)
    for sender in people:
        save_conversation(tracker, sender, [(now - 60, [(now - 30, f"{sender} says the customer doubts everything")])])
        store.save_customer(sender, "Mr Wu", "suspicious", [], "")
        store.add_feedback(sender, f"{sender} text", "picky", "suspicious")
        store.set_profile(sender, "Name")
        practise(store, sender, 60)

    assert coach("forget", "--user", "slack:T1:U1", "--dry-run") == 0
    assert "would delete 6 events" in capsys.readouterr().out and len(event_counts(tracker_db)) == 4

    assert coach("forget", "--user", "slack:T1:U1") == 0
    out = capsys.readouterr().out
    assert "1 sender id(s): slack:T1:U1" in out
    assert "deleted 1 saved customers, 1 corrections, 1 profiles, 0 team memberships, 1 practice replies, 1 practice sessions" in out
    assert "deleted 6 events" in out
    assert "slack:T1:U1" not in event_counts(tracker_db) and "slack:T1:U1" not in store.users()
    assert store.profile("slack:T1:U1")["name"] == "" and store.progress("slack:T1:U1")["sessions"] == []

    # one Telegram person has a conversation per group: a * covers every group
    assert coach("forget", "--user", "telegram:*:42", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["matched"] == ["telegram:-100:42", "telegram:-200:42"] and report["tracker_store"]["events"] == 12
    assert report["app_store"]["customers"] == 2 and report["app_store"]["practice_sessions"] == 2
    assert set(event_counts(tracker_db)) == set(store.users()) == {"web-" + "a" * 32}, "nobody else touched"

    assert coach("forget", "--user", "42") == 0
    assert "nothing stored" in capsys.readouterr().out
    assert coach("forget", "--user", "aaaa") == 0
    assert "similar ids: web-" in capsys.readouterr().out, "a partial id gets the ids it could mean, deletes nothing"
    for too_broad in ("*", "*:*", ""):
        assert coach("forget", "--user", too_broad) == 2
        assert "too broad" in capsys.readouterr().err
    assert set(store.users()) == {"web-" + "a" * 32}


def test_tracker_url_comes_from_the_endpoints(tmp_path, monkeypatch):
    monkeypatch.delenv("COACH_TRACKER_DB_URL", raising=False)
    assert tracker_url() == f"sqlite:///{ROOT / 'var' / 'tracker.db'}", "bot/endpoints.yml: var/tracker.db under the project"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: bot.tracker_store.CoachSQLTrackerStore\n  dialect: postgresql\n"
        "  url: 127.0.0.1\n  port: 5433\n  db: rasa\n  username: coach\n  password: ${PG_PW}\n"
    )
    monkeypatch.setenv("PG_PW", "s3cret")
    assert tracker_url(endpoints=endpoints) == "postgresql://coach:s3cret@127.0.0.1:5433/rasa"
    assert tracker_url("sqlite:////x.db", endpoints) == "sqlite:////x.db", "--tracker-db wins"
    monkeypatch.setenv("COACH_TRACKER_DB_URL", "sqlite:////y.db")
    assert tracker_url(endpoints=endpoints) == "sqlite:////y.db"
    endpoints.write_text("tracker_store:\n  type: redis\n")
    monkeypatch.delenv("COACH_TRACKER_DB_URL")
    assert tracker_url(endpoints=endpoints) is None


def test_purge_without_a_tracker_database_still_purges_the_app_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    assert coach("purge", "--older-than", "7", "--tracker-db", f"sqlite:///{tmp_path / 'none.db'}") == 0
    out = capsys.readouterr().out
    assert "no tracker database yet" in out and "deleted 0 saved customers" in out
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(SystemExit):
        main(["purge", "--older-than", "-1"])


# the whole dialogue on PostgreSQL ---------------------------------------------------------------------------
def test_dialogue_and_progress_page_on_postgresql(engine, pg):
    from bot.channels.progress import progress_page
    from knowledge.engine.dialogue import Dialogue
    from knowledge.engine.state import ConversationState, UserTurn

    store = UserData(url=pg.create_database(f"app_{uuid.uuid4().hex[:10]}"))
    dialogue = Dialogue(engine, store)
    state = ConversationState(user="pg-user", lang="en")
    dialogue.respond(UserTurn("He doubts every figure and wants every promise in writing", "describe_customer"), state)
    dialogue.respond(UserTurn("save him as Mr Wu", "save_customer"), state)
    assert store.find_customer("pg-user", "Mr Wu")["type_id"] == "suspicious"
    dialogue.practice.start("pg-user", "en", named="suspicious", trade="car")
    dialogue.practice.turn("pg-user", "Here is the signed warranty and the inspection report to check.", "practice_reply", "en")
    dialogue.practice.turn("pg-user", "end", "practice_end", "en")
    assert store.progress("pg-user")["sessions"][0]["type"] == "suspicious"
    dialogue.practice.start("pg-user", "en", named="suspicious", trade="car")  # reads the sessions heard before
    assert "signed warranty" in progress_page(store, "pg-user", "en")


# logs -------------------------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_server_logs_at_info_never_hold_what_people_typed(servers):
    """Rasa and the action server at their default INFO level, through a description, a saved customer and a
    practice reply in both languages: no word of it in either log."""
    from tests.conftest import texts

    sender = "privacy-log-" + uuid.uuid4().hex[:8]
    saved = ""
    for text in (
        "Mr Quokkaface keeps interrupting me and doubts every figure I quote",
        "save him as Mr Quokkaface",
        "practise with a suspicious customer, I sell cars",
        "Here is the Quokkaface warranty, check every clause",
        "end",
        "客户袋鼠先生总打断我，觉得自己什么都懂，还怀疑我报的每个数字",
    ):
        replies = servers.say(sender, text)
        assert replies, text
        saved += texts(replies)
    assert "Quokkaface" in saved, "the action ran (the saved name comes back)"
    logs = "".join((servers.workdir / name).read_text(errors="replace") for name in ("rasa.log", "actions.log"))
    for marker in ("Quokkaface", "袋鼠", "doubts every figure"):
        assert marker not in logs


def test_data_files_and_var_are_owner_only(tmp_path, monkeypatch):
    """Issue 25 item 5: var/coach.db (and its -wal/-shm) were made 0644 in a 0755 var/: any local user could read
    what salespeople typed."""
    from knowledge import paths

    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir(mode=0o755)
    (tmp_path / "var").chmod(0o755)
    var = paths.var_dir()
    assert var.stat().st_mode & 0o777 == 0o700
    old = var / "coach.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    store = UserData(path=old)
    store.set_profile("someone", "Ann")
    for f in var.glob("coach.db*"):
        assert f.stat().st_mode & 0o077 == 0, (f.name, oct(f.stat().st_mode))
    store.close()
    fresh = UserData(path=tmp_path / "fresh.db")
    fresh.set_profile("someone", "Ann")
    assert [oct(f.stat().st_mode & 0o777) for f in tmp_path.glob("fresh.db*")] == ["0o600"] * len(list(tmp_path.glob("fresh.db*")))
    fresh.close()


def test_purge_ages_the_remembered_customer_of_people_who_keep_chatting(urls, monkeypatch, capsys):
    """Issue 25 item 9: Rasa copies the remembered customer (slot coach_memory) into each new session with a fresh
    timestamp, so `purge --older-than` never removed it for someone who chats every few days."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    app_url, tracker_db = urls
    monkeypatch.setenv("COACH_DATABASE_URL", app_url)
    tracker = tracker_store(tracker_db)
    now = time.time()
    wu = {"lang": "zh", "customer_type": "picky", "customer_notes": "Mr Wu haggles over every clause", "evidence": {"spans": ["haggles"]}}
    li = {"lang": "en", "customer_type": "suspicious", "customer_notes": "Ms Li wants proof", "evidence": {"spans": ["proof"]}}

    def session(at: float, memory, said: str = ""):
        events = [
            ActionExecuted("action_session_start", timestamp=at),
            SessionStarted(timestamp=at),
            SlotSet("coach_memory", memory, timestamp=at),
        ]
        events.append(ActionExecuted("action_listen", timestamp=at))
        if said:
            events += [
                UserUttered(said, timestamp=at + 1),
                SlotSet("coach_memory", memory, timestamp=at + 2),
                ActionExecuted("action_listen", timestamp=at + 2),
            ]
        return events

    keeps = (
        session(now - 40 * DAY, wu, "Mr Wu haggles over every clause") + session(now - 20 * DAY, wu, "hello") + session(now - 60, wu, "hi")
    )
    recent = session(now - 40 * DAY, wu, "Mr Wu haggles") + session(now - 10 * DAY, li, "Ms Li wants proof") + session(now - 60, li)
    for sender, events in (("keeps-chatting", keeps), ("new-customer", recent)):
        asyncio.run(tracker.save(DialogueStateTracker.from_events(sender, events)))

    def remembered(sender: str):
        """The slot's latest value, as the tracker store reads it (the last coach_memory slot event)."""
        events = TrackerEvents(tracker_db)
        with events.engine.connect() as conn:
            rows = conn.execute(
                events.sa.text("select data from events where sender_id = :s and type_name = 'slot' order by id"), {"s": sender}
            ).fetchall()
        return json.loads(rows[-1][0])["value"]

    assert coach("purge", "--older-than", "30", "--tracker-db", tracker_db, "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["tracker_store"]["remembered_customers"] == 1
    assert remembered("keeps-chatting")["customer_type"] == "picky", "a dry run changes nothing"
    assert coach("purge", "--older-than", "30", "--tracker-db", tracker_db) == 0
    assert "forgot 1 remembered customer(s)" in capsys.readouterr().out
    memory = remembered("keeps-chatting")
    assert memory["customer_type"] is None and memory["customer_notes"] == "" and memory["evidence"] == {} and memory["lang"] == "zh"
    everything = TrackerEvents(tracker_db)
    with everything.engine.connect() as conn:
        data = " ".join(r[0] for r in conn.execute(everything.sa.text("select data from events where sender_id = 'keeps-chatting'")))
    assert "haggles" not in data, "no kept event holds the old customer"
    assert remembered("new-customer")["customer_type"] == "suspicious", "a newer customer stays"
