"""`djctl debrief template|import|list|report`: 书记抓党建述职评议."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt, YearOpt, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.cli.bulletin import DateOpt, FormatOpt, TemplatesOpt, parse_formats_opt
from djctl.errors import InputError

app = make_app(help="书记抓党建述职评议：生成评议汇总表、导入述职日期与评议票、查看评议结果、生成结果通报。")


@app.command("template")
def debrief_template(
    ctx: typer.Context,
    year: YearOpt,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的述职评议表文件")] = Path("述职评议表.xlsx"),
) -> None:
    """生成述职评议汇总表：列出该年度全部在册单位（机关党委、党总支、党支部）及所属党支部的书记，只有书记、述职日期、票数和备注可以填写。

    示例：djctl debrief template --year 2024 --out 述职评议表2024.xlsx
    """
    from djctl.services.debrief import write_template

    st = settings(ctx)
    path, n = write_template(st.open_store(must_exist=True), year, out_file)
    out = Output(False, st.quiet)
    out.info(f"{year} 年度应述职的书记 {n} 名")
    out.result(str(path))


@app.command("import")
def debrief_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="填好的述职评议表（工作表「述职评议」）")],
    year: YearOpt,
    dry_run: DryRunOpt = False,
    replace: Annotated[bool, typer.Option("--replace", help="以本文件替换该年度已导入的述职评议（旧数据保留为历史）")] = False,
    json_: JsonOpt = False,
) -> None:
    """导入述职评议：整份文件全部通过才写入；同一文件重复导入不改动；另一份文件须加 --replace。

    示例：djctl debrief import 述职评议表2024.xlsx --year 2024
    """
    from djctl.services.debrief import import_debrief
    from djctl.services.importing import STATUS_CN

    st = settings(ctx)
    out = Output(json_, st.quiet)
    f = import_debrief(st.open_store(must_exist=True), file, year=year, dry_run=dry_run, replace=replace)
    if json_:
        out.doc({"files": [f.to_json()]})
    else:
        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 名书记")
        for old in f.extra.get("replaced", []):
            out.line(f"  替换了此前导入的 {old['path']}（{old['rows']} 名，保留为历史）")
    if f.extra.get("not_reported") and f.status != "refused":
        out.warn("以下组织整行未填，记为未述职：" + "、".join(f.extra["not_reported"]))
    if f.status == "refused":
        raise InputError(f.message or "述职评议表未导入", path=f.path, problems=f.errors)


@app.command("list")
def debrief_list(ctx: typer.Context, year: YearOpt, json_: JsonOpt = False) -> None:
    """列出每名书记的述职日期、各档票数、评议得分和结果（按方案规则计算），以及未述职的组织。

    示例：djctl debrief list --year 2024 --json
    """
    from djctl.domain.people import num
    from djctl.services.debrief import list_debriefs

    st = settings(ctx)
    out = Output(json_, st.quiet)
    res = list_debriefs(st.open_store(must_exist=True), year)
    if json_:
        out.doc(res.to_json())
        return
    out.table(f"{year} 年度书记抓党建述职评议（述职 {len(res.reported)} 名）",
              ["编码", "组织", "层级", "书记", "述职日期", "好", "较好", "一般", "差", "参评", "得分", "结果"],
              [(i.code, i.name, i.level, i.secretary, i.reported_on.isoformat(), *i.votes.values(), i.voters,
                num(i.score), i.rating) for i in res.reported],
              justify=["left"] * 5 + ["right"] * 7)
    out.line("结果：" + "，".join(f"{k} {v} 名" for k, v in res.counts().items()))
    if res.missing:
        out.warn(f"{len(res.missing)} 个组织的书记未述职或未导入：" + "、".join(f"{i.code} {i.name}" for i in res.missing[:20])
                 + ("……" if len(res.missing) > 20 else ""))


@app.command("report")
def debrief_report(
    ctx: typer.Context,
    year: YearOpt,
    formats: FormatOpt = "docx,md,html",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    on_date: DateOpt = None,
    json_: JsonOpt = False,
) -> None:
    """生成书记抓党建述职评议结果通报（公文格式的 Word，及 Markdown、HTML），附各书记的票数、得分与结果。

    示例：djctl debrief report --year 2024 --out 文书 --date 2025-01-20
    """
    fmts = parse_formats_opt(formats)
    d = parse_date_opt(on_date)
    from djctl.services.debrief import write_report

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_report(st.open_store(must_exist=True), year, formats=fmts, out_dir=out_dir,
                         templates=templates or st.templates, on_date=d)
    if json_:
        out.doc({"year": year, "files": [str(p) for p in paths]})
        return
    for p in paths:
        out.result(str(p))
