"""A platform's HTTP API on loopback, shared by the tests of the connectors (test_team_chats, test_team_chats_server,
test_cluster): it records every call and answers with what the test's `answer` function says.

Waiting on it is waiting on an event: `wait_for(check)` wakes on each recorded call, never on a clock tick, and
gives up after `seconds` (the check's last result says what was missing).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List

Call = Dict[str, Any]  # method, path, headers, body (JSON, a form as a dict, or None for a GET)
Answer = Callable[["FakePlatform", Call], Dict[str, Any]]


class FakePlatform:
    """Records POSTs in `calls` and the paths of GETs in `gets`; answers each with `answer(self, call)` as JSON."""

    def __init__(self, answer: Answer) -> None:
        self.calls: List[Call] = []
        self.gets: List[str] = []
        self.changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.record({"method": "GET", "path": self.path, "headers": dict(self.headers), "body": None})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                self.record({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})

            def record(self, call: Call) -> None:
                out = json.dumps(answer(fake, call)).encode()
                with fake.changed:
                    (fake.gets.append(call["path"]) if call["method"] == "GET" else fake.calls.append(call))
                    fake.changed.notify_all()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, check: Callable[[], Any], seconds: float = 120) -> Any:
        """The first true result of `check()`, re-checked at each call the platform receives; its last (false)
        result when `seconds` pass first."""
        with self.changed:
            self.changed.wait_for(check, timeout=seconds)
        return check()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
