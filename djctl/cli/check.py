"""`djctl check forms|import|status`: the monthly spot check (抽查核查) of the drawn units."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._imports import present_import
from djctl.cli._options import DryRunOpt, FilesArg, JsonOpt, MonthOpt, OutDirOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import ActionNeeded

app = make_app(help="月抽查核查：为抽中单位生成核查表、导入核查结果（虚假双倍扣分并生成整改事项）、查看核查情况。")


@app.command("forms")
def check_forms(
    ctx: typer.Context,
    month: MonthOpt,
    out_dir: OutDirOpt = Path("核查表"),
    json_: JsonOpt = False,
) -> None:
    """为本月有效抽签抽中且已报送自评的单位各生成一份核查表（预填自评得分，只有核查栏可填写）。

    抽中但未报送的单位列出（按未报送计 0 分，无需核查）。

    示例：djctl check forms --month 2024-03 --out 核查表/2024-03
    """
    from djctl.services.spotcheck import write_forms

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = write_forms(st.open_store(must_exist=True), str(p), out_dir)
    if json_:
        out.doc(r.to_json())
        return
    out.line(f"已生成 {len(r.files)} 份 {p.label}核查表（抽签 #{r.draw_id}，{r.draw_label}）：{out_dir}")
    if r.not_reported:
        out.warn("抽中但未报送自评（按未报送计 0 分，无需核查）：" + "、".join(f"{c} {n}" for c, n in r.not_reported))


@app.command("import")
def check_import(
    ctx: typer.Context,
    files: FilesArg,
    replace: Annotated[bool, typer.Option("--replace", help="同一单位同月已导入核查表时，以这份为准（原结果保留在历史中）")] = False,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """导入填好的核查表：每个文件整份导入或整份拒绝；认定虚假的任务双倍扣分，并自动生成整改事项。

    示例：djctl check import 收回的核查表/2024-03/
    """
    from djctl.services.spotcheck import import_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    results = import_forms(st.open_store(), files, replace=replace, dry_run=dry_run)
    if not json_:
        for r in results:
            if r.status == "imported" and r.message:
                out.info(f"{Path(r.path).name}：{r.message}")
    present_import(out, results)


@app.command("status")
def check_status(
    ctx: typer.Context,
    month: MonthOpt,
    strict: Annotated[bool, typer.Option("--strict", help="有抽中单位未核查时以退出码 1 结束（供脚本使用）")] = False,
    json_: JsonOpt = False,
) -> None:
    """查看某月抽中单位的核查情况：已核查、未核查、需重新核查、未报送。

    示例：djctl check status --month 2024-03 --strict
    """
    from djctl.services.spotcheck import STATUS_CN, status

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = status(st.open_store(must_exist=True), str(p))
    if json_:
        out.doc(doc)
    elif doc["draw"] is None:
        out.warn(f"{p} 还没有抽查抽签")
    else:
        out.table(f"{p.label}抽查核查情况（抽签 #{doc['draw']['id']}，{doc['draw']['label']}）",
                  ["编码", "单位", "状态", "虚假任务", "扣分", "文件", "说明"],
                  [(r["unit"], r["name"], STATUS_CN[r["status"]], "、".join(r["false_tasks"]),
                    "" if r["deduction"] is None else f"{r['deduction']:g}", r["file"], r["why"]) for r in doc["rows"]])
        c = doc["counts"]
        out.line("，".join(f"{STATUS_CN[k]} {c[k]}" for k in STATUS_CN))
    if strict and (doc["draw"] is None or doc["unchecked"]):
        raise ActionNeeded(f"{p} 还没有抽签" if doc["draw"] is None else
                           f"{p} 有 {len(doc['unchecked'])} 个抽中单位尚未核查：{'、'.join(doc['unchecked'])}")
