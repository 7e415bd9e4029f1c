"""The look-back (回头看): draw branches at 达标 or above, worksheets out, results in, rebounds, the report.

Decisions (DESIGN §3 "Look-back", "Verifiable draw"):

- **Date of the draw** (``as_of``): the tiers that decide the population are taken as of this day:
  ``--date`` if given (it must lie in the year), else today for the current year and 31 December for a
  past year; a future year needs ``--date``. The day is kept in the draw's audit event and shown.
- **Population**: active branches (``branch.active``, and their unit in the register on that day) whose
  tier as of that day (`services.tiers.tiers_at`, from the tier history) is 达标, 过硬 or 示范.
- **Strata**: that tier, always (stratified draw, quotas by largest remainder).
- **Mandatory**: branches on the previous year's negative list (active entries of kind ``branch``) when
  ``lookback.include_negative_list``; a listed branch outside the population is named in a note. A UNIT on
  the negative list does not pull its branches in (units are re-checked by the monthly spot check).
- **Series**: the year's look-back is labelled ``lookback:2024``; ``--label 专项`` starts another series in
  the same year, ``lookback:2024-专项`` (period stays the year, ``seq`` numbers all draws of the year). A
  second draw of a series needs ``--redraw --reason`` and is labelled ``…#2``; only the earlier draw of the
  SAME series is superseded. ``--unannounced`` (暗访) is stored on the draw row and shown.
- **Rebound**: a branch failing any item of its tier's checklist moves down (``lookback.rebound``:
  ``down_one`` or ``to_lowest``) with basis 回头看 dated at the import (``--date``, today by default), and
  every failed item becomes a rectification item due ``lookback.rectify_days`` later — all in the file's
  transaction with ONE audit event. The check is against the tier the branch had at the draw; if its tier
  changed since (other than by this look-back) the worksheet is refused.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.points import fmt, round2
from djctl.domain.sampling import SEP, run_draw
from djctl.domain.tiers import TIERS, down_one, normalize_tier, tier_level
from djctl.errors import ActionNeeded, DjctlError, InputError, Problem
from djctl.services.draws import (StoredDraw, audit_payload, find_draw, find_history, next_seq, publication_lines,
                                  save_draw, series_label)
from djctl.io.outfile import inside, staged_dir, write_text
from djctl.services.importing import IMPORTED, UNCHANGED, VALID, FileResult, expand_paths, file_sha256, find_import
from djctl.services.setup import load_scheme
from djctl.store.audit import actor, rows_digest
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Draw, ImportFile, LookbackResult, Rectification, TierChange, Unit

KIND = "lookback"
BASIS = "回头看"
RESULT = LookbackResult.__table__
NAME_RE = re.compile(r"[\w\-]{1,20}")
FORMATS = ["docx", "md", "html", "xlsx"]
REPORT_KIND = "lookback"


# --------------------------------------------------------------------------- small helpers


def check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DjctlError(f"年度「{year}」无效（应为 2000 到 2100 之间的年份）")
    return year


def parse_series_name(text: str | None, year: int) -> str | None:
    """The name of an ad-hoc look-back series: `专项` or `lookback:2024-专项` → `专项`; None for the year's own."""
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip()
    prefix = f"{KIND}:{year}"
    if t in ("", prefix):
        return None
    if t.startswith(prefix + "-"):
        t = t[len(prefix) + 1:]
    elif t.startswith(f"{KIND}:"):
        raise DjctlError(f"标签「{text}」应为 {prefix}-名称（或只写名称，如 专项），年度须与 --year 一致")
    if not NAME_RE.fullmatch(t):
        raise DjctlError(f"标签名称「{t}」无效：只能用汉字、字母、数字、下划线和连字符，最多 20 个字（如 专项、暗访）")
    return t


def default_as_of(year: int, today: date) -> date:
    """The day tiers are taken as of when none is given: today for the current year, 31 December for a past one."""
    if year < today.year:
        return date(year, 12, 31)
    if year == today.year:
        return today
    raise DjctlError(f"{year} 年度尚未开始，无法按今天的等次确定回头看总体", hint="用 --date 指定等次截至日期（须在该年度内）")


def _pct(num: int, den: int) -> Decimal | None:
    return None if den == 0 else round2(Decimal(num) * 100 / Decimal(den))


def _pct_text(v: Decimal | None) -> str:
    return "—" if v is None else f"{fmt(v)}%"


def items_hash(items) -> str:
    """The hash of a checklist as a worksheet was made from it (code, item, standard, dimension in order)."""
    return rows_digest([[i.code, i.item, i.standard, i.dimension] for i in items])


def _unit_in_register(u: Unit | None, day: date) -> bool:
    if u is None:
        return True
    return (u.active_from is None or u.active_from <= day) and (u.active_to is None or u.active_to >= day)


def eligible_branches(session, as_of: date) -> dict[str, str]:
    """branch code -> tier as of `as_of`, for active branches (unit in the register) at 达标 or above."""
    from djctl.services.tiers import tiers_at

    units = {u.code: u for u in session.exec(select(Unit))}
    changes: dict[str, list[TierChange]] = {}
    for c in session.exec(select(TierChange).order_by(TierChange.on_date, TierChange.id)):
        changes.setdefault(c.branch_code, []).append(c)
    out: dict[str, str] = {}
    for b in session.exec(select(Branch).where(Branch.active == True).order_by(Branch.code)):  # noqa: E712
        if not _unit_in_register(units.get(b.unit_code), as_of):
            continue
        t = tiers_at(b, changes.get(b.code, []), as_of)
        if t is not None and tier_level(t) >= 1:
            out[b.code] = normalize_tier(t)
    return out


# --------------------------------------------------------------------------- the draw


@dataclass
class LookbackDraw:
    draw: StoredDraw
    as_of: str | None
    seed_generated: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc = self.draw.to_json()
        doc["as_of"] = self.as_of
        doc["series"] = self.draw.series
        return doc


def _as_of(uow: UnitOfWork, d: StoredDraw) -> str | None:
    payload = audit_payload(uow, KIND, d.id) or {}
    value = payload.get("as_of")
    return str(value) if value else None


def draw_lookback(store: Store, year: int, *, rate: Decimal | str | None = None, count: int | None = None,
                  seed: str | None = None, name: str | None = None, unannounced: bool = False, redraw: bool = False,
                  reason: str = "", on_date: date | None = None, today: date | None = None) -> LookbackDraw:
    """Draw the year's look-back branches and store the draw (one transaction, one audit event)."""
    from djctl.services.negative import negative_codes
    from djctl.services.spotcheck_draw import parse_rate

    year = check_year(year)
    name = parse_series_name(name, year)
    reason = (reason or "").strip()
    if redraw and not reason:
        raise DjctlError("重抽必须说明原因", hint="加 --reason 原因")
    if reason and not redraw:
        raise DjctlError("--reason 只用于重抽", hint="重抽请同时加 --redraw")
    if rate is not None and count is not None:
        raise DjctlError("抽取比例与抽取数量只能给出一个")
    if rate is not None:
        rate = parse_rate(rate)
    if count is not None and (isinstance(count, bool) or int(count) != count or count < 1):
        raise DjctlError(f"抽取数量「{count}」应为正整数")
    as_of = on_date or default_as_of(year, today or _clock.today())
    if as_of.year != year:
        raise DjctlError(f"等次截至日期 {as_of.isoformat()} 不在 {year} 年度内")
    generated = seed is None
    seed = secrets.token_hex(16) if seed is None else seed
    if not seed.strip() or SEP in seed:
        raise DjctlError("种子不能为空，也不能含有分隔符 \\x1f")
    period = str(year)
    with store.write() as uow:
        s = uow.session
        scheme = load_scheme(s, year)
        history = find_history(uow, KIND, period)
        base = series_label(KIND, period, name)
        series = [d for d in history if d.series == base]
        if series and not redraw:
            last = series[-1]
            raise DjctlError(f"{base} 已经抽签（#{last.id}，{last.label}），不能再次抽签",
                             hint="确需重抽请加 --redraw --reason 原因（原抽签保留可查）；另行组织专项回头看请加 "
                                  f"--label 名称（如 --label 专项）；查看：djctl lookback show {last.id}")
        if redraw and not series:
            raise DjctlError(f"{base} 还没有抽签，无从重抽", hint="去掉 --redraw 与 --reason 即为首次抽签")
        label = series_label(KIND, period, name, len(series) + 1)
        pop = eligible_branches(s, as_of)
        if not pop:
            raise ActionNeeded(f"截至 {as_of.isoformat()} 没有达标及以上等次的在册党支部，无法进行回头看抽签",
                               hint="先导入名册（djctl org import）或登记支部等次（djctl tier set）")
        lb = scheme.lookback
        mandatory: dict[str, str] = {}
        notes: list[str] = []
        if lb.include_negative_list:
            for code in sorted(negative_codes(s, year - 1, "branch")):
                if code in pop:
                    mandatory[code] = f"{year - 1} 年度负面清单"
                else:
                    notes.append(f"{code} 在 {year - 1} 年度负面清单上，但截至 {as_of.isoformat()} 不是达标及以上等次的"
                                 "在册支部，未纳入回头看抽签")
        try:
            record = run_draw(seed=seed, label=label, population=sorted(pop),
                              rate=None if count is not None else (lb.rate if rate is None else rate), count=count,
                              min_count=lb.min_count, mandatory=mandatory, strata=pop)
        except ValueError as exc:
            raise DjctlError(f"无法抽签：{exc}") from None
        from djctl.services.inspectors import assign as assign_inspectors

        notes += assign_inspectors(uow, record, scheme, kind=KIND, period=period)
        superseded = [d.id for d in series if d.active]
        if superseded:
            done = s.exec(select(LookbackResult.branch_code).where(LookbackResult.draw_id.in_(superseded),
                                                                   LookbackResult.active == True)).all()  # noqa: E712
            if done:
                notes.append(f"被取代的抽签已有 {len(set(done))} 个支部导入了回头看结果（含已生成的等次变动和整改事项），"
                             "这些记录保留，请确认是否仍然有效")
        draw_id = save_draw(uow, record, kind=KIND, period=period, seq=next_seq(uow, KIND, period), reason=reason,
                            seed_generated=generated, unannounced=unannounced,
                            audit_extra={"as_of": as_of.isoformat(), "series": base})
        stored = find_draw(uow, draw_id, KIND)
    return LookbackDraw(stored, as_of.isoformat(), generated, notes)


def _pick(uow: UnitOfWork, year: int, name: str | None = None) -> StoredDraw:
    """The year's active look-back draw (of a series, when named); a clear error when none or several."""
    active = [d for d in find_history(uow, KIND, str(year)) if d.active]
    if name is not None:
        base = series_label(KIND, str(year), name)
        active = [d for d in active if d.series == base]
    if not active:
        what = f"「{series_label(KIND, str(year), name)}」" if name else ""
        raise ActionNeeded(f"{year} 年度还没有{what}回头看抽签",
                           hint=f"抽签：djctl lookback --year {year} --seed 事先公布的公开数字")
    if len(active) > 1:
        raise DjctlError(f"{year} 年度有 {len(active)} 次回头看抽签：" + "、".join(f"#{d.id}（{d.label}）" for d in active),
                         hint="请指定抽签编号，或用 --label 指定哪一次")
    return active[0]


def show_lookback(store: Store, draw_id: int | None = None, year: int | None = None,
                  name: str | None = None) -> LookbackDraw:
    """A look-back draw by id, the year's active draw, or (neither given) the latest active one."""
    with store.read() as uow:
        if draw_id is not None:
            d = find_draw(uow, draw_id, KIND)
        elif year is not None:
            d = _pick(uow, check_year(year), parse_series_name(name, year))
        else:
            row = uow.session.exec(select(Draw).where(Draw.kind == KIND, Draw.active == True)  # noqa: E712
                                   .order_by(Draw.period.desc(), Draw.seq.desc())).first()
            if row is None:
                raise DjctlError("还没有任何回头看抽签", hint="抽签：djctl lookback --year 2024 --seed 事先公布的公开数字")
            d = find_draw(uow, row.id, KIND)
        return LookbackDraw(d, _as_of(uow, d))


def draw_lines(ld: LookbackDraw) -> list[str]:
    """The 公示文本 plus the day the tiers were taken as of."""
    lines = publication_lines(ld.draw)
    if ld.as_of:
        at = next((i for i, line in enumerate(lines) if line.startswith("总体：")), len(lines) - 1)
        lines.insert(at + 1, f"总体口径：截至 {ld.as_of} 等次为达标及以上的在册党支部（按抽签时的等次分层）")
    return lines


# --------------------------------------------------------------------------- worksheets out


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
        d = find_draw(uow, draw_id, KIND) if draw_id is not None else _pick(uow, check_year(year),
                                                                             parse_series_name(name, year))
        if not d.active:
            raise DjctlError(f"抽签 #{d.id}（{d.label}）已被重抽取代，不能再据此下发核查表",
                             hint=f"查看本年度的抽签：djctl lookback list --year {d.period}")
        y = int(d.period)
        scheme = load_scheme(s, y)
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
                items_hash=items_hash(items),
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
    from djctl.services.rectify import add_rectification, digest_ids
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
        "row_digests": row_digests(uow, **digest_ids(s, created), **digests)})
    result.status = IMPORTED
    result.extra.update({"branch": code, "tier": tier, "passed": not failed, "failed_items": [r.code for r in failed],
                         "rebound": rebound, "rectifications": created})
    if created:
        notes.insert(0, f"未达到 {len(failed)} 项，认定反弹：{tier}支部 → {rebound['to'] if rebound else '（已降级）'}支部；"
                        "已生成整改事项 " + "、".join(f"#{i}" for i in created) + f"（期限 {due.isoformat()}）")
    result.message = "；".join(notes)


# --------------------------------------------------------------------------- the report


@dataclass
class BranchOutcome:
    code: str
    name: str
    unit: str
    tier: str
    how: str  # 必抽 / 随机
    checked: bool = False
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (code, item, problem)
    to_tier: str | None = None

    @property
    def rebounded(self) -> bool:
        return bool(self.failed)


def _outcomes(session, d: StoredDraw) -> list[BranchOutcome]:
    branches = {b.code: b for b in session.exec(select(Branch).where(Branch.code.in_(d.selected)))}
    units = {u.code: u.name for u in session.exec(select(Unit))}
    results: dict[str, list[LookbackResult]] = {}
    q = select(LookbackResult).where(LookbackResult.draw_id == d.id, LookbackResult.active == True)  # noqa: E712
    for r in session.exec(q.order_by(LookbackResult.id)):
        results.setdefault(r.branch_code, []).append(r)
    moved = {c.branch_code: c.to_tier for c in session.exec(
        select(TierChange).where(TierChange.basis == BASIS, TierChange.source_ref == f"{KIND}#{d.id}"))}
    out = []
    for code in d.selected:
        b = branches.get(code)
        o = BranchOutcome(code, b.name if b else d.names.get(code, ""), units.get(b.unit_code, "") if b else "",
                          d.group(code), d.how(code))
        rs = results.get(code, [])
        o.checked = bool(rs)
        o.failed = [(r.item_code, r.item, r.problem) for r in rs if not r.passed]
        o.to_tier = moved.get(code)
        out.append(o)
    return out


def _rect_status(session, r: Rectification, day: date) -> str:
    """The item's status as it stood on `day` (its dated history), in the report's words."""
    from djctl.services.rectify import states_at

    st = states_at(session, day, [r])[int(r.id)]
    if st.found and not st.open:
        return "已销号"
    if st.overdue:
        return "逾期未整改"
    return "整改中"


def _draw_paragraph(d: StoredDraw, as_of: str | None, outcomes: list[BranchOutcome]) -> str:
    """One look-back draw in official language; its seed, digest and label go to 抽签情况公示."""
    from djctl.services.docs_common import fmt_rate

    r = d.record
    n = len(r.population)
    when = f"截至{_cn(as_of)}，" if as_of else ""
    how = f"按{fmt_rate(r.rate)}的比例" if r.count is None else "按指定数量"
    quotas = "、".join(f"{t}支部{r.quotas.get(t, 0)}个" for t in reversed(TIERS[1:]) if r.quotas and t in r.quotas)
    text = (f"{when}达标及以上等次的在册党支部共{n}个，{how}按支部等次分层公开随机抽取{r.k}个"
            + (f"，各等次名额为{quotas}" if quotas else "") + "。")
    if r.mandatory:
        text += ("上年度负面清单上的支部必抽：" + "、".join(o.name or o.code for o in outcomes if o.code in r.mandatory) + "。")
    if d.unannounced:
        text += "本次“回头看”采取暗访方式，事先不通知被抽中的支部。"
    if d.seq > 1 and d.reason:
        text += f"本次为重新抽签，原因：{d.reason}。"
    return text


def _draw_notice(per_draw: list, year: int) -> dict[str, Any]:
    """Attachment 抽签情况公示 of the look-back report: seeds and population digests in full."""
    from djctl.services.docs_common import fmt_rate

    rows, checks = [], []
    for i, (d, _, outs) in enumerate(per_draw, 1):
        r = d.record
        rows.append([f"第{i}次", str(len(r.population)), fmt_rate(r.rate) if r.count is None else "按数量", str(r.k),
                     "暗访" if d.unannounced else "常规"])
        h = r.population_hash
        checks.append([f"第{i}次", r.seed + ("（系统生成，抽签前未公布）" if d.seed_generated else ""),
                       f"{h[:32]}\n{h[32:]}" if len(h) > 32 else h])
    return {"heading": f"{year}年度“回头看”抽签情况公示", "level": 1, "paragraphs": [],
            "tables": [{"caption": "表1 抽签记录", "columns": ["抽签", "在册支部数", "比例", "抽取数", "方式"], "rows": rows}],
            "figures": [], "subsections": [{
                "heading": "复核信息", "level": 2,
                "paragraphs": ["抽签种子事先公布。按公布的种子和在册支部名单，任何人均可按考核方案规定的方法复算抽签结果；"
                               "名单摘要用于核对在册名单是否一致。"],
                "tables": [{"caption": "表2 抽签种子与在册名单摘要", "columns": ["抽签", "抽签种子", "名单摘要（SHA-256）"],
                            "rows": checks}], "figures": [], "subsections": []}]}


def _cn(iso: str | None) -> str:
    from djctl.services.docs_common import cn_date

    return cn_date(date.fromisoformat(iso)) if iso else ""


def report_context(uow: UnitOfWork, year: int, scheme, *, on_date: date) -> dict[str, Any]:
    """The look-back report (kind "lookback") for the renderer: every figure computed here."""
    from djctl.services.docs_common import cn_date, official_header

    session = uow.session
    draws = [d for d in find_history(uow, KIND, str(year)) if d.active]
    if not draws:
        raise ActionNeeded(f"{year} 年度还没有回头看抽签", hint=f"抽签：djctl lookback --year {year} --seed 事先公布的公开数字")
    names_b = {b.code: b.name for b in session.exec(select(Branch))}
    per_draw = []
    for d in draws:
        per_draw.append((d, _as_of(uow, d), _outcomes(session, d)))
    all_out = [o for _, _, outs in per_draw for o in outs]
    drawn = len(all_out)
    checked = [o for o in all_out if o.checked]
    rebounded = [o for o in checked if o.rebounded]
    rate_all = _pct(len(rebounded), len(checked))

    # 一、抽签
    quota_rows = []
    for draw_no, (d, _, outs) in enumerate(per_draw, 1):
        r = d.record
        for t in reversed(TIERS[1:]):
            size = sum(1 for g in (r.strata or {}).values() if g == t)
            if not size:
                continue
            quota_rows.append([f"第{draw_no}次", f"{t}支部", size, (r.quotas or {}).get(t, 0),
                               sum(1 for o in outs if o.tier == t),
                               sum(1 for o in outs if o.tier == t and o.how == "必抽")])
    sec1 = {"heading": "一、抽签情况", "level": 1,
            "paragraphs": [f"按照《{scheme.name}》，{year}年对已达到达标及以上等次的党支部开展分类定级“回头看”，"
                           f"按考核方案确定的比例公开随机抽取支部，对照其所在等次的标准逐项核查。"
                           "抽签种子事先公布，抽签结果可以复核（抽签情况见附件2）。",
                           *[_draw_paragraph(d, as_of, outs) for d, as_of, outs in per_draw]],
            "tables": [{"caption": f"表1 {year}年度“回头看”各等次抽取情况",
                        "columns": ["抽签", "等次", "在册支部数", "名额", "抽中", "其中必抽"], "rows": quota_rows,
                        "note": "名额按各等次支部数占总体的比例以最大余数法分配，合计等于应抽数量。"}],
            "figures": [], "subsections": []}

    # 二、核查结果
    tier_rows = []
    chart_labels, chart_values = [], []
    for t in reversed(TIERS[1:]):
        got = [o for o in all_out if o.tier == t]
        if not got:
            continue
        chk = [o for o in got if o.checked]
        reb = [o for o in chk if o.rebounded]
        rate = _pct(len(reb), len(chk))
        tier_rows.append([f"{t}支部", len(got), len(chk), len(chk) - len(reb), len(reb), _pct_text(rate)])
        chart_labels.append(f"{t}支部")
        chart_values.append(rate if rate is not None else Decimal(0))
    tier_rows.append(["合计", drawn, len(checked), len(checked) - len(rebounded), len(rebounded), _pct_text(rate_all)])
    unchecked = [o for o in all_out if not o.checked]
    para2 = (f"共抽取 {drawn} 个支部，已完成核查 {len(checked)} 个"
             + (f"（尚未核查 {len(unchecked)} 个：{'、'.join(o.name or o.code for o in unchecked)}）" if unchecked else "")
             + "。" + (f"其中 {len(checked) - len(rebounded)} 个支部各项均达到所在等次标准，保持原等次；"
                       f"{len(rebounded)} 个支部存在未达到标准的项目，认定为反弹，反弹率 {_pct_text(rate_all)}。"
                       if checked else "尚无核查结果。"))
    sec2 = {"heading": "二、核查结果", "level": 1, "paragraphs": [para2],
            "tables": [{"caption": f"表2 {year}年度“回头看”各等次反弹情况",
                        "columns": ["等次", "抽取", "已核查", "保持等次", "反弹", "反弹率"], "rows": tier_rows,
                        "note": "反弹率 = 反弹支部数 ÷ 已核查支部数 × 100%，四舍五入保留两位小数；等次为抽签时的等次。"}],
            "figures": [{"caption": f"图1 {year}年度“回头看”各等次支部反弹率（%）",
                         "chart": {"type": "bar", "labels": chart_labels, "values": chart_values,
                                   "series_name": "反弹率（%）", "max_value": 100, "x_title": "抽签时等次",
                                   "y_title": "反弹率（%）"}}],
            "subsections": []}

    # 三、反弹支部
    rebound_rows = []
    for i, o in enumerate(rebounded, 1):
        rebound_rows.append([i, o.name or o.code, o.unit, f"{o.tier}支部",
                             f"{o.to_tier}支部" if o.to_tier else "—",
                             "；".join(item for _, item, _ in o.failed),
                             "；".join(p for _, _, p in o.failed)])
    rule = ("下调一个等次" if scheme.lookback.rebound == "down_one" else "调整为未达标支部")
    sec3 = {"heading": "三、反弹支部及存在的问题", "level": 1,
            "paragraphs": ([f"对核查中有任何一项未达到所在等次标准的支部，认定为反弹，{rule}，"
                            f"并将每一项问题列为整改事项，限 {scheme.lookback.rectify_days} 日内整改到位。反弹支部如下："]
                           if rebounded else ["本次“回头看”核查的支部均达到所在等次标准，未发现反弹。"]),
            "tables": ([{"caption": "表3 反弹支部及主要问题",
                         "columns": ["序号", "支部", "所属单位", "原等次", "调整后等次", "未达到的项目", "问题描述"],
                         "rows": rebound_rows}] if rebounded else []),
            "figures": [], "subsections": []}

    # 四、整改
    refs = [f"{KIND}#{d.id}:" for d, _, _ in per_draw]
    rects = [r for r in session.exec(select(Rectification).where(Rectification.source == "lookback")
                                     .order_by(Rectification.due, Rectification.id))
             if any(r.source_ref.startswith(p) for p in refs)]
    statuses = [(r, _rect_status(session, r, on_date)) for r in rects]
    found = {(d.id, o.code, c): f"{item}：{problem}" for d, _, outs in per_draw for o in outs
             for c, item, problem in o.failed}

    def short(r: Rectification) -> str:
        head, _, item = r.source_ref.partition(":")
        try:
            key = (int(head.split("#", 1)[1]), r.org_code, item)
        except (IndexError, ValueError):
            return r.problem
        return found.get(key, r.problem)

    counts = {k: sum(1 for _, st in statuses if st == k) for k in ("已销号", "整改中", "逾期未整改")}
    sec4 = {"heading": "四、整改落实情况", "level": 1,
            "paragraphs": ([f"“回头看”发现的问题共列为整改事项 {len(rects)} 项。截至{cn_date(on_date)}，已整改销号 "
                            f"{counts['已销号']} 项，正在整改 {counts['整改中']} 项，逾期未整改 {counts['逾期未整改']} 项。"
                            + ("逾期未整改的支部将列入年度负面清单。" if counts["逾期未整改"] else "")]
                           if rects else ["本次“回头看”没有需要整改的问题。"]),
            "tables": ([{"caption": "表4 “回头看”整改事项",
                         "columns": ["序号", "支部", "问题", "整改期限", "状态"],
                         "rows": [[i, names_b.get(r.org_code, r.org_code), short(r), cn_date(r.due), st]
                                  for i, (r, st) in enumerate(statuses, 1)]}] if rects else []),
            "figures": [], "subsections": []}
    sec5 = {"heading": "五、下一步工作", "level": 1,
            "paragraphs": ["各单位党组织要对照反弹支部存在的问题举一反三，督促所属支部按期整改并报送《问题整改反馈单》，"
                           "整改情况纳入年度考核。",
                           "反弹支部整改到位后，须重新申报、经验收合格方可恢复原等次；整改逾期或再次反弹的，列入年度负面清单，"
                           "下一年度“回头看”必抽。"],
            "tables": [], "figures": [], "subsections": []}
    att_rows = []
    n = 0
    for d, _, outs in per_draw:
        for o in outs:
            n += 1
            result = ("反弹" if o.rebounded else "达到标准") if o.checked else "未核查"
            att_rows.append([n, o.name or o.code, o.unit, f"{o.tier}支部", o.how, result])
    attachment = {"heading": f"{year}年度“回头看”抽取支部名单及核查结果", "level": 1, "paragraphs": [], "landscape": True,
                  "tables": [{"caption": "抽取支部名单及核查结果",
                              "columns": ["序号", "支部名称", "所属单位", "抽签时等次", "抽取方式", "核查结果"],
                              "rows": att_rows}], "figures": [], "subsections": []}
    by_tier = {row[0]: {"drawn": row[1], "checked": row[2], "kept": row[3], "rebounded": row[4]}
               for row in tier_rows if row[0] != "合计"}
    return {
        "kind": REPORT_KIND,
        "title": f"关于{year}年度党支部分类定级“回头看”情况的通报",
        **official_header(session, scheme, REPORT_KIND, str(year), on_date),
        "date": cn_date(on_date),
        "sections": [sec1, sec2, sec3, sec4, sec5],
        "attachments": [attachment, _draw_notice(per_draw, year)],
        "numbers": {"year": year, "draws": [d.id for d in draws], "drawn": drawn, "checked": len(checked),
                    "rebounded": len(rebounded), "rebound_rate": None if rate_all is None else float(rate_all),
                    "by_tier": by_tier, "rebounded_branches": [o.code for o in rebounded],
                    "rectifications": len(rects), "rectification_status": counts,
                    "seeds": [d.seed for d in draws], "population_hashes": [d.population_hash for d in draws]},
    }


def write_report(store: Store, year: int, *, formats: list[str], out_dir: Path, templates: Path | None = None,
                 on_date: date | None = None) -> list[Path]:
    """Render the year's look-back report (docx, md, html, xlsx) as `out_dir/{year}_回头看报告.*`."""
    from djctl.services.docs_common import render

    year = check_year(year)
    with store.read() as uow:
        scheme = load_scheme(uow.session, year)
        day = on_date or _clock.today()  # one date for the whole run
        ctx = report_context(uow, year, scheme, on_date=day)
    return render(ctx, formats, out_dir, report_basename(year), templates, on_date=day)


def report_basename(year: int) -> str:
    return f"{year}_回头看报告"


def has_draw(store: Store, year: int) -> bool:
    with store.read() as uow:
        return uow.session.exec(select(Draw.id).where(Draw.kind == KIND, Draw.period == str(year),
                                                      Draw.active == True)).first() is not None  # noqa: E712


def yearend_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    """The year-end run's hook: the look-back report in all four formats, or [] when the year had no look-back."""
    if not has_draw(store, year):
        return []
    return write_report(store, year, formats=list(FORMATS), out_dir=out_dir, templates=templates, on_date=day)


# --------------------------------------------------------------------------- demo


DEMO_DRAW_DAY = (10, 15)
DEMO_IMPORT_DAY = (11, 5)
DEMO_REPORT_DAY = (11, 30)
DEMO_FAIL_SHARE = Decimal("0.12")
DEMO_CHECKERS = ("王明", "李静", "赵磊", "陈芳")
DEMO_PROBLEMS = {
    "D01": "支部委员会任期届满 3 个月未按期换届，组织委员空缺",
    "D02": "近一个季度支委会只召开 1 次，党小组会无记录",
    "D03": "3 名党员党费连续 2 个月未收缴，台账缺少 2 个月记录",
    "D04": "年度组织生活会未开展民主评议党员",
    "D05": "主题党日活动记录缺失，资料未按年度归档",
    "G01": "“第一议题”制度落实不到位，学习计划未按月执行",
    "G02": "书记述职评议材料缺失，支委分工未明确到人",
    "G03": "党员先锋岗活动流于形式，无实际成效记录",
    "G04": "2 名流动党员失联超过 6 个月未按规定处置",
    "G05": "谈心谈话制度未落实，党员积分管理停止执行",
    "G06": "党员活动室被挪作他用，党建经费未单列",
    "G07": "党建项目与业务工作脱节，没有可量化的成效",
    "S01": "党建品牌材料多年未更新，特色不明显",
    "S02": "近一年没有经验被推广，示范引领作用发挥不足",
}


def demo_seed(year: int, month: int, day: int) -> str:
    """A published-style seed for the demo look-back: a fictional lottery result of that day."""
    h = hashlib.sha256(f"示范市福利彩票 {year}-{month:02d}-{day:02d}".encode("utf-8")).digest()
    reds: list[int] = []
    for b in h:
        n = b % 33 + 1
        if n not in reds:
            reds.append(n)
        if len(reds) == 6:
            break
    return (f"{year}-{month:02d}-{day:02d} 示范市福利彩票开奖号码 " + " ".join(f"{n:02d}" for n in sorted(reds))
            + f" + {h[-1] % 16 + 1:02d}")


def demo_answers(item_codes: dict[Path, list[str]], rng: random.Random) -> dict[Path, dict[str, tuple[bool, str]]]:
    """Deterministic results: about 12 % of the worksheets fail one or two items, the rest pass every item."""
    files = list(item_codes)
    n_fail = max(1, int((DEMO_FAIL_SHARE * len(files)).to_integral_value())) if files else 0
    failing = set(rng.sample(range(len(files)), min(n_fail, len(files))))
    out: dict[Path, dict[str, tuple[bool, str]]] = {}
    for i, path in enumerate(files):
        codes = item_codes[path]
        bad = set(rng.sample(codes, min(len(codes), rng.choice((1, 1, 2))))) if i in failing else set()
        out[path] = {c: (c not in bad, DEMO_PROBLEMS.get(c, "核查发现该项工作落实不到位") if c in bad else "")
                     for c in codes}
    return out


def demo_step(store: Store, ctx: Any) -> list[str]:
    """One look-back for the demo year: draw, worksheets out, filled deterministically, imported, report.

    Runs after the tiers demo step (its tier changes are dated 2024-06-28 and 2024-07-26) and before the
    rectification and negative-list steps.
    """
    from djctl.io.lookback_form import fill_lookback_form
    from djctl.services.draws import write_record_file

    year = ctx.year
    draw_day = date(year, *DEMO_DRAW_DAY)
    ld = draw_lookback(store, year, seed=demo_seed(year, *DEMO_DRAW_DAY), on_date=draw_day)
    d = ld.draw
    draw_dir = Path(ctx.dir) / "抽签"
    draw_dir.mkdir(parents=True, exist_ok=True)
    record_path = write_record_file(d, draw_dir / f"回头看抽签记录-{year}.json")
    text_path = draw_dir / f"回头看抽签公示-{year}.txt"
    write_text(text_path, "\n".join(draw_lines(ld)) + "\n")
    ctx.files.extend([text_path, record_path])

    base = Path(ctx.dir) / "回头看"
    forms = write_forms(store, base / "核查表", draw_id=d.id)
    rng = random.Random("lookback")
    answers = demo_answers(forms.item_codes, rng)
    returned = []
    for path in forms.files:
        dst = base / "收回" / path.name
        returned.append(fill_lookback_form(path, dst, answers[path], rng.choice(DEMO_CHECKERS)))
    results = import_forms(store, returned, on_date=date(year, *DEMO_IMPORT_DAY))
    refused = [r for r in results if r.status not in (IMPORTED, UNCHANGED)]
    if refused:
        raise DjctlError(f"示范回头看核查表导入失败：{refused[0].path}：{refused[0].message}")
    rebounds = [r for r in results if r.extra.get("rebound")]
    out = Path(ctx.dir) / "文书"
    written = write_report(store, year, formats=list(FORMATS), out_dir=out, templates=getattr(ctx, "templates", None),
                           on_date=date(year, *DEMO_REPORT_DAY))
    ctx.files.extend(written)
    quotas = "，".join(f"{t} {q}" for t, q in (d.record.quotas or {}).items())
    return [f"回头看抽签 #{d.id}（{d.label}）：截至 {ld.as_of} 达标及以上支部 {len(d.record.population)} 个，"
            f"按等次分层抽取 {len(d.selected)} 个（{quotas}），种子「{d.seed}」",
            f"核查表 {len(forms.files)} 份（{base / '核查表'}），收回导入 {len(results)} 份；"
            f"反弹 {len(rebounds)} 个支部：" + "、".join(r.extra["branch"] for r in rebounds)
            + f"，已降级并生成整改事项 {sum(len(r.extra.get('rectifications') or []) for r in rebounds)} 项",
            f"回头看报告：{out / (report_basename(year) + '.docx')}"]
