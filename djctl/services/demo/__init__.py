"""The demo year: a fictional city run through every step that exists, producing real documents.

Each step is a function (store, ctx) -> list of lines; later capabilities append their step to STEPS, so
the demo always runs everything djctl can do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError
from djctl.io.outfile import save_workbook
from djctl.resources import data_path
from djctl.store.engine import Store, open_store

DEMO_YEAR = 2024


@dataclass
class DemoContext:
    dir: Path
    year: int = DEMO_YEAR
    city: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    templates: Path | None = None


def load_city() -> dict[str, Any]:
    return json.loads(data_path("demo-city.json").read_text(encoding="utf-8"))


def write_roster_workbook(city: dict[str, Any], path: Path) -> Path:
    """The demo roster as a workbook a committee would keep, written with the safe cell writer."""
    from openpyxl import Workbook

    from djctl.io.roster_xlsx import BRANCH_COLUMNS, BRANCH_SHEET, UNIT_COLUMNS, UNIT_SHEET
    from djctl.io.xlsx import wo_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(UNIT_SHEET)
    ws.append([wo_cell(ws, c.name) for c in UNIT_COLUMNS])
    for u in city["units"]:
        ws.append([wo_cell(ws, v) for v in (u["code"], u["name"], u["kind"], u["group"], u["secretary"], u["members"],
                                            _d(u["active_from"]), _d(u["active_to"]))])
    ws = wb.create_sheet(BRANCH_SHEET)
    ws.append([wo_cell(ws, c.name) for c in BRANCH_COLUMNS])
    for b in city["branches"]:
        ws.append([wo_cell(ws, v) for v in (b["code"], b["name"], b["unit"], b["members"], b["tier"], _d(b["tier_date"]))])
    save_workbook(wb, path)
    return path


DEMO_INSPECTORS = ("王建国", "李春梅", "张志强", "刘晓燕", "陈立新", "杨丽华", "赵国庆", "黄海燕", "周振宇", "吴桂兰",
                   "徐卫东", "孙红霞", "马俊峰", "朱秀英", "胡志刚", "郭淑珍")


def write_inspector_workbook(city: dict[str, Any], path: Path) -> Path:
    """The demo inspector pool (sheet 检查人员): one inspector from every other unit, two of them with a
    unit served in recently (回避)."""
    from openpyxl import Workbook

    from djctl.io.inspector_xlsx import COLUMNS, SHEET
    from djctl.io.xlsx import wo_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append([wo_cell(ws, c.name) for c in COLUMNS])
    units = city["units"]
    for i, name in enumerate(DEMO_INSPECTORS):
        u = units[(2 * i) % len(units)]
        served = f"{units[(2 * i + 5) % len(units)]['code']}:{DEMO_YEAR - 1 - i % 2}" if i % 5 == 0 else ""
        ws.append([wo_cell(ws, v) for v in (f"J{i + 1:02d}", name, u["code"], u["group"], "组长" if i < 4 else "组员",
                                            served)])
    path.parent.mkdir(parents=True, exist_ok=True)
    from djctl.io.outfile import save_workbook

    save_workbook(wb, path)
    return path


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def step_setup(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.roster import import_roster
    from djctl.services.setup import init_store

    r = init_store(store)
    ctx.city = load_city()
    roster = write_roster_workbook(ctx.city, ctx.dir / "inputs" / "名册.xlsx")
    rep = import_roster(store, roster, on_date=date(DEMO_YEAR, 1, 1))
    if rep.file.status == "refused":
        raise DjctlError(f"示范名册导入失败：{rep.file.message}")
    from djctl.services.inspectors import import_pool

    pool = import_pool(store, write_inspector_workbook(ctx.city, ctx.dir / "inputs" / "检查人员.xlsx"))
    return [f"考核方案：{r.scheme}（{r.year} 年度）",
            f"名册：{len(ctx.city['units'])} 个考核单位，{len(ctx.city['branches'])} 个党支部（{roster}）",
            f"检查人员库：{pool.rows} 人（{pool.path}），每次抽签同时随机确定检查人员并回避"]


def step_monthly(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.monthly import demo_step

    return demo_step(store, ctx)


def step_tiers(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.lookback import demo_step as lookback_step
    from djctl.services.demo.tiers import demo_step as tiers_step

    return tiers_step(store, ctx) + lookback_step(store, ctx)


def step_draws(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.checks import demo_step as check_step
    from djctl.services.demo.draws import demo_step as draw_step

    return draw_step(store, ctx) + check_step(store, ctx)


def step_rectify_negative(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.negative import demo_step as negative_step
    from djctl.services.demo.negative_manual import demo_step as manual_step
    from djctl.services.demo.rectify import demo_step as rectify_step

    # the entry decided by the committee goes in before the list is built and written
    return rectify_step(store, ctx) + manual_step(store, ctx) + negative_step(store, ctx)


def step_votes(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.adjust import demo_step as adjust_step
    from djctl.services.demo.votes import demo_step as votes_step

    return votes_step(store, ctx) + adjust_step(store, ctx)


def step_closure(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.closure import demo_step

    return demo_step(store, ctx)


def step_feedback(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.feedback import demo_step

    return demo_step(store, ctx)


def step_recheck(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.recheck import demo_step

    return demo_step(store, ctx)


def step_people(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.people import demo_step

    return demo_step(store, ctx)


def step_year_end(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.yearend import run_year_end

    out = ctx.dir / "文书"
    r = run_year_end(store, ctx.year, out, allow_gaps=False, on_date=date(ctx.year + 1, 1, 10), templates=ctx.templates)
    ctx.files = list(dict.fromkeys([*ctx.files, *(out / f["name"] for f in r.files)]))
    lines = [f"缺口 {len(r.gaps)} 处：" + "；".join(g.message for g in r.gaps[:3]) + ("……" if len(r.gaps) > 3 else "")] if r.gaps else []
    lines.append(f"生成 {len(r.files)} 个文件（四个季度通报、年度结果通报与排名表等），清单：{r.manifest}")
    return lines


def step_publish(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.publish import publish

    r = publish(store, ctx.year, ctx.dir / "公示", on_date=date(ctx.year + 1, 1, 10))
    ctx.files.extend(r.out_dir / f["name"] for f in r.files)
    return [f"{r.draws} 次抽签各有一个公示页（页内脚本在浏览器中复算并显示“一致”），另有季度与年度排名、负面清单："
            f"{r.out_dir / 'index.html'}"]


def step_backup(store: Store, ctx: DemoContext) -> list[str]:
    from djctl.services.demo.backup import demo_step

    if not store.is_sqlite:
        return ["数据库在服务器上：请用服务器自己的备份工具（pg_dump）"]
    return demo_step(store, ctx)


def step_next_year(store: Store, ctx: DemoContext) -> list[str]:
    """The start of the next year: a commented scheme made from this year's, to edit and load with init."""
    from djctl.services.setup import write_new_scheme

    target = ctx.dir / f"考核方案{ctx.year + 1}（待修改）.toml"
    target.unlink(missing_ok=True)  # the demo folder is the demo's own: a rerun writes it again
    path, source = write_new_scheme(store, ctx.year + 1, ctx.year, target)
    ctx.files.append(path)
    return [f"下一年度方案：{path}（底稿：{source}）；修改后 djctl init --scheme {path.name} 即为数据库增加 {ctx.year + 1} 年度"]


Step = Callable[[Store, DemoContext], list[str]]
STEPS: list[tuple[str, Step]] = [
    ("建库、载入方案与名册", step_setup),
    ("月度任务、自评表下发与收回导入（12 个月）", step_monthly),
    ("支部分类定级：验收升级；回头看抽签、检查、反弹降级", step_tiers),
    ("月抽查：每月公开种子随机抽签，核查表下发、填写、导入（虚假双倍扣分）", step_draws),
    ("民主测评与加减分项", step_votes),
    ("整改销号与年度负面清单", step_rectify_negative),
    ("问责措施与未达标支部整改提升计划", step_closure),
    ("第三季度问题整改反馈函、整改台账回收导入与审核销号", step_feedback),
    ("整改回头看：抽签复查已销号的整改事项，整改不到位的重新打开", step_recheck),
    ("书记述职评议、综合考核党建部分、评先评优资格、工委干部月度考评", step_people),
    ("年终一键运行：季度通报、年度结果通报、文件清单", step_year_end),
    ("公示网站：每次抽签的公示页（页内核验）、季度与年度排名、负面清单", step_publish),
    ("下一年度：以本年方案为底稿生成新方案", step_next_year),
    ("备份数据库（核对完整性、行数与审计链）", step_backup),
]


def run_demo(directory: Path, progress: Callable[[str], None] = lambda _: None,
             templates: Path | None = None, force: bool = False) -> dict[str, Any]:
    from djctl.services.demo import guard as demo_guard

    kept = demo_guard.guard(directory, force)  # refuses a store the demo did not make, or backs it up first
    if kept:
        progress(kept)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "djctl.db"
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db) + suffix)
        if p.exists():
            p.unlink()
    store = open_store(db)
    ctx = DemoContext(dir=directory, templates=templates)
    done = []
    try:
        for title, step in STEPS:
            progress(f"▶ {title}")
            lines = step(store, ctx)
            for line in lines:
                progress(f"  {line}")
            done.append({"step": title, "lines": lines})
    finally:
        store.dispose()
    demo_guard.mark(directory)
    return {"dir": str(directory), "db": str(db), "steps": done, "backup_before": kept,
            "files": [str(p) for p in ctx.files]}
