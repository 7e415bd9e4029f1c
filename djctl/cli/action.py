"""`djctl action add|import|list|revoke|template`: accountability measures (问责措施)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._imports import present_import
from djctl.cli._options import DryRunOpt, JsonOpt, YearOpt
from djctl.cli._options import parse_date_opt as _date
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(help="问责措施：提醒谈话、约谈、通报批评、责令整改、诫勉谈话、问责，逐项录入或批量导入，按日期统计。")

DateReq = Annotated[str, typer.Option("--date", help="措施实施日期（业务日期），如 2024-05-20")]




@app.command("add")
def action_add(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="单位编码")],
    kind: Annotated[str, typer.Option("--kind", help="措施：提醒谈话、约谈、通报批评、责令整改、诫勉谈话、问责（以考核方案为准）")],
    on_date: DateReq,
    reason: Annotated[str, typer.Option("--reason", help="事由，如：连续两个季度党费收缴不及时")],
    basis: Annotated[str, typer.Option("--basis", help="依据（文件文号、会议纪要、谈话记录编号）")],
    secretary: Annotated[bool, typer.Option("--secretary", help="对象为该单位的书记（默认对象为单位）")] = False,
    person: Annotated[Optional[str], typer.Option("--person", help="被谈话人姓名（默认取名册中的书记）")] = None,
    taken_by: Annotated[str, typer.Option("--by", help="实施人或实施部门，如：工委副书记 李明")] = "",
    items: Annotated[Optional[str], typer.Option("--items", help="针对的整改事项编号，多个用逗号隔开，如 3,15")] = None,
    deduct: Annotated[Optional[str], typer.Option("--deduct", help="同时记减分项的分值（大于 0，最多一位小数）")] = None,
    json_: JsonOpt = False,
) -> None:
    """录入一项问责措施；可关联整改事项（--items），可同时记一项减分（--deduct）。

    示例：djctl action add U003 --kind 约谈 --secretary --date 2024-08-12 --reason 整改事项逾期未完成 --basis 示机工纪〔2024〕3号 --items 7
    """
    from djctl.cli._options import parse_points_opt
    from djctl.services.actions import add_action, describe

    d = _date(on_date)
    ids: list[int] = []
    for part in (items or "").replace("，", ",").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 9:
            raise typer.BadParameter(f"「{part}」不是整改事项编号", param_hint="--items")
        ids.append(int(part))
    points = parse_points_opt(deduct, "--deduct")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = add_action(st.open_store(must_exist=True), unit, kind=kind, on_date=d, reason=reason, basis=basis,
                     target="secretary" if secretary else "unit", person=person or "", taken_by=taken_by,
                     items=tuple(ids), deduct=points)
    if json_:
        out.doc(doc)
        return
    out.line(f"已录入第 {doc['id']} 项问责措施：{describe(doc)}")


@app.command("import")
def action_import(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="问责措施表（工作表「问责措施」），可多个", show_default=False)],
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """批量导入问责措施：每份文件全部通过才写入；同一文件重复导入不改动。

    示例：djctl action import 问责措施2024.xlsx --dry-run
    """
    from djctl.services.actions import import_actions

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    present_import(out, [import_actions(store, f, dry_run=dry_run) for f in files])


@app.command("list")
def action_list(
    ctx: typer.Context,
    year: YearOpt,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="截至日期（默认年底）：只列此日及以前的措施，撤销按当日状态")] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", help="只看某个单位")] = None,
    all_: Annotated[bool, typer.Option("--all", help="同时列出已撤销的措施")] = False,
    json_: JsonOpt = False,
) -> None:
    """列出一年的问责措施（截至某日），并按措施类别统计。

    示例：djctl action list --year 2024 --as-of 2024-09-30
    """
    from djctl.services.actions import list_actions

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = list_actions(st.open_store(must_exist=True), year, as_of=_date(as_of, "--as-of") if as_of else None,
                       unit=unit, include_revoked=all_)
    if json_:
        out.doc(doc)
        return
    out.table(f"{year} 年度问责措施（截至 {doc['as_of']}，{len(doc['actions'])} 项）",
              ["编号", "日期", "单位", "对象", "措施", "事由", "依据", "状态"],
              [(a["id"], a["date"], a["name"] or a["unit"], a["target_cn"] + (f" {a['person']}" if a["person"] else ""),
                a["kind"], a["reason"], a["basis"], f"已撤销：{a['revoke_reason']}" if a["revoked"] else "")
               for a in doc["actions"]])
    if doc["counts"]:
        out.line("按类别：" + "，".join(f"{c['kind']} {c['count']} 次" for c in doc["counts"])
                 + f"；涉及 {doc['units']} 个单位")
    if doc["revoked_hidden"]:
        out.info(f"另有 {doc['revoked_hidden']} 项已撤销，加 --all 查看")


@app.command("revoke")
def action_revoke(
    ctx: typer.Context,
    action_id: Annotated[int, typer.Argument(help="问责措施编号（见 djctl action list）", metavar="编号", min=1, max=2**31 - 1)],
    on_date: DateReq,
    reason: Annotated[str, typer.Option("--reason", help="撤销原因")],
    json_: JsonOpt = False,
) -> None:
    """撤销一项误录的问责措施（不删除，保留撤销日期与原因；此日以前的报告仍列出它）。

    示例：djctl action revoke 4 --date 2024-09-02 --reason 对象录错，应为另一单位
    """
    from djctl.services.actions import describe, revoke_action

    if not reason.strip():
        raise typer.BadParameter("撤销原因不能为空", param_hint="--reason")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = revoke_action(st.open_store(must_exist=True), action_id, _date(on_date), reason)
    if json_:
        out.doc(doc)
        return
    out.line(f"已撤销第 {doc['id']} 项问责措施（{describe(doc)}），原因：{reason}")


@app.command("template")
def action_template(
    ctx: typer.Context,
    year: YearOpt,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的问责措施表文件")] = Path("问责措施表.xlsx"),
) -> None:
    """生成空白问责措施表（措施下拉列表取自该年度考核方案）。

    示例：djctl action template --year 2024 --out 问责措施2024.xlsx
    """
    from djctl.services.actions import write_template

    st = settings(ctx)
    Output(False, st.quiet).result(str(write_template(st.open_store(must_exist=True), out_file, year)))
