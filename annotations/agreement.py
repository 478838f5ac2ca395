"""Agreement between two coders of the same recording, for supervision.

Time is cut into units (1 s by default). In each unit a coder's label is the first code of
the earliest of their moments covering the unit's midpoint, or "no code". Cohen's kappa
compares the two label sequences; per code, kappa compares presence and absence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from .codebook import Codebook
from .errors import AnnotationError
from .model import Annotations, Moment

NO_CODE = "(no code)"


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two equally long label sequences (1.0 when both are constant and equal)."""
    if len(a) != len(b) or not a:
        raise AnnotationError("agreement needs two label sequences of the same, non-zero length")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if math.isclose(expected, 1.0):
        return 1.0 if math.isclose(observed, 1.0) else 0.0
    return (observed - expected) / (1 - expected)


def unit_labels(moments: list[Moment], duration: Fraction, unit: Fraction) -> list[str]:
    if unit <= 0:
        raise AnnotationError("the time unit must be more than 0 s")
    ordered = sorted(
        (m for m in moments if m.end is not None and m.codes), key=lambda m: (m.start, m.id)
    )
    count = math.ceil(duration / unit)
    labels = []
    for k in range(count):
        middle = (k * unit + min((k + 1) * unit, duration)) / 2
        covering = next((m for m in ordered if m.covers(middle)), None)
        labels.append(covering.codes[0] if covering else NO_CODE)
    return labels


def presence(moments: list[Moment], code: str, duration: Fraction, unit: Fraction) -> list[bool]:
    count = math.ceil(duration / unit)
    result = []
    for k in range(count):
        middle = (k * unit + min((k + 1) * unit, duration)) / 2
        result.append(any(code in m.codes and m.covers(middle) for m in moments))
    return result


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    kappa: float
    agreement: float  # share of units where both agree on presence/absence
    units_a: int
    units_b: int


@dataclass(frozen=True)
class AgreementReport:
    coder_a: str
    coder_b: str
    unit: Fraction
    units: int
    kappa: float
    agreement: float
    per_code: list[CodeAgreement]
    confusion: dict[str, dict[str, int]]  # label of A -> label of B -> units
    only_a: list[Moment]  # moments of A that no moment of B overlaps with a shared code
    only_b: list[Moment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "coders": [self.coder_a, self.coder_b],
            "unit_seconds": str(self.unit),
            "units": self.units,
            "kappa": round(self.kappa, 4),
            "agreement": round(self.agreement, 4),
            "per_code": [
                {
                    "code": c.code,
                    "kappa": round(c.kappa, 4),
                    "agreement": round(c.agreement, 4),
                    "units_a": c.units_a,
                    "units_b": c.units_b,
                }
                for c in self.per_code
            ],
            "confusion": self.confusion,
            "only_a": [m.id for m in self.only_a],
            "only_b": [m.id for m in self.only_b],
        }


def _unmatched(mine: list[Moment], theirs: list[Moment]) -> list[Moment]:
    return [
        m for m in mine if not any(m.overlaps(o) and set(m.codes) & set(o.codes) for o in theirs)
    ]


def compare(
    moments_a: list[Moment],
    moments_b: list[Moment],
    duration: Fraction,
    unit: Fraction = Fraction(1),
    coder_a: str = "A",
    coder_b: str = "B",
    order: Sequence[str] = (),
) -> AgreementReport:
    """``order``: the codes' order in ``per_code`` (the codebook's); others follow by name."""
    labels_a = unit_labels(moments_a, duration, unit)
    labels_b = unit_labels(moments_b, duration, unit)
    confusion: dict[str, dict[str, int]] = {}
    for x, y in zip(labels_a, labels_b, strict=True):
        confusion.setdefault(x, {}).setdefault(y, 0)
        confusion[x][y] += 1
    rank = {code: n for n, code in enumerate(order)}
    codes = sorted(
        {c for m in moments_a + moments_b for c in m.codes},
        key=lambda c: (rank.get(c, len(rank)), c),
    )
    per_code = []
    for code in codes:
        pa = presence(moments_a, code, duration, unit)
        pb = presence(moments_b, code, duration, unit)
        agree = sum(x == y for x, y in zip(pa, pb, strict=True)) / len(pa)
        per_code.append(
            CodeAgreement(
                code,
                cohen_kappa([str(x) for x in pa], [str(y) for y in pb]),
                agree,
                sum(pa),
                sum(pb),
            )
        )
    observed = sum(x == y for x, y in zip(labels_a, labels_b, strict=True)) / len(labels_a)
    return AgreementReport(
        coder_a,
        coder_b,
        unit,
        len(labels_a),
        cohen_kappa(labels_a, labels_b),
        observed,
        per_code,
        confusion,
        _unmatched(moments_a, moments_b),
        _unmatched(moments_b, moments_a),
    )


def by_principle(moments: list[Moment], book: Codebook) -> list[Moment]:
    """The moments with each code replaced by its principle (VIG agreement is on principles:
    "Looking interested" and "Being attentive" agree)."""
    return [
        replace(m, codes=tuple(dict.fromkeys(book.category_of(c).id for c in m.codes)))
        for m in moments
    ]


def compare_coders(
    model: Annotations, coder_a: str, coder_b: str, duration: Fraction, book: Codebook
) -> AgreementReport:
    """Two coders of one recording compared on principles."""
    return compare(
        by_principle(model.by_coder(coder_a), book),
        by_principle(model.by_coder(coder_b), book),
        duration,
        coder_a=coder_a,
        coder_b=coder_b,
        order=[category.id for category in book.categories],  # principles 1–6, not A–Z
    )
