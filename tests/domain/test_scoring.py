"""Scoring rules: double deduction, rates, means, democratic score, annual total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from djctl.domain.scoring import (
    annual_total,
    democratic_score,
    mean_rate,
    monthly_rate,
    task_outcome,
)

D = Decimal


# --------------------------------------------------------------------------- double deduction


def test_worked_example_false_double_deduction():
    out = task_outcome(task="T1", full_x100=1000, self_x100=1000, verified_x100=600)
    assert out.false is True
    assert out.overclaim_x100 == 400
    assert out.final_x100 == 200
    assert out.deduction_x100 == 800
    assert out.penalty_x100 == 400
    assert out.formula == "10 − 2 × (10 − 6) = 2"


def test_verified_not_false_takes_verified():
    out = task_outcome(task="T1", full_x100=1000, self_x100=1000, verified_x100=600, false=False)
    assert out.false is False and out.final_x100 == 600 and out.deduction_x100 == 400
    assert out.formula == "核查得分 6"


def test_verified_above_self():
    out = task_outcome(task="T1", full_x100=1000, self_x100=700, verified_x100=900)
    assert out.false is False and out.overclaim_x100 == 0
    assert out.final_x100 == 900 and out.deduction_x100 == 0
    assert out.formula == "核查得分 9"


def test_unchecked_keeps_self():
    out = task_outcome(task="T1", full_x100=1000, self_x100=1000)
    assert out.false is None and out.final_x100 == 1000 and out.deduction_x100 == 0
    assert out.formula == "自评得分 10（未抽查）"
    assert not out.checked
    with pytest.raises(ValueError):
        task_outcome(task="T1", full_x100=1000, self_x100=1000, false=True)


def test_tolerance():
    within = task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=950, tolerance_x100=50)
    assert within.false is False and within.final_x100 == 950
    assert within.formula == "核查得分 9.5（多报 0.5，未超过容差 0.5，不认定虚假）"
    above = task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=940, tolerance_x100=50)
    assert above.false is True and above.final_x100 == 880
    # default tolerance 0: any overclaim is false
    assert task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=990).false is True
    assert task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=1000).false is False
    # an explicit mark beats the tolerance rule
    assert task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=950,
                        tolerance_x100=100, false=True).final_x100 == 900  # fmt: skip


def test_floor_at_zero():
    out = task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=300)
    assert out.final_x100 == 0 and out.deduction_x100 == 1000
    assert out.formula == "10 − 2 × (10 − 3) = −4，不低于 0，计 0"


def test_multiplier_one_and_a_half():
    out = task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=650, multiplier=D("1.5"))
    # 10 − 1.5 × 3.5 = 10 − 5.25 = 4.75
    assert out.final_x100 == 475
    assert out.formula == "10 − 1.5 × (10 − 6.5) = 4.75"
    # a product finer than 0.01 is rounded half-up first and shown
    odd = task_outcome(task="T", full_x100=1000, self_x100=1000, verified_x100=999, multiplier=D("1.5"))
    assert odd.final_x100 == 998  # 1.5 × 0.01 = 0.015 → 0.02
    assert odd.formula == "10 − 1.5 × (10 − 9.99) = 10 − 0.02 = 9.98"


def test_bad_points():
    with pytest.raises(ValueError, match="超过分值"):
        task_outcome(task="T", full_x100=1000, self_x100=1100)
    with pytest.raises(ValueError, match="不能为负数"):
        task_outcome(task="T", full_x100=1000, self_x100=500, verified_x100=-1)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2000).flatmap(
        lambda full: st.tuples(st.just(full), st.integers(0, full), st.one_of(st.none(), st.integers(0, full)))
    ),
    st.sampled_from([D(1), D("1.5"), D(2), D(3)]),
    st.integers(0, 100),
)
def test_deduction_properties(args, multiplier, tolerance):
    full, self_, verified = args
    out = task_outcome(task="T", full_x100=full, self_x100=self_, verified_x100=verified,
                       tolerance_x100=tolerance, multiplier=multiplier)  # fmt: skip
    assert 0 <= out.final_x100 <= full
    assert out.deduction_x100 == max(0, self_ - out.final_x100)
    if verified is None:
        assert out.final_x100 == self_
    elif out.false:
        assert out.final_x100 <= verified
        assert out.overclaim_x100 > tolerance
    else:
        assert out.final_x100 == verified


# --------------------------------------------------------------------------- rates and means


def test_monthly_rate():
    assert monthly_rate(8550, 10000) == D("85.50")
    assert monthly_rate(200, 300) == D("66.67")
    assert monthly_rate(100, 800) == D("12.50")
    assert monthly_rate(1, 800) == D("0.13")  # 0.125 half-up
    with pytest.raises(ValueError):
        monthly_rate(0, 0)


def test_mean_uses_rounded_figures():
    assert mean_rate([]) is None
    assert mean_rate([D("90"), D("85.5"), D("80")]) == D("85.17")
    assert mean_rate([D("0.01"), D("0.02")]) == D("0.02")  # 0.015 half-up
    # the rule: means are over the rounded monthly rates (66.67 + 66.67 + 100) / 3 = 77.78
    rates = [monthly_rate(200, 300), monthly_rate(200, 300), monthly_rate(300, 300)]
    assert rates == [D("66.67"), D("66.67"), D("100.00")]
    assert mean_rate(rates) == D("77.78")


def test_democratic_score():
    levels = {"好": D(100), "较好": D(80), "一般": D(60), "差": D(0)}
    assert democratic_score({}, levels) is None
    assert democratic_score({"好": 0, "差": 0}, levels) is None
    assert democratic_score({"好": 30, "较好": 10}, levels) == D("95.00")
    assert democratic_score({"好": 1, "较好": 1, "一般": 1}, levels) == D("80.00")
    assert democratic_score({"好": 2, "差": 1}, levels) == D("66.67")
    with pytest.raises(ValueError, match="不在方案中"):
        democratic_score({"优秀": 1}, levels)


# --------------------------------------------------------------------------- annual total


def test_annual_total_worked_example():
    res = annual_total(daily=D("88.5"), democratic=D("92"), bonus_x100_items=[300, 300],
                       deduction_x100_items=[1200])  # fmt: skip
    # 0.7 × 88.5 + 0.3 × 92 + min(6, 5) − min(12, 10) = 61.95 + 27.6 + 5 − 10 = 84.55
    assert res.total == D("84.55")
    assert res.bonus_raw == D(6) and res.bonus_capped == D(5)
    assert res.deduction_raw == D(12) and res.deduction_capped == D(10)
    assert res.steps[-1] == (
        "年度总分 = 0.7 × 88.5 + 0.3 × 92 + min(6, 5) − min(12, 10) = 61.95 + 27.6 + 5 − 10 = 84.55"
    )
    assert "加分项 3 + 3 = 6，封顶 5，计 5" in res.steps


def test_annual_total_rounds_once_and_says_missing_democratic():
    res = annual_total(daily=D("88.37"), democratic=None, bonus_x100_items=[], deduction_x100_items=[])
    # 0.7 × 88.37 = 61.859 → 61.86
    assert res.total == D("61.86")
    assert res.democratic is None
    assert "民主测评得分：无测评票，按 0 计" in res.steps
    assert res.steps[-1].endswith("= 61.859 ≈ 61.86（四舍五入保留两位小数）")


def test_annual_total_custom_weights_and_caps():
    res = annual_total(daily=D(80), democratic=D(90), bonus_x100_items=[150], deduction_x100_items=[50],
                       weight_daily=D("0.6"), weight_democratic=D("0.4"), bonus_cap=D(3), deduction_cap=D(5))  # fmt: skip
    assert res.total == D("85.00")  # 48 + 36 + 1.5 − 0.5
    with pytest.raises(ValueError):
        annual_total(daily=D(80), democratic=D(90), bonus_x100_items=[-1], deduction_x100_items=[])


# --------------------------------------------------------------------------- stored rates (issue 21)

from hypothesis import given as _given, settings as _settings, strategies as _st  # noqa: E402

from djctl.domain.scoring import mean_rate_x100, month_result, rate_of_x100, rate_x100  # noqa: E402


@_given(_st.lists(_st.integers(min_value=0, max_value=10000), max_size=12))
@_settings(max_examples=100, deadline=None)
def test_mean_rate_x100_is_mean_rate_on_stored_hundredths(values):
    want = mean_rate([rate_of_x100(v) for v in values])
    got = mean_rate_x100(values)
    assert (got is None and want is None) or (rate_of_x100(got) == want and rate_x100(want) == got)


@_given(_st.integers(min_value=0, max_value=20000), _st.integers(min_value=1, max_value=20000))
@_settings(max_examples=100, deadline=None)
def test_month_result_rate_is_monthly_rate(final, full):
    res = month_result(final, full)
    assert res.final_x100 == final and rate_of_x100(res.rate_x100) == monthly_rate(final, full)
    assert (res.deduction_x100, res.checked, res.false_tasks) == (0, False, ())


def test_month_result_of_a_checked_month():
    # 10 self, 6 verified, false → 2 (DESIGN §3); a task found above its self score counts the verified points
    false = task_outcome(task="T02", full_x100=1000, self_x100=1000, verified_x100=600, false=True)
    more = task_outcome(task="T03", full_x100=1500, self_x100=1400, verified_x100=1500)
    res = month_result(9550, 10000, [false, more])
    assert res == type(res)(9550 - 800 + 100, 8850, 800, True, ("T02",))
    assert month_result(0, 0).rate_x100 is None
