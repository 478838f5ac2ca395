"""Cohen's kappa and the agreement report, against worked examples with known values."""

from fractions import Fraction

import pytest

from annotations import Moment
from annotations.agreement import NO_CODE, cohen_kappa, compare


def table(cells: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    a, b = [], []
    for (x, y), count in cells.items():
        a += [x] * count
        b += [y] * count
    return a, b


@pytest.mark.parametrize(
    ("cells", "kappa"),
    [
        # Wikipedia, "Cohen's kappa", simple worked example: po 0.7, pe 0.5.
        ({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}, 0.4),
        # Wikipedia, same agreement (60%), different kappa.
        ({("yes", "yes"): 45, ("yes", "no"): 15, ("no", "yes"): 25, ("no", "no"): 15}, 0.1304),
        ({("yes", "yes"): 25, ("yes", "no"): 35, ("no", "yes"): 5, ("no", "no"): 35}, 0.2593),
        # Three categories: po 0.85, pe 0.355.
        (
            {
                ("a", "a"): 25,
                ("a", "b"): 2,
                ("a", "c"): 3,
                ("b", "a"): 3,
                ("b", "b"): 20,
                ("b", "c"): 2,
                ("c", "a"): 2,
                ("c", "b"): 3,
                ("c", "c"): 40,
            },
            0.7674,
        ),
    ],
)
def test_worked_examples(cells, kappa):
    assert cohen_kappa(*table(cells)) == pytest.approx(kappa, abs=5e-5)


def test_perfect_and_constant_agreement():
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == 1.0
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0


def m(ident: str, start: int, end: int, *codes: str) -> Moment:
    return Moment(ident, Fraction(start), Fraction(end), codes)


def test_compare_reproduces_the_worked_example_on_a_timeline():
    """50 one-second units: A codes 0-25 s, B codes 0-20 s and 25-35 s -> kappa 0.4."""
    a = [m("a1", 0, 25, "receiving")]
    b = [m("b1", 0, 20, "receiving"), m("b2", 25, 35, "receiving")]
    report = compare(a, b, Fraction(50), Fraction(1), "bob", "sue")
    assert report.units == 50
    assert report.kappa == pytest.approx(0.4)
    assert report.confusion == {
        "receiving": {"receiving": 20, NO_CODE: 5},
        NO_CODE: {"receiving": 10, NO_CODE: 15},
    }
    assert report.per_code[0].code == "receiving" and report.per_code[0].kappa == pytest.approx(0.4)
    assert report.only_a == [] and [x.id for x in report.only_b] == []


def test_moments_one_coder_lacks():
    a = [m("a1", 0, 5, "guiding"), m("a2", 10, 12, "attentive")]
    b = [m("b1", 1, 4, "guiding"), m("b2", 20, 22, "receiving")]
    report = compare(a, b, Fraction(30), Fraction(1))
    assert [x.id for x in report.only_a] == ["a2"]
    assert [x.id for x in report.only_b] == ["b2"]
    assert report.to_dict()["only_a"] == ["a2"]


def test_unit_changes_the_count():
    a = [m("a1", 0, 5, "guiding")]
    assert compare(a, a, Fraction(30), Fraction(1, 2)).units == 60
