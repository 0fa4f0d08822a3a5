"""The application store's tables (knowledge/userdata.py), declared once for SQLite and PostgreSQL alike.

SQLAlchemy Core writes each statement in the dialect of the database it runs on (quoting `user`, a keyword in
PostgreSQL; placeholders; the upsert), so no SQL text is rewritten. A module that keeps its own records (teams
here; a training program's assignments, certificates, reminders) declares its tables on `metadata` in this file,
so one `create_all` at start makes every table on either database, and reads and writes them through
UserData.read / write / transaction with statements built from these Table objects.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user", sa.Text),
    sa.Column("text", sa.Text),
    sa.Column("predicted", sa.Text),
    sa.Column("corrected", sa.Text),
    sa.Column("created", sa.Text),
    sa.Index("feedback_user", "user"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("type_id", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("notes", sa.Text),
    sa.Column("updated", sa.Text),
)

practice_sessions = sa.Table(
    "practice_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user", sa.Text),
    sa.Column("type_id", sa.Text),
    sa.Column("scenario", sa.Integer),
    sa.Column("lang", sa.Text),
    sa.Column("started", sa.Text),
    sa.Column("ended", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("trust", sa.Float),
    sa.Column("turns", sa.Integer),
    sa.Column("score", sa.Integer),
    sa.Column("state", sa.Text),
    sa.Index("practice_sessions_user", "user", "status"),
)

practice_turns = sa.Table(
    "practice_turns",
    metadata,
    sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reply", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("moves", sa.Text),
)

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("team", sa.Text),
    sa.Column("updated", sa.Text),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("workspace", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("invite", sa.Text),
    sa.Column("created", sa.Text),
    sa.UniqueConstraint("platform", "workspace"),
)

team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column("team_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False, server_default="member"),
    sa.Column("joined", sa.Text),
    sa.Index("team_members_user", "user"),
)

# what a person's data is, table by table: `coach forget` deletes these rows of a sender (practice turns go with
# their sessions), `coach export` lists them
PER_USER = (customers, feedback, profiles, team_members, practice_sessions)
