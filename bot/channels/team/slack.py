"""Slack: the shipped connector's signing-secret rule (a token without a secret refuses to start) and user keying,
with the signature checked by slack_sdk's SignatureVerifier, a sender per person per workspace, answers in a
thread in channels, slash commands, display names and Block Kit buttons (bot/channels/connector.py does the rest).

Events API: `app_mention` in channels, `message` only in DMs (`channel_type: im`), so a mention is not answered
twice. Interactivity (button presses) and slash commands arrive form-encoded on the same URL. Slack wants an
answer within 3 s: the message is handled after the answer, as the shipped connector does.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import response
from sanic.request import Request
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.buttons import pressable
from bot.channels.connector import Connector, Incoming, Parsed, Refused, setting
from bot.channels.markup import to_slack

logger = logging.getLogger(__name__)

PLATFORM = "slack"
NEEDS = "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"
DEFAULT_API = "https://slack.com/api/"
MAX_BODY = 1024 * 1024  # bytes: a 40,000-character message (Slack's limit) as escaped JSON, with room to spare
MAX_BUTTONS = 25  # elements in one Block Kit actions block
MAX_BUTTON_TEXT = 75  # characters of a button's label


class SlackOutput(SlackBot):
    """Posts through the Web API at a configurable base URL; text as mrkdwn, buttons as Block Kit."""

    def __init__(self, token: str, channel: Optional[str], thread_id: Optional[str], api_url: str) -> None:
        super().__init__(token, channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_url)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=to_slack(text), mrkdwn=True)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=to_slack(text), blocks=blocks_of(text, buttons))


def blocks_of(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A mrkdwn section and an actions block of buttons whose value is the bot's payload."""
    blocks: List[Dict[str, Any]] = []
    if text.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": to_slack(text)}})
    elements = [
        {
            "type": "button",
            "action_id": f"coach_{n}",
            "value": b["payload"],
            "text": {"type": "plain_text", "text": (b["title"] or b["payload"])[:MAX_BUTTON_TEXT]},
        }
        for n, b in enumerate(pressable(buttons, MAX_BUTTONS))
    ]
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return blocks


class Slack(Connector, SlackInput):
    platform, needs, answer_first, max_body = PLATFORM, NEEDS, True, MAX_BODY

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Slack:
        return cls(
            setting(credentials, "slack_token", "SLACK_BOT_TOKEN"),
            setting(credentials, "slack_signing_secret", "SLACK_SIGNING_SECRET"),
            setting(credentials, "api_url", "SLACK_API_URL", DEFAULT_API),
            setting(credentials, "use_threads", "SLACK_USE_THREADS", "true").lower() != "false",
        )

    def __init__(self, token: str, signing_secret: str, api_url: str = DEFAULT_API, use_threads: bool = True) -> None:
        self.live = bool(token)
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.names: Dict[str, str] = {}
        if self.live:  # the shipped check: a token without a signing secret refuses to start
            super().__init__(token, use_threads=use_threads, slack_signing_secret=signing_secret)
            self.verifier = SignatureVerifier(signing_secret)
        else:
            self.slack_token, self.slack_signing_secret, self.use_threads = "", "", use_threads

    @property
    def enabled(self) -> bool:
        return self.live

    async def verified(self, request: Request) -> Any:
        """slack_sdk's check: the signature over `v0:<timestamp>:<body>`, a timestamp within 5 minutes (replays)."""
        signature = request.headers.get("X-Slack-Signature")
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not signature or not stamp:
            raise Refused(401, "missing X-Slack-Signature or X-Slack-Request-Timestamp")
        if not stamp.isdigit():
            raise Refused(401, "stale or invalid timestamp (possible replay)")
        try:
            valid = self.verifier.is_valid(request.body or b"", stamp, signature)
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8") from None
        except (TypeError, ValueError):  # a signature with non-ASCII characters
            valid = False
        if not valid:
            fresh = abs(self.verifier.clock.now() - int(stamp)) <= 5 * 60
            raise Refused(401, "bad signature" if fresh else "stale or invalid timestamp (possible replay)")
        return request

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

    async def profile(self, incoming: Incoming) -> Optional[tuple]:
        user = incoming.sender.rsplit(":", 1)[-1]
        return incoming.name or await self.display_name(incoming.workspace, user), incoming.workspace, ""

    def message(self, text: str, team: str, user: str, name: str, channel: str, thread: Optional[str]) -> Incoming:
        return Incoming(
            text,
            self.sender_id(team, user),
            SlackOutput(self.slack_token, channel, thread if self.use_threads else None, self.api_url),
            {"out_channel": channel, "thread_id": thread, "team": team},
            name=name,
            workspace=team,
        )

    async def direct_output(self, platform_user: str, space: str) -> SlackOutput:
        """chat.postMessage to a user id posts in the person's direct chat with the app."""
        return SlackOutput(self.slack_token, platform_user, None, self.api_url)

    async def parse(self, request: Request, payload: Any) -> Parsed:
        if request.headers.get("X-Slack-Retry-Num"):  # already taken in the background: do not answer twice
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        if (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
            form = request.form
            if form.get("command"):  # slash command: `/coach he keeps interrupting me`
                return self.message(
                    form.get("text", ""),
                    form.get("team_id", ""),
                    form.get("user_id", ""),
                    form.get("user_name", ""),
                    form.get("channel_id", ""),
                    None,
                )
            try:
                data = json.loads(form.get("payload", "{}"))
            except (ValueError, RecursionError):
                raise Refused(400, "not a Slack payload") from None
            actions = data.get("actions") or []
            value = actions[0].get("value") if actions else None
            if not value:
                return None
            user, posted = data.get("user") or {}, data.get("message") or {}
            channel = (data.get("channel") or {}).get("id", "")
            thread = None if channel.startswith("D") else posted.get("thread_ts") or posted.get("ts")
            team = (data.get("team") or {}).get("id") or user.get("team_id", "")
            return self.message(value, team, user.get("id", ""), user.get("name") or user.get("username", ""), channel, thread)
        body = request.json or {}
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        event = body.get("event") or {}
        direct = event.get("type") == "message" and event.get("channel_type") == "im" and not event.get("subtype")
        if event.get("bot_id") or not event.get("user") or not (event.get("type") == "app_mention" or direct):
            return None  # channel chatter without a mention, edits, the bot's own posts
        bots = [a.get("user_id") for a in body.get("authorizations") or [] if a.get("user_id")]
        text = self._sanitize_user_message(event.get("text", ""), bots)
        thread = None if direct else event.get("thread_ts") or event.get("ts")
        return self.message(text, body.get("team_id") or event.get("team", ""), event["user"], "", event.get("channel", ""), thread)
