"""What the content check finds (ContentProblem, ContentResult) and what it replays: events, the
expectations they set, which events write which rows, and the small helpers that read their payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


#: The `action` of a problem found by recomputing a stored figure from the rows it derives from (no event).
RECOMPUTED = "recompute"

#: Action families djctl itself writes. Events of any other family make "rows no event covers" unverified.
KNOWN_FAMILIES = frozenset({"scheme", "org", "tasks", "selfeval", "check", "sample", "lookback", "votes", "adjust",
                            "tier", "rectify", "negative", "store", "action", "tierplan", "inspector", "debrief",
                            "staff", "docs", "recheck"})
MAX_PROBLEMS = 1000


# --------------------------------------------------------------------------- results


@dataclass
class ContentProblem:
    """One disagreement between the tables and the audit trail."""

    table: str
    rows: list[int]
    message: str
    seq: int | None = None  # the event whose payload disagrees (None: rows no event covers)
    action: str | None = None

    def where(self) -> str:
        return f"{self.table} {_ids(self.rows)}".strip()

    def text(self) -> str:
        if self.seq is not None:
            head = f"第 {self.seq} 号事件（{self.action}）"
        else:
            head = "按得分行重算" if self.action == RECOMPUTED else "无对应审计事件"
        return f"{head}：{self.where()}：{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "action": self.action, "table": self.table, "rows": self.rows,
                "message": self.message}


@dataclass
class ContentResult:
    events: int = 0  # events whose content was compared
    rows: int = 0  # table rows read
    problems: list[ContentProblem] = field(default_factory=list)
    unverified: list[ContentProblem] = field(default_factory=list)
    unknown_actions: list[str] = field(default_factory=list)
    more: int = 0  # problems beyond MAX_PROBLEMS, counted but not listed
    # rows whose events an older djctl wrote without their content (no `row_digests`): not checked, no finding
    not_covered: list[ContentProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "rows": self.rows,
                "problems": [p.to_json() for p in self.problems], "more_problems": self.more,
                "unverified": [p.to_json() for p in self.unverified], "unknown_actions": self.unknown_actions,
                "not_covered": [p.to_json() for p in self.not_covered]}


def _ids(ids: list[int]) -> str:
    if not ids:
        return ""
    ids = sorted(ids)
    if len(ids) > 2 and ids[-1] - ids[0] == len(ids) - 1:
        return f"#{ids[0]}–#{ids[-1]}"
    shown = "、".join(f"#{i}" for i in ids[:10])
    return shown + (f" 等 {len(ids)} 行" if len(ids) > 10 else "")


# --------------------------------------------------------------------------- the check


@dataclass
class Event:
    seq: int
    action: str
    doc: dict[str, Any]
    actor: str = ""


@dataclass
class Expect:
    """What the latest event that wrote a small-table row says about it: a digest, some fields, or nothing."""

    ev: Event
    label: Any
    digest: str | None = None
    fields: dict[str, Any] | None = None


#: Events that write unit, branch, tier_change or rectification rows.
ROW_WRITERS = ("org.import", "tier.set", "tier.import", "lookback.import", "check.import", "rectify.add",
               "rectify.update", "rectify.close", "rectify.reopen", "rectify.extend", "store.dates", "action.add",
               "action.import", "action.revoke", "tierplan.add", "tierplan.update", "rectify.classify",
               "inspector.import", "debrief.import", "staff.roster", "staff.import",
               "docs.number", "rectify.recheck", "negative.add", "negative.revoke", "rectify.feedback")
#: Import events -> import_file.kind.
IMPORT_KINDS = {"org.import": "roster", "tier.import": "tier", "selfeval.import": "selfeval",
                "check.import": "check", "votes.import": "votes", "lookback.import": "lookback",
                "adjust.import": "adjust", "action.import": "actions", "debrief.import": "debrief",
                "staff.roster": "staff_roster", "staff.import": "staff", "rectify.recheck": "recheck",
                "rectify.feedback": "rectify_feedback", "inspector.import": "inspectors"}
ROSTER_BASIS = "名册导入"


def item_at(items: list, i: int) -> Any:
    return items[i] if len(items) > i else None


def codes_of(value: Any) -> list[Any]:
    """Codes of a roster payload part: a list of codes or a {code: diff} dict."""
    if isinstance(value, dict):
        return list(value)
    return list(value) if isinstance(value, list) else []


def file_name(path: str) -> str:
    return re.split(r"[\\/]", path or "")[-1]


def import_fields(ev: Event) -> dict[str, Any]:
    """The import_file columns an import event fixes (only those its payload says for sure)."""
    d = ev.doc
    family = ev.action.split(".", 1)[0]
    out: dict[str, Any] = {"kind": IMPORT_KINDS[ev.action]}
    if isinstance(d.get("file"), str):
        out["file"] = d["file"]
    if isinstance(d.get("sha256"), str):
        out["sha256"] = d["sha256"]
    if family in ("selfeval", "check"):
        out.update(subject=d.get("unit"), period=d.get("month"))
    elif family == "lookback":
        out["subject"] = d.get("branch")
    else:
        out["subject"] = ""
    if family == "votes" and isinstance(d.get("year"), int):
        out["period"] = str(d["year"])
    elif family == "org":
        out["period"] = ""
    elif family == "adjust" and isinstance(d.get("rows"), list):
        years = {r[1] for r in d["rows"] if isinstance(r, list) and len(r) > 1}
        out["period"] = str(years.pop()) if len(years) == 1 else ""
    elif family in ("tier", "lookback", "debrief", "staff") and isinstance(d.get("period"), str):  # written with row digests
        out["period"] = d["period"]
    rows = d.get("rows")
    if isinstance(rows, list):
        out["rows"] = len(rows)
    elif isinstance(rows, int) and not isinstance(rows, bool):
        out["rows"] = rows
    return out


def x100_of(points: Any) -> int | None:
    try:
        return int(Decimal(str(points)) * 100)
    except (InvalidOperation, ValueError):
        return None


def active_msg(active: Any, want: bool, later: Event | None) -> str:
    if want:
        return "被标为无效，但没有替换或取代它的审计事件"
    if later is not None:
        return f"应已被第 {later.seq} 号事件替换（无效），现仍为有效"
    return "应已被替换（无效），现仍为有效"
