"""`djctl tier`: set (one step, --force), history, import of 验收 results, year statistics."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from tests.helpers import json_out, small_roster, workbook

# B1..B6 rated in 2023; B7 first rated in 2025 (unrated at the end of 2024)
BRANCHES = [
    ["B1", "第一支部", "U001", 10, "达标", "2023-06-01"],
    ["B2", "第二支部", "U001", 10, "达标", "2023-06-01"],
    ["B3", "第三支部", "U002", 10, "过硬", "2023-06-01"],
    ["B4", "第四支部", "U002", 10, "未达标", "2023-06-01"],
    ["B5", "第五支部", "U003", 10, "示范", "2023-06-01"],
    ["B6", "第六支部", "U003", 10, "达标", "2024-05-01"],
    ["B7", "第七支部", "U003", 10, "未达标", "2025-02-01"],
]


@pytest.fixture
def setup(cli, tmp_path):
    assert cli("init").exit_code == 0
    r = cli("org", "import", small_roster(tmp_path / "r.xlsx", units=3, branches=BRANCHES))
    assert r.exit_code == 0, r.output
    return cli


def events(cli) -> int:
    return json_out(cli("audit", "verify", "--json"))["events"]


def tier_of(cli, code: str) -> str:
    return json_out(cli("tier", "history", code, "--json"))["tier"]


def audit_payloads(store, action: str) -> list[dict]:
    from sqlalchemy import select

    from djctl.store.audit import AUDIT

    with store.read() as uow:
        rows = uow.conn.execute(select(AUDIT.c.payload).where(AUDIT.c.action == action).order_by(AUDIT.c.seq)).all()
    return [json.loads(r.payload) for r in rows]


def test_set_history_and_same_tier(setup, store):
    cli = setup
    r = cli("tier", "set", "B1", "过硬支部", "--date", "2024-06-28", "--basis", "验收", "--note", "市直工委〔2024〕12号")
    assert r.exit_code == 0, r.output
    assert "达标支部 → 过硬支部" in r.stdout
    before = events(cli)
    r = cli("tier", "set", "B1", "过硬", "--date", "2024-07-01", "--basis", "验收")
    assert r.exit_code == 0 and "已是过硬支部，未改动" in r.stdout
    assert events(cli) == before  # nothing written
    doc = json_out(cli("tier", "history", "B1", "--json"))
    assert doc["tier"] == "过硬" and doc["tier_date"] == "2024-06-28"
    assert [(h["from"], h["to"], h["basis"], h["direction"]) for h in doc["history"]] == [
        (None, "达标", "名册导入", "new"), ("达标", "过硬", "验收", "up")]
    assert doc["history"][1]["note"] == "市直工委〔2024〕12号"
    # the change is in the audit log with its content
    log = audit_payloads(store, "tier.set")
    assert len(log) == 1
    assert {k: log[0][k] for k in ("branch", "from", "to", "date", "basis")} == {
        "branch": "B1", "from": "达标", "to": "过硬", "date": "2024-06-28", "basis": "验收"}
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_up_two_tiers_needs_force(setup):
    cli = setup
    before = events(cli)
    r = cli("tier", "set", "B4", "过硬", "--date", "2024-06-28", "--basis", "申报")
    assert r.exit_code == 2, r.output
    assert "一次升了 2 个等次" in r.output and "--force" in r.output
    assert events(cli) == before and tier_of(cli, "B4") == "未达标"
    r = cli("tier", "set", "B4", "过硬", "--date", "2024-06-28", "--basis", "申报", "--force", "--json")
    doc = json_out(r)
    assert doc["changed"] and doc["forced"] and doc["from"] == "未达标" and doc["to"] == "过硬"
    # down any number of tiers is allowed (a rebound or a re-rating)
    assert cli("tier", "set", "B4", "未达标", "--date", "2024-10-01", "--basis", "回头看").exit_code == 0


@pytest.mark.parametrize("args, needle", [
    (["B1", "优秀", "--date", "2024-06-28", "--basis", "验收"], "优秀"),
    (["B1", "过硬", "--date", "2024/13/01", "--basis", "验收"], "不是有效日期"),
    (["B1", "过硬", "--date", "2024-06-28", "--basis", "名册导入"], "验收 / 回头看 / 申报"),
    (["B1", "过硬", "--date", "2024-06-28", "--basis", "拍脑袋"], "验收 / 回头看 / 申报"),
    (["NOPE", "过硬", "--date", "2024-06-28", "--basis", "验收"], "找不到支部「NOPE」"),
    (["B1", "过硬", "--date", "2023-01-01", "--basis", "验收"], "早于该支部最近一次等次变动"),
])
def test_set_bad_input_exit_2(setup, args, needle):
    cli = setup
    before = events(cli)
    r = cli("tier", "set", *args)
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert events(cli) == before


def _grade_year(cli) -> None:
    for args in (["B1", "过硬", "--date", "2024-06-28", "--basis", "验收"],
                 ["B4", "达标", "--date", "2024-07-01", "--basis", "验收"],
                 ["B3", "达标", "--date", "2024-10-10", "--basis", "回头看"],
                 ["B2", "过硬", "--date", "2025-03-01", "--basis", "验收"]):
        r = cli("tier", "set", *args)
        assert r.exit_code == 0, r.output


def test_stats_rates_and_movements_by_hand(setup, tmp_path):
    cli = setup
    _grade_year(cli)
    doc = json_out(cli("tier", "stats", "--year", "2024", "--json"))
    # end of 2024: B1 过硬, B2 达标, B3 达标, B4 达标, B5 示范, B6 达标; B7 not rated until 2025
    assert doc["year"] == 2024
    assert doc["counts"] == {"示范": 1, "过硬": 1, "达标": 4, "未达标": 0}
    assert doc["branches"] == 6 and doc["unrated"] == ["B7"]
    assert doc["rate_standard"] == 1.0           # 6 / 6
    assert doc["rate_strong"] == 0.3333          # 2 / 6, half-up to 4 decimals
    assert doc["rate_strong_text"] == "33.33%"
    assert doc["targets"] == {"达标率": 0.95, "过硬率": 0.3}
    assert doc["met"] == {"达标率": True, "过硬率": True}
    mv = doc["movements"]
    # end of 2023 -> end of 2024: B1 达标→过硬 up, B4 未达标→达标 up, B3 过硬→达标 down,
    # B2 达标→达标 and B5 示范→示范 same, B6 new
    assert (mv["up"], mv["down"], mv["same"], mv["new"], mv["total"]) == (2, 1, 2, 1, 6)
    assert mv["matrix"]["达标"]["过硬"] == 1 and mv["matrix"]["未达标"]["达标"] == 1
    assert mv["matrix"]["过硬"]["达标"] == 1 and mv["matrix"]["达标"]["达标"] == 1 and mv["matrix"]["示范"]["示范"] == 1
    assert sum(sum(row.values()) for row in mv["matrix"].values()) == 5
    assert {(c["branch"], c["direction"]) for c in mv["changed"]} == {("B1", "up"), ("B4", "up"), ("B3", "down"),
                                                                      ("B6", "new")}

    # 2025: B2 rises, B7 appears as 未达标: 达标率 6/7, 过硬率 3/6 — the 达标率 target is missed
    doc25 = json_out(cli("tier", "stats", "--year", "2025", "--json"))
    assert doc25["counts"] == {"示范": 1, "过硬": 2, "达标": 3, "未达标": 1}
    assert doc25["rate_standard"] == 0.8571 and doc25["rate_strong"] == 0.5
    assert doc25["met"] == {"达标率": False, "过硬率": True}
    assert doc25["targets_source"] == "default"  # no 2025 scheme in the store
    assert (doc25["movements"]["up"], doc25["movements"]["new"]) == (1, 1)


def test_stats_by_unit_group_and_xlsx(setup, tmp_path):
    cli = setup
    _grade_year(cli)
    doc = json_out(cli("tier", "stats", "--year", "2024", "--by-unit", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    assert doc["by"] == "unit" and set(rows) == {"U001", "U002", "U003"}
    assert rows["U001"]["counts"] == {"示范": 0, "过硬": 1, "达标": 1, "未达标": 0}
    assert (rows["U001"]["rate_standard"], rows["U001"]["rate_strong"]) == (1.0, 0.5)
    assert (rows["U002"]["rate_strong"], rows["U002"]["up"], rows["U002"]["down"]) == (0.0, 1, 1)
    assert rows["U003"]["branches"] == 2  # B7 unrated
    grp = json_out(cli("tier", "stats", "--year", "2024", "--by-group", "--json"))
    g = {r["group"]: r for r in grp["rows"]}
    assert g["第1组"]["branches"] == 4 and g["第1组"]["rate_strong"] == 0.5  # B1 过硬, B5 示范 of B1 B2 B5 B6
    assert g["第2组"]["rate_strong"] == 0.0
    assert cli("tier", "stats", "--year", "2024", "--by-unit", "--by-group").exit_code == 2

    r = cli("tier", "stats", "--year", "2024", "--by-unit", "--xlsx", "stats.xlsx")
    assert r.exit_code == 0, r.output
    assert "达标率 100%" in r.stdout and "过硬率 33.33%" in r.stdout
    wb = load_workbook(tmp_path / "stats.xlsx")
    assert wb.sheetnames == ["2024年等次统计", "分单位", "等次变动", "变动明细"]
    summary = {row[0]: row[1:] for row in wb["2024年等次统计"].iter_rows(min_row=2, values_only=True)}
    assert summary["过硬率"] == ("33.33%", "30%", "是") and summary["合计"][0] == 6
    details = list(wb["变动明细"].iter_rows(min_row=2, values_only=True))
    assert ("B3", "第三支部", "U002", "过硬", "达标", "降级") in details


# ------------------------------------------------------------------ import

HEADER = ["支部编码", "支部名称", "等次", "评定日期", "依据"]


def test_import_changes_and_idempotence(setup, tmp_path):
    cli = setup
    f = workbook(tmp_path / "验收.xlsx", {"验收结果": [
        ["2024年支部分类定级验收结果"], HEADER,
        ["B4", "第四支部", "达标支部", "2024-06-28", "市直工委〔2024〕12号"],
        ["B1", "第一支部", "达标", "2024-06-28", ""],  # same tier: no change
    ]})
    dry = json_out(cli("tier", "import", f, "--dry-run", "--json"))["files"][0]
    assert dry["status"] == "valid" and dry["changed"] == 1
    assert tier_of(cli, "B4") == "未达标"
    doc = json_out(cli("tier", "import", f, "--json"))["files"][0]
    assert doc["status"] == "imported" and doc["rows"] == 2 and (doc["changed"], doc["same"]) == (1, 1)
    hist = json_out(cli("tier", "history", "B4", "--json"))
    assert hist["tier"] == "达标" and hist["history"][-1]["basis"] == "验收"
    assert hist["history"][-1]["note"] == "市直工委〔2024〕12号"
    before = events(cli)
    again = json_out(cli("tier", "import", f, "--json"))["files"][0]
    assert again["status"] == "unchanged"
    assert events(cli) == before
    # the same results in another file (re-saved by another program): nothing to change, unchanged, no event
    resaved = workbook(tmp_path / "验收-另存.xlsx", {"验收结果": [
        ["2024年支部分类定级验收结果"], HEADER, ["B4", "第四支部", "达标", "2024-06-28", "市直工委〔2024〕12号"]],
        "Sheet2": [["x"]]})
    f3 = json_out(cli("tier", "import", resaved, "--json"))["files"][0]
    assert f3["status"] == "unchanged" and events(cli) == before
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def _refused(cli, path):
    before = events(cli)
    r = cli("tier", "import", path, "--json")
    assert r.exit_code == 2, r.output
    doc = json.loads(r.stdout)["files"][0]
    assert doc["status"] == "refused"
    assert events(cli) == before
    assert tier_of(cli, "B4") == "未达标"
    return doc["errors"]


@pytest.mark.parametrize("bad_row, row_col, needle", [
    (["NOPE", "x", "达标", "2024-06-28", ""], (4, "支部编码"), "不在名册中"),
    (["B2", "x", "优秀", "2024-06-28", ""], (4, "等次"), "优秀"),
    (["B2", "x", "过硬", "六月底", ""], (4, "评定日期"), "不是有效日期"),
    (["B2", "x", "=A1", "2024-06-28", ""], (4, "等次"), "公式"),
    (["B4", "x", "过硬", "2024-07-01", ""], (4, "支部编码"), "重复"),
    (["B2", "x", "过硬", "2022-01-01", ""], (4, "评定日期"), "早于"),
])
def test_import_bad_rows_refused_whole_file(setup, tmp_path, bad_row, row_col, needle):
    cli = setup
    f = workbook(tmp_path / "bad.xlsx", {"Sheet1": [HEADER, ["B4", "第四支部", "达标", "2024-06-28", ""],
                                                   ["B1", "第一支部", "过硬", "2024-06-28", ""], bad_row]})
    errors = _refused(cli, f)
    hits = [e for e in errors if (e["row"], e["column"]) == row_col]
    assert hits and needle in hits[0]["message"], errors
    assert hits[0]["sheet"] == "Sheet1"


def test_import_multi_step_needs_force_column(setup, tmp_path):
    cli = setup
    f = workbook(tmp_path / "up2.xlsx", {"验收结果": [HEADER, ["B4", "第四支部", "过硬", "2024-06-28", "越级"]]})
    errors = _refused(cli, f)
    assert errors[0]["row"] == 2 and errors[0]["column"] == "等次" and "强制" in errors[0]["message"]
    g = workbook(tmp_path / "up2f.xlsx", {"验收结果": [HEADER + ["强制"],
                                                   ["B4", "第四支部", "过硬", "2024-06-28", "越级", "是"]]})
    doc = json_out(cli("tier", "import", g, "--json"))["files"][0]
    assert doc["status"] == "imported" and doc["changes"][0]["forced"]
    assert tier_of(cli, "B4") == "过硬"


def test_import_missing_header_named(setup, tmp_path):
    f = workbook(tmp_path / "nohdr.xlsx", {"Sheet1": [["支部编码", "等次"], ["B4", "达标"]]})
    r = setup("tier", "import", f)
    assert r.exit_code == 2 and "评定日期" in r.output


def test_template_roundtrip(setup, tmp_path):
    cli = setup
    r = cli("tier", "template", "--out", "t.xlsx")
    assert r.exit_code == 0, r.output
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb.active
    ws.append(["B4", "第四支部", "达标", "2024-06-28", "", "否"])
    wb.save(tmp_path / "t.xlsx")
    doc = json_out(cli("tier", "import", "t.xlsx", "--json"))["files"][0]
    assert doc["status"] == "imported" and doc["changed"] == 1


def test_tiers_demo_step(setup, tmp_path, store):
    from djctl.services.demo import DemoContext
    from djctl.services.demo.tiers import demo_step

    ctx = DemoContext(dir=tmp_path / "demo")
    lines = demo_step(store, ctx)
    assert "晋升一级" in lines[0]
    assert (tmp_path / "demo" / "inputs" / "2024年支部等次验收结果.xlsx").exists()
    assert tier_of(setup, "B4") == "达标"
