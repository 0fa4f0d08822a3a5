"""Turn knowledge and engine results into short texts a person reads (cards, feedback)."""

from __future__ import annotations

from typing import List

from ..schema import STAGES, local
from ..store import KnowledgeBase
from .replies import MoveHit, ReplyScore
from .wording import CLAUSE_SEPARATOR, SENTENCE_GLUE


def stage_name(kb: KnowledgeBase, stage: str, lang: str) -> str:
    return next(local(s.names, lang) for s in kb.ui.stages if s.id == stage)


def type_card(kb: KnowledgeBase, type_id: str, lang: str) -> str:
    """Everything about one type, for `coach kb show` and trainers checking their edits."""
    t = kb.types[type_id]
    lines: List[str] = [f"# {local(t.names, lang)} ({type_id})", local(t.summary, lang), "", local(t.psychology, lang), ""]
    lines.append(f"{kb.text('heading_cues', lang)}: " + "; ".join(local(t.cues, lang)[:6]))
    for stage in STAGES:
        lines.append(f"\n## {stage_name(kb, stage, lang)}")
        lines += [f"- {local(x, lang)}" for x in getattr(t.tactics, stage)]
    lines.append(f"\n## {kb.text('heading_avoid', lang)}")
    lines += [f"- {local(p.avoid, lang)} ({local(p.why, lang)})" for p in t.pitfalls]
    lines.append(f"\n## {kb.text('heading_phrases', lang)}")
    lines += [f'- "{local(p, lang)}"' for p in t.phrases]
    lines.append(f"\nDISC {t.models.disc.code}: {local(t.models.disc, lang)}")
    lines.append(f"Social Styles {t.models.social_styles.code}: {local(t.models.social_styles, lang)}")
    lines.append(f"\n{kb.text('heading_sources', lang)}: " + "; ".join(f"{s.file} {s.section}" for s in t.sources))
    return "\n".join(lines)


def move_name(kb: KnowledgeBase, move_id: str, lang: str) -> str:
    return next(local(m.names, lang) for m in kb.moves.moves if m.id == move_id)


def shown_moves(result: ReplyScore) -> List[MoveHit]:
    """The moves a trainee is told about: the clearest one, plus the best and worst for the type if also clear."""
    picked: List[MoveHit] = []
    for hit in [*result.clear[:1], *result.best[:1], *result.worst[:1]]:
        if hit.move not in {h.move for h in picked}:
            picked.append(hit)
    return picked[:3]


def reading(kb: KnowledgeBase, result: ReplyScore, lang: str) -> str:
    """Which moves the reply was read as, each with the words that showed it."""
    return CLAUSE_SEPARATOR[lang].join(f"{move_name(kb, h.move, lang)} “{h.text[:80]}”" for h in shown_moves(result))


def reply_feedback(kb: KnowledgeBase, type_id: str, result: ReplyScore, lang: str) -> str:
    """One or two sentences about exactly the moves shown: which work with this type, which do not, and a
    better move when none works."""
    name = kb.type_name(type_id, lang)
    shown = shown_moves(result)
    parts: List[str] = []
    rubric = kb.types[type_id].practice.rubric
    defaults = {m.id: m.default_weight for m in kb.moves.moves}
    # praised only when the type's own rubric rewards the move, not merely the context's shift of the weight
    praised = [h for h in shown if h.weight > 0 and rubric.get(h.move, defaults.get(h.move, 0)) > 0]
    parts += [kb.text("feedback_good", lang, move=move_name(kb, h.move, lang), type=name) for h in praised][:1]
    parts += [kb.text("feedback_bad", lang, move=move_name(kb, h.move, lang), type=name) for h in shown if h.weight < 0][:1]
    if not shown:
        parts.append(kb.text("feedback_unclear", lang))
    if not praised:
        parts.append(kb.text("feedback_try", lang, move=move_name(kb, best_move(kb, type_id), lang)))
    return SENTENCE_GLUE[lang].join(parts)


def best_move(kb: KnowledgeBase, type_id: str) -> str:
    rubric = kb.types[type_id].practice.rubric
    return max(rubric, key=lambda m: rubric[m])
