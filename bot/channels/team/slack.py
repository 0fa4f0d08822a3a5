"""Slack: the shipped connector's signing-secret check (mandatory) and user keying, with a sender per person per
workspace, answers in a thread in channels, slash commands, display names and Block Kit buttons.

Events API: `app_mention` in channels, `message` only in DMs (`channel_type: im`), so a mention is not answered
twice. Interactivity (button presses) and slash commands arrive form-encoded on the same URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.limits import limited_handler

from . import common

logger = logging.getLogger(__name__)

PLATFORM = "slack"
NEEDS = "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"
DEFAULT_API = "https://slack.com/api/"
MAX_AGE = 5 * 60  # seconds: Slack's own replay window for X-Slack-Request-Timestamp
MAX_BUTTONS = 25  # elements in one Block Kit actions block
MAX_BUTTON_TEXT = 75  # characters of a button's label


class SlackOutput(SlackBot):
    """Posts through the Web API at a configurable base URL; text as mrkdwn, buttons as Block Kit."""

    def __init__(self, token: str, channel: Optional[str], thread_id: Optional[str], api_url: str) -> None:
        super().__init__(token, channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_url)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=common.to_slack(text), mrkdwn=True)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=common.to_slack(text), blocks=blocks_of(text, buttons))


def blocks_of(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A mrkdwn section and an actions block of buttons whose value is the bot's payload."""
    blocks: List[Dict[str, Any]] = []
    if text.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": common.to_slack(text)}})
    elements = [
        {
            "type": "button",
            "action_id": f"coach_{n}",
            "value": b["payload"],
            "text": {"type": "plain_text", "text": (b["title"] or b["payload"])[:MAX_BUTTON_TEXT]},
        }
        for n, b in enumerate(common.buttons_of(buttons)[:MAX_BUTTONS])
    ]
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return blocks


class Slack(SlackInput):
    @classmethod
    def name(cls) -> str:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Slack:
        token = common.setting(credentials, "slack_token", "SLACK_BOT_TOKEN")
        return cls(
            token,
            common.setting(credentials, "slack_signing_secret", "SLACK_SIGNING_SECRET"),
            common.setting(credentials, "api_url", "SLACK_API_URL", DEFAULT_API),
            common.setting(credentials, "use_threads", "SLACK_USE_THREADS", "true").lower() != "false",
        )

    def __init__(self, token: str, signing_secret: str, api_url: str = DEFAULT_API, use_threads: bool = True) -> None:
        self.enabled = bool(token)
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.names: Dict[str, str] = {}
        if self.enabled:  # the shipped check: a token without a signing secret refuses to start
            super().__init__(token, use_threads=use_threads, slack_signing_secret=signing_secret)
        else:
            self.slack_token, self.slack_signing_secret, self.use_threads = "", "", use_threads
            self._background_tasks: Set[asyncio.Task] = set()
            common.log_disabled(PLATFORM, NEEDS)

    def unverified(self, request: Request) -> Optional[str]:
        """Why a request is not Slack's (None when it is): signature over `v0:<timestamp>:<body>`."""
        signature = request.headers.get("X-Slack-Signature")
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not signature or not stamp:
            return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_AGE:
            return "stale or invalid timestamp (possible replay)"
        digest = hmac.new(self.slack_signing_secret.encode(), f"v0:{stamp}:".encode() + (request.body or b""), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={digest}".encode(), signature.encode()):
            return "bad signature"
        return None

    async def display_name(self, team: str, user: str) -> str:
        """The person's display name from users.info, cached; empty when the API cannot say."""
        key = f"{team}:{user}"
        if key not in self.names:
            try:
                result = await AsyncWebClient(self.slack_token, base_url=self.api_url).users_info(user=user)
                profile = (result.get("user") or {}).get("profile") or {}
                self.names[key] = profile.get("display_name") or profile.get("real_name") or result["user"].get("name", "")
            except Exception:
                logger.warning("slack: users.info failed; keeping the name unknown")
                return ""
        return self.names[key]

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = limited_handler(on_new_message, PLATFORM)  # per-sender rate limit: bot/limits.py
        bp, live = common.team_blueprint(PLATFORM, self.enabled, NEEDS)
        if not live:
            return bp

        async def deliver(text: str, team: str, user: str, name: str, channel: str, thread: Optional[str]) -> None:
            sender = common.sender_id(PLATFORM, team, user)
            await common.remember_profile(sender, name or await self.display_name(team, user), PLATFORM, team)
            out = SlackOutput(self.slack_token, channel, thread if self.use_threads else None, self.api_url)
            await on_new_message(
                UserMessage(text, out, sender, input_channel=PLATFORM, metadata={"out_channel": channel, "thread_id": thread, "team": team})
            )

        def later(*args: Any) -> HTTPResponse:
            """Slack wants an answer within 3 s: handle the message in the background, as the shipped one does."""
            task = asyncio.create_task(deliver(*args))
            self._background_tasks.add(task)
            task.add_done_callback(self._background_tasks.discard)
            return response.text("")

        @bp.route("/webhook", methods=["POST"])
        @common.malformed_is_400(PLATFORM)
        async def webhook(request: Request) -> HTTPResponse:
            reason = self.unverified(request)
            if reason:
                return common.reject(PLATFORM, reason)
            if request.headers.get("X-Slack-Retry-Num"):  # already taken in the background: do not answer twice
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            if (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
                form = request.form
                if form.get("command"):  # slash command: `/coach he keeps interrupting me`
                    return later(
                        form.get("text", ""),
                        form.get("team_id", ""),
                        form.get("user_id", ""),
                        form.get("user_name", ""),
                        form.get("channel_id", ""),
                        None,
                    )
                try:
                    payload = json.loads(form.get("payload", "{}"))
                except (ValueError, RecursionError):
                    return response.text("not a Slack payload", status=400)
                actions = payload.get("actions") or []
                value = actions[0].get("value") if actions else None
                if not value:
                    return response.text("")
                user, message = payload.get("user") or {}, payload.get("message") or {}
                channel = (payload.get("channel") or {}).get("id", "")
                thread = None if channel.startswith("D") else message.get("thread_ts") or message.get("ts")
                team = (payload.get("team") or {}).get("id") or user.get("team_id", "")
                return later(value, team, user.get("id", ""), user.get("name") or user.get("username", ""), channel, thread)
            body = request.json or {}
            if body.get("type") == "url_verification":
                return response.json({"challenge": body.get("challenge")})
            event = body.get("event") or {}
            direct = event.get("type") == "message" and event.get("channel_type") == "im" and not event.get("subtype")
            if event.get("bot_id") or not event.get("user") or not (event.get("type") == "app_mention" or direct):
                return response.text("")  # channel chatter without a mention, edits, the bot's own posts
            bots = [a.get("user_id") for a in body.get("authorizations") or [] if a.get("user_id")]
            text = self._sanitize_user_message(event.get("text", ""), bots)
            thread = None if direct else event.get("thread_ts") or event.get("ts")
            return later(text, body.get("team_id") or event.get("team", ""), event["user"], "", event.get("channel", ""), thread)

        return bp
