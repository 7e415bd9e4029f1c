"""`djctl tier set|import|history|stats|template`: branch tiers (分类定级)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import DryRunOpt, JsonOpt, XlsxOpt, YearOpt, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import InputError

app = make_app(help="党支部分类定级：设定等次、导入验收结果、查看历史与达标率/过硬率统计。")


def _add_plan_group() -> None:
    from djctl.cli._tier_plan import app as plan_app

    app.add_typer(plan_app, name="plan")


_add_plan_group()

SET_BASES = ("验收", "回头看", "申报")  # the same as djctl.services.tiers.SET_BASES (kept here for a cheap --help)
DIR_CN = {"up": "升级", "down": "降级", "same": "未变", "new": "首次定级"}




@app.command("set")
def tier_set(
    ctx: typer.Context,
    branch: Annotated[str, typer.Argument(help="支部编码")],
    tier: Annotated[str, typer.Argument(help="新等次：示范 / 过硬 / 达标 / 未达标")],
    on_date: Annotated[str, typer.Option("--date", help="评定日期，如 2024-06-28")],
    basis: Annotated[str, typer.Option("--basis", help="依据：验收 / 回头看 / 申报")],
    note: Annotated[str, typer.Option("--note", help="说明（如验收文件文号）")] = "",
    force: Annotated[bool, typer.Option("--force", help="允许一次升两个或以上等次")] = False,
    json_: JsonOpt = False,
) -> None:
    """设定一个支部的等次：每次变动记入等次历史和审计日志；越级晋升须加 --force。

    示例：djctl tier set U001-B01 过硬 --date 2024-06-28 --basis 验收 --note 市直工委〔2024〕12号
    """
    from djctl.domain.tiers import TIERS, normalize_tier

    day = parse_date_opt(on_date, "--date")
    if basis not in SET_BASES:
        raise typer.BadParameter(f"「{basis}」无效，应为 {' / '.join(SET_BASES)} 之一", param_hint="--basis")
    try:
        tier = normalize_tier(tier)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}（{' / '.join(TIERS)}）", param_hint="TIER") from None
    from djctl.services.tiers import set_tier, tier_label

    st = settings(ctx)
    out = Output(json_, st.quiet)
    res = set_tier(st.open_store(must_exist=True), branch, tier, day, basis, note=note, force=force)
    if json_:
        out.doc(res.to_json())
    elif res.changed:
        out.line(f"{res.branch}（{res.name}）：{tier_label(res.from_tier)} → {tier_label(res.to_tier)}，"
                 f"{res.on_date.isoformat()}，依据：{res.basis}")
    else:
        out.line(f"{res.branch}（{res.name}）已是{tier_label(res.to_tier)}，未改动")


@app.command("import")
def tier_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="验收结果工作簿（表头：支部编码、等次、评定日期，可选 依据、强制）")],
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """导入支部等次验收结果：全部通过才写入；同一文件重复导入不改动；越级晋升须在「强制」列填「是」。

    示例：djctl tier import 2024年支部等次验收结果.xlsx --dry-run
    """
    from djctl.services.importing import STATUS_CN
    from djctl.services.tiers import import_tiers, tier_label

    st = settings(ctx)
    out = Output(json_, st.quiet)
    res = import_tiers(st.open_store(must_exist=True), file, dry_run=dry_run)
    if json_:
        out.doc({"files": [res.to_json()]})
    else:
        out.line(f"{res.path}：{STATUS_CN[res.status]}，{res.rows} 行")
        if res.status in ("imported", "valid"):
            out.line(f"等次变动 {res.extra['changed']} 个，等次未变 {res.extra['same']} 个")
            for c in res.extra["changes"]:
                out.line(f"  {c['branch']} {c['name']}：{tier_label(c['from'])} → {tier_label(c['to'])}（{c['date']}）")
    if res.status == "refused":
        raise InputError(res.message or "等次文件未导入", path=res.path, problems=res.errors)


@app.command("history")
def tier_history(
    ctx: typer.Context,
    branch: Annotated[str, typer.Argument(help="支部编码")],
    json_: JsonOpt = False,
) -> None:
    """显示一个支部的等次变动历史。

    示例：djctl tier history U001-B01
    """
    from djctl.services.tiers import history, tier_label

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = history(st.open_store(must_exist=True), branch)
    if json_:
        out.doc(doc)
        return
    out.line(f"{doc['branch']} {doc['name']}（所属单位 {doc['unit']}）：现为{tier_label(doc['tier'])}")
    out.table("等次历史", ["日期", "原等次", "新等次", "变动", "依据", "说明"],
              [(h["date"], tier_label(h["from"]) if h["from"] else "", tier_label(h["to"]), DIR_CN[h["direction"]],
                h["basis"], h["note"]) for h in doc["history"]])


@app.command("stats")
def tier_stats(
    ctx: typer.Context,
    year: YearOpt,
    by_unit: Annotated[bool, typer.Option("--by-unit", help="按单位分列")] = False,
    by_group: Annotated[bool, typer.Option("--by-group", help="按分组分列")] = False,
    xlsx: XlsxOpt = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="截至日期（默认该年度 12 月 31 日），如 2024-09-30：等次与变动按当日情况")] = None,
    json_: JsonOpt = False,
) -> None:
    """年底（或 --as-of 指定的日期）各等次支部数、达标率与过硬率（对照方案目标），以及本年等次变动（上年末 → 本年末）。

    达标率 =（达标 + 过硬 + 示范）÷ 全部支部；过硬率 =（过硬 + 示范）÷（达标 + 过硬 + 示范）。
    方案 tiers.rate_scope = "organisations" 时，达标率按全部基层党组织计：党支部，加上机关党委、党总支
    （所属支部全部达标及以上的计为达标）；默认 "branches" 只计党支部。
    JSON 中 rate_standard、rate_strong 为比例（0–1，四舍五入保留 4 位小数）。

    示例：djctl tier stats --year 2024 --by-unit --xlsx 2024年支部等次统计.xlsx
    """
    if by_unit and by_group:
        raise typer.BadParameter("--by-unit 与 --by-group 只能选一个", param_hint="--by-unit")

    day = parse_date_opt(as_of, "--as-of") if as_of else None
    if day is not None and day.year != year:
        raise typer.BadParameter(f"截至日期 {day.isoformat()} 不在 {year} 年度内", param_hint="--as-of")
    from djctl.services.tiers import tier_stats as stats
    from djctl.services.tiers import write_stats_xlsx

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = stats(st.open_store(must_exist=True), year, by="unit" if by_unit else "group" if by_group else None,
                as_of=day)
    if xlsx:
        write_stats_xlsx(doc, xlsx)
        out.info(f"已导出：{xlsx}")
    if json_:
        out.doc(doc)
        return
    yes = {True: "达到", False: "未达到"}
    when = f"{year} 年底" if day is None else f"截至 {doc['as_of']}"
    out.table(f"{when}支部等次（{doc['branches']} 个支部）", ["等次", "支部数"],
              [(f"{t}支部", n) for t, n in doc["counts"].items()])
    tt = doc["targets_text"]
    if doc.get("rate_scope") == "organisations":
        sc = doc["scope_counts"]
        out.line(f"达标率按基层党组织计：{sc['organisations']} 个组织（党支部、机关党委、党总支）中 {sc['standard']} 个达标")
    out.line(f"达标率 {doc['rate_standard_text']}（目标 {tt['达标率']}，{yes[doc['met']['达标率']]}）；"
             f"过硬率 {doc['rate_strong_text']}（目标 {tt['过硬率']}，{yes[doc['met']['过硬率']]}）")
    if doc.get("rows"):
        out.table("分单位" if by_unit else "分组", ["编码" if by_unit else "分组", "名称", "支部数", "示范", "过硬", "达标",
                                                 "未达标", "达标率", "过硬率"],
                  [(r[doc["by"]], r["name"], r["branches"], *r["counts"].values(),
                    r["rate_standard_text"], r["rate_strong_text"]) for r in doc["rows"]])
    mv = doc["movements"]
    order = list(doc["counts"])
    out.table(f"等次变动（上年末 → {year} 年末）", ["上年末＼本年末", *order],
              [(f, *[mv["matrix"][f][t] for t in order]) for f in order],
              caption=f"升级 {mv['up']}，降级 {mv['down']}，未变 {mv['same']}，首次定级 {mv['new']}")


@app.command("template")
def tier_template(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出的验收结果模板")] = Path("支部等次验收结果模板.xlsx"),
) -> None:
    """生成空白的支部等次验收结果模板。

    示例：djctl tier template --out 验收结果.xlsx
    """
    from djctl.io.tier_xlsx import write_results_workbook

    Output(False, settings(ctx).quiet).result(str(write_results_workbook(out_file, [])))
