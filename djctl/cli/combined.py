"""`djctl combined` (党建在综合考核中的赋分) and `djctl eligibility` (评先评优资格)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, XlsxOpt, YearOpt, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.cli.bulletin import DateOpt, TemplatesOpt, parse_formats_opt

app = make_app()


@app.command("combined")
def combined_cmd(
    ctx: typer.Context,
    year: YearOpt,
    business: Annotated[Optional[Path], typer.Option("--business", help="业务工作得分表（工作表「业务工作得分」：单位编码、业务工作得分）")] = None,
    xlsx: XlsxOpt = None,
    explain: Annotated[Optional[str], typer.Option("--explain", help="说明一个单位的综合考核得分是怎样算出来的（单位编码）")] = None,
    business_template: Annotated[Optional[Path], typer.Option("--business-template", help="生成空白的业务工作得分表（列出参加排名的单位）")] = None,
    json_: JsonOpt = False,
) -> None:
    """党建工作在本机关综合考核中的赋分：每个单位的党建考核结果按方案 [combined] 的权重（默认三分之一）折算到综合考核分值；
    给出业务工作得分表时，再算出综合考核得分与排名。--xlsx 导出报送目标绩效办公室的表格（每个单位一行，不含公式）。

    每一步四舍五入保留两位小数，下一步使用四舍五入后的数。

    示例：djctl combined --year 2024 --business 业务工作得分2024.xlsx --xlsx 综合考核党建部分2024.xlsx
    """
    from djctl.services import combined as svc

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    if business_template is not None:
        res = svc.combined(store, year)
        path = svc.write_business_template(res, business_template)
        out.doc({"year": year, "file": str(path)}) if json_ else out.result(str(path))
        return
    if explain is not None:
        row = svc.explain_combined(store, year, explain, business)
        if json_:
            out.doc({"year": year, **row.to_json()})
            return
        out.line(f"{row.unit} {row.name} {year} 年度综合考核：")
        for line in row.figure.steps:
            out.line(f"  {line}")
        return
    res = svc.combined(store, year, business)
    if xlsx is not None:
        svc.write_combined_xlsx(res, xlsx)
    if json_:
        out.doc({**res.to_json(), "xlsx": str(xlsx) if xlsx else None})
        return
    cols, rows = svc.combined_table(res)
    from djctl.domain.people import num
    from djctl.domain.points import fmt

    short = ["单位", "党建总分", "等次", "对应等次", "党建得分", "业务得分", "业务折算", "综合得分", "排名"][:len(cols) - 1]
    out.table(f"{year} 年度综合考核（党建工作权重 {res.weight}，满分 {fmt(res.scale)}）", short,
              [[("" if v is None else num(v) if not isinstance(v, (str, int)) else v) for v in row[1:]] for row in rows],
              justify=["left", "right", "left", "left"] + ["right"] * (len(cols) - 5))
    if res.missing_business:
        out.warn(f"{len(res.missing_business)} 个单位不在业务工作得分表中，未计算综合考核得分：" + "、".join(res.missing_business))
    if xlsx is not None:
        out.result(str(xlsx))


@app.command("eligibility")
def eligibility_cmd(
    ctx: typer.Context,
    year: YearOpt,
    formats: Annotated[Optional[str], typer.Option("--format", help="同时生成文书，逗号分隔：docx,md,html,xlsx")] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="文书输出目录")] = Path("文书"),
    templates: TemplatesOpt = None,
    on_date: DateOpt = None,
    json_: JsonOpt = False,
) -> None:
    """评先评优资格：按方案 [eligibility] 的规则（考核等次为差、一票否决、列入负面清单、书记述职评议为差、未参加排名），
    逐个单位给出是否具备资格及原因。

    示例：djctl eligibility --year 2024 --json
    """
    fmts = parse_formats_opt(formats) if formats else []
    d = parse_date_opt(on_date)
    from djctl.services.combined import eligibility_list, write_eligibility

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    res = eligibility_list(store, year)
    paths = write_eligibility(store, year, formats=fmts, out_dir=out_dir, templates=templates or st.templates,
                              on_date=d) if fmts else []
    if json_:
        out.doc({**res.to_json(), "files": [str(p) for p in paths]})
        return
    out.table(f"{year} 年度评先评优资格（{res.honour}）", ["编码", "单位", "等次", "资格", "原因"],
              [(r.unit, r.name, r.grade or "—", "具备" if r.result.eligible else "不具备",
                "；".join(t for _, t in r.result.reasons)) for r in res.rows])
    doc = res.to_json()
    out.line(f"具备资格 {doc['eligible']} 个，不具备 {doc['not_eligible']} 个")
    for w in res.warnings:
        out.warn(w)
    for p in paths:
        out.result(str(p))

