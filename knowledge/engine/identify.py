"""Name a customer's psychology type from a salesperson's description, with the words that showed it.

A linear model over character n-grams carries the judgement (it copes with typos, mixed
languages and Chinese without segmentation); the knowledge base's keywords, matched with spaCy
and read with negation, add evidence a salesperson can check and a nudge to the ranking.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..text import clean, detect_lang, has_words, normalise
from . import clauses

NONE = "none"  # the class for descriptions that carry no psychological cue
KEYWORD_BOOST = 0.12
MIN_TYPE_SCORE = 0.22
# "nothing to judge by" must beat the best type by this much: a description the model has not seen should
# not be lost to the large facts-only class (fixed-fold CV: facts recognised en 0.942 / zh 0.938, false unknowns
# en 0.018 / zh 0.011 at 0.3, against 0.975 / 0.967 and 0.029 / 0.018 at 0)
UNKNOWN_MARGIN = 0.3
GATE_THRESHOLD = 0.7  # probability that a message is about a customer at all; tests/test_coaching.py holds the rates


@dataclass
class TypeLexicon:
    """What the knowledge base says a type sounds like."""

    cues: Dict[str, List[str]]  # lang -> example descriptions
    keywords: Dict[str, List[str]]  # lang -> short markers


@dataclass
class Identification:
    types: List[Tuple[str, float]]
    needs_more_info: bool
    evidence: List[Dict[str, object]] = field(default_factory=list)
    style: Optional[str] = None
    traits: List[str] = field(default_factory=list)
    lang: str = "en"
    about_customer: bool = True

    @property
    def top(self) -> Optional[str]:
        return None if self.needs_more_info or not self.types else self.types[0][0]

    def to_json(self) -> Dict[str, object]:
        return {
            "types": [{"id": t, "score": round(s, 4)} for t, s in self.types],
            "needs_more_info": self.needs_more_info,
            "style": self.style,
            "traits": self.traits,
            "evidence": self.evidence,
            "lang": self.lang,
            "about_customer": self.about_customer,
        }


def _features():
    """Character n-grams (both languages, no segmentation, typo-tolerant) plus English words and word pairs."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b[a-z][a-z']+\b"),
    )


def build_classifier(texts: Sequence[str], labels: Sequence[str]):
    """The type model: the features into a linear SVM with calibrated probabilities.

    Chosen by scripts/cv_identify.py: as accurate as logistic regression here, and 10-20x faster to train.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=0.5, class_weight="balanced")
    model = make_pipeline(_features(), CalibratedClassifierCV(svm, cv=3, method="sigmoid"))
    model.fit([normalise(t) for t in texts], np.asarray(labels))
    return model


def build_gate(texts: Sequence[str], about_customer: Sequence[bool]):
    """Is a message about a customer at all? Kept apart from the type model so small talk ("today was rough")
    can be turned away without teaching the type model that moods and complaints mean "nothing to judge by"."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(_features(), LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000))
    model.fit([normalise(t) for t in texts], np.asarray(about_customer))
    return model


def with_neutral_tails(rows: Sequence[Tuple[str, Optional[str]]]) -> List[Tuple[str, Optional[str]]]:
    """Each description once more with a cue-free row of its language appended (a budget, "what do I do?").

    Without it, words that only occur in cue-free rows pull a description that ends in a question or
    a fact towards "nothing to judge by"; appended, they read as neutral and the type stays.
    """
    neutral: Dict[str, List[str]] = {"en": [], "zh": []}
    for text, label in rows:
        if label is None:
            neutral[detect_lang(text)].append(text)
    out = list(rows)
    for n, (text, label) in enumerate(r for r in rows if r[1] is not None):
        lang = detect_lang(text)
        if neutral[lang]:
            joiner = "，" if lang == "zh" else ". "
            out.append((f"{text.rstrip('。.!！ ')}{joiner}{neutral[lang][n % len(neutral[lang])]}", label))
    return out


def training_set(rows: Iterable[Tuple[str, Optional[str]]], lexicons: Dict[str, TypeLexicon]) -> Tuple[List[str], List[str]]:
    """Written training descriptions (and their neutral-tail copies) plus the knowledge base's own cues."""
    texts, labels = [], []
    for text, label in with_neutral_tails(list(rows)):
        texts.append(clauses.emphasised(text))
        labels.append(label or NONE)
    for type_id, lex in lexicons.items():
        for lang_cues in lex.cues.values():
            texts += list(lang_cues)
            labels += [type_id] * len(lang_cues)
    return texts, labels


class Matcher:
    """spaCy PhraseMatchers over knowledge-base keywords (word-level English, character-level Chinese)."""

    def __init__(self, keywords: Dict[str, Dict[str, List[str]]]):
        import spacy
        from spacy.matcher import PhraseMatcher

        self.nlp = {"en": spacy.blank("en"), "zh": spacy.blank("zh")}
        self.matchers = {}
        for lang, nlp in self.nlp.items():
            matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            for label, by_lang in keywords.items():
                patterns = [nlp.make_doc(normalise(k)) for k in by_lang.get(lang, []) if k.strip()]
                if patterns:
                    matcher.add(label, patterns)
            self.matchers[lang] = matcher

    def find(self, text: str) -> List[Dict[str, object]]:
        """Keyword hits as {type (the label), start, end, text, negated}; `text` is already normalised."""
        hits = []
        for lang, nlp in self.nlp.items():
            doc = nlp.make_doc(text)
            for match_id, s, e in self.matchers[lang](doc):
                span = doc[s:e]
                hits.append({
                    "type": nlp.vocab.strings[match_id],
                    "start": span.start_char,
                    "end": span.end_char,
                    "text": span.text,
                    "negated": clauses.negated_at(text, span.start_char),
                })
        # keep the longest of overlapping hits for one type
        hits.sort(key=lambda h: (h["start"], -(h["end"] - h["start"])))
        kept: List[Dict[str, object]] = []
        for h in hits:
            if any(k["type"] == h["type"] and k["start"] <= h["start"] < k["end"] for k in kept):
                continue
            kept.append(h)
        return kept


class Identifier:
    """Loads once, then identifies many descriptions quickly."""

    def __init__(self, model, lexicons: Dict[str, TypeLexicon], styles: Sequence[str], gate=None):
        self.model = model
        self.gate = gate
        self.lexicons = lexicons
        self.styles = list(styles)
        self.classes = list(model.classes_)
        self.matcher = Matcher({t: lex.keywords for t, lex in lexicons.items()})
        self._cue_index = self._index_cues()

    def _index_cues(self):
        vectoriser = self.model.steps[0][1]
        cues = [(t, c) for t, lex in self.lexicons.items() for lang in lex.cues.values() for c in lang]
        matrix = vectoriser.transform([normalise(c) for _, c in cues]) if cues else None
        return cues, matrix

    def nearest_cue(self, type_id: str, span: str) -> Optional[str]:
        cues, matrix = self._cue_index
        if matrix is None:
            return None
        vec = self.model.steps[0][1].transform([normalise(span)])
        sims = (matrix @ vec.T).toarray().ravel()
        best = max((i for i, (t, _) in enumerate(cues) if t == type_id), key=lambda i: sims[i], default=None)
        return None if best is None else cues[best][1]

    def identify(self, raw: object) -> Identification:
        text = clean(raw)
        lang = detect_lang(text)
        if len(text) < 3 or not has_words(text):
            return Identification(types=[], needs_more_info=True, lang=lang)
        norm = normalise(text)
        probs = {c: float(p) for c, p in zip(self.classes, self.model.predict_proba([clauses.emphasised(norm)])[0], strict=False)}
        hits = self.matcher.find(norm)
        boost: Dict[str, float] = {}
        for h in hits:
            boost[h["type"]] = boost.get(h["type"], 0.0) + (-0.5 if h["negated"] else 1.0) * KEYWORD_BOOST
        p_none = probs.pop(NONE, 0.0)
        scores = {t: min(1.0, max(0.0, p + boost.get(t, 0.0))) for t, p in probs.items()}
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        live_hits = [h for h in hits if not h["negated"]]
        needs_more = bool((p_none >= ranked[0][1] + UNKNOWN_MARGIN and not live_hits) or ranked[0][1] < MIN_TYPE_SCORE / 2)
        style = next((t for t, s in ranked if t in self.styles and s >= MIN_TYPE_SCORE), None)
        traits = [t for t, s in ranked if t not in self.styles and s >= MIN_TYPE_SCORE]
        result = Identification(ranked, needs_more, style=style, traits=traits, lang=lang,
                                about_customer=bool(live_hits) or self.is_about_customer(norm))
        if not needs_more:
            result.evidence = self._evidence(text, norm, [t for t, _ in ranked[:3]], live_hits)
        return result

    def is_about_customer(self, norm: str) -> bool:
        if self.gate is None:
            return True
        return bool(self.gate.predict_proba([norm])[0][list(self.gate.classes_).index(True)] >= GATE_THRESHOLD)

    def _evidence(self, text: str, norm: str, top: List[str], hits: List[Dict[str, object]]) -> List[Dict[str, object]]:
        """For each top type: the spans of the description that point to it and the cue each matched."""
        evidence: List[Dict[str, object]] = []
        source = text if len(text) == len(norm) else norm  # offsets hold when normalising kept the length
        parts = [c for c in clauses.split(norm) if len(c.text) >= 2]
        if parts:
            clause_probs = self.model.predict_proba([c.text for c in parts])
            for clause, row in zip(parts, clause_probs, strict=False):
                best = max(range(len(row)), key=lambda i: row[i])
                type_id = self.classes[best]
                if type_id in top and row[best] >= 0.25:
                    evidence.append({
                        "type": type_id, "text": source[clause.start:clause.end], "start": clause.start,
                        "end": clause.end, "cue": self.nearest_cue(type_id, clause.text), "weight": round(float(row[best]), 3),
                    })
        for h in hits:
            if h["type"] in top:
                evidence.append({"type": h["type"], "text": source[h["start"]:h["end"]], "start": h["start"],
                                 "end": h["end"], "cue": h["text"], "weight": KEYWORD_BOOST})
        evidence.sort(key=lambda e: (top.index(e["type"]), -float(e["weight"])))
        return evidence
