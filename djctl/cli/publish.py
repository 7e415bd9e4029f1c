"""`djctl publish`: the 公示 site (static pages with an in-page verifier)."""

from __future__ import annotations

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, OutDirOpt, YearOpt, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.cli.bulletin import DateOpt

app = make_app()


@app.command("publish")
def publish(ctx: typer.Context, year: YearOpt, out_dir: OutDirOpt, on_date: DateOpt = None, json_: JsonOpt = False) -> None:
    """生成公示网站：首页、每次抽签的公示页（种子及来源、规则、完整总体及哈希、抽中名单、重抽原因、检查人员）、
    季度得分与排名（含图表）、年度排名和负面清单。

    网页是普通文件，可从文件夹或内网共享目录直接打开，不连接外部网站；每个公示页内嵌抽签记录和核验脚本，
    在浏览器中重新计算并显示“一致”或不一致之处。每页注明生成时依据的审计链头。

    示例：djctl publish --year 2024 --out 公示2024 --date 2025-01-10
    """
    d = parse_date_opt(on_date)
    from djctl.services.publish import publish as run

    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = run(st.open_store(must_exist=True), year, out_dir, on_date=d)
    if json_:
        out.doc(r.to_json())
        return
    out.info(f"{year} 年度公示网站：{r.draws} 次抽签，{len(r.files)} 个网页；审计链头第 {r.audit_head['seq']} 条")
    out.result(str(out_dir / "index.html"))
