"""`djctl score` and `djctl explain`: figures and how they came about."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, XlsxOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()

STATUS_CN = {"reported": "已报送", "missing": "未报送", "inactive": "不在册"}


def _n(v) -> str:
    return "" if v is None else f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


@app.command("score")
def score(
    ctx: typer.Context,
    month: Annotated[Optional[str], typer.Option("--month", "-m", help="月份，如 2024-03")] = None,
    xlsx: XlsxOpt = None,
    json_: JsonOpt = False,
) -> None:
    """计算并显示得分：月度（自评、核查扣分、最终得分、得分率）。

    示例：djctl score --month 2024-03 --xlsx 三月得分.xlsx
    """
    if not month:
        raise typer.BadParameter("请指定 --month", param_hint="--month")
    p = parse_period_opt(month, ("month",), "--month")
    from djctl.services.monthly import month_scores

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = month_scores(st.open_store(must_exist=True), str(p))
    headers = ["编码", "单位", "分组", "状态", "抽查", "虚假", "自评", "扣分", "最终", "满分", "得分率"]
    rows = [(r["unit"], r["name"], r["group"], STATUS_CN[r["status"]], "是" if r["checked"] else "",
             "是" if r["false"] else "", _n(r["self"]), _n(r["deduction"]), _n(r["final"]), _n(r["full"]), _n(r["rate"]))
            for r in doc["rows"]]
    if xlsx:
        from djctl.io.xlsx import write_table_workbook

        write_table_workbook(xlsx, [(f"{p} 月度得分", headers, rows)])
        out.info(f"已导出：{xlsx}")
    if json_:
        out.doc({k: v for k, v in doc.items() if k != "drawn"})
        return
    out.table(f"{p.label} 月度得分", headers, rows)
    if not doc["drawn"]:
        out.info("本月尚未抽查：最终得分暂等于自评得分。")


@app.command("explain")
def explain(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="单位编码")],
    month: Annotated[Optional[str], typer.Option("--month", "-m", help="解释某月的得分")] = None,
    json_: JsonOpt = False,
) -> None:
    """说明一个单位的得分是怎样算出来的：逐项自评、核查、扣分公式与得分率。

    示例：djctl explain U003 --month 2024-03
    """
    if not month:
        raise typer.BadParameter("请指定 --month", param_hint="--month")
    p = parse_period_opt(month, ("month",), "--month")
    from djctl.services.monthly import explain_month

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = explain_month(st.open_store(must_exist=True), unit, str(p))
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
