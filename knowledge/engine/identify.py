"""Name a customer's psychology type from a salesperson's description, with the words that showed it.

A linear model over character n-grams carries the judgement (it copes with typos, mixed
languages and Chinese without segmentation); the knowledge base's keywords, matched with spaCy
and read with negation, add evidence a salesperson can check and a nudge to the ranking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, TypedDict

from ..text import clean, detect_lang, has_words, normalise
from . import clauses
from .train import NONE, TypeLexicon

KEYWORD_BOOST = 0.12
# The settings that turn a raw read into a judgement, chosen together on held-out folds of the written training
# descriptions (scripts/cv_identify.py --calibrate, which prints the measurements named below) and checked on
# tests/data/identify_notes_dev.jsonl; tests/data/identify_notes_heldout.jsonl is never tuned on.
# Temperature: lowest expected calibration error of the top score on out-of-fold reads (5 folds, 2026-12, issue 24):
# en 0.031 / zh 0.024 at 0.8, against 0.035 / 0.045 at 1.0 and 0.064 / 0.079 at 1.1.
TEMPERATURE = 0.8
MIN_TYPE_SCORE = 0.22  # a type listed as the style or a trait; below half of it there is nothing to judge by
# "nothing to judge by" must beat the best type by this much: a description the model has not seen should not be lost
# to the large facts-only class (out-of-fold, at temperature 0.8: facts recognised en 0.957 / zh 0.942, false unknowns
# en 0.010 / zh 0.010 at 0.2, against 0.939 / 0.931 and 0.010 / 0.008 at 0.3, and 0.961 / 0.948, 0.012 / 0.012 at 0.15).
UNKNOWN_MARGIN = 0.2
# Too close to assert one: the top two within CLOSE_MARGIN of each other and holding CLOSE_MASS between them (else the
# right type is often neither). Out-of-fold at temperature 0.8: asks on en 8.0% / zh 6.2% of descriptions and the
# right type is one of the two in 92.5% / 91.9% of those, against 6.7% / 5.2% and 92.5% / 92.0% at 0.25, and
# 7.7% / 6.6%, 89.3% / 88.2% with a mass of 0.7; on tests/data/identify_notes_dev.jsonl see scripts/cv_identify.py --notes.
CLOSE_MARGIN = 0.3
CLOSE_MASS = 0.8
GATE_THRESHOLD = 0.7  # probability that a message is about a customer at all; tests/test_identify.py checks both sides


@dataclass(frozen=True)
class Settings:
    """How a raw read becomes a judgement (see the constants above); scripts/cv_identify.py tries other values."""

    temperature: float = TEMPERATURE
    min_type_score: float = MIN_TYPE_SCORE
    unknown_margin: float = UNKNOWN_MARGIN
    close_margin: float = CLOSE_MARGIN
    close_mass: float = CLOSE_MASS


@dataclass
class RawRead:
    """What the model and the keywords say about a text, before calibration and thresholds."""

    scores: Dict[str, float]  # per type: the model's probability plus the keyword boost, in 0..1
    p_none: float  # the model's probability that the text carries no psychological cue
    live_hits: bool  # a keyword was found and not negated


def calibrated(scores: Dict[str, float], temperature: float) -> Dict[str, float]:
    """Temperature scaling of the type scores: their total (the share the model gives to any type at all) is kept,
    and its spread over the types is flattened (temperature > 1) or sharpened (< 1) so that a top score of 0.7 is
    right about 70% of the time on descriptions the model has not seen."""
    if temperature == 1.0 or not scores:
        return dict(scores)
    mass = min(1.0, sum(scores.values()))
    logits = {t: math.log(max(s, 1e-6)) / temperature for t, s in scores.items()}
    top = max(logits.values())
    weights = {t: math.exp(v - top) for t, v in logits.items()}
    total = sum(weights.values())
    return {t: mass * w / total for t, w in weights.items()}


@dataclass
class Judgement:
    """judge()'s answer: the calibrated ranking, "nothing to judge by", and the two types too close to tell."""

    ranked: List[Tuple[str, float]]
    needs_more_info: bool
    close: Optional[Tuple[str, str]]


def judge(read: RawRead, settings: Settings = Settings()) -> Judgement:
    """Calibrated ranking, "nothing to judge by" (needs_more_info) and whether the top two are too close to tell."""
    ranked = sorted(calibrated(read.scores, settings.temperature).items(), key=lambda kv: -kv[1])
    needs_more = bool(
        (read.p_none >= ranked[0][1] + settings.unknown_margin and not read.live_hits) or ranked[0][1] < settings.min_type_score / 2
    )
    close = None
    if not needs_more and len(ranked) > 1:
        (first, s1), (second, s2) = ranked[0], ranked[1]
        if s1 - s2 < settings.close_margin and s1 + s2 >= settings.close_mass:
            close = (first, second)
    return Judgement(ranked, needs_more, close)


class KeywordHit(TypedDict):
    """A knowledge-base keyword found in a text: the label it belongs to and where; `text` is already normalised."""

    type: str
    start: int
    end: int
    text: str
    negated: bool


@dataclass
class Identification:
    """What a description says about the customer. `types`: every type with its calibrated score, best first.
    `close`: (best, second) when the two are too close to assert one (judge(): within CLOSE_MARGIN and holding
    CLOSE_MASS together), else None; never set with needs_more_info. The coach then names both and asks the question
    that separates them: KnowledgeBase.tell_apart(*close).question, with .sign_a / .sign_b as the two buttons."""

    types: List[Tuple[str, float]]
    needs_more_info: bool
    evidence: List[Dict[str, object]] = field(default_factory=list)
    style: Optional[str] = None
    traits: List[str] = field(default_factory=list)
    lang: str = "en"
    about_customer: bool = True
    close: Optional[Tuple[str, str]] = None

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
            "close": list(self.close) if self.close else None,
        }


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

    def find(self, text: str) -> List[KeywordHit]:
        """Keyword hits, the longest of overlapping ones per label; `text` is already normalised."""
        hits: List[KeywordHit] = []
        for lang, nlp in self.nlp.items():
            doc = nlp.make_doc(text)
            for match_id, s, e in self.matchers[lang](doc):
                span = doc[s:e]
                hits.append(
                    {
                        "type": nlp.vocab.strings[match_id],
                        "start": span.start_char,
                        "end": span.end_char,
                        "text": span.text,
                        "negated": clauses.negated_at(text, span.start_char),
                    }
                )
        # keep the longest of overlapping hits for one type
        hits.sort(key=lambda h: (h["start"], -(h["end"] - h["start"])))
        kept: List[KeywordHit] = []
        for h in hits:
            if any(k["type"] == h["type"] and k["start"] <= h["start"] < k["end"] for k in kept):
                continue
            kept.append(h)
        return kept


class Identifier:
    """Loads once, then identifies many descriptions quickly.

    `model` is the type model (engine/train.py: build_classifier), `gate` the about-a-customer model (without it
    every message counts as about a customer). `index_cues` indexes the cues for the evidence's "sounds like";
    it needs the model's first pipeline step to be its vectoriser (scripts/cv_identify.py compares other models
    without it). A lexicon with no keywords turns the keyword evidence and boost off.
    """

    def __init__(
        self,
        model: Any,
        lexicons: Dict[str, TypeLexicon],
        styles: Sequence[str],
        gate: Any = None,
        index_cues: bool = True,
        settings: Settings = Settings(),
    ):
        self.model = model
        self.settings = settings
        self.gate = gate
        self.lexicons = lexicons
        self.styles = list(styles)
        self.classes: List[str] = list(model.classes_)
        self.matcher = Matcher({t: lex.keywords for t, lex in lexicons.items()})
        self._cue_index = self._index_cues() if index_cues else ([], None)

    def _index_cues(self) -> Tuple[List[Tuple[str, str]], Any]:
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

    def raw_read(self, norm: str) -> Tuple[RawRead, List[KeywordHit]]:
        """The model's probabilities with the keyword boost, for a normalised text."""
        probs = {c: float(p) for c, p in zip(self.classes, self.model.predict_proba([clauses.emphasised(norm)])[0], strict=False)}
        hits = self.matcher.find(norm)
        boost: Dict[str, float] = {}
        for h in hits:
            boost[h["type"]] = boost.get(h["type"], 0.0) + (-0.5 if h["negated"] else 1.0) * KEYWORD_BOOST
        p_none = probs.pop(NONE, 0.0)
        scores = {t: min(1.0, max(0.0, p + boost.get(t, 0.0))) for t, p in probs.items()}
        live_hits = [h for h in hits if not h["negated"]]
        return RawRead(scores, p_none, bool(live_hits)), live_hits

    def identify(self, raw: object) -> Identification:
        text = clean(raw)
        lang = detect_lang(text)
        if len(text) < 3 or not has_words(text):
            return Identification(types=[], needs_more_info=True, lang=lang)
        norm = normalise(text)
        read, live_hits = self.raw_read(norm)
        judged = judge(read, self.settings)
        ranked = judged.ranked
        style = next((t for t, s in ranked if t in self.styles and s >= self.settings.min_type_score), None)
        traits = [t for t, s in ranked if t not in self.styles and s >= self.settings.min_type_score]
        result = Identification(
            ranked,
            judged.needs_more_info,
            style=style,
            traits=traits,
            lang=lang,
            about_customer=bool(live_hits) or self.is_about_customer(norm),
            close=judged.close,
        )
        if not judged.needs_more_info:
            result.evidence = self._evidence(text, norm, [t for t, _ in ranked[:3]], live_hits)
        return result

    def is_about_customer(self, norm: str) -> bool:
        if self.gate is None:
            return True
        return bool(self.gate.predict_proba([norm])[0][list(self.gate.classes_).index(True)] >= GATE_THRESHOLD)

    def _evidence(self, text: str, norm: str, top: List[str], hits: List[KeywordHit]) -> List[Dict[str, object]]:
        """For each top type: the spans of the description that point to it and the cue each matched."""
        ranked: List[Tuple[int, float, Dict[str, object]]] = []  # (rank of the type, -weight, item) for sorting
        source = text if len(text) == len(norm) else norm  # offsets hold when normalising kept the length
        parts = [c for c in clauses.split(norm) if len(c.text) >= 2]
        if parts:
            clause_probs = self.model.predict_proba([c.text for c in parts])
            for clause, row in zip(parts, clause_probs, strict=False):
                best = max(range(len(row)), key=lambda i: row[i])
                type_id = self.classes[best]
                if type_id in top and row[best] >= 0.25:
                    weight = round(float(row[best]), 3)
                    ranked.append(
                        (
                            top.index(type_id),
                            -weight,
                            {
                                "type": type_id,
                                "text": source[clause.start : clause.end],
                                "start": clause.start,
                                "end": clause.end,
                                "cue": self.nearest_cue(type_id, clause.text),
                                "weight": weight,
                            },
                        )
                    )
        for h in hits:
            if h["type"] in top:
                ranked.append(
                    (
                        top.index(h["type"]),
                        -KEYWORD_BOOST,
                        {
                            "type": h["type"],
                            "text": source[h["start"] : h["end"]],
                            "start": h["start"],
                            "end": h["end"],
                            "cue": h["text"],
                            "weight": KEYWORD_BOOST,
                        },
                    )
                )
        ranked.sort(key=lambda r: (r[0], r[1]))  # stable, as the item-keyed sort was
        return [item for _, _, item in ranked]
