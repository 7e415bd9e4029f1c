"""Branch tiers: order, rates and movements."""

from __future__ import annotations

from decimal import Decimal

import pytest

from djctl.domain.tiers import (
    DIMENSIONS,
    TIERS,
    down_one,
    movements,
    normalize_tier,
    steps_up,
    tier_counts,
    tier_level,
    tier_rates,
)


def test_order_and_names():
    assert TIERS == ("未达标", "达标", "过硬", "示范")
    assert [tier_level(t) for t in TIERS] == [0, 1, 2, 3]
    assert tier_level("示范支部") == 3
    assert normalize_tier(" 过硬支部 ") == "过硬"
    assert normalize_tier("未达标支部") == "未达标"
    assert len(DIMENSIONS) == 7 and DIMENSIONS[0] == "政治统领"
    with pytest.raises(ValueError, match="支部等次「优秀」无效"):
        tier_level("优秀")
    with pytest.raises(ValueError):
        tier_level("支部")


def test_down_one_and_steps():
    assert down_one("示范") == "过硬"
    assert down_one("过硬支部") == "达标"
    assert down_one("达标") == "未达标"
    assert down_one("未达标") == "未达标"
    assert steps_up("达标", "示范") == 2
    assert steps_up("示范", "达标支部") == -2
    assert steps_up("过硬", "过硬") == 0


def test_tier_rates():
    std, strong = tier_rates({"示范": 2, "过硬": 4, "达标": 12, "未达标": 2})
    assert std == Decimal("0.9000")  # 18 / 20
    assert strong == Decimal("0.3333")  # 6 / 18
    std, strong = tier_rates({"示范支部": 1, "达标支部": 1, "未达标支部": 1})
    assert std == Decimal("0.6667") and strong == Decimal("0.5000")
    assert tier_rates({}) == (None, None)
    assert tier_rates({"未达标": 3}) == (Decimal("0.0000"), None)
    with pytest.raises(ValueError):
        tier_rates({"优秀": 1})


def test_tier_counts():
    assert tier_counts(["示范", "达标支部", "达标"]) == {"示范": 1, "过硬": 0, "达标": 2, "未达标": 0}


def test_movements():
    res = movements([("达标", "过硬"), ("示范", "过硬"), ("达标", "达标"), (None, "达标"),
                     ("达标支部", "示范支部"), ("过硬", None)])  # fmt: skip
    assert res["up"] == 2 and res["down"] == 1 and res["same"] == 1 and res["new"] == 1
    assert res["total"] == 5
    assert res["matrix"]["达标"]["过硬"] == 1
    assert res["matrix"]["达标"]["示范"] == 1
    assert res["matrix"]["示范"]["过硬"] == 1
    assert res["matrix"]["未达标"] == {t: 0 for t in TIERS}
    assert set(res["matrix"]) == set(TIERS)
