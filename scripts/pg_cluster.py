"""A throwaway PostgreSQL server for tests and the local cluster: Debian's postgresql binaries, a fresh data
folder in a temp dir, loopback only, one database with a password user, stopped and deleted afterwards.

    with PgCluster() as pg:          # or pg = PgCluster(); pg.start(); ...; pg.stop()
        pg.url                       # postgresql://coach:<pw>@127.0.0.1:<port>/coach
        pg.create_database("rasa")   # more databases, same user

initdb refuses to run as root, so as root every server command runs as the `postgres` user (runuser).
`unavailable()` says why PostgreSQL cannot run here (not installed: `make postgres` installs it as root).

Command line (for scripts): `python scripts/pg_cluster.py start DIR [--port N]` prints the URL and leaves the
server running in DIR; `python scripts/pg_cluster.py stop DIR` stops it and deletes DIR.
"""

from __future__ import annotations

import argparse
import glob
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from bot.start import free_port

USER = "coach"
DATABASE = "coach"
SKIP_REASON = "PostgreSQL is not installed (`make postgres` installs Debian's postgresql as root): PostgreSQL tests skipped"


def bin_dir() -> Optional[Path]:
    """The newest installed PostgreSQL's bin folder (Debian keeps them out of PATH), or one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> Optional[str]:
    """None when a throwaway server can start here, else the reason (a test's skip message)."""
    if bin_dir() is None:
        return SKIP_REASON
    if os.geteuid() == 0 and not (shutil.which("runuser") and _user_exists("postgres")):
        return "running as root without a `postgres` user (or runuser) to run initdb as: PostgreSQL tests skipped"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class PgCluster:
    def __init__(self, directory: Optional[Path] = None, port: Optional[int] = None):
        self.dir = Path(directory or tempfile.mkdtemp(prefix="coach-pg-"))
        self.port = port or free_port()
        self.data = self.dir / "data"
        self.password_file = self.dir / "password"
        self.password = self.password_file.read_text().strip() if self.password_file.exists() else secrets.token_hex(12)
        self.bin = bin_dir()

    def url_of(self, database: str = DATABASE) -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_of(DATABASE)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        """A PostgreSQL program, as the postgres user when we are root."""
        assert self.bin is not None, SKIP_REASON
        command: List[str] = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        try:
            return subprocess.run(command, capture_output=True, text=True, check=True, cwd="/")
        except subprocess.CalledProcessError as e:
            raise RuntimeError(
                f"{args[0]} failed ({self.dir} and its parents must be readable by the user running "
                f"PostgreSQL):\n{e.stdout}\n{e.stderr}"
            ) from e

    def start(self) -> PgCluster:
        why = unavailable()
        if why:
            raise RuntimeError(why)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(self.password + "\n")
        (self.dir / "port").write_text(f"{self.port}\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.password_file, "postgres", "postgres")
        os.chmod(self.password_file, 0o600)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={self.password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            "start",
        )
        self.create_database(DATABASE)
        return self

    def create_database(self, name: str) -> str:
        """A new empty database owned by the user; its URL."""
        self._run("createdb", "-h", str(self.dir), "-p", str(self.port), "-U", USER, name)
        return self.url_of(name)

    def stop(self, delete: bool = True) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            except RuntimeError:
                pass
        if delete:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a server in DIR (created) and print its URL")
    start.add_argument("dir", type=Path)
    start.add_argument("--port", type=int)
    sub.add_parser("stop", help="stop the server in DIR and delete DIR").add_argument("dir", type=Path)
    args = p.parse_args(argv)
    if args.command == "start":
        why = unavailable()
        if why:
            print(why, file=sys.stderr)
            return 1
        print(PgCluster(args.dir, args.port).start().url)
    else:
        port_file = args.dir / "port"
        PgCluster(args.dir, int(port_file.read_text()) if port_file.exists() else None).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
