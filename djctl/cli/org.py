"""`djctl org import|list|show|template`: the roster of units and branches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt
from djctl.cli._options import parse_date_opt as _date
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import InputError

app = make_app(help="单位与支部名册：导入、查看、模板。")


@app.command("import")
def org_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="名册工作簿（工作表「单位」与「支部」）")],
    dry_run: DryRunOpt = False,
    deactivate_missing: Annotated[bool, typer.Option("--deactivate-missing", help="把名册中没有的单位标记为撤销、支部标记为停用")] = False,
    json_: JsonOpt = False,
) -> None:
    """导入名册：同一文件重复导入不改动；变更的行保留旧值于审计日志；缺少的单位只报告不删除。

    示例：djctl org import 名册2024.xlsx --dry-run
    """
    from djctl.services.roster import import_roster

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rep = import_roster(st.open_store(), file, dry_run=dry_run, deactivate_missing=deactivate_missing)
    f = rep.file
    if json_:
        out.doc(rep.to_json())
    else:
        from djctl.services.importing import STATUS_CN

        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 行")
        if f.status in ("imported", "valid"):
            out.line(f"单位：新增 {len(rep.added_units)}，变更 {len(rep.changed_units)}；"
                     f"支部：新增 {len(rep.added_branches)}，变更 {len(rep.changed_branches)}")
            for code, diff in rep.changed_units.items():
                out.line(f"  单位 {code}：" + "；".join(f"{k} {a} → {b}" for k, (a, b) in diff.items()))
            if rep.missing_units:
                out.warn(f"名册中没有以下单位（未删除{'，已标记撤销' if rep.deactivated_units else '；如已撤销请加 --deactivate-missing'}）："
                         + "、".join(rep.missing_units))
            if rep.missing_branches:
                out.warn(f"名册中没有以下支部（{'已停用' if rep.deactivated_branches else '未改动'}）：" + "、".join(rep.missing_branches))
    if f.status == "refused":
        raise InputError(f.message or "名册未导入", path=f.path, problems=f.errors)


@app.command("list")
def org_list(
    ctx: typer.Context,
    group: Annotated[Optional[str], typer.Option("--group", help="只列出某分组")] = None,
    branches: Annotated[bool, typer.Option("--branches", help="同时列出支部")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="按哪一天判断在册、已撤销或未成立（默认今天），如 2024-12-31")] = None,
    json_: JsonOpt = False,
) -> None:
    """列出单位（和支部），状态按截至日期判断。

    示例：djctl org list --group 第一协作组 --as-of 2024-12-31 --json
    """
    from djctl.services.roster import list_org

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = list_org(st.open_store(must_exist=True), group, as_of=_date(as_of, "--as-of") if as_of else None)
    if json_:
        out.doc(doc)
        return
    out.table(f"单位（{len(doc['units'])}，状态截至 {doc['as_of']}）", ["编码", "名称", "类型", "分组", "党员", "状态"],
              [(u["code"], u["name"], u["kind"], u["group"], u["members"], u["status"]) for u in doc["units"]])
    if branches:
        out.table(f"支部（{len(doc['branches'])}）", ["编码", "名称", "所属单位", "党员", "等次"],
                  [(b["code"], b["name"], b["unit"], b["members"], b["tier"]) for b in doc["branches"]])


@app.command("show")
def org_show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="单位或支部编码")],
    json_: JsonOpt = False,
) -> None:
    """显示一个单位（及其支部）或一个支部（及其等次历史）。

    示例：djctl org show U001
    """
    from djctl.services.roster import show_org

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = show_org(st.open_store(must_exist=True), code)
    if json_:
        out.doc(doc)
        return
    skip = {"branches", "tier_history", "type"}
    out.table(f"{'单位' if doc['type'] == 'unit' else '支部'} {doc['code']}", ["项目", "值"],
              [(k, v) for k, v in doc.items() if k not in skip])
    if doc["type"] == "unit":
        out.table("所属支部", ["编码", "名称", "党员", "等次"], [(b["code"], b["name"], b["members"], b["tier"]) for b in doc["branches"]])
    else:
        out.table("等次历史", ["日期", "原等次", "新等次", "依据", "说明"],
                  [(h["date"], h["from"] or "", h["to"], h["basis"], h["note"]) for h in doc["tier_history"]])


@app.command("template")
def org_template(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的名册模板文件")] = Path("名册模板.xlsx"),
) -> None:
    """生成空白名册模板（带表头与数据有效性）。

    示例：djctl org template --out 名册模板.xlsx
    """
    from djctl.services.roster import write_template

    path = write_template(out_file)
    Output(False, settings(ctx).quiet).result(str(path))
