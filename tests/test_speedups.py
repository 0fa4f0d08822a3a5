"""bot/speedups.py: the patched schema check raises what jsonschema raises; action calls reuse connections."""

from __future__ import annotations

import asyncio

import jsonschema
import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot import speedups

SCHEMA = {"type": "object", "properties": {"events": {"type": "array"}}, "required": ["events"]}


@pytest.mark.parametrize("instance", [{"events": []}, {"events": "no"}, {}, []])
def test_the_cached_schema_check_raises_what_jsonschema_raises(instance):
    def outcome(check):
        try:
            check(instance, SCHEMA)
            return None
        except jsonschema.ValidationError as e:
            return e.message

    assert outcome(speedups.validate) == outcome(speedups._plain_validate)


def test_a_broken_schema_is_still_refused():
    with pytest.raises(jsonschema.SchemaError):
        speedups.validate({}, {"type": 12})


def test_calls_to_an_endpoint_reuse_one_connection():
    async def run() -> set:
        peers = set()

        async def hello(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername")[1])
            return web.json_response({"ok": True, "auth": request.headers.get("X-Secret")})

        app = web.Application()
        app.router.add_post("/webhook", hello)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Secret": "s"})
        endpoint.session = speedups.pooled_session.__get__(endpoint)  # as install() does, for this endpoint only
        answers = [await endpoint.request(json={"n": n}, method="post") for n in range(5)]
        await speedups._connector().close()
        await runner.cleanup()
        assert answers == [{"ok": True, "auth": "s"}] * 5  # the endpoint's headers still go with every call
        return peers

    assert len(asyncio.run(run())) == 1
