"""`djctl rectify add|list|show|update|close|overdue|forms` (and `letters|import`, in `_rectify_feedback`):
rectification items (整改事项)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt, OutDirOpt, YearOpt, parse_date_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import ActionNeeded

app = make_app(help="问题整改：登记整改事项与问题类别、整改反馈函与台账回收、审核销号、逾期提醒、整改率统计、整改“回头看”抽签复查。")


def _add_recheck_group() -> None:
    from djctl.cli._rectify_recheck import app as recheck_app

    app.add_typer(recheck_app, name="recheck")


_add_recheck_group()

# kept here (not imported from the service) so that --help stays cheap
SOURCES = {"spotcheck": "月度抽查", "lookback": "回头看", "inspection": "督导检查"}
STATUSES = {"open": "未整改", "in_progress": "整改中", "submitted": "已整改待核", "closed": "已销号"}
SourceOpt = Annotated[Optional[str], typer.Option("--source", help="问题来源：spotcheck（月度抽查）/ lookback（回头看）/ inspection（督导检查）")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="截至日期：列出当日及以前发现的事项，状态、期限与逾期均按当日情况（默认今天），如 2024-09-30")]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="变动生效的日期（业务日期，默认今天），如 2024-09-20")]


def _add_feedback_commands() -> None:
    from djctl.cli._rectify_feedback import register

    register(app)


_add_feedback_commands()




def _choice(value: str | None, choices: dict[str, str], option: str) -> str | None:
    if value is None:
        return None
    v = value.strip()
    for code, cn in choices.items():
        if v in (code, cn):
            return code
    raise typer.BadParameter(f"「{value}」无效，应为 {' / '.join(f'{k}（{c}）' for k, c in choices.items())} 之一",
                             param_hint=option)


def _table(out: Output, title: str, items: list[dict[str, Any]]) -> None:
    out.table(title, ["编号", "组织", "名称", "来源", "问题", "发现", "期限", "状态", "逾期"],
              [(i["id"], i["org"], i["name"], i["source_cn"], _short(i["problem"]), i["found_on"], i["due"], i["status_cn"],
                f"{i['days_overdue']} 天" if i["overdue"] else "") for i in items])


def _short(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _item_lines(out: Output, doc: dict[str, Any]) -> None:
    out.line(f"#{doc['id']} {doc['name']}（{doc['org']}）[{doc['status_cn']}] 发现 {doc['found_on']}，期限 {doc['due']}"
             + (f"，已逾期 {doc['days_overdue']} 天" if doc["overdue"] else ""))
    out.line(f"  问题（{doc['source_cn']}{'：' + doc['source_ref'] if doc['source_ref'] else ''}）：{doc['problem']}")
    if doc["feedback"]:
        out.line(f"  反馈：{doc['feedback']}")
    if doc["closed_on"]:
        out.line(f"  销号日期：{doc['closed_on']}" + ("（超过期限）" if doc["closed_late"] else ""))


@app.command("add")
def rectify_add(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="单位或支部编码")],
    problem: Annotated[str, typer.Option("--problem", help="问题描述")],
    due: Annotated[str, typer.Option("--due", help="整改期限，如 2024-09-30")],
    source: SourceOpt = "inspection",
    source_ref: Annotated[str, typer.Option("--ref", help="来源说明（如检查通知文号）")] = "",
    kind: Annotated[Optional[str], typer.Option("--kind", help="组织类别 unit / branch（编码同时是单位和支部时指定）")] = None,
    found: Annotated[Optional[str], typer.Option("--found", help="发现问题的日期（默认今天），如 2024-08-20")] = None,
    category: Annotated[str, typer.Option("--category", help="问题类别（考核方案所列类别之一），如 党费管理")] = "",
    severity: Annotated[str, typer.Option("--severity", help="严重程度（考核方案所列程度之一），如 一般")] = "",
    json_: JsonOpt = False,
) -> None:
    """登记一项整改事项。

    示例：djctl rectify add U003 --problem 党费收缴台账不完整 --found 2024-08-20 --due 2024-09-30 --source inspection
    """
    day = parse_date_opt(due, "--due")
    found_day = parse_date_opt(found, "--found") if found else None
    src = _choice(source, SOURCES, "--source")
    if kind is not None and kind not in ("unit", "branch"):
        raise typer.BadParameter("应为 unit 或 branch", param_hint="--kind")
    from djctl.services.rectify import add

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = add(st.open_store(must_exist=True), org, problem, src or "inspection", day, source_ref=source_ref, org_kind=kind,
              found_on=found_day, category=category, severity=severity)
    if json_:
        out.doc(doc)
    else:
        out.result(f"已登记整改事项 #{doc['id']}")
        _item_lines(out, doc)


@app.command("list")
def rectify_list(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="只列出已逾期的事项")] = False,
    org: Annotated[Optional[str], typer.Option("--org", help="只列出某单位或支部")] = None,
    source: SourceOpt = None,
    status: Annotated[Optional[str], typer.Option("--status", help="状态：open（未整改）/ in_progress（整改中）/ submitted（已整改待核）/ closed（已销号）")] = None,
    as_of: AsOfOpt = None,
    json_: JsonOpt = False,
) -> None:
    """列出截至某日已发现的整改事项及其当日状态（可按组织、来源、状态筛选，或只看逾期）。

    示例：djctl rectify list --as-of 2024-09-30
    """
    day = parse_date_opt(as_of, "--as-of") if as_of else None
    src, sts = _choice(source, SOURCES, "--source"), _choice(status, STATUSES, "--status")
    from djctl.services.rectify import list_items

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = list_items(st.open_store(must_exist=True), overdue=overdue, org=org, source=src, status=sts, as_of=day)
    if json_:
        out.doc(doc)
        return
    c = doc["counts"]
    _table(out, f"整改事项（{c['total']} 项，截至 {doc['as_of']} 逾期 {c['overdue']} 项）", doc["items"])
    from djctl.cli._rectify_feedback import submitted_table

    submitted_table(out, doc["items"])


@app.command("show")
def rectify_show(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="整改事项编号", min=1, max=2**63 - 1)],
    json_: JsonOpt = False,
) -> None:
    """显示一项整改事项及其全部变更历史（来自审计日志）。

    示例：djctl rectify show 12
    """
    from djctl.services.rectify import show

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = show(st.open_store(must_exist=True), item_id)
    if json_:
        out.doc(doc)
        return
    _item_lines(out, doc)
    from djctl.cli._rectify_feedback import feedback_lines

    feedback_lines(out, doc)
    out.table("变动记录（按业务日期）", ["日期", "变动", "状态", "期限", "说明"],
              [(c["date"], c["action_cn"], c["status_cn"], c["due"], _short(c["note"])) for c in doc["changes"]])
    out.table("变更历史", ["审计序号", "时间(UTC)", "操作人", "操作", "原状态", "新状态"],
              [(h["seq"], h["at"][:19], h["actor"], h["action"],
                STATUSES.get((h["old"] or {}).get("status", ""), ""), STATUSES.get((h["new"] or {}).get("status", ""), ""))
               for h in doc["history"]])


@app.command("update")
def rectify_update(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="整改事项编号", min=1, max=2**63 - 1)],
    status: Annotated[Optional[str], typer.Option("--status", help="新状态：open（未整改）/ in_progress（整改中）；销号请用 close")] = None,
    feedback: Annotated[Optional[str], typer.Option("--feedback", help="整改反馈（替换原反馈，原文保留在审计日志）")] = None,
    on_date: DateOpt = None,
    json_: JsonOpt = False,
) -> None:
    """修改整改事项的状态或反馈；原状态与原反馈保留在审计日志中。

    示例：djctl rectify update 12 --status in_progress --date 2024-08-25 --feedback 已制定整改方案
    """
    day = parse_date_opt(on_date, "--date") if on_date else None
    if status is None and feedback is None:
        raise typer.BadParameter("请用 --status 或 --feedback 指定要修改的内容", param_hint="--status")
    sts = _choice(status, STATUSES, "--status")
    if sts == "closed":
        raise typer.BadParameter("销号请用 djctl rectify close ID --feedback … --date …", param_hint="--status")
    from djctl.services.rectify import update

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = update(st.open_store(must_exist=True), item_id, status=sts, feedback=feedback, on_date=day)
    if json_:
        out.doc(doc)
        return
    out.result(f"整改事项 #{item_id}：{'已修改' if doc['changed'] else '内容相同，未改动'}")
    _item_lines(out, doc)


@app.command("close")
def rectify_close(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="整改事项编号", min=1, max=2**63 - 1)],
    on_date: Annotated[str, typer.Option("--date", help="销号日期，如 2024-09-20；按期整改率按此日期判断是否按期")],
    feedback: Annotated[str, typer.Option("--feedback", help="整改反馈（整改措施与结果）；已整改待核的事项可省略，沿用单位报送的反馈")] = "",
    json_: JsonOpt = False,
) -> None:
    """整改完成销号：记录反馈与销号日期（已整改待核的事项即审核确认销号）。

    示例：djctl rectify close 12 --feedback 已补齐党费台账 --date 2024-09-20
    """
    day = parse_date_opt(on_date, "--date")
    from djctl.services.rectify import close

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = close(st.open_store(must_exist=True), item_id, feedback=feedback, on_date=day)
    if json_:
        out.doc(doc)
        return
    out.result(f"整改事项 #{item_id} 已销号")
    _item_lines(out, doc)


@app.command("reopen")
def rectify_reopen(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="整改事项编号", min=1, max=2**63 - 1)],
    on_date: Annotated[str, typer.Option("--date", help="重新打开的日期，如 2024-10-15")],
    reason: Annotated[str, typer.Option("--reason", help="原因（如整改不到位、问题反弹）")],
    due: Annotated[Optional[str], typer.Option("--due", help="新的整改期限（默认沿用原期限）")] = None,
    json_: JsonOpt = False,
) -> None:
    """重新打开已销号的整改事项（整改不到位或问题反弹），或退回已整改待核的事项；日期与原因都保留在变动记录中。

    示例：djctl rectify reopen 12 --date 2024-10-15 --reason 复查发现台账仍不完整 --due 2024-11-15
    """
    day = parse_date_opt(on_date, "--date")
    new_due = parse_date_opt(due, "--due") if due else None
    from djctl.services.rectify import reopen

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = reopen(st.open_store(must_exist=True), item_id, on_date=day, reason=reason, due=new_due)
    if json_:
        out.doc(doc)
        return
    done = "退回重新整改" if doc["changes"] and doc["changes"][-1]["action"] == "return" else "重新打开"
    out.result(f"整改事项 #{item_id} 已于 {day.isoformat()} {done}")
    _item_lines(out, doc)


@app.command("extend")
def rectify_extend(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="整改事项编号", min=1, max=2**63 - 1)],
    due: Annotated[str, typer.Option("--due", help="新的整改期限，如 2024-12-31")],
    on_date: Annotated[str, typer.Option("--date", help="批准延期的日期，如 2024-09-25")],
    reason: Annotated[str, typer.Option("--reason", help="延期原因")],
    json_: JsonOpt = False,
) -> None:
    """延长未销号整改事项的整改期限；原期限与延期日期保留在变动记录中。

    示例：djctl rectify extend 12 --due 2024-12-31 --date 2024-09-25 --reason 需待年度换届后落实
    """
    day, new_due = parse_date_opt(on_date, "--date"), parse_date_opt(due, "--due")
    from djctl.services.rectify import extend

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = extend(st.open_store(must_exist=True), item_id, due=new_due, on_date=day, reason=reason)
    if json_:
        out.doc(doc)
        return
    out.result(f"整改事项 #{item_id} 的期限已延至 {new_due.isoformat()}")
    _item_lines(out, doc)


@app.command("overdue")
def rectify_overdue(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="有逾期事项时以退出码 1 结束（供脚本使用）")] = False,
    json_: JsonOpt = False,
) -> None:
    """列出逾期未销号的整改事项（期限早于判断日且当日仍未销号）。

    示例：djctl rectify overdue --as-of 2024-12-31 --strict
    """
    day = parse_date_opt(as_of, "--as-of") if as_of else None
    from djctl.services.rectify import overdue_items

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = overdue_items(st.open_store(must_exist=True), day)
    if json_:
        out.doc(doc)
    elif doc["items"]:
        _table(out, f"截至 {doc['as_of']} 逾期的整改事项（{len(doc['items'])} 项）", doc["items"])
    else:
        out.line(f"截至 {doc['as_of']} 没有逾期的整改事项")
    if strict and doc["items"]:
        raise ActionNeeded(f"有 {len(doc['items'])} 项整改事项逾期未销号", hint="用 djctl rectify forms --open 生成反馈单督促整改")


@app.command("forms")
def rectify_forms(
    ctx: typer.Context,
    out_dir: OutDirOpt,
    open_only: Annotated[bool, typer.Option("--open", help="只为未销号的事项生成")] = False,
    org: Annotated[Optional[str], typer.Option("--org", help="只为某单位或支部生成")] = None,
    json_: JsonOpt = False,
) -> None:
    """为每项整改事项生成一份问题整改反馈单（.docx，A4 公文版式，留有整改措施、结果、责任人、完成时间待填）。

    示例：djctl rectify forms --open --out 整改反馈单
    """
    from djctl.services.rectify import write_forms

    st = settings(ctx)
    out = Output(json_, st.quiet)
    paths = write_forms(st.open_store(must_exist=True), out_dir, open_only=open_only, org=org)
    out.files(paths, f"共生成问题整改反馈单 {len(paths)} 份")


@app.command("classify")
def rectify_classify(
    ctx: typer.Context,
    item_ids: Annotated[list[int], typer.Argument(help="整改事项编号（可多个）", metavar="编号...", show_default=False)],
    category: Annotated[str, typer.Option("--category", help="问题类别（考核方案所列类别之一）")],
    severity: Annotated[str, typer.Option("--severity", help="严重程度（考核方案所列程度之一）")] = "",
    on_date: Annotated[Optional[str], typer.Option("--date", help="分类日期（默认各事项的发现日期）")] = None,
    note: Annotated[str, typer.Option("--note", help="说明")] = "",
    json_: JsonOpt = False,
) -> None:
    """给整改事项归类（问题类别、严重程度）；重新归类保留以前的记录，按日期以最近一次为准。

    示例：djctl rectify classify 3 7 12 --category 党费管理 --severity 一般
    """
    from djctl.services.rectify_stats import classify

    st = settings(ctx)
    out = Output(json_, st.quiet)
    done = classify(st.open_store(must_exist=True), item_ids, category=category, severity=severity,
                    on_date=parse_date_opt(on_date, "--date") if on_date else None, note=note)
    if json_:
        out.doc({"items": done})
        return
    for d in done:
        out.line(f"整改事项 #{d['id']}：{d['category']}" + (f"（{d['severity']}）" if d["severity"] else "") + f"，自 {d['date']}")


@app.command("stats")
def rectify_stats_cmd(
    ctx: typer.Context,
    year: YearOpt,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="截至日期（默认该年 12 月 31 日）")] = None,
    json_: JsonOpt = False,
) -> None:
    """问题清单统计：按问题类别、来源、单位、分组统计问题数与整改率、按期整改率，并与前两年逐类比较。

    整改率 = 截至日期已到期的事项中已销号的比例；按期整改率 = 其中在期限内销号的比例。

    示例：djctl rectify stats --year 2024 --as-of 2024-09-30
    """
    from djctl.services.rectify_stats import rectify_stats

    st = settings(ctx)
    out = Output(json_, st.quiet)
    doc = rectify_stats(st.open_store(must_exist=True), year, parse_date_opt(as_of, "--as-of") if as_of else None)
    if json_:
        out.doc(doc)
        return
    t = doc["total"]
    out.line(f"{year} 年发现问题 {t['items']} 项（截至 {doc['as_of']}）：已到期 {t['due']} 项，到期已销号 {t['closed_due']} 项，"
             f"整改率 {t['rate_text']}，按期整改率 {t['rate_on_time_text']}；未销号 {t['open']} 项，其中逾期 {t['overdue']} 项")
    cols = ["问题数", "已到期", "已销号", "整改率", "按期整改率", "逾期"]

    def rows(key: str, items: list, label=None):
        return [((label(i) if label else i[key]) or "—", i["items"], i["due"], i["closed_due"], i["rate_text"],
                 i["rate_on_time_text"], i["overdue"]) for i in items]

    out.table("按问题类别", ["类别", *cols], rows("category", doc["by_category"]))
    out.table("按问题来源", ["来源", *cols], rows("source", doc["by_source"]))
    out.table("按分组", ["分组", *cols], rows("group", doc["by_group"]))
    out.table("按单位（含所属支部）", ["单位", *cols], rows("unit", doc["by_unit"], lambda i: i["name"] or i["unit"]))
    if len(doc["years"]) > 1:
        out.table("问题类别逐年比较（各年发现的问题数）", ["类别", *[f"{y}年" for y in doc["years"]]],
                  [(r["category"], *[r[str(y)] for y in doc["years"]]) for r in doc["trend"]])
