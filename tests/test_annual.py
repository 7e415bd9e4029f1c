"""Quarter and annual scores against figures computed by hand from DESIGN §3."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from math import ceil

import pytest

from tests.helpers import json_out
from tests.store_builder import Builder


def r2(x) -> Decimal:
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def city(cli, store):
    """Five units, two groups, Q1 only reported (other months missing), tasks A=60 and B=40 points."""
    assert cli("init").exit_code == 0
    b = Builder(store)
    b.units([("U1", "甲组"), ("U2", "甲组"), ("U3", "乙组"), ("U4", "乙组"), ("U5", "乙组")])
    for m in range(1, 13):
        b.tasks(f"2024-{m:02d}", {"A": 60, "B": 40})
    # Q1 self scores (hundredths): U1 and U2 identical so they tie
    q1 = {"U1": [(6000, 4000), (5000, 3000), (6000, 3500)],
          "U2": [(6000, 4000), (5000, 3000), (6000, 3500)],
          "U3": [(5500, 3500), (5500, 3500), (5500, 3500)],
          "U4": [(3000, 2000), (4000, 2000), (3000, 1000)],
          "U5": [(6000, 4000), (6000, 4000), (6000, 4000)]}
    reports = {}
    for unit, months in q1.items():
        for i, (a, bb) in enumerate(months, 1):
            reports[(unit, i)] = b.report(unit, f"2024-{i:02d}", {"A": a, "B": bb})
    # U5 checked in March: A verified 50 of 60, marked false -> 60 - 2 × 10 = 40
    b.check("U5", "2024-03", reports[("U5", 3)], {"A": (5000, True), "B": (4000, None)})
    b.votes(2024, "U1", 10, 5, 0, 0)
    b.votes(2024, "U2", 10, 5, 0, 0)
    b.votes(2024, "U3", 4, 4, 4, 3)
    b.votes(2024, "U5", 20, 0, 0, 0)
    b.item(2024, "U3", "bonus", 300)
    b.item(2024, "U3", "bonus", 400)       # 7 raw, capped at 5
    b.item(2024, "U5", "deduction", 800)
    b.item(2024, "U5", "deduction", 500)   # 13 raw, capped at 10
    b.item(2024, "U4", "deduction", 0, veto=True)
    return b


def rate(final_x100, full=100) -> Decimal:
    return r2(Decimal(final_x100) / 100 / full * 100)


def test_month_scores_with_double_deduction(cli, city):
    doc = json_out(cli("score", "--month", "2024-03", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    u5 = rows["U5"]
    assert u5["checked"] and u5["false"]
    assert u5["self"] == 100 and u5["deduction"] == 20 and u5["final"] == 80 and u5["rate"] == 80
    assert set(u5) >= {"unit", "name", "group", "status", "checked", "false", "self", "deduction", "final", "full", "rate"}
    expl = json_out(cli("explain", "U5", "--month", "2024-03", "--json"))
    assert any("60 − 2 × (60 − 50) = 40" in t["formula"] for t in expl["tasks"])


def test_quarter_scores_and_ranks(cli, city):
    doc = json_out(cli("score", "--quarter", "2024-Q1", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    expected = {
        "U1": r2((Decimal(100) + 80 + 95) / 3),
        "U2": r2((Decimal(100) + 80 + 95) / 3),
        "U3": r2((Decimal(90) + 90 + 90) / 3),
        "U4": r2((Decimal(50) + 60 + 40) / 3),
        "U5": r2((Decimal(100) + 100 + 80) / 3),
    }
    for u, s in expected.items():
        assert Decimal(str(rows[u]["score"])) == s, u
    # ranks: U5 93.33, U1 = U2 91.67 (tie), U3 90, U4 50
    assert [rows[u]["rank"] for u in ("U5", "U1", "U2", "U3", "U4")] == [1, 2, 2, 4, 5]
    assert rows["U1"]["group_rank"] == 1 and rows["U2"]["group_rank"] == 1 and rows["U5"]["group_rank"] == 1
    assert rows["U3"]["group_rank"] == 2
    assert rows["U5"]["rates"]["2024-03"] == 80


def test_annual_totals_ranks_and_grades_by_hand(cli, city):
    doc = json_out(cli("score", "--year", "2024", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}

    def daily(rates):
        return r2(sum(rates, Decimal(0)) / 12)  # 9 missing months count 0

    d = {"U1": daily([Decimal(100), Decimal(80), Decimal(95)]), "U2": daily([Decimal(100), Decimal(80), Decimal(95)]),
         "U3": daily([Decimal(90)] * 3), "U4": daily([Decimal(50), Decimal(60), Decimal(40)]),
         "U5": daily([Decimal(100), Decimal(100), Decimal(80)])}
    dem = {"U1": r2(Decimal(10 * 100 + 5 * 80) / 15), "U2": r2(Decimal(10 * 100 + 5 * 80) / 15),
           "U3": r2(Decimal(4 * 100 + 4 * 80 + 4 * 60 + 3 * 0) / 15), "U4": Decimal(0), "U5": Decimal(100)}
    bonus = {"U3": Decimal(5)}
    ded = {"U5": Decimal(10)}
    total = {u: r2(Decimal("0.7") * d[u] + Decimal("0.3") * dem[u] + bonus.get(u, 0) - ded.get(u, 0)) for u in d}
    for u in d:
        assert Decimal(str(rows[u]["daily"])) == d[u], u
        assert Decimal(str(rows[u]["total"])) == total[u], u
    assert rows["U3"]["bonus_raw"] == 7 and rows["U3"]["bonus"] == 5
    assert rows["U5"]["deduction_raw"] == 13 and rows["U5"]["deduction"] == 10
    assert rows["U4"]["democratic"] is None
    order = sorted(total, key=lambda u: -total[u])
    # competition ranking with the U1/U2 tie
    ranks, prev, pos = {}, None, 0
    for i, u in enumerate(order, 1):
        if total[u] != prev:
            pos, prev = i, total[u]
        ranks[u] = pos
    for u in d:
        assert rows[u]["rank"] == ranks[u], u
    assert rows["U1"]["rank"] == rows["U2"]["rank"]
    n = 5
    good, fairly = ceil(Decimal("0.2") * n), ceil(Decimal("0.6") * n)
    for u in d:
        exp = "好" if ranks[u] <= good else "较好" if ranks[u] <= fairly else "一般"
        if u == "U4" or total[u] < 60:
            exp = "差"
        assert rows[u]["grade"] == exp, (u, ranks[u], total[u])


def test_explain_year_walks_every_step(cli, city):
    doc = json_out(cli("explain", "U5", "--year", "2024", "--json"))
    names = [s["step"] for s in doc["steps"]]
    assert names == ["月度得分率", "季度得分", "日常考核得分", "民主测评得分", "加分项与减分项", "年度总分", "排名与等次"]
    text = "\n".join(line for s in doc["steps"] for line in s["lines"])
    assert "虚假" in text and "min(13, 10)" in text
    human = cli("explain", "U5", "--year", "2024")
    assert human.exit_code == 0 and "年度总分" in human.stdout


def test_score_needs_exactly_one_period(cli, city):
    assert cli("score").exit_code == 2
    assert cli("score", "--month", "2024-03", "--year", "2024").exit_code == 2
    assert cli("score", "--quarter", "2024Q5").exit_code == 2
