"""Rectification items on a business date: status, deadline, open and overdue *as of* a day.

An item's history is a list of changes, each effective on its business date: found (待整改), progress
(整改中), feedback (the unit's returned 整改台账: 已整改待核, awaiting the committee's confirmation), return
(退回: a submitted feedback sent back, open again), close (已销号), reopen, extend (new deadline). On day D the item stands as its last change dated on
or before D (changes of one day in the order they were recorded). It is

- open at D: found on or before D and not closed by D (an item 已整改待核 is still open until a close confirms it);
- overdue at D: open at D and its deadline (as it stood on D) before D.

Pure rules: no I/O, no clock. The services feed them the stored `rectification_event` rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

ACTIONS: tuple[str, ...] = ("found", "progress", "close", "reopen", "extend", "recheck", "feedback", "return")
ACTION_CN = {"found": "发现问题", "progress": "整改中", "close": "销号", "reopen": "重新打开", "extend": "延长期限",
             "recheck": "回头看复查", "feedback": "报送整改反馈", "return": "退回整改"}
STATUS_AFTER = {"found": "open", "progress": "in_progress", "close": "closed", "reopen": "open", "recheck": "closed",
                "feedback": "submitted", "return": "open"}
#: changes that keep a closed item closed without closing it again: its closing day stays the close's
KEEP_CLOSE_DAY: tuple[str, ...] = ("extend", "recheck")


@dataclass(frozen=True)
class Change:
    on_date: date
    order: int  # recording order (the event's id): breaks ties between changes of one day
    action: str
    status: str
    due: date


@dataclass(frozen=True)
class StateAt:
    day: date
    found: bool  # found on or before `day`
    status: str | None  # None when not yet found
    due: date | None
    closed_on: date | None  # the day of the close in force on `day`
    reopened: bool  # reopened at least once by `day`

    @property
    def open(self) -> bool:
        return self.found and self.status != "closed"

    @property
    def overdue(self) -> bool:
        return self.open and self.due is not None and self.due < self.day

    @property
    def days_overdue(self) -> int:
        return (self.day - self.due).days if self.overdue and self.due else 0


def ordered(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.on_date, c.order))


def state_at(changes: Iterable[Change], day: date) -> StateAt:
    """The item as it stood at the end of `day`."""
    seen = [c for c in ordered(changes) if c.on_date <= day]
    if not seen:
        return StateAt(day, False, None, None, None, False)
    last = seen[-1]
    closed_on = last.on_date if last.status == "closed" else None
    if last.action in KEEP_CLOSE_DAY and last.status == "closed":  # neither reopens: keep the close's day
        closed_on = next((c.on_date for c in reversed(seen) if c.action == "close"), None)
    return StateAt(day, True, last.status, last.due, closed_on, any(c.action == "reopen" for c in seen))


def closed_late(changes: Iterable[Change]) -> bool:
    """Whether some close took effect after the deadline in force just before it."""
    due = None
    for c in ordered(changes):
        if c.action == "close" and due is not None and c.on_date > due:
            return True
        due = c.due
    return False


def found_on(changes: Iterable[Change]) -> date | None:
    cs = ordered(changes)
    return cs[0].on_date if cs else None
