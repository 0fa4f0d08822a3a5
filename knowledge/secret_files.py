"""The project's secrets (JWT signing key, action server secret, web chat and Mattermost button keys), read one way.

A secret comes from its environment variable (`COACH_JWT_SECRET`), else from the file its `_FILE` variable names
(`COACH_JWT_SECRET_FILE`, e.g. a mounted secret), else from `<var dir>/<name>`, made once with 32 random bytes and
readable by its owner only. Never from the command line: every local user can read a process's argv (issue 25).
A value shorter than the secret's `min_chars` is refused (an empty key would sign or check anything), except that a
key only this server uses (`remade`: the web chat's cookie key, Mattermost's button key) found unusable in var/ is
replaced by a new one: what it signed could be forged anyway, and no one else holds a copy. A shared secret (the JWT
secret that sites and scripts/api-token.sh sign with, the action server's) is never replaced behind their backs.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from knowledge import paths

logger = logging.getLogger(__name__)

MIN_SECRET_CHARS = 32  # an HMAC key of our own: 16 random bytes as hex at the least (make_once writes 32 bytes)


class SecretError(ValueError):
    """A secret that cannot be used (too short, empty or unreadable); the message says what to do."""


@dataclass(frozen=True)
class Secret:
    """Where one secret is looked for: `env`, then the file named by `env`_FILE, then var/`file_name`."""

    env: str
    file_name: str
    min_chars: int = 1
    remade: bool = False  # only this server uses it: an unusable var/ file is replaced, not refused

    @property
    def file_env(self) -> str:
        return self.env + "_FILE"

    def path(self) -> Path:
        named = os.environ.get(self.file_env, "").strip()
        return Path(named) if named else paths.var_dir() / self.file_name

    def load(self) -> str:
        value = os.environ.get(self.env, "").strip()
        if value:
            if len(value) < self.min_chars:
                raise SecretError(f"{self.env} is shorter than {self.min_chars} characters: use a random one")
            return value
        path = self.path()
        made_here = not os.environ.get(self.file_env, "").strip()
        if made_here:
            make_once(path)
        value = self.read(path)
        if len(value) < self.min_chars and made_here and self.remade:
            logger.warning("%s is empty or too short: making a new key (what the old one signed stops working)", path)
            path.unlink(missing_ok=True)
            make_once(path)
            value = self.read(path)
        if not value:
            raise SecretError(f"{path} is empty: delete it (a new secret is made at start) or set {self.env}")
        if len(value) < self.min_chars:
            raise SecretError(f"{path} is shorter than {self.min_chars} characters: use a random one, or set {self.env}")
        return value

    def read(self, path: Path) -> str:
        try:
            return path.read_text().strip()
        except OSError as e:
            raise SecretError(f"cannot read {path} ({e.strerror}): set {self.env} or {self.file_env}") from None


def make_once(path: Path) -> None:
    """A new random secret at `path`, owner-only; an existing file (another process's, or an operator's) is kept.

    Written aside and linked into place, so a process starting at the same moment (Rasa and the action server)
    never reads a half-written file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))  # 32 bytes: what HS256 asks of a JWT key
        os.link(aside, path)
    except FileExistsError:
        pass  # another process made it first: theirs is used
    finally:
        aside.unlink(missing_ok=True)


JWT = Secret("COACH_JWT_SECRET", "jwt_secret")  # Rasa's HTTP API and sender tokens (bot/start.py, bot/channels/sender_auth.py)
ACTION = Secret("COACH_ACTION_SECRET", "action_secret")  # Rasa -> action server header (actions/server.py)
WEBCHAT = Secret("WEBCHAT_SECRET", "webchat_secret", MIN_SECRET_CHARS, remade=True)  # the web chat's cookie signatures
MATTERMOST_ACTION = Secret("MATTERMOST_ACTION_SECRET", "mattermost_action_secret", MIN_SECRET_CHARS, remade=True)  # buttons
