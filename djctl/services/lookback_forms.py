"""Look-back worksheets: written for the drawn branches, read back in (all or nothing per file), with rebounds
and rectification items in the file's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.tiers import TIERS, down_one, normalize_tier
from djctl.errors import ActionNeeded, DjctlError, InputError, Problem
from djctl.io.outfile import inside, staged_dir
from djctl.services.draws import StoredDraw, find_draw, find_history
from djctl.services.importing import IMPORTED, UNCHANGED, VALID, FileResult, expand_paths, file_sha256, find_import
from djctl.services.lookback import BASIS, KIND, RESULT, check_year, items_hash, parse_series_name, pick_draw
from djctl.services.setup import load_scheme
from djctl.store.audit import actor, rows_digest
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Draw, ImportFile, LookbackResult, Rectification, TierChange, Unit


@dataclass
class FormsResult:
    draw: StoredDraw
    files: list[Path] = field(default_factory=list)
    item_codes: dict[Path, list[str]] = field(default_factory=dict)  # the checklist written into each file

    def to_json(self) -> dict[str, Any]:
        return {"draw": {"id": self.draw.id, "label": self.draw.label, "period": self.draw.period,
                         "unannounced": self.draw.unannounced},
                "files": [str(p) for p in self.files]}


def write_forms(store: Store, out_dir: Path, *, draw_id: int | None = None, year: int | None = None,
                name: str | None = None) -> FormsResult:
    """One worksheet per drawn branch of the draw, with its tier's checklist (达标 up to its tier)."""
    from djctl.io.lookback_form import FormItem, lookback_filename, write_lookback_form

    if draw_id is None and year is None:
        raise DjctlError("请给出抽签编号（--draw）或年度（--year）")
    with store.read() as uow:
        s = uow.session
        d = find_draw(uow, draw_id, KIND) if draw_id is not None else pick_draw(uow, check_year(year),
                                                                             parse_series_name(name, year))
        if not d.active:
            raise DjctlError(f"抽签 #{d.id}（{d.label}）已被重抽取代，不能再据此下发核查表",
                             hint=f"查看本年度的抽签：djctl lookback list --year {d.period}")
        y = int(d.period)
        scheme = load_scheme(s, y)
        categories = tuple(scheme.rectify.categories)
        branches = {b.code: b for b in s.exec(select(Branch).where(Branch.code.in_(d.selected)))}
        units = {u.code: u.name for u in s.exec(select(Unit))}
        jobs = []
        for code in d.selected:
            tier = d.group(code)
            items = scheme.checklist(tier)
            if not items:
                raise ActionNeeded(f"{y} 年度考核方案没有{tier}支部的检查清单，无法生成回头看核查表",
                                   hint="在方案文件的 [[checklists.\"达标\"]] 等段中列出检查项目")
            b = branches.get(code)
            from djctl.services.debrief import checklist_prefill

            jobs.append((code, b.name if b else d.names.get(code, ""), b.unit_code if b else "",
                         units.get(b.unit_code, "") if b else "", tier, items, checklist_prefill(s, y, scheme, code)))
    tag = d.series[len(f"{KIND}:"):]
    result = FormsResult(d)
    with staged_dir(out_dir) as stage:  # every worksheet or none
        for code, bname, ucode, uname, tier, items, prefill in jobs:
            fname = lookback_filename(tag, code, bname)
            path = inside(out_dir, fname)
            result.item_codes[path] = [i.code for i in items]
            result.files.append(path)
            write_lookback_form(
                inside(stage.dir, fname), branch_code=code, branch_name=bname, unit_code=ucode, unit_name=uname,
                tier=tier, year=y, draw_id=d.id, draw_label=d.label, unannounced=d.unannounced,
                items_hash=items_hash(items), categories=categories,
                items=[FormItem(i.code, i.item, i.standard, i.dimension, *prefill.get(i.code, (None, ""))) for i in items])
    return result


# --------------------------------------------------------------------------- worksheets in


class _DryRun(Exception):
    pass


def import_forms(store: Store, paths: list[Path], *, replace: bool = False, dry_run: bool = False,
                 on_date: date | None = None, progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Import returned look-back worksheets; every file all or nothing in its own transaction.

    `on_date` (核查日期) dates the rebounds and the problems found and starts the rectification deadlines;
    by default the look-back's own date (its draw's as-of date), never the import's wall clock.
    """
    results = []
    for path in expand_paths(paths):
        result = import_one(store, path, replace=replace, dry_run=dry_run, on_date=on_date)
        results.append(result)
        if progress:
            progress(result)
    return results


def import_one(store: Store, path: Path, *, replace: bool = False, dry_run: bool = False,
               on_date: date | None = None) -> FileResult:
    from djctl.io.lookback_form import read_lookback_form

    result = FileResult(str(path))
    try:
        if not path.is_file():
            raise InputError("文件不存在", path=str(path))
        try:
            result.sha256 = file_sha256(path)
        except OSError as exc:
            raise InputError(f"文件无法读取（{exc.strerror or exc.__class__.__name__}）", path=str(path)) from None
        with store.read() as uow:
            seen = find_import(uow.session, KIND, result.sha256)
            if seen is not None:
                result.status, result.rows = UNCHANGED, seen.rows
                result.subject, result.period = seen.subject, seen.period
                if not seen.active:
                    result.message = "这份核查表以前导入过，但已被另一份核查表替换，未改动"
                return result
        form = read_lookback_form(path)
        result.rows = len(form.rows)
        result.subject, result.period = form.meta["branch"], form.meta["year"]
        with store.write() as uow:
            if find_import(uow.session, KIND, result.sha256) is not None:
                result.status = UNCHANGED
                return result
            _store_form(uow, path, result, form, replace, on_date)
            if dry_run:
                raise _DryRun
    except _DryRun:
        result.status = VALID
    except DjctlError as exc:
        result.refuse(exc)
    return result


def _meta_int(path: Path, meta: dict[str, str], key: str, what: str) -> int:
    try:
        value = int(meta[key])
        if not 1 <= value < 2**63:
            raise ValueError(value)
        return value
    except (KeyError, ValueError):
        raise InputError(f"表格校验信息中的{what}「{meta.get(key, '')}」无效（隐藏的校验信息被改动）", path=str(path),
                         hint="请使用 djctl lookback forms 生成的原表填写") from None


def _header_problem(path: Path, form, label: str, message: str, hint: str | None = None) -> InputError:
    from djctl.io.lookback_form import SHEET

    row = form.header.get(label, (None, ""))[0]
    return InputError(message, path=str(path), problems=[Problem(message, SHEET, row, label)], hint=hint)


def _rectification_text(year: int, d: StoredDraw, tier: str, item, problem: str) -> str:
    std = f"（标准：{item.standard}）" if item.standard else ""
    return (f"{year}年度“回头看”中，{tier}支部检查项目“{item.item}”未达到{std}。"
            f"发现问题：{problem}")


def _store_form(uow: UnitOfWork, path: Path, result: FileResult, form, replace: bool, on_date: date | None) -> None:
    from djctl.io.lookback_form import SHEET
    from djctl.domain.problems import choose
    from djctl.services.rectify import add_rectification, digest_ids
    from djctl.services.rectify_stats import insert_tag
    from djctl.services.tiers import change_tier

    s = uow.session
    meta = form.meta
    problems = form.problems
    fname = str(path)
    draw_id = _meta_int(path, meta, "draw_id", "抽签编号")
    row = s.get(Draw, draw_id)
    if row is None or row.kind != KIND:
        raise InputError(f"表格校验信息中的抽签 #{draw_id} 不存在或不是回头看抽签（隐藏的校验信息被改动）", path=fname,
                         hint="请使用 djctl lookback forms 生成的原表填写")
    d = find_draw(uow, draw_id, KIND)
    on_date = on_date or row.as_of or date(int(row.period[:4]), 12, 31)  # the look-back's date by default
    code = meta["branch"]
    header_code = form.header.get("支部编码", (None, None))[1]
    if header_code != code:
        raise _header_problem(path, form, "支部编码",
                              f"表头的支部编码被改为「{header_code or ''}」，与表格校验信息中的「{code}」不符",
                              "每份核查表只能用于下发时的支部")
    if not d.active:
        current = [x for x in find_history(uow, KIND, d.period) if x.active and x.series == d.series]
        now_text = f"，现行抽签为 #{current[0].id}（{current[0].label}）" if current else ""
        raise InputError(f"这份核查表是按抽签 #{d.id}（{d.label}）下发的，该抽签已被重抽取代{now_text}", path=fname,
                         hint=(f"按现行抽签重新生成核查表：djctl lookback forms --draw {current[0].id}" if current else None))
    if code not in d.selected:
        raise InputError(f"支部 {code} 不在抽签 #{d.id}（{d.label}）的抽中名单中，不能导入回头看结果", path=fname,
                         hint=f"查看抽中名单：djctl lookback show {d.id}")
    tier = d.group(code)
    if meta["tier"] != tier:
        raise InputError(f"表格校验信息中的等次「{meta['tier']}」与抽签记录中的「{tier}」不符（隐藏的校验信息被改动）",
                         path=fname, hint=f"请重新生成核查表：djctl lookback forms --draw {d.id}")
    header_tier = form.header.get("等次", (None, ""))[1]
    try:
        header_ok = normalize_tier(header_tier) == tier
    except ValueError:
        header_ok = False
    if not header_ok:
        raise _header_problem(path, form, "等次", f"表头的等次被改为「{header_tier}」，抽签时该支部为{tier}支部"
                              "（按抽签时的等次核查）")
    year = int(d.period)
    scheme = load_scheme(s, year)
    items = scheme.checklist(tier)
    if items_hash(items) != meta["items_hash"]:
        raise InputError(f"核查表下发后，{year} 年度考核方案中{tier}支部的检查清单已经修改，这份表格按旧清单核查",
                         path=fname, hint=f"请重新生成核查表：djctl lookback forms --draw {d.id}")
    order = {i.code: n for n, i in enumerate(items)}
    by_code = {i.code: i for i in items}
    seen: dict[str, int] = {}
    for r in form.rows:
        if r.code not in by_code:
            problems.add(f"项目编码「{r.code}」不在{tier}支部的检查清单中（请勿修改或增加项目）", SHEET, r.row, "项目编码")
            continue
        if r.code in seen:
            problems.add(f"项目「{r.code}」与第 {seen[r.code]} 行重复", SHEET, r.row, "项目编码")
            continue
        seen[r.code] = r.row
    missing = [c for c in by_code if c not in seen]
    if missing:
        problems.add(f"缺少检查项目：{'、'.join(missing)}（请勿删除项目行）", SHEET)
    for r in form.rows:
        if r.category:
            try:
                r.category = choose(r.category, scheme.rectify.categories, "问题类别")
            except ValueError as exc:
                problems.add(str(exc), SHEET, r.row, "问题类别")
    problems.raise_if_any("回头看核查表有错误，整份未导入")

    branch = s.exec(select(Branch).where(Branch.code == code)).first()
    if branch is None:
        raise InputError(f"支部「{code}」不在名册中", path=fname)
    old = list(s.exec(select(LookbackResult).where(LookbackResult.draw_id == d.id, LookbackResult.branch_code == code,
                                                   LookbackResult.active == True)))  # noqa: E712
    if old and not replace:
        old_file = s.get(ImportFile, old[0].import_id)
        raise InputError(f"{code} 在抽签 #{d.id}（{d.label}）中的回头看结果已经导入过"
                         f"（{Path(old_file.path).name if old_file else old[0].import_id}）", path=fname,
                         hint="确需以这份为准请加 --replace（原结果保留在历史中）")
    tier_ref = f"{KIND}#{d.id}"
    earlier_rebound = s.exec(select(TierChange).where(TierChange.branch_code == code, TierChange.basis == BASIS,
                                                      TierChange.source_ref == tier_ref)).first()
    if earlier_rebound is None and branch.tier != tier:
        raise InputError(f"支部 {code} 抽签时为{tier}支部，现为{branch.tier}支部（抽签后等次已变动），"
                         f"按{tier}支部标准核查的结果不能导入", path=fname,
                         hint="请核实等次变动（djctl tier history 支部编码）；如需按现等次核查，请另行组织专项回头看")

    t = now()
    imp = ImportFile(kind=KIND, path=str(path), sha256=result.sha256, subject=code, period=d.period,
                     rows=len(form.rows), actor=actor(), created_at=t)
    s.add(imp)
    s.flush()
    old_imports = sorted({r.import_id for r in old})
    old_failed = {r.item_code for r in old if not r.passed}
    for r in old:
        r.active = False
        s.add(r)
    for iid in old_imports:
        oi = s.get(ImportFile, iid)
        if oi is not None:
            oi.active, oi.replaced_by = False, imp.id
            s.add(oi)
    s.flush()
    ordered = sorted(form.rows, key=lambda r: order[r.code])
    rows = [(r.code, by_code[r.code].item, bool(r.passed), r.problem, r.checker) for r in ordered]
    uow.conn.execute(RESULT.insert(), [{"draw_id": d.id, "branch_code": code, "tier": tier, "item_code": c,
                                        "item": item, "passed": ok, "problem": prob, "checker": who,
                                        "import_id": imp.id, "active": True, "checked_on": on_date}
                                       for c, item, ok, prob, who in rows])

    failed = [r for r in ordered if not r.passed]
    notes: list[str] = []
    rebound: dict[str, Any] | None = None
    digests: dict[str, list[int | None]] = {}  # small-table rows written here, for the audit digests
    if failed:
        target = down_one(tier) if scheme.lookback.rebound == "down_one" else TIERS[0]
        if earlier_rebound is None:
            res = change_tier(uow, code, target, on_date, BASIS,
                              note=f"{d.label} 回头看未达到 {len(failed)} 项：" + "、".join(r.code for r in failed),
                              source_ref=tier_ref, audit=False)
            rebound = {"from": tier, "to": target, "date": on_date.isoformat(), "tier_change_id": res.change_id}
            digests["branch"], digests["tier_change"] = [res.branch_id], [res.change_id]
        else:
            notes.append(f"该支部已因本次回头看于 {earlier_rebound.on_date.isoformat()} 由{earlier_rebound.from_tier}支部"
                         f"降为{earlier_rebound.to_tier}支部，不再重复降级")
    elif earlier_rebound is not None:
        notes.append(f"上次导入的结果已使该支部降为{earlier_rebound.to_tier}支部；本次各项均达到，等次不自动恢复，"
                     f"如需恢复请用 djctl tier set {code} {tier} --basis 回头看")

    created: list[int] = []
    kept: list[int] = []
    tags: list[int] = []
    due = on_date + timedelta(days=scheme.lookback.rectify_days)
    for r in failed:
        ref = f"{tier_ref}:{r.code}"
        existing = s.exec(select(Rectification).where(
            Rectification.org_code == code, Rectification.source == "lookback", Rectification.source_ref == ref,
            Rectification.status != "closed")).first()
        if existing is not None:
            kept.append(int(existing.id))
            continue
        text = _rectification_text(year, d, tier, by_code[r.code], r.problem)
        created.append(add_rectification(uow, code, "branch", text, "lookback", ref, due, found_on=on_date,
                                         audit=False))
        if r.category:  # the worksheet's 问题类别 classifies the new item on the check date
            tags.append(insert_tag(uow, created[-1], r.category, "", on_date, note="回头看核查表"))
    stale = []
    if old_failed:
        now_failed = {r.code for r in failed}
        for item in s.exec(select(Rectification).where(
                Rectification.org_code == code, Rectification.source == "lookback",
                Rectification.source_ref.like(f"{tier_ref}:%"), Rectification.status != "closed")):
            if item.source_ref.split(":", 1)[1] not in now_failed:
                stale.append(int(item.id))
    if kept:
        notes.append("已有未销号的整改事项 " + "、".join(f"#{i}" for i in kept) + "，未重复生成")
    if stale:
        notes.append("这些整改事项针对的项目本次已达到，请核实后销号：" + "、".join(f"#{i}" for i in stale))
    uow.audit("lookback.import", {
        "file": path.name, "sha256": result.sha256, "draw_id": d.id, "label": d.label, "branch": code, "tier": tier,
        "import_id": imp.id, "replaced_imports": old_imports, "rows": len(rows), "rows_sha256": rows_digest(rows),
        "failed": [r.code for r in failed], "rebound": rebound, "date": on_date.isoformat(),
        "rectifications": created, "rectifications_kept": kept, "rectifications_stale": stale,
        "rectification_due": due.isoformat() if failed else None, "period": imp.period,
        "row_digests": row_digests(uow, **digest_ids(s, created), **digests, rectification_tag=tags)})
    result.status = IMPORTED
    result.extra.update({"branch": code, "tier": tier, "passed": not failed, "failed_items": [r.code for r in failed],
                         "rebound": rebound, "rectifications": created})
    if created:
        notes.insert(0, f"未达到 {len(failed)} 项，认定反弹：{tier}支部 → {rebound['to'] if rebound else '（已降级）'}支部；"
                        "已生成整改事项 " + "、".join(f"#{i}" for i in created) + f"（期限 {due.isoformat()}）")
    result.message = "；".join(notes)


# --------------------------------------------------------------------------- the report
