"""Two per-turn costs of the Rasa server that no setting removes, patched once per process (issue 17).

Installed at start-up by bot/rasa_compat.py (`python -m bot.start`), which checks what they replace.
Measured with py-spy on the Rasa server under scripts/bench_load.py (20 users, 2 cores):
- validating each action server reply against a JSON schema was 22% of the server's time, 16% of it re-checking
  the constant schema itself: `jsonschema.validate` now checks a given schema once (the same errors, raised
  the same way);
- each call to the action server opened a new aiohttp session and TCP connection: 0.5-0.9 ms of CPU per call,
  0.2 ms on a kept-alive connection (/tmp micro-bench of `EndpointConfig.request`). Sessions now share one
  connection pool per event loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict

import aiohttp
import jsonschema
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

# Below Sanic's KEEP_ALIVE_TIMEOUT (5 s) on the action server, so the pool never reuses a connection the server
# is closing at that moment.
KEEP_ALIVE_S = 3.0

_validators: Dict[str, Any] = {}
_plain_validate = getattr(jsonschema.validate, "__wrapped__", jsonschema.validate)  # Rasa's, even when patched
_connectors: Dict[int, aiohttp.TCPConnector] = {}


def validate(instance: Any, schema: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate` that checks a given schema once: Rasa re-checks the same one per action reply."""
    if args or kwargs:
        return _plain_validate(instance, schema, *args, **kwargs)
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _connector() -> aiohttp.TCPConnector:
    """This event loop's pool of kept-alive connections (a Rasa server runs one loop per process)."""
    loop = asyncio.get_running_loop()
    connector = _connectors.get(id(loop))
    if connector is None or connector.closed:
        connector = _connectors[id(loop)] = aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_S)
    return connector


def pooled_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """As `EndpointConfig.session` (same headers, auth and timeout), over the shared pool instead of its own."""
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    return aiohttp.ClientSession(
        headers=self.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=_connector(),
        connector_owner=False,
    )
