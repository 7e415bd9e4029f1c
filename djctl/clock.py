"""The one place djctl asks the wall clock for a business date.

DESIGN §6: a fact's business date comes from the form, the command (`--date`) or the period; a report is
computed as of a date. Where a command has nothing better (its `--date` left out), it takes *today* once,
here, at the start of the run, and passes that one date down. `DJCTL_TODAY=2024-12-31` fixes today for
tests and scripted runs (the same store, command and date give the same files on any day).
The audit chain's `at`, backup names and logs keep reading the real clock; they are not business dates.
"""

from __future__ import annotations

import os
from datetime import date

ENV = "DJCTL_TODAY"


def today() -> date:
    """Today's business date: `DJCTL_TODAY` (ISO date) when set, else the system's local date."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            from djctl.errors import DjctlError

            raise DjctlError(f"环境变量 {ENV}「{value}」不是有效日期（示例：2024-12-31）") from None
    return date.today()
