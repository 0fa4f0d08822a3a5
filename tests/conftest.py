"""Shared fixtures: an isolated var/ for each test run, the engine, and real Rasa + action servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_VAR = Path(tempfile.mkdtemp(prefix="coach-test-var-"))
os.environ["COACH_VAR_DIR"] = str(_VAR)  # before any engine import: tests never touch the real var/


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: int = 240, headers: Optional[Dict[str, str]] = None) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"server not up after {seconds}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Servers:
    """A real action server and Rasa server on free ports, with their own tracker and user stores.

    As `make run` starts them: the HTTP API takes only JWTs signed with `jwt_secret` (`api_headers()`), the action
    server (python -m actions.server) only calls carrying `action_secret`, which Rasa sends from the environment."""

    jwt_secret = "test-jwt-secret-of-at-least-32-bytes"  # HS256 wants 32 bytes or more
    action_secret = "test-action-secret"

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
        self.env = {
            **os.environ,
            "COACH_VAR_DIR": str(_VAR),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "COACH_ACTION_SECRET": self.action_secret,
            **(env or {}),
        }
        self.actions = self.rasa = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

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
            [
                str(BIN / "rasa"),
                "run",
                "--enable-api",
                "--jwt-secret",
                self.jwt_secret,
                "--jwt-method",
                "HS256",
                "--port",
                str(self.rasa_port),
                "--model",
                str(ROOT / "var" / "models"),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(ROOT / "bot" / "credentials.yml"),
            ],
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


def texts(messages: List[Dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: List[Dict]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def dump(messages: List[Dict]) -> str:
    return json.dumps(messages, ensure_ascii=False, indent=1)
