"""`djctl tasks set|show`: the month's task list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, MonthOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(help="月度任务清单：设置、查看。")


@app.command("set")
def tasks_set(
    ctx: typer.Context,
    month: MonthOpt,
    file: Annotated[Optional[Path], typer.Argument(help="任务清单 .xlsx（任务编码、任务名称、分值、过硬维度、说明）或 .toml；省略则只用方案中的常设任务")] = None,
    no_standing: Annotated[bool, typer.Option("--no-standing", help="不包含方案中的常设任务，只用文件中的任务")] = False,
    force: Annotated[bool, typer.Option("--force", help="已有单位报送后仍修改清单（旧清单与自评保留在历史中）")] = False,
    json_: JsonOpt = False,
) -> None:
    """设置某月的任务清单：方案中的常设任务加上文件中的任务（同编码的以文件为准）。

    示例：djctl tasks set --month 2024-03 三月任务.xlsx
    """
    from djctl.services.tasks import set_tasks

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = set_tasks(st.open_store(), str(p), file, standing=not no_standing, force=force)
    if json_:
        out.doc({"month": r.month, "status": r.status, "version": r.version, "sha256": r.sha256,
                 "tasks": len(r.tasks), "full": float(r.total), "superseded": r.superseded})
        return
    words = {"created": "已设置", "unchanged": "与现有清单相同，未改动", "replaced": "已替换为新版本"}
    out.line(f"{r.month} 任务清单{words[r.status]}（第 {r.version} 版，{len(r.tasks)} 项，满分 {r.total}）")
    out.line(f"清单校验码：{r.sha256[:16]}")
    if r.superseded:
        out.warn(f"{len(r.superseded)} 个单位按旧清单报送的自评已转入历史，需按新表重新报送：{'、'.join(r.superseded)}"
                 f"（djctl selfeval forms --month {r.month}）")


@app.command("show")
def tasks_show(ctx: typer.Context, month: MonthOpt, json_: JsonOpt = False) -> None:
    """查看某月的任务清单及其版本历史。

    示例：djctl tasks show --month 2024-03
    """
    from djctl.services.tasks import show_tasks

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = show_tasks(st.open_store(must_exist=True), str(p))
    if json_:
        out.doc(doc)
        return
    out.table(f"{p.label} 任务清单（第 {doc['version']} 版，满分 {doc['full']:g}）", ["编码", "任务", "分值", "过硬维度"],
              [(t["code"], t["name"], f"{t['points']:g}", t["dimension"]) for t in doc["tasks"]])
