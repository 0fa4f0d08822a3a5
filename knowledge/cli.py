"""The `coach` command: build and inspect the knowledge base, and run the engine on JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Dict, List, Optional

from .loader import ContentError
from .schema import DEFAULT_LANG, LANGS


def _engine():
    from .app import engine  # the composition root: brings the build up to date, then loads

    return engine()


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _json_lines(handle: Callable[[Dict], Dict]) -> int:
    """One JSON line out for every line in, in order; a bad line gets an error object, never a crash."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out = handle(row if isinstance(row, dict) else {})
        except json.JSONDecodeError as exc:
            out = {"error": f"not JSON: {exc.msg}"}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def cmd_kb_build(args: argparse.Namespace) -> int:
    from .build import ensure_built

    db_path, model_path, rebuilt = ensure_built(force=args.force)
    print(f"{'built' if rebuilt else 'up to date'}: {db_path} and {model_path.name}")
    return 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    _print_json(_engine().kb.export())
    return 0


def cmd_kb_show(args: argparse.Namespace) -> int:
    from .engine.explain import type_card

    kb = _engine().kb
    if args.type_id not in kb.types:
        print(f"unknown type id {args.type_id!r}; known: {', '.join(kb.types)}", file=sys.stderr)
        return 2
    print(type_card(kb, args.type_id, args.lang))
    return 0


def cmd_kb_search(args: argparse.Namespace) -> int:
    hits = _engine().kb.search(" ".join(args.query), limit=args.limit)
    for h in hits:
        print(f"[{h['kind']} {h['ref']} {h['field']} {h['lang']}] {h['text']}")
    if not hits:
        print("no match", file=sys.stderr)
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    identifier = _engine().identifier
    return _json_lines(lambda row: identifier.identify(row.get("text", "")).to_json())


def cmd_score_reply(args: argparse.Namespace) -> int:
    from .engine.explain import reply_feedback

    engine = _engine()
    scorer = engine.scorer

    def handle(row: Dict) -> Dict:
        type_id = row.get("type")
        if not isinstance(type_id, str) or type_id not in engine.kb.types:
            return {"score": 0.0, "error": f"unknown type id {type_id!r}", "feedback": ""}
        result = scorer.score(type_id, row.get("reply", ""), context=row.get("context") or None)
        lang = str(row["lang"]) if row.get("lang") in LANGS else result.lang
        return {
            "score": result.score,
            "moves": [m.move for m in result.clear],
            "feedback": reply_feedback(engine.kb, type_id, result, lang),
        }

    return _json_lines(handle)


def cmd_customers_export(args: argparse.Namespace) -> int:
    from .userdata import UserData

    kb = _engine().kb
    rows = [
        {
            **r,
            "evidence": "; ".join(r["evidence"]),
            "type_name": kb.type_name(r["type_id"], "en") if r["type_id"] in kb.types else r["type_id"],
        }
        for r in UserData().customers(args.user)
    ]
    if args.format == "json":
        _print_json(rows)
    else:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=["name", "type_id", "type_name", "evidence", "notes", "updated"])
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in writer.fieldnames})
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Corrections as JSON lines in the training-file format: reviewed, they go into knowledge/training/."""
    from .userdata import UserData

    for row in UserData().corrections():
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from .userdata import UserData

    progress = UserData().progress(args.user)
    if args.json:
        print(json.dumps(progress, ensure_ascii=False))
    else:
        for s in progress["sessions"]:
            print(f"{s['started']}  {s['type']:18s} {s['score']:3d}")
        print(f"weakest type: {progress['weakest_type'] or '-'}")
    return 0


APP_LABELS = {
    "customers": "saved customers",
    "feedback": "corrections",
    "profiles": "profiles",
    "team_members": "team memberships",
    "practice_replies": "practice replies",
    "practice_sessions": "practice sessions",
    "practice_sessions_anonymised": "practice sessions stripped of text and trainee id (scores kept)",
    "certificates": "certificates",
    "assignment_drafts": "assignment drafts",
    "assignment_sessions": "sessions counted for assignments",
    "assignments": "assignments given to them alone",
}


def _print_counts(report: Dict, as_json: bool) -> None:
    """What a purge or forget did (or would do), per store."""
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    verb = "would delete" if report["dry_run"] else "deleted"
    app = report["app_store"]
    print(f"app store {app['where']}: {verb} " + ", ".join(f"{n} {APP_LABELS[k]}" for k, n in app.items() if k != "where"))
    tracker = report["tracker_store"]
    aged = tracker.get("remembered_customers")
    forgot = f", {'would forget' if report['dry_run'] else 'forgot'} {aged} remembered customer(s) older than that" if aged else ""
    print(f"tracker store {tracker['where']}: {verb} {tracker['events']} events{forgot}")


def _days(text: str) -> float:
    days = float(text)
    if not days >= 0:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}")
    return days


def cmd_purge(args: argparse.Namespace) -> int:
    from .privacy import purge

    report = purge(args.older_than, args.tracker_db, args.dry_run)
    if not args.json:
        print(
            f"purge: data last touched before {report['before']} ({args.older_than:g} days)"
            + (" -- dry run, nothing changed" if args.dry_run else "")
        )
    _print_counts(report, args.json)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from .privacy import forget

    try:
        report = forget(args.user, args.tracker_db, args.dry_run)
    except ValueError as exc:
        print(f"coach forget: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        if report["matched"]:
            print(
                f"forget {args.user}: {len(report['matched'])} sender id(s): {', '.join(report['matched'])}"
                + (" -- dry run, nothing changed" if args.dry_run else "")
            )
        else:
            print(
                f"forget {args.user}: nothing stored under this sender id"
                + (f"; similar ids: {', '.join(report['similar'])}" if report["similar"] else "")
            )
    _print_counts(report, args.json)
    return 0


def _team_named(teams, name: str):
    """A web team by its name, or a platform team by its key (slack:T0123)."""
    from .teams import TeamError

    found = teams.by_name(name) or teams.by_key(name)
    if found is None:
        raise TeamError(f"no team {name!r} (coach team list shows them)")
    return found


def _member_named(teams, team, person: str) -> str:
    """A member's sender id, given as the id itself or as the one member's display name (case-insensitive)."""
    from .teams import TeamError

    members = teams.members(team)
    exact = [m.user for m in members if m.user == person]
    named = [m.user for m in members if m.name and m.name.lower() == person.strip().lower()]
    if exact or len(named) == 1:
        return (exact or named)[0]
    if len(named) > 1:
        raise TeamError(f"{len(named)} members are called {person!r}: give the sender id (coach team members {team.name or team.key})")
    raise TeamError(f"no member {person!r} in {team.name or team.key!r} (coach team members shows them)")


def cmd_team(args: argparse.Namespace) -> int:
    """Web-chat teams: create (prints the invite code), list, invite (a new code), remove, members."""
    from .teams import TeamError, Teams
    from .userdata import UserData

    teams = Teams(UserData())
    try:
        if args.team_command == "create":
            team, code = teams.create(args.name)
            print(f"team {team.name!r} created. Invite code (give it to the team; it is shown only now): {code}")
            print("In the web chat: Name & team -> team invite code.")
        elif args.team_command == "invite":
            print(f"new invite code for {args.name!r} (the old one no longer works): {teams.new_invite(args.name)}")
        elif args.team_command == "remove":
            print(f"team {args.name!r} removed; {teams.remove(args.name)} member(s) left it (their own data stays)")
        elif args.team_command == "members":
            for m in teams.members(_team_named(teams, args.name)):
                print(f"{m.role:8s} {m.user}  {m.name}")
        elif args.team_command in ("manager", "member"):
            team = _team_named(teams, args.name)
            user = _member_named(teams, team, args.person)
            teams.set_role(team, user, args.team_command)
            print(f"{args.person!r} is now a {args.team_command} of {team.name or team.key!r}")
        elif args.team_command == "set":
            from .engine.programs import program_store

            team = _team_named(teams, args.name)
            try:
                board = None if args.leaderboard is None else args.leaderboard == "on"
                now = program_store(teams.store).set_settings(
                    team, pass_mark=args.pass_mark, timezone_name=args.timezone, leaderboard=board
                )
            except ValueError as exc:
                raise TeamError(str(exc)) from exc
            shown = "on" if now.leaderboard else "off"
            print(f"{team.name or team.key!r}: pass mark {now.pass_mark}, time zone {now.timezone}, leaderboard {shown}")
        else:
            counts = teams.counts()
            rows = teams.all()
            if not rows:
                print("no teams yet: coach team create NAME")
            for t in rows:
                label = t.name if t.platform == "web" else f"{t.key}" + (f" ({t.name})" if t.name else "")
                print(f"{t.platform:12s} {label}  {counts.get(t.id, 0)} member(s)  since {t.created[:10]}")
    except TeamError as exc:
        print(f"coach team: {exc}", file=sys.stderr)
        return 2
    return 0


def _privacy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tracker-db",
        metavar="URL",
        help="the Rasa tracker store's database (SQLAlchemy URL); default "
        "$COACH_TRACKER_DB_URL, else the tracker_store of bot/endpoints.yml",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted, change nothing")
    p.add_argument("--json", action="store_true", help="the counts as one JSON object")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="coach", description="Sales Coach: customer psychology coaching from the command line.")
    sub = p.add_subparsers(dest="command", required=True)
    kb = sub.add_parser("kb", help="build and inspect the knowledge base").add_subparsers(dest="kb_command", required=True)
    b = kb.add_parser("build", help="validate content and build the store and models (only when content changed)")
    b.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    b.set_defaults(func=cmd_kb_build)
    kb.add_parser("export", help="print the whole knowledge base as one JSON document").set_defaults(func=cmd_kb_export)
    s = kb.add_parser("show", help="show one customer type")
    s.add_argument("type_id")
    s.add_argument("--lang", choices=list(LANGS), default=DEFAULT_LANG)
    s.set_defaults(func=cmd_kb_show)
    q = kb.add_parser("search", help="full-text search in English or Chinese")
    q.add_argument("query", nargs="+")
    q.add_argument("--limit", type=int, default=10)
    q.set_defaults(func=cmd_kb_search)
    sub.add_parser("identify", help='JSON lines {"text": ...} in, one identification per line out').set_defaults(func=cmd_identify)
    sub.add_parser(
        "score-reply",
        help='JSON lines {"type", "reply", optional "context" (the customer\'s last line) '
        'and "lang"} in, {"score", "moves", "feedback"} out',
    ).set_defaults(func=cmd_score_reply)
    c = sub.add_parser("customers", help="saved customer profiles").add_subparsers(dest="customers_command", required=True)
    e = c.add_parser("export", help="export one salesperson's customers for a CRM")
    e.add_argument("--user", required=True)
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.set_defaults(func=cmd_customers_export)
    f = sub.add_parser("feedback", help="salespeople's corrections of the identified type")
    f.add_subparsers(dest="feedback_command", required=True).add_parser(
        "export", help="corrections as training JSON lines, for a trainer to review into knowledge/training/"
    ).set_defaults(func=cmd_feedback_export)
    g = sub.add_parser("progress", help="a trainee's practice progress")
    g.add_argument("--user", required=True)
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_progress)
    r = sub.add_parser(
        "purge",
        help="delete conversations, saved customers, corrections and practice text older than "
        "DAYS (practice scores are kept, anonymous)",
    )
    r.add_argument("--older-than", type=_days, required=True, metavar="DAYS")
    _privacy_options(r)
    r.set_defaults(func=cmd_purge)
    o = sub.add_parser("forget", help="delete everything stored for one person: app store and Rasa tracker store")
    o.add_argument(
        "--user",
        required=True,
        metavar="ID",
        help="the sender id as the channel forms it, e.g. slack:T1:U1, "
        "telegram:CHAT:USER, web-...; * matches anything (telegram:*:USER: every group)",
    )
    _privacy_options(o)
    o.set_defaults(func=cmd_forget)
    t = sub.add_parser("team", help="web-chat teams joined with an invite code (team chats make theirs from the workspace)")
    ts = t.add_subparsers(dest="team_command", required=True)
    for name, text in (
        ("create", "make a web-chat team and print its invite code"),
        ("invite", "print a new invite code for a team (the old one stops working)"),
        ("remove", "delete a web-chat team (its members' data stays)"),
        ("members", "list a team's members and roles (a web team's name, or a platform team's key such as slack:T0123)"),
    ):
        one = ts.add_parser(name, help=text)
        one.add_argument("name")
        one.set_defaults(func=cmd_team)
    ts.add_parser("list", help="every team, web-chat and team-chat, with its member count").set_defaults(func=cmd_team)
    for role, text in (
        ("manager", "make a member a manager: they assign practice and see who has done what"),
        ("member", "make a manager a plain member again"),
    ):
        one = ts.add_parser(role, help=text)
        one.add_argument("name", help="a web team's name or a platform team's key (slack:T0123)")
        one.add_argument("person", help="the member's sender id, or their display name when no one else in the team has it")
        one.set_defaults(func=cmd_team)
    one = ts.add_parser("set", help="a team's training settings: the pass mark, the time zone due dates are in, the leaderboard")
    one.add_argument("name", help="a web team's name or a platform team's key (slack:T0123)")
    one.add_argument("--pass-mark", type=int, help="the score (1-100) that passes an assignment and counts for a certificate")
    one.add_argument("--timezone", help="an IANA time zone, e.g. Asia/Shanghai or Europe/London")
    one.add_argument("--leaderboard", choices=("on", "off"), help="whether members see the team's ranking (off until turned on)")
    one.set_defaults(func=cmd_team)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ContentError as exc:
        print(f"invalid knowledge content: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
