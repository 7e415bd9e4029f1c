"""Periods: months (2024-03), quarters (2024Q1 / 2024-Q1) and years (2024)."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

MIN_YEAR, MAX_YEAR = 2000, 2100  # the years djctl accepts anywhere (the --year options say the same)
_MONTH = re.compile(r"^(\d{4})-?(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_CN_MONTH = re.compile(r"^(\d{4})年(\d{1,2})月$")


@dataclass(frozen=True, order=True)
class Period:
    """A month, quarter or year. `kind` is 'month', 'quarter' or 'year'."""

    year: int
    kind: str
    index: int  # month 1-12, quarter 1-4, 0 for a year

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        return f"{self.year}"

    @property
    def months(self) -> list[str]:
        """The months (as 'YYYY-MM') this period covers."""
        if self.kind == "month":
            return [str(self)]
        if self.kind == "quarter":
            first = 3 * (self.index - 1) + 1
            return [f"{self.year}-{m:02d}" for m in range(first, first + 3)]
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    @property
    def label(self) -> str:
        """The Chinese name people use: 2024年3月, 2024年第一季度, 2024年度."""
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年度"

    def first_day(self) -> date:
        return date(self.year, {"month": self.index, "quarter": 3 * (self.index - 1) + 1, "year": 1}[self.kind], 1)

    def last_day(self) -> date:
        if self.kind == "month":
            m = self.index
        elif self.kind == "quarter":
            m = 3 * self.index
        else:
            m = 12
        return date(self.year, m, calendar.monthrange(self.year, m)[1])

    def previous(self) -> Period:
        if self.kind == "month":
            return month(self.year - 1, 12) if self.index == 1 else month(self.year, self.index - 1)
        if self.kind == "quarter":
            return Period(self.year - 1, "quarter", 4) if self.index == 1 else Period(self.year, "quarter", self.index - 1)
        return Period(self.year - 1, "year", 0)


def month(year: int, m: int) -> Period:
    return Period(year, "month", m)


def parse_period(text: str, kinds: tuple[str, ...] = ("month", "quarter", "year")) -> Period:
    """Parse '2024-03', '2024年3月', '2024Q1', '2024-Q1' or '2024'; raise ValueError in Chinese."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    found: Period | None = None
    if m := _QUARTER.match(raw):
        found = Period(int(m.group(1)), "quarter", int(m.group(2)))
    elif m := (_MONTH.match(raw) if "-" in raw or len(raw) == 6 else None) or _CN_MONTH.match(raw):
        mi = int(m.group(2))
        if not 1 <= mi <= 12:
            raise ValueError(f"月份「{text}」无效：月份应在 1 到 12 之间")
        found = Period(int(m.group(1)), "month", mi)
    elif m := _YEAR.match(raw):
        found = Period(int(m.group(1)), "year", 0)
    if found is None:
        raise ValueError(f"「{text}」不是有效的期间（示例：2024-03、2024Q1、2024）")
    if not MIN_YEAR <= found.year <= MAX_YEAR:  # "0000-01" would print as "0-01" and never parse again
        raise ValueError(f"「{text}」的年份无效（{MIN_YEAR} 到 {MAX_YEAR}）")
    if found.kind not in kinds:
        names = {"month": "月份（如 2024-03）", "quarter": "季度（如 2024Q1）", "year": "年度（如 2024）"}
        raise ValueError(f"「{text}」不是{'或'.join(names[k] for k in kinds)}")
    return found


def parse_month(text: str) -> Period:
    return parse_period(text, ("month",))


def parse_quarter(text: str) -> Period:
    return parse_period(text, ("quarter",))


def parse_year(text: str | int) -> Period:
    return parse_period(str(text), ("year",))


@lru_cache(maxsize=256)
def month_bounds(month_str: str) -> tuple[date, date]:
    """(first day, last day) of a month given as text; cached, as scores ask it for every unit and month."""
    p = parse_month(month_str)
    return p.first_day(), p.last_day()


IN_REGISTER, REVOKED, NOT_YET = "在册", "已撤销", "未成立"


def standing_on(day: date, active_from: date | None, active_to: date | None) -> str:
    """A unit's standing on a day: 在册 (both dates inclusive), 已撤销 (its end date has passed) or 未成立 (its
    start date is later)."""
    if active_from is not None and active_from > day:
        return NOT_YET
    if active_to is not None and active_to < day:
        return REVOKED
    return IN_REGISTER


def active_on(day: date, active_from: date | None, active_to: date | None) -> bool:
    """A unit is in the register on a day (start and end dates inclusive)."""
    return standing_on(day, active_from, active_to) == IN_REGISTER


def month_active(month_str: str, active_from: date | None, active_to: date | None) -> bool:
    """A unit is active in a month if its active period overlaps that month at all."""
    first, last = month_bounds(month_str)
    if active_from is not None and active_from > last:
        return False
    if active_to is not None and active_to < first:
        return False
    return True
