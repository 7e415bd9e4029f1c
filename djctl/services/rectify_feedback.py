"""One feedback letter per unit (问题整改反馈函) and the unit's returned 问题整改台账 read back.

`rectify letters --period P [--date D]`: for every unit with items open at the end of D (default the last day
of P), one official letter (red 版头 and 字号 like the committee's other documents, numbered in the store
by `docnumbers.assign_numbers` when the scheme has a number pattern) addressed to the unit's secretary,
listing all its open items and those of its branches (category as classified by D, source, problem,
requirement, deadline), asking for the feedback by a reply date; beside it the unit's 整改台账 (xlsx,
`djctl.io.feedback_xlsx`) prefilled with the item ids and problems.

`rectify import FILES` reads returned 整改台账 through the shared import pipeline (all or nothing per file;
the same file, or a file with the same content, again changes nothing). The import's business date D
(`--date`) is the day the feedback was received: each reported item gets a change "feedback" on D and the
status 已整改待核 (submitted); the fields (整改措施, 整改结果, 责任人, 完成时间, 佐证材料) are kept in the
change's detail and, as text, in the item's feedback. An item 已整改待核 is still open: it counts in 整改率
as not closed until `rectify close` confirms it (销号), or `rectify reopen` returns it (退回, open again; a
return is not a reopened problem for the negative list).

按期整改率: a confirmed close takes effect on the close's own date (`rectify close --date`), not on the
完成时间 the unit reported: the committee's check is what closes an item, so an item confirmed after its
deadline is closed late even if the unit reported it done in time. Confirm promptly (the close may be dated
the day of the check, which may be any day on or after the feedback's date).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.errors import DjctlError, InputError, Problem
from djctl.io.feedback_xlsx import FeedbackForm, FeedbackRow, LedgerItem, ledger_filename, read_ledger, write_ledger
from djctl.io.outfile import inside, safe_part, staged_dir
from djctl.services.importing import FileResult, WorkbookImport, expand_paths, import_workbook
from djctl.store.content import row_digests
from djctl.store.engine import Store
from djctl.store.tables import Branch, ImportFile, Rectification, RectificationEvent, Unit

KIND = "rectify_feedback"
LETTER_KIND = "rectify_letter"
REPLY_DAYS = 30
#: what a letter asks for each category (the scheme's default categories; others get the general wording)
REQUIREMENTS = {
    "责任落实": "书记履行第一责任人职责，研究制定整改方案，逐项明确责任人和完成时限",
    "组织设置": "按规定完成组织设置调整或换届，配齐配强支部委员",
    "队伍建设": "规范党员发展和教育管理，补齐相关程序和记录",
    "制度执行": "对照制度规定逐项整改，建立长效机制，防止问题反弹",
    "组织生活": "规范“三会一课”、主题党日等组织生活，补齐记录和相关材料",
    "党费管理": "按规定足额收缴党费，补齐收缴台账，做到按月收缴、账目清楚",
    "作用发挥": "推动党建与业务深度融合，明确具体举措并见到实效",
    "基础保障": "补齐工作台账和基础资料，完善阵地、经费等保障",
}
GENERAL_REQUIREMENT = "对照问题逐项整改到位，补齐台账和佐证材料"


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _dept(unit_name: str) -> str:
    """市发展和改革委员会党总支 -> 市发展和改革委员会 (the department whose 党组（党委） the letter names)."""
    for suffix in ("机关党委", "机关党总支", "机关党支部", "党总支", "党委", "党支部", "党组"):
        if unit_name.endswith(suffix) and len(unit_name) > len(suffix):
            return unit_name[: -len(suffix)]
    return unit_name


def addressee(unit_name: str, secretary: str) -> str:
    """主送: the unit's secretary by name when the roster has one, else the department's 党组（党委）书记."""
    if secretary.strip():
        return f"{unit_name}书记{secretary.strip()}同志："
    return f"{_dept(unit_name)}党组（党委）书记："


# ------------------------------------------------------------------ letters


def letter_items(session: Any, as_of: date, org: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """unit code -> its items open at the end of `as_of` (the unit's own and its branches'), by deadline."""
    from djctl.services.rectify import SOURCE_CN, open_at
    from djctl.services.rectify_stats import UNCLASSIFIED, tags_at

    branches = {b.code: (b.unit_code, b.name) for b in session.exec(select(Branch))}
    units = {u.code: u.name for u in session.exec(select(Unit))}
    tags = tags_at(session, as_of)
    out: dict[str, list[dict[str, Any]]] = {}
    for r, st in open_at(session, as_of):
        unit = r.org_code if r.org_kind == "unit" else branches.get(r.org_code, ("", ""))[0]
        if not unit or (org and unit != org):
            continue
        where = units.get(unit, unit) if r.org_kind == "unit" else branches[r.org_code][1]
        category = tags.get(int(r.id), (UNCLASSIFIED, ""))[0]
        out.setdefault(unit, []).append({
            "id": int(r.id), "org": r.org_code, "where": where, "category": category,
            "source": SOURCE_CN.get(r.source, r.source), "problem": r.problem, "due": st.due,
            "overdue": st.overdue, "status": st.status,
            "requirement": REQUIREMENTS.get(category, GENERAL_REQUIREMENT)})
    return out


def _letter_context(scheme: Any, header: dict[str, Any], unit: Unit, items: list[dict[str, Any]], period: Any,
                    as_of: date, reply_by: date, ledger_name: str) -> dict[str, Any]:
    overdue = sum(1 for i in items if i["overdue"])
    by_source: dict[str, int] = {}
    for i in items:
        by_source[i["source"]] = by_source.get(i["source"], 0) + 1
    sources = "、".join(f"{s}发现{n}个" for s, n in by_source.items())
    issuer = header["issuer"]
    lead = (f"根据《{scheme.name or f'{scheme.year}年度考核方案'}》和工委关于问题整改的工作安排，现将截至{_cn_date(as_of)}"
            f"你单位（含所属党支部）尚未整改销号的问题反馈如下。你单位共有未销号问题{len(items)}个（{sources}），"
            + (f"其中已超过整改期限的{overdue}个。" if overdue else "均在整改期限内。") + "问题清单见附件。有关要求如下：")
    asks = [
        "一、压实整改责任。请党组（党委）书记切实履行抓党建第一责任人职责，亲自研究部署，对照问题清单逐项制定整改措施，"
        "明确责任人和完成时限，做到整改一项、销号一项。" + ("已超过整改期限的问题要立即整改。" if overdue else ""),
        f"二、按时反馈情况。请于{_cn_date(reply_by)}前将整改情况逐项填入随函下发的《问题整改台账》（电子表格），"
        f"写明整改措施、整改结果、责任人、完成时间和佐证材料名称，连同佐证材料报送{issuer}。请勿改动台账中的事项编号和表头；"
        "尚未整改完成的问题，整行留空，完成后再报。",
        "三、严格审核销号。工委对报送的整改情况逐项审核，经核实整改到位的予以销号；整改不到位的予以退回，"
        "退回的问题和逾期未整改的问题，将在季度通报中通报，并作为年度考核和负面清单的依据。",
    ]
    rows = [[i["id"], i["where"], f"{i['category']}\n{i['source']}", i["problem"], i["requirement"],
             _cn_date(i["due"]), "已逾期" if i["overdue"] else "未到期"] for i in items]
    return {
        "kind": LETTER_KIND, "title": f"关于反馈{period.label}党建工作问题清单并督促整改的函", **header,
        "recipients": addressee(unit.name, unit.secretary or ""), "date": _cn_date(as_of),
        "date_iso": as_of.isoformat(), "unit": unit.code, "period": str(period),
        "sections": [{"heading": "", "paragraphs": [lead, *asks]}], "ledger": ledger_name,
        "attachments": [
            {"heading": f"{unit.name}未销号问题清单", "landscape": True, "tables": [{
                "caption": f"截至{_cn_date(as_of)}", "columns": ["事项编号", "所在组织", "类别\n来源", "问题",
                                                                 "整改要求", "整改期限", "状态"], "rows": rows}]},
        ]}


def write_letters(store: Store, period: Any, out_dir: Path, *, on_date: date | None = None, org: str | None = None,
                  reply_by: date | None = None, templates: Path | None = None) -> dict[str, Any]:
    """Write one letter (.docx) and one 整改台账 (.xlsx) per unit with open items as of `on_date` (default:
    the period's last day), all or none (staged); the letters' 字号 are given in one write transaction."""
    from djctl.domain.scheme import Scheme
    from djctl.services.docnumbers import DocRef, assign_numbers
    from djctl.services.docs_common import official_header, stamp
    from djctl.services.setup import load_scheme

    as_of = on_date or period.last_day()
    reply_by = reply_by or as_of + timedelta(days=REPLY_DAYS)
    if reply_by <= as_of:
        raise InputError(f"报送期限 {reply_by.isoformat()} 应晚于发函日期 {as_of.isoformat()}")
    with store.read() as uow:
        s = uow.session
        if org and s.exec(select(Unit).where(Unit.code == org)).first() is None:
            raise InputError(f"找不到考核单位「{org}」", hint="用 djctl org list 查看单位编码（支部的问题列在其所属单位的函中）")
        by_unit = letter_items(s, as_of, org)
        units = {u.code: u for u in s.exec(select(Unit).where(Unit.code.in_(sorted(by_unit))))}
        try:
            scheme = load_scheme(s, as_of.year)
        except DjctlError:
            scheme = Scheme(year=as_of.year)
    codes = sorted(by_unit)
    title = f"关于反馈{period.label}党建工作问题清单并督促整改的函"
    numbers: dict[tuple[str, str], str] = {}
    if codes:
        with store.write() as uow:  # numbers first: a letter keeps its number when written again
            numbers = assign_numbers(uow, scheme, [DocRef(LETTER_KIND, f"{period}:{c}", f"{title}（{units[c].name}）")
                                                   for c in codes], as_of)
    from djctl.io.render import render_document

    letters: list[dict[str, Any]] = []
    with staged_dir(out_dir) as stage:
        for c in codes:
            u, items = units[c], by_unit[c]
            base = f"{safe_part(str(period))}_{safe_part(c)}_{safe_part(u.name)}_问题整改反馈函"
            ledger = ledger_filename(str(period), c, u.name)
            header = official_header(None, scheme, LETTER_KIND, f"{period}:{c}", as_of,
                                     numbers.get((LETTER_KIND, f"{period}:{c}")))
            ctx = _letter_context(scheme, header, u, items, period, as_of, reply_by, ledger)
            paths = render_document(ctx, ["docx"], stage.dir, base, templates)
            write_ledger(inside(stage.dir, ledger), unit_code=c, unit_name=u.name, period=str(period),
                         period_label=period.label, as_of=as_of, reply_by=reply_by,
                         items=[LedgerItem(i["id"], i["problem"]) for i in items])
            stamp([*paths, inside(stage.dir, ledger)], as_of)
            letters.append({"unit": c, "name": u.name, "secretary": u.secretary, "items": [i["id"] for i in items],
                            "overdue": sum(1 for i in items if i["overdue"]), "doc_number": header["doc_number"],
                            "letter": str(inside(out_dir, paths[0].name)), "ledger": str(inside(out_dir, ledger))})
    return {"period": str(period), "as_of": as_of.isoformat(), "reply_by": reply_by.isoformat(), "letters": letters,
            "items": sum(len(x["items"]) for x in letters)}


# ------------------------------------------------------------------ import


def _summary(row: FeedbackRow) -> str:
    """The feedback as one line of text (the item's feedback column, shown by list, show and the forms)."""
    parts = [("整改措施", row.measures), ("整改结果", row.result), ("责任人", row.responsible),
             ("完成时间", row.done_on.isoformat()), ("佐证材料", row.evidence)]
    return "；".join(f"{k}：{v.rstrip('。；;，, ')}" for k, v in parts if v) + "。"


def _latest_feedback(session: Any, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for e in session.exec(select(RectificationEvent).where(RectificationEvent.item_id.in_(item_ids),
                                                           RectificationEvent.action == "feedback")
                          .order_by(RectificationEvent.on_date, RectificationEvent.id)):
        out[e.item_id] = json.loads(e.detail) if e.detail else {}
    return out


def _is_current(item: Rectification | None, latest: dict[str, Any] | None, row: FeedbackRow) -> bool:
    """The item already stands 已整改待核 with exactly this row's feedback."""
    return (item is not None and item.status == "submitted" and latest is not None
            and all(latest.get(k) == v for k, v in row.fields().items()))


def _check(uow: Any, form: FeedbackForm, on_date: date, sheet: str) -> list[Problem]:
    s = uow.session
    unit = form.unit
    problems: list[Problem] = []
    if s.exec(select(Unit).where(Unit.code == unit)).first() is None:
        return [Problem(f"表格所属的考核单位「{unit}」不在名册中", sheet, None, "单位编码")]
    mine = {b.code for b in s.exec(select(Branch).where(Branch.unit_code == unit))} | {unit}
    ids = [r.item_id for r in form.rows]
    items = {int(r.id): r for r in s.exec(select(Rectification).where(Rectification.id.in_(ids)))}
    last: dict[int, date] = {}
    for e in s.exec(select(RectificationEvent).where(RectificationEvent.item_id.in_(ids))):
        last[e.item_id] = max(last.get(e.item_id, e.on_date), e.on_date)
    latest = _latest_feedback(s, ids)
    for row in form.rows:
        item = items.get(row.item_id)

        def bad(column: str, message: str, row: FeedbackRow = row) -> None:
            problems.append(Problem(message, sheet, row.row, column))

        if item is None:
            bad("事项编号", f"没有编号为 {row.item_id} 的整改事项")
            continue
        if item.org_code not in mine:
            bad("事项编号", f"整改事项 #{row.item_id} 是「{item.org_code}」的问题，不是本单位（{unit}）或所属党支部的问题")
            continue
        if item.status == "closed":
            bad("事项编号", f"整改事项 #{row.item_id} 已于 {item.closed_on} 销号，不需要再报送整改情况")
            continue
        if row.done_on > on_date:
            bad("完成时间", f"完成时间 {row.done_on.isoformat()} 晚于报送日期 {on_date.isoformat()}（不能填写将来的日期）")
        if item.found_on is not None and row.done_on < item.found_on:
            bad("完成时间", f"完成时间 {row.done_on.isoformat()} 早于问题发现日期 {item.found_on.isoformat()}")
        if _is_current(item, latest.get(row.item_id), row):
            continue
        if row.item_id in last and last[row.item_id] > on_date:
            bad("事项编号", f"整改事项 #{row.item_id} 在 {last[row.item_id].isoformat()} 已有变动，"
                            f"报送日期 {on_date.isoformat()} 不能早于它（请用 --date 指定收到反馈的日期）")
    return problems


def _write(uow: Any, imp: ImportFile, form: FeedbackForm, on_date: date, result: FileResult) -> None:
    from djctl.services.rectify import _snapshot, _sync, digest_ids, record_change

    s = uow.session
    rows = form.rows
    latest = _latest_feedback(s, [r.item_id for r in rows])
    changed: list[dict[str, Any]] = []
    for row in rows:
        item = s.get(Rectification, row.item_id)
        if _is_current(item, latest.get(row.item_id), row):
            continue  # already stands with this feedback (a resubmitted file with some rows unchanged)
        old = _snapshot(item)
        detail = {**row.fields(), "file": Path(imp.path).name, "import_id": imp.id, "row": row.row}
        record_change(uow, item, "feedback", "submitted", on_date, item.due, note=_summary(row),
                      detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
        item.feedback = _summary(row)
        _sync(uow, item)
        changed.append({"id": row.item_id, "old": old, "new": _snapshot(item)})
    ids = [c["id"] for c in changed]
    result.extra.update(items=ids, unit=form.unit, notes=form.notes)
    uow.audit("rectify.feedback", {"file": Path(imp.path).name, "sha256": imp.sha256, "import_id": imp.id,
                                   "unit": form.unit, "period": form.meta.get("period", ""),
                                   "date": on_date.isoformat(), "rows": len(rows), "items": changed,
                                   "row_digests": row_digests(uow, **digest_ids(s, ids))})


def import_feedback(store: Store, path: Path, *, on_date: date, dry_run: bool = False) -> FileResult:
    """Import one returned 整改台账 received on `on_date`, all or nothing; the same file (or the same
    content) again changes nothing."""
    got: dict[str, FeedbackForm] = {}

    def read(p: Path) -> tuple[str, list[FeedbackRow]]:
        got["form"] = read_ledger(p)
        return "整改台账", got["form"].rows

    def same(uow: Any, rows: list[FeedbackRow]) -> bool:
        latest = _latest_feedback(uow.session, [r.item_id for r in rows])
        return all(_is_current(uow.session.get(Rectification, r.item_id), latest.get(r.item_id), r) for r in rows)

    spec = WorkbookImport(KIND, read, lambda uow, sheet, rows: _check(uow, got["form"], on_date, sheet),
                          lambda uow, imp, rows, result: _write(uow, imp, got["form"], on_date, result),
                          "问题整改台账有错误，未导入任何数据", period=lambda rows: got["form"].meta.get("period", ""),
                          same=same)
    result = import_workbook(store, path, spec, dry_run=dry_run)
    if "form" in got:
        result.subject = got["form"].unit
    return result


def import_files(store: Store, paths: list[Path], *, on_date: date, dry_run: bool = False) -> list[FileResult]:
    """`djctl rectify import`: each file (directories expanded to their workbooks) on its own."""
    return [import_feedback(store, p, on_date=on_date, dry_run=dry_run) for p in expand_paths(paths)]
