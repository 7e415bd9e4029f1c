"""`djctl ranking` (年度考核结果通报) and `djctl year-end` (年终一键生成)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, check_year, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.cli.bulletin import DateOpt, FormatOpt, TemplatesOpt, parse_formats_opt

app = make_app()
YearReq = Annotated[int, typer.Option("--year", "-y", help="年度，如 2024", callback=check_year)]


@app.command("ranking")
def ranking(
    ctx: typer.Context,
    year: YearReq,
    formats: FormatOpt = "docx,md,html,xlsx",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    doc_number: Annotated[Optional[str], typer.Option("--doc-number", help="发文字号")] = None,
    on_date: DateOpt = None,
    json_: JsonOpt = False,
) -> None:
    """生成年度考核结果通报（公文格式）和排名表（含各单位 12 个月的得分率）。

    示例：djctl ranking --year 2024 --format docx,xlsx --out 年终
    """
    fmts = parse_formats_opt(formats)
    d = parse_date_opt(on_date)
    from djctl.services.ranking_docs import write_ranking

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_ranking(st.open_store(must_exist=True), year, formats=fmts, out_dir=out_dir,
                          templates=templates or st.templates, doc_number=doc_number, on_date=d)
    if json_:
        out.doc({"year": year, "files": [str(p) for p in paths]})
        return
    for p in paths:
        out.result(str(p))


@app.command("year-end")
def year_end(
    ctx: typer.Context,
    year: YearReq,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")],
    allow_gaps: Annotated[bool, typer.Option("--allow-gaps", help="有缺口时也生成文书（缺口写入清单）")] = False,
    on_date: DateOpt = None,
    templates: TemplatesOpt = None,
    json_: JsonOpt = False,
) -> None:
    """年终一键运行：检查全年任务、报送、抽查、核查、测评是否齐全，列出每处缺口；
    齐全时生成四个季度通报、年度结果通报与排名表、定级统计、回头看报告、负面清单和文件清单（含 SHA-256 与审计链头）。
    指定 --date 时重复运行得到逐字节相同的文件。

    示例：djctl year-end --year 2024 --out 年终2024 --date 2025-01-10
    """
    d = parse_date_opt(on_date)
    from djctl.services.yearend import require_no_gaps, run_year_end

    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = run_year_end(st.open_store(must_exist=True), year, out_dir, allow_gaps=allow_gaps, on_date=d,
                     templates=templates or st.templates)
    if json_:
        out.doc({"year": r.year, "written": r.written, "gaps": [g.to_json() for g in r.gaps],
                 "missing_reports": r.missing_reports, "files": r.files,
                 "manifest": str(r.manifest) if r.manifest else None})
    else:
        for g in r.gaps:
            out.line(f"缺口：{g.message}")
        if r.missing_reports:
            out.line(f"未报送（按 0 分计）：{len(r.missing_reports)} 份 — "
                     + "、".join(f"{m['unit']}({m['period'][5:]}月)" for m in r.missing_reports))
        if r.written:
            out.line(f"已生成 {len(r.files)} 个文件，清单：{r.manifest}")
    require_no_gaps(r)
