"""A unit's standing on a day (domain/periods.py), the one rule `org list`, tiers and look-backs use."""

from __future__ import annotations

from datetime import date

from djctl.domain.periods import active_on, month_active, standing_on

D = date


def test_standing_is_inclusive_at_both_ends():
    start, end = D(2024, 3, 1), D(2024, 6, 30)
    assert standing_on(D(2024, 2, 29), start, end) == "未成立"
    assert standing_on(start, start, end) == "在册"
    assert standing_on(end, start, end) == "在册"
    assert standing_on(D(2024, 7, 1), start, end) == "已撤销"
    assert standing_on(D(1990, 1, 1), None, None) == "在册"


def test_active_on_agrees_with_standing_and_with_month_active():
    start, end = D(2024, 3, 15), D(2024, 5, 10)
    for day in (D(2024, 3, 14), D(2024, 3, 15), D(2024, 5, 10), D(2024, 5, 11)):
        assert active_on(day, start, end) == (standing_on(day, start, end) == "在册")
    # a month counts when any day of it is in the register
    assert [month_active(f"2024-{m:02d}", start, end) for m in (2, 3, 5, 6)] == [False, True, True, False]
