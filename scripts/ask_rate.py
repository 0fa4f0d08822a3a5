"""How often the coach asks instead of answering (issue 22: at most one message in six of ordinary use).

Replays conversations against the running bot, each with a fresh sender, and counts the answers that ask the
user to choose: two types too close to call, a type offered for the customer at hand ("Shall I switch?",
"Is that it?"), an unsure reading, which type a few words describe, "is this a new customer?". Those answers are
recognised by ui.yaml's own wording for them, so the count follows the content.

  .venv/bin/python scripts/ask_rate.py --url http://localhost:5005/webhooks/rest/webhook FILE...

A FILE is a conversation set in /work/shared/eval/converse.py's YAML format (`user:` and `press:` turns), or a
persona log (JSON lines with a "user" field, one conversation per file; "/intent{...}" is a pressed button).
Prints one line per file and the total, as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Sequence, Tuple

import yaml

from knowledge.loader import load_ui
from knowledge.text import to_simplified

# ui.yaml texts that ask the user to choose (engine/chooser.py, corrections.py, dialogue.py)
ASKING = (
    "choose_types",
    "choose_reading",
    "which_type_fits",
    "reading_offer",
    "correction_proposal",
    "maybe_new_customer",
    "maybe_new_customer_thin",
)
Turn = Tuple[str, str]  # ("user" | "press", text)


def markers() -> List[Pattern[str]]:
    """Each asking text of both languages as a pattern: its fixed words, anything where a name is filled in."""
    texts = load_ui().texts
    found = []
    for key in ASKING:
        for template in (texts[key].en, texts[key].zh):
            pieces = [re.escape(to_simplified(p).lower()) for p in re.split(r"\{[a-z_]+\}", template)]
            found.append(re.compile(".{1,120}?".join(pieces).rstrip(), re.S))
    return found


def asks(bubbles: Sequence[str], marks: Sequence[Pattern[str]]) -> bool:
    text = to_simplified("\n".join(bubbles)).lower()
    return any(m.search(text) for m in marks)


def post(url: str, sender: str, message: str) -> List[Dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return list(json.loads(reply.read().decode() or "[]"))


def conversations(path: Path) -> List[List[Turn]]:
    if path.suffix in (".yaml", ".yml"):
        return [
            [("press", t["press"]) if "press" in t else ("user", t["user"]) for t in convo.get("turns", []) if "press" in t or "user" in t]
            for convo in yaml.safe_load(path.read_text()) or []
        ]
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [[("user", str(x["user"])) for x in lines if isinstance(x, dict) and x.get("user")]]


def payload(messages: List[Dict[str, Any]], title: str) -> Optional[str]:
    buttons = [b for m in messages for b in m.get("buttons") or []]
    return next((b["payload"] for b in buttons if title.lower() in str(b.get("title", "")).lower()), None)


def replay(url: str, convo: List[Turn], marks: Sequence[Pattern[str]]) -> Tuple[int, int]:
    """(answers, answers that ask) of one conversation."""
    sender, asked = f"ask-{uuid.uuid4().hex[:10]}", 0
    last: List[Dict[str, Any]] = []
    for kind, text in convo:
        message = payload(last, text) if kind == "press" else text
        if message is None:
            continue
        last = post(url, sender, message)
        asked += asks([str(m.get("text") or "") for m in last], marks)
    return len(convo), asked


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    marks = markers()
    total = [0, 0]
    for path in args.files:
        turns = asked = 0
        for convo in conversations(path):
            n, a = replay(args.url, convo, marks)
            turns, asked = turns + n, asked + a
        total = [total[0] + turns, total[1] + asked]
        print(json.dumps({"file": str(path), "turns": turns, "asked": asked, "rate": round(asked / max(turns, 1), 3)}))
    print(json.dumps({"file": "all", "turns": total[0], "asked": total[1], "rate": round(total[1] / max(total[0], 1), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
