"""`djctl init` and `djctl scheme show|check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, check_year
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()
scheme_app = make_app(help="考核方案：查看、校验、为新年度生成方案。")


@app.command("init")
def init(
    ctx: typer.Context,
    scheme: Annotated[Optional[Path], typer.Option("--scheme", help="考核方案 TOML 文件（默认使用内置方案）")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="替换该年度已有的不同方案（旧方案保留在审计日志中）")] = False,
    json_: JsonOpt = False,
) -> None:
    """初始化数据库并载入考核方案（每个年度一个方案）。

    对已有的数据库再次运行并给出新年度的方案，即为数据库增加该年度（已有年度不受影响）。

    示例：djctl init --scheme 方案2025.toml
    """
    from djctl.services.setup import init_store

    st = settings(ctx)
    out = Output(json_, st.quiet)
    result = init_store(st.open_store(create=True), scheme, replace=replace)
    if json_:
        out.doc({"store": result.store, "year": result.year, "scheme": result.scheme, "status": result.status})
        return
    words = {"created": "已载入", "unchanged": "已存在（内容相同，未改动）", "replaced": "已替换"}
    out.line(f"数据库：{result.store}")
    out.line(f"{result.year} 年度考核方案「{result.scheme}」{words[result.status]}")


@scheme_app.command("show")
def scheme_show(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="年度（默认为数据库中最近的年度）")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="显示方案文件而非数据库中的方案")] = None,
    json_: JsonOpt = False,
) -> None:
    """显示考核方案的全部规则与数值。

    示例：djctl scheme show --year 2024
    """
    from djctl.services.setup import read_scheme_file, show_scheme

    st = settings(ctx)
    out = Output(json_, st.quiet)
    scheme = read_scheme_file(file)[1] if file else show_scheme(st.open_store(must_exist=True), year)
    from djctl.domain.scheme import scheme_summary

    rows = scheme_summary(scheme)
    if json_:
        out.doc({"year": scheme.year, "name": scheme.name, "settings": dict(rows),
                 "tasks": [{"code": t.code, "name": t.name, "points": float(t.points), "dimension": t.dimension}
                           for t in scheme.tasks]})
        return
    out.table(f"{scheme.name}", ["键", "值"], rows)
    out.table("常设月度任务", ["编码", "任务", "分值", "过硬维度"],
              [(t.code, t.name, str(t.points), t.dimension) for t in scheme.tasks])


@scheme_app.command("check")
def scheme_check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="考核方案 TOML 文件")],
    json_: JsonOpt = False,
) -> None:
    """校验考核方案文件：未知的键、超出范围的数值都会指出键名与原因。

    示例：djctl scheme check 2024方案.toml
    """
    from djctl.services.setup import read_scheme_file

    out = Output(json_, settings(ctx).quiet)
    _, scheme, name = read_scheme_file(file)
    if json_:
        out.doc({"file": name, "ok": True, "year": scheme.year})
    else:
        out.line(f"{name}：方案有效（{scheme.year} 年度，{len(scheme.tasks)} 项常设任务）")


@scheme_app.command("new")
def scheme_new(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="新方案的年度，如 2025", callback=check_year)],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="写入的方案文件（TOML，不覆盖已有文件）", metavar="文件")],
    from_year: Annotated[Optional[int], typer.Option("--from", help="以数据库中哪一年的方案为底稿（默认用内置方案）",
                                                     callback=check_year, metavar="年度")] = None,
    json_: JsonOpt = False,
) -> None:
    """为新年度生成一份带注释的考核方案文件，修改后校验并载入。

    以数据库中某年的方案（--from）或内置方案为底稿，年度和名称改为新年度，其余规则与注释原样保留。

    示例：djctl scheme new --year 2025 --from 2024 --out 方案2025.toml
    """
    from djctl.services.setup import write_new_scheme

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True) if from_year is not None else None
    path, source = write_new_scheme(store, year, from_year, out_file)
    if json_:
        out.doc({"file": str(path), "year": year, "from": source})
        return
    out.line(f"已生成 {year} 年度考核方案：{path}（底稿：{source}）")
    out.note(f"下一步：修改后运行 djctl scheme check {path}，再运行 djctl init --scheme {path}")
