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

The digests of bulk rows are defined in `djctl.store.digests` and only there: importers call `self_score_digest`,
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

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select

from djctl.store.audit import AUDIT, rows_digest
from djctl.store.content_model import (IMPORT_KINDS, KNOWN_FAMILIES, MAX_PROBLEMS, RECOMPUTED, ContentProblem,
                                       ContentResult, Event, active_msg, file_name, import_fields, x100_of)
from djctl.store.content_small import SmallTableChecks
from djctl.store.digests import (CHECK_SCORE, CHECK_SCORE_COLUMNS, DRAW_ENTRY, DRAW_ENTRY_COLUMNS, ENTRIES_SCOPE,
                                 LOOKBACK_COLUMNS, LOOKBACK_RESULT, ROW_DIGESTS, SELF_SCORE, SELF_SCORE_COLUMNS,
                                 VOTE_COLUMNS, draw_entry_full_rows, record_digest, row_digest, row_digests)
from djctl.store.tables import Adjustment, CheckReport, Draw, ImportFile, SelfReport, Task, TaskList, Vote

#: What other modules import from here: the check and its result, and (for writers) the digests.
__all__ = ["MAX_PROBLEMS", "RECOMPUTED", "ROW_DIGESTS", "ContentProblem", "ContentResult", "check", "draw_entry_full_rows",
           "row_digest", "row_digests"]


class _Checker(SmallTableChecks):
    def __init__(self, conn) -> None:
        self.conn = conn
        self.result = ContentResult()
        self._seen: set[int] = set()
        actions = [a for (a,) in conn.execute(select(AUDIT.c.action).distinct())]
        self.result.unknown_actions = sorted(a for a in actions if a.split(".", 1)[0] not in KNOWN_FAMILIES)
        self.strict_coverage = not self.result.unknown_actions

    # ---- reporting

    def bad(self, ev: Event | None, table: str, rows: Iterable[int | None], message: str) -> None:
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

    def events(self, *actions: str) -> list[Event]:
        q = (select(AUDIT.c.seq, AUDIT.c.action, AUDIT.c.payload, AUDIT.c.actor).where(AUDIT.c.action.in_(actions))
             .order_by(AUDIT.c.seq))
        out = []
        for seq, action, payload, who in self.conn.execute(q):
            try:
                doc = json.loads(payload)
            except ValueError:
                continue  # the chain check names it
            if isinstance(doc, dict):
                out.append(Event(seq, action, doc, who))
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

    def by_id(self, events: list[Event], key: str, table: str) -> dict[int, Event]:
        out: dict[int, Event] = {}
        for ev in events:
            rid = ev.doc.get(key)
            if not isinstance(rid, int):
                continue
            if rid in out:
                self.bad(ev, table, [rid], f"第 {out[rid].seq} 号事件已写入过这条记录，不应再次写入（审计事件被复制）")
                continue
            out[rid] = ev
        return out

    def bulk(self, table, parent_col: str, columns: tuple[str, ...], expected: dict[int, Event],
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

    def _compare_bulk(self, ev: Event, name: str, ids: list[int], rows: list[tuple], what: str, parent: int,
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
                self.bad(later or ev, "task_list", [tl.id], active_msg(tl.active, want_active, later))
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

    def _compare_tasks(self, ev: Event, parent: int, ids: list[int], rows: list[tuple]) -> None:
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
            if [code, name, dim] != [w[0], w[1], w[3]] or x100_of(w[2]) != x100:
                self.bad(ev, "task", [rid], f"任务「{code}」为（{name}，{x100 / 100:g} 分，{dim}），"
                                            f"写入时为（{w[1]}，{w[2]} 分，{w[3]}）")

    def _reports(self, model, table: str, events: list[Event], replaced: dict[int, Event],
                 columns: tuple[tuple[str, str], ...], what: str,
                 superseded: set[int] | None = None,
                 optional: tuple[tuple[str, str], ...] = ()) -> tuple[dict[int, Event], set[int]]:
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
                self.bad(later or ev, table, [r.id], active_msg(r.active, want_active, later))
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
        events = self.events("sample.draw", "lookback.draw", "recheck.draw")
        draws = self.by_id(events, "draw_id", "draw")
        superseded: dict[int, Event] = {}
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
                self.bad(later or ev, "draw", [d.id], active_msg(d.active, want_active, later))
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
        replaced: dict[int, Event] = {}
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
        replaced: dict[int, Event] = {}
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
        items: dict[int, tuple[Event, list]] = {}
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
        want: dict[int, tuple[Event, dict[str, Any]]] = {}
        state: dict[int, list[Any]] = {}  # import id -> [active, replaced_by, event that set them]
        report_import: dict[tuple[str, int], int] = {}
        for full in self.events(*IMPORT_KINDS, "tasks.set"):
            d = full.doc
            ev = Event(full.seq, full.action, {}, full.actor)  # kept per import file: without its payload
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
            want[iid] = (ev, import_fields(full))
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
            have = {"kind": r.kind, "file": file_name(r.path), "sha256": r.sha256, "subject": r.subject,
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

def check(conn) -> ContentResult:
    """Compare every content-bearing audit event with the rows it describes (see the module docstring)."""
    return _Checker(conn).run()
