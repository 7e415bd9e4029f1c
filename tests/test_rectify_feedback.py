"""`djctl rectify letters|import`: one feedback letter per unit, its 整改台账 returned and read back, the
items 已整改待核 until a close confirms them or a reopen returns them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import json_out, small_roster

NO_SECRETARY = [["U009", "测试单位9机关党委", "机关党委", "第1组", "", 30]]


@pytest.fixture
def items(cli, tmp_path) -> dict[str, int]:
    """Three units with open items at 2024-09-30 (U001 with a branch item), U003 with only a closed one, a
    unit without a secretary, and items that fall outside the letters (found later, closed before)."""
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=3, extra_units=NO_SECRETARY,
                                             branches=[["U001-B01", "测试单位1第一支部", "U001", 11, "达标", "2023-06-01"]])
               ).exit_code == 0

    def add(org, problem, found, due, *extra) -> int:
        return json_out(cli("rectify", "add", org, "--problem", problem, "--found", found, "--due", due,
                            *extra, "--json"))["id"]

    ids = {
        "a": add("U001", "党费收缴台账不完整", "2024-07-01", "2024-09-15", "--category", "党费管理"),
        "b": add("U001-B01", "“三会一课”记录不全", "2024-08-01", "2024-10-31", "--source", "lookback"),
        "c": add("U002", "主题党日流于形式", "2024-08-10", "2024-10-31"),
        "d": add("U003", "学习记录缺失", "2024-07-01", "2024-08-31"),
        "e": add("U009", "支部委员缺额未补选", "2024-09-01", "2024-11-30", "--category", "组织设置"),
        "f": add("U001", "十月发现的问题", "2024-10-05", "2024-11-05"),
        "g": add("U001", "已销号的问题", "2024-07-01", "2024-08-31"),
    }
    for key in ("d", "g"):
        assert cli("rectify", "close", str(ids[key]), "--feedback", "已整改", "--date", "2024-08-20").exit_code == 0
    return ids


def events(cli) -> int:
    return json_out(cli("audit", "verify", "--json"))["events"]


def letters(cli, out: Path, *args: str) -> dict:
    return json_out(cli("rectify", "letters", "--period", "2024Q3", "--out", str(out), *args, "--json"))


def docx_text(path: str) -> str:
    from docx import Document

    doc = Document(path)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def fill(ledger: str, target: Path, rows: dict[int, tuple], *, edit=None) -> Path:
    """Fill a ledger as a unit would: {item id: (措施, 结果, 责任人, 完成时间, 佐证材料)}; `edit(ws)` breaks it."""
    import openpyxl

    wb = openpyxl.load_workbook(ledger)
    ws = wb["整改台账"]
    for row in ws.iter_rows(min_row=7):
        if row[0].value in rows:
            for cell, value in zip(row[2:7], rows[row[0].value]):
                cell.value = value
    if edit is not None:
        edit(ws)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


GOOD = ("补齐党费台账，按月收缴", "台账已补齐", "张三", date(2024, 10, 15), "台账照片.jpg")


def test_one_letter_per_unit_lists_its_open_items_and_goes_to_its_secretary(cli, items, tmp_path):
    doc = letters(cli, tmp_path / "函")
    by = {x["unit"]: x for x in doc["letters"]}
    assert sorted(by) == ["U001", "U002", "U009"]  # U003 has nothing open on 30 September
    assert by["U001"]["items"] == [items["a"], items["b"]]  # its branch's item too; not the later nor the closed
    assert by["U002"]["items"] == [items["c"]] and by["U009"]["items"] == [items["e"]]
    assert by["U001"]["overdue"] == 1 and doc["as_of"] == "2024-09-30" and doc["reply_by"] == "2024-10-30"
    text = docx_text(by["U001"]["letter"])
    assert "测试单位1机关党委书记张三同志：" in text
    assert "党费收缴台账不完整" in text and "“三会一课”记录不全" in text and "十月发现的问题" not in text
    assert "党费管理" in text and "未分类" in text and "督导检查" in text and "回头看" in text
    assert "2024年9月15日\n已逾期" in text and "未到期" in text and "2024年10月31日" in text and "2024年10月30日前" in text
    assert "测试单位1第一支部" in text and "按规定足额收缴党费" in text
    assert "测试单位9党组（党委）书记：" in docx_text(by["U009"]["letter"])
    if by["U001"]["doc_number"]:  # the scheme numbers its documents: the letter carries its 字号 in the 版头
        assert by["U001"]["doc_number"] in text
    ledger = Path(by["U001"]["ledger"])
    assert ledger.parent == Path(by["U001"]["letter"]).parent and ledger.suffix == ".xlsx"
    import openpyxl

    ws = openpyxl.load_workbook(ledger)["整改台账"]
    assert [c.value for c in ws[6]] == ["事项编号", "问题", "整改措施", "整改结果", "责任人", "完成时间", "佐证材料"]
    assert [(r[0].value, r[1].value) for r in ws.iter_rows(min_row=7)] == [
        (items["a"], "党费收缴台账不完整"), (items["b"], "“三会一课”记录不全")]
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for row in ws.iter_rows() for c in row)
    # one unit, another day: the 4 October letter lists what is open then
    one = letters(cli, tmp_path / "函2", "--org", "U001", "--date", "2024-10-10")
    assert [x["items"] for x in one["letters"]] == [[items["a"], items["b"], items["f"]]]


def test_returned_ledger_imported_then_unchanged(cli, items, tmp_path):
    doc = letters(cli, tmp_path / "函")
    ledger = next(x["ledger"] for x in doc["letters"] if x["unit"] == "U001")
    back = fill(ledger, tmp_path / "回收" / "U001.xlsx", {items["a"]: GOOD, items["b"]: GOOD})
    before = events(cli)
    first = json_out(cli("rectify", "import", str(back), "--date", "2024-10-20", "--json"))
    assert first["files"][0]["status"] == "imported" and first["files"][0]["items"] == [items["a"], items["b"]]
    assert events(cli) == before + 1  # one file, one audit event
    head = json_out(cli("audit", "head", "--json"))
    again = json_out(cli("rectify", "import", str(back), "--date", "2024-10-20", "--json"))
    assert again["files"][0]["status"] == "unchanged"
    # the same content in another file (saved again) is unchanged too
    copy = fill(str(back), tmp_path / "回收" / "U001-副本.xlsx", {}, edit=lambda ws: setattr(
        ws.column_dimensions["H"], "width", 20))
    assert json_out(cli("rectify", "import", str(tmp_path / "回收"), "--date", "2024-10-21", "--json")
                    )["totals"]["unchanged"] == 2
    assert copy.read_bytes() != back.read_bytes()
    assert json_out(cli("audit", "head", "--json")) == head  # nothing new in the audit chain
    shown = json_out(cli("rectify", "show", str(items["a"]), "--json"))
    assert shown["status"] == "submitted" and shown["status_cn"] == "已整改待核"
    assert shown["submission"]["measures"] == "补齐党费台账，按月收缴" and shown["submission"]["date"] == "2024-10-20"
    assert shown["submission"]["done_on"] == "2024-10-15" and shown["submission"]["evidence"] == "台账照片.jpg"
    assert "整改措施：补齐党费台账，按月收缴" in shown["feedback"]
    assert [c["action"] for c in shown["changes"]] == ["found", "feedback"]
    assert [h["action"] for h in shown["history"]][-1] == "rectify.feedback"
    assert shown["history"][-1]["new"]["status"] == "submitted"
    out = cli("rectify", "show", str(items["a"])).stdout
    assert "已整改待核" in out and "U001.xlsx 第 7 行" in out
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def _set(column: int, value, row: int = 7):
    def edit(ws):
        ws.cell(row=row, column=column).value = value
    return edit


BROKEN = [  # (name, edit of the filled ledger, row, column, words of the reason)
    ("wrong header", _set(3, "措施", row=6), 6, "整改措施", "缺少表头"),
    ("not of the unit", _set(1, "c"), 7, "事项编号", "不是本单位"),
    ("unknown item", _set(1, 9999), 7, "事项编号", "没有编号为 9999"),
    ("closed item", _set(1, "g"), 7, "事项编号", "已于 2024-08-20 销号"),
    ("empty measures", _set(3, None), 7, "整改措施", "不能为空"),
    ("not a date", _set(6, "下周"), 7, "完成时间", "不是有效日期"),
    ("after the business date", _set(6, date(2024, 12, 1)), 7, "完成时间", "晚于报送日期"),
    ("before found", _set(6, date(2024, 6, 1)), 7, "完成时间", "早于问题发现日期"),
    ("text id", _set(1, "十二"), 7, "事项编号", "不是事项编号"),
    ("duplicate", _set(1, "a", row=8), 8, "事项编号", "与第 7 行重复"),
    ("formula", _set(3, "=B7"), 7, "整改措施", "公式"),
    ("unit changed", _set(2, "U002", row=2), 2, "单位编码", "单位编码被改为"),
]


@pytest.mark.parametrize("name,edit,row,column,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_ledger_refused_with_row_and_column(cli, items, tmp_path, name, edit, row, column, words):
    doc = letters(cli, tmp_path / "函")
    ledger = next(x["ledger"] for x in doc["letters"] if x["unit"] == "U001")

    def breaking(ws):  # ids named by their key in the fixture
        edit(ws)
        for r in ws.iter_rows(min_row=7, max_col=1):
            if isinstance(r[0].value, str) and r[0].value in items:
                r[0].value = items[r[0].value]

    bad = fill(ledger, tmp_path / "回收" / "坏.xlsx", {items["a"]: GOOD, items["b"]: GOOD}, edit=breaking)
    before = events(cli)
    r = cli("rectify", "import", str(bad), "--date", "2024-10-20", "--json")
    assert r.exit_code == 2, r.output
    f = json.loads(r.stdout)["files"][0]
    assert f["status"] == "refused" and f["path"].endswith("坏.xlsx")
    assert any(e["row"] == row and e["column"] == column and words in e["message"] for e in f["errors"]), f["errors"]
    assert events(cli) == before
    assert json_out(cli("rectify", "show", str(items["a"]), "--json"))["status"] == "open"
    text = cli("rectify", "import", str(bad), "--date", "2024-10-20")  # the same in words, exit 2
    assert text.exit_code == 2 and "坏.xlsx" in text.output and f"第 {row} 行" in text.output
    assert f"「{column}」列" in text.output


def test_dry_run_writes_nothing(cli, items, tmp_path):
    doc = letters(cli, tmp_path / "函")
    ledger = next(x["ledger"] for x in doc["letters"] if x["unit"] == "U002")
    back = fill(ledger, tmp_path / "回收" / "U002.xlsx", {items["c"]: GOOD})
    before = events(cli)
    r = json_out(cli("rectify", "import", str(back), "--date", "2024-10-20", "--dry-run", "--json"))
    assert r["files"][0]["status"] == "valid" and events(cli) == before
    assert json_out(cli("rectify", "show", str(items["c"]), "--json"))["status"] == "open"
    assert json_out(cli("rectify", "import", str(back), "--date", "2024-10-20", "--json"))["files"][0]["status"] == "imported"


def test_submitted_stays_open_for_the_rates_until_confirmed_or_returned(cli, items, tmp_path, store):
    doc = letters(cli, tmp_path / "函")
    ledger = next(x["ledger"] for x in doc["letters"] if x["unit"] == "U001")

    def total() -> tuple:
        t = json_out(cli("rectify", "stats", "--year", "2024", "--as-of", "2024-12-31", "--json"))["total"]
        return t["due"], t["closed_due"], t["closed_on_time"], t["open"]

    start = total()
    back = fill(ledger, tmp_path / "回收" / "U001.xlsx", {items["a"]: GOOD, items["b"]: GOOD})
    assert cli("rectify", "import", str(back), "--date", "2024-10-20").exit_code == 0
    assert total() == start  # 已整改待核 is still open: nothing closed yet
    listed = json_out(cli("rectify", "list", "--status", "submitted", "--as-of", "2024-12-31", "--json"))
    assert [i["id"] for i in listed["items"]] == [items["a"], items["b"]] and listed["counts"]["submitted"] == 2
    assert json_out(cli("rectify", "list", "--status", "已整改待核", "--json"))["counts"]["total"] == 2
    assert "已整改待核事项的整改反馈" in cli("rectify", "list", "--as-of", "2024-12-31").stdout
    # a confirmed close counts from its own date (after a's deadline of 15 September: closed, but late)
    closed = json_out(cli("rectify", "close", str(items["a"]), "--date", "2024-10-25", "--json"))
    assert closed["status"] == "closed" and closed["feedback"].startswith("整改措施：补齐党费台账")
    assert total() == (start[0], start[1] + 1, start[2], start[3] - 1)
    # returned: open again, the return is not a reopened problem
    back_b = json_out(cli("rectify", "reopen", str(items["b"]), "--date", "2024-10-25", "--reason", "佐证不足", "--json"))
    assert back_b["status"] == "open" and not back_b["reopened"] and back_b["changes"][-1]["action"] == "return"
    assert total() == (start[0], start[1] + 1, start[2], start[3] - 1)
    assert cli("rectify", "reopen", str(items["c"]), "--date", "2024-10-25", "--reason", "x").exit_code == 2
    # the returned item may be reported again (a new file): 已整改待核 once more
    again = fill(ledger, tmp_path / "回收2" / "U001.xlsx", {items["b"]: GOOD[:4] + ("补充的佐证.pdf",)})
    assert json_out(cli("rectify", "import", str(again), "--date", "2024-11-01", "--json"))["files"][0]["status"] == "imported"
    assert json_out(cli("rectify", "show", str(items["b"]), "--json"))["status"] == "submitted"
    assert json_out(cli("audit", "verify", "--json"))["ok"]
    # the quarter's bulletin and schedule say it in one sentence (U001 and its branch: one unit)
    from datetime import date

    from djctl.services.rectify_stats import quarter_closure_text

    with store.read() as uow:
        assert quarter_closure_text(uow.session, date(2024, 10, 1), date(2024, 12, 31)) == [
            "本季度收到 1 个单位报送的问题整改台账，涉及整改事项 2 项；经审核销号 1 项，退回重新整改 1 项，尚待审核 1 项。"]
        assert quarter_closure_text(uow.session, date(2024, 7, 1), date(2024, 9, 30)) == []


def test_cli_exit_codes(cli, items, tmp_path):
    assert cli("rectify", "letters", "--period", "2024Q3", "--out", str(tmp_path / "a")).exit_code == 0
    assert cli("rectify", "letters", "--period", "2024Q5", "--out", str(tmp_path / "b")).exit_code == 2
    assert cli("rectify", "letters", "--period", "2024Q3", "--out", str(tmp_path / "c"), "--org", "NOPE").exit_code == 2
    assert not (tmp_path / "c").exists()
    assert cli("rectify", "import", str(tmp_path / "没有这个文件.xlsx"), "--date", "2024-10-20").exit_code == 2
    assert cli("rectify", "import", str(tmp_path / "a"), "--date", "2024-10-32").exit_code == 2
    # an untouched ledger reports nothing: refused, not an empty import
    r = cli("rectify", "import", str(tmp_path / "a"), "--date", "2024-10-20")
    assert r.exit_code == 2 and "没有任何已填写的整改情况" in r.output


def test_a_workbook_not_made_by_letters_is_refused(cli, items, tmp_path):
    from tests.helpers import workbook

    plain = workbook(tmp_path / "自制.xlsx", {"整改台账": [
        ["事项编号", "问题", "整改措施", "整改结果", "责任人", "完成时间", "佐证材料"],
        [items["a"], "党费收缴台账不完整", "补齐", "已补齐", "张三", "2024-10-15", ""]]})
    before = events(cli)
    r = cli("rectify", "import", str(plain), "--date", "2024-10-20")
    assert r.exit_code == 2 and "不是 djctl 生成的问题整改台账" in r.output and events(cli) == before
