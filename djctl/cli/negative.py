"""`djctl negative-list`: the year's negative list (负面清单)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, YearOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()


@app.command("negative-list")
def negative_list(
    ctx: typer.Context,
    year: YearOpt,
    build: Annotated[bool, typer.Option("--build", help="按本年度数据生成（或重新生成）负面清单；旧清单保留在历史中")] = False,
    formats: Annotated[str, typer.Option("--format", help="输出格式，逗号分隔：docx,xlsx,md,html")] = "docx,xlsx",
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="文书输出目录（不指定则只显示）")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="生成时：清单的决定日期，按当日情况认定（默认当年 12 月 31 日）；也是文书的成文日期")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="查看某日有效的清单（当日及以前最后一次生成的清单），如 2024-12-31")] = None,
    json_: JsonOpt = False,
) -> None:
    """年度负面清单：抽查中自评虚假的单位、“回头看”中反弹的支部、年底逾期未销号整改事项所属的单位或支部，逐条列明原因。

    列入清单的单位下一年度月度抽查必抽，支部下一年度“回头看”必查。

    示例：djctl negative-list --year 2024 --build --format docx,xlsx,md --out 文书
    """
    from djctl.services.negative import parse_formats

    try:
        fmts = parse_formats(formats)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    from djctl.cli._options import parse_date_opt

    day = parse_date_opt(on_date, "--date") if on_date else None
    as_of_day = parse_date_opt(as_of, "--as-of") if as_of else None
    if build and as_of_day is not None:
        raise typer.BadParameter("生成清单时请用 --date 指定决定日期；--as-of 用于查看", param_hint="--as-of")
    from djctl.services.negative import negative_list as run

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = run(st.open_store(must_exist=True), year, build_list=build, formats=fmts if out_dir else None,
              out_dir=out_dir, templates=st.templates, on_date=day, as_of=as_of_day)
    if json_:
        out.doc(doc)
        return
    status = {"built": "已生成", "unchanged": "与已有清单相同，未改动", "stored": "已有清单"}[doc["status"]]
    c = doc["counts"]
    when = f"，决定日期 {doc['decided_on']}" if doc.get("decided_on") else ""
    out.line(f"{year} 年度负面清单（{status}{when}）：{c['unit']} 个考核单位、{c['branch']} 个党支部")
    for e in doc["entries"]:
        out.line(f"{e['kind_cn']} {e['org']} {e['name']}")
        for i, r in enumerate(e["reasons"], 1):
            out.line(f"  {i}. {r}")
    for p in doc["files"]:
        out.result(p)
