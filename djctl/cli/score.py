"""`djctl score` and `djctl explain`: figures and how they came about."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, XlsxOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()

STATUS_CN = {"reported": "已报送", "missing": "未报送", "inactive": "不在册"}
MonthO = Annotated[Optional[str], typer.Option("--month", "-m", help="月份，如 2024-03")]
QuarterO = Annotated[Optional[str], typer.Option("--quarter", help="季度，如 2024Q1 或 2024-Q1")]
YearO = Annotated[Optional[str], typer.Option("--year", "-y", help="年度，如 2024")]


def _n(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def _one_period(month: str | None, quarter: str | None, year: str | None):
    given = [(v, k, o) for v, k, o in ((month, "month", "--month"), (quarter, "quarter", "--quarter"),
                                        (year, "year", "--year")) if v]
    if len(given) != 1:
        raise typer.BadParameter("请指定 --month、--quarter、--year 中的一个", param_hint="--month/--quarter/--year")
    value, kind, opt = given[0]
    return parse_period_opt(value, (kind,), opt)


@app.command("score")
def score(
    ctx: typer.Context,
    month: MonthO = None,
    quarter: QuarterO = None,
    year: YearO = None,
    xlsx: XlsxOpt = None,
    json_: JsonOpt = False,
) -> None:
    """计算并显示得分：月度（自评、核查扣分、最终得分、得分率），季度（各月得分率、季度得分、排名），
    年度（日常考核、民主测评、加减分、总分、排名、等次）。

    示例：djctl score --quarter 2024Q1 --xlsx 一季度得分.xlsx
    """
    p = _one_period(month, quarter, year)
    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    if p.kind == "month":
        from djctl.services.monthly import month_scores

        doc = month_scores(store, str(p))
        headers = ["编码", "单位", "状态", "抽查", "虚假", "自评", "扣分", "最终", "满分", "得分率"]
        rows = [(r["unit"], r["name"], STATUS_CN[r["status"]], "是" if r["checked"] else "", "是" if r["false"] else "",
                 _n(r["self"]), _n(r["deduction"]), _n(r["final"]), _n(r["full"]), _n(r["rate"])) for r in doc["rows"]]
        title = f"{p.label} 月度得分"
        if not json_ and not doc.pop("drawn"):
            out.info("本月尚未抽查：最终得分暂等于自评得分。")
        doc.pop("drawn", None)
    elif p.kind == "quarter":
        from djctl.services.quarterly import quarter_scores

        doc = quarter_scores(store, str(p))
        headers = ["名次", "编码", "单位", "分组", *[f"{int(m[5:])}月" for m in doc["months"]], "季度得分", "组内名次", "标记"]
        rows = [(_n(r["rank"]), r["unit"], r["name"], r["group"], *[_n(r["rates"][m]) for m in doc["months"]],
                 _n(r["score"]), _n(r["group_rank"]), _marks(r)) for r in doc["rows"]]
        title = f"{p.label}得分与排名"
    else:
        from djctl.services.annual import year_scores

        doc = year_scores(store, str(p))
        headers = ["名次", "编码", "单位", "日常考核", "民主测评", "加分", "减分", "总分", "等次", "组内名次"]
        rows = [(_n(r["rank"]), r["unit"], r["name"], _n(r["daily"]), _n(r["democratic"]), _n(r["bonus"]),
                 _n(r["deduction"]), _n(r["total"]), r["grade"], _n(r["group_rank"])) for r in doc["rows"]]
        title = f"{p.label}考核总分与排名"
    if xlsx:
        from djctl.io.xlsx import write_table_workbook

        write_table_workbook(xlsx, [(title, headers, rows)])
        out.info(f"已导出：{xlsx}")
    if json_:
        out.doc(doc)
        return
    out.table(title, headers, rows)


def _marks(r: dict) -> str:
    marks = []
    if r.get("missing"):
        marks.append("未报送 " + ",".join(m[5:] for m in r["missing"]))
    if r.get("false"):
        marks.append("虚假 " + ",".join(m[5:] for m in r["false"]))
    elif r.get("checked"):
        marks.append("抽查 " + ",".join(m[5:] for m in r["checked"]))
    return "；".join(marks)


@app.command("explain")
def explain(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="单位编码")],
    month: MonthO = None,
    year: YearO = None,
    json_: JsonOpt = False,
) -> None:
    """说明一个单位的得分是怎样算出来的：某月逐项的自评、核查与扣分公式；或全年从各月得分率、
    季度、日常考核、民主测评、加减分到总分与等次的每一步。

    示例：djctl explain U003 --year 2024
    """
    p = _one_period(month, None, year)
    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    if p.kind == "month":
        from djctl.services.monthly import explain_month

        doc = explain_month(store, unit, str(p))
        if json_:
            out.doc(doc)
            return
        out.line(f"{doc['unit']} {doc['name']} · {p.label}")
        if doc["tasks"]:
            out.table(None, ["任务", "分值", "自评", "核查", "虚假", "扣减", "最终", "计算"],
                      [(f"{t['task']} {t['name']}", _n(t["full"]), _n(t["self"]), _n(t["verified"]),
                        {True: "是", False: "否", None: ""}[t["false"]], _n(t["deduction"]), _n(t["final"]), t["formula"])
                       for t in doc["tasks"]])
        for line in doc["steps"][-2:] if doc["tasks"] else doc["steps"]:
            out.line(line)
        for line in doc.get("rules", []):  # where the factors come from, in the scheme's words
            out.line(f"依据：{line}")
        return
    from djctl.services.annual import explain_year

    doc = explain_year(store, unit, p.year)
    if json_:
        out.doc(doc)
        return
    out.line(f"{doc['unit']} {doc['name']} · {p.label}")
    for i, s in enumerate(doc["steps"], 1):
        out.line("")
        out.line(f"{i}. {s['step']}（{s['rule']}）")
        for line in s["lines"]:
            if line:
                out.line(f"   {line}")
