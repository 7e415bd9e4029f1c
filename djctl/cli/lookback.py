"""`djctl lookback [--year Y ...]|show|verify|list|forms|import|report`: the look-back (回头看) of branches."""

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

MAX_ID = 2**63 - 1  # larger numbers are no id at all (SQLite INTEGER)
DrawIdArg = Annotated[Optional[int], typer.Argument(help="抽签编号（见 djctl lookback list）", show_default=False,
                                                    min=1, max=MAX_ID)]
YearOptional = Annotated[Optional[int], typer.Option("--year", "-y", help="年度，如 2024")]
LabelOpt = Annotated[Optional[str], typer.Option("--label", help="专项回头看的名称，如 专项（标签为 lookback:2024-专项）")]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="日期，如 2024-11-05")]




def _year(value: int | None, option: str = "--year") -> None:
    if value is not None and not 2000 <= value <= 2100:
        raise typer.BadParameter(f"「{value}」不是有效年度（2000 到 2100）", param_hint=option)


def _present(out: Output, ld) -> None:
    """The 公示文本 and the table of selected branches (shared by the draw and `show`)."""
    from djctl.services.lookback import draw_lines

    d = ld.draw
    for line in draw_lines(ld):
        out.line(line)
    out.table(f"抽中支部（{d.label}{'，暗访' if d.unannounced else ''}）", ["序号", "编码", "名称", "等次", "方式", "键（前 16 位）"],
              [(i, c, d.names.get(c, ""), d.group(c), d.how(c), d.record.keys.get(c, "")[:16])
               for i, c in enumerate(d.selected, start=1)])


def lookback(
    ctx: typer.Context,
    year: YearOptional = None,
    rate: Annotated[Optional[str], typer.Option("--rate", help="抽取比例，如 0.3（默认取考核方案 lookback.rate）")] = None,
    count: Annotated[Optional[int], typer.Option("--count", min=1, max=MAX_ID, help="指定抽取数量（代替比例）")] = None,
    seed: SeedOpt = None,
    label: LabelOpt = None,
    unannounced: Annotated[bool, typer.Option("--unannounced", help="暗访：不提前通知被抽中的支部（记入抽签记录）")] = False,
    redraw: Annotated[bool, typer.Option("--redraw", help="重抽（须同时给出 --reason；原抽签保留可查）")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="重抽原因")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="等次截至日期（默认：当年为今天，往年为 12 月 31 日）")] = None,
    json_: JsonOpt = False,
) -> None:
    """回头看抽签：从达标及以上等次的党支部中按等次分层随机抽取，记录种子与总体，可由任何人复算核验。

    上年度负面清单上的支部必抽。不给 --seed 时由系统生成种子。同一年度另行组织专项回头看用 --label。

    示例：djctl lookback --rate 0.3 --year 2024 --seed "2024-10-15 福彩开奖号码 03 08 11 20 27 30 + 05"
    """
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        raise typer.BadParameter("回头看抽签须给出年度，如 --year 2024", param_hint="--year")
    _year(year)
    if redraw and not (reason or "").strip():
        raise typer.BadParameter("重抽必须说明原因：--redraw --reason 原因", param_hint="--reason")
    if reason is not None and not redraw:
        raise typer.BadParameter("--reason 只用于重抽，请同时加 --redraw", param_hint="--reason")
    if rate is not None and count is not None:
        raise typer.BadParameter("--rate 与 --count 只能给出一个", param_hint="--rate")
    if seed is not None and (not seed.strip() or "\x1f" in seed):
        raise typer.BadParameter("种子不能为空，也不能含有控制字符 \\x1f", param_hint="--seed")
    day = _date(on_date)
    from djctl.errors import DjctlError
    from djctl.services.lookback import draw_lookback, parse_series_name
    from djctl.services.draw_request import parse_rate

    try:
        rate_value = None if rate is None else parse_rate(rate)
    except DjctlError as exc:
        raise typer.BadParameter(exc.message, param_hint="--rate") from None
    try:
        name = parse_series_name(label, year)
    except DjctlError as exc:
        raise typer.BadParameter(exc.message, param_hint="--label") from None
    st = settings(ctx)
    out = Output(json_, st.quiet)
    result = draw_lookback(st.open_store(), year, rate=rate_value, count=count, seed=seed, name=name,
                           unannounced=unannounced, redraw=redraw, reason=reason or "", on_date=day)
    if result.seed_generated:
        out.warn(f"未指定 --seed，种子「{result.draw.seed}」由系统生成，抽签前未公布")
        out.warn("他人无法确认抽签未经挑选；建议以事先公布的公开数字（如彩票开奖号码）作种子")
    for note in result.notes:
        out.warn(note)
    if json_:
        out.doc(result.to_json())
    elif st.quiet:
        out.result(f"#{result.draw.id} " + " ".join(result.draw.selected))
    else:
        _present(out, result)


# make_app passes help=None explicitly, which typer prefers to a callback's docstring: give it explicitly
app.callback(invoke_without_command=True, help=inspect.cleandoc(lookback.__doc__ or ""))(lookback)


@app.command("show")
def lookback_show(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    year: YearOptional = None,
    label: LabelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """显示一次回头看抽签的完整记录与公示文本（默认为最近一次抽签）。

    示例：djctl lookback show --year 2024 --json > 回头看抽签记录-2024.json
    """
    if draw_id is not None and year is not None:
        raise typer.BadParameter("抽签编号与 --year 只能给出一个", param_hint="--year")
    if label is not None and year is None:
        raise typer.BadParameter("--label 须与 --year 一起使用", param_hint="--label")
    _year(year)
    from djctl.services.lookback import show_lookback

    st = settings(ctx)
    out = Output(json_, st.quiet)
    ld = show_lookback(st.open_store(must_exist=True), draw_id, year, label)
    if json_:
        out.doc(ld.to_json())
    else:
        _present(out, ld)
        if not ld.draw.active:
            out.warn("这次抽签已被重抽取代（原因见同一标签的后续抽签），仅供查阅")


@app.command("verify")
def lookback_verify(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    record: RecordOpt = None,
    json_: JsonOpt = False,
) -> None:
    """按记录的种子、标签与总体重新抽签，核对结果是否完全一致；不一致时逐项列出（退出码 1）。

    示例：djctl lookback verify --record 回头看抽签记录-2024.json
    """
    from djctl.cli._draw_verify import run_verify

    run_verify(ctx, draw_id, record, json_, "lookback")


@app.command("list")
def lookback_list(
    ctx: typer.Context,
    year: YearOptional = None,
    json_: JsonOpt = False,
) -> None:
    """列出全部回头看抽签（含专项回头看、重抽与被取代的抽签）。

    示例：djctl lookback list --year 2024
    """
    _year(year)
    from djctl.services.draws import list_draws

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = list_draws(st.open_store(must_exist=True), "lookback", year)
    if json_:
        out.doc({"draws": rows})
        return
    out.table(f"回头看抽签（{len(rows)}）", ["编号", "标签", "种子", "总体", "k", "暗访", "状态", "重抽原因"],
              [(r["id"], r["label"], r["seed"] + ("（系统生成）" if r["seed_generated"] else ""), r["population"], r["k"],
                "是" if r["unannounced"] else "", "现行" if r["active"] else "已被重抽取代", r["reason"]) for r in rows])


@app.command("forms")
def lookback_forms(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("回头看核查表"),
    draw: Annotated[Optional[int], typer.Option("--draw", min=1, max=MAX_ID, help="抽签编号（与 --year 二选一）")] = None,
    year: YearOptional = None,
    label: LabelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """为抽中的每个支部生成一份回头看核查表（按抽签时等次列出检查清单，只有核查栏可填写）。

    示例：djctl lookback forms --year 2024 --out 回头看核查表/2024
    """
    if (draw is None) == (year is None):
        raise typer.BadParameter("请给出 --draw 抽签编号或 --year 年度（二者之一）", param_hint="--draw / --year")
    if label is not None and year is None:
        raise typer.BadParameter("--label 须与 --year 一起使用", param_hint="--label")
    _year(year)
    from djctl.services.lookback_forms import write_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    r = write_forms(st.open_store(must_exist=True), out_dir, draw_id=draw, year=year, name=label)
    if json_:
        out.doc(r.to_json())
        return
    out.line(f"已生成 {len(r.files)} 份回头看核查表（抽签 #{r.draw.id}，{r.draw.label}"
             f"{'，暗访' if r.draw.unannounced else ''}）：{out_dir}")


@app.command("import")
def lookback_import(
    ctx: typer.Context,
    files: FilesArg,
    replace: Annotated[bool, typer.Option("--replace", help="同一支部同一抽签已导入结果时，以这份为准（原结果保留在历史中）")] = False,
    dry_run: DryRunOpt = False,
    on_date: Annotated[Optional[str], typer.Option("--date", help="核查日期：反弹降级与发现问题的日期，整改期限由此起算（默认为回头看抽签的截至日期）")] = None,
    json_: JsonOpt = False,
) -> None:
    """导入填好的回头看核查表：每个文件整份导入或整份拒绝；任何一项未达到即认定反弹，下调等次并生成整改事项。

    示例：djctl lookback import 收回的回头看核查表/ --date 2024-11-05
    """
    day = _date(on_date)
    from djctl.services.lookback_forms import import_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    results = import_forms(st.open_store(), files, replace=replace, dry_run=dry_run, on_date=day)
    if not json_:
        for r in results:
            if r.message and r.status != "refused":
                out.info(f"{Path(r.path).name}：{r.message}")
    present_import(out, results)


@app.command("report")
def lookback_report(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="年度，如 2024")],
    formats: Annotated[str, typer.Option("--format", "-f", help="输出格式，逗号分隔：docx,md,html,xlsx")] = "docx,md,html,xlsx",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("文书"),
    on_date: Annotated[Optional[str], typer.Option("--date", help="成文日期，整改状态也按此日期统计（默认今天）")] = None,
    json_: JsonOpt = False,
) -> None:
    """生成年度回头看情况通报：抽签方法、各等次反弹率、反弹支部及问题、整改落实情况（公文格式）。

    示例：djctl lookback report --year 2024 --format docx,md --out 文书
    """
    _year(year)
    day = _date(on_date)
    from djctl.services.docs_common import parse_formats

    try:
        fmts = parse_formats(formats)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    from djctl.services.lookback_report import write_report

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_report(st.open_store(must_exist=True), year, formats=fmts, out_dir=out_dir, templates=st.templates,
                         on_date=day)
    if json_:
        out.doc({"year": year, "files": [str(p) for p in paths]})
        return
    for p in paths:
        out.result(str(p))
