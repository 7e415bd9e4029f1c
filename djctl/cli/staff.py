"""`djctl staff ...`: 工委干部月度考评 (the committee's own staff)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt, MonthOpt, parse_date_opt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.cli.bulletin import DateOpt, FormatOpt, TemplatesOpt, parse_formats_opt
from djctl.errors import InputError

app = make_app(help="工委干部月度考评：名册、月度考评表下发与导入、月度与年度得分和排名、月度考评通报。")

PeriodMonthOpt = Annotated[Optional[str], typer.Option("--month", "-m", help="月份，如 2024-03")]
PeriodYearOpt = Annotated[Optional[str], typer.Option("--year", "-y", help="年度，如 2024（年度得分 = 各月得分之和）")]


def _period(month: str | None, year: str | None) -> str:
    if (month is None) == (year is None):
        raise typer.BadParameter("请给出 --month 或 --year 之一")
    if month is not None:
        return str(parse_period_opt(month, ("month",), "--month"))
    return str(parse_period_opt(year, ("year",), "--year"))


@app.command("roster")
def staff_roster(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="工委干部名册（工作表「工委干部」：人员编码、姓名、职务、处室）")],
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """导入工委干部名册：新增人员、信息变化的人员（旧信息保留为历史）、名册中不再有的人员（记为调离）；内容相同不改动。

    示例：djctl staff roster 工委干部名册.xlsx
    """
    from djctl.services.importing import STATUS_CN
    from djctl.services.staff import import_roster

    st = settings(ctx)
    out = Output(json_, st.quiet)
    f = import_roster(st.open_store(must_exist=True), file, dry_run=dry_run)
    if json_:
        out.doc({"files": [f.to_json()]})
    else:
        e = f.extra
        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 人（新增 {len(e['added'])}，变更 {len(e['changed'])}，调离 {len(e['left'])}）")
    if f.status == "refused":
        raise InputError(f.message or "名册未导入", path=f.path, problems=f.errors)


@app.command("roster-template")
def staff_roster_template(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出文件")] = Path("工委干部名册.xlsx"),
) -> None:
    """生成空白的工委干部名册（人员编码、姓名、职务、处室）。

    示例：djctl staff roster-template --out 工委干部名册.xlsx
    """
    from djctl.services.staff import write_roster_template

    Output(False, settings(ctx).quiet).result(str(write_roster_template(out_file)))


@app.command("list")
def staff_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """列出在册的工委干部。

    示例：djctl staff list --json
    """
    from djctl.services.staff import list_staff

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = list_staff(st.open_store(must_exist=True))
    if json_:
        out.doc({"staff": rows})
        return
    out.table(f"工委干部（{len(rows)} 人）", ["编码", "姓名", "职务", "处室"],
              [(r["code"], r["name"], r["position"], r["department"]) for r in rows])


@app.command("template")
def staff_template(
    ctx: typer.Context,
    month: MonthOpt,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的考评表文件")] = Path("工委干部月度考评表.xlsx"),
) -> None:
    """生成某月的工委干部月度考评表：列出在册人员，只有三项得分和备注可以填写。

    示例：djctl staff template --month 2024-03 --out 考评表2024-03.xlsx
    """
    m = str(parse_period_opt(month, ("month",), "--month"))
    from djctl.services.staff import write_template

    st = settings(ctx)
    path, n = write_template(st.open_store(must_exist=True), m, out_file)
    out = Output(False, st.quiet)
    out.info(f"在册 {n} 人")
    out.result(str(path))


@app.command("import")
def staff_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="填好的月度考评表（工作表「月度考评」）")],
    month: MonthOpt,
    dry_run: DryRunOpt = False,
    replace: Annotated[bool, typer.Option("--replace", help="以本文件替换该月已导入的考评表（旧数据保留为历史）")] = False,
    json_: JsonOpt = False,
) -> None:
    """导入某月的工委干部考评分数：整份文件全部通过才写入；同一文件重复导入不改动；另一份文件须加 --replace。

    示例：djctl staff import 考评表2024-03.xlsx --month 2024-03
    """
    m = str(parse_period_opt(month, ("month",), "--month"))
    from djctl.services.importing import STATUS_CN
    from djctl.services.staff import import_scores

    st = settings(ctx)
    out = Output(json_, st.quiet)
    f = import_scores(st.open_store(must_exist=True), file, month=m, dry_run=dry_run, replace=replace)
    if json_:
        out.doc({"files": [f.to_json()]})
    else:
        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 人")
    if f.extra.get("skipped") and f.status != "refused":
        out.warn("以下人员整行未填，本月未考评：" + "、".join(f.extra["skipped"]))
    if f.status == "refused":
        raise InputError(f.message or "考评表未导入", path=f.path, problems=f.errors)


@app.command("score")
def staff_score(ctx: typer.Context, month: PeriodMonthOpt = None, year: PeriodYearOpt = None,
                json_: JsonOpt = False) -> None:
    """月度得分与排名（月度得分 = Σ 权重 × 维度得分），或年度得分与排名（各月得分之和，列出未考评的月份）。

    示例：djctl staff score --year 2024
    """
    period = _period(month, year)
    from djctl.domain.people import num
    from djctl.services.staff import staff_scores

    st = settings(ctx)
    out = Output(json_, st.quiet)
    res = staff_scores(st.open_store(must_exist=True), period)
    if json_:
        out.doc(res.to_json())
        return
    if len(period) == 7:
        out.table(f"{period} 工委干部月度考评（" + "，".join(f"{k} {v}" for k, v in res.weights.items()) + "）",
                  ["名次", "编码", "姓名", "职务", "工作实绩", "作风表现", "综合测评", "月度得分"],
                  [(x.rank, x.code, x.name, x.position, *[num(v) for v in x.month.scores.values()], num(x.month.total))
                   for x in res.rows])
        if res.not_scored:
            out.warn("本月未考评：" + "、".join(f"{x['code']} {x['name']}" for x in res.not_scored))
        return
    out.table(f"{period} 年度工委干部考评（各月得分之和）", ["名次", "编码", "姓名", *[f"{i}月" for i in range(1, 13)], "年度得分"],
              [(x.rank, x.code, x.name, *[num(v) if v is not None else "—" for v in x.monthly.values()], num(x.year_total))
               for x in res.rows])
    for x in res.rows:
        if x.missing:
            out.warn(f"{x.code} {x.name} 未考评的月份：" + "、".join(x.missing))


@app.command("explain")
def staff_explain(ctx: typer.Context, code: Annotated[str, typer.Argument(help="人员编码")],
                  month: PeriodMonthOpt = None, year: PeriodYearOpt = None, json_: JsonOpt = False) -> None:
    """说明一名工委干部某月或全年的得分是怎样算出来的。

    示例：djctl staff explain S01 --year 2024
    """
    period = _period(month, year)
    from djctl.services.staff import explain_staff

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = explain_staff(st.open_store(must_exist=True), code, period)
    if json_:
        out.doc(doc)
        return
    out.line(f"{doc['code']} {doc['name']}（{doc['period']}）：")
    for line in doc["steps"]:
        out.line(f"  {line}")


@app.command("bulletin")
def staff_bulletin(
    ctx: typer.Context,
    month: MonthOpt,
    formats: FormatOpt = "docx,md,html",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    on_date: DateOpt = None,
    json_: JsonOpt = False,
) -> None:
    """生成某月工委干部月度考评结果通报（公文格式的 Word，及 Markdown、HTML、Excel）。

    示例：djctl staff bulletin --month 2024-03 --out 文书 --date 2024-04-05
    """
    m = str(parse_period_opt(month, ("month",), "--month"))
    fmts = parse_formats_opt(formats)
    d = parse_date_opt(on_date)
    from djctl.services.staff import write_bulletin

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_bulletin(st.open_store(must_exist=True), m, formats=fmts, out_dir=out_dir,
                           templates=templates or st.templates, on_date=d)
    if json_:
        out.doc({"month": m, "files": [str(p) for p in paths]})
        return
    for p in paths:
        out.result(str(p))
