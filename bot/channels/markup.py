"""What people typed, made inert before a platform renders it: the bot echoes names and notes ("Saved @all"), and
a mention, a tag or a link in them must not ping a channel, mention someone or become a link (issue 25).

A word joiner (U+2060: invisible, zero width) goes after each `@` that starts a mention, after each `<` that starts
a tag (Feishu's <at user_id="all">, Slack's <!channel>, Rocket.Chat's <url|text>) and between `]` and `(` of a
Markdown link. No platform's mention or link parser reads across it, and the text still reads the same. The bot's
own markup (**bold**) never uses these, and its content has no links (tests/test_team_chats.py checks both).
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
MENTION = re.compile(r"(?<![\w@])@(?=[^\s@])")  # @all, @here, @channel, @user.name, @所有人; not ann@example.com
TAG = re.compile(r"<(?=[^\s<])")
LINK = re.compile(r"\]\s*\(")


def quiet(text: str) -> str:
    """The text with mentions, tags and Markdown links made inert, otherwise unchanged to the eye."""
    text = MENTION.sub("@" + WORD_JOINER, text or "")
    text = TAG.sub("<" + WORD_JOINER, text)
    return LINK.sub("]" + WORD_JOINER + "(", text)
