"""Quarter scores (季度得分): mean of the unit's monthly rates in the quarter, ranked overall and in group."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from djctl.domain.periods import Period, parse_quarter
from djctl.domain.points import to_float
from djctl.domain.scoring import mean_rate
from djctl.services.ranking_table import ranks_with_groups
from djctl.services.scores import MonthRow, month_rows, unit_rows
from djctl.services.setup import load_scheme
from djctl.store.engine import Store


@dataclass
class QuarterRow:
    unit: str
    name: str
    group: str
    rates: dict[str, Decimal | None]
    months: dict[str, MonthRow] = field(default_factory=dict)
    score: Decimal | None = None
    rank: int | None = None
    group_rank: int | None = None

    @property
    def missing(self) -> list[str]:
        return [m for m, r in self.months.items() if r.status == "missing"]

    @property
    def checked(self) -> list[str]:
        return [m for m, r in self.months.items() if r.checked]

    @property
    def false(self) -> list[str]:
        return [m for m, r in self.months.items() if r.false]

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "name": self.name, "group": self.group,
                "rates": {m: (to_float(v) if v is not None else None) for m, v in self.rates.items()},
                "score": to_float(self.score) if self.score is not None else None,
                "rank": self.rank, "group_rank": self.group_rank,
                "checked": self.checked, "false": self.false, "missing": self.missing}


def quarter_rows(session, q: Period, scheme) -> list[QuarterRow]:
    units = unit_rows(session)
    per_month = month_rows(session, q.months, scheme, units)
    rows = []
    for i, u in enumerate(units):
        months = {m: per_month[m][i] for m in q.months}
        active = {m: r for m, r in months.items() if r.status != "inactive"}
        rates = {m: (r.rate if r.status != "inactive" else None) for m, r in months.items()}
        row = QuarterRow(u.code, u.name, u.group_name, rates, active)
        counted = [r.rate for r in active.values() if r.rate is not None]
        row.score = mean_rate(counted)
        rows.append(row)
    scored = {r.unit: r.score for r in rows if r.score is not None}
    overall, in_group = ranks_with_groups(scored, {r.unit: r.group for r in rows})
    for r in rows:
        r.rank, r.group_rank = overall.get(r.unit), in_group.get(r.unit)
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit))
    return rows


def quarter_scores(store: Store, quarter: str) -> dict[str, Any]:
    q = parse_quarter(quarter)
    with store.read() as uow:
        scheme = load_scheme(uow.session, q.year)
        rows = quarter_rows(uow.session, q, scheme)
    return {"period": str(q), "months": q.months, "rows": [r.to_json() for r in rows]}
