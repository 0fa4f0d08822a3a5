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

# training programmes (knowledge/engine/programs/store.py) ------------------------------------------------------

# a team's pass mark, time zone and leaderboard switch (a team without a row has the defaults of programs.yaml)
team_settings = sa.Table(
    "team_settings",
    metadata,
    sa.Column("team_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pass_mark", sa.Integer),
    sa.Column("timezone", sa.Text),
    sa.Column("leaderboard", sa.Integer),
    sa.Column("updated", sa.Text),
)

# practice a manager gave their team (assignee "") or one person; an exam carries the seed and scene everyone meets
assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, nullable=False),
    sa.Column("manager", sa.Text, nullable=False),
    sa.Column("assignee", sa.Text, nullable=False, server_default=""),
    sa.Column("type_id", sa.Text, nullable=False),
    sa.Column("trade", sa.Text, nullable=False, server_default=""),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("pass_mark", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due", sa.Text, nullable=False, server_default=""),
    sa.Column("exam", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scene", sa.Text, nullable=False, server_default=""),
    sa.Column("created", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Index("assignments_team", "team_id", "status"),
)

# which practice session was played for which assignment (its result counts for it)
assignment_sessions = sa.Table(
    "assignment_sessions",
    metadata,
    sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("assignment_id", sa.Integer, nullable=False),
    sa.Column("user", sa.Text, nullable=False),
    sa.Index("assignment_sessions_assignment", "assignment_id", "user"),
)

# a manager's assignment while the buttons still ask for its parts (JSON)
assignment_drafts = sa.Table(
    "assignment_drafts",
    metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated", sa.Text),
)

# a type's certificate, recorded when earned (it stays when a pass mark changes later)
certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("type_id", sa.Text, primary_key=True),
    sa.Column("earned", sa.Text),
)

# what a person's data is, table by table: `coach forget` deletes these rows of a sender (practice turns go with
# their sessions), `coach export` lists them
PER_USER = (customers, feedback, profiles, team_members, practice_sessions)
