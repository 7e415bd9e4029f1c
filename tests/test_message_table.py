"""One table of messages: the same bad cell reads the same in every importer.

Each importer gets a file that is valid but for one number cell; the refusal must name that cell's sheet,
row and column with exactly the same wording whichever importer read it (the row readers share
`djctl.io.cells.RowReader` and `number_problem`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from openpyxl import load_workbook

from tests.helpers import BRANCH_HEADER, UNIT_HEADER, json_out, small_roster, workbook
from tests.monthly_helpers import fill_form

#: bad value -> the one message every importer gives for it
BAD: dict[str, tuple[Any, str]] = {
    "text": ("九", "「九」不是有效数字"),
    "negative": (-1, "「-1」不能为负数"),
    "comma": ("1,5", "「1,5」不是有效数字（小数点请用「.」，不要用逗号）"),
    "formula": ("=1+1", "是公式（=1+1），没有计算结果：请填写数值或文本，不要用公式"),
    "full-width-text": ("８分", "「８分」不是有效数字"),
}


def _selfeval(cli, d: Path, bad: Any) -> tuple[list[str], tuple[str, int, str]]:
    doc = json_out(cli("selfeval", "forms", "--month", "2024-03", "--out", d / "forms", "--json"))
    src = Path(sorted(doc["files"])[0])
    dst = fill_form(src, d / "back" / src.name, {"T01": bad})
    ws = load_workbook(dst)["自评表"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "T01")
    return ["selfeval", "import", str(dst)], ("自评表", row, "自评得分")


def _votes(cli, d: Path, bad: Any):
    f = workbook(d / "votes.xlsx", {"民主测评": [["单位编码", "单位名称", "好", "较好", "一般", "差", "参评人数"],
                                             ["U001", "", bad, 1, 0, 0, None]]})
    return ["votes", "import", str(f), "--year", "2024"], ("民主测评", 2, "好")


def _debrief(cli, d: Path, bad: Any):
    f = workbook(d / "debrief.xlsx", {"述职评议": [
        ["组织编码", "组织名称", "层级", "书记", "述职日期", "好", "较好", "一般", "差", "参评人数", "备注"],
        ["U001", "", "机关党委", "张三", "2025-01-15", 3, bad, 0, 0, None, ""]]})
    return ["debrief", "import", str(f), "--year", "2024"], ("述职评议", 2, "较好")


def _staff(cli, d: Path, bad: Any):
    f = workbook(d / "staff.xlsx", {"月度考评": [["人员编码", "工作实绩", "作风表现", "综合测评"], ["S01", 80, bad, 80]]})
    return ["staff", "import", str(f), "--month", "2024-03"], ("月度考评", 2, "作风表现")


def _adjust(cli, d: Path, bad: Any):
    f = workbook(d / "adjust.xlsx", {"加减分项": [["单位编码", "单位名称", "年度", "类型", "分值", "事由", "依据", "一票否决"],
                                              ["U001", "", 2024, "加分", bad, "获表彰", "示工委〔2024〕1号", "否"]]})
    return ["adjust", "import", str(f)], ("加减分项", 2, "分值")


def _roster(cli, d: Path, bad: Any):
    f = workbook(d / "roster.xlsx", {"单位": [UNIT_HEADER, ["U001", "测试单位1机关党委", "机关党委", "第1组", "张三", bad]],
                                     "支部": [BRANCH_HEADER]})
    return ["org", "import", str(f)], ("单位", 2, "党员人数")


IMPORTERS: dict[str, Callable[..., tuple[list[str], tuple[str, int, str]]]] = {
    "selfeval": _selfeval, "votes": _votes, "debrief": _debrief, "staff": _staff, "adjust": _adjust, "roster": _roster}


@pytest.fixture
def store(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=3)).exit_code == 0
    assert cli("tasks", "set", "--month", "2024-03").exit_code == 0
    staff = workbook(tmp_path / "干部.xlsx", {"工委干部": [["人员编码", "姓名", "职务", "处室"], ["S01", "周明远", "一级主任科员", "办公室"]]})
    assert cli("staff", "roster", staff).exit_code == 0
    return tmp_path


def _message(cli, args: list[str], where: tuple[str, int, str]) -> str:
    r = cli(*args, "--json")
    assert r.exit_code == 2, r.output
    doc = json.loads(r.stdout)
    errors = doc["files"][0]["errors"] if "files" in doc else doc.get("errors") or doc["error"]["problems"]
    at = [e["message"] for e in errors if (e.get("sheet"), e.get("row"), e.get("column")) == where]
    assert len(at) == 1, errors
    return at[0]


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_same_bad_cell_reads_the_same_in_every_importer(cli, store, case):
    bad, expected = BAD[case]
    got = {}
    for name, build in IMPORTERS.items():
        d = store / case / name
        d.mkdir(parents=True)
        args, where = build(cli, d, bad)
        got[name] = _message(cli, args, where)
    assert got == {name: expected for name in IMPORTERS}
