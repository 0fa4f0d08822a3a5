"""bot/start.py, the one start-up of Rasa: the JWT secret never on a command line, CORS only for the listed sites
(HTTP and socket.io), TLS from a certificate path, and the settings it refuses."""

from __future__ import annotations

import datetime
import socket
import uuid
from pathlib import Path
from typing import Tuple

import pytest
import requests

from bot import origins, start
from knowledge import secret_files


# settings (no server) ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--jwt-secret", "--auth-token", "--cors", "--ssl-certificate", "--ssl-keyfile"])
def test_the_options_it_replaces_are_refused_on_the_command_line(option):
    with pytest.raises(start.StartError, match="not taken on the command line"):
        start.rasa_arguments(["run", "--port", "5005", option, "x"])
    with pytest.raises(start.StartError):
        start.rasa_arguments(["run", f"{option}=x"])


def test_run_gets_the_secret_from_the_file_and_the_listed_origins(tmp_path, monkeypatch):
    secret = tmp_path / "jwt"
    secret.write_text("a-secret-of-the-operator-of-32-bytes\n")
    monkeypatch.delenv("COACH_JWT_SECRET", raising=False)
    monkeypatch.setenv("COACH_JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("COACH_CORS_ORIGINS", "https://shop.example.com, http://localhost:8000/")
    args = start.rasa_arguments(["--port", "5005"])
    assert args[:6] == ["run", "--enable-api", "--jwt-secret", "a-secret-of-the-operator-of-32-bytes", "--jwt-method", "HS256"]
    assert args[args.index("--cors") + 1 : args.index("--cors") + 3] == ["https://shop.example.com", "http://localhost:8000"]
    monkeypatch.setenv("COACH_CORS_ORIGINS", "")
    assert "--cors" not in start.rasa_arguments(["run"])  # none listed: no cross-origin access at all
    assert start.rasa_arguments(["shell", "--model", "m"]) == ["shell", "--model", "m"]  # no API, nothing added


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "shop.example.com", "https://shop.example.com/path", "ftp://x"])
def test_a_wildcard_or_a_non_origin_is_refused(value):
    with pytest.raises(origins.OriginError):
        origins.parse(value)


def test_an_empty_secret_file_is_refused_and_a_missing_one_is_made_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("COACH_JWT_SECRET", raising=False)
    monkeypatch.delenv("COACH_JWT_SECRET_FILE", raising=False)
    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path))
    made = secret_files.JWT.load()
    path = tmp_path / "jwt_secret"
    assert len(made) == 64 and path.read_text() == made and path.stat().st_mode & 0o777 == 0o600
    assert secret_files.JWT.load() == made  # made once
    path.write_text("  \n")
    with pytest.raises(secret_files.SecretError, match="empty"):
        secret_files.JWT.load()


def test_tls_needs_both_files(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    monkeypatch.setenv("COACH_TLS_CERT", str(cert))
    monkeypatch.delenv("COACH_TLS_KEY", raising=False)
    with pytest.raises(start.StartError, match="both"):
        start.tls_files()
    monkeypatch.setenv("COACH_TLS_KEY", str(key))
    with pytest.raises(start.StartError, match="no readable file"):
        start.tls_files()
    key.write_text("y")
    assert start.tls_files() == ["--ssl-certificate", str(cert), "--ssl-keyfile", str(key)]


# the running server ------------------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_no_secret_is_on_the_rasa_servers_command_line(servers):
    """Any local user can read /proc/<pid>/cmdline (`ps`); the JWT and action secrets must not be there (issue 25)."""
    cmdline = Path(f"/proc/{servers.rasa.pid}/cmdline").read_bytes().decode()
    assert "bot.start" in cmdline
    assert servers.jwt_secret not in cmdline and servers.action_secret not in cmdline and "--jwt-secret" not in cmdline
    r = requests.get(f"{servers.url}/status", headers=servers.api_headers(), timeout=30)
    assert r.status_code == 200  # and the API still takes JWTs signed with the secret from the file


@pytest.mark.e2e
def test_cors_headers_only_for_a_listed_site(servers):
    listed = requests.get(f"{servers.url}/", headers={"Origin": servers.widget_origin}, timeout=30)
    assert listed.headers.get("Access-Control-Allow-Origin") == servers.widget_origin
    for other in ("http://evil.example.test", "null"):
        r = requests.get(f"{servers.url}/", headers={"Origin": other}, timeout=30)
        assert "Access-Control-Allow-Origin" not in r.headers, (other, dict(r.headers))
    preflight = requests.options(
        f"{servers.url}/webhooks/rest/webhook",
        headers={"Origin": "http://evil.example.test", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def socket_io_answer(servers, origin: str) -> Tuple[bool, str]:
    """(connected, the first answer's text) of a socket.io widget served from `origin`."""
    import socketio

    client = socketio.SimpleClient()
    session = f"widget-{uuid.uuid4().hex[:8]}"
    try:
        client.connect(servers.url, headers={"Origin": origin}, transports=["polling", "websocket"], socketio_path="/socket.io")
    except socketio.exceptions.ConnectionError:
        return False, ""
    try:
        client.emit("session_request", {"session_id": session})
        client.emit("user_uttered", {"message": "hello", "session_id": session})
        while True:
            event, data = client.receive(timeout=60)
            if event == "bot_uttered":
                return True, data.get("text", "")
    finally:
        client.disconnect()


@pytest.mark.e2e
def test_a_socket_io_widget_works_from_a_listed_site_only(servers):
    connected, answer = socket_io_answer(servers, servers.widget_origin)
    assert connected and answer, answer
    assert socket_io_answer(servers, "http://evil.example.test") == (False, "")


def self_signed(folder: Path) -> Tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as an operator's files would be (PEM)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.mark.e2e
@pytest.mark.slow
def test_tls_on_one_machine_from_a_certificate_path(own_servers, tmp_path):
    cert, key = self_signed(tmp_path)
    tls = own_servers(env={"COACH_TLS_CERT": str(cert), "COACH_TLS_KEY": str(key)})
    assert tls.url.startswith("https://")
    r = requests.post(f"{tls.url}/webhooks/rest/webhook", json={"sender": "tls", "message": "hello"}, verify=str(cert), timeout=60)
    assert r.status_code == 200 and r.json()[0]["text"]
    page = requests.get(f"{tls.url}/chat/", verify=str(cert), timeout=30)  # issue 25 item 3: TLS on the server's socket
    assert "; secure" in page.headers["Set-Cookie"].lower() and page.headers["Strict-Transport-Security"].startswith("max-age=")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls.rasa_port}/", timeout=10)  # no plain HTTP on the TLS port


def test_a_server_port_is_free_and_outside_the_range_outgoing_connections_use():
    from bot.start import SERVER_PORTS, free_port

    port = free_port()
    assert port in SERVER_PORTS and port < 32768
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
