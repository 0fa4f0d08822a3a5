"""Turn knowledge and engine results into short texts a person reads (cards, feedback)."""
from __future__ import annotations

from typing import List

from ..schema import STAGES
from ..store import KnowledgeBase
from .replies import ReplyScore


def stage_name(kb: KnowledgeBase, stage: str, lang: str) -> str:
    return next(getattr(s.names, lang) for s in kb.ui.stages if s.id == stage)


def type_card(kb: KnowledgeBase, type_id: str, lang: str) -> str:
    """Everything about one type, for `coach kb show` and trainers checking their edits."""
    t = kb.types[type_id]
    pick = lambda obj: getattr(obj, lang)  # noqa: E731
    lines: List[str] = [f"# {pick(t.names)} ({type_id})", pick(t.summary), "", pick(t.psychology), ""]
    lines.append(f"{kb.text('heading_cues', lang)}: " + "; ".join(pick(t.cues)[:6]))
    for stage in STAGES:
        lines.append(f"\n## {stage_name(kb, stage, lang)}")
        lines += [f"- {pick(x)}" for x in getattr(t.tactics, stage)]
    lines.append(f"\n## {kb.text('heading_avoid', lang)}")
    lines += [f"- {pick(p.avoid)} ({pick(p.why)})" for p in t.pitfalls]
    lines.append(f"\n## {kb.text('heading_phrases', lang)}")
    lines += [f"- \"{pick(p)}\"" for p in t.phrases]
    lines.append(f"\nDISC {t.models.disc.code}: {pick(t.models.disc)}")
    lines.append(f"Social Styles {t.models.social_styles.code}: {pick(t.models.social_styles)}")
    lines.append(f"\n{kb.text('heading_sources', lang)}: " + "; ".join(f"{s.file} {s.section}" for s in t.sources))
    return "\n".join(lines)


def move_name(kb: KnowledgeBase, move_id: str, lang: str) -> str:
    return next(getattr(m.names, lang) for m in kb.moves.moves if m.id == move_id)


def reply_feedback(kb: KnowledgeBase, type_id: str, result: ReplyScore, lang: str) -> str:
    """One or two sentences: what worked with this type, what did not, and a better move."""
    name = kb.type_name(type_id, lang)
    parts: List[str] = []
    if result.best:
        parts.append(kb.text("feedback_good", lang, move=move_name(kb, result.best[0].move, lang), type=name))
    if result.worst:
        parts.append(kb.text("feedback_bad", lang, move=move_name(kb, result.worst[0].move, lang), type=name))
    if not result.clear:
        parts.append(kb.text("feedback_unclear", lang))
    if not result.best:
        parts.append(kb.text("feedback_try", lang, move=move_name(kb, best_move(kb, type_id), lang)))
    return " ".join(parts)


def best_move(kb: KnowledgeBase, type_id: str) -> str:
    rubric = kb.types[type_id].practice.rubric
    return max(rubric, key=lambda m: rubric[m])
