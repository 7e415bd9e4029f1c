"""`djctl bulletin` (季通报) and `djctl schedule` (季调度会材料)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, parse_date_opt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="输出格式，逗号分隔：docx,md,html,xlsx")]
TemplatesOpt = Annotated[Optional[Path], typer.Option("--templates", help="自定义模板目录（按名称覆盖内置模板）")]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="成文日期，如 2024-04-10（默认今天）；整改等情况按季度末统计")]
AllowGapsOpt = Annotated[bool, typer.Option("--allow-gaps", help="季度中有月份缺少任务清单、抽签或核查时照常结束（退出码 0）；缺口仍写入文书并提示")]


def _gaps_done(out: Output, gaps: list[str], allow: bool) -> None:
    """Say each gap on stderr; exit 1 (needs attention) unless --allow-gaps."""
    for g in gaps:
        out.warn(g)
    if gaps and not allow:
        from djctl.errors import ActionNeeded

        raise ActionNeeded(f"本季度有 {len(gaps)} 处缺口（已在文书中说明）",
                           hint="补齐后重新生成；确需按现有数据出文书请加 --allow-gaps")


def parse_formats_opt(value: str) -> list[str]:
    from djctl.services.docs_common import parse_formats

    try:
        return parse_formats(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None




@app.command("bulletin")
def bulletin(
    ctx: typer.Context,
    quarter: Annotated[str, typer.Option("--quarter", help="季度，如 2024Q1 或 2024-Q1")],
    formats: FormatOpt = "docx,md,html,xlsx",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    doc_number: Annotated[Optional[str], typer.Option("--doc-number", help="发文字号，如 示工委〔2024〕5号")] = None,
    on_date: DateOpt = None,
    remarks: Annotated[Optional[Path], typer.Option("--remarks", help="「下季度工作要求」的文本文件（UTF-8）")] = None,
    allow_gaps: AllowGapsOpt = False,
    json_: JsonOpt = False,
) -> None:
    """生成季度考核通报（公文格式的 Word，及 Markdown、HTML、Excel），数字全部来自数据库。

    示例：djctl bulletin --quarter 2024Q1 --doc-number 示工委〔2024〕5号 --remarks 要求.txt
    """
    q = parse_period_opt(quarter, ("quarter",), "--quarter")
    fmts = parse_formats_opt(formats)
    d = parse_date_opt(on_date)
    from djctl.services.bulletin import write_bulletin

    st = settings(ctx)
    out = Output(json_, st.quiet)
    gaps: list[str] = []
    paths = write_bulletin(st.open_store(must_exist=True), str(q), formats=fmts, out_dir=out_dir,
                           templates=templates or st.templates, doc_number=doc_number, on_date=d, remarks_path=remarks,
                           gaps=gaps)
    if remarks is None:
        out.info("未提供 --remarks：「下季度工作要求」采用考核方案 [documents.next_quarter] 的文字（方案未写时省略该节）。")
    if json_:
        out.doc({"period": str(q), "files": [str(p) for p in paths], "gaps": gaps})
    else:
        for p in paths:
            out.result(str(p))
    _gaps_done(out, gaps, allow_gaps)


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    quarter: Annotated[str, typer.Option("--quarter", help="季度，如 2024Q1 或 2024-Q1")],
    formats: FormatOpt = "docx,xlsx",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    on_date: DateOpt = None,
    allow_gaps: AllowGapsOpt = False,
    json_: JsonOpt = False,
) -> None:
    """生成季度调度会材料：报送情况、抽签与核查、得分下降较多的单位、整改事项、支部定级进展。

    示例：djctl schedule --quarter 2024Q2 --out 调度会
    """
    q = parse_period_opt(quarter, ("quarter",), "--quarter")
    fmts = parse_formats_opt(formats)
    d = parse_date_opt(on_date)
    from djctl.services.bulletin import write_schedule

    st = settings(ctx)
    out = Output(json_, st.quiet)
    gaps: list[str] = []
    paths = write_schedule(st.open_store(must_exist=True), str(q), formats=fmts, out_dir=out_dir,
                           templates=templates or st.templates, on_date=d, gaps=gaps)
    if json_:
        out.doc({"period": str(q), "files": [str(p) for p in paths], "gaps": gaps})
    else:
        for p in paths:
            out.result(str(p))
    _gaps_done(out, gaps, allow_gaps)
