"""Cross-validate the identifier on the written training descriptions and compare classifiers.

The knowledge base's own cues always stay in training; folds split the written descriptions, so
the figures estimate how the engine does on descriptions it has never seen.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from typing import Callable, Dict, List, Sequence, Tuple

from knowledge.engine.identify import Identifier
from knowledge.engine.train import TypeLexicon, build_classifier, lexicons, training_set
from knowledge.loader import load_content
from knowledge.text import detect_lang


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


def evaluate(train: Callable, rows, lexicons: Dict[str, TypeLexicon], folds: int, styles, use_keywords: bool) -> Dict[str, float]:
    random.Random(0).shuffle(rows)
    without_keywords = {t: TypeLexicon(cues=lex.cues, keywords={}) for t, lex in lexicons.items()}
    hits: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for k in range(folds):
        test = rows[k::folds]
        train_rows = [r for i, r in enumerate(rows) if i % folds != k]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--compare", action="store_true", help="also run spaCy textcat and the no-keyword variant")
    args = ap.parse_args()
    content = load_content()
    rows = [(r.text, r.type) for r in content.training if r.about_customer]
    lex = lexicons(content.types)
    variants: List[Tuple[str, Callable, bool]] = [("sklearn char+word linear SVM + keywords", build_classifier, True)]
    if args.compare:
        variants += [
            ("sklearn char+word linear SVM, no keywords", build_classifier, False),
            ("spaCy textcat BOW + keywords", spacy_textcat, True),
        ]
    for name, train, kw in variants:
        t0 = time.perf_counter()
        res = evaluate(train, list(rows), lex, args.folds, content.taxonomy.styles, kw)
        print(f"{name:40s} {res}  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
