"""The re-check of closed rectification items (整改回头看): a verifiable draw, a worksheet per drawn item, the
results read back.

Decisions (issue 18, item 4):

- **The draw** is the one draw of DESIGN §3 (`domain.sampling.run_draw`, stored by `services.draws`), kind
  ``recheck``, labelled ``recheck:2024`` (period = the year); a redraw needs ``--redraw --reason`` and is
  ``recheck:2024#2``, the earlier draw kept inactive. The request (rate or count, seed, redraw) is checked by
  `services.draw_request`, as for the spot checks and look-backs.
- **Business date** of the draw (``--date``, default 31 December of the year): the population is taken as
  it stood at the end of that day. It may lie after the year (a re-check made in January of the year's
  closures) but not before 1 January of the year.
- **Population**: items closed on that day (`domain.rectify.state_at`) whose close in force took effect in
  the year. Members are coded ``R`` + the item id (``R12``) so that a code never reads as a unit's.
- **Strata**: the item's 问题类别 (as classified by the draw's date, 未分类 otherwise) when the scheme's
  ``[rectify] recheck_by_category`` says so; otherwise none. No member is mandatory or excluded.
- **k**: ``--rate`` (default ``[rectify] recheck_rate``) or ``--count``, at least one item.
- **Results** come back on the worksheets (`io.recheck_form`), one file per item, through the import
  pipeline (`services.importing.import_workbook`): only items selected in the year's ACTIVE re-check draw;
  the item must still stand as the worksheet showed it (closed on the same day); one result per item and
  draw. 是 → a ``recheck`` change dated the 复查日期 (the item stays closed, its closing day unchanged);
  否 → the item is reopened on the 复查日期 with a new deadline ``[rectify] recheck_days`` later, the note
  naming the re-check: a reopened item is a repeated problem (重复问题) of the negative list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.rectify import state_at
from djctl.domain.sampling import draw_label, run_draw
from djctl.errors import ActionNeeded, DjctlError, Problem
from djctl.services.draw_request import draw_request
from djctl.services.draw_text import publication_lines
from djctl.services.draws import StoredDraw, draw_series, find_draw, find_history, store_draw
from djctl.services.importing import FileResult, WorkbookImport, expand_paths, import_workbook
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import Branch, Draw, Rectification, RectificationEvent, Unit

KIND = "recheck"
IMPORT_KIND = "recheck"
AUDIT_ACTION = "rectify.recheck"
UNCLASSIFIED = "未分类"


# --------------------------------------------------------------------------- members


def item_code(item_id: int) -> str:
    return f"R{int(item_id)}"


def code_item(code: str) -> int | None:
    return int(code[1:]) if code[:1] == "R" and code[1:].isdigit() else None


def _org_names(session) -> dict[tuple[str, str], str]:
    out = {("unit", u.code): u.name for u in session.exec(select(Unit))}
    out.update({("branch", b.code): b.name for b in session.exec(select(Branch))})
    return out


def item_names(session) -> dict[str, str]:
    """R12 -> the name of the item's organization (how a draw's text names its members)."""
    names = _org_names(session)
    return {item_code(r.id): names.get((r.org_kind, r.org_code), r.org_code)
            for r in session.exec(select(Rectification).order_by(Rectification.id))}


def check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DjctlError(f"年度「{year}」无效（应为 2000 到 2100 之间的年份）")
    return year


def draw_day(year: int, on_date: date | None) -> date:
    """The draw's business date: `on_date`, else 31 December; never before 1 January of the year."""
    day = on_date or date(year, 12, 31)
    if day < date(year, 1, 1):
        raise DjctlError(f"抽签日期 {day.isoformat()} 早于 {year} 年，{year} 年度的销号事项尚无从抽取",
                         hint="--date 须不早于该年 1 月 1 日（可以晚于该年，如次年年初复查上年销号的事项）")
    return day


def population(session, year: int, as_of: date) -> dict[str, dict[str, Any]]:
    """R-code -> the item as it stood at the end of `as_of`, for the items closed then whose close took effect in
    `year`: id, row, state, category, closing feedback."""
    from djctl.services.rectify import changes_of
    from djctl.services.rectify_stats import tags_at

    items = list(session.exec(select(Rectification).where(Rectification.found_on <= as_of).order_by(Rectification.id)))
    changes = changes_of(session, [int(r.id) for r in items])
    tags = tags_at(session, as_of)
    out: dict[str, dict[str, Any]] = {}
    for r in items:
        cs = changes.get(int(r.id), [])
        st = state_at(cs, as_of)
        if st.status != "closed" or st.closed_on is None or st.closed_on.year != year:
            continue
        out[item_code(r.id)] = {"item": r, "state": st, "category": tags.get(int(r.id), (UNCLASSIFIED, ""))[0]}
    return out


def _closing_feedback(session, item_id: int, closed_on: date) -> str:
    ev = session.exec(select(RectificationEvent).where(RectificationEvent.item_id == item_id,
                                                       RectificationEvent.action == "close",
                                                       RectificationEvent.on_date == closed_on)
                      .order_by(RectificationEvent.id.desc())).first()
    return (ev.note if ev is not None else "") or ""


# --------------------------------------------------------------------------- the draw


@dataclass
class RecheckDraw:
    draw: StoredDraw
    as_of: date
    seed_generated: bool = False
    notes: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc = self.draw.to_json()
        doc["as_of"] = self.as_of.isoformat()
        doc["results"] = self.results
        return doc


def draw_recheck(store: Store, year: int, *, rate: Any = None, count: int | None = None, seed: str | None = None,
                 redraw: bool = False, reason: str = "", on_date: date | None = None) -> RecheckDraw:
    """Draw the year's re-check items and store the draw (one transaction, one audit event)."""
    from djctl.services.setup import load_scheme

    year = check_year(year)
    req = draw_request(rate=rate, count=count, seed=seed, redraw=redraw, reason=reason)
    as_of = draw_day(year, on_date)
    period = str(year)
    with store.write() as uow:
        s = uow.session
        rules = load_scheme(s, year).rectify
        history = draw_series(uow, KIND, period)
        if history and not req.redraw:
            last = history[-1]
            raise DjctlError(f"{year} 年度整改回头看已经抽签（#{last.id}，{last.label}），不能再次抽签",
                             hint=f"确需重抽请加 --redraw --reason 原因（原抽签保留可查）；查看：djctl rectify recheck show {last.id}")
        if req.redraw and not history:
            raise DjctlError(f"{year} 年度整改回头看还没有抽签，无从重抽", hint="去掉 --redraw 与 --reason 即为首次抽签")
        seq = (history[-1].seq + 1) if history else 1
        pop = population(s, year, as_of)
        if not pop:
            raise ActionNeeded(f"截至 {as_of.isoformat()} 没有在 {year} 年内销号的整改事项，无法进行整改回头看抽签",
                               hint="用 djctl rectify list --status closed --as-of 日期 查看已销号的事项")
        strata = {c: m["category"] for c, m in pop.items()} if rules.recheck_by_category else None
        try:
            record = run_draw(seed=req.seed, label=draw_label(KIND, period, seq), population=sorted(pop),
                              rate=None if req.count is not None else (rules.recheck_rate if req.rate is None else req.rate),
                              count=req.count, min_count=1, strata=strata)
        except ValueError as exc:
            raise DjctlError(f"无法抽签：{exc}") from None
        notes = []
        superseded = [r.id for r in history if r.active]
        if superseded and _results_of(uow, superseded):
            notes.append("被取代的抽签已有复查结果导入（含因整改不到位重新打开的事项），这些记录保留，请确认是否仍然有效")
        stored = store_draw(uow, record, kind=KIND, period=period, seq=seq, reason=req.reason,
                            seed_generated=req.seed_generated, audit_extra={"as_of": as_of.isoformat()},
                            names=item_names(s))
    return RecheckDraw(stored, as_of, req.seed_generated, notes)


def _draw_as_of(d: StoredDraw) -> date:
    return d.as_of or date(int(d.period), 12, 31)


def pick_draw(uow: UnitOfWork, year: int) -> StoredDraw:
    """The year's active re-check draw; ActionNeeded when there is none."""
    active = [d for d in find_history(uow, KIND, str(year)) if d.active]
    if not active:
        raise ActionNeeded(f"{year} 年度还没有整改回头看抽签",
                           hint=f"抽签：djctl rectify recheck --year {year} --seed 事先公布的公开数字")
    return active[-1]


def show_recheck(store: Store, draw_id: int | None = None, year: int | None = None) -> RecheckDraw:
    """A re-check draw by id, the year's active one, or (neither given) the latest active one; with results."""
    with store.read() as uow:
        if draw_id is not None:
            d = find_draw(uow, draw_id, KIND)
        elif year is not None:
            d = pick_draw(uow, check_year(year))
        else:
            row = uow.session.exec(select(Draw).where(Draw.kind == KIND, Draw.active == True)  # noqa: E712
                                   .order_by(Draw.period.desc(), Draw.seq.desc())).first()
            if row is None:
                raise DjctlError("还没有任何整改回头看抽签",
                                 hint="抽签：djctl rectify recheck --year 2024 --seed 事先公布的公开数字")
            d = find_draw(uow, row.id, KIND)
        results = results_of_draw(uow, d)
    return RecheckDraw(d, _draw_as_of(d), d.seed_generated, [], results)


def draw_lines(rd: RecheckDraw) -> list[str]:
    """The 公示文本 plus what the population was."""
    lines = publication_lines(rd.draw)
    at = next((i for i, line in enumerate(lines) if line.startswith("总体：")), len(lines) - 1)
    lines.insert(at + 1, f"总体口径：截至 {rd.as_of.isoformat()} 处于已销号状态、且销号日期在 {rd.draw.period} 年内的"
                         "整改事项（编码 R + 整改事项编号）")
    return lines


# --------------------------------------------------------------------------- results


def _recheck_events(uow: UnitOfWork, draw_ids: list[int]) -> list[tuple[RectificationEvent, dict[str, Any]]]:
    out = []
    for e in uow.session.exec(select(RectificationEvent).where(RectificationEvent.action.in_(("recheck", "reopen")),
                                                               RectificationEvent.detail != "")
                              .order_by(RectificationEvent.id)):
        try:
            detail = json.loads(e.detail)
        except ValueError:
            continue
        if isinstance(detail, dict) and detail.get("recheck_draw") in draw_ids:
            out.append((e, detail))
    return out


def _results_of(uow: UnitOfWork, draw_ids: list[int]) -> list[int]:
    return [int(e.item_id) for e, _ in _recheck_events(uow, draw_ids)]


def results_of_draw(uow: UnitOfWork, d: StoredDraw) -> list[dict[str, Any]]:
    """Per selected item (draw order): the re-check result imported for this draw, or 未复查."""
    done = {int(e.item_id): (e, detail) for e, detail in _recheck_events(uow, [d.id])}
    out = []
    for code in d.selected:
        iid = code_item(code)
        got = done.get(iid) if iid is not None else None
        if got is None:
            out.append({"code": code, "item": iid, "result": "pending", "result_cn": "未复查"})
            continue
        e, detail = got
        out.append({"code": code, "item": iid, "result": "fixed" if e.action == "recheck" else "reopened",
                    "result_cn": "整改到位" if e.action == "recheck" else "整改不到位，已重新打开",
                    "date": e.on_date.isoformat(), "checker": detail.get("checker", ""),
                    "due": e.due.isoformat() if e.action == "reopen" else None})
    return out


# --------------------------------------------------------------------------- worksheets out


def form_items(uow: UnitOfWork, d: StoredDraw) -> list[Any]:
    """The worksheet contents of each selected item, as it stood on the draw's date."""
    from djctl.io.recheck_form import FormItem
    from djctl.services.rectify import SOURCE_CN, changes_of
    from djctl.services.rectify_stats import tags_at

    s = uow.session
    as_of = _draw_as_of(d)
    names = _org_names(s)
    branch_unit = {b.code: b.unit_code for b in s.exec(select(Branch))}
    tags = tags_at(s, as_of)
    out = []
    for code in d.selected:
        iid = code_item(code)
        r = s.get(Rectification, iid) if iid is not None else None
        if r is None:
            raise DjctlError(f"抽签 #{d.id} 中的 {code} 不是现存的整改事项", hint=f"运行 djctl rectify recheck verify {d.id}")
        st = state_at(changes_of(s, [int(r.id)]).get(int(r.id), []), as_of)
        closed_on = st.closed_on or as_of
        unit = r.org_code if r.org_kind == "unit" else branch_unit.get(r.org_code, "")
        out.append(FormItem(int(r.id), f"{r.org_code} {names.get((r.org_kind, r.org_code), '')}".strip(),
                            f"{unit} {names.get(('unit', unit), '')}".strip() if unit else "—",
                            tags.get(int(r.id), (UNCLASSIFIED, ""))[0], SOURCE_CN.get(r.source, r.source),
                            r.problem, _closing_feedback(s, int(r.id), closed_on), closed_on))
    return out


def write_forms(store: Store, out_dir: Path, *, draw_id: int | None = None, year: int | None = None) -> list[Path]:
    """One worksheet per selected item of a draw (by id, or the year's active draw), all or none."""
    from djctl.io.outfile import inside, staged_dir
    from djctl.io.recheck_form import recheck_filename, write_recheck_form

    with store.read() as uow:
        d = find_draw(uow, draw_id, KIND) if draw_id is not None else pick_draw(uow, check_year(year or 0))
        items = form_items(uow, d)
        rows = {int(r.id): r for r in uow.session.exec(select(Rectification).where(
            Rectification.id.in_([i.item_id for i in items])))}
        names = _org_names(uow.session)
    paths: list[Path] = []
    with staged_dir(out_dir) as stage:
        for it in items:
            r = rows[it.item_id]
            name = recheck_filename(int(d.period), it.item_id, r.org_code, names.get((r.org_kind, r.org_code), ""))
            write_recheck_form(inside(stage.dir, name), year=int(d.period), draw_id=d.id, draw_label=d.label,
                               as_of=_draw_as_of(d), item=it)
            paths.append(inside(out_dir, name))
    return paths


def write_outputs(store: Store, rd: RecheckDraw, out_dir: Path) -> list[Path]:
    """The record (JSON, what `verify --record` reads), the 公示文本 and the worksheets, into `out_dir`."""
    from djctl.io.outfile import write_text
    from djctl.services.draw_verify import write_record_file

    d = rd.draw
    tag = d.period + (f"-{d.seq}" if d.seq > 1 else "")
    forms = write_forms(store, out_dir, draw_id=d.id)
    record = write_record_file(d, Path(out_dir) / f"整改回头看抽签记录-{tag}.json")
    text = Path(out_dir) / f"整改回头看抽签公示-{tag}.txt"
    write_text(text, "\n".join(draw_lines(rd)) + "\n")
    return [record, text, *forms]


# --------------------------------------------------------------------------- results in


def _check_rows(uow: UnitOfWork, sheet: str, rows: list) -> list[Problem]:
    """What the store refuses in a returned worksheet: another draw than the year's active one, an item not
    drawn, an item changed since the sheet was made, a result already recorded, a date out of order."""
    from djctl.services.rectify import changes_of

    problems: list[Problem] = []
    s = uow.session
    for w in rows:
        row = s.get(Draw, w.draw_id)
        if row is None or row.kind != KIND:
            problems.append(Problem(f"复查表所属的整改回头看抽签 #{w.draw_id} 不存在", sheet, w.item_row, "整改事项编号"))
            continue
        d = find_draw(uow, w.draw_id, KIND)
        if not d.active:
            active = [x for x in find_history(uow, KIND, d.period) if x.active]
            now = f"现行抽签为 #{active[-1].id}（{active[-1].label}）" if active else "该年度没有现行抽签"
            problems.append(Problem(f"复查表所属的抽签 #{d.id}（{d.label}）已被重抽取代，{now}：只能导入现行抽签抽中事项的复查表",
                                    sheet, w.item_row, "整改事项编号"))
            continue
        if item_code(w.item_id) not in d.selected:
            problems.append(Problem(f"整改事项 R{w.item_id} 未在 {d.label}（#{d.id}）中抽中，不能导入其复查结果",
                                    sheet, w.item_row, "整改事项编号"))
            continue
        item = s.get(Rectification, w.item_id)
        if item is None:
            problems.append(Problem(f"整改事项 R{w.item_id} 不存在", sheet, w.item_row, "整改事项编号"))
            continue
        cs = changes_of(s, [w.item_id]).get(w.item_id, [])
        st = state_at(cs, date.max)
        if st.status != "closed" or st.closed_on != w.closed_on:
            now = f"已于 {st.closed_on.isoformat()} 销号" if st.status == "closed" and st.closed_on else "现未销号"
            problems.append(Problem(f"整改事项 R{w.item_id} 在复查表生成后已有变动（表中销号日期 {w.closed_on.isoformat()}，{now}），"
                                    "请核实后用 djctl rectify recheck forms 重新生成复查表", sheet, w.item_row, "整改事项编号"))
            continue
        done = [e for e, _ in _recheck_events(uow, [d.id]) if int(e.item_id) == w.item_id]
        if done:
            problems.append(Problem(f"整改事项 R{w.item_id} 已于 {done[0].on_date.isoformat()} 导入过本次抽签的复查结果"
                                    "（另一份文件），不再重复导入", sheet, w.row, "复查日期"))
            continue
        floor = max([_draw_as_of(d), w.closed_on, *(c.on_date for c in cs)])
        if w.on_date < floor:
            problems.append(Problem(f"复查日期 {w.on_date.isoformat()} 早于{'抽签日期' if floor == _draw_as_of(d) else '该事项最近一次变动的日期'}"
                                    f" {floor.isoformat()}", sheet, w.row, "复查日期"))
    return problems


def _write_rows(uow: UnitOfWork, imp: Any, rows: list, result: FileResult) -> None:
    from djctl.services.rectify import _audit_change, _snapshot, _sync, record_change
    from djctl.services.setup import load_scheme

    s = uow.session
    for w in rows:
        d = find_draw(uow, w.draw_id, KIND)
        item = s.get(Rectification, w.item_id)
        old = _snapshot(item)
        detail = json.dumps({"recheck_draw": d.id, "label": d.label, "import_id": imp.id, "checker": w.checker},
                            ensure_ascii=False, sort_keys=True)
        who = f"复查人 {w.checker}" if w.checker else ""
        if w.fixed:
            note = f"整改回头看复查（{d.label}，{who}）确认整改到位" + (f"：{w.finding}" if w.finding else "")
            record_change(uow, item, "recheck", "closed", w.on_date, item.due, note=note, detail=detail)
            due = None
        else:
            days = load_scheme(s, int(d.period)).rectify.recheck_days
            due = w.on_date + timedelta(days=days)
            note = f"整改回头看复查（{d.label}，{who}）发现整改不到位，重新打开：{w.finding}"
            record_change(uow, item, "reopen", "open", w.on_date, due, note=note, detail=detail)
        _sync(uow, item)
        result.extra.update({"item": w.item_id, "draw_id": d.id, "fixed": w.fixed,
                             "notes": [f"R{w.item_id}：" + ("整改到位，保持销号" if w.fixed else
                                                           f"整改不到位，已于 {w.on_date.isoformat()} 重新打开，"
                                                           f"限 {due.isoformat()} 前重新整改（计为重复问题）")]})
        _audit_change(uow, AUDIT_ACTION, item, old, date=w.on_date.isoformat(), fixed=w.fixed, draw_id=d.id,
                      label=d.label, import_id=imp.id, file=Path(imp.path).name, sha256=imp.sha256, rows=len(rows),
                      **({"due": due.isoformat(), "reason": note} if due else {}))


def _spec() -> WorkbookImport:
    from djctl.io.recheck_form import read_recheck_form

    return WorkbookImport(IMPORT_KIND, read_recheck_form, _check_rows, _write_rows,
                          "整改回头看复查表有错误，未导入任何数据", period=lambda rows: str(rows[0].year) if rows else "")


def import_rechecks(store: Store, paths: list[Path], *, dry_run: bool = False) -> list[FileResult]:
    """Import returned worksheets (files or folders), each file all or nothing; the same file again changes nothing."""
    spec = _spec()
    return [import_workbook(store, p, spec, dry_run=dry_run) for p in expand_paths(list(paths))]


def recheck_item_events(store: Store, item_id: int) -> list[dict[str, Any]]:
    """An item's re-check events (for tests and show): action, date, due, note."""
    with store.read() as uow:
        evs = uow.session.exec(select(RectificationEvent).where(RectificationEvent.item_id == item_id)
                               .order_by(RectificationEvent.id)).all()
        return [{"action": e.action, "date": e.on_date.isoformat(), "due": e.due.isoformat(), "note": e.note}
                for e in evs if e.detail and "recheck_draw" in e.detail]
