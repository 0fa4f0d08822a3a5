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


# Each platform's form of the bot's light Markdown (plain text with **bold** at most), what people typed made inert --
BOLD = re.compile(r"\*\*(.+?)\*\*")
_BOLD_EITHER = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.S)
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_HTML_TAG = re.compile(r"</?(?:b|strong|i|em|br)\s*/?>", re.I)
_SINGLE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


def to_slack(text: str) -> str:
    """Slack mrkdwn: escape &, <, > (they start links and mentions), *bold*."""
    text = quiet(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BOLD.sub(r"*\1*", text)


def to_telegram_html(text: str) -> str:
    """Telegram's HTML parse mode: escape, <b>bold</b>; @username made inert (it would notify that person)."""
    text = quiet(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BOLD.sub(r"<b>\1</b>", text)


def to_teams(text: str) -> str:
    """Teams markdown joins single newlines: make each a hard line break."""
    return _SINGLE_NEWLINE.sub("  \n", quiet(text))


def to_mattermost(text: str) -> str:
    return quiet(text)  # Mattermost renders the same markdown (**bold**, line breaks); @all would ping the channel


def to_rocketchat(text: str) -> str:
    return BOLD.sub(r"*\1*", quiet(text))  # Rocket.Chat's bold is a single star; @all/@here would ping the room


def plain_text(text: str) -> str:
    """The bot's light Markdown as plain text for text messages: bold marks dropped, links as 'title (url)', and
    what people typed made inert (a Feishu text with <at user_id="all"> pings everyone)."""
    text = _HTML_TAG.sub("", text or "")
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return quiet(_BOLD_EITHER.sub(lambda m: m.group(1) or m.group(2), text))


def markdown(text: str) -> str:
    """The bot's Markdown for platforms that render a Markdown subset (Feishu lark_md, DingTalk, WeCom): bold
    passes, mentions, tags and links (the bot writes none; a person's typed ones) are made inert; line breaks are
    kept as Markdown hard breaks."""
    return _SINGLE_NEWLINE.sub("  \n", quiet(_HTML_TAG.sub("", text or "")))


def first_line(text: str, limit: int) -> str:
    line = next((part.strip() for part in plain_text(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
