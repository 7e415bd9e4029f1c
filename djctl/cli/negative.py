"""`djctl negative-list [--year Y ...]|add|revoke`: the year's negative list (负面清单)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, YearOpt, check_year
from djctl.cli._options import parse_date_opt as _date
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app(no_args_is_help=False)


def negative_list(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="年度，如 2024", callback=check_year)] = None,
    build: Annotated[bool, typer.Option("--build", help="按本年度数据生成（或重新生成）负面清单；旧清单保留在历史中")] = False,
    formats: Annotated[str, typer.Option("--format", help="输出格式，逗号分隔：docx,xlsx,md,html")] = "docx,xlsx",
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="文书输出目录（不指定则只显示）")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="生成时：清单的决定日期，按当日情况认定（默认当年 12 月 31 日）；也是文书的成文日期")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="查看某日有效的清单（当日及以前最后一次生成的清单，及当日有效的经研究列入条目），如 2024-12-31")] = None,
    json_: JsonOpt = False,
) -> None:
    """年度负面清单：自评虚假的单位、“回头看”中反弹的支部、出现重复问题或整改逾期的单位或支部，逐条列明原因；也可经研究列入（add）或撤销（revoke）。

    列入清单的单位下一年度月度抽查必抽，支部下一年度“回头看”必查；经研究列入的，按所选处理措施（下年度必抽、下年度必查、扣分、专项督查）执行。

    示例：djctl negative-list --year 2024 --build --format docx,xlsx,md --out 文书
    """
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        raise typer.BadParameter("请用 --year 指定年度，如 --year 2024；经研究列入或撤销见 add、revoke 子命令",
                                 param_hint="--year")
    from djctl.services.negative import parse_formats

    try:
        fmts = parse_formats(formats)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    day = _date(on_date, "--date") if on_date else None
    as_of_day = _date(as_of, "--as-of") if as_of else None
    if build and as_of_day is not None:
        raise typer.BadParameter("生成清单时请用 --date 指定决定日期；--as-of 用于查看", param_hint="--as-of")
    from djctl.services.negative import negative_list as run

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = run(st.open_store(must_exist=True), year, build_list=build, formats=fmts if out_dir else None,
              out_dir=out_dir, templates=st.templates, on_date=day, as_of=as_of_day)
    if json_:
        out.doc(doc)
        return
    status = {"built": "已生成", "unchanged": "与已有清单相同，未改动", "stored": "已有清单"}[doc["status"]]
    c = doc["counts"]
    when = f"，决定日期 {doc['decided_on']}" if doc.get("decided_on") else ""
    out.line(f"{year} 年度负面清单（{status}{when}）：{c['unit']} 个考核单位、{c['branch']} 个党支部")
    for e in doc["entries"]:
        out.line(f"{e['kind_cn']} {e['org']} {e['name']}")
        for i, r in enumerate(e["reasons"], 1):
            out.line(f"  {i}. {r}")
        for m in e.get("manual") or []:
            out.line(f"  （经研究列入条目编号 {m['manual_id']}，{m['added_on']} 列入）")
    for p in doc["files"]:
        out.result(p)


# make_app passes help=None explicitly, which typer prefers to a callback's docstring: give it explicitly
app.callback(invoke_without_command=True, help=inspect.cleandoc(negative_list.__doc__ or ""))(negative_list)


@app.command("add")
def negative_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="考核单位或党支部的编码", metavar="编码")],
    year: YearOpt,
    reason: Annotated[str, typer.Option("--reason", help="列入原因，如：组织生活不严肃，三会一课流于形式")],
    basis: Annotated[str, typer.Option("--basis", help="依据（文件文号或会议纪要），如 示机工〔2024〕12号")],
    consequence: Annotated[Optional[list[str]], typer.Option("--consequence", help="处理措施，可重复：下年度必抽（单位）、下年度必查（支部）、扣分、专项督查（以考核方案 [negative] 为准；默认单位为下年度必抽，支部为下年度必查）")] = None,
    deduct: Annotated[Optional[str], typer.Option("--deduct", help="扣分的分值（大于 0，最多一位小数）；同时记该年度减分项")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="列入日期（业务日期，默认今天），如 2024-12-20")] = None,
    json_: JsonOpt = False,
) -> None:
    """经研究将一个考核单位或党支部列入某年度负面清单，写明原因、依据和处理措施。

    扣分须同时给出 --deduct 分值，在同一次写入中记为该年度的减分项（支部的扣分记在所属单位）。

    示例：djctl negative-list add U007 --year 2024 --reason 组织生活不严肃 --basis 示机工〔2024〕12号 --consequence 下年度必抽 --consequence 专项督查 --date 2024-12-20
    """
    from djctl import clock
    from djctl.cli._options import parse_points_opt
    from djctl.services.negative_manual import add_entry

    day = _date(on_date, "--date") if on_date else clock.today()
    points = parse_points_opt(deduct, "--deduct")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = add_entry(st.open_store(must_exist=True), code, year=year, reason=reason, basis=basis,
                    consequences=list(consequence or []), on_date=day, deduct=points)
    if json_:
        out.doc(doc)
        return
    extra = f"；减分项编号 {doc['adjustment_id']}" if doc["adjustment_id"] else ""
    out.line(f"已将{doc['kind_cn']} {doc['org']} {doc['name']} 经研究列入 {year} 年度负面清单（条目编号 {doc['manual_id']}，"
             f"{doc['added_on']}）：{'、'.join(doc['consequences'])}{extra}")


@app.command("revoke")
def negative_revoke(
    ctx: typer.Context,
    entry_id: Annotated[int, typer.Argument(help="经研究列入条目的编号（见 djctl negative-list --year 年度）", metavar="编号", min=1, max=2**31 - 1)],
    reason: Annotated[str, typer.Option("--reason", help="撤销原因")],
    on_date: Annotated[Optional[str], typer.Option("--date", help="撤销日期（业务日期，默认今天）；此日起不再列入")] = None,
    json_: JsonOpt = False,
) -> None:
    """撤销一条经研究列入的负面清单条目（不删除，保留撤销日期与原因；此日以前的清单仍列出它）；所记扣分一并撤销。

    示例：djctl negative-list revoke 3 --reason 经复核整改到位，工委会议决定移出 --date 2025-03-10
    """
    from djctl import clock
    from djctl.services.negative_manual import revoke_entry

    day = _date(on_date, "--date") if on_date else clock.today()
    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = revoke_entry(st.open_store(must_exist=True), entry_id, reason=reason, on_date=day)
    if json_:
        out.doc(doc)
        return
    extra = f"；减分项 {doc['adjustment_id']} 一并撤销" if doc["adjustment_id"] else ""
    out.line(f"已撤销条目 {doc['manual_id']}（{doc['kind_cn']} {doc['org']} {doc['name']}，{doc['year']} 年度），"
             f"自 {doc['revoked_on']} 起不再列入{extra}")
