"""The manager's team page (/chat/team) and its CSV (/chat/team.csv): the overview of
knowledge/engine/programs/team_view.py as a people × types table, the weekly trend, the assignments and the
certificates. A team's managers only: anyone else gets None here and a 403 from the web chat.

Every value from the store or a person is escaped; the page's words are the web chat's strings.json and the
programmes' texts (programs.yaml), in the page's language.
"""

from __future__ import annotations

from html import escape
from typing import List, Optional, Tuple

from knowledge.engine.programs import program_store, programs_content
from knowledge.engine.programs.content import say
from knowledge.engine.programs.team_view import TeamOverview, as_csv, assignment_state, overview
from knowledge.teams import Team, Teams
from knowledge.userdata import UserData

from .progress import strings, type_name


def managed_team(store: UserData, user: str) -> Optional[Team]:
    """The team this person manages (their team, with the manager role), else None."""
    team = Teams(store).team_of(user)
    if team is None or store.profile(user).get("role") != "manager":
        return None
    return team


def team_overview(store: UserData, user: str) -> Optional[TeamOverview]:
    team = managed_team(store, user)
    return None if team is None else overview(store, program_store(store), team, assignment_state)


def score_class(average: float, pass_mark: int) -> str:
    return "pass" if average >= pass_mark else "weak"


def matrix(view: TeamOverview, lang: str) -> str:
    """People down, types across (weakest team average first); each cell the average and the number of sessions,
    marked below the team's pass mark, with 🎓 where the person holds the type's certificate."""
    t = strings()[lang]
    if not view.types:
        return f'<p class="empty">{escape(t["team_no_practice"])}</p>'
    head = "".join(f"<th>{escape(type_name(ty, lang))}</th>" for ty in view.types)
    rows = [
        f'<table class="board matrix"><thead><tr><th>{escape(t["member"])}</th>{head}<th>{escape(t["average"])}</th></tr></thead><tbody>'
    ]
    unnamed = t["trainee"]
    for p in view.people:
        cells = []
        for ty in view.types:
            c = p.by_type.get(ty)
            mark = " 🎓" if ty in p.certificates else ""
            if c is None:
                cells.append(f'<td class="none">–{mark}</td>')
            else:
                cls = score_class(c.average, view.settings.pass_mark)
                cells.append(f'<td class="{cls}">{c.average:g} <small>({c.sessions})</small>{mark}</td>')
        overall = f"{p.average:g}" if p.average is not None else "–"
        rows.append(f"<tr><td>{escape(view.name(p.user, unnamed))}</td>{''.join(cells)}<td>{overall}</td></tr>")
    team_cells = "".join(f"<td>{view.by_type[ty].average:g} <small>({view.by_type[ty].sessions})</small></td>" for ty in view.types)
    average = f"{view.average:g}" if view.average is not None else "–"
    rows.append(f'<tr class="team-row"><td>{escape(t["team_row"])}</td>{team_cells}<td>{average}</td></tr></tbody></table>')
    return "".join(rows)


def weeks(view: TeamOverview, lang: str) -> str:
    """The team's average and each person's, week by week (the weeks with practice, latest last)."""
    t = strings()[lang]
    if not view.weeks:
        return f'<p class="empty">{escape(t["team_no_practice"])}</p>'
    unnamed = t["trainee"]
    head = "".join(f"<th>{escape(view.name(p.user, unnamed))}</th>" for p in view.people)
    rows = [
        f'<table class="board weeks"><thead><tr><th>{escape(t["week_of"])}</th><th>{escape(t["team_row"])}</th>'
        f'<th>{escape(t["sessions"])}</th>{head}</tr></thead><tbody>'
    ]
    for w in view.weeks:
        people = "".join(f"<td>{w.people[p.user]:g}</td>" if p.user in w.people else "<td>–</td>" for p in view.people)
        team = f"{w.team:g}" if w.team is not None else "–"
        rows.append(f"<tr><td>{escape(w.start)}</td><td>{team}</td><td>{w.sessions}</td>{people}</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def assignments(view: TeamOverview, lang: str) -> str:
    content = programs_content()
    texts = content.texts
    t = strings()[lang]
    if not view.assignments:
        return f'<p class="empty">{escape(say(texts.team_no_assignments, lang))}</p>'
    statuses = {
        "running": texts.status_running,
        "done": texts.status_done,
        "failed": texts.status_failed,
        "overdue": texts.status_overdue,
        "todo": texts.status_todo,
    }
    parts: List[str] = []
    unnamed = t["trainee"]
    for progress in view.assignments:
        a = progress.assignment
        level = say(content.levels[a.level].names, lang)
        line = say(
            texts.team_assignment_row,
            lang,
            kind=say(texts.kind_exam, lang) if a.exam else "",
            type=type_name(a.type_id, lang),
            level=level,
            due=a.due or say(texts.due_none, lang),
            done=progress.done,
            total=progress.total,
        ).lstrip("• ")
        people = []
        for user, state in progress.states.items():
            tried = progress.attempts[user]
            best = tried.best if tried.best is not None else "-"
            status = say(statuses[state], lang, made=tried.made, attempts=a.attempts, best=best)
            people.append(f'<li class="{escape(state)}">{escape(view.name(user, unnamed))}: {escape(status)}</li>')
        parts.append(f'<div class="assignment"><p>{escape(line)}</p><ul>{"".join(people)}</ul></div>')
    return "".join(parts)


def certificates(view: TeamOverview, lang: str) -> str:
    texts = programs_content().texts
    t = strings()[lang]
    held = [(p, ty, day) for p in view.people for ty, day in sorted(p.certificates.items())]
    if not held:
        return f'<p class="empty">{escape(t["team_no_certificates"])}</p>'
    rows = "".join(
        f"<li>{escape(view.name(p.user, t['trainee']))}: "
        f"{escape(say(texts.certificate_row, lang, type=type_name(ty, lang), date=day))}</li>"
        for p, ty, day in held
    )
    return f'<ul class="certificates">{rows}</ul>'


def team_page(store: UserData, user: str, lang: str) -> Optional[str]:
    """The page, or None when the person manages no team."""
    view = team_overview(store, user)
    if view is None:
        return None
    t = strings()[lang]
    name = view.team.name or view.team.workspace
    sections = [
        f'<p class="note">{escape(t["team_intro"].format(n=len(view.people), mark=view.settings.pass_mark))}</p>',
        f'<p><a class="practise" href="team.csv?lang={lang}" download>{escape(t["team_csv"])}</a></p>',
        f'<h2>{escape(t["team_matrix"])}</h2>{matrix(view, lang)}',
        f'<h2>{escape(t["team_weeks"])}</h2>{weeks(view, lang)}',
        f'<h2>{escape(t["team_assignments"])}</h2>{assignments(view, lang)}',
        f'<h2>{escape(t["team_certificates"])}</h2>{certificates(view, lang)}',
    ]
    return f"""<!doctype html>
<html lang="{'zh-Hans' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{escape(t["team_title"])} · {escape(t["title"])}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="static/webchat.css"></head>
<body class="progress-page"><header class="bar"><a class="back" href="./?lang={lang}">‹ {escape(t["back"])}</a>
<h1>{escape(t["team_title"])}</h1><span class="who">{escape(name)}</span></header>
<main class="progress team">{"".join(sections)}</main></body></html>"""


def team_csv(store: UserData, user: str, lang: str) -> Optional[Tuple[str, str]]:
    """(file name, CSV text), or None when the person manages no team."""
    view = team_overview(store, user)
    if view is None:
        return None
    text = as_csv(view, lambda ty: type_name(ty, lang), strings()[lang]["trainee"])
    return f"team-{view.team.id}.csv", text
