"""Counts and time per category, per session and across a case: what a progress chart needs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from .codebook import Codebook
from .model import Moment


@dataclass(frozen=True)
class CategoryTotals:
    category: str
    label: str
    moments: int
    seconds: Fraction


def session_summary(moments: list[Moment], codebook: Codebook) -> list[CategoryTotals]:
    """Per category (principle): how many moments carry one of its codes, and their total time."""
    counts: dict[str, int] = defaultdict(int)
    seconds: dict[str, Fraction] = defaultdict(Fraction)
    for moment in moments:
        categories = {codebook.category_of(c).id for c in moment.codes if codebook.find(c)}
        for category in categories:
            counts[category] += 1
            seconds[category] += moment.duration
    return [CategoryTotals(c.id, c.label, counts[c.id], seconds[c.id]) for c in codebook.categories]


def case_progress(
    sessions: list[tuple[date, list[Moment]]], codebook: Codebook, programme_start: date
) -> list[dict[str, Any]]:
    """One row per session, by programme week: moments and seconds per category."""
    rows = []
    for when, moments in sorted(sessions, key=lambda s: s[0]):
        totals = session_summary(moments, codebook)
        rows.append(
            {
                "date": when.isoformat(),
                "week": (when - programme_start).days // 7 + 1,
                "moments": len(moments),
                "by_category": {
                    t.category: {"moments": t.moments, "seconds": float(t.seconds)} for t in totals
                },
            }
        )
    return rows
