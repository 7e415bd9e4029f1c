"""`djctl sample [--month M ...]|show|verify|list`: the verifiable monthly spot-check draw."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, RecordOpt, SeedOpt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(no_args_is_help=False)

DrawIdArg = Annotated[Optional[int], typer.Argument(help="抽签编号（见 djctl sample list）", show_default=False)]


def _present(out: Output, d) -> None:
    """The 公示文本 and the table of selected units (shared by the draw and `show`)."""
    from djctl.services.draw_text import publication_lines

    for line in publication_lines(d):
        out.line(line)
    grouped = d.record.strata is not None
    out.table(f"抽中单位（{d.label}）", ["序号", "编码", "名称", *(["分组"] if grouped else []), "方式", "键（前 16 位）"],
              [(i, c, d.names.get(c, ""), *([d.group(c)] if grouped else []), d.how(c), d.record.keys.get(c, "")[:16])
               for i, c in enumerate(d.selected, start=1)])


def publication_text(d) -> str:
    """The 公示 as plain text: the publication lines, then one line per selected unit with its full key."""
    from djctl.services.draw_text import publication_lines

    lines = list(publication_lines(d))
    lines.append("")
    lines.append(f"抽中单位（{d.label}）：序号、编码、名称、方式、键（SHA-256）")
    lines += [f"{i}\t{c}\t{d.names.get(c, '')}\t{d.how(c)}\t{d.record.keys.get(c, '')}"
              for i, c in enumerate(d.selected, start=1)]
    return "\n".join(lines) + "\n"


def _write_publication(path: Path, d, bom: bool) -> None:
    import os

    data = ("\ufeff" if bom else "") + publication_text(d)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8", newline="\r\n" if bom else "\n") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def sample(
    ctx: typer.Context,
    month: Annotated[Optional[str], typer.Option("--month", "-m", help="抽签月份，如 2024-03")] = None,
    rate: Annotated[Optional[str], typer.Option("--rate", help="抽取比例，如 0.2（默认取考核方案 sampling.rate）")] = None,
    count: Annotated[Optional[int], typer.Option("--count", min=1, help="指定抽取数量（代替比例）")] = None,
    seed: SeedOpt = None,
    stratify: Annotated[Optional[bool], typer.Option("--stratify/--no-stratify", help="按分组分层抽取（默认取方案 sampling.stratify）", show_default=False)] = None,
    redraw: Annotated[bool, typer.Option("--redraw", help="重抽（须同时给出 --reason；原抽签保留可查）")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="重抽原因")] = None,
    json_: JsonOpt = False,
) -> None:
    """月度抽查抽签：按比例随机抽取本月抽查单位，记录种子、总体与规则，可由任何人复算核验。

    上月已抽中的单位不再抽取（不足时取消排除），上年度负面清单单位必抽。不给 --seed 时由系统生成种子。

    示例：djctl sample --rate 0.2 --month 2024-03 --seed "2024-03-01 福彩开奖号码 01 05 12 19 23 31 + 07"
    """
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise typer.BadParameter("抽签须给出月份，如 --month 2024-03", param_hint="--month")
    period = parse_period_opt(month, ("month",), "--month")
    if redraw and not (reason or "").strip():
        raise typer.BadParameter("重抽必须说明原因：--redraw --reason 原因", param_hint="--reason")
    if reason is not None and not redraw:
        raise typer.BadParameter("--reason 只用于重抽，请同时加 --redraw", param_hint="--reason")
    if rate is not None and count is not None:
        raise typer.BadParameter("--rate 与 --count 只能给出一个", param_hint="--rate")
    if seed is not None and (not seed.strip() or "\x1f" in seed):
        raise typer.BadParameter("种子不能为空，也不能含有控制字符 \\x1f", param_hint="--seed")
    from djctl.errors import DjctlError
    from djctl.services.draw_request import parse_rate
    from djctl.services.spotcheck_draw import draw_sample

    try:
        rate_value = None if rate is None else parse_rate(rate)
    except DjctlError as exc:
        raise typer.BadParameter(exc.message, param_hint="--rate") from None
    st = settings(ctx)
    out = Output(json_, st.quiet)
    result = draw_sample(st.open_store(), str(period), rate=rate_value, count=count, seed=seed, stratify=stratify,
                         redraw=redraw, reason=reason or "")
    if result.seed_generated:
        out.warn(f"未指定 --seed，种子「{result.draw.seed}」由系统生成，抽签前未公布")
        out.warn("他人无法确认抽签未经挑选；建议以事先公布的公开数字（如彩票开奖号码）作种子")
    for note in result.notes:
        out.warn(note)
    if json_:
        out.doc(result.draw.to_json())
    elif st.quiet:
        out.result(f"#{result.draw.id} " + " ".join(result.draw.selected))
    else:
        _present(out, result.draw)


# make_app passes help=None explicitly, which typer prefers to a callback's docstring: give it explicitly
app.callback(invoke_without_command=True, help=inspect.cleandoc(sample.__doc__ or ""))(sample)


@app.command("show")
def sample_show(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    month: Annotated[Optional[str], typer.Option("--month", "-m", help="月份（显示该月现行的抽签）")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="把公示文本写入文件（UTF-8）", metavar="文件")] = None,
    bom: Annotated[bool, typer.Option("--bom", help="文件开头加 BOM 并用 Windows 换行（旧版记事本按 UTF-8 打开）")] = False,
    json_: JsonOpt = False,
) -> None:
    """显示一次抽签的完整记录与公示文本（默认为最近一次抽签）。

    --out 把公示文本（含抽中单位与完整的键）写入 UTF-8 文本文件，每项一行，便于张贴和转发。

    示例：djctl sample show 3 --out 抽签公示-2024-03.txt --bom
    """
    if draw_id is not None and month is not None:
        raise typer.BadParameter("抽签编号与 --month 只能给出一个", param_hint="--month")
    period = parse_period_opt(month, ("month",), "--month") if month is not None else None
    from djctl.services.spotcheck_draw import show_sample

    st = settings(ctx)
    out = Output(json_, st.quiet)
    d = show_sample(st.open_store(must_exist=True), draw_id, None if period is None else str(period))
    if out_file is not None:
        _write_publication(out_file, d, bom)
        out.line(f"公示文本已写入 {out_file}")
    if json_:
        out.doc(d.to_json())
    elif out_file is None:
        _present(out, d)
        if not d.active:
            out.warn("这次抽签已被重抽取代（原因见同月后续抽签），仅供查阅")


@app.command("verify")
def sample_verify(
    ctx: typer.Context,
    draw_id: DrawIdArg = None,
    record: RecordOpt = None,
    json_: JsonOpt = False,
) -> None:
    """按记录的种子、标签与总体重新抽签，核对结果是否完全一致；不一致时逐项列出（退出码 1）。

    示例：djctl sample verify --record 抽签记录-2024-03.json
    """
    from djctl.cli._draw_verify import run_verify

    run_verify(ctx, draw_id, record, json_, "sample")


@app.command("list")
def sample_list(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="只列某年度")] = None,
    json_: JsonOpt = False,
) -> None:
    """列出全部月度抽查抽签（含重抽与被取代的抽签，注明原因）。

    示例：djctl sample list --year 2024
    """
    from djctl.services.draws import list_draws

    st = settings(ctx)
    out = Output(json_, st.quiet)
    rows = list_draws(st.open_store(must_exist=True), "sample", year)
    if json_:
        out.doc({"draws": rows})
        return
    out.table(f"月度抽查抽签（{len(rows)}）", ["编号", "标签", "种子", "总体", "k", "抽中", "状态", "重抽原因"],
              [(r["id"], r["label"], r["seed"] + ("（系统生成）" if r["seed_generated"] else ""), r["population"], r["k"],
                "、".join(r["selected"]), "现行" if r["active"] else "已被重抽取代", r["reason"]) for r in rows])
