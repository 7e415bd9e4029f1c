"""`djctl inspector import|list`: the pool from which spot-check inspectors are drawn (双随机)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(help="检查人员库（双随机）：导入、查看。")


@app.command("import")
def inspector_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="工作簿（工作表「检查人员」：人员编码、姓名、所在单位编码、分组、角色、曾任职单位）")],
    json_: JsonOpt = False,
) -> None:
    """导入检查人员库：替换当前人员库（旧名单保留在历史中）；内容相同的文件重复导入不改动。

    导入后，月度抽查和“回头看”抽签为每个抽中单位按同一抽签规则随机确定检查人员，并按考核方案 [inspection]
    回避本单位、同组、近年任职过和近期检查过该单位的人员。曾任职单位写作 单位编码:离任年份，多个用；分隔。

    示例：djctl inspector import 检查人员2024.xlsx
    """
    from djctl.services.inspectors import import_pool

    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = import_pool(st.open_store(must_exist=True), file)
    if json_:
        out.doc(r.to_json())
        return
    if r.status == "unchanged":
        out.line(f"{file}：与当前人员库相同，未改动（{r.rows} 人）")
    else:
        out.line(f"{file}：已导入 {r.rows} 名检查人员" + (f"，原人员库 {r.replaced} 人转入历史" if r.replaced else ""))


@app.command("list")
def inspector_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """列出当前检查人员库。

    示例：djctl inspector list --json
    """
    from djctl.services.inspectors import list_pool

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = list_pool(st.open_store(must_exist=True))
    if json_:
        out.doc({"inspectors": rows})
        return
    out.table("检查人员库", ["编码", "姓名", "所在单位", "分组", "角色", "曾任职单位"],
              [[r["code"], r["name"], r["unit"], r["group"], r["role"],
                "；".join(f"{c}:{y}" for c, y in r["served"])] for r in rows])
