#!/usr/bin/env python3
"""Sales Coach scaled out on one machine, without compose (issue 18), every process on loopback (nginx too, unless
--listen says otherwise):

  PostgreSQL   Rasa's tracker store (database `rasa`) and the application store (database `coach`)
  Redis        Rasa's lock store (bot/cluster/lock_store.py): one conversation's turns run one at a time, on any server
  N actions    action servers, balanced by nginx on an internal port, so any Rasa server reaches any of them
  N Rasa       Rasa servers sharing the stores above; any of them can take any turn of any conversation
  nginx        the one public entry: round robin over the Rasa servers (sticky per client for socket.io)

  scripts/cluster.py run     start it all, print the addresses; Ctrl-C stops it cleanly (`make run-cluster`)
  scripts/cluster.py soak    start it on free ports in a scratch folder, drive load through nginx, print figures

Logs, the generated configs and the PostgreSQL data live in --dir (default var/cluster/); passwords and secrets
are generated once into <dir>/secrets.json (owner-only) unless set in the environment. As root, PostgreSQL and
Redis run as their Debian users (initdb refuses root).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests
import yaml

from bot.start import free_port, server_command
from knowledge import secret_files

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NGINX_TEMPLATE = ROOT / "bot" / "cluster" / "nginx.conf"
PG_USER = "coach"
START_TIMEOUT_S = 300  # the whole start took 22-47 s on 2 cores (two Rasa servers loading side by side); more when busy


def which(name: str) -> Optional[str]:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def pg_bin() -> Path:
    """PG_BIN, else the newest Debian PostgreSQL (kept out of PATH), else the folder of an initdb on PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    initdb = found[-1] if found else Path(which("initdb") or "/usr/lib/postgresql/15/bin/initdb")
    return initdb.parent


def missing_tools() -> List[str]:
    """What this machine lacks to run the cluster, each with the command that installs it."""
    missing = []
    if not (pg_bin() / "initdb").exists():
        missing.append("PostgreSQL's initdb (`make postgres`, or set PG_BIN to its bin folder)")
    if not which("redis-server"):
        missing.append("redis-server (`make redis`)")
    if not which("nginx"):
        missing.append("nginx (`make nginx`)")
    for module in ("psycopg2", "redis"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the Python package {module} (comes with rasa; `make setup`)")
    return missing


def env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Ports:
    """Defaults stay clear of `make run` (5005/5055), so both can run side by side."""

    nginx: int = field(default_factory=lambda: env_port("CLUSTER_PORT", 8080))
    actions_proxy: int = field(default_factory=lambda: env_port("CLUSTER_ACTIONS_PROXY_PORT", 5150))
    postgres: int = field(default_factory=lambda: env_port("CLUSTER_PG_PORT", 5433))
    redis: int = field(default_factory=lambda: env_port("CLUSTER_REDIS_PORT", 6380))
    rasa: List[int] = field(default_factory=lambda: [env_port("CLUSTER_RASA_PORT", 5006) + i for i in range(2)])
    actions: List[int] = field(default_factory=lambda: [env_port("CLUSTER_ACTION_PORT", 5056) + i for i in range(2)])

    @classmethod
    def free(cls, servers: int = 2) -> Ports:
        return cls(
            nginx=free_port(),
            actions_proxy=free_port(),
            postgres=free_port(),
            redis=free_port(),
            rasa=[free_port() for _ in range(servers)],
            actions=[free_port() for _ in range(servers)],
        )

    @classmethod
    def default(cls, servers: int = 2) -> Ports:
        ports = cls()
        ports.rasa = [ports.rasa[0] + i for i in range(servers)]
        ports.actions = [ports.actions[0] + i for i in range(servers)]
        return ports


def service_user(name: str) -> Dict[str, Any]:
    """Popen arguments that run a process as Debian's `name` user when we are root (else as ourselves)."""
    if os.geteuid() != 0:
        return {}
    import grp
    import pwd

    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return {}
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [g.gr_gid for g in grp.getgrall() if name in g.gr_mem]}


def traversable_up_to(path: Path, top: Path) -> None:
    """The folders above `path` inside the project (var/ is owner-only, 0700) let the services' own users pass
    through (o+x, 0711): they can reach their own folder but list and read nothing else there (files stay 0600)."""
    if os.geteuid() != 0:
        return  # without root every service runs as us
    for parent in path.resolve().parents:
        if parent == top.resolve() or top.resolve() not in parent.parents:
            break
        if parent.stat().st_uid == os.geteuid():
            parent.chmod(parent.stat().st_mode & 0o777 | 0o011)


def give_to(path: Path, run_as: Dict[str, Any]) -> None:
    if run_as:
        os.chown(path, run_as["user"], run_as["group"])


class Service:
    """One child process in its own session (Ctrl-C reaches only us; we stop the children in order)."""

    def __init__(self, name: str, args: List[str], log: Path, env: Dict[str, str], stop_signal: int = signal.SIGTERM, **popen: Any):
        self.name, self.args, self.log, self.env, self.stop_signal, self.popen = name, args, log, env, stop_signal, popen
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        with self.log.open("a") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n")
            out.flush()
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **self.popen,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, for the fault tests."""
        if self.running and self.proc:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout: float = 30) -> None:
        if not self.running or not self.proc:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def wait_until(what: str, ready: Callable[[], bool], services: List[Service], seconds: float = START_TIMEOUT_S) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        for s in services:
            if not s.running:
                raise RuntimeError(f"{s.name} exited while starting; the end of {s.log}:\n{s.tail()}")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not up yet: refused, reset, auth not ready
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {seconds:.0f}s; logs: " + ", ".join(str(s.log) for s in services))


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


def latest_model() -> Path:
    models = sorted((ROOT / "var" / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in var/models: run `make train`.")
    return models[-1]


def load_secrets(workdir: Path) -> Dict[str, str]:
    """Generated once per cluster folder; the environment's values win (the same names `make run` reads)."""
    path = workdir / "secrets.json"
    stored: Dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    names = ["pg_password", "redis_password", "webchat_secret", "jwt_secret", "action_secret"]
    changed = False
    for name in names:
        if not stored.get(name):
            stored[name], changed = secrets.token_hex(32), True  # 32 bytes: what HS256 asks of a JWT secret
    if changed:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(stored, f, indent=1)
    env = {"webchat_secret": "WEBCHAT_SECRET", "jwt_secret": "COACH_JWT_SECRET", "action_secret": "COACH_ACTION_SECRET"}
    return {k: os.environ.get(env.get(k, ""), "") or v for k, v in stored.items()}


class Cluster:
    """The processes, their configs and how to start, crash, restart and stop them."""

    def __init__(
        self, workdir: Path, ports: Ports, model: Optional[Path] = None, listen: str = "127.0.0.1", env: Optional[Dict[str, str]] = None
    ):
        self.workdir, self.ports, self.listen = workdir, ports, listen
        self.model = model or latest_model()
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o755)  # PostgreSQL and Redis run as their own users and must reach their folders
        traversable_up_to(workdir, ROOT)
        self.secrets = load_secrets(workdir)
        base = {**os.environ, **(env or {})}
        base.update(
            {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONHASHSEED": "0", "RASA_TELEMETRY_ENABLED": "false"}
        )
        self.env = {**base, **self.app_env()}
        self.postgres: Optional[Service] = None
        self.redis: Optional[Service] = None
        self.nginx: Optional[Service] = None
        self.actions: List[Service] = []
        self.rasa: List[Service] = []

    # addresses and configuration ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.listen in ("0.0.0.0", "") else self.listen
        return f"http://{host}:{self.ports.nginx}"

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports.rasa[i]}"

    def database_url(self, db: str = "coach") -> str:
        return f"postgresql://{PG_USER}:{self.secrets['pg_password']}@127.0.0.1:{self.ports.postgres}/{db}"

    def app_env(self) -> Dict[str, str]:
        """What every Rasa and action server gets: the application store, and the shared secrets."""
        return {
            "COACH_DATABASE_URL": self.database_url(),
            "WEBCHAT_SECRET": self.secrets["webchat_secret"],
            "COACH_JWT_SECRET": self.secrets["jwt_secret"],
            "COACH_ACTION_SECRET": self.secrets["action_secret"],
            # retry and button memory of the Chinese connectors, shared so a retry reaching the other server is
            # answered once (bot/channels/connector.py Memory); database 2, apart from the lock store's 1
            "COACH_REDIS_URL": f"redis://:{self.secrets['redis_password']}@127.0.0.1:{self.ports.redis}/2",
        }

    def api_headers(self) -> Dict[str, str]:
        """A JWT for Rasa's HTTP API (admin role: any conversation), signed with the cluster's secret."""
        import jwt

        token = jwt.encode(
            {"user": {"username": "cluster", "role": "admin"}, "exp": int(time.time()) + 3600},
            self.secrets["jwt_secret"],
            algorithm="HS256",
        )
        return {"Authorization": f"Bearer {token}"}

    def endpoints(self) -> Dict[str, Any]:
        return {
            "action_endpoint": {
                "url": f"http://127.0.0.1:{self.ports.actions_proxy}/webhook",
                "headers": {"X-Coach-Action-Secret": self.secrets["action_secret"]},
            },
            "tracker_store": {
                "type": "bot.tracker_store.CoachSQLTrackerStore",
                "dialect": "postgresql",
                "url": "127.0.0.1",
                "port": self.ports.postgres,
                "db": "rasa",
                "username": PG_USER,
                "password": self.secrets["pg_password"],
            },
            # Rasa's `type: redis` with atomic lock changes: two servers can take one conversation's turns at once
            "lock_store": {
                "type": "bot.cluster.lock_store.CoachRedisLockStore",
                "url": "127.0.0.1",
                "port": self.ports.redis,
                "db": 1,
                "password": self.secrets["redis_password"],
                "key_prefix": "coach",
            },
        }

    def write_private(self, name: str, text: str, owner: Optional[Dict[str, Any]] = None) -> Path:
        path = self.workdir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        give_to(path, owner or {})
        return path

    def nginx_conf(self) -> str:
        def servers(ports: List[int]) -> str:
            return "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)

        text = NGINX_TEMPLATE.read_text()
        for key, value in {
            "@RASA_SERVERS@": servers(self.ports.rasa),
            "@ACTION_SERVERS@": servers(self.ports.actions),
            "@DIR@": str(self.workdir),
            "@LISTEN@": self.listen,
            "@NGINX_PORT@": str(self.ports.nginx),
            "@ACTIONS_PORT@": str(self.ports.actions_proxy),
        }.items():
            text = text.replace(key, value)
        return text

    # the processes ------------------------------------------------------------------------------------------
    def make_postgres(self) -> Service:
        run_as = service_user("postgres")
        data = self.workdir / "pg"
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(mode=0o700)
            give_to(data, run_as)
            pwfile = self.write_private("pg-password.tmp", self.secrets["pg_password"], run_as)
            try:
                subprocess.run(
                    [
                        str(pg_bin() / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        PG_USER,
                        f"--pwfile={pwfile}",
                        "--auth=scram-sha-256",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd="/",
                    **run_as,
                )
            except subprocess.CalledProcessError as e:
                raise RuntimeError(f"initdb failed:\n{e.stdout}\n{e.stderr}") from e
            finally:
                pwfile.unlink()
        args = [
            str(pg_bin() / "postgres"),
            "-D",
            str(data),
            "-p",
            str(self.ports.postgres),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
        ]
        # SIGINT: PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave)
        return Service("postgres", args, self.workdir / "postgres.log", self.env, stop_signal=signal.SIGINT, **run_as)

    def make_redis(self) -> Service:
        run_as = service_user("redis")
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True)
        give_to(folder, run_as)
        conf = self.write_private(
            "redis.conf",
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.ports.redis}",
                    "protected-mode yes",
                    f"requirepass {self.secrets['redis_password']}",
                    'save ""',
                    "appendonly no",
                    f"dir {folder}",
                    'logfile ""',
                    "daemonize no",
                    "",
                ]
            ),
            run_as,
        )
        return Service("redis", ["redis-server", str(conf)], self.workdir / "redis.log", self.env, **run_as)

    def make_action(self, i: int) -> Service:
        # actions/server.py: rasa-sdk's app on 127.0.0.1, refusing calls without the shared secret header
        args = [sys.executable, "-m", "actions.server", "--port", str(self.ports.actions[i])]
        return Service(f"actions-{i + 1}", args, self.workdir / f"actions-{i + 1}.log", self.env)

    def make_rasa(self, i: int) -> Service:
        endpoints = self.write_private(f"endpoints-{i + 1}.yml", yaml.safe_dump(self.endpoints(), sort_keys=False))
        # as scripts/run.sh starts it (bot/start.py: HTTP API with JWTs only, the secret from COACH_JWT_SECRET in the
        # environment, CORS only for COACH_CORS_ORIGINS), but on loopback: nginx is the public side
        args = server_command(self.ports.rasa[i], self.model, endpoints, ROOT / "bot" / "credentials.yml", interface="127.0.0.1")
        return Service(f"rasa-{i + 1}", args, self.workdir / f"rasa-{i + 1}.log", self.env)

    def make_nginx(self) -> Service:
        (self.workdir / "tmp").mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.nginx_conf())
        args = [
            which("nginx") or "nginx",
            "-p",
            str(self.workdir),
            "-e",
            str(self.workdir / "nginx-error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ]
        return Service("nginx", args, self.workdir / "nginx.log", self.env, stop_signal=signal.SIGQUIT)

    def create_databases(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.database_url("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            for db in ("rasa", "coach"):
                cur.execute("select 1 from pg_database where datname = %s", [db])
                if not cur.fetchone():
                    cur.execute(f'create database "{db}"')
        conn.close()

    def create_schemas(self) -> None:
        """Create the tables once, before the servers start: two Rasa servers (or two action servers) creating
        them at the same moment race on PostgreSQL's catalog and one of them fails."""
        code = (
            "import yaml, sys\n"
            "from bot.tracker_store import CoachSQLTrackerStore\n"
            "cfg = yaml.safe_load(open(sys.argv[1]))['tracker_store']\n"
            "CoachSQLTrackerStore(dialect=cfg['dialect'], host=cfg['url'], port=cfg['port'], db=cfg['db'],"
            " username=cfg['username'], password=cfg['password'])\n"
            "try:\n"
            "    from knowledge.userdata import UserData\n"
            "    UserData()\n"
            "except Exception as e:\n"
            "    print('application store:', repr(e))\n"
        )
        endpoints = self.write_private("endpoints-schema.yml", yaml.safe_dump(self.endpoints()))
        with (self.workdir / "schema.log").open("a") as log:
            subprocess.run(
                [sys.executable, "-c", code, str(endpoints)],
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT_S,
            )

    def redis_ping(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.ports.redis, password=self.secrets["redis_password"], socket_timeout=2)
        return bool(client.ping())

    def postgres_ready(self) -> bool:
        import psycopg2

        psycopg2.connect(self.database_url("postgres"), connect_timeout=2).close()
        return True

    def start(self) -> None:
        """Stores first (PostgreSQL, Redis), then the schema, then every server at once: they load in parallel."""
        t0 = time.time()
        self.postgres, self.redis = self.make_postgres(), self.make_redis()
        self.postgres.start()
        self.redis.start()
        wait_until("PostgreSQL", self.postgres_ready, [self.postgres])
        self.create_databases()
        self.create_schemas()
        wait_until("Redis", self.redis_ping, [self.redis])
        self.actions = [self.make_action(i) for i in range(len(self.ports.actions))]
        self.rasa = [self.make_rasa(i) for i in range(len(self.ports.rasa))]
        self.nginx = self.make_nginx()
        for s in [*self.actions, *self.rasa, self.nginx]:
            s.start()
        for port, s in zip(self.ports.actions, self.actions, strict=True):
            wait_until(s.name, partial(http_ok, f"http://127.0.0.1:{port}/health"), [s])
        for i in range(len(self.rasa)):
            self.wait_rasa(i)
        wait_until("nginx", partial(http_ok, self.url + "/"), [self.nginx])
        self.started_s = time.time() - t0

    def wait_rasa(self, i: int) -> None:
        # Rasa loads the model before it listens, so "/" answering means the server can take turns
        wait_until(self.rasa[i].name, partial(http_ok, self.rasa_url(i) + "/"), [self.rasa[i]])

    def kill_rasa(self, i: int) -> None:
        self.rasa[i].kill()

    def restart_rasa(self, i: int) -> None:
        self.rasa[i].stop()
        self.rasa[i].start()
        self.wait_rasa(i)

    def services(self) -> List[Service]:
        return [s for s in [self.nginx, *self.rasa, *self.actions, self.redis, self.postgres] if s is not None]

    def stop(self) -> None:
        """Front to back: nginx, the Rasa servers, the action servers, then the stores they write to."""
        front = [s for s in [self.nginx, *self.rasa] if s]
        threads = [threading.Thread(target=s.stop) for s in front]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for group in ([*self.actions], [self.redis], [self.postgres]):
            for s in group:
                if s:
                    s.stop()

    def describe(self) -> str:
        lines = [
            f"Sales Coach cluster is running (started in {self.started_s:.0f} s). Logs: {self.workdir}/*.log",
            f"  Entry (nginx):   {self.url}/  web chat {self.url}/chat/  REST {self.url}/webhooks/rest/webhook",
            *[f"  Rasa server {i + 1}:   {self.rasa_url(i)}  (loopback, behind nginx)" for i in range(len(self.rasa))],
            *[
                f"  Action server {i + 1}: http://127.0.0.1:{p}  (balanced by nginx on 127.0.0.1:{self.ports.actions_proxy})"
                for i, p in enumerate(self.ports.actions)
            ],
            f"  PostgreSQL:      127.0.0.1:{self.ports.postgres}  databases rasa (trackers), coach (application store);"
            f" user {PG_USER}, password in {self.workdir}/secrets.json",
            f"  Redis:           127.0.0.1:{self.ports.redis}  (lock store)",
            "Press Ctrl-C to stop.",
        ]
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    missing = missing_tools()
    if missing:
        print("Cannot start the cluster; missing:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    ports = Ports.default(args.servers)
    # the same signing secret as `make run`, so `scripts/api-token.sh` mints tokens for the cluster's API too
    os.environ.setdefault(secret_files.JWT.env, secret_files.JWT.load())
    cluster = Cluster(Path(args.dir).resolve(), ports, listen=args.listen)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
        print(cluster.describe(), flush=True)
        warned: set = set()
        while not stopping.wait(1):
            for s in cluster.services():
                if not s.running and s.name not in warned:
                    warned.add(s.name)
                    print(f"{s.name} exited; the others keep serving. See {s.log}", file=sys.stderr, flush=True)
            if all(not s.running for s in cluster.rasa):
                print("No Rasa server left: stopping.", file=sys.stderr)
                break
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        print("\nStopping...", flush=True)
        cluster.stop()
        print("Stopped.")
    return 0


def soak(args: argparse.Namespace) -> int:
    """A fresh cluster on free ports in a scratch folder, the load driver pointed at nginx, then a clean stop."""
    missing = missing_tools()
    if missing:
        print("Cluster soak skipped; missing:\n  " + "\n  ".join(missing))
        return 0
    workdir = Path(args.dir).resolve() / "soak"
    shutil.rmtree(workdir, ignore_errors=True)
    cluster = Cluster(workdir, Ports.free(args.servers))
    try:
        cluster.start()
        print(
            f"Cluster up in {cluster.started_s:.0f} s ({len(cluster.rasa)} Rasa + {len(cluster.actions)} action servers,"
            f" PostgreSQL, Redis, nginx at {cluster.url}); logs in {workdir}",
            flush=True,
        )
        driver = ROOT / "scripts" / "soak.py"
        cmd = [sys.executable, str(driver), "--url", cluster.url, *args.driver_args]
        return subprocess.run(cmd, cwd=ROOT, env=cluster.env).returncode
    finally:
        cluster.stop()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=str(ROOT / "var" / "cluster"), help="logs, configs, PostgreSQL data")
    parser.add_argument("--servers", type=int, default=2, help="how many Rasa servers and action servers")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the cluster in the foreground (Ctrl-C stops it)")
    run_p.add_argument(
        "--listen",
        default=os.environ.get("CLUSTER_LISTEN", "127.0.0.1"),
        help="nginx's address (0.0.0.0 to serve the network); everything else stays on loopback",
    )
    sub.add_parser("soak", help="load through nginx on a fresh cluster; other arguments go to scripts/soak.py")
    args, driver_args = parser.parse_known_args(argv)
    if driver_args and args.command != "soak":
        parser.error(f"unrecognized arguments: {' '.join(driver_args)}")
    args.driver_args = driver_args
    os.chdir(ROOT)
    return run(args) if args.command == "run" else soak(args)


if __name__ == "__main__":
    sys.exit(main())
