"""The monthly spot check (月抽查核查): check worksheets out, verified scores in, status, demo.

Worksheets go to the units of the month's ACTIVE sample draw that have reported, prefilled with their
stored self-scores. A returned worksheet is imported all or nothing, in its own transaction, idempotent by
SHA-256 (the same rules as the self-assessment): it must belong to the active draw, to the unit's current
self report (the self-scores as stored, checked cell by cell and against the hash in the hidden sheet), and
verify every task. Each task found false (是, or empty with an overclaim beyond `spot_check.tolerance`)
becomes a rectification item in the same transaction; the file gets ONE audit event. The double-deduction
rule itself lives in `djctl.domain.scoring.task_outcome`, applied by `djctl.services.scores`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.periods import parse_month
from djctl.domain.points import fmt, from_x100, to_x100
from djctl.domain.scoring import task_outcome
from djctl.errors import ActionNeeded, DjctlError, InputError, Problem
from djctl.io.check_form import SHEET, CheckFormTask, check_filename, read_check_form, write_check_form
from djctl.io.outfile import inside, staged_dir
from djctl.services.draws import StoredDraw, find_active
from djctl.services.importing import IMPORTED, UNCHANGED, VALID, FileResult, expand_paths, file_sha256, find_import
from djctl.domain.problems import choose
from djctl.services.setup import load_scheme
from djctl.services.tasks import list_tasks
from djctl.store.audit import actor, rows_digest
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import CheckReport, CheckScore, ImportFile, Rectification, SelfReport, SelfScore, TaskList, Unit

KIND = "check"
DRAW_KIND = "sample"
CHECK_SCORE = CheckScore.__table__


def self_hash(rows: list[tuple[str, int]]) -> str:
    """The hash of a self report's scores as stored: (task code, points_x100) in task order."""
    return rows_digest([[code, int(points)] for code, points in rows])


def _self_rows(session, report: SelfReport) -> tuple[list[Any], dict[str, SelfScore]]:
    """(tasks of the report's list in order, task code -> stored self score)."""
    tasks = list_tasks(session, report.task_list_id)
    scores = {s.task_code: s for s in session.exec(select(SelfScore).where(SelfScore.report_id == report.id))}
    return tasks, scores


def _active_report(session, unit: str, month: str) -> SelfReport | None:
    return session.exec(select(SelfReport).where(SelfReport.unit_code == unit, SelfReport.month == month,
                                                 SelfReport.active == True)).first()  # noqa: E712


def _require_draw(uow: UnitOfWork, month: str) -> StoredDraw:
    d = find_active(uow, DRAW_KIND, month)
    if d is None:
        raise ActionNeeded(f"{month} 还没有抽查抽签", hint=f"先抽签：djctl sample --month {month} --seed 事先公布的公开数字")
    return d


# --------------------------------------------------------------------------- forms out


@dataclass
class FormsResult:
    month: str
    draw_id: int
    draw_label: str
    files: list[Path] = field(default_factory=list)
    not_reported: list[tuple[str, str]] = field(default_factory=list)  # (code, name): 未报送, 0 anyway

    def to_json(self) -> dict[str, Any]:
        return {"period": self.month, "draw": {"id": self.draw_id, "label": self.draw_label},
                "files": [str(p) for p in self.files],
                "not_reported": [{"unit": c, "name": n} for c, n in self.not_reported]}


def write_forms(store: Store, month: str, out_dir: Path) -> FormsResult:
    """One check worksheet per drawn unit of the month's active draw that has reported."""
    p = parse_month(month)
    m = str(p)
    jobs = []
    with store.read() as uow:
        s = uow.session
        d = _require_draw(uow, m)
        result = FormsResult(m, d.id, d.label)
        categories = tuple(load_scheme(s, p.year).rectify.categories)
        for code in d.selected:
            name = d.names.get(code, "")
            rep = _active_report(s, code, m)
            if rep is None:
                result.not_reported.append((code, name))
                continue
            tasks, scores = _self_rows(s, rep)
            tl = s.get(TaskList, rep.task_list_id)
            rows = [CheckFormTask(t.code, t.name, from_x100(t.points_x100), from_x100(scores[t.code].points_x100),
                                  scores[t.code].note or "") for t in tasks]
            digest = self_hash([(t.code, scores[t.code].points_x100) for t in tasks])
            jobs.append((code, name, rep.id, digest, tl.sha256 if tl else "", rows, _checkers(uow, d, code)))
    with staged_dir(out_dir) as stage:  # every worksheet or none
        for code, name, rep_id, digest, task_hash, rows, checkers in jobs:
            fname = check_filename(m, code, name)
            write_check_form(inside(stage.dir, fname), unit_code=code, unit_name=name, month=m, month_label=p.label,
                             draw_id=d.id, draw_label=d.label, self_report_id=rep_id,
                             self_hash=digest, task_hash=task_hash, tasks=rows,
                             check_day=p.last_day(), checkers=checkers, categories=categories)
            result.files.append(inside(out_dir, fname))
    return result


def _checkers(uow: UnitOfWork, d: StoredDraw, code: str) -> str:
    """The inspectors the draw assigned to a unit (双随机), as the 核查人 prefilled in its worksheet."""
    ins = d.record.inspection
    if not ins:
        return ""
    from djctl.services.inspectors import inspector_directory

    people = inspector_directory(uow)
    return "、".join(people.get(c, {}).get("name") or c for c in (ins.get("assignments") or {}).get(code, []))


# --------------------------------------------------------------------------- forms in


def import_forms(store: Store, paths: list[Path], *, replace: bool = False, dry_run: bool = False,
                 on_date: date | None = None, progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Import returned check worksheets; every file in its own transaction.

    `on_date` is the import date rectification deadlines count from (today by default).
    """
    results = []
    for path in expand_paths(paths):
        result = import_one(store, path, replace=replace, dry_run=dry_run, on_date=on_date)
        results.append(result)
        if progress:
            progress(result)
    return results


class _DryRun(Exception):
    pass


def import_one(store: Store, path: Path, *, replace: bool = False, dry_run: bool = False,
               on_date: date | None = None) -> FileResult:
    result = FileResult(str(path))
    try:
        if not path.is_file():
            raise InputError("文件不存在", path=str(path))
        result.sha256 = file_sha256(path)
        form = read_check_form(path)
        result.rows = len(form.rows)
        result.subject, result.period = form.meta["unit"], form.meta["month"]
        if form.problems.notes:  # formulas taken at their cached values: the report says so
            result.extra["notes"] = list(form.problems.notes)
        with store.write() as uow:
            seen = find_import(uow.session, KIND, result.sha256)
            if seen is not None:
                result.status = UNCHANGED
                if not seen.active:
                    result.message = "这份核查表以前导入过，但已被另一份核查表替换，未改动"
                return result
            _store_form(uow, path, result, form, replace, on_date)
            if dry_run and result.status != UNCHANGED:
                raise _DryRun
    except _DryRun:
        result.status = VALID
    except DjctlError as exc:
        result.refuse(exc)
    return result


def _meta_int(path: Path, meta: dict[str, str], key: str, what: str) -> int:
    try:
        return int(meta[key])
    except (KeyError, ValueError):
        raise InputError(f"表格校验信息中的{what}「{meta.get(key, '')}」无效（隐藏的校验信息被改动）", path=str(path),
                         hint="请使用 djctl check forms 生成的原表填写") from None


def _store_form(uow: UnitOfWork, path: Path, result: FileResult, form, replace: bool, on_date: date | None) -> None:
    s = uow.session
    meta = form.meta
    problems = form.problems
    fname = str(path)
    try:
        month = str(parse_month(meta["month"]))
    except ValueError:
        raise InputError(f"表格校验信息中的月份「{meta['month']}」无效", path=fname) from None
    if form.header_unit != meta["unit"]:
        msg = f"表头的单位编码被改为「{form.header_unit}」，与表格校验信息中的「{meta['unit']}」不符"
        raise InputError(msg, path=fname, problems=[Problem(msg, SHEET, form.header_unit_row, "单位编码")],
                         hint="每份核查表只能用于下发时的单位")
    if form.header_month != month:
        msg = f"表头的月份被改为「{form.header_month}」，与表格校验信息中的「{month}」不符"
        raise InputError(msg, path=fname, problems=[Problem(msg, SHEET, form.header_month_row, "月份")])
    draw_id = _meta_int(path, meta, "draw_id", "抽签编号")
    report_id = _meta_int(path, meta, "self_report_id", "自评记录编号")
    unit = s.exec(select(Unit).where(Unit.code == meta["unit"])).first()
    if unit is None:
        raise InputError(f"单位「{meta['unit']}」不在名册中", path=fname)

    # the draw: this worksheet must belong to the month's active draw, and the unit must be in it
    d = find_active(uow, DRAW_KIND, month)
    if d is None:
        raise InputError(f"{month} 没有有效的抽查抽签，不能导入核查表", path=fname)
    if d.id != draw_id:
        in_new = "仍在" if unit.code in d.selected else "不在"
        raise InputError(f"这份核查表是按抽签 #{draw_id} 下发的，{month} 的抽签已重抽为 #{d.id}（{d.label}），"
                         f"{unit.code} {in_new}新的抽中名单中", path=fname,
                         hint=(f"请重新生成核查表：djctl check forms --month {month}" if unit.code in d.selected
                               else f"按重抽结果核查：djctl check forms --month {month}"))
    if unit.code not in d.selected:
        raise InputError(f"{unit.code} {unit.name} 不在 {month} 的抽查抽签结果中（抽签 #{d.id}，{d.label}），"
                         "不能导入核查结果", path=fname, hint=f"查看抽中单位：djctl sample show {d.id}")

    # the self report the worksheet was made from must still be the unit's current one
    rep = s.get(SelfReport, report_id)
    if rep is None or rep.unit_code != unit.code or rep.month != month:
        raise InputError("表格校验信息中的自评记录与单位、月份不符（隐藏的校验信息被改动）", path=fname,
                         hint=f"请重新生成核查表：djctl check forms --month {month}")
    if not rep.active:
        cur = _active_report(s, unit.code, month)
        now_text = "现已重新报送" if cur is not None else "现在没有有效的自评（任务清单已修改，须重新报送）"
        raise InputError(f"核查表下发后，{unit.code} {month} 的自评已被替换（{now_text}），这份核查表核查的是旧自评",
                         path=fname, hint=f"请按当前自评重新生成核查表核查：djctl check forms --month {month}")
    tl = s.get(TaskList, rep.task_list_id)
    if tl is None or tl.sha256 != meta["task_hash"]:
        raise InputError("隐藏的校验信息中的任务清单摘要与该单位自评所用的任务清单不符（校验信息被改动）", path=fname,
                         hint=f"请使用 djctl check forms --month {month} 重新生成的原表填写")
    tasks, stored = _self_rows(s, rep)
    stored_rows = [(t.code, stored[t.code].points_x100) for t in tasks]
    if self_hash(stored_rows) != meta["self_hash"]:
        raise InputError("隐藏的校验信息中的自评得分摘要与库中自评不符（校验信息被改动）", path=fname,
                         hint=f"请使用 djctl check forms --month {month} 重新生成的原表填写")

    # rows
    by_code = {t.code: t for t in tasks}
    seen: dict[str, int] = {}
    for row in form.rows:
        t = by_code.get(row.code)
        if t is None:
            problems.add(f"任务编码「{row.code}」不在 {unit.code} {month} 的自评中（请勿修改或增加任务）", SHEET, row.row,
                         "任务编码")
            continue
        if row.code in seen:
            problems.add(f"任务「{row.code}」与第 {seen[row.code]} 行重复", SHEET, row.row, "任务编码")
            continue
        seen[row.code] = row.row
        if row.points is not None and to_x100(row.points) != t.points_x100:
            problems.add(f"分值被改为 {row.points}，应为 {fmt(t.points_x100)}（请勿修改分值）", SHEET, row.row, "分值")
        elif row.verified is not None and to_x100(row.verified) > t.points_x100:
            problems.add(f"核查得分 {row.verified} 超过分值 {fmt(t.points_x100)}", SHEET, row.row, "核查得分")
        own = stored[row.code].points_x100
        if row.self_score is not None and to_x100(row.self_score) != own:
            problems.add(f"自评得分被改为 {row.self_score}，单位报送的是 {fmt(own)}（请勿修改自评得分）", SHEET, row.row,
                         "自评得分")
        if row.false_flag is True and row.verified is not None and to_x100(row.verified) >= own:
            problems.add(f"认定虚假，但核查得分 {row.verified} 不低于自评得分 {fmt(own)}（没有多报）；"
                         "请核对核查得分，或把「是否虚假」改为「否」", SHEET, row.row, "是否虚假")
    missing = [c for c in by_code if c not in seen]
    if missing:
        problems.add(f"缺少任务：{'、'.join(missing)}（请勿删除任务行）", SHEET)
    scheme = load_scheme(s, int(month[:4]))
    for row in form.rows:
        if row.category:
            try:
                row.category = choose(row.category, scheme.rectify.categories, "问题类别")
            except ValueError as exc:
                problems.add(str(exc), SHEET, row.row, "问题类别")
    # 核查日期: the worksheet's, else the caller's, else the last day of the month checked (never the import's clock)
    pm = parse_month(month)
    check_day = form.check_day or on_date or pm.last_day()
    if check_day < pm.first_day():
        problems.add(f"核查日期 {check_day.isoformat()} 早于所核查的月份 {month}", SHEET, None, "核查日期")
    problems.raise_if_any("核查表有错误，整份未导入")

    old = s.exec(select(CheckReport).where(CheckReport.unit_code == unit.code, CheckReport.month == month,
                                           CheckReport.active == True)).first()  # noqa: E712
    if old is not None and old.draw_id == d.id and old.self_report_id == rep.id and old.checked_on == check_day \
            and _same_check(s, old.id, unit.code, month, form.rows):
        # the same findings in another file (re-saved by WPS or LibreOffice, converted to .xls/.ods): nothing to write
        result.status = UNCHANGED
        result.message = "内容与已导入的核查表相同（文件由其他程序另存或转换），未改动"
        return
    if old is not None and not replace:
        old_file = s.get(ImportFile, old.import_id)
        raise InputError(f"{unit.code} {month} 已经导入过另一份核查表"
                         f"（{Path(old_file.path).name if old_file else old.import_id}）", path=fname,
                         hint="确需以这份为准请加 --replace（原核查结果保留在历史中）")

    tol = to_x100(scheme.spot_check.tolerance)
    t_now = now()
    imp = ImportFile(kind=KIND, path=str(path), sha256=result.sha256, subject=unit.code, period=month,
                     rows=len(form.rows), actor=actor(), created_at=t_now)
    s.add(imp)
    s.flush()
    if old is not None:
        old.active = False
        s.add(old)
        old_imp = s.get(ImportFile, old.import_id)
        if old_imp is not None:
            old_imp.active = False
            old_imp.replaced_by = imp.id
            s.add(old_imp)
    report = CheckReport(unit_code=unit.code, month=month, draw_id=d.id, self_report_id=rep.id, import_id=imp.id,
                         active=True, created_at=t_now, checked_on=check_day)
    s.add(report)
    s.flush()
    ordered = sorted(form.rows, key=lambda r: by_code[r.code].seq)
    rows = [(r.code, to_x100(r.verified), r.false_flag, r.note, r.checker) for r in ordered]
    category_of = {r.code: r.category for r in ordered if r.category}
    uow.conn.execute(CHECK_SCORE.insert(),
                     [{"report_id": report.id, "task_code": c, "verified_x100": v, "false_flag": f, "note": n,
                       "checker": who} for c, v, f, n, who in rows])

    # every task found false becomes a rectification item, found on the check date, due rectify_days later
    from djctl.services.rectify import add_rectification, digest_ids
    from djctl.services.rectify_stats import insert_tag
    from djctl.store.content import row_digests

    due = check_day + timedelta(days=scheme.lookback.rectify_days)
    created, kept, false_tasks, tags = [], [], [], []
    deduction = 0
    for code, verified, flag, _note, _who in rows:
        t = by_code[code]
        o = task_outcome(task=code, full_x100=t.points_x100, self_x100=stored[code].points_x100,
                         verified_x100=verified, false=flag, tolerance_x100=tol,
                         multiplier=scheme.spot_check.false_multiplier)
        deduction += o.deduction_x100
        if not o.false:
            continue
        false_tasks.append(code)
        ref = f"{month}:{code}"
        existing = s.exec(select(Rectification).where(
            Rectification.org_code == unit.code, Rectification.source == "spotcheck", Rectification.source_ref == ref,
            Rectification.status != "closed")).first()
        if existing is not None:
            kept.append(int(existing.id))
            continue
        how = "核查认定虚假" if flag else f"多报{fmt(o.overclaim_x100)}分，超过容差{fmt(tol)}分，按规则认定虚假"
        problem = (f"{int(month[:4])}年{int(month[5:7])}月抽查中，任务“{t.name}”自评{fmt(o.self_x100)}分，"
                   f"核查{fmt(verified)}分，{how}；双倍扣分后该项计{fmt(o.final_x100)}分。请如实整改并反馈。")
        created.append(add_rectification(uow, unit.code, "unit", problem, "spotcheck", ref, due, found_on=check_day,
                                         audit=False))
        if code in category_of:  # the worksheet's 问题类别 classifies the new item on the check date
            tags.append(insert_tag(uow, created[-1], category_of[code], "", check_day, note="核查表"))
    stale = []
    if old is not None:
        for item in s.exec(select(Rectification).where(
                Rectification.org_code == unit.code, Rectification.source == "spotcheck",
                Rectification.source_ref.like(f"{month}:%"), Rectification.status != "closed")):
            if item.source_ref.split(":", 1)[1] not in false_tasks:
                stale.append(int(item.id))
    # the checked month's result, stored with its self report (scores read it)
    from djctl.services.scores import recompute_results, result_json, store_results

    results = recompute_results(uow.conn, scheme, [rep.id])
    store_results(uow.conn, results)
    uow.audit("check.import", {
        "file": path.name, "sha256": result.sha256, "unit": unit.code, "month": month, "import_id": imp.id,
        "report_id": report.id, "draw_id": d.id, "self_report_id": rep.id, "self_hash": meta["self_hash"],
        "replaced_report": old.id if old else None, "rows": len(rows), "rows_sha256": rows_digest(rows),
        "verified_total_x100": sum(v for _, v, _, _, _ in rows), "deduction_x100": deduction,
        "false_tasks": false_tasks, "rectifications": created, "rectifications_kept": kept,
        "rectification_due": due.isoformat(), "checked_on": check_day.isoformat(),
        "row_digests": row_digests(uow, **digest_ids(s, created), rectification_tag=tags),
        "self_result": result_json(results[rep.id])})
    result.extra.update({"false_tasks": false_tasks, "deduction": float(from_x100(deduction)),
                         "rectifications": created})
    notes = []
    if created:
        notes.append(f"认定虚假 {len(false_tasks)} 项，已生成整改事项 " + "、".join(f"#{i}" for i in created)
                     + f"（期限 {due.isoformat()}）")
    if kept:
        notes.append("已有未销号的整改事项 " + "、".join(f"#{i}" for i in kept) + "，未重复生成")
    if stale:
        notes.append("被替换的核查表生成的整改事项 " + "、".join(f"#{i}" for i in stale)
                     + " 对应任务不再认定虚假，请核实后用 djctl rectify close 销号")
        result.extra["rectifications_stale"] = stale
    result.message = "；".join(notes)
    result.status = IMPORTED


def _same_check(s, report_id: int, unit: str, month: str, rows: list) -> bool:
    """Whether the stored check report holds exactly these findings (scores, flags, notes, checkers, and the
    categories given for the items it made): normalised cells, not file bytes."""
    from djctl.store.tables import RectificationTag

    stored = s.exec(select(CheckScore.task_code, CheckScore.verified_x100, CheckScore.false_flag, CheckScore.note,
                           CheckScore.checker).where(CheckScore.report_id == report_id)).all()
    new = {r.code: (to_x100(r.verified), r.false_flag, r.note or "", r.checker or "") for r in rows}
    if {c: (v, None if f is None else bool(f), n or "", w or "") for c, v, f, n, w in stored} != new:
        return False
    items = {ref.split(":", 1)[1]: int(i) for i, ref in s.exec(select(Rectification.id, Rectification.source_ref).where(
        Rectification.org_code == unit, Rectification.source == "spotcheck", Rectification.source_ref.like(f"{month}:%")))}
    tags = {t.item_id: t.category for t in s.exec(select(RectificationTag).where(
        RectificationTag.item_id.in_(list(items.values()) or [-1]), RectificationTag.note == "核查表"))}
    return all(tags.get(items[r.code], "") == (r.category or "") for r in rows if r.code in items)


# --------------------------------------------------------------------------- status


STATUS_CN = {"checked": "已核查", "unchecked": "未核查", "stale": "需重新核查", "missing": "未报送"}


def status(store: Store, month: str) -> dict[str, Any]:
    """Drawn units of the month's active draw and whether each was checked (for the year-end gap list).

    checked: an active check of the active draw against the unit's current self report; stale: a check
    exists but the draw was redone or the self report replaced since; unchecked: reported, no check;
    missing: drawn but never reported (counts 0, nothing to check).
    """
    from djctl.services.scores import month_rows

    p = parse_month(month)
    m = str(p)
    with store.read() as uow:
        s = uow.session
        d = find_active(uow, DRAW_KIND, m)
        if d is None:
            return {"period": m, "draw": None, "counts": {k: 0 for k in STATUS_CN}, "unchecked": [], "rows": []}
        checks = {c.unit_code: c for c in s.exec(select(CheckReport).where(CheckReport.month == m,
                                                                           CheckReport.active == True))}  # noqa: E712
        files = {f.id: f for f in s.exec(select(ImportFile).where(ImportFile.kind == KIND, ImportFile.period == m))}
        units = list(s.exec(select(Unit).where(Unit.code.in_(d.selected))))
        scored = {r.unit: r for r in month_rows(s, [m], load_scheme(s, p.year), units)[m]}
        rows = []
        for code in d.selected:
            rep = _active_report(s, code, m)
            chk = checks.get(code)
            row: dict[str, Any] = {"unit": code, "name": d.names.get(code, ""), "status": "missing", "file": "",
                                   "checked_at": "", "checked_on": "", "false": False, "false_tasks": [], "deduction": None, "why": ""}
            if rep is not None:
                row["status"] = "unchecked"
            if chk is not None:
                f = files.get(chk.import_id)
                row["file"] = Path(f.path).name if f else ""
                row["checked_at"] = chk.created_at.isoformat(timespec="seconds") if chk.created_at else ""
                row["checked_on"] = chk.checked_on.isoformat() if chk.checked_on else ""
                if chk.draw_id != d.id:
                    row["status"], row["why"] = "stale", f"核查依据的抽签 #{chk.draw_id} 已被重抽 #{d.id} 取代"
                elif rep is None or chk.self_report_id != rep.id:
                    row["status"], row["why"] = "stale", "核查后该单位的自评已被替换"
                else:
                    row["status"] = "checked"
                    sc = scored.get(code)
                    if sc is not None:
                        row["false"], row["false_tasks"] = sc.false, sc.false_tasks
                        row["deduction"] = float(from_x100(sc.deduction_x100))
            rows.append(row)
    counts = {k: sum(1 for r in rows if r["status"] == k) for k in STATUS_CN}
    return {"period": m, "draw": {"id": d.id, "label": d.label}, "counts": counts,
            "unchecked": [r["unit"] for r in rows if r["status"] in ("unchecked", "stale")], "rows": rows}
