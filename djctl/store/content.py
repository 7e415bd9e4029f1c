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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from djctl.store.audit import AUDIT, rows_digest
from djctl.store.tables import (Adjustment, CheckReport, CheckScore, Draw, DrawEntry, ImportFile, LookbackResult,
                                SelfReport, SelfScore, Task, TaskList, Vote)

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

#: Action families djctl itself writes. Events of any other family make "rows no event covers" unverified.
KNOWN_FAMILIES = frozenset({"scheme", "org", "tasks", "selfeval", "check", "sample", "lookback", "votes", "adjust",
                            "tier", "rectify", "negative", "store"})
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
        head = f"第 {self.seq} 号事件（{self.action}）" if self.seq is not None else "无对应审计事件"
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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "rows": self.rows,
                "problems": [p.to_json() for p in self.problems], "more_problems": self.more,
                "unverified": [p.to_json() for p in self.unverified], "unknown_actions": self.unknown_actions}


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


class _Checker:
    def __init__(self, conn) -> None:
        self.conn = conn
        self.result = ContentResult()
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
        q = (select(AUDIT.c.seq, AUDIT.c.action, AUDIT.c.payload).where(AUDIT.c.action.in_(actions))
             .order_by(AUDIT.c.seq))
        out = []
        for seq, action, payload in self.conn.execute(q):
            try:
                doc = json.loads(payload)
            except ValueError:
                continue  # the chain check names it
            if isinstance(doc, dict):
                out.append(_Event(seq, action, doc))
        self.result.events += len(out)
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
             parents: set[int], what: str, digest_key: str, count_key: str) -> None:
        """Compare the bulk rows of every covered parent with its event's digest and count."""
        seen: set[int] = set()
        name = table.name
        for parent, ids, rows in self.groups(table, parent_col, columns):
            ev = expected.get(parent)
            if ev is None:
                if parent not in parents:
                    self.bad(None, name, ids, f"{len(ids)} 行所属的{what} #{parent} 不存在（孤立的行）")
                continue  # the parent itself is reported as uncovered
            seen.add(parent)
            self._compare_bulk(ev, name, ids, rows, what, parent, digest_key, count_key)
        for parent, ev in expected.items():
            if parent not in seen and parent in parents:
                self._compare_bulk(ev, name, [], [], what, parent, digest_key, count_key)

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

    def _imports(self) -> dict[int, Any]:
        if not hasattr(self, "_import_rows"):
            self._import_rows = {r.id: r for r in self.table(ImportFile, ("kind", "sha256"))}
        return self._import_rows

    def _import_file(self, ev: _Event, kind: str) -> None:
        imp_id = ev.doc.get("import_id")
        if not isinstance(imp_id, int):
            return
        imp = self._imports().get(imp_id)
        if imp is None:
            self.bad(ev, "import_file", [imp_id], "导入文件记录已被删除")
        elif imp.kind != kind or ("sha256" in ev.doc and imp.sha256 != ev.doc["sha256"]):
            self.bad(ev, "import_file", [imp_id], f"导入文件记录（{imp.kind}，{imp.sha256[:12]}…）与写入时"
                                                   f"（{kind}，{str(ev.doc.get('sha256'))[:12]}…）不符")

    def _reports(self, model, table: str, events: list[_Event], replaced: dict[int, _Event],
                 columns: tuple[tuple[str, str], ...], what: str, kind: str,
                 superseded: set[int] | None = None) -> tuple[dict[int, _Event], set[int]]:
        reports = self.by_id(events, "report_id", table)
        present: set[int] = set()
        for r in self.table(model, ("active", *(col for col, _ in columns))):
            present.add(r.id)
            ev = reports.get(r.id)
            if ev is None:
                self.uncovered(table, r.id, what)
                continue
            for col, key in columns:
                if key in ev.doc and getattr(r, col) != ev.doc[key]:
                    self.bad(ev, table, [r.id], f"{col} 为「{getattr(r, col)}」，写入时为「{ev.doc[key]}」")
            later = replaced.get(r.id)
            want_active = not ((later is not None and later.seq > ev.seq) or r.id in (superseded or ()))
            if bool(r.active) != want_active:
                self.bad(later or ev, table, [r.id], _active_msg(r.active, want_active, later))
        for rid in sorted(set(reports) - present):
            self.bad(reports[rid], table, [rid], f"{what}已被删除")
        for ev in events:
            self._import_file(ev, kind)
        return reports, present

    def selfeval(self, superseded: set[int]) -> None:
        events = self.events("selfeval.import")
        replaced = {ev.doc["replaced_report"]: ev for ev in events if isinstance(ev.doc.get("replaced_report"), int)}
        cols = (("unit_code", "unit"), ("month", "month"), ("import_id", "import_id"))
        reports, present = self._reports(SelfReport, "self_report", events, replaced, cols, "自评记录", "selfeval",
                                         superseded)
        self.bulk(SELF_SCORE, "report_id", SELF_SCORE_COLUMNS, reports, present, "自评记录", "rows_sha256", "rows")

    def checks(self) -> None:
        events = self.events("check.import")
        replaced = {ev.doc["replaced_report"]: ev for ev in events if isinstance(ev.doc.get("replaced_report"), int)}
        cols = (("unit_code", "unit"), ("month", "month"), ("import_id", "import_id"), ("draw_id", "draw_id"),
                ("self_report_id", "self_report_id"))
        reports, present = self._reports(CheckReport, "check_report", events, replaced, cols, "核查记录", "check")
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
        for d in self.table(Draw, ("kind", "record", "active", "period", "seq", "label", "seed", "k", "population_hash",
                                   "rate")):
            present.add(d.id)
            ev = draws.get(d.id)
            if ev is None:
                self.uncovered("draw", d.id, "抽签")
                continue
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
        self.bulk(DRAW_ENTRY, "draw_id", DRAW_ENTRY_COLUMNS, draws, present, "抽签", "entries_digest", "entries")

    def votes(self) -> None:
        events = self.events("votes.import")
        imports = self.by_id(events, "import_id", "vote")
        replaced: dict[int, _Event] = {}
        for ev in events:
            self._import_file(ev, "votes")
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
            self._import_file(ev, "lookback")
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
