"""`djctl rectify recheck [--year Y ...]|show|list|verify|forms|import`: the re-check of closed items (整改回头看)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._imports import present_import
from djctl.cli._options import DryRunOpt, FilesArg, JsonOpt, RecordOpt, SeedOpt
from djctl.cli._options import parse_date_opt as _date
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(no_args_is_help=False)

MAX_ID = 2**63 - 1
DrawIdArg = Annotated[Optional[int], typer.Argument(help="抽签编号（见 djctl rectify recheck list）", show_default=False,
                                                    min=1, max=MAX_ID)]
YearOptional = Annotated[Optional[int], typer.Option("--year", "-y", help="年度，如 2024")]
OutOptional = Annotated[Optional[Path], typer.Option("--out", "-o", help="输出目录：写入抽签记录（JSON）、公示文本和每个抽中事项的复查表")]


def _year(value: int | None) -> None:
    if value is not None and not 2000 <= value <= 2100:
        raise typer.BadParameter(f"「{value}」不是有效年度（2000 到 2100）", param_hint="--year")


def _present(out: Output, rd) -> None:
    from djctl.services.rectify_recheck import draw_lines

    d = rd.draw
    for line in draw_lines(rd):
        out.line(line)
    results = {r["code"]: r for r in rd.results}
    out.table(f"抽中事项（{d.label}）", ["序号", "编码", "单位或支部", "分层", "键（前 16 位）", "复查结果"],
              [(i, c, d.names.get(c, ""), d.group(c) or "—", d.record.keys.get(c, "")[:16],
                _result(results.get(c))) for i, c in enumerate(d.selected, start=1)])


def _result(r: dict | None) -> str:
    if not r or r["result"] == "pending":
        return "未复查"
    return f"{r['result_cn']}（{r['date']}）"


def recheck(
    ctx: typer.Context,
    year: YearOptional = None,
    rate: Annotated[Optional[str], typer.Option("--rate", help="抽取比例，如 0.2（默认取考核方案 [rectify] 段的复查比例）")] = None,
    count: Annotated[Optional[int], typer.Option("--count", min=1, max=MAX_ID, help="指定抽取数量（代替比例）")] = None,
    seed: SeedOpt = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="抽签日期（业务日期，默认该年 12 月 31 日）：按当日已销号的事项确定总体")] = None,
    redraw: Annotated[bool, typer.Option("--redraw", help="重抽（须同时给出 --reason；原抽签保留可查）")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="重抽原因")] = None,
    out_dir: OutOptional = None,
    json_: JsonOpt = False,
) -> None:
    """整改回头看抽签：从该年度已销号的整改事项中随机抽取复查，记录种子与总体，可由任何人复算核验。

    抽中的每个事项生成一份复查表（--out），填好后用 djctl rectify recheck import 导入：整改不到位的事项重新打开，
    计为重复问题。不给 --seed 时由系统生成种子。

    示例：djctl rectify recheck --year 2024 --rate 0.2 --seed "2024-12-20 福彩开奖号码 03 08 11 20 27 30 + 05" --out 整改回头看
    """
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        raise typer.BadParameter("整改回头看抽签须给出年度，如 --year 2024", param_hint="--year")
    _year(year)
    from djctl.errors import DjctlError
    from djctl.services.draw_request import draw_request

    try:  # the one check of a draw request, refused as a usage error (exit 2) before the store is opened
        draw_request(rate=rate, count=count, seed=seed, redraw=redraw, reason=reason)
    except DjctlError as exc:
        raise typer.BadParameter(exc.message + (f"（{exc.hint}）" if exc.hint else "")) from None
    day = _date(on_date)
    from djctl.services.rectify_recheck import draw_recheck, write_outputs

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    result = draw_recheck(store, year, rate=rate, count=count, seed=seed, redraw=redraw, reason=reason or "",
                          on_date=day)
    files = write_outputs(store, result, out_dir) if out_dir is not None else []
    if result.seed_generated:
        out.warn(f"未指定 --seed，种子「{result.draw.seed}」由系统生成，抽签前未公布")
        out.warn("他人无法确认抽签未经挑选；建议以事先公布的公开数字（如彩票开奖号码）作种子")
    for note in result.notes:
        out.warn(note)
    if json_:
        out.doc({**result.to_json(), "files": [str(p) for p in files]})
        return
    if st.quiet:
        out.result(f"#{result.draw.id} " + " ".join(result.draw.selected))
        return
    _present(out, result)
    if files:
        out.info(f"已写入抽签记录、公示文本和复查表 {len(files) - 2} 份：{out_dir}")
    else:
        out.info(f"生成复查表：djctl rectify recheck forms --id {result.draw.id} --out 目录")


# make_app passes help=None explicitly, which typer prefers to a callback's docstring: give it explicitly
app.callback(invoke_without_command=True, help=inspect.cleandoc(recheck.__doc__ or ""))(recheck)


@app.command("show")
def recheck_show(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    year: YearOptional = None,
    json_: JsonOpt = False,
) -> None:
    """显示一次整改回头看抽签的完整记录、公示文本和各事项的复查结果（默认为最近一次抽签）。

    示例：djctl rectify recheck show --year 2024 --json > 整改回头看抽签记录-2024.json
    """
    if draw_id is not None and year is not None:
        raise typer.BadParameter("抽签编号与 --year 只能给出一个", param_hint="--year")
    _year(year)
    from djctl.services.rectify_recheck import show_recheck

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rd = show_recheck(st.open_store(must_exist=True), draw_id, year)
    if json_:
        out.doc(rd.to_json())
        return
    _present(out, rd)
    if not rd.draw.active:
        out.warn("这次抽签已被重抽取代（原因见同一年度的后续抽签），仅供查阅")


@app.command("verify")
def recheck_verify(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    record: RecordOpt = None,
    json_: JsonOpt = False,
) -> None:
    """按记录的种子、标签与总体重新抽签，核对结果是否完全一致；不一致时逐项列出（退出码 1）。

    示例：djctl rectify recheck verify --record 整改回头看抽签记录-2024.json
    """
    from djctl.cli._draw_verify import run_verify

    run_verify(ctx, draw_id, record, json_, "recheck")


@app.command("list")
def recheck_list(
    ctx: typer.Context,
    year: YearOptional = None,
    json_: JsonOpt = False,
) -> None:
    """列出全部整改回头看抽签（含重抽与被取代的抽签）。

    示例：djctl rectify recheck list --year 2024
    """
    _year(year)
    from djctl.services.draws import list_draws

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = list_draws(st.open_store(must_exist=True), "recheck", year)
    if json_:
        out.doc({"draws": rows})
        return
    out.table(f"整改回头看抽签（{len(rows)}）", ["编号", "标签", "种子", "总体", "k", "状态", "重抽原因"],
              [(r["id"], r["label"], r["seed"] + ("（系统生成）" if r["seed_generated"] else ""), r["population"], r["k"],
                "现行" if r["active"] else "已被重抽取代", r["reason"]) for r in rows])


@app.command("forms")
def recheck_forms(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")],
    year: YearOptional = None,
    draw_id: Annotated[Optional[int], typer.Option("--id", help="抽签编号（默认该年度现行的抽签）", min=1, max=MAX_ID)] = None,
    json_: JsonOpt = False,
) -> None:
    """为一次整改回头看抽签的每个抽中事项生成复查表（.xlsx）。

    示例：djctl rectify recheck forms --year 2024 --out 整改回头看复查表
    """
    if (draw_id is None) == (year is None):
        raise typer.BadParameter("请给出 --year 或 --id（二者之一）", param_hint="--year / --id")
    _year(year)
    from djctl.services.rectify_recheck import write_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_forms(st.open_store(must_exist=True), out_dir, draw_id=draw_id, year=year)
    out.files(paths, f"共生成整改回头看复查表 {len(paths)} 份")


@app.command("import")
def recheck_import(
    ctx: typer.Context,
    files: FilesArg,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """导入填好的整改回头看复查表：每份文件全部通过才写入，同一文件重复导入不改动。

    整改到位的事项记一次复查（保持销号）；整改不到位的于复查日期重新打开，限期重新整改，计为重复问题。
    只能导入现行抽签抽中事项的复查表。

    示例：djctl rectify recheck import 整改回头看复查表/ --dry-run
    """
    from djctl.services.rectify_recheck import import_rechecks

    st = settings(ctx)
    out = Output(json_, st.quiet)
    present_import(out, import_rechecks(st.open_store(must_exist=True), files, dry_run=dry_run))
