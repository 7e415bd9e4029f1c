"""The demo year's 整改回头看 (issue 18, item 4): a re-check draw of the year's closed items with a published-style
seed, the worksheets filled as the checkers would (one item found not really fixed, the rest confirmed) and
imported; the year's negative list is rebuilt so that the reopened item shows as a repeated problem."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from djctl.errors import InputError
from djctl.io.outfile import save_workbook
from djctl.io.recheck_form import COLUMNS, NO, SHEET, YES
from djctl.io.xlsx import norm_text
from djctl.store.engine import Store

# the committee's filling of the worksheet, as the demo plays it


def fill_recheck_form(src: Path, dst: Path, *, on_date: date, checker: str, fixed: bool | str, finding: str = "") -> Path:
    """Fill a worksheet as a checker would and save it as `dst` (`fixed` may be any text, to test refusals)."""
    from openpyxl import load_workbook

    from djctl.io.xlsx import put

    wb = load_workbook(str(src))
    ws = wb[SHEET]
    header = next((row[0].row for row in ws.iter_rows(min_row=1, max_row=40)
                   if norm_text(row[0].value) == COLUMNS[0].name), None)
    if header is None:
        raise InputError("找不到复查表的表头", path=str(src))
    put(ws, header + 1, 1, on_date)
    put(ws, header + 1, 2, checker)
    put(ws, header + 1, 3, (YES if fixed else NO) if isinstance(fixed, bool) else fixed)
    put(ws, header + 1, 4, finding or None)
    save_workbook(wb, dst)
    return dst


DRAW_DAY = (12, 21)  # after the demo's last change of an item (20 December)
DRAW_COUNT = 3
CHECKER = "工委督查组 李明、赵静"
NOT_FIXED = "现场查看发现整改不到位：台账仍未按月登记，部分佐证材料为事后补写，问题依然存在"
FIXED = "现场查阅台账和佐证材料，问题已整改到位"


def demo_step(store: Store, ctx: Any) -> list[str]:
    from djctl.services.demo.seeds import lottery_seed
    from djctl.services.negative import build
    from djctl.services.rectify import list_items
    from djctl.services.rectify_recheck import draw_recheck, import_rechecks, write_outputs

    y = ctx.year
    day = date(y, *DRAW_DAY)
    out = Path(ctx.dir) / "整改回头看"
    rd = draw_recheck(store, y, count=DRAW_COUNT, seed=lottery_seed(day.isoformat()), on_date=day)
    files = write_outputs(store, rd, out)
    ctx.files.extend(files[:2])
    forms = files[2:]
    # one item not really fixed: the first drawn one never reopened before (its reopening is then a new
    # repeated problem on the list), else the first drawn
    before = {i["id"]: i["reopened"] for i in list_items(store, as_of=day)["items"]}
    drawn = [int(c[1:]) for c in rd.draw.selected]
    bad = next((i for i in drawn if not before.get(i)), drawn[0])
    filled_dir = out / "已填复查表"
    filled = []
    for n, src in enumerate(forms):
        fixed = f"_R{bad}_" not in src.name
        filled.append(fill_recheck_form(src, filled_dir / src.name, on_date=day + timedelta(days=2 + n % 3),
                                        checker=CHECKER, fixed=fixed, finding=FIXED if fixed else NOT_FIXED))
    results = import_rechecks(store, [filled_dir])
    imported = [r for r in results if r.status == "imported"]
    reopened = [r.extra["item"] for r in imported if not r.extra.get("fixed")]
    doc = build(store, y)  # the year's list again: the reopened item is a repeated problem (重复问题)
    d = rd.draw
    lines = [f"整改回头看抽签 #{d.id}（{d.label}）：种子「{d.seed}」，截至 {day.isoformat()} 本年度已销号事项 "
             f"{len(d.record.population)} 项，抽中 {len(d.selected)} 项：" + "、".join(d.selected),
             f"复查表 {len(forms)} 份填写后导入 {len(imported)} 份：整改到位 {len(imported) - len(reopened)} 项，"
             f"整改不到位重新打开 {len(reopened)} 项（" + "、".join(f"R{i}" for i in reopened) + "，计为重复问题）",
             f"{y} 年度负面清单按复查结果重新生成（{doc['status']}）；抽签记录与公示在 {out}，"
             "任何人可用 djctl rectify recheck verify --record 文件 独立复算"]
    return lines
