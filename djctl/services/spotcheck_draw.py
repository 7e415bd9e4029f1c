"""The monthly spot-check draw (月抽查抽签): who is in the population and what the rules add.

Population: the units active in the month (`month_active`). Excluded: units selected in the active draws of
the previous `sampling.exclude_recent_months` month(s). Mandatory: units on the previous year's negative
list when `sampling.include_negative_list` (entries put on it by decision: those with 下年度必抽 standing on the
draw's date, the month's last day). Strata: the unit's group when asked or when the scheme says so.
k: the rate (the scheme's by default) or a count, at least `sampling.min_count`. The draw itself is
`djctl.domain.sampling.run_draw`; storing and verifying is `djctl.services.draws`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Executable
from sqlmodel import select

from djctl.domain.periods import Period, month_bounds, parse_month
from djctl.domain.sampling import draw_label, run_draw
from djctl.domain.scheme import Scheme, parse_scheme
from djctl.errors import ActionNeeded, DjctlError
from djctl.services.draw_request import draw_request
from djctl.services.draws import StoredDraw, draw_series, exec_cached, selected_codes, store_draw
from djctl.services.setup import load_scheme
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import NegativeEntry
from djctl.store.tables import Scheme as SchemeRow
from djctl.store.tables import Unit

KIND = "sample"
NO_GROUP = "未分组"


@dataclass
class SampleResult:
    draw: StoredDraw
    seed_generated: bool
    notes: list[str] = field(default_factory=list)  # things worth saying (e.g. a listed unit not active)


def recent_exclusions(uow: UnitOfWork, month: Period, months: int) -> dict[str, str]:
    """Units selected in the active draws of the `months` months before `month`, with the reason."""
    seen: dict[str, list[str]] = {}
    p = month
    for _ in range(max(0, months)):
        p = p.previous()
        ps = str(p)
        for code in selected_codes(uow, KIND, ps):
            seen.setdefault(code, []).append(ps)
    return {code: "、".join(ms) + " 已抽中" for code, ms in seen.items()}


def _negative_query() -> Executable:
    n = NegativeEntry.__table__
    return (sa_select(n.c.org_code)
            .where(n.c.year == bindparam("year"), n.c.org_kind == "unit", n.c.active == True)  # noqa: E712
            .order_by(n.c.org_code))


def negative_list_units(uow: UnitOfWork, year: int, as_of: date | None = None) -> dict[str, str]:
    """Units on `year`'s negative list, with the reason a draw shows: the active computed entries, and the
    entries put on it by decision with 下年度必抽 that stand on `as_of` (the draw's business date)."""
    from djctl.domain.negative import MUST_DRAW
    from djctl.services.negative_manual import manual_codes

    rows = exec_cached(uow.conn, "sample.negative", _negative_query, year=year)
    out = {code: f"{year} 年度负面清单" for (code,) in rows}
    for code in manual_codes(uow.session, year, "unit", as_of, MUST_DRAW):
        out.setdefault(code, f"{year} 年度负面清单（经研究列入）")
    return dict(sorted(out.items()))


UNIT = Unit.__table__
#: active in the month = the active period overlaps it (`month_active`), compared in SQL (dates are stored as
#: ISO text on SQLite, so text order is date order)
_ACTIVE = (or_(UNIT.c.active_from.is_(None), UNIT.c.active_from <= bindparam("last")),
           or_(UNIT.c.active_to.is_(None), UNIT.c.active_to >= bindparam("first")))


def _population_query() -> Executable:
    return sa_select(UNIT.c.code, UNIT.c.name, UNIT.c.group_name).where(*_ACTIVE)


def _population_json_query() -> Executable:
    return sa_select(*(func.json_group_array(c) for c in (UNIT.c.code, UNIT.c.name, UNIT.c.group_name))).where(*_ACTIVE)


def month_units(uow: UnitOfWork, month: str) -> tuple[list[str], list[str], list[str]]:
    """(codes, names, groups) of the units active in `month` (`month_active`): three lists in the same order.

    SQLite (3.38 and later, where JSON is built in) hands the three columns over as three JSON arrays, parsed
    by the C decoder: a province's thousands of rows then cost no row objects (half the time, and nothing
    left behind for the garbage collector to trace)."""
    first, last = month_bounds(month)
    conn = uow.conn
    if conn.dialect.name == "sqlite" and (conn.dialect.server_version_info or (0,)) >= (3, 38):
        row = exec_cached(conn, "sample.population.json", _population_json_query, first=first, last=last).one()
        codes, names, groups = (json.loads(column) for column in row)
        return codes, names, groups
    rows = exec_cached(conn, "sample.population", _population_query, first=first, last=last).all()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _scheme_query() -> Executable:
    t = SchemeRow.__table__
    return sa_select(t.c.toml).where(t.c.year == bindparam("year"))


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> Scheme:
    return parse_scheme(text)  # Scheme is frozen: one parse per text serves every draw of a process


def _load_scheme(uow: UnitOfWork, year: int) -> Scheme:
    """`load_scheme`, the year's TOML read on its own and parsed once per process."""
    text = exec_cached(uow.conn, "sample.scheme", _scheme_query, year=year).scalar()
    return load_scheme(uow.session, year) if text is None else _parse(text)  # None: load_scheme says what is missing


def draw_sample(store: Store, month: str, *, rate: Decimal | str | None = None, count: int | None = None,
                seed: str | None = None, stratify: bool | None = None, redraw: bool = False,
                reason: str = "") -> SampleResult:
    """Draw the month's spot-check units and store the draw (one transaction, one audit event).

    A second draw of a month needs `redraw=True` and a reason; the earlier draws stay, inactive.
    Without a seed one is generated (`seed_generated`), which the caller must say out loud.
    """
    try:
        period = parse_month(month)
    except ValueError as exc:
        raise DjctlError(str(exc)) from None
    req = draw_request(rate=rate, count=count, seed=seed, redraw=redraw, reason=reason)
    rate, count, seed, generated, reason = req.rate, req.count, req.seed, req.seed_generated, req.reason
    m = str(period)
    with store.write() as uow:
        scheme = _load_scheme(uow, period.year)
        history = draw_series(uow, KIND, m)
        if history and not redraw:
            last = history[-1]
            raise DjctlError(f"{m} 已经抽签（#{last.id}，{last.label}），不能再次抽签",
                             hint=f"确需重抽请加 --redraw --reason 原因（原抽签保留可查）；查看：djctl sample show {last.id}")
        if redraw and not history:
            raise DjctlError(f"{m} 还没有抽签，无从重抽", hint="去掉 --redraw 与 --reason 即为首次抽签")
        seq = (history[-1].seq + 1) if history else 1
        codes, names, groups = month_units(uow, m)
        if not codes:
            raise ActionNeeded(f"{m} 没有在册的考核单位，无法抽签",
                               hint="先用 djctl org import 导入名册，或检查单位的成立、撤销日期")
        sampling = scheme.sampling
        excluded = recent_exclusions(uow, period, sampling.exclude_recent_months)
        notes: list[str] = []
        mandatory: dict[str, str] = {}
        if sampling.include_negative_list:
            listed = negative_list_units(uow, period.year - 1, period.last_day())  # the draw's as_of
            active = set(codes)
            mandatory = {c: r for c, r in listed.items() if c in active}
            notes += [f"{c} 在{r}上，但 {m} 不在册，未纳入抽签" for c, r in listed.items() if c not in active]
        use_strata = sampling.stratify if stratify is None else stratify
        strata = {code: (group or NO_GROUP) for code, group in zip(codes, groups)} if use_strata else None
        use_risk = scheme.risk.enabled and rate is None and count is None and stratify is None
        strata_rates = None
        if use_risk:  # risk strata (scheme [risk]) replace the single rate
            from djctl.services.risk import risk_strata

            strata, strata_reasons, strata_rates, risk_notes = risk_strata(uow, scheme, period, codes)
            notes += risk_notes
        try:
            record = run_draw(seed=seed, label=draw_label(KIND, m, seq), population=sorted(codes),
                              rate=None if count is not None else (sampling.rate if rate is None else rate),
                              count=count, min_count=sampling.min_count, mandatory=mandatory,
                              excluded=excluded, strata=strata, strata_rates=strata_rates)
        except ValueError as exc:
            raise DjctlError(f"无法抽签：{exc}") from None
        if use_risk:
            record.strata_reasons = strata_reasons
        from djctl.services.inspectors import assign as assign_inspectors

        notes += assign_inspectors(uow, record, scheme, kind=KIND, period=m)
        if history:
            notes += _redraw_notes(uow, period, sampling.exclude_recent_months, [d.id for d in history if d.active])
        stored = store_draw(uow, record, kind=KIND, period=m, seq=seq, reason=reason, seed_generated=generated,
                            names=dict(zip(codes, names)))
    return SampleResult(stored, generated, notes)


def _redraw_notes(uow: UnitOfWork, period: Period, exclude_months: int, superseded: list[int]) -> list[str]:
    """What a redraw leaves behind: checks made for the superseded draw, later draws that excluded by it."""
    from sqlalchemy import func

    from djctl.store.tables import CheckReport

    notes = []
    checks = uow.session.exec(select(func.count()).select_from(CheckReport).where(
        CheckReport.draw_id.in_(superseded), CheckReport.active == True)).one()  # noqa: E712
    if checks:
        notes.append(f"被取代的抽签已有 {checks} 份核查结果，请确认是否仍然有效")
    p = period
    for _ in range(max(0, exclude_months)):
        p = Period(p.year + (p.index == 12), "month", p.index % 12 + 1)
        if selected_codes(uow, KIND, str(p)):
            notes.append(f"{p} 已按本月原抽签结果排除单位；如需按重抽结果排除，请对 {p} 重抽")
    return notes


def show_sample(store: Store, draw_id: int | None = None, month: str | None = None) -> StoredDraw:
    """A spot-check draw by id, the month's active draw, or (neither given) the latest active draw."""
    from djctl.services.draws import active_draw, latest_draw, load_draw

    if draw_id is not None:
        return load_draw(store, draw_id, KIND)
    d = active_draw(store, KIND, month) if month is not None else latest_draw(store, KIND)
    if d is None:
        raise DjctlError(f"{month} 还没有抽签" if month else "还没有任何月度抽查抽签",
                         hint="抽签：djctl sample --month 2024-03 --seed 事先公布的公开数字")
    return d
