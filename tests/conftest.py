"""Shared fixtures: an isolated var/ for each test run, the engine, and real Rasa + action servers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_VAR = Path(tempfile.mkdtemp(prefix="coach-test-var-"))
os.environ["COACH_VAR_DIR"] = str(_VAR)  # before any engine import: tests never touch the real var/


def seed_built_engine() -> None:
    """The test var dir starts with the engine `make kb` built in var/, when it was built from this very content and
    build code (its fingerprint): tests read it and never write it, so a run does not rebuild it (about a minute on
    2 cores). Anything else, the engine builds itself in the test var dir as before."""
    from knowledge import loader, store

    built = ROOT / "var"
    fingerprint = loader.content_hash()
    models = built / f"models-{fingerprint}.pkl"
    if store.fingerprint_of(built / "knowledge.db") != fingerprint or not models.exists():
        return
    shutil.copy2(built / "knowledge.db", _VAR / "knowledge.db")
    (_VAR / models.name).symlink_to(models)  # read only: a rebuild replaces the link, never the file


seed_built_engine()


@pytest.fixture(scope="session")
def var_dir() -> Iterator[Path]:
    yield _VAR
    shutil.rmtree(_VAR, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(var_dir):
    from knowledge.app import engine as built_engine  # builds the empty test var dir first

    return built_engine()


@pytest.fixture(scope="session")
def dialogue(engine):
    from knowledge.engine.dialogue import Dialogue
    from knowledge.userdata import UserData

    return Dialogue(engine, UserData())


from bot.start import free_port, server_command  # noqa: E402  (after COACH_VAR_DIR: nothing of it reads the var dir)


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: int = 240, headers: Optional[Dict[str, str]] = None) -> None:
    """Poll until `url` answers 200 (a server with a test certificate is not verified: this only asks "up yet?")."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2, headers=headers, verify=False).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not up after {seconds}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


SERVER_SETTINGS = ("COACH_JWT_SECRET", "COACH_CORS_ORIGINS", "COACH_TLS_CERT", "COACH_TLS_KEY")  # the developer's own: not inherited


class Servers:
    """A real action server and Rasa server on free ports, with their own tracker and user stores.

    As `make run` starts them (Rasa through bot/start.py): the HTTP API takes only JWTs signed with `jwt_secret`
    (`api_headers()`), read from a file in the work folder, never from the command line; the action server
    (python -m actions.server) only calls carrying `action_secret`, which Rasa sends from the environment; browsers
    may call cross-origin only from `widget_origin` (COACH_CORS_ORIGINS)."""

    jwt_secret = "test-jwt-secret-of-at-least-32-bytes"  # HS256 wants 32 bytes or more
    action_secret = "test-action-secret"
    widget_origin = "http://widget.example.test:8000"  # a listed site, as a third-party Rasa widget would be served

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None, actions: Optional[Servers] = None):
        """`env`: extra environment for both servers (e.g. a team chat's settings); `actions`: another Servers whose
        running action server this one's Rasa uses instead of starting its own (one action server per test run)."""
        self.workdir = workdir
        self.action_port = actions.action_port if actions else free_port()
        self.rasa_port = free_port()
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n'
            '  headers:\n    X-Coach-Action-Secret: ${COACH_ACTION_SECRET}\n'  # from the env, as bot/endpoints.yml
            f'tracker_store:\n  type: bot.tracker_store.CoachSQLTrackerStore\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n'
        )
        self.jwt_secret_file = workdir / "jwt_secret"
        self.jwt_secret_file.write_text(self.jwt_secret)
        self.jwt_secret_file.chmod(0o600)
        inherited = {
            k: v for k, v in os.environ.items() if k not in ("COACH_JWT_SECRET", "COACH_CORS_ORIGINS", "COACH_TLS_CERT", "COACH_TLS_KEY")
        }
        self.env = {
            **inherited,
            "COACH_VAR_DIR": str(_VAR),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "COACH_ACTION_SECRET": self.action_secret,
            "COACH_JWT_SECRET_FILE": str(self.jwt_secret_file),
            "COACH_CORS_ORIGINS": self.widget_origin,
            **(env or {}),
        }
        self.scheme = "https" if self.env.get("COACH_TLS_CERT") else "http"
        self.actions = self.rasa = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.rasa_port}"

    def start_actions(self) -> None:
        log = self.workdir / "actions.log"
        self.actions = subprocess.Popen(
            [str(BIN / "python"), "-m", "actions.server", "--port", str(self.action_port)],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for(f"http://127.0.0.1:{self.action_port}/health", self.actions, log)

    def start_rasa(self) -> None:
        log = self.workdir / "rasa.log"
        self.rasa = subprocess.Popen(
            server_command(self.rasa_port, ROOT / "var" / "models", self.endpoints, ROOT / "bot" / "credentials.yml"),
            cwd=ROOT,
            env=self.env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.url}/status", self.rasa, log, headers=self.api_headers())

    def api_headers(self, user: Optional[str] = None) -> Dict[str, str]:
        """Authorization for the HTTP API: an operator's JWT (role admin), or one conversation's (role user)."""
        import jwt

        who = {"username": user, "role": "user"} if user else {"username": "operator", "role": "admin"}
        token = jwt.encode({"user": who, "exp": int(time.time()) + 3600}, self.jwt_secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    def restart_rasa(self) -> None:
        stop(self.rasa)
        self.start_rasa()

    def say(self, sender: str, message: str) -> List[Dict]:
        r = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
        r.raise_for_status()
        return r.json()

    def tracker(self, sender: str) -> Dict:
        r = requests.get(f"{self.url}/conversations/{sender}/tracker", headers=self.api_headers(), timeout=30)
        r.raise_for_status()
        return r.json()

    def close(self) -> None:
        for proc in (self.rasa, self.actions):
            if proc:
                stop(proc)


@pytest.fixture(scope="session")
def servers(var_dir) -> Iterator[Servers]:
    if not list((ROOT / "var" / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in var/models: run `make train` (make test does it)")
    workdir = Path(tempfile.mkdtemp(prefix="coach-e2e-"))
    s = Servers(workdir)
    try:
        s.start_actions()
        s.start_rasa()
        yield s
    finally:
        s.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def own_servers(servers) -> Iterator[Callable[..., Servers]]:
    """Servers of this test alone, for a test that kills or restarts one: the session's shared servers are never
    stopped, so a failed restart cannot fail every later end-to-end test. `own_servers()` starts a Rasa server (its
    own tracker store) on the shared action server; `own_servers(actions=True)` with its own action server too."""
    started: List[Servers] = []

    def start(actions: bool = False, env: Optional[Dict[str, str]] = None) -> Servers:
        own = Servers(Path(tempfile.mkdtemp(prefix="coach-own-")), env=env, actions=None if actions else servers)
        started.append(own)
        if actions:
            own.start_actions()
        own.start_rasa()
        return own

    yield start
    for own in started:
        own.close()
        shutil.rmtree(own.workdir, ignore_errors=True)


def texts(messages: List[Dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: List[Dict]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def dump(messages: List[Dict]) -> str:
    return json.dumps(messages, ensure_ascii=False, indent=1)


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """A test that starts a PostgreSQL server of its own (the `pg` fixture, tests/test_privacy.py) is slow: `make
    check` starts no server."""
    for item in items:
        if "pg" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
