"""Rasa's socket.io channel (for any Rasa web chat widget), fixed and held to the REST channel's rules.

- Rasa 3.6 calls `sio.enter_room(...)` without awaiting it, which python-socketio 5.10+ made a coroutine: with
  `session_persistence` the widget never joined its session's room and never received an answer. This channel
  answers `session_request` itself and awaits it.
- Each message counts against its sender's rate limit (bot/limits.py); socket.io cannot carry a 429 back, so a
  message over the limit is dropped and logged (never its text).
- A session id that belongs to another channel (the web chat's `web-...`, a team chat's `platform:...`) is refused,
  as REST refuses it (bot/channels/rest.py), so a widget cannot read or write those conversations.
- A browser page connects only from this server's own site or one listed in COACH_CORS_ORIGINS (bot/origins.py):
  Rasa's socket.io server checks no origin (`cors_allowed_origins=[]`), and a WebSocket is not held to CORS.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot import origins
from bot.channels.rest import RESERVED_SENDER
from bot.limits import limited_handler

logger = logging.getLogger(__name__)


class CoachSocketIO(SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        limited = limited_handler(on_new_message, self.name())

        async def checked(message: UserMessage) -> Any:
            if RESERVED_SENDER.search(str(message.sender_id)):
                logger.warning("socketio: a message for another channel's conversation was refused")
                return None
            return await limited(message)

        blueprint = super().blueprint(checked)
        sio = blueprint.ctx.sio
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]
        allowed = origins.allowed()

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict, auth: Optional[Dict]) -> bool:
            origin, host = environ.get("HTTP_ORIGIN"), environ.get("HTTP_HOST")
            if not origins.may_connect(origin, host, allowed):
                logger.warning("socketio: refused a connection from an unlisted site (%s)", str(origin)[:100])
                return False
            return await rasa_connect(sid, environ, auth)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Optional[Dict]) -> None:
            session = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence and not RESERVED_SENDER.search(str(session)):
                joined = sio.enter_room(sid, session)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session, room=sid)

        return blueprint
