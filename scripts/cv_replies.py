"""Cross-validate reply scoring: held-out move examples, paired good-vs-bad for each type's rubric.

A pair is one held-out example of a move the type rewards (weight >= 1) and one of a move it
punishes (weight <= -1); the figure is the share of pairs where the good reply scores higher.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Dict

import yaml

from knowledge import paths
from knowledge.engine.replies import ReplyScorer
from knowledge.engine.train import build_classifier
from knowledge.loader import load_ui
from knowledge.schema import LANGS, CustomerType, Moves, local


def main(folds: int = 5, pairs_per_type: int = 60) -> None:
    moves = Moves.parse_obj(yaml.safe_load((paths.CONTENT_DIR / "moves.yaml").read_text())).moves
    rubrics = {
        p.stem: CustomerType.parse_obj(yaml.safe_load(p.read_text())).practice.rubric
        for p in sorted((paths.CONTENT_DIR / "types").glob("*.yaml"))
    }
    rows = [(e, m.id, lang) for m in moves for lang in LANGS for e in local(m.examples, lang)]
    random.Random(0).shuffle(rows)
    wins: Dict[str, int] = defaultdict(int)
    totals: Dict[str, int] = defaultdict(int)
    rng = random.Random(1)
    answers = load_ui().answers  # the words that change a phrase's meaning (negation, courtesy), as the bot reads
    for k in range(folds):
        test = rows[k::folds]
        train = [r for i, r in enumerate(rows) if i % folds != k]
        scorer = ReplyScorer(build_classifier([t for t, _, _ in train], [m for _, m, _ in train]), moves, rubrics).learn_markers(answers)
        for type_id, rubric in rubrics.items():
            for lang in LANGS:
                good = [t for t, m, l in test if l == lang and rubric[m] >= 1]
                bad = [t for t, m, l in test if l == lang and rubric[m] <= -1]
                for _ in range(pairs_per_type // folds):
                    g, b = rng.choice(good), rng.choice(bad)
                    wins[lang] += scorer.score(type_id, g).score > scorer.score(type_id, b).score
                    totals[lang] += 1
    for lang in LANGS:
        print(f"{lang}: pairwise {wins[lang] / totals[lang]:.3f} over {totals[lang]} held-out pairs ({len(rubrics)} types)")


if __name__ == "__main__":
    main()
