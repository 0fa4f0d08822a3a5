"""Print the engine's speed figures: load time, ms per description, ms per scored reply (one core)."""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    from knowledge.build import ensure_built

    ensure_built()  # outside the timing: the load figure is what the action server pays at start
    t0 = time.perf_counter()
    from knowledge.engine.runtime import get_engine

    engine = get_engine()
    load = time.perf_counter() - t0
    from knowledge.loader import load_content

    texts = [r.text for r in load_content().training][:400]
    long_text = " ".join(texts)[:5000]
    t0 = time.perf_counter()
    for text in texts:
        engine.identifier.identify(text)
    per_desc = 1000 * (time.perf_counter() - t0) / len(texts)
    t0 = time.perf_counter()
    for _ in range(20):
        engine.identifier.identify(long_text)
    per_long = 1000 * (time.perf_counter() - t0) / 20
    replies = [e for m in engine.kb.moves.moves for e in m.examples.en[:5] + m.examples.zh[:5]]
    t0 = time.perf_counter()
    for reply in replies:
        engine.scorer.score("suspicious", reply)
    per_reply = 1000 * (time.perf_counter() - t0) / len(replies)
    per_turn = dialogue_ms_per_turn(engine)
    print(f"engine load: {load:.2f} s (target <= 2 s)")
    print(f"identify: {per_desc:.1f} ms per description over {len(texts)} (target <= 20 ms)")
    print(f"identify: {per_long:.1f} ms for a 5,000-character description")
    print(f"score-reply: {per_reply:.1f} ms per reply over {len(replies)}")
    print(f"dialogue: {per_turn:.1f} ms per turn (describe, follow-ups, a situation, a topic; both languages)")


def dialogue_ms_per_turn(engine) -> float:
    """A coaching conversation through the dialogue router, as the action server runs it (no Rasa)."""
    import tempfile
    from pathlib import Path

    from knowledge.engine.dialogue import Dialogue
    from knowledge.engine.state import ConversationState, UserTurn
    from knowledge.userdata import UserData

    dialogue = Dialogue(engine, UserData(Path(tempfile.mkdtemp()) / "bench.db"))
    script = [
        ("he doubts every number I give him", "describe_customer"),
        ("what should I avoid?", "ask_avoid"),
        ("what if he walks out?", "describe_customer"),
        ("how do I close?", "ask_stage"),
        ("how do I win back a lost customer?", "ask_knowledge"),
        ("the third one", "show_more"),
        ("这个客户什么都要挑毛病", "describe_customer"),
        ("他说要回去考虑一下", "describe_customer"),
    ]
    turns, t0 = 0, time.perf_counter()
    for n in range(10):
        state = ConversationState(user=f"bench-{n}")
        for text, intent in script:
            dialogue.respond(UserTurn(text, intent), state)
            turns += 1
    return 1000 * (time.perf_counter() - t0) / turns


if __name__ == "__main__":
    main()
