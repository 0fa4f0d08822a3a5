"""The trainee's progress page (/chat/progress): server-side SVG charts from the practice store, nothing invented.

Built in Python so the page needs no chart library; every value from the store or the user is escaped.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, Dict, List, Optional

from knowledge import paths
from knowledge.engine.practice import LEADERBOARD_MIN_SESSIONS  # one floor for every leaderboard: the bot's and this page's
from knowledge.userdata import UserData

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
LAST_SESSIONS = 5
CHART_WIDTH = 340  # viewBox width: fits a 375 px phone with the page's padding, scales up on a desktop


@lru_cache(maxsize=1)
def strings() -> Dict[str, Dict[str, Any]]:
    return json.loads((STATIC_DIR / "strings.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def knowledge() -> Optional[Any]:
    """The knowledge store, for type names and outcome sentences; None when it is not built yet."""
    try:
        from knowledge.store import KnowledgeBase

        return KnowledgeBase(paths.kb_db_path())
    except Exception:
        return None


def type_name(type_id: str, lang: str) -> str:
    kb = knowledge()
    try:
        return kb.type_name(type_id, lang) if kb else type_id
    except KeyError:
        return type_id


def outcome_text(outcome: str, type_id: str, lang: str) -> str:
    kb = knowledge()
    try:
        return kb.text(f"outcome_{outcome}", lang, name=type_name(type_id, lang)) if kb else outcome
    except (KeyError, AttributeError):
        return outcome


def line_chart(scores: List[Dict[str, Any]], lang: str) -> str:
    """Each finished session's score (0-100) in the order played, one point per session."""
    width, height, left, right, top, bottom = CHART_WIDTH, 170, 30, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(scores)
    x = lambda i: left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
    y = lambda v: top + plot_h * (1 - max(0, min(100, v)) / 100)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(strings()[lang]["over_time"])}">']
    for v in (0, 50, 100):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="axis" x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>'
        )
    points = " ".join(f"{x(i):.1f},{y(s['score']):.1f}" for i, s in enumerate(scores))
    if n > 1:
        parts.append(f'<polyline class="line" points="{points}"/>')
    step = max(1, n // 8)  # at most about eight labels under the axis
    for i, s in enumerate(scores):
        tip = f"{s['started'][:10]} · {type_name(s['type'], lang)} · {s['score']}"
        parts.append(f'<circle class="dot" cx="{x(i):.1f}" cy="{y(s["score"]):.1f}" r="4"><title>{escape(tip)}</title></circle>')
        if i % step == 0 or i == n - 1:
            parts.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 6}" text-anchor="middle">{i + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(averages: Dict[str, float], weakest: Optional[str], lang: str) -> str:
    """Average score per customer type, highest first; the weakest bar is marked."""
    rows = sorted(averages.items(), key=lambda kv: -kv[1])
    row_h, label_w, value_w = 26, 130, 36
    bar_w = CHART_WIDTH - label_w - value_w
    height = row_h * len(rows) + 4
    parts = [f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{escape(strings()[lang]["per_type"])}">']
    for i, (type_id, avg) in enumerate(rows):
        top = i * row_h + 2
        cls = "bar weakest" if type_id == weakest else "bar"
        length = bar_w * max(0, min(100, avg)) / 100
        parts.append(
            f'<text class="label" x="{label_w - 6}" y="{top + 17}" text-anchor="end">{escape(type_name(type_id, lang))}</text>'
            f'<rect class="track" x="{label_w}" y="{top + 4}" width="{bar_w}" height="16" rx="3"/>'
            f'<rect class="{cls}" x="{label_w}" y="{top + 4}" width="{length:.1f}" height="16" rx="3">'
            f"<title>{escape(type_name(type_id, lang))}: {avg:g}</title></rect>"
            f'<text class="value" x="{label_w + bar_w + 4}" y="{top + 17}">{avg:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def ten(quality: float) -> str:
    """A reply's score out of ten, rounded as the chat shows it after each reply."""
    return f"{round(float(quality) * 10, 1):g}"


def last_sessions(store: UserData, user: str, lang: str) -> str:
    """The latest finished sessions, each with its outcome and the best and weakest reply as the coach scored them
    (UserData.session_highlights: the store the action server writes says it, the page only shows it)."""
    t = strings()[lang]
    items = []
    for session in store.session_highlights(user, LAST_SESSIONS):
        head = t["session_line"].format(
            date=session["started"][:10],
            type=type_name(session["type_id"], lang),
            score=session["score"],
            turns=session["turns"],
            outcome=outcome_text(session["outcome"], session["type_id"], lang),
        )
        body = [f'<p class="session-head">{escape(head)}</p>']
        best, worst = session["best"], session["weakest"]
        if best:
            body.append(
                f'<p class="reply good"><b>{escape(t["best_reply"])}</b> ({ten(best["score"])}/10): ' f'“{escape(best["text"][:160])}”</p>'
            )
        if worst:
            body.append(
                f'<p class="reply weak"><b>{escape(t["weakest_reply"])}</b> ({ten(worst["score"])}/10): '
                f'“{escape(worst["text"][:160])}”</p>'
            )
        items.append(f"<li>{''.join(body)}</li>")
    return f'<ul class="sessions">{"".join(items)}</ul>'


def team_board(store: UserData, user: str, team: str, team_name: str, lang: str) -> str:
    """The viewer's own team's leaderboard (team: its key, knowledge/teams.py) by average score over finished
    sessions, each member by name, with their weakest type (UserData.team_leaderboard: who may be shown, and how
    they rank, is the store's to say, as for the bot's leaderboard)."""
    t = strings()[lang]
    board = store.team_leaderboard(user, limit=50, min_sessions=LEADERBOARD_MIN_SESSIONS)
    parts = [
        f'<h2>{escape(t["team_board"].format(team=team_name or team.split(":", 1)[0]))}</h2>',
        f'<p class="note">{escape(t["team_note"].format(n=LEADERBOARD_MIN_SESSIONS))}</p>',
    ]
    if not board:
        return "".join(parts) + f'<p>{escape(t["team_empty"].format(n=LEADERBOARD_MIN_SESSIONS))}</p>'
    parts.append(
        f'<table class="board"><thead><tr><th>#</th><th>{escape(t["member"])}</th><th>{escape(t["average"])}</th>'
        f'<th>{escape(t["sessions"])}</th><th>{escape(t["weakest_col"])}</th></tr></thead><tbody>'
    )
    for rank, row in enumerate(board, 1):
        name = row["name"] or f'{t["trainee"]} {rank}'
        if row["viewer"]:
            name += f' ({t["you"]})'
        weakest = type_name(min(row["by_type"], key=lambda k: row["by_type"][k]), lang) if row["by_type"] else ""
        parts.append(
            f'<tr{" class=me" if row["viewer"] else ""}><td>{rank}</td><td>{escape(name)}</td>'
            f'<td>{row["average"]:g}</td><td>{row["sessions"]}</td><td>{escape(weakest)}</td></tr>'
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def leaderboard_on(store: UserData, user: str) -> bool:
    """The team's setting (knowledge/engine/programs: off until a manager turns it on)."""
    from knowledge.engine.programs import program_store
    from knowledge.teams import Teams

    team = Teams(store).team_of(user)
    return team is not None and program_store(store).settings(team).leaderboard


def certificates_section(store: UserData, user: str, lang: str) -> str:
    """The trainee's certificates and the path to the next one, worded as the chat words them
    (knowledge/content/programs.yaml), with a link that practises the next step."""
    from knowledge.engine.programs import certificate_paths, nearest_certificate, program_store, programs_content
    from knowledge.engine.programs.content import say
    from knowledge.engine.programs.programs import certificate_step
    from knowledge.teams import Teams

    kb = knowledge()
    if kb is None:
        return ""
    programs, texts = program_store(store), programs_content().texts
    pass_mark = programs.settings(Teams(store).team_of(user)).pass_mark
    paths = certificate_paths(programs, user, list(kb.types), pass_mark)
    for type_id, path in sorted(paths.items()):
        if path.earned:
            programs.award(user, type_id)
    held = programs.certificates(user)
    parts = [f"<h2>{escape(say(texts.btn_certificates, lang))}</h2>"]
    if held:
        rows = "".join(
            f"<li>{escape(say(texts.certificate_row, lang, type=type_name(t, lang), date=d))}</li>" for t, d in sorted(held.items())
        )
        parts.append(f'<ul class="certificates">{rows}</ul>')
    else:
        parts.append(f"<p>{escape(say(texts.certificates_none, lang, mark=pass_mark))}</p>")
    nearest = nearest_certificate(paths, held, lambda t: type_name(t, "en"))
    if nearest is not None:
        step, level = certificate_step(nearest, texts, lang)
        line = say(texts.certificate_next, lang, type=type_name(nearest.type_id, lang), step=step)
        parts.append(
            f'<p class="next-certificate">{escape(line)} <a class="practise" href="./?lang={lang}&amp;practise='
            f'{escape(nearest.type_id)}&amp;level={level}">{escape(strings()[lang]["practise_it"])}</a></p>'
        )
    return "".join(parts)


def progress_page(store: UserData, user: str, lang: str) -> str:
    t = strings()[lang]
    data = store.progress(user)
    profile = store.profile(user)
    who = " · ".join(x for x in (profile.get("name", ""), profile.get("team_name", "")) if x)
    sections: List[str] = []
    if not data["sessions"]:
        sections.append(f'<p class="empty">{escape(t["no_sessions"])}</p>')
    else:
        sections.append(f'<h2>{escape(t["over_time"])}</h2>{line_chart(data["sessions"], lang)}')
        sections.append(f'<h2>{escape(t["per_type"])}</h2>{bar_chart(data["by_type"], data["weakest_type"], lang)}')
        weakest = data["weakest_type"]
        if weakest:
            sections.append(
                f'<p class="weakest">{escape(t["weakest"].format(type=type_name(weakest, lang), score=data["by_type"][weakest]))} '
                f'<a class="practise" href="./?lang={lang}&amp;practise={escape(weakest)}">{escape(t["practise_it"])}</a></p>'
            )
        sections.append(f'<h2>{escape(t["last_sessions"])}</h2>{last_sessions(store, user, lang)}')
    sections.append(certificates_section(store, user, lang))
    if profile.get("team") and leaderboard_on(store, user):
        sections.append(team_board(store, user, profile["team"], profile.get("team_name", ""), lang))
    return f"""<!doctype html>
<html lang="{'zh-Hans' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{escape(t["progress_title"])} · {escape(t["title"])}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="static/webchat.css"></head>
<body class="progress-page"><header class="bar"><a class="back" href="./?lang={lang}">‹ {escape(t["back"])}</a>
<h1>{escape(t["progress_title"])}</h1><span class="who">{escape(who)}</span></header>
<main class="progress">{"".join(sections)}</main></body></html>"""
