"""`djctl lookback`: the look-back draw, worksheets out and in, rebounds, the report (DESIGN §3 "Look-back")."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from djctl.domain.sampling import compute_k, draw_key, stratified_quotas
from tests.helpers import json_out, small_roster

SEED = "2024-10-15 示范市福利彩票开奖号码 03 08 11 20 27 30 + 05"
TIER_PATTERN = {  # unit -> tiers of its branches B01..B03
    1: ("达标", "过硬", "未达标"),
    2: ("达标", "示范", "达标"),
    3: ("过硬", "达标", "未达标"),
    4: ("达标", "达标", "过硬"),
    5: ("示范", "达标", "过硬"),
    6: ("达标", "未达标", "达标"),
}
TIERS_2023 = {f"U{u:03d}-B{j:02d}": t for u, ts in TIER_PATTERN.items() for j, t in enumerate(ts, 1)}
LISTED_IN = "U002-B01"  # 达标, on the 2023 negative list: always drawn
LISTED_OUT = "U001-B03"  # 未达标, on the 2023 negative list: not in the population
UPGRADED = "U006-B02"  # 未达标 until 2024-08-01, then 达标


def _build(run, db: str | None, base: Path) -> None:
    pre = ["--db", db] if db else []
    branches = [[code, f"测试单位{int(code[1:4])}第{int(code[-2:])}支部", code[:4], 12, tier, "2023-06-01"]
                for code, tier in TIERS_2023.items()]
    steps = [
        ["init"],
        ["org", "import", small_roster(base / "名册.xlsx", units=6, branches=branches)],
        ["rectify", "add", LISTED_IN, "--kind", "branch", "--problem", "党费台账缺失", "--due", "2023-06-30", "--found", "2023-05-30"],
        ["rectify", "add", LISTED_OUT, "--kind", "branch", "--problem", "支委会长期未召开", "--due", "2023-07-31", "--found", "2023-06-30"],
        ["negative-list", "--year", "2023", "--build"],
        ["tier", "set", UPGRADED, "达标", "--date", "2024-08-01", "--basis", "验收"],
    ]
    for args in steps:
        r = run(*pre, *args)
        assert r.exit_code == 0, (args, r.output)


@pytest.fixture(scope="module")
def city_template(tmp_path_factory):
    """One store built through the CLI per module; each test gets a copy."""
    if os.environ.get("DJCTL_TEST_DB"):
        return None
    from typer.testing import CliRunner

    from djctl.cli import app

    base = tmp_path_factory.mktemp("lookback-city")
    runner = CliRunner()
    _build(lambda *a: runner.invoke(app, [str(x) for x in a], catch_exceptions=False), str(base / "djctl.db"), base)
    return base / "djctl.db"


@pytest.fixture
def city(cli, tmp_path, city_template):
    if city_template is None:
        _build(cli, None, tmp_path)
    else:
        from djctl.store.engine import backup_sqlite

        backup_sqlite(city_template, tmp_path / "djctl.db")
    return tmp_path


def sql(tmp_path: Path, statement: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(tmp_path / "djctl.db")
    try:
        with con:
            return con.execute(statement, params).fetchall()
    finally:
        con.close()


def draw(cli, *extra, seed=SEED) -> dict:
    return json_out(cli("lookback", "--year", "2024", "--seed", seed, *extra, "--json"))


def scheme_items(tier: str) -> list[str]:
    from djctl.domain.scheme import parse_scheme
    from djctl.resources import data_path

    scheme = parse_scheme(data_path("scheme-2024.toml").read_text(encoding="utf-8"))
    return [i.code for i in scheme.checklist(tier)]


# --------------------------------------------------------------------------- the draw


def test_population_is_branches_at_standard_or_above_as_of_the_draw_date(cli, city):
    doc = draw(cli, "--date", "2024-07-01")
    expected = {c: t for c, t in TIERS_2023.items() if t != "未达标"}
    assert doc["population"] == sorted(expected)
    assert doc["strata"] == expected  # stratified by tier, always
    assert doc["as_of"] == "2024-07-01"
    assert doc["label"] == "lookback:2024" and doc["rate"] == "0.3"
    # k = ceil(0.3 × 15) = 5, quotas by largest remainder: 达标 9 → 3, 过硬 4 → 1, 示范 2 → 1
    assert doc["k"] == compute_k("0.3", 15) == 5
    assert doc["quotas"] == stratified_quotas(5, {"达标": 9, "过硬": 4, "示范": 2}) == {"示范": 1, "达标": 3, "过硬": 1}
    assert sum(doc["quotas"].values()) == doc["k"] == len(doc["selected"])
    for tier, q in doc["quotas"].items():
        assert sum(1 for c in doc["selected"] if expected[c] == tier) == q
    # the negative list of 2023 (branches) is always drawn; a listed branch below 达标 is named, not drawn
    assert doc["mandatory"] == {LISTED_IN: "2023 年度负面清单"}
    assert LISTED_IN in doc["selected"]
    assert doc["keys"][doc["selected"][-1]] == draw_key(SEED, "lookback:2024", doc["selected"][-1])


def test_default_date_of_a_past_year_is_its_last_day_and_warnings_name_the_listed_branch(cli, city):
    r = cli("lookback", "--year", "2024", "--seed", SEED, "--json")
    doc = json_out(r)
    assert doc["as_of"] == "2024-12-31"
    assert UPGRADED in doc["population"] and doc["strata"][UPGRADED] == "达标"  # upgraded 2024-08-01
    assert LISTED_OUT in r.stderr and LISTED_OUT not in doc["population"]


def test_a_second_draw_needs_redraw_and_an_adhoc_series_has_its_own_label(cli, city):
    first = draw(cli)
    again = cli("lookback", "--year", "2024", "--seed", "x")
    assert again.exit_code == 2 and "已经抽签" in again.output
    special = draw(cli, "--label", "专项", "--unannounced", "--count", "3", seed="another published number")
    assert special["label"] == "lookback:2024-专项" and special["period"] == "2024"
    assert special["unannounced"] is True and special["seq"] == 2 and special["k"] == 3
    redo = draw(cli, "--label", "lookback:2024-专项", "--redraw", "--reason", "种子抄录有误", seed="corrected number")
    assert redo["label"] == "lookback:2024-专项#2" and redo["reason"] == "种子抄录有误"
    listed = {d["id"]: d for d in json_out(cli("lookback", "list", "--json"))["draws"]}
    assert [listed[i]["active"] for i in (first["id"], special["id"], redo["id"])] == [True, False, True]
    for i in (first["id"], special["id"], redo["id"]):
        assert json_out(cli("lookback", "verify", i, "--json"))["ok"] is True
    many = cli("lookback", "show", "--year", "2024")
    assert many.exit_code == 2 and "2 次回头看抽签" in many.output
    shown = json_out(cli("lookback", "show", "--year", "2024", "--label", "专项", "--json"))
    assert shown["id"] == redo["id"] and shown["unannounced"] is False
    text = cli("lookback", "show", str(special["id"])).stdout
    assert "暗访" in text and "（专项）" in text


@pytest.mark.parametrize("args, where", [
    (["lookback", "--seed", "x"], "--year"),
    (["lookback", "--year", "2024", "--redraw"], "--reason"),
    (["lookback", "--year", "2024", "--label", "专 项"], "--label"),
    (["lookback", "--year", "2024", "--rate", "1.5"], "--rate"),
    (["lookback", "forms", "--out", "x"], "--draw"),
])
def test_usage_mistakes_are_refused_before_anything_is_opened(cli, args, where):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert where in r.output
    assert not Path("djctl.db").exists()


def test_an_exported_record_verifies_without_any_store(cli, city, tmp_path):
    d = draw(cli)
    rec = tmp_path / "record.json"
    rec.write_text(cli("lookback", "show", str(d["id"]), "--json").stdout, encoding="utf-8")
    nowhere = tmp_path / "no" / "store.db"
    ok = cli("--db", str(nowhere), "lookback", "verify", "--record", str(rec), "--json")
    assert json_out(ok)["ok"] is True and json_out(ok)["selected"] == d["selected"]
    assert not nowhere.exists()
    doc = json.loads(rec.read_text(encoding="utf-8"))
    doc["selected"] = list(reversed(doc["selected"]))[:-1] + [c for c in doc["population"] if c not in doc["selected"]][:1]
    rec.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    bad = cli("--db", str(nowhere), "lookback", "verify", "--record", str(rec))
    assert bad.exit_code == 1 and "抽中名单不一致" in bad.output


# --------------------------------------------------------------------------- worksheets


def forms(cli, tmp_path: Path, **draw_args) -> tuple[dict, dict[str, Path]]:
    d = draw(cli, *draw_args.get("extra", ()))
    out = json_out(cli("lookback", "forms", "--year", "2024", "--out", tmp_path / "forms", "--json"))
    assert out["draw"]["id"] == d["id"]
    files = {Path(f).name.split("_")[1]: Path(f) for f in out["files"]}
    assert sorted(files) == sorted(d["selected"])
    return d, files


def test_worksheet_lists_the_tier_checklist_with_header_meta_validation_and_locks(cli, city, tmp_path):
    from openpyxl import load_workbook

    d, files = forms(cli, tmp_path)
    code = next(c for c in d["selected"] if d["strata"][c] == "过硬")
    wb = load_workbook(files[code])
    ws = wb["回头看核查表"]
    header = {ws.cell(r, c).value: ws.cell(r, c + 1).value for r in range(1, 6) for c in (1, 3)}
    assert header["支部编码"] == code and header["支部名称"] == f"测试单位{int(code[1:4])}第{int(code[-2:])}支部"
    assert header["所属单位"] == f"{code[:4]} 测试单位{int(code[1:4])}机关党委"
    assert header["等次"] == "过硬支部" and header["抽签"] == f"#{d['id']}（lookback:2024）"
    cols = [c.value for c in ws[8]]
    assert cols == ["序号", "项目编码", "项目", "标准", "过硬维度", "是否达到", "问题描述", "核查人", "问题类别"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=9)]
    assert [r[1] for r in rows] == scheme_items("过硬") == ["D01", "D02", "D03", "D04", "D05", "G01", "G02", "G03",
                                                           "G04", "G05", "G06", "G07"]
    assert rows[0][4] is None and rows[5][4] == "政治统领"  # 过硬 items name their dimension
    assert all(r[5] is None and r[6] is None for r in rows)
    meta = {r[0].value: r[1].value for r in wb["_djctl"].iter_rows()}
    assert wb["_djctl"].sheet_state == "veryHidden"
    assert (meta["kind"], meta["draw_id"], meta["branch"], meta["tier"], meta["year"]) == (
        "lookback", str(d["id"]), code, "过硬", "2024")
    assert ws.protection.sheet is True
    unlocked = {ws.cell(8, c).value for c in range(1, 10) if not ws.cell(9, c).protection.locked}
    assert unlocked == {"是否达到", "问题描述", "核查人", "问题类别"}
    dv = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert len(dv) == 2 and dv[0].formula1 == '"是,否"' and str(dv[0].sqref) == f"F9:F{8 + len(rows)}"
    assert "组织生活" in dv[1].formula1 and str(dv[1].sqref) == f"I9:I{8 + len(rows)}"
    d_code = next(c for c in d["selected"] if d["strata"][c] == "达标")
    assert [r[1].value for r in load_workbook(files[d_code])["回头看核查表"].iter_rows(min_row=9)] == scheme_items("达标")


def fill(src: Path, dst: Path, answers: dict[str, tuple[bool, str]] | None = None, *, edit=None) -> Path:
    """Fill a worksheet: every item 是 unless `answers` says otherwise; `edit(ws)` then changes cells."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws = wb["回头看核查表"]
    answers = answers or {}
    for r in range(9, ws.max_row + 1):
        code = ws.cell(r, 2).value
        ok, problem = answers.get(code, (True, ""))
        ws.cell(r, 6).value = "是" if ok else "否"
        ws.cell(r, 7).value = problem or None
        ws.cell(r, 8).value = "王明"
    if edit:
        edit(wb, ws)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


FAILS = {"D02": (False, "近一个季度支委会只召开 1 次"), "G04": (False, "2 名流动党员失联未处置")}


@pytest.mark.sqlite_only
def test_a_failed_branch_rebounds_with_rectifications_and_a_passing_branch_keeps_its_tier(cli, city, tmp_path):
    d, files = forms(cli, tmp_path)
    bad = next(c for c in d["selected"] if d["strata"][c] == "过硬")
    good = next(c for c in d["selected"] if d["strata"][c] == "达标")
    back = tmp_path / "back"
    for code, path in files.items():
        fill(path, back / path.name, FAILS if code == bad else None)
    res = json_out(cli("lookback", "import", back, "--date", "2024-11-05", "--json"))
    assert [f["status"] for f in res["files"]] == ["imported"] * len(files)
    by = {f["branch"]: f for f in res["files"]}
    assert by[bad]["failed_items"] == ["D02", "G04"] and by[bad]["rebound"]["to"] == "达标"
    assert by[good]["rebound"] is None and by[good]["passed"] is True

    hist = json_out(cli("tier", "history", bad, "--json"))
    assert hist["tier"] == "达标"
    last = hist["history"][-1]
    assert (last["from"], last["to"], last["date"], last["basis"], last["direction"]) == (
        "过硬", "达标", "2024-11-05", "回头看", "down")
    items = [i for i in json_out(cli("rectify", "list", "--json"))["items"] if i["org"] == bad]
    assert len(items) == 2 and {i["due"] for i in items} == {"2024-12-05"}  # 2024-11-05 + 30 days
    assert {i["source"] for i in items} == {"lookback"} and {i["kind"] for i in items} == {"branch"}
    # the checklist item by its name in official wording, not by its code (G04) or the draw's label
    assert any("“" in i["problem"] and "流动党员" in i["problem"] and "G04" not in i["problem"]
               and "lookback:" not in i["problem"] for i in items)
    assert by[bad]["rectifications"] == sorted(i["id"] for i in items)

    kept = json_out(cli("tier", "history", good, "--json"))
    assert kept["tier"] == "达标" and all(h["basis"] != "回头看" for h in kept["history"])
    assert sql(tmp_path, "SELECT count(*) FROM lookback_result WHERE active = 1")[0][0] == sum(
        len(scheme_items(d["strata"][c])) for c in d["selected"])

    # the same files again change nothing
    before = sql(tmp_path, "SELECT count(*) FROM audit_event")[0][0]
    again = json_out(cli("lookback", "import", back, "--date", "2024-11-20", "--json"))
    assert {f["status"] for f in again["files"]} == {"unchanged"}
    assert sql(tmp_path, "SELECT count(*) FROM audit_event")[0][0] == before
    assert len(json_out(cli("tier", "history", bad, "--json"))["history"]) == len(hist["history"])

    # a different file for an imported branch needs --replace; it does not move the branch down twice
    other = fill(files[bad], tmp_path / "again" / files[bad].name, {"D02": FAILS["D02"]},
                 edit=lambda wb, ws: ws.cell(9, 8, "李静"))
    refused = cli("lookback", "import", other, "--date", "2024-11-20")
    assert refused.exit_code == 2 and "--replace" in refused.output
    replaced = json_out(cli("lookback", "import", other, "--replace", "--date", "2024-11-20", "--json"))
    assert replaced["files"][0]["status"] == "imported" and replaced["files"][0]["rebound"] is None
    assert json_out(cli("tier", "history", bad, "--json"))["history"][-1]["date"] == "2024-11-05"
    assert sql(tmp_path, "SELECT count(*) FROM rectification WHERE org_code = ?", (bad,))[0][0] == 2


@pytest.mark.sqlite_only
def test_bad_worksheets_are_refused_with_row_and_column_and_nothing_is_written(cli, city, tmp_path):
    d, files = forms(cli, tmp_path)
    code = next(c for c in d["selected"] if d["strata"][c] == "达标")
    src = files[code]
    bad = tmp_path / "bad"

    def cell(row, col, value):
        def edit(wb, ws):
            ws.cell(row, col).value = value  # ws.cell(r, c, None) would leave the cell as it was
        return edit

    cases = {
        "answer.xlsx": (cell(10, 6, "基本达到"), 10, "是否达到", "无效"),
        "empty.xlsx": (cell(11, 6, None), 11, "是否达到", "不能为空"),
        "noproblem.xlsx": (cell(9, 6, "否"), 9, "问题描述", "问题描述"),
        "unknown.xlsx": (cell(12, 2, "X99"), 12, "项目编码", "不在达标支部的检查清单中"),
        "duplicate.xlsx": (cell(13, 2, "D01"), 13, "项目编码", "重复"),
        "missing.xlsx": (lambda wb, ws: ws.delete_rows(13), None, None, "缺少检查项目：D05"),
        "header.xlsx": (cell(2, 2, "U999-B01"), 2, "支部编码", "表头的支部编码被改为"),
    }
    for name, (edit, row, column, text) in cases.items():
        r = cli("lookback", "import", fill(src, bad / name, edit=edit), "--json")
        assert r.exit_code == 2, (name, r.output)
        f = json.loads(r.stdout)["files"][0]
        assert f["status"] == "refused"
        assert any(text in e["message"] and e["row"] == row and e["column"] == column for e in f["errors"]), (name, f)

    # a worksheet for a branch that is not in the draw (meta and header both changed) is refused
    outsider = next(c for c in TIERS_2023 if c not in d["selected"] and TIERS_2023[c] == "达标")

    def swap(wb, ws):
        ws.cell(2, 2, outsider)
        meta = wb["_djctl"]
        for row in meta.iter_rows():
            if row[0].value == "branch":
                row[1].value = outsider

    r = cli("lookback", "import", fill(src, bad / "outsider.xlsx", edit=swap))
    assert r.exit_code == 2 and "不在抽签" in r.output and outsider in r.output
    assert sql(tmp_path, "SELECT count(*) FROM lookback_result")[0][0] == 0
    assert sql(tmp_path, "SELECT count(*) FROM import_file WHERE kind = 'lookback'")[0][0] == 0
    assert sql(tmp_path, "SELECT count(*) FROM tier_change WHERE basis = '回头看'")[0][0] == 0
    # a dry run of a good file validates and writes nothing
    good = cli("lookback", "import", fill(src, bad / "good.xlsx"), "--dry-run", "--json")
    assert json_out(good)["files"][0]["status"] == "valid"
    assert sql(tmp_path, "SELECT count(*) FROM lookback_result")[0][0] == 0


# --------------------------------------------------------------------------- the report


def test_report_reads_back_with_the_rebound_table_and_year_end_hook(cli, city, tmp_path, store):
    from docx import Document

    from djctl.services.lookback_report import yearend_documents

    d, files = forms(cli, tmp_path)
    bad = next(c for c in d["selected"] if d["strata"][c] == "过硬")
    for code, path in files.items():
        fill(path, tmp_path / "back" / path.name, FAILS if code == bad else None)
    assert cli("lookback", "import", tmp_path / "back", "--date", "2024-11-05").exit_code == 0
    out = json_out(cli("lookback", "report", "--year", "2024", "--format", "docx,md", "--date", "2024-12-01",
                       "--out", tmp_path / "docs", "--json"))
    docx_path = next(Path(p) for p in out["files"] if p.endswith(".docx"))
    doc = Document(docx_path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "关于2024年度党支部分类定级“回头看”情况的通报" in text.replace("\n", "")   # the title in lines
    assert "2024年12月1日" in text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert SEED in cells   # the seed in the attachment 抽签情况公示, not in the body
    tables = {tuple(c.text for c in t.rows[0].cells): [[c.text for c in r.cells] for r in t.rows[1:]] for t in doc.tables}
    rates = tables[("等次", "抽取", "已核查", "保持等次", "反弹", "反弹率")]
    assert rates == [["示范支部", "1", "1", "1", "0", "0%"], ["过硬支部", "1", "1", "0", "1", "100%"],
                     ["达标支部", "3", "3", "3", "0", "0%"], ["合计", "5", "5", "4", "1", "20%"]]
    rebound = tables[("序号", "支部", "所属单位", "原等次", "调整后等次", "未达到的项目", "问题描述")]
    assert len(rebound) == 1 and rebound[0][3:5] == ["过硬支部", "达标支部"]
    assert "D02" not in rebound[0][5] and "G04" not in rebound[0][5] and "流动党员" in rebound[0][6]  # names only
    assert "党员管理精细" in rebound[0][5]
    status = tables[("序号", "支部", "问题", "整改期限", "状态")]
    assert [r[3:] for r in status] == [["2024年12月5日", "整改中"]] * 2

    assert yearend_documents(store, 2025, tmp_path / "ye", None, date(2026, 1, 10)) == []
    written = yearend_documents(store, 2024, tmp_path / "ye", None, date(2025, 1, 10))
    assert {p.suffix for p in written} == {".docx", ".md", ".html", ".xlsx", ".png"}
    assert "逾期未整改" in next(p for p in written if p.suffix == ".md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_step_draws_fills_imports_and_reports(tmp_path):
    from djctl.services.demo import lookback, tiers
    from djctl.services.demo import DemoContext, step_setup
    from djctl.store.engine import open_store

    store = open_store(tmp_path / "demo.db")
    ctx = DemoContext(dir=tmp_path)
    try:
        step_setup(store, ctx)
        tiers.demo_step(store, ctx)
        lines = lookback.demo_step(store, ctx)
    finally:
        store.dispose()
    assert "反弹" in lines[1]
    assert (tmp_path / "文书" / "2024_回头看报告.docx").exists()


@pytest.mark.sqlite_only
def test_the_worksheet_category_classifies_the_items_it_creates(cli, city, tmp_path):
    d, files = forms(cli, tmp_path)
    bad = next(c for c in d["selected"] if d["strata"][c] == "过硬")

    def category(wb, ws):
        for r in range(9, ws.max_row + 1):
            if ws.cell(r, 2).value == "D02":
                ws.cell(r, 9).value = "组织生活"
            if ws.cell(r, 2).value == "D01":  # a passed item's category makes nothing
                ws.cell(r, 9).value = "党费管理"

    path = fill(files[bad], tmp_path / "back" / files[bad].name, FAILS, edit=category)
    res = json_out(cli("lookback", "import", path, "--date", "2024-11-05", "--json"))
    assert res["files"][0]["status"] == "imported"
    tags = sql(tmp_path, "SELECT r.source_ref, t.category, t.on_date FROM rectification_tag t "
                         "JOIN rectification r ON r.id = t.item_id ORDER BY r.source_ref")
    assert [(ref.rsplit(":", 1)[1], cat, day) for ref, cat, day in tags] == [("D02", "组织生活", "2024-11-05")]

    wrong = fill(files[bad], tmp_path / "wrong" / files[bad].name, FAILS,
                 edit=lambda wb, ws: ws.cell(10, 9, "作风建设"))
    r = cli("lookback", "import", wrong, "--replace", "--date", "2024-11-06", "--json")
    assert r.exit_code == 2
    [err] = [e for e in json.loads(r.stdout)["files"][0]["errors"] if e["column"] == "问题类别"]
    assert err["row"] == 10 and "不在考核方案的列表中" in err["message"]


@pytest.mark.sqlite_only
def test_the_same_answers_resaved_by_another_program_are_unchanged(cli, city, tmp_path):
    d, files = forms(cli, tmp_path)
    bad = next(c for c in d["selected"] if d["strata"][c] == "过硬")
    first = fill(files[bad], tmp_path / "a" / files[bad].name, FAILS)
    assert json_out(cli("lookback", "import", first, "--date", "2024-11-05", "--json"))["files"][0]["status"] == "imported"
    resaved = fill(files[bad], tmp_path / "b" / files[bad].name, FAILS, edit=lambda wb, ws: wb.create_sheet("Sheet2"))
    assert resaved.read_bytes() != first.read_bytes()
    before = sql(tmp_path, "SELECT count(*) FROM audit_event")[0][0]
    for extra in ((), ("--dry-run",)):
        doc = json_out(cli("lookback", "import", resaved, *extra, "--date", "2024-11-05", "--json"))["files"][0]
        assert doc["status"] == "unchanged" and "内容与已导入的回头看核查表相同" in doc["message"]
    assert sql(tmp_path, "SELECT count(*) FROM audit_event")[0][0] == before
    # another check date is another finding: a different file
    r = cli("lookback", "import", resaved, "--date", "2024-11-06")
    assert r.exit_code == 2 and "--replace" in r.output
