"""The mobile web chat: a page and a small JSON API served by the Rasa server itself at /chat/.

Plain HTTP instead of socket.io: the page POSTs a message and gets the bot's messages back in the
response (as the REST channel does), so there is no socket to lose when a phone sleeps or switches network,
and Rasa 3.6's socket.io defects (RasaHQ/rasa#13027, sender = socket id) do not apply.

Identity: the server issues a random sender id signed with HMAC, kept in an HttpOnly, SameSite=Lax cookie.
The client never names a sender; a missing or forged cookie gets a new identity on the page and 401 on the API,
so no one can read or write someone else's conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import origins
from bot.channels import buttons
from bot.channels.senders import WEB_PREFIX, WEB_SENDER
from bot.limits import NEW_IDENTITY_LIMITER, limit_request_size, over_https, plain_text, too_many, too_many_from
from knowledge import secret_files
from knowledge.schema import DEFAULT_LANG, LANGS
from knowledge.secret_files import MIN_SECRET_CHARS
from knowledge.teams import Teams

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
STATIC_FILES = {"webchat.css": "text/css", "webchat.js": "text/javascript", "strings.json": "application/json"}
COOKIE = "coach_chat"
COOKIE_MAX_AGE = 365 * 24 * 3600  # a trainee keeps the same conversation for a year on the same phone
SENDER_RE = WEB_SENDER  # bot/channels/senders.py
MAX_BODY = 16 * 1024  # bytes of JSON per request: a message of MAX_TEXT characters of Chinese fits
MAX_TEXT = 8000  # characters per message; the engine reads descriptions of a few sentences
MAX_TITLE = 200  # a button title shown as the user's bubble
HSTS = "max-age=31536000"  # a year, sent only on responses to requests that came over HTTPS
HISTORY_LIMIT = 80  # messages the page shows on load: a long practice session plus its coaching

Handler = Callable[[UserMessage], Awaitable[Any]]


def page_lang(request: Request) -> str:
    """The language a page asks for (`?lang=`), one of LANGS, else the default: the progress and team pages alike."""
    lang = request.args.get("lang", DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class Signer:
    """Sender ids as `web-<random>.<hmac>`: unguessable, and only this server can make a valid one."""

    def __init__(self, secret: bytes):
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError("the web chat's signing key is empty or too short")
        self.secret = secret

    def sign(self, sender: str) -> str:
        return hmac.new(self.secret, sender.encode(), hashlib.sha256).hexdigest()

    def issue(self) -> Tuple[str, str]:
        sender = WEB_PREFIX + secrets.token_hex(16)
        return sender, f"{sender}.{self.sign(sender)}"

    def verify(self, token: Optional[str]) -> Optional[str]:
        if not token or token.count(".") != 1:
            return None
        sender, signature = token.split(".")
        if not SENDER_RE.match(sender) or not hmac.compare_digest(signature.encode(), self.sign(sender).encode()):
            return None
        return sender


def set_cookie(resp: HTTPResponse, token: str, secure: bool = False) -> None:
    """`secure` when the request came over HTTPS (bot/limits.py over_https): the cookie then never travels in clear."""
    resp.cookies[COOKIE] = token
    resp.cookies[COOKIE]["httponly"] = True
    if secure:
        resp.cookies[COOKIE]["secure"] = True
    resp.cookies[COOKIE]["samesite"] = "Lax"
    resp.cookies[COOKIE]["path"] = "/chat"
    resp.cookies[COOKIE]["max-age"] = COOKIE_MAX_AGE


def read_json(request: Request) -> Dict[str, Any]:
    """The body as a JSON object, or a BadRequest that names what is wrong."""
    body = request.body or b""
    if len(body) > MAX_BODY:
        raise BadRequest(413, f"request body too large (limit {MAX_BODY} bytes)")
    if not body.strip():
        raise BadRequest(400, "empty request body: send a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise BadRequest(400, "request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "request body must be a JSON object")
    return data


def field(data: Dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequest(400, f"'{name}' must be a string")
    value = plain_text(value).strip()  # no control characters or lone surrogates reach the tracker
    if required and not value:
        raise BadRequest(400, f"'{name}' is empty")
    if len(value) > limit:
        raise BadRequest(413, f"'{name}' is too long (limit {limit} characters)")
    return value


def history_of(events: List[Dict[str, Any]], limit: int = HISTORY_LIMIT) -> List[Dict[str, Any]]:
    """User and bot messages of a tracker, as the page shows them: a pressed button by its title."""
    messages: List[Dict[str, Any]] = []
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            shown = (event.get("metadata") or {}).get("shown")
            messages.append({"from": "user", "text": shown if isinstance(shown, str) and shown else event["text"]})
        elif event.get("event") == "bot" and (event.get("text") or (event.get("data") or {}).get("buttons")):
            messages.append(
                {"from": "bot", "text": event.get("text") or "", "buttons": buttons.normalise((event.get("data") or {}).get("buttons"))}
            )
    return messages[-limit:]


def bot_messages(collected: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [
        {
            "from": "bot",
            "text": m.get("text") or "",
            "buttons": buttons.normalise(m.get("buttons")),
        }
        for m in collected
        if m.get("text") or m.get("buttons")
    ]


class WebChat(InputChannel):
    """Serves /chat/ (page), /chat/api/* (session, history, message, profile), /chat/progress and, for a team's
    managers, /chat/team and /chat/team.csv."""

    def __init__(self, secret: Optional[bytes] = None):
        self.signer = Signer(secret or secret_files.WEBCHAT.load().encode())  # WEBCHAT_SECRET, its _FILE, var/webchat_secret

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> WebChat:
        return cls()

    def url_prefix(self) -> str:
        return "/chat"  # absolute: Rasa joins it onto /webhooks/, which keeps an absolute path as it is

    def sender_of(self, request: Request) -> Optional[str]:
        """The signed sender; None for a bad cookie or a request from another origin, listed sites included (a
        page on another port of the same host, which SameSite counts as the same site, must not use the cookie)."""
        if not origins.may_connect(request.headers.get("origin"), request.headers.get("host")):  # this site only
            return None
        return self.signer.verify(request.cookies.get(COOKIE))

    def identity(self, request: Request) -> Tuple[str, Optional[str]]:
        """The signed sender, or a new one with the token to set as the cookie."""
        sender = self.sender_of(request)
        if sender:
            return sender, None
        return self.signer.issue()

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        from knowledge.app import userdata

        from .progress import progress_page
        from .team_page import team_csv, team_page

        bp = Blueprint("webchat", __name__)

        @bp.listener("before_server_start")
        async def cap_body_size(app: Any, _loop: Any) -> None:
            limit_request_size(app)  # bot/limits.py: 413 for bodies over 1 MB on every route

        @bp.middleware("response")
        async def strict_transport(request: Request, resp: HTTPResponse) -> None:
            if over_https(request):  # never on plain http: a phone on the Wi-Fi's http:// address keeps working
                resp.headers["Strict-Transport-Security"] = HSTS

        @bp.middleware("request")
        async def per_address(request: Request) -> Optional[HTTPResponse]:
            """Every API call and progress page counts against its client address (bot/limits.py), whatever
            identity it carries, so new identities buy no extra messages; over it, 429."""
            if "/chat/api/" in request.path or request.path.rstrip("/").endswith(("/chat/progress", "/chat/team", "/chat/team.csv")):
                return too_many_from(request)
            return None

        def too_many_new(request: Request, token: Optional[str]) -> Optional[HTTPResponse]:
            return too_many_from(request, NEW_IDENTITY_LIMITER, "new") if token else None

        @bp.route("/", methods=["GET"], strict_slashes=False)
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):  # /chat -> /chat/, so the page's relative URLs resolve under /chat/
                return response.redirect(request.path + "/")
            _, token = self.identity(request)
            limited = too_many_new(request, token)
            if limited is not None:
                return limited
            resp = await response.file(STATIC_DIR / "index.html", headers=no_store())
            if token:
                set_cookie(resp, token, over_https(request))
            return resp

        @bp.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:
                return error(404, "no such file")
            return await response.file(STATIC_DIR / name, mime_type=STATIC_FILES[name], headers=no_store())

        @bp.route("/api/session", methods=["GET"])
        async def session(request: Request) -> HTTPResponse:
            sender, token = self.identity(request)
            limited = too_many_new(request, token)
            if limited is not None:
                return limited
            profile = await asyncio.to_thread(userdata().profile, sender)  # the store waits for a lock off the loop
            resp = response.json({"new": token is not None, "profile": public(profile)})
            if token:
                set_cookie(resp, token, over_https(request))
            return resp

        @bp.route("/api/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            sender = self.sender_of(request)
            if not sender:
                return error(401, "no valid chat session: reload the page")
            try:
                tracker = await request.app.ctx.agent.tracker_store.retrieve_full_tracker(sender)
            except Exception:
                logger.exception("webchat: tracker store failed")
                return error(503, "the conversation store could not be read just now: try again in a moment")
            events = [event.as_dict() for event in tracker.events] if tracker else []
            return response.json({"messages": history_of(events)})

        @bp.route("/api/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            sender = self.sender_of(request)
            if not sender:
                return error(401, "no valid chat session: reload the page")
            limited = too_many(sender)  # bot/limits.py: per-sender token bucket (bad requests count too), 429 over it
            if limited is not None:
                return limited
            try:
                data = read_json(request)
                text = field(data, "text", MAX_TEXT, required=True)
                title = field(data, "title", MAX_TITLE)
                lang = field(data, "lang", 8)
            except BadRequest as e:
                return error(e.status, e.message)
            metadata: Dict[str, Any] = {"lang": lang if lang in LANGS else None}
            if title:
                metadata["shown"] = title
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:  # the action server is down or failed: say so instead of a bare 500
                logger.exception("webchat: message failed")
                if not collector.messages:
                    return error(503, "the coach could not answer just now: try again in a moment")
            return response.json({"messages": bot_messages(collector.messages)})

        @bp.route("/api/profile", methods=["POST"])
        async def profile(request: Request) -> HTTPResponse:
            sender = self.sender_of(request)
            if not sender:
                return error(401, "no valid chat session: reload the page")
            limited = too_many(f"profile:{sender}")  # invite codes cannot be tried faster than messages are sent
            if limited is not None:
                return limited
            try:
                data = read_json(request)
                name, invite = field(data, "name", 60), field(data, "invite", 60)
            except BadRequest as e:
                return error(e.status, e.message)
            store = userdata()
            joined = await asyncio.to_thread(Teams(store).join, sender, invite) if invite else None
            if invite and joined is None:  # a team only with its code: knowledge/teams.py
                return error(403, "unknown team invite code: ask your team's coach for the current one")
            return response.json({"profile": public(await asyncio.to_thread(store.set_profile, sender, name))})

        @bp.route("/progress", methods=["GET"])
        async def progress(request: Request) -> HTTPResponse:
            sender, token = self.identity(request)
            limited = too_many_new(request, token)
            if limited is not None:
                return limited
            page = await asyncio.to_thread(progress_page, userdata(), sender, page_lang(request))
            resp = response.html(page, headers=no_store())
            if token:
                set_cookie(resp, token, over_https(request))
            return resp

        @bp.route("/team", methods=["GET"])
        async def team(request: Request) -> HTTPResponse:
            """The manager's team page (bot/channels/team_page.py); 403 for anyone who manages no team."""
            sender = self.sender_of(request)
            page = await asyncio.to_thread(team_page, userdata(), sender, page_lang(request)) if sender else None
            if page is None:
                return error(403, "the team page is for a team's managers")
            return response.html(page, headers=no_store())

        @bp.route("/team.csv", methods=["GET"])
        async def team_table(request: Request) -> HTTPResponse:
            """The team page's table as CSV, a download; 403 for anyone who manages no team."""
            sender = self.sender_of(request)
            made = await asyncio.to_thread(team_csv, userdata(), sender, page_lang(request)) if sender else None
            if made is None:
                return error(403, "the team's results are for its managers")
            name, text = made
            headers = {**no_store(), "Content-Disposition": f'attachment; filename="{name}"'}
            return response.text("\ufeff" + text, headers=headers, content_type="text/csv; charset=utf-8")

        return bp


def public(profile: Dict[str, Any]) -> Dict[str, Any]:
    """What the page may see of a profile: the name, the team's name and whether they manage it (the Team link),
    never a sender id or a team key."""
    return {"name": profile.get("name", ""), "team": profile.get("team_name", ""), "manager": profile.get("role") == "manager"}


def no_store() -> Dict[str, str]:
    return {"Cache-Control": "no-store"}
