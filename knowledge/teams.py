"""Teams: who may see whose scores. Defined once here; the leaderboard, the progress page, the team chats and
(later) the training programs' managers all read it.

A team is keyed by ids, never by a display name a person can type:

- a team chat's team is its platform and workspace id (`slack` + the Slack team id `T…`, `botframework` + the
  Teams tenant, `telegram` + the chat id, `mattermost` + the team id, `rocketchat` + the server, `feishu` + the
  tenant or group chat id, `dingtalk` + the corp or conversation id, `wecom` + the corp id). Only a request the
  platform signed can make someone a member, so only people of that workspace are on its board.
- a web-chat team is made by an operator (`coach team create NAME`), which prints an invite code; a web-chat
  visitor joins only by giving that code. The code is stored as its SHA-256 only; `coach team invite NAME` makes a
  new one (the old one stops working).

Members have a role, `member` or `manager` (ROLES), so the training programs can give managers more rights on the
same tables. Everything runs through the application store (knowledge/userdata.py) on SQLite or PostgreSQL, with
statements built from the tables of knowledge/tables.py (the pattern for other records kept per team or person).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import profiles, team_members, teams
from .userdata import MAX_NAME, UserData, now

ROLES = ("member", "manager")
WEB = "web"  # the platform of teams joined with an invite code
PLATFORMS = ("slack", "botframework", "telegram", "mattermost", "rocketchat", "feishu", "dingtalk", "wecom")
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a phone
INVITE_CHARS = 16  # 80 bits: guessing one is hopeless at the profile route's per-address limit
MAX_WORKSPACE = 200  # characters of a platform's workspace id (Slack T…, a tenant uuid, a Feishu oc_… chat id)


class TeamError(ValueError):
    """A team operation that cannot be done (unknown team, duplicate name, bad role); the message says why."""


@dataclass(frozen=True)
class Team:
    id: int
    platform: str
    workspace: str
    name: str
    created: str

    @property
    def key(self) -> str:
        """What the rest of the code (profile()['team'], team_members) calls the team: stable, never typed."""
        return f"{self.platform}:{self.workspace}"


@dataclass(frozen=True)
class Member:
    user: str
    role: str
    name: str  # the display name the person gave or the platform reported ("" when unknown)
    joined: str


def normalise_code(code: str) -> str:
    """An invite code as typed: case, spaces and dashes ignored."""
    return re.sub(r"[\s\-]", "", code or "").upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, INVITE_CHARS, 4))


class Teams:
    """Teams and their members in the application store."""

    def __init__(self, store: UserData):
        self.store = store

    # reading ---------------------------------------------------------------------------------------------
    def _team(self, row: Optional[Dict[str, Any]]) -> Optional[Team]:
        if not row:
            return None
        return Team(int(row["id"]), row["platform"], row["workspace"], row["name"] or "", row["created"] or "")

    def get(self, platform: str, workspace: str) -> Optional[Team]:
        rows = self.store.rows(teams, platform=platform, workspace=workspace)
        return self._team(rows[0] if rows else None)

    def by_key(self, key: str) -> Optional[Team]:
        platform, _, workspace = (key or "").partition(":")
        return self.get(platform, workspace) if platform and workspace else None

    def by_name(self, name: str) -> Optional[Team]:
        """A web-chat team by the name its operator gave (case-insensitive)."""
        rows = self.store.read(sa.select(teams).where((teams.c.platform == WEB) & (sa.func.lower(teams.c.name) == name.strip().lower())))
        return self._team(rows[0] if rows else None)

    def all(self) -> List[Team]:
        return [t for t in (self._team(r) for r in self.store.rows(teams, [teams.c.platform, teams.c.name, teams.c.id])) if t]

    def team_of(self, user: str) -> Optional[Team]:
        """The team a person belongs to (one per sender id: a team chat's sender id already names its workspace)."""
        rows = self.store.read(
            sa.select(teams)
            .select_from(team_members.join(teams, teams.c.id == team_members.c.team_id))
            .where(team_members.c.user == user)
            .order_by(team_members.c.joined.desc())
            .limit(1)
        )
        return self._team(rows[0] if rows else None)

    def members(self, team: Team) -> List[Member]:
        m = team_members.c
        rows = self.store.read(
            sa.select(m.user, m.role, m.joined, sa.func.coalesce(profiles.c.name, "").label("name"))
            .select_from(team_members.outerjoin(profiles, profiles.c.user == m.user))
            .where(m.team_id == team.id)
            .order_by(m.joined, m.user)
        )
        return [Member(r["user"], r["role"], r["name"] or "", r["joined"]) for r in rows]

    def counts(self) -> Dict[int, int]:
        counted = sa.select(team_members.c.team_id, sa.func.count().label("n")).group_by(team_members.c.team_id)
        return {int(r["team_id"]): int(r["n"]) for r in self.store.read(counted)}

    # web-chat teams (the operator's `coach team ...`) -----------------------------------------------------
    def create(self, name: str) -> tuple[Team, str]:
        """A new web-chat team and its invite code (printed once; only its hash is kept)."""
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            raise TeamError("a team needs a name")
        if self.by_name(name):
            raise TeamError(f"a team called {name!r} already exists (coach team invite {name!r} gives it a new code)")
        code = new_code()
        self.store.write(
            teams.insert().values(platform=WEB, workspace=secrets.token_hex(8), name=name, invite=code_hash(code), created=now())
        )
        team = self.by_name(name)
        assert team is not None
        return team, code

    def new_invite(self, name: str) -> str:
        """A new invite code for a web-chat team; the old code stops working, members stay."""
        team = self._web(name)
        code = new_code()
        self.store.write(teams.update().where(teams.c.id == team.id).values(invite=code_hash(code)))
        return code

    def remove(self, name: str) -> int:
        """Delete a web-chat team and its memberships (the people and their scores stay); the members it had."""
        team = self._web(name)

        def work(conn: Connection) -> int:
            count = conn.execute(team_members.delete().where(team_members.c.team_id == team.id)).rowcount
            conn.execute(teams.delete().where(teams.c.id == team.id))
            return int(count)

        return self.store.transaction(work)

    def _web(self, name: str) -> Team:
        team = self.by_name(name)
        if team is None:
            raise TeamError(f"no web-chat team called {name!r} (coach team list shows them)")
        return team

    def join(self, user: str, code: str) -> Optional[Team]:
        """Join the web-chat team whose invite code this is (leaving any other); None for an unknown code."""
        typed = normalise_code(code)
        if len(typed) != INVITE_CHARS:
            return None
        rows = self.store.rows(teams, platform=WEB, invite=code_hash(typed))
        team = self._team(rows[0] if rows else None)  # looked up by the code's hash: the code itself is never stored
        if team is None:
            return None
        self._set_membership(user, team)
        return team

    def leave(self, user: str) -> int:
        return self.store.write(team_members.delete().where(team_members.c.user == user))

    # team chats ------------------------------------------------------------------------------------------
    def join_platform(self, user: str, platform: str, workspace: str, name: str = "") -> Team:
        """Make a verified team-chat sender a member of their workspace's team (made on first sight). `name`
        is the workspace's display name when the platform gave one: shown, never used to match."""
        if platform not in PLATFORMS:
            raise TeamError(f"unknown platform {platform!r}")
        workspace = workspace.strip()[:MAX_WORKSPACE]
        if not workspace:
            raise TeamError("a platform team needs its workspace id")
        name = " ".join((name or "").split())[:MAX_NAME]

        def work(conn: Connection) -> None:
            row = {"platform": platform, "workspace": workspace, "name": name, "invite": None, "created": now()}
            conn.execute(self.store.upsert(teams, ["platform", "workspace"], row, []))
            if name:
                here = (teams.c.platform == platform) & (teams.c.workspace == workspace) & (teams.c.name != name)
                conn.execute(teams.update().where(here).values(name=name))

        self.store.transaction(work)
        team = self.get(platform, workspace)
        assert team is not None
        current = self.team_of(user)
        if current is None or current.id != team.id:
            self._set_membership(user, team)
        return team

    def _set_membership(self, user: str, team: Team, role: str = "member") -> None:
        m = team_members.c

        def work(conn: Connection) -> None:
            kept = conn.execute(sa.select(m.role).where((m.user == user) & (m.team_id == team.id))).first()
            conn.execute(team_members.delete().where(m.user == user))
            conn.execute(team_members.insert().values(team_id=team.id, user=user, role=kept[0] if kept else role, joined=now()))

        self.store.transaction(work)

    def set_role(self, team: Team, user: str, role: str) -> None:
        """member or manager (the training programs' managers); the person must already be a member."""
        if role not in ROLES:
            raise TeamError(f"role must be one of {', '.join(ROLES)}")
        member = (team_members.c.team_id == team.id) & (team_members.c.user == user)
        if not self.store.write(team_members.update().where(member).values(role=role)):
            raise TeamError(f"{user!r} is not a member of {team.name or team.key!r}")

    # what a platform connector learns of a person ---------------------------------------------------------
    def remember(self, user: str, name: str, platform: str, workspace: str = "", team_name: str = "") -> None:
        """Keep the display name a platform reported (an empty one keeps what is stored) and make the person a
        member of their workspace's team (`workspace` "" keeps the team they have: a DM names none). Nothing is
        written when nothing changed."""
        known = self.store.profile(user)
        name = (name or "").strip()[:MAX_NAME] or known.get("name", "")
        if name != known.get("name", ""):
            self.store.set_profile(user, name)
        if workspace and known.get("team") != f"{platform}:{workspace}":
            self.join_platform(user, platform, workspace, team_name)
