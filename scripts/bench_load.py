"""Speed under a team's load, side by side with a plain `rasa init` bot (issue 17).

Builds the reference bot with `rasa init --no-prompt` in a temporary folder (it trains there), trains this
bot into another, then starts each in turn on free loopback ports (this bot: action server + Rasa with the
SQL tracker store in the temp folder, as tests/conftest.py does; the reference: in-memory tracker, no action
server) and drives each with the same load shape: 20 concurrent users, each a multi-turn conversation of
10 messages over REST (this bot: coaching and practice in both languages; the reference: its own
greet/mood intents). Then one long conversation of this bot: turns 195-205 against turns 0-10.
Prints a table and, as the last line, one JSON object with the figures issue 17 names.

`--cache DIR` keeps both trained bots there and reuses them on the next run (for profiling rounds);
`--skip-ref` reuses nothing and measures this bot alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import requests

from bot.start import free_port, server_command

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "bench-token"  # the reference bot's HTTP API
JWT_SECRET = "bench-jwt-secret-of-at-least-32-bytes"  # this bot's, in a file bot/start.py reads (never on argv)
REQUEST_TIMEOUT_S = 60
RUN_DEADLINE_S = 180  # one load run: 200 messages; a hung server fails the run instead of the whole bench

EN_COACHING = [
    "hello",
    "He asked three times whether the guarantee is real and wants to see proof of everything.",
    "what should I avoid?",
    '/ask_stage{"stage": "closing"}',
    "my customer keeps haggling over every little flaw, what do I do?",
    "how do I win back a lost customer?",
    '/start_practice{"type_id": "suspicious"}',
    "Here is the contract and the inspection report, please check every clause yourself.",
    "I understand your concern, let me show you the warranty terms in writing.",
    "/practice_end",
]
ZH_COACHING = [
    "你好",
    "客户什么都要看合同原文才肯信,总担心我们在价格上做手脚",
    "要避免什么?",
    '/ask_stage{"stage": "closing"}',
    "客户老是挑毛病砍价,怎么办",
    "客户投诉怎么处理?",
    '/start_practice{"type_id": "timid_friendly"}',
    "您别着急，慢慢看，有什么担心的都可以问我。",
    "很多跟您情况差不多的客户都选了这款，用着挺放心的。",
    "/practice_end",
]
EN_THIN = [
    "hi",
    "The customer came in at 3pm with his wife.",
    "Leads",
    "Cold",
    "what should I avoid?",
    "She nitpicks every detail of the flat and is never satisfied.",
    "no, she's more suspicious",
    "what types are there?",
    '/start_practice{"type_id": "deliberate"}',
    "Let me walk you through the pros and cons of each option, with the numbers side by side.",
]
ZH_THIN = [
    "你好",
    "客户是本地人,开一辆白色的车",
    "被动",
    "友善",
    "要避免什么?",
    "客户一直嫌这嫌那,什么都看不上",
    "不对,他更像疑心型",
    "今天好累啊",
    '/start_practice{"type_id": "suspicious"}',
    "合同原件和检测报告都在这里，您可以一条一条核对。",
]
COACH_SCRIPTS = [EN_COACHING, ZH_COACHING, EN_THIN, ZH_THIN]
REF_SCRIPTS = [
    ["hello", "I am sad", "yes", "hi", "great", "are you a bot?", "no", "I'm very happy", "bye", "hey"],
    ["good morning", "not good", "no", "hey there", "very good", "am I talking to a human?", "yes", "sad", "see you later", "hi"],
]
# The long conversation repeats an 11-message cycle, so turns 0-10 and 195-205 hold the same messages.
LONG_CYCLE = EN_COACHING + ["客户老是挑毛病砍价,怎么办"]
LONG_TURNS = 206


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (psutil when it is installed)."""
    try:
        import psutil  # type: ignore[import]

        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except ImportError:
        pass
    total, pids = 0.0, [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except OSError:
            pass
    return total


class Server:
    """One server process on a loopback port, its log in the work folder."""

    def __init__(self, name: str, args: Sequence[str], cwd: Path, env: Dict[str, str], log: Path, ready_url: str):
        self.name, self.log, self.ready_url = name, log, ready_url
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.wait_ready()
        self.load_s = time.perf_counter() - t0

    def wait_ready(self, seconds: int = 240) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.ready_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not up after {seconds}s:\n{self.log.read_text()[-3000:]}")

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def base_env(var_dir: Optional[Path] = None) -> Dict[str, str]:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONHASHSEED": "0",
    }
    if var_dir:
        env["COACH_VAR_DIR"] = str(var_dir)
    return env


def timed(cmd: Sequence[str], cwd: Path, env: Dict[str, str], log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(list(cmd), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{log.read_text()[-3000:]}")
    return time.perf_counter() - t0


def train_reference(folder: Path) -> float:
    """`rasa init --no-prompt` scaffolds the example bot and trains it; its wall time is the training time."""
    folder.mkdir(parents=True, exist_ok=True)
    return timed([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(folder)], folder, base_env(), folder.parent / "ref-train.log")


def train_coach(models: Path, log: Path) -> float:
    return timed(
        [str(BIN / "rasa"), "train", "--config", "bot/config.yml", "--domain", "bot/domain", "--data", "data", "--out", str(models)],
        ROOT,
        base_env(),
        log,
    )


def cached_train(cache: Path, name: str, train: Callable[[], float]) -> float:
    """Training seconds, from the cache's record when the trained bot is already there."""
    record = cache / f"{name}.train_s"
    if record.exists():
        return float(record.read_text())
    seconds = train()
    record.write_text(f"{seconds:.2f}")
    return seconds


def post(session: requests.Session, url: str, sender: str, text: str) -> Tuple[float, bool]:
    """(latency in ms, ok): ok means HTTP 200 and at least one bot message back."""
    t0 = time.perf_counter()
    try:
        r = session.post(url, json={"sender": sender, "message": text}, timeout=REQUEST_TIMEOUT_S)
        ok = r.status_code == 200 and bool(r.json())
    except (requests.RequestException, ValueError):
        ok = False
    return 1000 * (time.perf_counter() - t0), ok


def percentile(values: List[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def load_run(url: str, scripts: List[List[str]], users: int, tag: str) -> Dict[str, float]:
    """`users` threads, each one conversation (its script, in order, waiting for each answer)."""
    latencies: List[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.time() + RUN_DEADLINE_S
    start = threading.Barrier(users)

    def user(n: int) -> None:
        session = requests.Session()
        script = scripts[n % len(scripts)]
        start.wait()
        for text in script:
            if time.time() > deadline:
                with lock:
                    errors[0] += 1
                continue
            ms, ok = post(session, url, f"{tag}-{n}", text)
            with lock:
                latencies.append(ms)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "rps": len(latencies) / wall,
        "errors": errors[0],
        "messages": len(latencies),
    }


def sequential(url: str, script: List[str], sender: str) -> Tuple[List[float], int]:
    session, out, errors = requests.Session(), [], 0
    for text in script:
        ms, ok = post(session, url, sender, text)
        out.append(ms)
        errors += 0 if ok else 1
    return out, errors


def warm_up(url: str, script: List[str]) -> None:
    """A few messages first, so lazy first-use costs (imports, caches) are not counted for either bot."""
    sequential(url, script, "warm-up")


def bench_coach(work: Path, models: Path, users: int, long_turns: int) -> Dict[str, float]:
    var = work / "var"
    var.mkdir(exist_ok=True)
    from knowledge.build import ensure_built  # the engine's store + models, as `make kb` built them

    for built in ensure_built()[:2]:
        shutil.copy2(built, var / built.name)
    action_port, rasa_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "bot" / "endpoints.yml")
        .read_text()  # the project's stores, in the temp folder
        .replace("localhost:5055", f"127.0.0.1:{action_port}")
        .replace("var/tracker.db", str(work / "tracker.db"))
    )
    # As `make run` starts them (scripts/run.sh): the action server behind its secret, the HTTP API with a JWT only.
    # The rate limit is lifted: the long conversation is one sender sending 206 messages back to back.
    jwt_file = work / "jwt_secret"
    jwt_file.write_text(JWT_SECRET)
    jwt_file.chmod(0o600)
    env = {
        **base_env(var),
        "COACH_ACTION_SECRET": "bench-action-secret",
        "COACH_JWT_SECRET_FILE": str(jwt_file),
        "COACH_RATE_BURST": "1000000",
    }
    actions = Server(
        "action server",
        [str(BIN / "python"), "-m", "actions.server", "--port", str(action_port)],
        ROOT,
        env,
        work / "actions.log",
        f"http://127.0.0.1:{action_port}/health",
    )
    rasa = None
    try:
        url = f"http://127.0.0.1:{rasa_port}"
        rasa = Server(
            "rasa",
            server_command(rasa_port, models, endpoints, ROOT / "bot" / "credentials.yml"),
            ROOT,
            env,
            work / "rasa.log",
            f"{url}/",
        )
        if "InMemoryTrackerStore" in rasa.log.read_text():  # Rasa falls back to it when a store fails to load
            raise RuntimeError(f"the tracker store of bot/endpoints.yml did not load:\n{rasa.log.read_text()[-3000:]}")
        hook = f"{url}/webhooks/rest/webhook"
        warm_up(hook, EN_COACHING[:3] + ZH_COACHING[:3])
        seq, seq_errors = sequential(hook, EN_COACHING, "sequential")
        result = load_run(hook, COACH_SCRIPTS, users, "coach")
        result["errors"] += seq_errors
        long = [LONG_CYCLE[n % len(LONG_CYCLE)] for n in range(long_turns)]
        turns, long_errors = sequential(hook, long, "long-conversation")
        result["errors"] += long_errors
        result.update(
            seq_p50_ms=statistics.median(seq),
            turn5_p50_ms=statistics.median(turns[0:11]),
            turn200_p50_ms=statistics.median(turns[195:206]) if len(turns) > 195 else float("nan"),
            load_s=rasa.load_s,
            actions_load_s=actions.load_s,
            rasa_rss_mb=rasa.rss_mb(),
            actions_rss_mb=actions.rss_mb(),
        )
        result["rss_mb"] = result["rasa_rss_mb"] + result["actions_rss_mb"]
        return result
    finally:
        for server in (rasa, actions):
            if server:
                server.stop()


def bench_reference(folder: Path, work: Path, users: int) -> Dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rasa = Server(
        "reference rasa",
        [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", TOKEN, "--port", str(port), "--model", str(folder / "models")],
        folder,
        base_env(),
        work / "ref-rasa.log",
        f"{url}/status?token={TOKEN}",
    )
    try:
        hook = f"{url}/webhooks/rest/webhook"
        warm_up(hook, REF_SCRIPTS[0][:4])
        seq, seq_errors = sequential(hook, REF_SCRIPTS[0], "sequential")
        result = load_run(hook, REF_SCRIPTS, users, "ref")
        result["errors"] += seq_errors
        result.update(seq_p50_ms=statistics.median(seq), load_s=rasa.load_s, rss_mb=rasa.rss_mb())
        return result
    finally:
        rasa.stop()


def table(coach: Dict[str, float], ref: Optional[Dict[str, float]]) -> str:
    rows = [
        ("p50 ms (20 users)", "p50_ms", "{:.0f}"),
        ("p95 ms (20 users)", "p95_ms", "{:.0f}"),
        ("throughput msg/s", "rps", "{:.1f}"),
        ("errors", "errors", "{:.0f}"),
        ("sequential p50 ms", "seq_p50_ms", "{:.0f}"),
        ("train s", "train_s", "{:.1f}"),
        ("model load s", "load_s", "{:.1f}"),
        ("RSS MB", "rss_mb", "{:.0f}"),
    ]
    lines = [f"{'':22} {'Sales Coach':>12} {'rasa init':>12}"]
    for label, key, fmt in rows:
        other = fmt.format(ref[key]) if ref and key in ref else "-"
        lines.append(f"{label:22} {fmt.format(coach[key]):>12} {other:>12}")
    lines.append(f"{'turns 0-10 p50 ms':22} {coach['turn5_p50_ms']:>12.0f}")
    lines.append(f"{'turns 195-205 p50 ms':22} {coach['turn200_p50_ms']:>12.0f}")
    lines.append(f"{'RSS MB rasa / actions':22} {coach['rasa_rss_mb']:>6.0f} / {coach['actions_rss_mb']:.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--long-turns", type=int, default=LONG_TURNS)
    parser.add_argument("--cache", type=Path, help="keep the trained bots here and reuse them")
    parser.add_argument("--skip-ref", action="store_true", help="measure this bot only")
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="coach-bench-load-"))
    cache = args.cache or temp
    cache.mkdir(parents=True, exist_ok=True)
    try:
        ref = None
        if not args.skip_ref:
            ref_folder = cache / "reference"
            ref_train_s = cached_train(cache, "reference", lambda: train_reference(ref_folder))
            ref = bench_reference(ref_folder, temp, args.users)
            ref["train_s"] = ref_train_s
        models = cache / "coach-models"
        train_s = cached_train(cache, "coach", lambda: train_coach(models, temp / "coach-train.log"))
        coach = bench_coach(temp, models, args.users, args.long_turns)
        coach["train_s"] = train_s
        print(table(coach, ref))
        summary = {
            k: round(coach[k], 1)
            for k in ("p50_ms", "p95_ms", "rps", "errors", "turn200_p50_ms", "turn5_p50_ms", "train_s", "load_s", "rss_mb", "seq_p50_ms")
        }
        summary["errors"] = int(coach["errors"])
        if ref:
            summary.update({f"ref_{k}": round(ref[k], 1) for k in ("p50_ms", "p95_ms", "rps", "train_s", "load_s", "rss_mb", "seq_p50_ms")})
            summary["ref_errors"] = int(ref["errors"])
        print(json.dumps(summary))
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
