"""Cross-validate the identifier on the written training descriptions and compare classifiers; measure the
built identifier on notes it was never trained on.

The knowledge base's own cues always stay in training; folds split the written descriptions, so
the figures estimate how the engine does on descriptions it has never seen.

`--notes FILE ...` runs the built engine over labelled notes (tests/data/identify_notes_dev.jsonl, which the
thresholds are tuned on, and identify_notes_heldout.jsonl, which nothing is tuned on) and prints per language:
top-1 of the plain ranking, the ask rate (share of notes with `close` set), how often the right type is one of
the two when it asks, top-1 when the two asked-about count as one answer, and the expected calibration error of
the top score.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from knowledge.engine.identify import Identification, Identifier, RawRead, Settings, judge
from knowledge.engine.train import TypeLexicon, build_classifier, lexicons, training_set
from knowledge.loader import load_content
from knowledge.paths import TRAINING_DIR
from knowledge.schema import LANGS
from knowledge.text import detect_lang, normalise


def spacy_textcat(texts: Sequence[str], labels: Sequence[str]):
    """spaCy's bag-of-words text classifier on a blank pipeline (Chinese as characters), for comparison."""
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("zh")
    cat = nlp.add_pipe(
        "textcat",
        config={"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 3, "no_output_layer": False}},
    )
    classes = sorted(set(labels))
    for c in classes:
        cat.add_label(c)
    data = [
        Example.from_dict(nlp.make_doc(t.lower()), {"cats": {c: float(c == l) for c in classes}})
        for t, l in zip(texts, labels, strict=False)
    ]
    optimizer = nlp.initialize(lambda: data)
    for _ in range(12):
        random.shuffle(data)
        for i in range(0, len(data), 32):
            nlp.update(data[i : i + 32], sgd=optimizer)

    class Model:
        classes_ = classes

        def predict_proba(self, xs):
            return [[doc.cats[c] for c in classes] for doc in nlp.pipe(x.lower() for x in xs)]

    return Model()


def evaluate(
    train: Callable, rows, lexicons: Dict[str, TypeLexicon], folds: int, styles, use_keywords: bool, always_train: Sequence = ()
) -> Dict[str, float]:
    """Top-1 / top-3 / false unknowns per language over `folds` folds of `rows`; `always_train` rows are in every
    fold's training and never tested (so rows added since a measurement do not change the test set)."""
    random.Random(0).shuffle(rows)
    without_keywords = {t: TypeLexicon(cues=lex.cues, keywords={}) for t, lex in lexicons.items()}
    hits: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for k in range(folds):
        test = rows[k::folds]
        train_rows = [r for i, r in enumerate(rows) if i % folds != k] + list(always_train)
        texts, labels = training_set(train_rows, lexicons)
        model = train(texts, labels)
        # without the topic gate and the cue index (they only shape the answer, not the ranking)
        ident = Identifier(model, lexicons if use_keywords else without_keywords, styles, index_cues=False)
        for text, gold in test:
            result = ident.identify(text)
            lang = detect_lang(text)
            ids = [t for t, _ in result.types]
            h = hits[lang]
            if gold is None:
                hits["unknown"][0] += result.needs_more_info
                hits["unknown"][2] += 1
                continue
            h[0] += bool(ids) and ids[0] == gold and not result.needs_more_info
            h[1] += gold in ids[:3]
            h[2] += 1
            h[3] += result.needs_more_info
    out = {}
    for key, (top1, top3, n, unknown) in hits.items():
        out[f"{key}_top1"] = round(top1 / max(1, n), 3)
        if key != "unknown":
            out[f"{key}_top3"] = round(top3 / max(1, n), 3)
            out[f"{key}_false_unknown"] = round(unknown / max(1, n), 3)
    return out


ECE_BINS = 10


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many fall in each."""
    total, n = 0.0, len(confidences)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if lo < c <= hi or (b == 0 and c == 0)]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            confidence = sum(confidences[i] for i in members) / len(members)
            total += len(members) / n * abs(accuracy - confidence)
    return round(total, 3)


def notes_report(identifier: Identifier, rows: Sequence[dict]) -> Dict[str, Dict[str, float]]:
    """Per language: top-1, top-3, false unknowns, ask rate, right type offered when asking, ECE of the top score."""
    out: Dict[str, Dict[str, float]] = {}
    by_lang: Dict[str, List[Tuple[dict, Identification]]] = defaultdict(list)
    for row in rows:
        by_lang[detect_lang(row["text"])].append((row, identifier.identify(row["text"])))
    for lang, results in sorted(by_lang.items()):
        n = len(results)
        top1 = [bool(r.types) and r.types[0][0] == row["type"] for row, r in results]
        asked = [(row, r) for row, r in results if r.close]
        offered = sum(row["type"] in (r.close or ()) for row, r in asked)
        out[lang] = {
            "n": n,
            "top1": round(sum(top1) / n, 3),
            "top3": round(sum(row["type"] in [t for t, _ in r.types[:3]] for row, r in results) / n, 3),
            "false_unknown": round(sum(r.needs_more_info for _, r in results) / n, 3),
            "ask_rate": round(len(asked) / n, 3),
            "offered_when_asking": round(offered / len(asked), 3) if asked else 1.0,
            "top1_or_asked": round(
                sum(t or (r.close is not None and row["type"] in r.close) for t, (row, r) in zip(top1, results, strict=True)) / n, 3
            ),
            "ece": expected_calibration_error([r.types[0][1] if r.types else 0.0 for _, r in results], top1),
        }
    return out


def misses(identifier: Identifier, rows: Sequence[dict]) -> List[str]:
    lines = []
    for row in rows:
        r = identifier.identify(row["text"])
        if not r.types or r.types[0][0] != row["type"] or r.close:
            mark = "ASK " if r.close else "MISS"
            lines.append(f"{mark} {row['type']:>17} <- {[(t, round(s, 2)) for t, s in r.types[:2]]} {row['text'][:90]}")
    return lines


def out_of_fold_reads(
    rows, lexicons: Dict[str, TypeLexicon], folds: int, styles, always_train: Sequence = ()
) -> List[Tuple[RawRead, object, str]]:
    """(raw read, gold type or None, language) for every written description, each read by a model trained
    without its fold: what the calibration and the thresholds are fitted on."""
    rows = list(rows)
    random.Random(0).shuffle(rows)
    reads: List[Tuple[RawRead, object, str]] = []
    for k in range(folds):
        test = rows[k::folds]
        train_rows = [r for i, r in enumerate(rows) if i % folds != k] + list(always_train)
        texts, labels = training_set(train_rows, lexicons)
        ident = Identifier(build_classifier(texts, labels), lexicons, styles, index_cues=False)
        for text, gold in test:
            read, _ = ident.raw_read(normalise(text))
            reads.append((read, gold, detect_lang(text)))
    return reads


def judged_figures(reads, settings: Settings) -> Dict[str, float]:
    """Per language: top-1, ECE, ask rate, right type offered when asking; facts recognised and false unknowns."""
    out: Dict[str, float] = {}
    for lang in LANGS:
        labelled = [(judge(r, settings), gold) for r, gold, lg in reads if lg == lang and gold is not None]
        facts = [judge(r, settings) for r, gold, lg in reads if lg == lang and gold is None]
        correct = [j.ranked[0][0] == gold for j, gold in labelled]
        asked = [(j, gold) for j, gold in labelled if j.close]
        out[f"{lang}_top1"] = round(sum(correct) / len(labelled), 3)
        out[f"{lang}_ece"] = expected_calibration_error([j.ranked[0][1] for j, _ in labelled], correct)
        out[f"{lang}_ask"] = round(len(asked) / len(labelled), 3)
        out[f"{lang}_offered"] = round(sum(gold in (j.close or ()) for j, gold in asked) / max(1, len(asked)), 3)
        out[f"{lang}_false_unknown"] = round(sum(j.needs_more_info for j, _ in labelled) / len(labelled), 3)
        out[f"{lang}_facts"] = round(sum(j.needs_more_info for j in facts) / max(1, len(facts)), 3)
    return out


def calibrate(reads) -> None:
    """Print the figures the settings in knowledge/engine/identify.py were chosen by: the temperature (lowest
    ECE), then the close margin, then "nothing to judge by" (facts recognised against false unknowns)."""
    base = Settings()
    print("current", base, judged_figures(reads, base))
    for temperature in (0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5):
        print(f"temperature {temperature}", judged_figures(reads, Settings(temperature=temperature, close_margin=0)))
    for margin in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3):
        print(f"close_margin {margin}", judged_figures(reads, Settings(temperature=base.temperature, close_margin=margin)))
    for unknown in (0.1, 0.2, 0.3, 0.4):
        for min_score in (0.1, 0.16, 0.22, 0.3):
            settings = Settings(
                temperature=base.temperature, close_margin=base.close_margin, unknown_margin=unknown, min_type_score=min_score
            )
            print(f"unknown_margin {unknown} min_type_score {min_score}", judged_figures(reads, settings))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--compare", action="store_true", help="also run spaCy textcat and the no-keyword variant")
    ap.add_argument("--notes", nargs="+", type=Path, help="labelled JSONL notes to run the built engine on")
    ap.add_argument("--misses", action="store_true", help="with --notes: list the misses and the asked notes")
    ap.add_argument("--calibrate", action="store_true", help="fit the temperature and thresholds on out-of-fold reads")
    ap.add_argument(
        "--hold-in",
        nargs="+",
        default=[],
        help="training file names (e.g. identify_pairs.jsonl) whose rows always train and are never tested, to compare with a "
        "measurement taken before they were added",
    )
    args = ap.parse_args()
    if args.notes:
        from knowledge.app import engine

        identifier = engine().identifier
        for path in args.notes:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            print(path.name, json.dumps(notes_report(identifier, rows)))
            if args.misses:
                print("\n".join(misses(identifier, rows)))
        return
    content = load_content()
    rows = [(r.text, r.type) for r in content.training if r.about_customer]
    held_in = {
        json.loads(line)["text"]
        for name in args.hold_in
        for line in (TRAINING_DIR / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    always_train = [r for r in rows if r[0] in held_in]
    rows = [r for r in rows if r[0] not in held_in]
    lex = lexicons(content.types)
    if args.calibrate:
        calibrate(out_of_fold_reads(rows, lex, args.folds, content.taxonomy.styles, always_train))
        return
    variants: List[Tuple[str, Callable, bool]] = [("sklearn char+word linear SVM + keywords", build_classifier, True)]
    if args.compare:
        variants += [
            ("sklearn char+word linear SVM, no keywords", build_classifier, False),
            ("spaCy textcat BOW + keywords", spacy_textcat, True),
        ]
    for name, train, kw in variants:
        t0 = time.perf_counter()
        res = evaluate(train, list(rows), lex, args.folds, content.taxonomy.styles, kw, always_train)
        print(f"{name:40s} {res}  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
