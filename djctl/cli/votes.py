"""`djctl votes template|import|list`: the democratic evaluation (民主测评)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import InputError

# like _options.YearOpt, but a year outside 2000–2100 is a usage error (exit 2) before anything is opened
YearOpt = Annotated[int, typer.Option("--year", "-y", min=2000, max=2100, help="年度，如 2024")]

app = make_app(help="民主测评：生成测评票数汇总表、导入票数、查看得分。")


@app.command("template")
def votes_template(
    ctx: typer.Context,
    year: YearOpt,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的测评表文件")] = Path("民主测评表.xlsx"),
) -> None:
    """生成民主测评票数汇总表：列出该年度全部在册单位，只有票数格可以填写。

    示例：djctl votes template --year 2024 --out 民主测评表2024.xlsx
    """
    from djctl.services.votes import write_template

    st = settings(ctx)
    path, n = write_template(st.open_store(must_exist=True), year, out_file)
    out = Output(False, st.quiet)
    out.info(f"{year} 年度在册单位 {n} 个")
    out.result(str(path))


@app.command("import")
def votes_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="填好的民主测评表（工作表「民主测评」）")],
    year: YearOpt,
    dry_run: DryRunOpt = False,
    replace: Annotated[bool, typer.Option("--replace", help="以本文件替换该年度已导入的测评票（旧数据保留为历史）")] = False,
    json_: JsonOpt = False,
) -> None:
    """导入民主测评票数：整份文件全部通过才写入；同一文件重复导入不改动；另一份文件须加 --replace。

    示例：djctl votes import 民主测评表2024.xlsx --year 2024 --dry-run
    """
    from djctl.services.importing import STATUS_CN
    from djctl.services.votes import import_votes

    st = settings(ctx)
    out = Output(json_, st.quiet)
    f = import_votes(st.open_store(must_exist=True), file, year=year, dry_run=dry_run, replace=replace)
    if json_:
        out.doc({"files": [f.to_json()]})
    else:
        out.line(f"{f.path}：{STATUS_CN[f.status]}，{f.rows} 个单位")
        for old in f.extra.get("replaced", []):
            out.line(f"  替换了此前导入的 {old['path']}（{old['rows']} 个单位，保留为历史）")
    if f.extra.get("skipped") and f.status != "refused":
        out.warn("以下单位整行未填，未导入测评票：" + "、".join(f.extra["skipped"]))
    if f.status == "refused":
        raise InputError(f.message or "民主测评表未导入", path=f.path, problems=f.errors)


@app.command("list")
def votes_list(
    ctx: typer.Context,
    year: YearOpt,
    json_: JsonOpt = False,
) -> None:
    """列出各单位的测评票数与民主测评得分，并指出没有测评票的在册单位。

    示例：djctl votes list --year 2024 --json
    """
    from djctl.domain.points import fmt
    from djctl.services.votes import list_votes

    st = settings(ctx)
    out = Output(json_, st.quiet)
    res = list_votes(st.open_store(must_exist=True), year)
    if json_:
        out.doc(res.to_json())
        return
    out.table(f"{year} 年度民主测评（{len(res.rows)} 个单位）", ["编码", "名称", "好", "较好", "一般", "差", "合计", "得分"],
              [(r["unit"], r["name"], *r["votes"].values(), r["total"], fmt(r["score"])) for r in res.rows],
              justify=["left", "left"] + ["right"] * 6,
              caption="得分 = Σ 票数 × 档次分值 ÷ 总票数（" + "，".join(f"{k} {fmt(v)}" for k, v in res.levels.items()) + "）")
    if res.missing:
        out.warn(f"{len(res.missing)} 个在册单位没有测评票：" + "、".join(f"{m['unit']} {m['name']}" for m in res.missing))
