"""The demo year's people step: 述职评议 of every secretary, a business-score workbook and the combined table,
评先评优 eligibility, and twelve months of evaluation of eight committee staff (one month missed by one)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from djctl.errors import DjctlError
from djctl.store.engine import Store

STAFF = [
    ("S01", "周明远", "一级主任科员", "办公室"), ("S02", "吴静怡", "二级主任科员", "办公室"),
    ("S03", "郑浩然", "一级主任科员", "组织部"), ("S04", "王思琪", "四级主任科员", "组织部"),
    ("S05", "冯立新", "二级主任科员", "宣传部"), ("S06", "陈雨桐", "一级科员", "宣传部"),
    ("S07", "褚振华", "三级主任科员", "纪工委"), ("S08", "卫晓楠", "一级科员", "纪工委"),
]
MISSED = ("S08", 7)  # on training in July: not evaluated that month


def _fill(path, sheet: str, first_col: int, values: dict[int, list[Any]]) -> None:
    """Fill rows (2-based) of a form from column `first_col` on, as the people who receive it would."""
    from openpyxl import load_workbook

    from djctl.io.xlsx import put

    wb = load_workbook(path)
    ws = wb[sheet]
    for row, vals in values.items():
        for i, v in enumerate(vals):
            put(ws, row, first_col + i, v)
    from djctl.io.outfile import save_workbook

    save_workbook(wb, path)


def _ok(res, what: str) -> None:
    if res.status == "refused":
        raise DjctlError(f"示范{what}导入失败：{res.message}")


def _debrief(store: Store, ctx: Any, rng: random.Random) -> list[str]:
    from djctl.io.people_xlsx import DEBRIEF_SHEET
    from djctl.services.debrief import import_debrief, list_debriefs, write_template

    inputs = ctx.dir / "inputs"
    form, n = write_template(store, ctx.year, inputs / f"述职评议表{ctx.year}（空白）.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(form)[DEBRIEF_SHEET]
    values: dict[int, list[Any]] = {}
    for r in range(2, n + 2):
        level = ws.cell(r, 3).value
        secretary = ws.cell(r, 4).value or rng.choice("赵钱孙李周吴郑王冯陈") + rng.choice(["建国", "海燕", "志强", "丽华", "文博", "晓东"])
        voters = rng.randint(25, 45) if level != "党支部" else rng.randint(12, 30)
        q = rng.random()
        p = [0.5 + 0.45 * q, 0, 0, 0]
        p[1] = (1 - p[0]) * 0.7
        p[2] = (1 - p[0] - p[1]) * 0.8
        counts = [0, 0, 0, 0]
        for _ in range(voters):
            x = rng.random()
            counts[0 if x < p[0] else 1 if x < p[0] + p[1] else 2 if x < p[0] + p[1] + p[2] else 3] += 1
        day = date(ctx.year + 1, 1, 8) + timedelta(days=rng.randint(0, 12))
        values[r] = [secretary, day, *counts, voters]
    # one branch secretary whose work was judged poorly, so the rule that makes 差 is seen in the documents
    last = max(values)
    values[last][2:6] = [2, 3, 5, 9]
    values[last][6] = 19
    filled = inputs / f"述职评议表{ctx.year}.xlsx"
    import shutil

    shutil.copyfile(form, filled)
    _fill(filled, DEBRIEF_SHEET, 4, values)
    _ok(import_debrief(store, filled, year=ctx.year), "述职评议表")
    res = list_debriefs(store, ctx.year)
    return [f"书记述职评议：{len(res.reported)} 名书记述职，结果 " + "，".join(f"{k} {v} 名" for k, v in res.counts().items())
            + f"（{filled}）"]


def _combined(store: Store, ctx: Any, rng: random.Random) -> list[str]:
    import shutil

    from djctl.io.people_xlsx import BUSINESS_SHEET
    from djctl.services.combined import combined, eligibility_list, write_business_template, write_combined_xlsx

    inputs = ctx.dir / "inputs"
    res = combined(store, ctx.year)
    blank = write_business_template(res, inputs / f"业务工作得分{ctx.year}（空白）.xlsx")
    filled = inputs / f"业务工作得分{ctx.year}.xlsx"
    shutil.copyfile(blank, filled)
    units = sorted(r.unit for r in res.rows)
    _fill(filled, BUSINESS_SHEET, 3, {i + 2: [Decimal(rng.randint(7000, 9900)) / 100] for i in range(len(units))})
    full = combined(store, ctx.year, filled)
    out = ctx.dir / "文书" / f"{ctx.year}_综合考核结果（含业务工作）.xlsx"
    write_combined_xlsx(full, out)
    ctx.files.append(out)
    el = eligibility_list(store, ctx.year).to_json()
    top = full.rows[0]
    return [f"综合考核：党建工作占 {full.weight}，{len(full.rows)} 个单位，第一名 {top.name} {top.figure.total}（{out}）",
            f"评先评优资格：具备 {el['eligible']} 个，不具备 {el['not_eligible']} 个"]


def _staff(store: Store, ctx: Any, rng: random.Random) -> list[str]:
    import shutil

    from djctl.io.people_xlsx import ROSTER_SHEET, STAFF_SHEET
    from djctl.services.staff import (
        import_roster,
        import_scores,
        staff_scores,
        write_bulletin,
        write_roster_template,
        write_template,
    )

    inputs = ctx.dir / "inputs" / "工委干部"
    roster = write_roster_template(inputs / "工委干部名册.xlsx")
    _fill(roster, ROSTER_SHEET, 1, {i + 2: list(s) for i, s in enumerate(STAFF)})
    _ok(import_roster(store, roster), "工委干部名册")
    base = {code: rng.uniform(82, 94) for code, *_ in STAFF}
    for m in range(1, 13):
        month = f"{ctx.year}-{m:02d}"
        form, n = write_template(store, month, inputs / f"{month}_月度考评表（空白）.xlsx")
        filled = inputs / f"{month}_月度考评表.xlsx"
        shutil.copyfile(form, filled)
        values = {}
        for i, (code, *_) in enumerate(STAFF):
            if (code, m) == MISSED:
                continue
            values[i + 2] = [Decimal(round(min(100, max(60, base[code] + rng.uniform(-6, 6))) * 10)) / 10
                             for _ in range(3)]
        _fill(filled, STAFF_SHEET, 3, values)
        _ok(import_scores(store, filled, month=month), f"{month} 工委干部考评表")
    out = ctx.dir / "文书" / "工委干部"
    paths = write_bulletin(store, f"{ctx.year}-12", formats=["docx", "md", "html", "xlsx"], out_dir=out,
                           templates=ctx.templates, on_date=date(ctx.year + 1, 1, 5))
    ctx.files.extend(paths)
    year = staff_scores(store, str(ctx.year))
    first = year.rows[0]
    return [f"工委干部月度考评：{len(STAFF)} 人 × 12 个月（{MISSED[0]} {MISSED[1]} 月未考评），"
            f"12 月考评通报 {paths[0]}；年度第一名 {first.name} {first.year_total}"]


def demo_step(store: Store, ctx: Any) -> list[str]:
    rng = random.Random(f"djctl-demo-people-{ctx.year}")
    return _debrief(store, ctx, rng) + _combined(store, ctx, rng) + _staff(store, ctx, rng)
