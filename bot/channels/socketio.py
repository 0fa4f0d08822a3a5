"""Rasa's socket.io channel (for any Rasa web chat widget), fixed and held to the REST channel's rules.

- Who may connect: a page of this server or of a site in COACH_CORS_ORIGINS (the Origin header, which a browser
  always sends, checked by bot/origins.py: Rasa's socket.io server checks no origin (`cors_allowed_origins=[]`),
  and a WebSocket is not held to CORS); and from another machine (or through a proxy) only with a sender token
  (bot/channels/sender_auth.py): socket.io's `auth: {token}`, or `?token=` on the socket URL for widgets that
  cannot set `auth` (rasa-webchat 1.0.1: `socketUrl: "https://coach.example?token=<jwt>"`). The connection is then
  bound to the token's subject: its session is that sender whatever `session_id` the widget asks for, and every
  message is that sender's. A connection from this machine itself (loopback, no forwarding header) needs no token
  and picks its session.
- Rasa 3.6 calls `sio.enter_room(...)` without awaiting it, which python-socketio 5.10+ made a coroutine: with
  `session_persistence` the widget never joined its session's room and never received an answer. This channel
  answers `session_request` itself and awaits it.
- Each message counts against its sender's rate limit (bot/limits.py); socket.io cannot carry a 429 back, so a
  message over the limit is dropped and logged (never its text). Malformed events are dropped the same way.
- A session id that belongs to another channel (the web chat's `web-...`, a team chat's `platform:...`) is refused,
  as REST refuses it (bot/channels/rest.py), so a widget cannot read or write those conversations.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import parse_qs

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import origins
from bot.channels import sender_auth
from bot.channels.rest import MAX_SENDER_CHARS
from bot.channels.senders import reserved
from bot.limits import MAX_MESSAGE_CHARS, limited_handler, plain_text

logger = logging.getLogger(__name__)

LOCAL = ""  # a connection from this machine: may choose its session


class CoachSocketIO(SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        limited = limited_handler(on_new_message, self.name())
        blueprint = super().blueprint(limited)
        sio = blueprint.ctx.sio
        bound: Dict[str, str] = {}  # socket id -> the sender it speaks as (LOCAL: any)
        allowed = origins.allowed()  # COACH_CORS_ORIGINS, as bot/start.py gave Rasa's CORS headers

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict[str, Any], auth: Optional[Dict] = None) -> bool:
            request = environ.get("sanic.request")
            headers = request.headers if request is not None else {}
            origin = environ.get("HTTP_ORIGIN")
            if not origins.may_connect(origin, headers.get("host"), allowed):
                logger.warning("socketio: refused a connection from a site not in COACH_CORS_ORIGINS (%s)", str(origin)[:100])
                return False
            if sender_auth.local_environ(environ):
                bound[sid] = LOCAL
                return True
            token = auth.get("token") if isinstance(auth, dict) and isinstance(auth.get("token"), str) else ""
            token = token or parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0] or sender_auth.bearer(headers)
            subject = sender_auth.subject(token)
            if not subject or reserved(subject):
                logger.warning("socketio: a connection without a valid sender token was refused")
                return False
            bound[sid] = subject
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            bound.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Optional[Dict]) -> None:
            if sid not in bound:
                return
            asked = (data or {}).get("session_id") if isinstance(data, dict) else None
            session = bound[sid] or (asked if isinstance(asked, str) and asked else uuid.uuid4().hex)
            if reserved(session) or len(session) > MAX_SENDER_CHARS or session != plain_text(session):
                logger.warning("socketio: a session id for another channel's conversation was refused")
                return
            if self.session_persistence:
                joined = sio.enter_room(sid, session, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if sid not in bound or not isinstance(data, dict):
                return
            if self.session_persistence:
                sender = data.get("session_id")
                if not isinstance(sender, str) or not sender:
                    return
            else:
                sender = sid
            if bound[sid] and sender != bound[sid]:
                logger.warning("socketio: a message for another sender than the token's was refused")
                return
            text = data.get("message", "")
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = None
            if reserved(sender) or not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS or not isinstance(metadata, dict):
                logger.warning("socketio: a malformed message or one for another channel's conversation was refused")
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            await limited(UserMessage(plain_text(text), output, sender, input_channel=self.name(), metadata=metadata))

        return blueprint
