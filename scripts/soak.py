"""Load / soak driver: N concurrent conversations of T turns each through the REST channel, then checks the stores.

Each conversation is coaching and practice in one language (even numbers English, odd Chinese, a third of the
Chinese ones in Traditional script): describe a customer, follow-ups, save the customer under a unique name, a
practice session with replies, its end, then more coaching. Afterwards the user-data store (the same one the action
servers write: COACH_VAR_DIR's SQLite, or COACH_DATABASE_URL's PostgreSQL) must hold, for every conversation,
exactly one saved customer with its name and exactly one finished practice session whose turns are each recorded
once. Prints figures, and ends with one JSON line.

    .venv/bin/python scripts/soak.py --url http://127.0.0.1:5005 --conversations 50 --turns 20
    make soak        # the same against a freshly started stack (full size)

Exit status 0 only with zero errors and every record present once. The rate limit (bot/limits.py) is per sender,
and each conversation has its own sender, so a full-size run is never throttled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIN_TURNS = 6  # describe, save, start practice, two replies, end: the shortest script that records everything

DESCRIPTIONS = {
    "en": [
        "He keeps interrupting me and says he knows better than me.",
        "She doubts every number I give her and wants proof for each claim.",
        "He takes forever to decide and keeps asking for more time to think.",
        "She nitpicks every little flaw and keeps haggling over the price.",
    ],
    "zh": [
        "客户老是打断我，觉得自己什么都懂。",
        "她对我说的每个数字都怀疑，什么都要看证据。",
        "他拿不定主意，总说要再考虑考虑。",
        "她挑剔每个小毛病，一直在砍价。",
    ],
}
FOLLOW_UPS = {
    "en": ["what should I avoid?", "how do I close?", "he's asking for a discount", "what if he walks out?"],
    "zh": ["我应该避免什么？", "怎么成交？", "他要折扣怎么办？", "他要是走了怎么办？"],
}
SAVE = {"en": "save him as Soak {n}", "zh": "存为测试客户{n}号"}
PRACTICE_TYPES = ["suspicious", "deliberate", "picky", "volatile"]  # taxonomy ids (an unknown id is refused)
PRACTICE_REPLIES = {
    "en": [
        "I understand. Could you tell me what matters most to you?",
        "Here is the contract and the inspection report, please check every clause yourself.",
        "Let me walk you through the pros and cons of each option, with the numbers side by side.",
        "Take your time; I can send you the details by email so you can compare.",
    ],
    "zh": [
        "我理解。您最看重的是哪一点？",
        "这是合同和检测报告，您可以每一条都自己核对。",
        "我把每个方案的优缺点和数字并排给您对比一下。",
        "您慢慢考虑，我把资料发到您邮箱，方便您比较。",
    ],
}


def traditional(text: str) -> str:
    """The same message in Traditional script (Taiwan characters): the bot must answer in that script."""
    import opencc

    return opencc.OpenCC("s2tw").convert(text)


def script_for(n: int, turns: int) -> Tuple[str, List[Tuple[str, str]]]:
    """(lang, [(kind, message)]) for conversation n: kinds 'coach', 'save', 'start', 'reply', 'end'."""
    lang = "en" if n % 2 == 0 else "zh"
    fix = traditional if lang == "zh" and n % 3 == 1 else (lambda t: t)
    pick = lambda items, i: items[(n + i) % len(items)]
    steps: List[Tuple[str, str]] = [("coach", fix(pick(DESCRIPTIONS[lang], 0)))]
    coaching = max(0, (turns - MIN_TURNS) // 2)
    steps += [("coach", fix(pick(FOLLOW_UPS[lang], i))) for i in range(coaching)]
    steps.append(("save", fix(SAVE[lang].format(n=n))))
    steps.append(("start", "/start_practice" + json.dumps({"type_id": pick(PRACTICE_TYPES, 0)})))
    replies = max(2, turns - len(steps) - 1)
    steps += [("reply", fix(pick(PRACTICE_REPLIES[lang], i))) for i in range(replies)]
    steps.append(("end", "/practice_end"))
    return lang, steps


class Run:
    """Counts and timings shared by the worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: List[float] = []
        self.errors: List[str] = []
        self.empty = 0

    def add(self, seconds: float, error: Optional[str], empty: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.errors.append(error)
            self.empty += empty


def sender_headers(sender: str) -> Dict[str, str]:
    """Through a proxy (the cluster's nginx) REST wants a sender token (bot/channels/sender_auth.py): signed with
    $COACH_JWT_SECRET when it is set (`scripts/cluster.py soak` passes the cluster's); a direct local run needs none."""
    secret = os.environ.get("COACH_JWT_SECRET", "")
    if not secret:
        return {}
    from bot.channels.sender_auth import mint

    return {"Authorization": f"Bearer {mint(sender, secret)}"}


def converse(hook: str, sender: str, steps: List[Tuple[str, str]], run: Run, timeout: float) -> None:
    session = requests.Session()
    session.headers.update(sender_headers(sender))
    for i, (kind, message) in enumerate(steps):
        t0 = time.perf_counter()
        error, empty = None, False
        try:
            r = session.post(hook, json={"sender": sender, "message": message}, timeout=timeout)
            if r.status_code != 200:
                error = f"{sender} turn {i + 1} ({kind}): HTTP {r.status_code} {r.text[:120]}"
            else:
                empty = not any(m.get("text") for m in r.json())
                if empty:
                    error = f"{sender} turn {i + 1} ({kind}): no answer"
        except requests.RequestException as e:
            error = f"{sender} turn {i + 1} ({kind}): {type(e).__name__}: {e}"
        run.add(time.perf_counter() - t0, error, empty)


def check_records(senders: Dict[str, List[Tuple[str, str]]], userdata: Any) -> List[str]:
    """Every conversation: one saved customer, one finished practice session, each of its turns recorded once."""
    problems = []
    for sender, steps in senders.items():
        saves = [m for kind, m in steps if kind == "save"]
        customers = userdata.customers(sender)
        if len(customers) != len(saves):
            problems.append(f"{sender}: {len(customers)} saved customers, expected {len(saves)}")
        sessions = userdata.rows("practice_sessions", user=sender)
        finished = [s for s in sessions if s["status"] not in ("active", "abandoned")]
        if len(sessions) != 1 or len(finished) != 1:
            problems.append(f"{sender}: practice sessions {[(s['status'], s['turns']) for s in sessions]}, expected one finished")
            continue
        numbers = [r["n"] for r in userdata.rows("practice_turns", session_id=finished[0]["id"])]
        if sorted(numbers) != list(range(1, finished[0]["turns"] + 1)):
            problems.append(f"{sender}: practice turns recorded {sorted(numbers)} for {finished[0]['turns']} turns")
    return problems


def soak(
    url: str,
    conversations: int,
    turns: int,
    timeout: float = 120.0,
    userdata: Optional[Callable[[], Any]] = None,
    log: Callable[[str], None] = print,
) -> Dict[str, Any]:
    """Run the load against `url` (the Rasa server or a proxy in front of several) and return the figures."""
    hook = url.rstrip("/") + "/webhooks/rest/webhook"
    run_id = uuid.uuid4().hex[:6]
    senders = {f"soak-{run_id}-{n}": script_for(n, turns)[1] for n in range(conversations)}
    run = Run()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        for future in [pool.submit(converse, hook, s, steps, run, timeout) for s, steps in senders.items()]:
            future.result()
    wall = time.perf_counter() - t0
    if userdata is None:
        from knowledge.app import userdata as app_userdata

        userdata = app_userdata
    missing = check_records(senders, userdata())
    lat = sorted(run.latencies)
    figures = {
        "conversations": conversations,
        "turns_per_conversation": len(next(iter(senders.values()))),
        "messages": len(lat),
        "errors": len(run.errors),
        "unanswered": run.empty,
        "record_problems": len(missing),
        "wall_s": round(wall, 1),
        "throughput_msg_s": round(len(lat) / wall, 1) if wall else 0.0,
        "p50_ms": round(statistics.median(lat) * 1000) if lat else 0,
        "p95_ms": round(lat[int(0.95 * (len(lat) - 1))] * 1000) if lat else 0,
        "max_ms": round(lat[-1] * 1000) if lat else 0,
        "saved_customers": sum(len(userdata().customers(s)) for s in senders),
        "practice_sessions": sum(len(userdata().recent_sessions(s, 10, finished_only=True)) for s in senders),
    }
    for line in run.errors[:10] + missing[:10]:
        log(f"  problem: {line}")
    return figures


def fresh_stack() -> Any:
    """Both servers as tests/conftest.py starts them (its own var dir, JWT-only API, action secret), started now."""
    import tempfile

    from tests.conftest import Servers  # sets COACH_VAR_DIR to a new temporary folder for this process too

    stack = Servers(Path(tempfile.mkdtemp(prefix="coach-soak-")))
    t0 = time.perf_counter()
    stack.start_actions()
    stack.start_rasa()
    print(f"fresh stack up in {time.perf_counter() - t0:.0f} s (var dir {os.environ['COACH_VAR_DIR']})")
    return stack


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="the Rasa server (or the proxy of a cluster)")
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per message")
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="start an action server and a Rasa server on free ports with empty stores, as `make run` "
        "does (the test fixture's Servers), run against them, stop them",
    )
    args = ap.parse_args()
    if args.turns < MIN_TURNS:
        ap.error(f"--turns must be at least {MIN_TURNS}")
    stack = fresh_stack() if args.fresh else None
    try:
        url = stack.url if stack else args.url
        print(f"soak: {args.conversations} conversations x {args.turns} turns against {url}")
        figures = soak(url, args.conversations, args.turns, args.timeout)
    finally:
        if stack:
            stack.close()
            for folder in (stack.workdir, Path(os.environ["COACH_VAR_DIR"])):
                shutil.rmtree(folder, ignore_errors=True)
    print(
        f"  {figures['messages']} messages in {figures['wall_s']} s ({figures['throughput_msg_s']} msg/s), "
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms"
    )
    print(
        f"  errors {figures['errors']}, unanswered {figures['unanswered']}, record problems {figures['record_problems']}; "
        f"saved customers {figures['saved_customers']}, finished practice sessions {figures['practice_sessions']}"
    )
    print(json.dumps(figures))
    return 0 if figures["errors"] == 0 and figures["record_problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
