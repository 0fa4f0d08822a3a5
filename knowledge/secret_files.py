"""The project's secrets (JWT signing key, action server secret, web chat cookie key), read one way everywhere.

A secret comes from its environment variable (`COACH_JWT_SECRET`), else from the file its `_FILE` variable names
(`COACH_JWT_SECRET_FILE`, e.g. a mounted secret), else from `<var dir>/<name>`, made once with 32 random bytes and
readable by its owner only. Never from the command line: every local user can read a process's argv (issue 25).
An empty value is refused: an empty key would sign or check anything.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from knowledge import paths


class SecretError(RuntimeError):
    """A secret that cannot be used (an empty or unreadable file); the message says what to do."""


@dataclass(frozen=True)
class Secret:
    """Where one secret is looked for: `env`, then the file named by `env`_FILE, then var/`file_name`."""

    env: str
    file_name: str

    @property
    def file_env(self) -> str:
        return self.env + "_FILE"

    def path(self) -> Path:
        named = os.environ.get(self.file_env, "").strip()
        return Path(named) if named else paths.var_dir() / self.file_name

    def load(self) -> str:
        value = os.environ.get(self.env, "").strip()
        if value:
            return value
        path = self.path()
        if not os.environ.get(self.file_env, "").strip():
            make_once(path)
        try:
            value = path.read_text().strip()
        except OSError as e:
            raise SecretError(f"cannot read {path} ({e.strerror}): set {self.env} or {self.file_env}") from None
        if not value:
            raise SecretError(f"{path} is empty: delete it (a new secret is made at start) or set {self.env}")
        return value


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


JWT = Secret("COACH_JWT_SECRET", "jwt_secret")  # Rasa's HTTP API (bot/start.py, scripts/api-token.sh)
ACTION = Secret("COACH_ACTION_SECRET", "action_secret")  # Rasa -> action server header (actions/server.py)
WEBCHAT = Secret("WEBCHAT_SECRET", "webchat_secret")  # the web chat's cookie signatures (bot/channels/webchat.py)
