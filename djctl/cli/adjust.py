"""`djctl adjust add|import|list|revoke|template`: bonus (加分项) and deduction (减分项) items."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import InputError

# like _options.YearOpt, but a year outside 2000–2100 is a usage error (exit 2) before anything is opened
YearOpt = Annotated[int, typer.Option("--year", "-y", min=2000, max=2100, help="年度，如 2024")]

app = make_app(help="加分项与减分项（含一票否决）：逐项录入或批量导入，按方案封顶计入年度总分。")


def _item_line(i: dict) -> tuple:
    state = f"已撤销：{i['revoke_reason']}" if i["revoked"] else ""
    return (i["id"], i["unit"], i["kind_cn"] + ("（一票否决）" if i["veto"] else ""), f"{i['points']:g}",
            i["reason"], i["basis"], state)


@app.command("add")
def adjust_add(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="单位编码")],
    year: YearOpt,
    reason: Annotated[str, typer.Option("--reason", help="事由，如：获评省级先进基层党组织")],
    basis: Annotated[str, typer.Option("--basis", help="依据（文件文号等），如：示委发〔2024〕12号")],
    bonus: Annotated[Optional[str], typer.Option("--bonus", help="加分分值（大于 0，最多一位小数）")] = None,
    deduct: Annotated[Optional[str], typer.Option("--deduct", help="减分分值（大于 0，最多一位小数；一票否决项可为 0）")] = None,
    veto: Annotated[bool, typer.Option("--veto", help="一票否决：该单位年度等次直接为「差」；须与 --deduct 同用，分值可为 0")] = False,
    on_date: Annotated[Optional[str], typer.Option("--date", help="决定日期（默认该年度 12 月 31 日），如 2024-06-18")] = None,
    json_: JsonOpt = False,
) -> None:
    """录入一项加分或减分（--bonus 与 --deduct 二选一）；一票否决用 --veto --deduct 分值（可为 0）。

    示例：djctl adjust add U001 --year 2024 --bonus 2 --reason 获评省级先进基层党组织 --basis 示委发〔2024〕12号
    """
    from djctl.domain.points import parse_points
    from djctl.services.adjust import BONUS, DEDUCTION, add_adjustment, item_problem

    if (bonus is None) == (deduct is None):
        raise typer.BadParameter("请在 --bonus 与 --deduct 中指定且只指定一个", param_hint="--bonus / --deduct")
    kind, raw, opt = (BONUS, bonus, "--bonus") if bonus is not None else (DEDUCTION, deduct, "--deduct")
    try:
        points = parse_points(raw, max_decimals=1)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=opt) from None
    problem = item_problem(kind, points, veto)
    if problem:
        raise typer.BadParameter(problem, param_hint="--veto" if problem.startswith("一票否决") else opt)
    if not reason.strip() or not basis.strip():
        raise typer.BadParameter("事由和依据都不能为空", param_hint="--reason / --basis")
    from djctl.cli._options import parse_date_opt

    day = parse_date_opt(on_date, "--date") if on_date else None
    if day is not None and day.year != year:
        raise typer.BadParameter(f"决定日期 {day.isoformat()} 不在 {year} 年度内", param_hint="--date")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    item = add_adjustment(st.open_store(must_exist=True), unit, year=year, kind=kind, points=points, reason=reason,
                          basis=basis, veto=veto, on_date=day)
    if json_:
        out.doc(item)
        return
    out.line(f"已录入第 {item['id']} 项：{item['unit']} {item['name']} {item['kind_cn']} {item['points']:g} 分"
             + ("（一票否决）" if item["veto"] else "") + f"，事由：{item['reason']}，依据：{item['basis']}")


@app.command("import")
def adjust_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="加减分项表（工作表「加减分项」）")],
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """批量导入加减分项：整份文件全部通过才写入；同一文件重复导入不改动。

    示例：djctl adjust import 加减分项2024.xlsx --dry-run
    """
    from djctl.services.adjust import import_adjustments
    from djctl.services.importing import STATUS_CN

    st = settings(ctx)
    out = Output(json_, st.quiet)
    f = import_adjustments(st.open_store(must_exist=True), file, dry_run=dry_run)
    if json_:
        out.doc({"files": [f.to_json()]})
    else:
        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 项")
    if f.status == "refused":
        raise InputError(f.message or "加减分项表未导入", path=f.path, problems=f.errors)


@app.command("list")
def adjust_list(
    ctx: typer.Context,
    year: YearOpt,
    unit: Annotated[Optional[str], typer.Option("--unit", help="只看某个单位")] = None,
    all_: Annotated[bool, typer.Option("--all", help="同时列出已撤销的项")] = False,
    json_: JsonOpt = False,
) -> None:
    """列出加减分项，并按单位汇总加分、减分的原始合计与封顶后计入的分值。

    示例：djctl adjust list --year 2024 --unit U001 --all
    """
    from djctl.services.adjust import list_adjustments

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = list_adjustments(st.open_store(must_exist=True), year, unit=unit, include_revoked=all_)
    if json_:
        out.doc(doc)
        return
    out.table(f"{year} 年度加减分项（{len(doc['items'])} 项）", ["编号", "单位", "类型", "分值", "事由", "依据", "状态"],
              [_item_line(i) for i in doc["items"]])
    caps = doc["caps"]
    out.table(f"按单位汇总（加分封顶 {caps['bonus']:g}，减分封顶 {caps['deduction']:g}）",
              ["单位", "名称", "加分合计", "加分计入", "减分合计", "减分计入", "一票否决"],
              [(u["unit"], u["name"], f"{u['bonus']:g}", f"{u['bonus_capped']:g}", f"{u['deduction']:g}",
                f"{u['deduction_capped']:g}", "是" if u["veto"] else "") for u in doc["units"]])
    if doc["revoked_hidden"]:
        out.info(f"另有 {doc['revoked_hidden']} 项已撤销（不计分），加 --all 查看")


@app.command("revoke")
def adjust_revoke(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="加减分项编号（见 djctl adjust list）", metavar="ID", min=1, max=2**63 - 1)],
    reason: Annotated[str, typer.Option("--reason", help="撤销原因")],
    json_: JsonOpt = False,
) -> None:
    """撤销一项加减分（不删除，保留撤销时间与原因；不能重复撤销）。

    示例：djctl adjust revoke 12 --reason 误录，该奖项不属于党建考核加分范围
    """
    from djctl.services.adjust import revoke_adjustment

    if not reason.strip():
        raise typer.BadParameter("撤销原因不能为空", param_hint="--reason")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    item = revoke_adjustment(st.open_store(must_exist=True), item_id, reason)
    if json_:
        out.doc(item)
        return
    out.line(f"已撤销第 {item['id']} 项（{item['unit']} {item['kind_cn']} {item['points']:g} 分：{item['reason']}），原因：{reason}")


@app.command("template")
def adjust_template(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的加减分项表文件")] = Path("加减分项表.xlsx"),
) -> None:
    """生成空白加减分项表（带表头、下拉选项与填写说明）。

    示例：djctl adjust template --out 加减分项2024.xlsx
    """
    from djctl.services.adjust import write_template

    Output(False, settings(ctx).quiet).result(str(write_template(out_file)))
