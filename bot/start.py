"""The one way this project starts Rasa: `python -m bot.start run --port 5005 --model var/models ...`.

Every Rasa process of the project (scripts/run.sh, `make shell`, `make stories`, the test fixtures, the cluster,
the load scripts) starts here, so each one gets the same things:
- the patches of bot/rasa_compat.py, installed explicitly and checked against the installed Rasa first;
- for `run`: the HTTP API with JWTs only (HS256), signed with the secret of knowledge/secret_files.py
  (`COACH_JWT_SECRET`, else the file `COACH_JWT_SECRET_FILE` names, else var/jwt_secret, made once, owner-only).
  It is handed to Rasa inside this process, never on the command line, where every local user could read it
  (`ps`, /proc/<pid>/cmdline: issue 25);
- the action server's secret (`COACH_ACTION_SECRET`, same rules, var/action_secret) in the environment, where
  bot/endpoints.yml reads it;
- CORS only for the sites listed in `COACH_CORS_ORIGINS` (bot/origins.py; empty: none), never `*`;
- TLS when `COACH_TLS_CERT` and `COACH_TLS_KEY` name a certificate (chain) and its private key (PEM files):
  Rasa's Sanic server then serves https:// on its port, for one machine without a proxy in front;
- umask 077, so every file the process makes (the SQLite tracker store and its -wal/-shm above all) is owner-only.

Other arguments go to Rasa's own command line unchanged (`run --port`, `--interface`, `--model`, `--endpoints`,
`--credentials`; `shell ...`; `test core ...`). The options this replaces (`--jwt-secret`, `--auth-token`, `--cors`,
`--ssl-certificate`, `--ssl-keyfile`) are refused with the setting to use instead.

`server_command()` and `free_port()` are for the tests and scripts that start servers.
"""

from __future__ import annotations

import os
import random
import socket
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot import origins
from knowledge import paths, secret_files

TLS_CERT_ENV = "COACH_TLS_CERT"
TLS_KEY_ENV = "COACH_TLS_KEY"
JWT_METHOD = "HS256"
REPLACED_OPTIONS: Dict[str, str] = {
    "--jwt-secret": f"{secret_files.JWT.env}, {secret_files.JWT.file_env} or var/{secret_files.JWT.file_name}",
    "--auth-token": "a JWT (scripts/api-token.sh); the token-in-the-query option stays off",
    "--cors": origins.ENV,
    "--ssl-certificate": TLS_CERT_ENV,
    "--ssl-keyfile": TLS_KEY_ENV,
}


class StartError(RuntimeError):
    """A setting that stops the start, with what to change."""


def tls_files() -> List[str]:
    """Rasa's TLS options for COACH_TLS_CERT / COACH_TLS_KEY: both or neither, each a readable file."""
    cert, key = (os.environ.get(name, "").strip() for name in (TLS_CERT_ENV, TLS_KEY_ENV))
    if not cert and not key:
        return []
    if not (cert and key):
        raise StartError(f"set both {TLS_CERT_ENV} and {TLS_KEY_ENV} (a certificate and its private key), or neither")
    for name, path in ((TLS_CERT_ENV, cert), (TLS_KEY_ENV, key)):
        if not os.access(path, os.R_OK) or not Path(path).is_file():
            raise StartError(f"{name}={path}: no readable file there")
    return ["--ssl-certificate", cert, "--ssl-keyfile", key]


def rasa_arguments(args: Sequence[str]) -> List[str]:
    """Rasa's command line for `args`, with the secret, origins and TLS added for `run` (kept inside this process)."""
    args = list(args) or ["run"]
    if args[0].startswith("-"):
        args = ["run", *args]
    for arg in args:
        option = arg.split("=", 1)[0]
        if option in REPLACED_OPTIONS:
            raise StartError(f"{option} is not taken on the command line: use {REPLACED_OPTIONS[option]}")
    if args[0] != "run":
        return args
    extra = ["--enable-api", "--jwt-secret", secret_files.JWT.load(), "--jwt-method", JWT_METHOD]
    allowed = origins.allowed()
    if allowed:
        extra += ["--cors", *allowed]
    return [*args[:1], *extra, *tls_files(), *args[1:]]


def main(argv: Optional[Sequence[str]] = None) -> None:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # no telemetry or crash reports leave the machine
    paths.owner_only_from_now()  # umask 077: the tracker database Rasa creates (and its -wal/-shm), logs, secrets
    try:
        rasa_args = rasa_arguments(sys.argv[1:] if argv is None else argv)
        os.environ[secret_files.ACTION.env] = secret_files.ACTION.load()  # bot/endpoints.yml: ${COACH_ACTION_SECRET}
    except (StartError, secret_files.SecretError, origins.OriginError) as e:
        sys.exit(f"bot.start: {e}")

    from bot import rasa_compat

    try:
        rasa_compat.install()
    except rasa_compat.RasaCompatError as e:
        sys.exit(f"bot.start: {e}")
    import rasa.__main__

    sys.argv = ["rasa", *rasa_args]  # Rasa's CLI reads sys.argv; the process's own command line keeps no secret
    rasa.__main__.main()


# For the tests and scripts that start servers -----------------------------------------------------------------------
def server_command(port: int, model: Path, endpoints: Path, credentials: Path, interface: Optional[str] = None) -> List[str]:
    """The command that starts a Rasa server of this project (its settings come from the environment)."""
    command = [sys.executable, "-m", "bot.start", "run", "--port", str(port), "--model", str(model)]
    command += ["--endpoints", str(endpoints), "--credentials", str(credentials)]
    return command + (["--interface", interface] if interface else [])


# Ports for servers that tests and scripts start: below Linux's ephemeral range (32768-60999), which the OS hands to
# outgoing connections, so a port picked here cannot be taken by a client socket before its server binds it (a
# cluster test failed with "address already in use" when free ports came from the ephemeral range).
SERVER_PORTS = range(20000, 32768)


def free_port() -> int:
    """A TCP port free on loopback now, outside the ephemeral range, for a server a test or script is about to start."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(SERVER_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVER_PORTS.start}-{SERVER_PORTS.stop - 1} on 127.0.0.1")


if __name__ == "__main__":
    main()
