"""`djctl selfeval forms|import|status`: the monthly self-assessment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._imports import present_import
from djctl.cli._options import DryRunOpt, FilesArg, JsonOpt, MonthOpt, OutDirOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import ActionNeeded

app = make_app(help="月自评：下发自评表、导入各单位报送的自评表、查看报送情况。")


@app.command("forms")
def selfeval_forms(
    ctx: typer.Context,
    month: MonthOpt,
    out_dir: OutDirOpt = Path("自评表"),
    unit: Annotated[Optional[list[str]], typer.Option("--unit", help="只生成这些单位的表（可多次指定）")] = None,
    json_: JsonOpt = False,
) -> None:
    """为每个在册单位生成预填的月度自评表（只有得分与说明可填写，带数据有效性）。

    示例：djctl selfeval forms --month 2024-03 --out 自评表/2024-03
    """
    from djctl.services.selfeval import write_forms

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_forms(st.open_store(must_exist=True), str(p), out_dir, unit)
    if json_:
        out.doc({"period": str(p), "files": [str(x) for x in paths]})
        return
    out.line(f"已生成 {len(paths)} 份 {p.label}自评表：{out_dir}")


@app.command("import")
def selfeval_import(
    ctx: typer.Context,
    files: FilesArg,
    replace: Annotated[bool, typer.Option("--replace", help="同一单位同月已报送时，以这份为准（原自评保留在历史中）")] = False,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """导入各单位报送的自评表：每个文件整份导入或整份拒绝；同一文件重复导入不改动。

    文件在 200 份以上时，用多个进程同时读取（每个处理器核心一个，最多 4 个；环境变量 DJCTL_IMPORT_WORKERS
    可指定进程数，设为 1 则不并行），结果与逐份读取相同。

    示例：djctl selfeval import 收到的自评表/2024-03/
    """
    from djctl.services.selfeval import import_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    results = import_forms(st.open_store(), files, replace=replace, dry_run=dry_run)
    present_import(out, results)


@app.command("status")
def selfeval_status(
    ctx: typer.Context,
    month: MonthOpt,
    strict: Annotated[bool, typer.Option("--strict", help="保留以兼容旧脚本：有单位未报送时总是以退出码 1 结束")] = False,
    json_: JsonOpt = False,
) -> None:
    """查看某月各单位的报送情况，列出未报送单位；有单位未报送时退出码为 1（需要处理）。

    示例：djctl selfeval status --month 2024-03
    """
    from djctl.services.selfeval import status, status_doc

    p = parse_period_opt(month, ("month",), "--month")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = status(st.open_store(must_exist=True), str(p))
    doc = status_doc(str(p), rows)
    if json_:
        out.doc(doc)
    else:
        words = {"reported": "已报送", "missing": "未报送", "inactive": "不在册"}
        out.table(f"{p.label}自评报送情况", ["编码", "单位", "分组", "状态", "文件"],
                  [(r.unit, r.name, r.group, words[r.status], r.file) for r in rows])
        c = doc["counts"]
        out.line(f"已报送 {c['reported']}，未报送 {c['missing']}，不在册 {c['inactive']}")
        if doc["missing"]:
            out.line("未报送：" + "、".join(f"{r.unit} {r.name}" for r in rows if r.status == "missing"))
    if doc["missing"]:  # done, but the user must act: exit 1 (with --json too: the document is on stdout)
        raise ActionNeeded(f"{p} 有 {len(doc['missing'])} 个单位未报送自评")
