"""Build the engine's models: what each learns from (training sets), the features and the classifiers.

The one module that decides what the models learn: knowledge/build.py calls `train_models` and the
content fingerprint (loader.BUILD_CODE) covers this file, so an edit here retrains; the modules that only
use the trained models (identify.py, replies.py) can change without retraining.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..schema import LANGS, CustomerType, Move, local
from ..text import detect_lang, normalise
from . import clauses

if TYPE_CHECKING:
    from ..loader import Content

NONE = "none"  # the type model's class for descriptions that carry no psychological cue


@dataclass
class TypeLexicon:
    """What the knowledge base says a type sounds like."""

    cues: Dict[str, List[str]]  # lang -> example descriptions
    keywords: Dict[str, List[str]]  # lang -> short markers


NEUTRAL_JOINER = {"en": ". ", "zh": "，"}  # between a training row and the neutral sentence added to it


def lexicons(types: Mapping[str, CustomerType]) -> Dict[str, TypeLexicon]:
    """Each type's cues (training rows, evidence) and keywords (matched in the text), by language."""
    return {i: TypeLexicon(cues=t.cues.dict(), keywords=t.keywords.dict()) for i, t in types.items()}


def features() -> Any:
    """Character n-grams (both languages, no segmentation, typo-tolerant) plus English words and word pairs."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b[a-z][a-z']+\b"),
    )


def build_classifier(texts: Sequence[str], labels: Sequence[str]) -> Any:
    """The type model (and the move model): the features into a linear SVM with calibrated probabilities.

    Chosen by scripts/cv_identify.py: as accurate as logistic regression here, and 10-20x faster to train.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=0.5, class_weight="balanced")
    model = make_pipeline(features(), CalibratedClassifierCV(svm, cv=3, method="sigmoid"))
    model.fit([normalise(t) for t in texts], np.asarray(labels))
    return model


def build_gate(texts: Sequence[str], about_customer: Sequence[bool]) -> Any:
    """Is a message about a customer at all? Kept apart from the type model so small talk ("today was rough")
    can be turned away without teaching the type model that moods and complaints mean "nothing to judge by"."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(features(), LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000))
    model.fit([normalise(t) for t in texts], np.asarray(about_customer))
    return model


def with_neutral_tails(rows: Sequence[Tuple[str, Optional[str]]]) -> List[Tuple[str, Optional[str]]]:
    """Each description once more with a cue-free row of its language appended (a budget, "what do I do?").

    Without it, words that only occur in cue-free rows pull a description that ends in a question or
    a fact towards "nothing to judge by"; appended, they read as neutral and the type stays.
    """
    neutral: Dict[str, List[str]] = {lang: [] for lang in LANGS}
    for text, label in rows:
        if label is None:
            neutral[detect_lang(text)].append(text)
    out = list(rows)
    for n, (text, label) in enumerate(r for r in rows if r[1] is not None):
        lang = detect_lang(text)
        if neutral[lang]:
            out.append((f"{text.rstrip('。.!！ ')}{NEUTRAL_JOINER[lang]}{neutral[lang][n % len(neutral[lang])]}", label))
    return out


def training_set(rows: Iterable[Tuple[str, Optional[str]]], lexicons: Dict[str, TypeLexicon]) -> Tuple[List[str], List[str]]:
    """The type model's rows: written descriptions (and their neutral-tail copies) plus the knowledge base's own cues."""
    texts: List[str] = []
    labels: List[str] = []
    for text, label in with_neutral_tails(list(rows)):
        texts.append(clauses.emphasised(text))
        labels.append(label or NONE)
    for type_id, lex in lexicons.items():
        for lang_cues in lex.cues.values():
            texts += list(lang_cues)
            labels += [type_id] * len(lang_cues)
    return texts, labels


def move_training_set(moves: Iterable[Move]) -> Tuple[List[str], List[str]]:
    """The move model's rows: every move's examples in every language."""
    texts: List[str] = []
    labels: List[str] = []
    for move in moves:
        for lang in LANGS:
            examples = local(move.examples, lang)
            texts += examples
            labels += [move.id] * len(examples)
    return texts, labels


def build_move_model(moves: Sequence[Move]) -> Any:
    texts, labels = move_training_set(moves)
    return build_classifier(texts, labels)


def train_models(content: Content) -> Dict[str, Any]:
    """Every model the engine loads, keyed as engine/runtime.py reads them."""
    texts, labels = training_set(((r.text, r.type) for r in content.training if r.about_customer), lexicons(content.types))
    other = [r.text for r in content.training if not r.about_customer]
    return {
        "identifier": build_classifier(texts, labels),
        "gate": build_gate(texts + other, [True] * len(texts) + [False] * len(other)),
        "moves": build_move_model(content.moves.moves),
    }
