"""Grades through the command line on a full year whose totals reach 好, 较好 and 一般, with N = 8 (not a
multiple of 5), a tie at the 好 boundary, a veto unit and a unit below the pass mark (DESIGN §3).

Every expected figure below is written out by hand from the scheme's defaults: weights 0.7/0.3, grades
好 = 0.2 and 较好 = 0.4 of the ranking, fail_below = 60."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import json_out
from tests.store_builder import Builder

# unit: (monthly points out of 100, every month of 2024; votes 好/较好/一般/差)
YEAR = {
    "U1": (100, (20, 0, 0, 0)),   # daily 100, democratic 100  -> 100.00
    "U2": (90, (20, 0, 0, 0)),    # 90, 100                     -> 93.00
    "U3": (90, (20, 0, 0, 0)),    # 90, 100                     -> 93.00 (ties U2 at rank 2)
    "U4": (80, (10, 10, 0, 0)),   # 80, 90                      -> 83.00
    "U5": (75, (10, 10, 0, 0)),   # 75, 90                      -> 79.50
    "U6": (70, (0, 10, 10, 0)),   # 70, 70                      -> 70.00
    "U7": (70, (20, 0, 0, 0)),    # 70, 100, veto               -> 79.00 but 差
    "U8": (50, (0, 0, 10, 10)),   # 50, 30                      -> 44.00, below 60: 差
}

# rank by total (100, 93, 93, 83, 79.5, 79, 70, 44): U1 1, U2 2, U3 2, U4 4, U5 5, U7 6, U6 7, U8 8.
# N = 8: 好 if rank <= ceil(0.2 × 8) = 2; 较好 if rank <= ceil(0.6 × 8) = 5; the rest 一般.
EXPECTED = {
    "U1": ("100.00", 1, "好"),
    "U2": ("93.00", 2, "好"),
    "U3": ("93.00", 2, "好"),     # the tie at the boundary takes the higher grade
    "U4": ("83.00", 4, "较好"),
    "U5": ("79.50", 5, "较好"),
    "U7": ("79.00", 6, "差"),     # would be 一般; the veto overrides
    "U6": ("70.00", 7, "一般"),
    "U8": ("44.00", 8, "差"),     # would be 一般; below fail_below
}


@pytest.fixture
def year(cli, store):
    assert cli("init").exit_code == 0
    b = Builder(store)
    b.units([(u, "甲组" if i % 2 else "乙组") for i, u in enumerate(YEAR)])
    for m in range(1, 13):
        b.tasks(f"2024-{m:02d}", {"A": 60, "B": 40})
    for unit, (points, votes) in YEAR.items():
        a = min(points, 60)
        for m in range(1, 13):
            b.report(unit, f"2024-{m:02d}", {"A": a * 100, "B": (points - a) * 100})
        b.votes(2024, unit, *votes)
    b.item(2024, "U7", "deduction", 0, veto=True)
    return b


def test_grades_by_share_with_a_tie_a_veto_and_a_fail(cli, year):
    doc = json_out(cli("score", "--year", "2024", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    assert set(rows) == set(EXPECTED)
    for unit, (total, rank, grade) in EXPECTED.items():
        r = rows[unit]
        assert Decimal(str(r["total"])) == Decimal(total), (unit, r)
        assert r["rank"] == rank, (unit, r)
        assert r["grade"] == grade, (unit, r)
    assert {r["grade"] for r in rows.values()} == {"好", "较好", "一般", "差"}


def test_explain_names_the_veto_and_the_pass_mark(cli, year):
    u7 = json_out(cli("explain", "U7", "--year", "2024", "--json"))
    text7 = "\n".join(line for s in u7["steps"] for line in s["lines"])
    assert "差" in text7 and "否决" in text7
    u8 = json_out(cli("explain", "U8", "--year", "2024", "--json"))
    text8 = "\n".join(line for s in u8["steps"] for line in s["lines"])
    assert "差" in text8 and "60" in text8


def test_the_ranking_workbook_holds_the_same_figures(cli, year, tmp_path):
    from openpyxl import load_workbook

    r = cli("ranking", "--year", "2024", "--format", "xlsx", "--out", str(tmp_path / "out"), "--date", "2024-12-31")
    assert r.exit_code == 0, r.output
    (xlsx,) = list((tmp_path / "out").glob("*.xlsx"))
    sheets = [[list(row) for row in ws.iter_rows(values_only=True)] for ws in load_workbook(xlsx, read_only=True)]
    rows = next(rows for rows in sheets if any("总分" in [str(c) for c in row if c is not None] for row in rows))
    header_at = next(i for i, row in enumerate(rows) if "总分" in [str(c) for c in row if c is not None])
    header = [str(c) if c is not None else "" for c in rows[header_at]]
    col = {name: header.index(name) for name in ("总分", "名次", "等次")}
    name_col = next(i for i, h in enumerate(header) if h in ("单位", "单位名称"))
    seen = {}
    for row in rows[header_at + 1:]:
        if row[name_col] is None:
            continue
        unit = str(row[name_col]).removeprefix("单位")
        if unit in EXPECTED:
            seen[unit] = (Decimal(str(row[col["总分"]])).quantize(Decimal("0.01")), int(row[col["名次"]]),
                          str(row[col["等次"]]))
    assert seen == {u: (Decimal(t), k, g) for u, (t, k, g) in EXPECTED.items()}
