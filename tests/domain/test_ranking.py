"""Ranking and grades (DESIGN §3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from djctl.domain.points import round2
from djctl.domain.ranking import (
    assign_grades,
    competition_ranks,
    grade_for,
    grade_rule_text,
    grade_thresholds,
)

D = Decimal


def test_competition_ranks_with_ties():
    ranks = competition_ranks({"A": D("95"), "B": D("90"), "C": D("90.00"), "D": D("80")})
    assert ranks == {"A": 1, "B": 2, "C": 2, "D": 4}
    assert list(ranks) == ["A", "B", "C", "D"]


def test_ties_compared_after_rounding():
    ranks = competition_ranks({"x": D("88.004"), "y": D("88.001"), "z": D("88.005")})
    # 88.005 → 88.01 (half-up) ranks first; 88.004 and 88.001 both → 88.00 and share rank 2
    assert ranks == {"z": 1, "x": 2, "y": 2}


def test_ranks_are_deterministic_regardless_of_input_order():
    a = competition_ranks({"b": D(1), "a": D(1), "c": D(2)})
    b = competition_ranks({"c": D(2), "a": D(1), "b": D(1)})
    assert a == b and list(a) == list(b) == ["c", "a", "b"]
    assert competition_ranks({}) == {}


def _g(rank, n, total=D(90), **kw):
    return grade_for(rank, n, total=total, **kw)


def test_grade_boundaries_n10():
    # 好: rank ≤ ceil(0.2 × 10) = 2; 较好: rank ≤ ceil(0.6 × 10) = 6
    assert [_g(r, 10) for r in range(1, 11)] == ["好"] * 2 + ["较好"] * 4 + ["一般"] * 4
    assert [t[2] for t in grade_thresholds(10)] == [2, 6]


def test_grade_boundaries_n7():
    # 好: ceil(1.4) = 2; 较好: ceil(4.2) = 5
    assert [_g(r, 7) for r in range(1, 8)] == ["好", "好", "较好", "较好", "较好", "一般", "一般"]


def test_exact_decimals_at_boundary():
    # 0.2 × 5 = 1 exactly (not 2 from a float 1.0000000000000002); 0.6 × 5 = 3
    assert [_g(r, 5) for r in range(1, 6)] == ["好", "较好", "较好", "一般", "一般"]
    # (0.1 + 0.2) × 10 = 3 exactly; a float sum would give ceil(3.0000000000000004) = 4
    grades = [("好", D("0.1")), ("较好", D("0.2"))]
    assert [_g(r, 10, grades=grades) for r in (3, 4)] == ["较好", "一般"]


def test_tie_at_boundary_takes_higher_grade():
    totals = {"A": D(99), "B": D(95), "C": D(95), "D": D(90), "E": D(89), "F": D(88), "G": D(87),
              "H": D(86), "I": D(85), "J": D(84)}  # fmt: skip
    res = assign_grades(totals)
    assert [(c, r.rank, r.grade) for c, r in res.items()][:4] == [
        ("A", 1, "好"), ("B", 2, "好"), ("C", 2, "好"), ("D", 4, "较好"),
    ]  # fmt: skip
    # a tie straddling the 较好 line (rank 6 ≤ 6) stays 较好 for both
    totals2 = dict(totals, F=D(87), G=D(87))
    res2 = assign_grades(totals2)
    assert res2["F"].rank == res2["G"].rank == 6
    assert res2["F"].grade == res2["G"].grade == "较好"
    assert res2["H"].grade == "一般"


def test_veto_and_fail_below():
    assert _g(1, 10, veto=True) == "差"
    assert _g(1, 10, total=D("59.99")) == "差"
    assert _g(1, 10, total=D("59.995")) == "好"  # rounds to 60.00, not below 60
    assert _g(1, 10, total=D(60)) == "好"
    assert _g(1, 10, total=None) == "好"
    assert _g(1, 10, total=D(50), fail_below=None) == "好"
    res = assign_grades({"A": D(95), "B": D(90), "C": D(55)}, vetoes={"A"})
    assert res["A"].grade == "差" and res["A"].rank == 1
    assert res["A"].reason == "有一票否决事项，评为「差」"
    assert res["C"].grade == "差" and "低于 60" in res["C"].reason
    assert res["B"].grade == "较好"  # rank 2 of 3: 好 ≤ ceil(0.6) = 1, 较好 ≤ ceil(1.8) = 2


def test_grade_rule_text():
    text = grade_rule_text(3, 10, total=D(90))
    assert text == (
        "共 10 个单位参加排名，「好」为前 ceil(0.2 × 10) = 2 名，「较好」为前 ceil((0.2 + 0.4) × 10) = 6 名；"
        "第 3 名评为「较好」"
    )
    assert grade_rule_text(8, 10, total=D(90)).endswith("第 8 名不在以上范围，评为「一般」")


def test_scheme_style_grades_and_bad_rank():
    assert grade_for(1, 3, [{"优秀": 0.3}], "合格", total=D(90)) == "优秀"
    assert grade_for(2, 3, [{"优秀": 0.3}], "合格", total=D(90)) == "合格"
    with pytest.raises(ValueError):
        grade_for(0, 3, total=D(90))
    with pytest.raises(ValueError):
        grade_for(4, 3, total=D(90))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=3),
                       st.decimals(min_value=0, max_value=100, places=3), min_size=1, max_size=30))  # fmt: skip
def test_rank_properties(scores):
    ranks = competition_ranks(scores)
    assert set(ranks) == set(scores)
    rounded = {c: round2(v) for c, v in scores.items()}
    for c, r in ranks.items():
        assert r == 1 + sum(1 for v in rounded.values() if v > rounded[c])
    res = assign_grades(scores)
    order = {"好": 0, "较好": 1, "一般": 2, "差": 3}
    for a in res.values():
        for b in res.values():
            if a.rank < b.rank and a.grade != "差" and b.grade != "差":
                assert order[a.grade] <= order[b.grade]
