"""The content check: the rows each audit event describes, recomputed from the tables and compared.

The audit chain (`djctl.store.audit.verify`) proves that no event was changed, removed or reordered. It
says nothing about the rows those events describe: a self-score edited with a SQLite browser leaves the
chain intact. This module closes that gap. Every event that writes content carries, in its payload,
either the content itself (small rows: votes, tasks, adjustments) or a digest of it (bulk rows: scores,
draw entries, look-back results), and the ids of the rows it wrote. `check(conn)` reads every such event
and every row of the tables they cover and names each disagreement by the event's seq, table and row ids:

- a row changed (a digest or a value no longer matches its event's payload),
- a row deleted (an event names a row that is gone, or fewer bulk rows than it wrote),
- a row added behind djctl's back (bulk rows beyond the digest; a report, draw, vote, task list or
  item that no event wrote; score or entry rows whose parent is gone),
- a row switched on or off (`active`, `revoked_at`) against what later events did (replacements,
  redraws, task-list changes, revocations).

The digests of bulk rows are defined HERE and only here: importers call `self_score_digest`,
`check_score_digest`, `draw_entry_digest` on their own connection after writing the rows, inside the
same transaction, and the checker recomputes the same functions over the whole store.

Rows that no event covers are only a finding when every event in the chain is of a kind djctl writes:
a store with events of other kinds (crafted by tests, or written by another program) may have written
them legitimately, so they are listed as unverified instead.

The small tables are covered too:

- `unit`, `branch`, `tier_change`, `rectification`: every event that writes such rows carries
  `row_digests` = {table: [[id, code, digest], ...]} (`row_digests(uow, unit=ids, ...)`, after the
  write): a per-row digest of the content columns (ROW_COLUMNS). The checker replays the events in seq
  order; the latest event that wrote a row vouches for it. Events that carry the content itself vouch
  for it field by field (`tier.set`, `rectify.*`, the tier changes of `tier.import` and of a look-back's
  rebound). Events written by a djctl before `row_digests` (no such key) name rows without their content:
  those rows are listed as `not_covered`, never as findings.
- `negative_entry`: `negative.build` carries the entries and their ids; `scheme`: `scheme.set` carries
  the TOML text; `import_file`: every import event carries its id, file name, SHA-256 and what it was
  for, and the replacements say which files went inactive.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from djctl.store.audit import AUDIT, canonical, rows_digest
from djctl.store.tables import (Action, Adjustment, Branch, CheckReport, CheckScore, Debrief, DocNumber, Draw,
                                DrawEntry, ImportFile, Inspector, LookbackResult, NegativeEntry, Rectification,
                                RectificationEvent, RectificationTag, Scheme, SelfReport, SelfScore, StaffMember,
                                StaffScore, Task, TaskList, TierChange, TierPlan, TierPlanUpdate, Unit, Vote)

# --------------------------------------------------------------------------- digest definitions

SELF_SCORE = SelfScore.__table__
CHECK_SCORE = CheckScore.__table__
DRAW_ENTRY = DrawEntry.__table__
VOTE = Vote.__table__
LOOKBACK_RESULT = LookbackResult.__table__

SELF_SCORE_COLUMNS = ("task_code", "points_x100", "note")
CHECK_SCORE_COLUMNS = ("task_code", "verified_x100", "false_flag", "note", "checker")
DRAW_ENTRY_COLUMNS = ("code", "key", "selected", "order_no", "mandatory_reason", "excluded_reason")
VOTE_COLUMNS = ("unit_code", "good", "fairly_good", "average", "poor", "voters")
LOOKBACK_COLUMNS = ("item_code", "item", "passed", "problem", "checker")

#: The `action` of a problem found by recomputing a stored figure from the rows it derives from (no event).
RECOMPUTED = "recompute"

#: Action families djctl itself writes. Events of any other family make "rows no event covers" unverified.
KNOWN_FAMILIES = frozenset({"scheme", "org", "tasks", "selfeval", "check", "sample", "lookback", "votes", "adjust",
                            "tier", "rectify", "negative", "store", "action", "tierplan", "inspector", "debrief",
                            "staff", "docs"})
MAX_PROBLEMS = 1000


def _rows(conn, table, parent_col: str, parent_id: int, columns: tuple[str, ...]) -> list[tuple]:
    cols = [table.c[c] for c in columns]
    q = select(*cols).where(table.c[parent_col] == parent_id).order_by(table.c.id)
    return [tuple(r) for r in conn.execute(q)]


def self_score_rows(conn, report_id: int) -> list[tuple]:
    """(task_code, points_x100, note) of a self report, in the order they were written (task order)."""
    return _rows(conn, SELF_SCORE, "report_id", report_id, SELF_SCORE_COLUMNS)


def self_score_digest(conn, report_id: int) -> str:
    """The `rows_sha256` of a `selfeval.import` event."""
    return rows_digest(self_score_rows(conn, report_id))


def check_score_rows(conn, report_id: int) -> list[tuple]:
    """(task_code, verified_x100, false_flag, note, checker) of a check report, in task order."""
    return _rows(conn, CHECK_SCORE, "report_id", report_id, CHECK_SCORE_COLUMNS)


def check_score_digest(conn, report_id: int) -> str:
    """The `rows_sha256` of a `check.import` event."""
    return rows_digest(check_score_rows(conn, report_id))


def draw_entry_rows(conn, draw_id: int) -> list[tuple]:
    """(code, key, selected, order_no, mandatory_reason, excluded_reason) of a draw, in population order."""
    return _rows(conn, DRAW_ENTRY, "draw_id", draw_id, DRAW_ENTRY_COLUMNS)


def draw_entry_digest(conn, draw_id: int) -> str:
    """The `entries_digest` of a `sample.draw` / `lookback.draw` event."""
    return rows_digest(draw_entry_rows(conn, draw_id))


#: The draw event key saying its rows cover only the members that matter (`djctl.services.draws.ENTRIES_SCOPE`).
ENTRIES_SCOPE = "entries_scope"


def draw_entry_full_rows(record: dict[str, Any], stored: list[tuple]) -> list[tuple]:
    """The draw_entry rows a draw made before migration 0004 wrote (one per population member), from its record
    and the rows kept (`DRAW_ENTRY_COLUMNS`): a member without a row gets the row its record implies (its
    key, not selected, no reasons): what 0004 deleted. Rows of codes outside the population stay, at the end.

    The digest of these rows is the `entries_digest` of such a draw's event: a kept row changed or deleted, or
    a member's row added with other values, no longer gives it."""
    keys = record.get("keys") if isinstance(record.get("keys"), dict) else {}
    population = [str(c) for c in record.get("population") or []]
    by_code: dict[str, tuple] = {}
    extra: list[tuple] = []
    for row in stored:
        if row[0] in by_code:
            extra.append(row)
        else:
            by_code[row[0]] = row
    pop = set(population)
    out = [by_code.get(c) or (c, keys.get(c), False, None, "", "") for c in population]
    return out + [r for c, r in by_code.items() if c not in pop] + extra


def record_digest(record_text: str) -> str:
    """The `record_sha256` of a draw event: SHA-256 of the stored canonical record text."""
    return hashlib.sha256(record_text.encode("utf-8")).hexdigest()


def lookback_rows(conn, import_id: int) -> list[tuple]:
    """(item_code, item, passed, problem, checker) of one look-back worksheet, in checklist order."""
    return _rows(conn, LOOKBACK_RESULT, "import_id", import_id, LOOKBACK_COLUMNS)


def lookback_digest(conn, import_id: int) -> str:
    """The `rows_sha256` of a `lookback.import` event."""
    return rows_digest(lookback_rows(conn, import_id))


def vote_rows(conn, import_id: int) -> list[list]:
    """[unit_code, good, fairly_good, average, poor, voters] of one votes import (the payload's `rows`)."""
    return [list(r) for r in _rows(conn, VOTE, "import_id", import_id, VOTE_COLUMNS)]


# --------------------------------------------------------------------------- row digests of the small tables

#: The payload key of the per-row digests (see the module docstring).
ROW_DIGESTS = "row_digests"
#: Content columns of each row digest. Bookkeeping timestamps (`updated_at`) are left out; a
#: rectification's `created_at` is in, because the quarterly materials list the items created by a day.
ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("code", "name", "kind", "group_name", "secretary", "members", "active_from", "active_to"),
    "branch": ("code", "name", "unit_code", "members", "tier", "tier_date", "active"),
    "tier_change": ("branch_code", "from_tier", "to_tier", "on_date", "basis", "note", "source_ref"),
    "rectification": ("org_code", "org_kind", "problem", "source", "source_ref", "due", "status", "feedback",
                      "closed_on", "created_at", "found_on"),
    "rectification_event": ("item_id", "action", "status", "on_date", "due", "note", "detail"),
    "action": ("on_date", "kind", "target", "unit_code", "person", "reason", "basis", "taken_by", "items",
               "adjustment_id", "revoked_on", "revoke_reason", "import_id"),
    "tier_plan": ("branch_code", "on_date", "responsible", "measures", "target_date"),
    "tier_plan_update": ("plan_id", "on_date", "progress", "done"),
    "rectification_tag": ("item_id", "category", "severity", "on_date", "note"),
    "inspector": ("code", "name", "unit_code", "group_name", "role", "served", "active"),
    # issue 19 (述职评议, 工委干部): every import event carries their row digests, replacements included
    "debrief": ("year", "org_code", "org_kind", "level", "secretary", "reported_on", "good", "fairly_good",
                "average", "poor", "voters", "note", "import_id", "active"),
    "staff_member": ("code", "name", "position", "department", "import_id", "active"),
    "staff_score": ("month", "staff_code", "work_x100", "conduct_x100", "overall_x100", "note", "import_id", "active"),
    "doc_number": ("year", "seq", "number", "kind", "subject", "title", "issued_on"),
}
#: The column that names a row in the payload and in findings (its code, or its organization's code).
ROW_LABEL = {"unit": "code", "branch": "code", "tier_change": "branch_code", "rectification": "org_code",
             "rectification_event": "item_id", "action": "unit_code", "tier_plan": "branch_code",
             "tier_plan_update": "plan_id", "rectification_tag": "item_id", "inspector": "code",
             "debrief": "org_code", "staff_member": "code", "staff_score": "staff_code",
             "doc_number": "number"}
ROW_MODELS = {"unit": Unit, "branch": Branch, "tier_change": TierChange, "rectification": Rectification,
              "rectification_event": RectificationEvent, "action": Action, "tier_plan": TierPlan,
              "tier_plan_update": TierPlanUpdate, "rectification_tag": RectificationTag, "inspector": Inspector,
              "debrief": Debrief, "staff_member": StaffMember, "staff_score": StaffScore,
              "doc_number": DocNumber}
ROW_WHAT = {"unit": "单位", "branch": "支部", "tier_change": "等次变动记录", "rectification": "整改事项",
            "rectification_event": "整改事项变动记录", "action": "问责措施", "tier_plan": "整改提升计划",
            "tier_plan_update": "整改提升计划进展", "rectification_tag": "整改事项分类", "inspector": "检查人员",
            "debrief": "述职评议记录", "staff_member": "工委干部名册记录", "staff_score": "工委干部月度考评记录",
            "doc_number": "发文字号"}
_IN_CHUNK = 500


def _plain(v: Any) -> Any:
    """A column value as it goes into a row digest: dates and times as ISO text (times in UTC)."""
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def row_digest(values: Iterable[Any]) -> str:
    """Digest of one row's content columns: SHA-256 of their canonical JSON, first 32 hex digits (128 bits)."""
    return hashlib.sha256(canonical([_plain(v) for v in values]).encode("utf-8")).hexdigest()[:32]


def row_digests(uow, **ids: Iterable[int | None]) -> dict[str, list[list]]:
    """The `row_digests` payload entry for the rows a write just made or changed, read back from the store.

    `row_digests(uow, branch=[3], tier_change=[17])` -> {"branch": [[3, "B003", "…"]], "tier_change": [...]}.
    Call it right before `uow.audit(...)`, after every change of those rows (it flushes the session).
    """
    uow.session.flush()
    out: dict[str, list[list]] = {}
    for name, wanted in ids.items():
        want = sorted({int(i) for i in wanted if i is not None})
        if not want:
            continue
        t = ROW_MODELS[name].__table__
        cols = [t.c[c] for c in ROW_COLUMNS[name]]
        rows: list[list] = []
        for i in range(0, len(want), _IN_CHUNK):
            q = (select(t.c.id, t.c[ROW_LABEL[name]], *cols).where(t.c.id.in_(want[i:i + _IN_CHUNK]))
                 .order_by(t.c.id))
            rows.extend([r[0], r[1], row_digest(r[2:])] for r in uow.conn.execute(q))
        out[name] = rows
    return out


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
class _Event:
    seq: int
    action: str
    doc: dict[str, Any]
    actor: str = ""


@dataclass
class _Expect:
    """What the latest event that wrote a small-table row says about it: a digest, some fields, or nothing."""

    ev: _Event
    label: Any
    digest: str | None = None
    fields: dict[str, Any] | None = None


#: Events that write unit, branch, tier_change or rectification rows.
ROW_WRITERS = ("org.import", "tier.set", "tier.import", "lookback.import", "check.import", "rectify.add",
               "rectify.update", "rectify.close", "rectify.reopen", "rectify.extend", "store.dates", "action.add",
               "action.import", "action.revoke", "tierplan.add", "tierplan.update", "rectify.classify",
               "inspector.import", "debrief.import", "staff.roster", "staff.import",
               "docs.number")
#: Import events -> import_file.kind.
IMPORT_KINDS = {"org.import": "roster", "tier.import": "tier", "selfeval.import": "selfeval",
                "check.import": "check", "votes.import": "votes", "lookback.import": "lookback",
                "adjust.import": "adjust", "action.import": "actions", "debrief.import": "debrief",
                "staff.roster": "staff_roster", "staff.import": "staff"}
ROSTER_BASIS = "名册导入"


class _Checker:
    def __init__(self, conn) -> None:
        self.conn = conn
        self.result = ContentResult()
        self._seen: set[int] = set()
        actions = [a for (a,) in conn.execute(select(AUDIT.c.action).distinct())]
        self.result.unknown_actions = sorted(a for a in actions if a.split(".", 1)[0] not in KNOWN_FAMILIES)
        self.strict_coverage = not self.result.unknown_actions

    # ---- reporting

    def bad(self, ev: _Event | None, table: str, rows: Iterable[int | None], message: str) -> None:
        ids = [int(i) for i in rows if i is not None]
        p = ContentProblem(table, ids, message, ev.seq if ev else None, ev.action if ev else None)
        if len(self.result.problems) < MAX_PROBLEMS:
            self.result.problems.append(p)
        else:
            self.result.more += 1

    def uncovered(self, table: str, row_id: int | list[int], what: str) -> None:
        ids = row_id if isinstance(row_id, list) else [row_id]
        msg = f"这{'条' if len(ids) == 1 else f' {len(ids)} 行'}{what}没有对应的审计事件（绕过 djctl 写入，或写入它的审计事件已被删除）"
        if self.strict_coverage:
            self.bad(None, table, ids, msg)
        elif len(self.result.unverified) < MAX_PROBLEMS:
            self.result.unverified.append(ContentProblem(table, ids, msg))

    def events(self, *actions: str) -> list[_Event]:
        q = (select(AUDIT.c.seq, AUDIT.c.action, AUDIT.c.payload, AUDIT.c.actor).where(AUDIT.c.action.in_(actions))
             .order_by(AUDIT.c.seq))
        out = []
        for seq, action, payload, who in self.conn.execute(q):
            try:
                doc = json.loads(payload)
            except ValueError:
                continue  # the chain check names it
            if isinstance(doc, dict):
                out.append(_Event(seq, action, doc, who))
                self._seen.add(seq)
        self.result.events = len(self._seen)
        return out

    def table(self, model, columns: tuple[str, ...], *order) -> Iterator[Any]:
        """The named columns (and id) of every row, in id order unless `order` is given."""
        t = model.__table__
        q = select(t.c.id, *[t.c[c] for c in columns if c != "id"]).order_by(*(order or (t.c.id,)))
        for part in self.conn.execute(q).partitions(5000):
            self.result.rows += len(part)
            yield from part

    def groups(self, table, parent_col: str, columns: tuple[str, ...]) -> Iterator[tuple[int, list[int], list[tuple]]]:
        """(parent id, row ids, row tuples) for every parent of a bulk table, rows in id order (streamed)."""
        cols = [table.c[c] for c in columns]
        q = select(table.c[parent_col], table.c.id, *cols).order_by(table.c[parent_col], table.c.id)
        current, ids, rows = None, [], []
        for part in self.conn.execute(q).partitions(5000):
            self.result.rows += len(part)
            for r in part:
                if r[0] != current:
                    if current is not None:
                        yield current, ids, rows
                    current, ids, rows = r[0], [], []
                ids.append(r[1])
                rows.append(tuple(r[2:]))
        if current is not None:
            yield current, ids, rows

    def by_id(self, events: list[_Event], key: str, table: str) -> dict[int, _Event]:
        out: dict[int, _Event] = {}
        for ev in events:
            rid = ev.doc.get(key)
            if not isinstance(rid, int):
                continue
            if rid in out:
                self.bad(ev, table, [rid], f"第 {out[rid].seq} 号事件已写入过这条记录，不应再次写入（审计事件被复制）")
                continue
            out[rid] = ev
        return out

    def bulk(self, table, parent_col: str, columns: tuple[str, ...], expected: dict[int, _Event],
             parents: set[int], what: str, digest_key: str, count_key: str,
             rows_of: Callable[[int, list[tuple]], list[tuple]] | None = None) -> None:
        """Compare the bulk rows of every covered parent with its event's digest and count. `rows_of(parent,
        rows)` gives the rows the event's digest covers, when they are not the stored rows themselves."""
        seen: set[int] = set()
        name = table.name
        for parent, ids, rows in self.groups(table, parent_col, columns):
            ev = expected.get(parent)
            if ev is None:
                if parent not in parents:
                    self.bad(None, name, ids, f"{len(ids)} 行所属的{what} #{parent} 不存在（孤立的行）")
                continue  # the parent itself is reported as uncovered
            seen.add(parent)
            self._compare_bulk(ev, name, ids, rows_of(parent, rows) if rows_of else rows, what, parent, digest_key,
                               count_key)
        for parent, ev in expected.items():
            if parent not in seen and parent in parents:
                self._compare_bulk(ev, name, [], rows_of(parent, []) if rows_of else [], what, parent, digest_key,
                                   count_key)

    def _compare_bulk(self, ev: _Event, name: str, ids: list[int], rows: list[tuple], what: str, parent: int,
                      digest_key: str, count_key: str) -> None:
        want_n = ev.doc.get(count_key)
        want = ev.doc.get(digest_key)
        if isinstance(want_n, int) and want_n != len(rows):
            change = "被删除" if len(rows) < want_n else "被添加"
            self.bad(ev, name, ids, f"{what} #{parent} 写入时有 {want_n} 行，现有 {len(rows)} 行（有行{change}）")
        elif isinstance(want, str) and want != rows_digest(rows):
            self.bad(ev, name, ids, f"{what} #{parent} 的 {len(rows)} 行与写入时的摘要不符（有行被改动）")

    # ---- per kind

    def run(self) -> ContentResult:
        superseded = self.tasks()
        self.selfeval(superseded)
        self.checks()
        self.draws()
        self.votes()
        self.lookbacks()
        self.adjustments()
        self.import_files()
        self.small_tables()
        self.negative_entries()
        self.schemes()
        self.result.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))  # stable: by event, then as found
        return self.result

    def tasks(self) -> set[int]:
        """Task lists and their tasks; returns the self reports that task-list changes superseded."""
        events = self.events("tasks.set")
        lists = self.by_id(events, "task_list_id", "task_list")
        replaced = {ev.doc["replaced"]: ev for ev in events if isinstance(ev.doc.get("replaced"), int)}
        superseded: set[int] = set()
        for ev in events:
            for item in ev.doc.get("superseded_reports") or []:
                if isinstance(item, list) and len(item) == 2 and isinstance(item[1], int):
                    superseded.add(item[1])
        present = set()
        for tl in self.table(TaskList, ("month", "version", "sha256", "active")):
            present.add(tl.id)
            ev = lists.get(tl.id)
            if ev is None:
                self.uncovered("task_list", tl.id, "任务清单")
                continue
            for col, key in (("month", "month"), ("version", "version"), ("sha256", "sha256")):
                if key in ev.doc and getattr(tl, col) != ev.doc[key]:
                    self.bad(ev, "task_list", [tl.id], f"{col} 为「{getattr(tl, col)}」，写入时为「{ev.doc[key]}」")
            later = replaced.get(tl.id)
            want_active = later is None or later.seq < ev.seq
            if bool(tl.active) != want_active:
                self.bad(later or ev, "task_list", [tl.id], _active_msg(tl.active, want_active, later))
        for tl_id in sorted(set(lists) - present):
            self.bad(lists[tl_id], "task_list", [tl_id], "任务清单已被删除")
        t = Task.__table__
        seen: set[int] = set()
        for parent, ids, rows in self.groups(t, "task_list_id", ("code", "name", "points_x100", "dimension")):
            ev = lists.get(parent)
            if ev is None:
                if parent not in present:
                    self.bad(None, "task", ids, f"{len(ids)} 项任务所属的任务清单 #{parent} 不存在（孤立的行）")
                continue
            seen.add(parent)
            self._compare_tasks(ev, parent, ids, rows)
        for parent in sorted(set(lists) & present - seen):
            self._compare_tasks(lists[parent], parent, [], [])
        return superseded

    def _compare_tasks(self, ev: _Event, parent: int, ids: list[int], rows: list[tuple]) -> None:
        want = ev.doc.get("tasks")
        if not isinstance(want, list):
            return
        # task rows come back in id order, which is the order written (seq 1..n)
        if len(want) != len(rows):
            self.bad(ev, "task", ids, f"任务清单 #{parent} 写入时有 {len(want)} 项任务，现有 {len(rows)} 项")
            return
        for rid, row, w in zip(ids, rows, want):
            if not isinstance(w, list) or len(w) < 4:
                continue
            code, name, x100, dim = row
            if [code, name, dim] != [w[0], w[1], w[3]] or _x100(w[2]) != x100:
                self.bad(ev, "task", [rid], f"任务「{code}」为（{name}，{x100 / 100:g} 分，{dim}），"
                                            f"写入时为（{w[1]}，{w[2]} 分，{w[3]}）")

    def _reports(self, model, table: str, events: list[_Event], replaced: dict[int, _Event],
                 columns: tuple[tuple[str, str], ...], what: str,
                 superseded: set[int] | None = None,
                 optional: tuple[tuple[str, str], ...] = ()) -> tuple[dict[int, _Event], set[int]]:
        """`optional`: columns compared only where the row has a value (NULL: filled in by nothing yet)."""
        reports = self.by_id(events, "report_id", table)
        present: set[int] = set()
        for r in self.table(model, ("active", *(col for col, _ in columns + optional))):
            present.add(r.id)
            ev = reports.get(r.id)
            if ev is None:
                self.uncovered(table, r.id, what)
                continue
            for col, key in columns + tuple(o for o in optional if getattr(r, o[0]) is not None):
                if key in ev.doc and getattr(r, col) != ev.doc[key]:
                    self.bad(ev, table, [r.id], f"{col} 为「{getattr(r, col)}」，写入时为「{ev.doc[key]}」")
            later = replaced.get(r.id)
            want_active = not ((later is not None and later.seq > ev.seq) or r.id in (superseded or ()))
            if bool(r.active) != want_active:
                self.bad(later or ev, table, [r.id], _active_msg(r.active, want_active, later))
        for rid in sorted(set(reports) - present):
            self.bad(reports[rid], table, [rid], f"{what}已被删除")
        return reports, present

    def selfeval(self, superseded: set[int]) -> None:
        events = self.events("selfeval.import")
        replaced = {ev.doc["replaced_report"]: ev for ev in events if isinstance(ev.doc.get("replaced_report"), int)}
        cols = (("unit_code", "unit"), ("month", "month"), ("import_id", "import_id"))
        # the stored total (migration 0002; scores read it) against the import's total: the rows against their
        # digest in the bulk check below, so the total and the rows agree as well
        reports, present = self._reports(SelfReport, "self_report", events, replaced, cols, "自评记录", superseded,
                                         optional=(("total_x100", "self_total_x100"),))
        self.bulk(SELF_SCORE, "report_id", SELF_SCORE_COLUMNS, reports, present, "自评记录", "rows_sha256", "rows")

    def checks(self) -> None:
        events = self.events("check.import")
        replaced = {ev.doc["replaced_report"]: ev for ev in events if isinstance(ev.doc.get("replaced_report"), int)}
        cols = (("unit_code", "unit"), ("month", "month"), ("import_id", "import_id"), ("draw_id", "draw_id"),
                ("self_report_id", "self_report_id"))
        reports, present = self._reports(CheckReport, "check_report", events, replaced, cols, "核查记录")
        self.bulk(CHECK_SCORE, "report_id", CHECK_SCORE_COLUMNS, reports, present, "核查记录", "rows_sha256", "rows")

    def draws(self) -> None:
        events = self.events("sample.draw", "lookback.draw")
        draws = self.by_id(events, "draw_id", "draw")
        superseded: dict[int, _Event] = {}
        for ev in events:
            for d in ev.doc.get("supersedes") or []:
                if isinstance(d, int):
                    superseded[d] = ev
        present: set[int] = set()
        full_records: dict[int, str] = {}  # draws whose event's rows were every population member (before 0004)
        for d in self.table(Draw, ("kind", "record", "active", "period", "seq", "label", "seed", "k", "population_hash",
                                   "rate")):
            present.add(d.id)
            ev = draws.get(d.id)
            if ev is None:
                self.uncovered("draw", d.id, "抽签")
                continue
            if ENTRIES_SCOPE not in ev.doc:
                full_records[d.id] = d.record
            if ev.action != f"{d.kind}.draw":
                self.bad(ev, "draw", [d.id], f"抽签类别为「{d.kind}」，写入时为 {ev.action}")
            want = ev.doc.get("record_sha256")
            if isinstance(want, str) and record_digest(d.record) != want:
                self.bad(ev, "draw", [d.id], "抽签记录（record）与抽签时的摘要不符（记录被改动）")
            for col in ("period", "seq", "label", "seed", "k", "population_hash", "rate"):
                if col in ev.doc and getattr(d, col) != ev.doc[col]:
                    self.bad(ev, "draw", [d.id], f"{col} 为「{getattr(d, col)}」，抽签时为「{ev.doc[col]}」")
            later = superseded.get(d.id)
            want_active = later is None or later.seq < ev.seq
            if bool(d.active) != want_active:
                self.bad(later or ev, "draw", [d.id], _active_msg(d.active, want_active, later))
        for did in sorted(set(draws) - present):
            self.bad(draws[did], "draw", [did], "抽签已被删除")

        def rows_of(draw_id: int, rows: list[tuple]) -> list[tuple]:
            text = full_records.get(draw_id)
            if text is None:
                return rows
            try:
                doc = json.loads(text)
            except ValueError:
                return rows  # the record check above names it
            return draw_entry_full_rows(doc, rows) if isinstance(doc, dict) else rows

        self.bulk(DRAW_ENTRY, "draw_id", DRAW_ENTRY_COLUMNS, draws, present, "抽签", "entries_digest", "entries",
                  rows_of)

    def votes(self) -> None:
        events = self.events("votes.import")
        imports = self.by_id(events, "import_id", "vote")
        replaced: dict[int, _Event] = {}
        for ev in events:
            for old in ev.doc.get("replaced") or []:
                if isinstance(old, dict) and isinstance(old.get("import_id"), int):
                    replaced[old["import_id"]] = ev
        groups: dict[int, list[Any]] = {}
        for v in self.table(Vote, ("import_id", "year", "active", *VOTE_COLUMNS), Vote.__table__.c.import_id,
                            Vote.__table__.c.id):
            groups.setdefault(v.import_id, []).append(v)
        for imp_id, rows in groups.items():
            ev = imports.get(imp_id)
            ids = [v.id for v in rows]
            if ev is None:
                for v in rows:
                    self.uncovered("vote", v.id, "测评票数")
                continue
            want = ev.doc.get("rows")
            have = [[getattr(v, c) for c in VOTE_COLUMNS] for v in rows]
            if isinstance(want, list) and want != have:
                if len(want) != len(have):
                    self.bad(ev, "vote", ids, f"导入时有 {len(want)} 个单位的票数，现有 {len(have)} 个")
                else:
                    for v, w, h in zip(rows, want, have):
                        if w != h:
                            was = w[1:] if isinstance(w, list) else w
                            self.bad(ev, "vote", [v.id], f"{h[0]} 的票数为 {h[1:]}，导入时为 {was}")
            later = replaced.get(imp_id)
            want_active = later is None or later.seq < ev.seq
            wrong = [v.id for v in rows
                     if bool(v.active) != want_active or ("year" in ev.doc and v.year != ev.doc["year"])]
            if wrong:
                self.bad(later or ev, "vote", wrong, "年度或是否有效与导入、替换时不符")
        for imp_id in sorted(set(imports) - set(groups)):
            ev = imports[imp_id]
            if ev.doc.get("rows"):
                self.bad(ev, "vote", [], f"导入文件 #{imp_id} 的 {len(ev.doc['rows'])} 个单位的票数已被删除")

    def lookbacks(self) -> None:
        events = self.events("lookback.import")
        imports = self.by_id(events, "import_id", "lookback_result")
        replaced: dict[int, _Event] = {}
        for ev in events:
            for old in ev.doc.get("replaced_imports") or []:
                if isinstance(old, int):
                    replaced[old] = ev
        seen: set[int] = set()
        extra = ("draw_id", "branch_code", "tier", "active")
        for imp_id, ids, rows in self.groups(LOOKBACK_RESULT, "import_id", LOOKBACK_COLUMNS + extra):
            ev = imports.get(imp_id)
            if ev is None:
                self.uncovered("lookback_result", ids, "回头看结果")
                continue
            seen.add(imp_id)
            n = len(LOOKBACK_COLUMNS)
            self._compare_bulk(ev, "lookback_result", ids, [r[:n] for r in rows], "回头看导入文件", imp_id,
                               "rows_sha256", "rows")
            later = replaced.get(imp_id)
            want_active = later is None or later.seq < ev.seq
            want = (ev.doc.get("draw_id"), ev.doc.get("branch"), ev.doc.get("tier"), want_active)
            wrong = [i for i, r in zip(ids, rows) if (r[n], r[n + 1], r[n + 2], bool(r[n + 3])) != want]
            if wrong:
                self.bad(later or ev, "lookback_result", wrong, "抽签、支部、等次或是否有效与导入、替换时不符")
        for imp_id in sorted(set(imports) - seen):
            ev = imports[imp_id]
            if ev.doc.get("rows"):
                self.bad(ev, "lookback_result", [], f"回头看导入文件 #{imp_id} 的 {ev.doc['rows']} 项结果已被删除")

    def adjustments(self) -> None:
        items: dict[int, tuple[_Event, list]] = {}
        for ev in self.events("adjust.add", "adjust.import"):
            if ev.action == "adjust.add":
                d = ev.doc
                spec = [d.get("id"), d.get("year"), d.get("unit"), d.get("kind"), d.get("points_x100"), d.get("reason"),
                        d.get("basis"), d.get("veto")]
                entries = [spec]
            else:
                entries = [r for r in ev.doc.get("rows") or [] if isinstance(r, list) and len(r) >= 8]
            for spec in entries:
                if isinstance(spec[0], int):
                    items[spec[0]] = (ev, spec)
        revoked = {ev.doc["id"]: ev for ev in self.events("adjust.revoke") if isinstance(ev.doc.get("id"), int)}
        present: set[int] = set()
        for a in self.table(Adjustment, ("year", "unit_code", "kind", "points_x100", "reason", "basis", "veto",
                                         "revoked_at", "revoke_reason")):
            present.add(a.id)
            got = items.get(a.id)
            if got is None:
                self.uncovered("adjustment", a.id, "加减分项")
                continue
            ev, spec = got
            have = [a.id, a.year, a.unit_code, a.kind, a.points_x100, a.reason, a.basis, bool(a.veto)]
            if have != spec[:8]:
                self.bad(ev, "adjustment", [a.id], f"加减分项为 {have[1:]}，写入时为 {spec[1:8]}")
            rev = revoked.get(a.id)
            if (a.revoked_at is not None) != (rev is not None):
                self.bad(rev or ev, "adjustment", [a.id],
                         "已撤销，但没有撤销它的审计事件" if rev is None else "撤销事件之后又被恢复为有效")
            elif rev is not None and a.revoke_reason != rev.doc.get("reason", a.revoke_reason):
                self.bad(rev, "adjustment", [a.id], f"撤销原因为「{a.revoke_reason}」，撤销时为「{rev.doc.get('reason')}」")
        for aid in sorted(set(items) - present):
            self.bad(items[aid][0], "adjustment", [aid], "加减分项已被删除")

    # ---- import files

    def import_files(self) -> None:
        """Every import_file row against the import event that wrote it and the events that replaced it."""
        want: dict[int, tuple[_Event, dict[str, Any]]] = {}
        state: dict[int, list[Any]] = {}  # import id -> [active, replaced_by, event that set them]
        report_import: dict[tuple[str, int], int] = {}
        for full in self.events(*IMPORT_KINDS, "tasks.set"):
            d = full.doc
            ev = _Event(full.seq, full.action, {}, full.actor)  # kept per import file: without its payload
            if ev.action == "tasks.set":  # reports of a replaced task list go to history with their files
                for item in d.get("superseded_reports") or []:
                    iid = report_import.get(("selfeval", item[1])) if isinstance(item, list) and len(item) == 2 else None
                    if iid in state and state[iid][0]:
                        state[iid][:] = [False, state[iid][1], ev]
                continue
            iid = d.get("import_id")
            if not isinstance(iid, int):
                continue
            if iid in want:
                self.bad(ev, "import_file", [iid], f"第 {want[iid][0].seq} 号事件已写入过这条记录，不应再次写入（审计事件被复制）")
                continue
            want[iid] = (ev, _import_fields(full))
            state[iid] = [True, None, ev]
            family = ev.action.split(".", 1)[0]
            replaced: list[Any] = []
            if family in ("selfeval", "check"):
                if isinstance(d.get("report_id"), int):
                    report_import[(family, d["report_id"])] = iid
                old = d.get("replaced_report")
                replaced = [report_import.get((family, old))] if isinstance(old, int) else []
            elif family in ("votes", "debrief", "staff"):
                replaced = [o.get("import_id") for o in d.get("replaced") or [] if isinstance(o, dict)]
            elif family == "lookback":
                replaced = list(d.get("replaced_imports") or [])
            for old_id in replaced:
                if isinstance(old_id, int) and old_id in state:
                    state[old_id][:] = [False, iid, ev]
        present: set[int] = set()
        for r in self.table(ImportFile, ("kind", "path", "sha256", "subject", "period", "rows", "active",
                                         "replaced_by", "actor")):
            present.add(r.id)
            got = want.get(r.id)
            if got is None:
                self.uncovered("import_file", r.id, "导入文件记录")
                continue
            ev, fields = got
            have = {"kind": r.kind, "file": _file_name(r.path), "sha256": r.sha256, "subject": r.subject,
                    "period": r.period, "rows": r.rows}
            diffs = [f"{k} 为「{have[k]}」，导入时为「{v}」" for k, v in fields.items() if have[k] != v]
            if ev.actor and r.actor != ev.actor:
                diffs.append(f"actor 为「{r.actor}」，导入时为「{ev.actor}」")
            if diffs:
                self.bad(ev, "import_file", [r.id], "导入文件记录的 " + "；".join(diffs))
            active, replaced_by, by = state[r.id]
            if bool(r.active) != active or r.replaced_by != replaced_by:
                now = f"{'有效' if r.active else '无效'}、replaced_by={r.replaced_by}"
                then = f"{'有效' if active else '无效'}、replaced_by={replaced_by}"
                self.bad(by, "import_file", [r.id], f"导入文件记录为{now}，按导入和替换事件应为{then}")
        for iid in sorted(set(want) - present):
            self.bad(want[iid][0], "import_file", [iid], "导入文件记录已被删除")

    # ---- unit, branch, tier_change, rectification

    def small_tables(self) -> None:
        """Replay the events that wrote unit, branch, tier_change and rectification rows, then compare."""
        exp: dict[str, dict[int, _Expect]] = {name: {} for name in ROW_MODELS}
        ids_by_code: dict[str, dict[Any, int]] = {"unit": {}, "branch": {}}
        legacy_codes: set[str] = set()  # unit / branch codes an older djctl wrote (no row digests)
        legacy_roster_tiers: set[str] = set()  # branch codes whose 名册导入 tier changes an older djctl wrote

        def put(name: str, rid: Any, e: _Expect) -> None:
            if isinstance(rid, int):
                exp[name][rid] = e
                if name in ids_by_code:
                    ids_by_code[name][e.label] = rid

        def legacy_touch(ev: _Event, codes: Iterable[Any], names: tuple[str, ...] = ("unit", "branch")) -> None:
            for code in codes:
                for name in names:
                    rid = ids_by_code[name].get(code)
                    if rid is not None:
                        exp[name][rid] = _Expect(ev, code)  # rewritten without its content: not covered now

        for ev in self.events(*ROW_WRITERS):
            d = ev.doc
            digests = d.get(ROW_DIGESTS)
            if isinstance(digests, dict):
                for name, entries in digests.items():
                    if name not in exp or not isinstance(entries, list):
                        continue
                    for entry in entries:
                        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], str):
                            put(name, entry[0], _Expect(ev, entry[1], digest=entry[2]))
                continue
            # an event written before row digests: what its payload says, field by field
            a = ev.action
            if a == "org.import":
                units, branches = d.get("units") or {}, d.get("branches") or {}
                legacy_codes.update(r[0] for r in d.get("rows") or [] if isinstance(r, list) and r)
                for part in (units, branches):
                    legacy_codes.update(_codes(part.get("deactivated")))
                    legacy_touch(ev, _codes(part.get("added")) + _codes(part.get("changed"))
                                 + _codes(part.get("deactivated")))
                changed = branches.get("changed") if isinstance(branches.get("changed"), dict) else {}
                legacy_roster_tiers.update(_codes(branches.get("added")))
                legacy_roster_tiers.update(c for c, diff in changed.items() if isinstance(diff, dict) and "tier" in diff)
            elif a == "tier.set":
                put("tier_change", d.get("tier_change_id"), _Expect(ev, d.get("branch"), fields={
                    "branch_code": d.get("branch"), "from_tier": d.get("from"), "to_tier": d.get("to"),
                    "on_date": d.get("date"), "basis": d.get("basis"), "note": d.get("note"),
                    "source_ref": d.get("source_ref")}))
                legacy_touch(ev, [d.get("branch")], ("branch",))
            elif a == "tier.import":
                for c in d.get("changes") or []:
                    if isinstance(c, list) and len(c) >= 7:
                        put("tier_change", c[6], _Expect(ev, c[0], fields={
                            "branch_code": c[0], "from_tier": c[1], "to_tier": c[2], "on_date": c[3], "note": c[4]}))
                        legacy_touch(ev, [c[0]], ("branch",))
            elif a in ("lookback.import", "check.import"):
                org, kind = (d.get("branch"), "branch") if a == "lookback.import" else (d.get("unit"), "unit")
                rebound = d.get("rebound")
                if isinstance(rebound, dict):
                    put("tier_change", rebound.get("tier_change_id"), _Expect(ev, org, fields={
                        "branch_code": org, "from_tier": rebound.get("from"), "to_tier": rebound.get("to"),
                        "on_date": rebound.get("date")}))
                    legacy_touch(ev, [org], ("branch",))
                for rid in d.get("rectifications") or []:
                    put("rectification", rid, _Expect(ev, org, fields={
                        "org_code": org, "org_kind": kind, "source": "lookback" if kind == "branch" else "spotcheck",
                        "due": d.get("rectification_due")}))
            elif a == "rectify.add":
                put("rectification", d.get("id"), _Expect(ev, d.get("org"), fields={
                    "org_code": d.get("org"), "org_kind": d.get("kind"), "problem": d.get("problem"),
                    "source": d.get("source"), "source_ref": d.get("source_ref"), "due": d.get("due"),
                    "status": "open", "feedback": "", "closed_on": None}))
            elif a in ("rectify.update", "rectify.close") and isinstance(d.get("id"), int):
                new = d.get("new") if isinstance(d.get("new"), dict) else {}
                before = exp["rectification"].get(d["id"])
                fields = dict(before.fields or {}) if before is not None else {}
                fields.update({k: new[k] for k in ("status", "feedback", "closed_on") if k in new})
                put("rectification", d["id"], _Expect(ev, d.get("org"), fields=fields))

        for name, model in ROW_MODELS.items():
            columns = ROW_COLUMNS[name]
            label_col = ROW_LABEL[name]
            what = ROW_WHAT[name]
            present: set[int] = set()
            not_covered: list[int] = []
            for r in self.table(model, columns):
                present.add(r.id)
                e = exp[name].get(r.id)
                label = getattr(r, label_col)
                if e is None:
                    if (name in ("unit", "branch") and label in legacy_codes) or (
                            name == "tier_change" and r.basis == ROSTER_BASIS and label in legacy_roster_tiers):
                        not_covered.append(r.id)
                    else:
                        self.uncovered(name, r.id, f"{what}（{label}）")
                elif e.digest is not None:
                    if row_digest(getattr(r, c) for c in columns) != e.digest:
                        self.bad(e.ev, name, [r.id], f"{what}「{label}」的内容与写入时的摘要不符（被改动）")
                elif e.fields:
                    diffs = [f"{c} 为「{_plain(getattr(r, c))}」，写入时为「{v}」" for c, v in e.fields.items()
                             if _plain(getattr(r, c)) != v]
                    if diffs:
                        self.bad(e.ev, name, [r.id], f"{what}「{label}」的" + "；".join(diffs))
                else:
                    not_covered.append(r.id)
            for rid in sorted(set(exp[name]) - present):
                e = exp[name][rid]
                self.bad(e.ev, name, [rid], f"{what}「{e.label}」已被删除")
            if not_covered:
                self.result.not_covered.append(ContentProblem(
                    name, not_covered, f"这 {len(not_covered)} 行由旧版 djctl 写入，审计事件中没有其内容摘要，未核对"))

    # ---- negative list, scheme

    def negative_entries(self) -> None:
        entries: dict[int, tuple[_Event, list]] = {}
        replaced: dict[int, _Event] = {}
        for ev in self.events("negative.build"):
            ids, rows = ev.doc.get("ids"), ev.doc.get("entries")
            if isinstance(ids, list) and isinstance(rows, list) and len(ids) == len(rows):
                for rid, row in zip(ids, rows):
                    if isinstance(rid, int) and isinstance(row, list):
                        entries[rid] = (ev, row)
            for old in ev.doc.get("replaced") or []:
                if isinstance(old, int):
                    replaced[old] = ev
        present: set[int] = set()
        for r in self.table(NegativeEntry, ("year", "org_code", "org_kind", "reasons", "active")):
            present.add(r.id)
            got = entries.get(r.id)
            if got is None:
                self.uncovered("negative_entry", r.id, f"负面清单条目（{r.org_code}）")
                continue
            ev, want = got
            try:
                reasons = json.loads(r.reasons)
            except (TypeError, ValueError):
                reasons = r.reasons
            diffs = []
            if [r.org_kind, r.org_code] != want[:2]:
                diffs.append(f"组织为「{r.org_code}」（{r.org_kind}），生成时为「{_at(want, 1)}」（{_at(want, 0)}）")
            if r.year != ev.doc.get("year"):
                diffs.append(f"年度为 {r.year}，生成时为 {ev.doc.get('year')}")
            if reasons != _at(want, 2):
                n_have = len(reasons) if isinstance(reasons, list) else "?"
                n_want = len(want[2]) if isinstance(_at(want, 2), list) else "?"
                diffs.append(f"列入原因与生成时不符（现 {n_have} 条，生成时 {n_want} 条）")
            if diffs:
                self.bad(ev, "negative_entry", [r.id], f"负面清单条目「{r.org_code}」的" + "；".join(diffs))
            later = replaced.get(r.id)
            want_active = later is None or later.seq < ev.seq
            if bool(r.active) != want_active:
                self.bad(later or ev, "negative_entry", [r.id], _active_msg(r.active, want_active, later))
        for rid in sorted(set(entries) - present):
            ev, want = entries[rid]
            self.bad(ev, "negative_entry", [rid], f"{ev.doc.get('year')} 年负面清单中「{_at(want, 1)}」的条目已被删除")

    def schemes(self) -> None:
        latest: dict[int, _Event] = {}
        for ev in self.events("scheme.set"):
            if isinstance(ev.doc.get("year"), int):
                latest[ev.doc["year"]] = ev
        years: set[int] = set()
        for r in self.table(Scheme, ("year", "toml", "sha256")):
            years.add(r.year)
            ev = latest.get(r.year)
            if ev is None:
                self.uncovered("scheme", r.id, f"{r.year} 年度考核方案")
            elif r.toml != ev.doc.get("toml") or r.sha256 != ev.doc.get("sha256"):
                self.bad(ev, "scheme", [r.id], f"{r.year} 年度考核方案的文本或摘要与写入时不符（方案被改动）")
        for year in sorted(set(latest) - years):
            self.bad(latest[year], "scheme", [], f"{year} 年度考核方案已被删除")


def _at(items: list, i: int) -> Any:
    return items[i] if len(items) > i else None


def _codes(value: Any) -> list[Any]:
    """Codes of a roster payload part: a list of codes or a {code: diff} dict."""
    if isinstance(value, dict):
        return list(value)
    return list(value) if isinstance(value, list) else []


def _file_name(path: str) -> str:
    return re.split(r"[\\/]", path or "")[-1]


def _import_fields(ev: _Event) -> dict[str, Any]:
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


def _x100(points: Any) -> int | None:
    try:
        return int(Decimal(str(points)) * 100)
    except (InvalidOperation, ValueError):
        return None


def _active_msg(active: Any, want: bool, later: _Event | None) -> str:
    if want:
        return "被标为无效，但没有替换或取代它的审计事件"
    if later is not None:
        return f"应已被第 {later.seq} 号事件替换（无效），现仍为有效"
    return "应已被替换（无效），现仍为有效"


def check(conn) -> ContentResult:
    """Compare every content-bearing audit event with the rows it describes (see the module docstring)."""
    return _Checker(conn).run()
