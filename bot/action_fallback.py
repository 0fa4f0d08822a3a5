"""When the action server cannot answer, the user still gets a short "having trouble, try again" in their language.

Rasa 3.6 logs a failed custom action ("Encountered an exception while running action") and sends nothing, so a
user whose action server is restarting meets silence. The wrap of `RemoteAction.run`: any failure but a
rejection (which Rasa's policies handle) becomes one bot message, `texts.action_unavailable` of
knowledge/content/ui.yaml, in the language and script of the user's message (or the conversation's, for a button
or an emoji). No slot is set, so the conversation's memory is exactly as before and continues once the server is
back. Installed at start-up by bot/rasa_compat.py (`python -m bot.start`), for every channel of the process.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, List, Optional

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event

from knowledge.engine.answer import Answer
from knowledge.engine.reading import Reader
from knowledge.engine.state import MEMORY_SLOT, ConversationState
from knowledge.engine.wording import finish
from knowledge.loader import load_ui
from knowledge.schema import DEFAULT_LANG, UiText, local

logger = logging.getLogger(__name__)

TEXT_KEY = "action_unavailable"


@lru_cache(maxsize=1)
def ui_text() -> UiText:
    """ui.yaml, validated by the content schema (the Rasa server does not load the engine's store)."""
    return load_ui()


def language_of(tracker: Optional[Any]) -> tuple:
    """(lang, script) as the engine reads them (engine/reading: Reader.language): the message's, else the
    conversation's (a button, an emoji or a letter or two)."""
    if tracker is None:
        return DEFAULT_LANG, "hans"
    state = ConversationState.from_memory(tracker.sender_id, tracker.get_slot(MEMORY_SLOT))
    text = (tracker.latest_message.text if tracker.latest_message else None) or ""
    lang, script = (None, None) if text.startswith("/") else Reader.language(text)
    return lang or state.lang, script or state.script


def ui_reply(key: str, tracker: Optional[Any]) -> str:
    """ui.yaml's `texts.<key>` fitted to the conversation as the engine fits its answers (script, punctuation)."""
    lang, script = language_of(tracker)
    reply = Answer().say(local(ui_text().texts[key], lang))
    return finish(reply, lang, script, "they").text


def apology(tracker: Any) -> str:
    return ui_reply(TEXT_KEY, tracker)


async def run_or_apologise(run: Any, action: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
    """Rasa's `RemoteAction.run` (`run`), or the apology when it fails for any reason but a rejection."""
    try:
        return await run(action, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except Exception as e:  # the action server is down, timed out or answered an error: say so, keep the slots
        logger.error(
            "action '%s' failed for a conversation (%s: %s); the user was asked to try again",
            action.name(),
            type(e).__name__,
            str(e).split("\n")[0][:200],
        )
        try:
            text = apology(tracker)
        except Exception:
            logger.exception("the 'try again' message could not be made")
            raise e from None
        return [BotUttered(text=text)]


def check_text() -> None:
    """Read the message now, so a broken ui.yaml shows at start rather than when the action server first fails."""
    try:
        ui_text().texts[TEXT_KEY]
    except Exception:
        logger.exception(
            f"texts.{TEXT_KEY} of knowledge/content/ui.yaml cannot be read: the user gets nothing "
            "while the action server is down; run `coach kb build` to see what is wrong"
        )
