"""The REST channel (/webhooks/rest/webhook) with its input checked, its senders rate-limited and its namespace kept.

Rasa's own RestInput answers 500 or stores whatever arrives: a non-string message, a sender of any type, a
client-chosen `input_channel`, lone surrogates that later fail to encode. This one answers each of those with a
4xx and a short JSON reason, rate-limits per sender (bot/limits.py), and refuses the sender ids of the other
channels (`web-...` of the web chat, `<platform>:...` of the team chats), so REST cannot read or write their
conversations. From another machine (or through a proxy) a request needs a sender token whose subject is its
sender (bot/channels/sender_auth.py); a browser page of a site not listed in COACH_CORS_ORIGINS is refused
(bot/origins.py). Messages are never logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_fallback, origins
from bot.channels import sender_auth, senders
from bot.limits import MAX_MESSAGE_CHARS, limit_request_size, plain_text, too_many, too_many_from

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128  # a uuid with a prefix fits many times; longer ids are someone probing
MAX_METADATA_BYTES = 4096  # metadata is a few flags (a language, a client name)
EMPTY_KEY = "empty_input"  # ui.yaml: what the engine says to a message without words


class Rejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def parse(body: bytes) -> Dict[str, Any]:
    """The request as {sender, message, metadata}, or Rejected with the status and a reason."""
    if not body.strip():
        raise Rejected(400, 'empty request body: send {"sender": "...", "message": "..."}')
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise Rejected(400, "request body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise Rejected(400, "request body must be a JSON object")
    sender, message, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if not isinstance(sender, str) or not plain_text(sender).strip():
        raise Rejected(400, "'sender' must be a non-empty string")
    if sender != plain_text(sender) or len(sender) > MAX_SENDER_CHARS:
        raise Rejected(400, f"'sender' must be printable text of at most {MAX_SENDER_CHARS} characters")
    if senders.reserved(sender):
        raise Rejected(403, "this sender id belongs to another channel")
    if not isinstance(message, str):
        raise Rejected(400, "'message' must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise Rejected(413, f"'message' is too long (limit {MAX_MESSAGE_CHARS} characters)")
    if metadata is not None and not isinstance(metadata, dict):
        raise Rejected(400, "'metadata' must be a JSON object")
    if metadata and len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise Rejected(413, f"'metadata' is too large (limit {MAX_METADATA_BYTES} bytes)")
    return {"sender": sender, "message": plain_text(message), "metadata": metadata or None}


async def empty_message_answer(request: Request, sender: str) -> HTTPResponse:
    """The engine's answer to a message without words (`empty_input`), in the conversation's language."""
    try:
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
    except Exception:
        logger.exception("rest: tracker store failed")
        tracker = None
    return response.json([{"recipient_id": sender, "text": action_fallback.ui_reply(EMPTY_KEY, tracker)}])


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class CoachRestInput(RestInput):
    """`rest` in bot/credentials.yml: same name and URL as Rasa's, checked input, one answer per request."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("coach_rest", __name__)
        allowed = origins.allowed()  # COACH_CORS_ORIGINS, as bot/start.py gave Rasa's CORS headers

        @bp.listener("before_server_start")
        async def cap_body_size(app: Any, _loop: Any) -> None:
            limit_request_size(app)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            limited = too_many_from(request)  # per client address first: new sender ids buy no extra messages
            if limited is not None:
                return limited
            if not origins.may_connect(request.headers.get("origin"), request.headers.get("host"), allowed):
                return error(403, "this site is not in the server's list of allowed origins (COACH_CORS_ORIGINS)")
            try:
                data = parse(request.body or b"")
            except Rejected as e:
                return error(e.status, e.message)
            refused = sender_auth.refusal(request, data["sender"])  # another machine: a sender token for this sender
            if refused is not None:
                return error(*refused)
            limited = too_many(f"rest:{data['sender']}")
            if limited is not None:
                return limited
            if not data["message"].strip():  # Rasa fails on an empty text: answer it here, store nothing
                return await empty_message_answer(request, data["sender"])
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(data["message"], collector, data["sender"], input_channel=self.name(), metadata=data["metadata"])
                )
            except Exception:  # logged without the message: it may describe a real customer
                logger.exception("rest: message failed")
                if not collector.messages:
                    return error(503, "the coach could not answer just now: try again in a moment")
            return response.json(collector.messages)

        return bp
