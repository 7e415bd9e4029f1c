"""Demo: the monthly cycle of the demo year — tasks, forms out, units filling them in, forms back in."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from djctl.domain.periods import month
from djctl.io.outfile import save_workbook
from djctl.services.demo import DemoContext
from djctl.store.engine import Store

# (unit, month) pairs that never report in the demo year: named 未报送 in status and bulletins
MISSING = {("U007", 3), ("U018", 3), ("U018", 4), ("U025", 7), ("U031", 11), ("U012", 12)}
SPECIAL_TASKS = {
    3: [("T10", "开展“学习贯彻全国两会精神”专题学习", 10, "政治统领")],
    7: [("T10", "庆祝建党纪念日系列活动", 10, "功能发挥")],
    11: [("T10", "年度党建工作述职评议准备", 10, "班子履职")],
}


def unit_quality(code: str) -> float:
    return random.Random(f"quality:{code}").uniform(0.80, 0.99)


def fill_form(src: Path, dest: Path, rng: random.Random, quality: float) -> Path:
    """Fill a form as a unit would: a score for every task (0 to 分值, one decimal) and a short note."""
    import openpyxl

    from djctl.io.selfeval_form import HEADER_ROW

    wb = openpyxl.load_workbook(src)
    ws = wb["自评表"]
    row = HEADER_ROW + 1
    while ws.cell(row, 2).value:
        full = Decimal(str(ws.cell(row, 5).value))
        share = min(1.0, max(0.3, rng.gauss(quality, 0.06)))
        score = (full * Decimal(str(share))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        ws.cell(row, 6).value = float(score)
        ws.cell(row, 7).value = rng.choice(["已按要求完成", "按计划推进，资料已归档", "完成，个别环节待完善", "基本完成"])
        row += 1
    save_workbook(wb, dest)
    return dest


def write_special_tasks(path: Path, tasks: list[tuple[str, str, int, str]]) -> Path:
    from openpyxl import Workbook

    from djctl.io.xlsx import wo_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("任务清单")
    ws.append([wo_cell(ws, h) for h in ("任务编码", "任务名称", "分值", "过硬维度", "说明")])
    for code, name, pts, dim in tasks:
        ws.append([wo_cell(ws, v) for v in (code, name, pts, dim, "当月专项任务")])
    save_workbook(wb, path)
    return path


def demo_step(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.selfeval import import_forms, write_forms
    from djctl.services.tasks import set_tasks

    lines = []
    total_imported = 0
    for m in range(1, 13):
        p = str(month(ctx.year, m))
        special = SPECIAL_TASKS.get(m)
        task_file = write_special_tasks(ctx.dir / "inputs" / f"{p}_专项任务.xlsx", special) if special else None
        set_tasks(store, p, task_file)
        forms = write_forms(store, p, ctx.dir / "下发" / "自评表" / p)
        rng = random.Random(f"demo:{p}")
        returned = []
        for f in forms:
            code = f.name.split("_")[1]
            if (code, m) in MISSING:
                continue
            returned.append(fill_form(f, ctx.dir / "收回" / "自评表" / p / f.name, rng, unit_quality(code)))
        results = import_forms(store, returned)
        refused = [r for r in results if r.status == "refused"]
        if refused:
            raise RuntimeError(f"demo self-assessment import refused: {refused[0].path}: {refused[0].message}")
        total_imported += len(results)
        missing = sorted(c for c, mm in MISSING if mm == m)
        if m in (1, 3, 12):
            lines.append(f"{p}：下发 {len(forms)} 份，收回导入 {len(results)} 份" + (f"，未报送 {'、'.join(missing)}" if missing else ""))
    lines.append(f"全年导入自评表 {total_imported} 份；再次导入同一批文件不会改动任何数据")
    return lines
