"""`djctl tier plan add|update|list`: 整改提升计划 of branches rated 未达标."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._options import parse_date_opt as _date
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(help="未达标支部的整改提升计划：制定计划、报告进展、查看各计划截至某日的状态。")




def _line(p: dict) -> str:
    latest = f"；最近进展（{p['latest']['date']}）：{p['latest']['progress']}" if p["latest"] else ""
    return (f"第 {p['id']} 号 {p['name'] or p['branch']}：责任人 {p['responsible']}，目标日期 {p['target_date']}，"
            f"{p['state_cn']}{latest}")


@app.command("add")
def plan_add(
    ctx: typer.Context,
    branch: Annotated[str, typer.Argument(help="支部编码（须为未达标支部）")],
    on_date: Annotated[str, typer.Option("--date", help="计划制定日期，如 2024-07-15")],
    responsible: Annotated[str, typer.Option("--responsible", help="责任人，如：支部书记 王芳")],
    measures: Annotated[str, typer.Option("--measures", help="提升措施")],
    target_date: Annotated[str, typer.Option("--target-date", help="目标完成日期，如 2024-12-31")],
    json_: JsonOpt = False,
) -> None:
    """为一个未达标支部制定整改提升计划（责任人、措施、目标日期）。

    示例：djctl tier plan add B012 --date 2024-07-15 --responsible 支部书记王芳 --measures 补齐支委、规范三会一课 --target-date 2024-12-31
    """
    from djctl.services.tier_plans import add_plan

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = add_plan(st.open_store(must_exist=True), branch, on_date=_date(on_date, "--date"), responsible=responsible,
                   measures=measures, target_date=_date(target_date, "--target-date"))
    if json_:
        out.doc(doc)
        return
    out.line("已制定整改提升计划 " + _line(doc))


@app.command("update")
def plan_update(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help="计划编号（见 djctl tier plan list）", metavar="编号", min=1, max=2**31 - 1)],
    on_date: Annotated[str, typer.Option("--date", help="进展日期，如 2024-09-30")],
    progress: Annotated[str, typer.Option("--progress", help="进展情况")],
    done: Annotated[bool, typer.Option("--done", help="计划已完成")] = False,
    json_: JsonOpt = False,
) -> None:
    """报告一个整改提升计划的进展（按日期追加，不修改以前的记录）；--done 表示完成。

    示例：djctl tier plan update 3 --date 2024-09-30 --progress 已补选两名支委 --done
    """
    from djctl.services.tier_plans import update_plan

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = update_plan(st.open_store(must_exist=True), plan_id, on_date=_date(on_date, "--date"), progress=progress,
                      done=done)
    if json_:
        out.doc(doc)
        return
    out.line("已记录进展：" + _line(doc))


@app.command("list")
def plan_list(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="截至日期（默认今天）")] = None,
    json_: JsonOpt = False,
) -> None:
    """列出整改提升计划截至某日的状态，以及当日仍无计划的未达标支部。

    示例：djctl tier plan list --as-of 2024-09-30
    """
    from djctl.services.tier_plans import list_plans

    st = settings(ctx)
    out = Output(json_, st.quiet)
    from djctl import clock

    day = _date(as_of, "--as-of") if as_of else clock.today()
    doc = list_plans(st.open_store(must_exist=True), day)
    if json_:
        out.doc(doc)
        return
    out.table(f"整改提升计划（截至 {doc['as_of']}）", ["编号", "支部", "责任人", "制定日期", "目标日期", "状态", "最近进展"],
              [(p["id"], p["name"] or p["branch"], p["responsible"], p["date"], p["target_date"], p["state_cn"],
                p["latest"]["progress"] if p["latest"] else "") for p in doc["plans"]])
    out.line(f"未达标支部 {doc['below_standard']} 个：有计划 {doc['with_plan']} 个（推进中 {doc['active']}，"
             f"已完成 {doc['done']}，已超期 {doc['overdue']}），尚无计划 {len(doc['without_plan'])} 个"
             + (f"：{'、'.join(doc['without_plan_names'])}" if doc["without_plan"] else ""))
