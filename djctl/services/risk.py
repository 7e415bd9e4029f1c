"""Risk strata for the monthly spot check (按风险分层抽查): which stratum each active unit falls in, and why.

The facts (scheme [risk]): on last year's negative list; a self-score found false (虚假) in a spot check of
the last `false_months` months; last year's grade. Each fact names a stratum; a unit takes the highest-risk
one (the first in `risk.rates`), with every fact that applied as its reason; a unit with none is in `rest`.
The draw (`run_draw(strata=…, strata_rates=…)`) gives each stratum its own rate.
"""

from __future__ import annotations

from djctl.domain.periods import Period, parse_year
from djctl.store.engine import UnitOfWork


def _scheme_or_none(uow: UnitOfWork, year: int):
    from djctl.errors import ActionNeeded
    from djctl.services.setup import load_scheme

    try:
        return load_scheme(uow.session, year)
    except ActionNeeded:
        return None


def risk_strata(uow: UnitOfWork, scheme, month: Period, codes: list[str]) -> tuple[dict[str, str], dict[str, str],
                                                                                   dict[str, str], list[str]]:
    """(stratum by code, reason by code, rate by stratum, notes) for the units `codes` of `month`."""
    from djctl.services.scores import check_outcomes
    from djctl.services.spotcheck_draw import negative_list_units

    risk = scheme.risk
    order = {g: i for i, (g, _) in enumerate(risk.rates)}
    facts: dict[str, list[tuple[str, str]]] = {c: [] for c in codes}
    notes: list[str] = []
    for code, why in negative_list_units(uow, month.year - 1, month.last_day()).items():
        if code in facts:
            facts[code].append((risk.negative_list, why))
    months, p = [], month
    for _ in range(risk.false_months):
        p = p.previous()
        months.append(str(p))
    for year in sorted({int(m[:4]) for m in months}):
        sch = scheme if year == month.year else _scheme_or_none(uow, year)
        if sch is None:
            continue
        outcomes = check_outcomes(uow.session, [m for m in months if int(m[:4]) == year], sch)
        for (unit, m), items in sorted(outcomes.items()):
            if unit in facts and any(o.false for o in items):
                facts[unit].append((risk.false_stratum, f"{m} 抽查发现自评虚假"))
    grades = dict(risk.grades)
    previous = _scheme_or_none(uow, month.year - 1) if grades else None
    if previous is not None:
        from djctl.services.annual import year_rows

        for r in year_rows(uow.session, parse_year(str(month.year - 1)), previous, explain=False):
            if r.active and r.unit in facts and r.grade in grades:
                facts[r.unit].append((grades[r.grade], f"{month.year - 1} 年度考核等次「{r.grade}」"))
    elif grades:
        notes.append(f"没有 {month.year - 1} 年度考核方案，未按上年度等次分层")
    strata, reasons = {}, {}
    for c, fs in facts.items():
        if fs:
            strata[c] = min((g for g, _ in fs), key=order.__getitem__)
            reasons[c] = "；".join(dict.fromkeys(why for _, why in fs))
        else:
            strata[c], reasons[c] = risk.rest, "无风险因素"
    return strata, reasons, {g: str(r) for g, r in risk.rates}, notes
