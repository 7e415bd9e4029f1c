"""The demo year's look-back: a published seed, worksheets filled as the inspectors would, the import and the
report.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

# --------------------------------------------------------------------------- demo
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError, InputError
from djctl.io.lookback_form import NO, SHEET, YES
from djctl.io.outfile import save_workbook, write_text
from djctl.io.xlsx import norm_text
from djctl.services.demo.seeds import lottery_seed
from djctl.services.importing import IMPORTED, UNCHANGED
from djctl.services.lookback import FORMATS, draw_lines, draw_lookback
from djctl.services.lookback_forms import import_forms, write_forms
from djctl.services.lookback_report import report_basename, write_report
from djctl.store.engine import Store

# the committee's filling of the worksheet, as the demo plays it


def fill_lookback_form(src: Path, dst: Path, answers: dict[str, tuple[bool, str]], checker: str,
                       categories: dict[str, str] | None = None) -> Path:
    """Fill a worksheet as a checker would (是/否, 问题描述, 核查人 per item code) and save it as `dst`."""
    from openpyxl import load_workbook

    from djctl.io.xlsx import put

    wb = load_workbook(str(src))
    ws = wb[SHEET]
    header_row, cols = None, {}
    for row in ws.iter_rows(min_row=1, max_row=40):
        names = {norm_text(c.value): c.column for c in row if c.value is not None}
        if "项目编码" in names and "是否达到" in names:
            header_row, cols = row[0].row, names
            break
    if header_row is None:
        raise InputError("找不到核查表的表头", path=str(src))
    for r in range(header_row + 1, ws.max_row + 1):
        code = norm_text(ws.cell(r, cols["项目编码"]).value)
        if code not in answers:
            continue
        passed, problem = answers[code]
        put(ws, r, cols["是否达到"], YES if passed else NO)
        put(ws, r, cols["问题描述"], problem or None)
        put(ws, r, cols["核查人"], checker)
        if categories and code in categories and "问题类别" in cols:
            put(ws, r, cols["问题类别"], categories[code])
    save_workbook(wb, dst)
    return dst


DEMO_DRAW_DAY = (10, 15)
DEMO_IMPORT_DAY = (11, 5)
DEMO_REPORT_DAY = (11, 30)
DEMO_FAIL_SHARE = Decimal("0.12")
DEMO_CHECKERS = ("王明", "李静", "赵磊", "陈芳")
DEMO_PROBLEMS = {
    "D01": "支部委员会任期届满 3 个月未按期换届，组织委员空缺",
    "D02": "近一个季度支委会只召开 1 次，党小组会无记录",
    "D03": "3 名党员党费连续 2 个月未收缴，台账缺少 2 个月记录",
    "D04": "年度组织生活会未开展民主评议党员",
    "D05": "主题党日活动记录缺失，资料未按年度归档",
    "G01": "“第一议题”制度落实不到位，学习计划未按月执行",
    "G02": "书记述职评议材料缺失，支委分工未明确到人",
    "G03": "党员先锋岗活动流于形式，无实际成效记录",
    "G04": "2 名流动党员失联超过 6 个月未按规定处置",
    "G05": "谈心谈话制度未落实，党员积分管理停止执行",
    "G06": "党员活动室被挪作他用，党建经费未单列",
    "G07": "党建项目与业务工作脱节，没有可量化的成效",
    "S01": "党建品牌材料多年未更新，特色不明显",
    "S02": "近一年没有经验被推广，示范引领作用发挥不足",
}


def demo_seed(year: int, month: int, day: int) -> str:
    """A published-style seed for the demo look-back: a fictional lottery result of that day."""
    return lottery_seed(f"{year}-{month:02d}-{day:02d}")


def demo_answers(item_codes: dict[Path, list[str]], rng: random.Random) -> dict[Path, dict[str, tuple[bool, str]]]:
    """Deterministic results: about 12 % of the worksheets fail one or two items, the rest pass every item."""
    files = list(item_codes)
    n_fail = max(1, int((DEMO_FAIL_SHARE * len(files)).to_integral_value())) if files else 0
    failing = set(rng.sample(range(len(files)), min(n_fail, len(files))))
    out: dict[Path, dict[str, tuple[bool, str]]] = {}
    for i, path in enumerate(files):
        codes = item_codes[path]
        bad = set(rng.sample(codes, min(len(codes), rng.choice((1, 1, 2))))) if i in failing else set()
        out[path] = {c: (c not in bad, DEMO_PROBLEMS.get(c, "核查发现该项工作落实不到位") if c in bad else "")
                     for c in codes}
    return out


def demo_step(store: Store, ctx: Any) -> list[str]:
    """One look-back for the demo year: draw, worksheets out, filled deterministically, imported, report.

    Runs after the tiers demo step (its tier changes are dated 2024-06-28 and 2024-07-26) and before the
    rectification and negative-list steps.
    """
    from djctl.services.demo.closure import category_of
    from djctl.services.draw_verify import write_record_file

    year = ctx.year
    draw_day = date(year, *DEMO_DRAW_DAY)
    ld = draw_lookback(store, year, seed=demo_seed(year, *DEMO_DRAW_DAY), on_date=draw_day)
    d = ld.draw
    draw_dir = Path(ctx.dir) / "抽签"
    draw_dir.mkdir(parents=True, exist_ok=True)
    record_path = write_record_file(d, draw_dir / f"回头看抽签记录-{year}.json")
    text_path = draw_dir / f"回头看抽签公示-{year}.txt"
    write_text(text_path, "\n".join(draw_lines(ld)) + "\n")
    ctx.files.extend([text_path, record_path])

    base = Path(ctx.dir) / "回头看"
    forms = write_forms(store, base / "核查表", draw_id=d.id)
    rng = random.Random("lookback")
    answers = demo_answers(forms.item_codes, rng)
    returned = []
    for path in forms.files:
        dst = base / "收回" / path.name
        categories = {c: category_of(problem) for c, (ok, problem) in answers[path].items() if not ok}
        returned.append(fill_lookback_form(path, dst, answers[path], rng.choice(DEMO_CHECKERS), categories))
    results = import_forms(store, returned, on_date=date(year, *DEMO_IMPORT_DAY))
    refused = [r for r in results if r.status not in (IMPORTED, UNCHANGED)]
    if refused:
        raise DjctlError(f"示范回头看核查表导入失败：{refused[0].path}：{refused[0].message}")
    rebounds = [r for r in results if r.extra.get("rebound")]
    out = Path(ctx.dir) / "文书"
    written = write_report(store, year, formats=list(FORMATS), out_dir=out, templates=getattr(ctx, "templates", None),
                           on_date=date(year, *DEMO_REPORT_DAY))
    ctx.files.extend(written)
    quotas = "，".join(f"{t} {q}" for t, q in (d.record.quotas or {}).items())
    return [f"回头看抽签 #{d.id}（{d.label}）：截至 {ld.as_of} 达标及以上支部 {len(d.record.population)} 个，"
            f"按等次分层抽取 {len(d.selected)} 个（{quotas}），种子「{d.seed}」",
            f"核查表 {len(forms.files)} 份（{base / '核查表'}），收回导入 {len(results)} 份；"
            f"反弹 {len(rebounds)} 个支部：" + "、".join(r.extra["branch"] for r in rebounds)
            + f"，已降级并生成整改事项 {sum(len(r.extra.get('rectifications') or []) for r in rebounds)} 项",
            f"回头看报告：{out / (report_basename(year) + '.docx')}"]
