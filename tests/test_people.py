"""述职评议, the combined share, eligibility and the staff monthly evaluation through the real CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.helpers import json_out, small_roster, workbook
from tests.store_builder import NOW, Builder
from tests.test_lookback import city, city_template  # noqa: F401 (fixtures)

DEBRIEF_HEADER = ["组织编码", "组织名称", "层级", "书记", "述职日期", "好", "较好", "一般", "差", "参评人数", "备注"]


@pytest.fixture
def roster(cli, tmp_path):
    assert cli("init").exit_code == 0
    r = cli("org", "import", small_roster(tmp_path / "roster.xlsx", units=3))
    assert r.exit_code == 0, r.output


def fill(src: Path, dst: Path, sheet: str, first_col: int, values: dict[int, list]) -> Path:
    shutil.copyfile(src, dst)
    wb = load_workbook(dst)
    ws = wb[sheet]
    for row, vals in values.items():
        for i, v in enumerate(vals):
            ws.cell(row, first_col + i).value = v
    wb.save(dst)
    return dst


def audit_ok(cli) -> None:
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["ok"], doc
    assert not doc.get("content", {}).get("problems"), doc


# ------------------------------------------------------------------ 述职评议


def test_debrief_template_import_list_report(cli, roster, tmp_path):
    r = cli("debrief", "template", "--year", "2024", "--out", "t.xlsx")
    assert r.exit_code == 0, r.output
    ws = load_workbook(tmp_path / "t.xlsx")["述职评议"]
    assert [c.value for c in ws[1]] == DEBRIEF_HEADER
    # units (level = kind, secretary from the roster) and their branches (党支部, secretary to fill in)
    assert [(ws.cell(i, 1).value, ws.cell(i, 3).value, ws.cell(i, 4).value) for i in range(2, 8)] == [
        ("U001", "机关党委", "张三"), ("U001-B01", "党支部", None), ("U002", "机关党委", "张三"),
        ("U002-B01", "党支部", None), ("U003", "机关党委", "张三"), ("U003-B01", "党支部", None)]
    assert ws.protection.sheet and ws.cell(2, 1).protection.locked and not ws.cell(2, 5).protection.locked
    day = date(2025, 1, 15)
    f = fill(tmp_path / "t.xlsx", tmp_path / "d.xlsx", "述职评议", 4, {
        2: ["张三", day, 20, 8, 2, 0, 30],     # 92.00 好
        3: ["李四", day, 15, 10, 3, 2, 30],    # 82.67 较好
        4: ["张三", day, 10, 5, 0, 8, 23],     # 差 8/23 > 1/3 → 差
        5: ["王五", day, 4, 0, 0, 2, 6],       # 66.67 一般
        6: ["张三", day, 9, 1, 0, 0, 10],      # 98.00 好
        # row 7 (U003-B01) left blank: not reported
    })
    r = cli("debrief", "import", f, "--year", "2024", "--json")
    doc = json_out(r)["files"][0]
    assert doc["status"] == "imported" and doc["rows"] == 5 and doc["not_reported"] == ["U003-B01"]
    again = json_out(cli("debrief", "import", f, "--year", "2024", "--json"))["files"][0]
    assert again["status"] == "unchanged"
    lst = json_out(cli("debrief", "list", "--year", "2024", "--json"))
    got = {row["org"]: (row["score"], row["rating"], row["reported_on"]) for row in lst["rows"]}
    assert got == {"U001": (92.0, "好", "2025-01-15"), "U001-B01": (82.67, "较好", "2025-01-15"),
                   "U002": (60.87, "差", "2025-01-15"), "U002-B01": (66.67, "一般", "2025-01-15"),
                   "U003": (98.0, "好", "2025-01-15"), "U003-B01": (None, "", None)}
    assert lst["missing"] == [{"org": "U003-B01", "name": "测试单位3第一支部"}]
    assert lst["counts"] == {"好": 2, "较好": 1, "差": 1, "一般": 1}
    r = cli("debrief", "report", "--year", "2024", "--out", "docs", "--date", "2025-01-20", "--format", "docx,md")
    assert r.exit_code == 0, r.output
    md = (tmp_path / "docs" / "2024_书记述职评议结果.md").read_text(encoding="utf-8")
    assert "关于2024年度书记抓党建工作述职评议结果的通报" in md and "测试单位2机关党委张三" in md
    from docx import Document

    text = "\n".join(p.text for p in Document(tmp_path / "docs" / "2024_书记述职评议结果.docx").paragraphs)
    assert "评议结果为“好”的 2 名" in text and "2025年1月15日" in text
    audit_ok(cli)


def test_debrief_refusals_name_row_and_column_and_write_nothing(cli, roster, tmp_path):
    day = date(2025, 1, 10)
    bad = workbook(tmp_path / "bad.xlsx", {"述职评议": [
        DEBRIEF_HEADER,
        ["U001", "", "", "张三", day, 10, 5, 0, 0, 16, None],          # 15 votes, 16 voters
        ["U002", "", "", "李四", date(2026, 1, 2), 1, 0, 0, 0, 1, None],  # outside the year's window
        ["U001", "", "", "张三", day, 1, 0, 0, 0, 1, None],             # duplicate
        ["U003", "", "", "王五", day, "=1+1", 0, 0, 0, 2, None],        # formula
    ]})
    r = cli("debrief", "import", bad, "--year", "2024", "--json")
    assert r.exit_code == 2, r.output
    errs = json.loads(r.stdout)["files"][0]["errors"]
    assert {(e["row"], e["column"]) for e in errs} == {(2, "参评人数"), (3, "述职日期"), (4, "组织编码"), (5, "好")}
    assert all(e["sheet"] == "述职评议" for e in errs)
    unknown = workbook(tmp_path / "unknown.xlsx", {"述职评议": [DEBRIEF_HEADER, ["X9", "", "", "某", day, 1, 0, 0, 0, 1, None]]})
    r = cli("debrief", "import", unknown, "--year", "2024")
    assert r.exit_code == 2 and "X9" in r.output and "第 2 行" in r.output
    assert json_out(cli("debrief", "list", "--year", "2024", "--json"))["reported"] == 0


def test_debrief_replace_keeps_history_and_feeds_the_lookback_item(cli, roster, tmp_path, store):
    day = date(2024, 12, 20)
    first = workbook(tmp_path / "a.xlsx", {"述职评议": [DEBRIEF_HEADER, ["U001-B01", "", "", "甲", day, 9, 1, 0, 0, 10, None]]})
    second = workbook(tmp_path / "b.xlsx", {"述职评议": [DEBRIEF_HEADER, ["U001-B01", "", "", "甲", day, 2, 6, 2, 0, 10, None]]})
    assert cli("debrief", "import", first, "--year", "2024").exit_code == 0
    r = cli("debrief", "import", second, "--year", "2024")
    assert r.exit_code == 2 and "--replace" in r.output
    assert cli("debrief", "import", second, "--year", "2024", "--replace").exit_code == 0
    from sqlmodel import select

    from djctl.services.debrief import checklist_prefill
    from djctl.services.setup import load_scheme
    from djctl.store.tables import Debrief

    with store.read() as uow:
        rows = uow.session.exec(select(Debrief).order_by(Debrief.id)).all()
        assert [(x.good, x.active) for x in rows] == [(9, False), (2, True)]
        scheme = load_scheme(uow.session, 2024)
        # (2 × 100 + 6 × 80 + 2 × 60) ÷ 10 = 80.00 → 较好: G02 (述职评议 须为好) is prefilled 否
        assert checklist_prefill(uow.session, 2024, scheme, "U001-B01") == {
            "G02": ("否", "【2024年度述职评议】书记述职评议结果为「较好」，未达到「好」")}
        assert checklist_prefill(uow.session, 2024, scheme, "U002-B01")["G02"][0] is None
    audit_ok(cli)


# ------------------------------------------------------------------ combined and eligibility


@pytest.fixture
def year(cli, store):
    assert cli("init").exit_code == 0
    b = Builder(store)
    b.units([("U1", "甲组"), ("U2", "甲组"), ("U3", "乙组"), ("U4", "乙组")])
    for m in range(1, 13):
        month = f"2024-{m:02d}"
        b.tasks(month, {"A": 100})
        for u, pts in (("U1", 9000), ("U2", 8000), ("U3", 7000), ("U4", 5000)):
            b.report(u, month, {"A": pts})
        b.draw(month)
    for u in ("U1", "U2", "U3", "U4"):
        b.votes(2024, u, 10, 0, 0, 0)
    b.item(2024, "U2", "deduction", 100, veto=True)
    from djctl.store.tables import NegativeEntry

    with store.write() as uow:
        uow.session.add(NegativeEntry(year=2024, org_code="U3", org_kind="unit", reasons='["整改逾期"]', created_at=NOW))
        uow.audit("test.negative", {})
    return b


def test_combined_with_business_scores_and_export(cli, year, tmp_path):
    # totals: U1 0.7 × 90 + 0.3 × 100 = 93.00; U2 0.7 × 80 + 30 − 1 = 85.00; U3 79.00; U4 65.00
    doc = json_out(cli("combined", "--year", "2024", "--json"))
    assert doc["weight"] == "1/3" and [r["party"] for r in doc["rows"]] == [31.0, 28.33, 26.33, 21.67]
    assert all(r["total"] is None for r in doc["rows"])
    business = workbook(tmp_path / "biz.xlsx", {"业务工作得分": [["单位编码", "单位名称", "业务工作得分"],
                                                              ["U1", "", 80], ["U2", "", 95.5], ["U3", "", 91.3]]})
    doc = json_out(cli("combined", "--year", "2024", "--business", business, "--xlsx", "out.xlsx", "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    # U3: 79 ÷ 3 = 26.333… → 26.33; 91.3 × 2/3 = 60.866… → 60.87; 87.20
    assert (rows["U3"]["party"], rows["U3"]["business_part"], rows["U3"]["total"]) == (26.33, 60.87, 87.2)
    # U2: 85 ÷ 3 = 28.33; 95.5 × 2/3 = 63.666… → 63.67; 92.00.  U1: 31.00 + 53.33 = 84.33
    assert [(r["unit"], r["total"], r["rank"]) for r in doc["rows"]] == [
        ("U2", 92.0, 1), ("U3", 87.2, 2), ("U1", 84.33, 3), ("U4", None, None)]
    assert doc["missing_business"] == ["U4"]
    ws = load_workbook(tmp_path / "out.xlsx").active
    assert ws.max_row == 5 and ws.cell(2, 1).value == "U2" and ws.cell(2, 9).value == 92
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for row in ws.iter_rows() for c in row)
    r = cli("combined", "--year", "2024", "--business", business, "--explain", "U3")
    assert r.exit_code == 0 and "党建部分 = 79.00 ÷ 100 × 1/3 × 100 = 26.33（四舍五入保留两位小数）" in r.stdout
    assert "综合考核得分 = 26.33 + 60.87 = 87.20" in r.stdout
    bad = workbook(tmp_path / "bad.xlsx", {"业务工作得分": [["单位编码", "业务工作得分"], ["U9", 80], ["U1", "八十"]]})
    r = cli("combined", "--year", "2024", "--business", bad, "--json")
    assert r.exit_code == 2 and "第 3 行" in r.output and "业务工作得分" in r.output


def test_eligibility_reasons_per_unit(cli, year, tmp_path):
    doc = json_out(cli("eligibility", "--year", "2024", "--json", "--format", "md", "--out", "docs"))
    rows = {r["unit"]: r for r in doc["rows"]}
    assert rows["U1"]["eligible"] and rows["U1"]["reasons"] == []
    assert [x["rule"] for x in rows["U2"]["reasons"]] == ["grade", "veto"]  # a veto makes the grade 差 too
    assert [x["rule"] for x in rows["U3"]["reasons"]] == ["negative_list"]
    assert rows["U3"]["reasons"][0]["reason"] == "列入本年度负面清单：本单位"
    assert rows["U4"]["eligible"]
    assert doc["warnings"] == ["2024 年度尚未导入书记述职评议结果，“述职评议为差”一项未能核对"]
    assert (tmp_path / "docs" / "2024_评先评优资格.md").is_file()


# ------------------------------------------------------------------ staff


STAFF = [["人员编码", "姓名", "职务", "处室"], ["S01", "周明远", "一级主任科员", "办公室"],
         ["S02", "吴静怡", "二级主任科员", "组织部"]]


def test_staff_roster_months_year_explain_bulletin(cli, tmp_path):
    assert cli("init").exit_code == 0
    roster = workbook(tmp_path / "roster.xlsx", {"工委干部": STAFF})
    assert json_out(cli("staff", "roster", roster, "--json"))["files"][0]["status"] == "imported"
    assert json_out(cli("staff", "roster", roster, "--json"))["files"][0]["status"] == "unchanged"
    # the same people in another file: unchanged; one more person in a dry run: reported, nothing written
    same = workbook(tmp_path / "roster-resaved.xlsx", {"工委干部": STAFF, "Sheet2": [["x"]]})
    assert json_out(cli("staff", "roster", same, "--json"))["files"][0]["status"] == "unchanged"
    more = workbook(tmp_path / "roster-more.xlsx", {"工委干部": STAFF + [["S09", "新同志", "科员", "办公室"]]})
    dry = json_out(cli("staff", "roster", more, "--dry-run", "--json"))["files"][0]
    assert dry["status"] == "valid" and dry["added"] == ["S09"]
    assert json_out(cli("staff", "roster", same, "--json"))["files"][0]["status"] == "unchanged"
    for m in range(1, 13):
        month = f"2024-{m:02d}"
        assert cli("staff", "template", "--month", month, "--out", f"t{m}.xlsx").exit_code == 0
        s02 = [None, None, None] if m == 7 else [87.3, 91.1, 80.1]  # S02 not evaluated in July
        fill(tmp_path / f"t{m}.xlsx", tmp_path / f"f{m}.xlsx", "月度考评", 3, {2: [90, 85.5, 88], 3: s02})
        r = cli("staff", "import", f"f{m}.xlsx", "--month", month)
        assert r.exit_code == 0, r.output
    month = json_out(cli("staff", "score", "--month", "2024-07", "--json"))
    assert [(r["code"], r["total"], r["rank"]) for r in month["rows"]] == [("S01", 88.25, 1)]
    assert month["not_scored"] == [{"code": "S02", "name": "吴静怡"}]
    year = json_out(cli("staff", "score", "--year", "2024", "--json"))
    rows = {r["code"]: r for r in year["rows"]}
    # S01: 12 × 88.25 = 1059.00; S02: 11 × 87.00 = 957.00, July missing
    assert (rows["S01"]["total"], rows["S01"]["missing"], rows["S01"]["rank"]) == (1059.0, [], 1)
    assert (rows["S02"]["total"], rows["S02"]["missing"], rows["S02"]["rank"]) == (957.0, ["2024-07"], 2)
    r = cli("staff", "explain", "S02", "--year", "2024")
    assert r.exit_code == 0 and "年度得分 = 各月得分之和 = 87.00 + " in r.stdout and "未考评的月份：7月" in r.stdout
    r = cli("staff", "explain", "S02", "--month", "2024-03")
    assert "月度得分 = 0.5 × 87.30 + 0.3 × 91.10 + 0.2 × 80.10 = 87.00" in r.stdout
    r = cli("staff", "bulletin", "--month", "2024-07", "--out", "docs", "--date", "2024-08-05", "--format", "md,xlsx")
    assert r.exit_code == 0, r.output
    md = (tmp_path / "docs" / "2024-07_工委干部月度考评通报.md").read_text(encoding="utf-8")
    assert "关于2024年7月机关工委干部月度考评结果的通报" in md and "本月未参加考评：吴静怡" in md
    audit_ok(cli)


def test_staff_import_refusals(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("staff", "roster", workbook(tmp_path / "roster.xlsx", {"工委干部": STAFF})).exit_code == 0
    bad = workbook(tmp_path / "bad.xlsx", {"月度考评": [["人员编码", "工作实绩", "作风表现", "综合测评"],
                                                    ["S01", 101, 80, 80], ["S09", 80, 80, 80], ["S02", 80.25, 80, ""]]})
    r = cli("staff", "import", bad, "--month", "2024-03", "--json")
    assert r.exit_code == 2
    errs = {(e["row"], e["column"]) for e in json.loads(r.stdout)["files"][0]["errors"]}
    assert errs == {(2, "工作实绩"), (4, "工作实绩"), (4, "综合测评")}  # S09 is checked once the file reads clean
    r = cli("staff", "import", workbook(tmp_path / "x.xlsx", {"月度考评": [["人员编码", "工作实绩", "作风表现", "综合测评"],
                                                                       ["S09", 80, 80, 80]]}), "--month", "2024-03")
    assert r.exit_code == 2 and "S09" in r.output
    assert json_out(cli("staff", "score", "--month", "2024-03", "--json"))["rows"] == []
    assert cli("staff", "score").exit_code == 2


def test_rate_scope_organisations(cli, tmp_path):
    assert cli("init").exit_code == 0
    branches = [["U001-B01", "一支部", "U001", 10, "达标", "2023-06-01"], ["U001-B02", "二支部", "U001", 10, "过硬", "2023-06-01"],
                ["U002-B01", "一支部", "U002", 10, "未达标", "2023-06-01"]]
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=2, branches=branches)).exit_code == 0
    doc = json_out(cli("tier", "stats", "--year", "2024", "--json"))
    assert doc["rate_scope"] == "branches" and doc["rate_standard"] == pytest.approx(0.6667)
    scheme = Path(__file__).parents[1] / "djctl" / "data" / "scheme-2024.toml"
    text = scheme.read_text(encoding="utf-8").replace('rate_scope = "branches"', 'rate_scope = "organisations"')
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    assert cli("init", "--scheme", "s.toml", "--replace").exit_code == 0
    doc = json_out(cli("tier", "stats", "--year", "2024", "--json"))
    # 3 branches (2 达标+) + U001 (all its branches 达标+: counts) + U002 (one 未达标: does not) = 3 of 5
    assert doc["rate_scope"] == "organisations" and doc["rate_standard"] == 0.6
    assert doc["scope_counts"] == {"organisations": 5, "standard": 3}


def test_audit_verify_catches_edits_of_the_new_tables(cli, roster, tmp_path, store):
    day = date(2025, 1, 9)
    f = workbook(tmp_path / "d.xlsx", {"述职评议": [DEBRIEF_HEADER, ["U001", "", "", "张三", day, 9, 1, 0, 0, 10, None]]})
    assert cli("debrief", "import", f, "--year", "2024").exit_code == 0
    assert cli("staff", "roster", workbook(tmp_path / "r.xlsx", {"工委干部": STAFF})).exit_code == 0
    s = workbook(tmp_path / "s.xlsx", {"月度考评": [["人员编码", "工作实绩", "作风表现", "综合测评"], ["S01", 90, 90, 90]]})
    assert cli("staff", "import", s, "--month", "2024-03").exit_code == 0
    audit_ok(cli)
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE debrief SET good = 10, voters = 11"))
        conn.execute(text("UPDATE staff_score SET work_x100 = 10000"))
        conn.execute(text("UPDATE staff_member SET name = '某某' WHERE code = 'S02'"))
    r = cli("audit", "verify", "--json")
    assert r.exit_code != 0
    tables = sorted({p["table"] for p in json.loads(r.stdout)["content"]["problems"]})
    assert tables == ["debrief", "staff_member", "staff_score"]


def test_lookback_forms_carry_the_debrief_result_in_its_checklist_item(cli, city, tmp_path):
    from tests.test_lookback import draw

    d = draw(cli)
    strong = [c for c in d["selected"] if d["strata"][c] in ("过硬", "示范")]
    assert len(strong) >= 2
    good, fair = strong[:2]
    day = date(2024, 12, 20)
    f = workbook(tmp_path / "d.xlsx", {"述职评议": [DEBRIEF_HEADER, [good, "", "", "甲", day, 9, 1, 0, 0, 10, None],
                                                 [fair, "", "", "乙", day, 2, 6, 2, 0, 10, None]]})
    assert cli("debrief", "import", f, "--year", "2024").exit_code == 0, "import"
    out = json_out(cli("lookback", "forms", "--year", "2024", "--out", tmp_path / "forms", "--json"))
    files = {Path(p).name.split("_")[1]: Path(p) for p in out["files"]}

    def g02(code):
        ws = load_workbook(files[code])["回头看核查表"]
        return next((r[3].value, r[5].value) for r in ws.iter_rows(min_row=9) if r[1].value == "G02")

    assert g02(good) == ("书记述职评议结果为好，支委分工明确\n【2024年度述职评议】书记述职评议结果为「好」", "是")
    assert g02(fair) == ("书记述职评议结果为好，支委分工明确\n【2024年度述职评议】书记述职评议结果为「较好」，未达到「好」", "否")
    others = [c for c in strong[2:]]
    for code in others:  # no 述职评议 recorded: nothing prefilled, the standard as the scheme says
        assert g02(code) == ("书记述职评议结果为好，支委分工明确", None)
