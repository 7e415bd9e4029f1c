"""The digests the audit chain carries for the rows it vouches for: bulk rows (scores, draw entries,
look-back results, votes) digested per parent, small-table rows per row (`row_digests`). Writers call these
functions inside their transaction; `djctl.store.content` recomputes the same functions over the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select

from djctl.store.audit import canonical, rows_digest
from djctl.store.tables import (Action, Branch, CheckScore, Debrief, DocNumber, DrawEntry, Inspector, LookbackResult,
                                NegativeManual,
                                Rectification, RectificationEvent, RectificationTag, SelfScore, StaffMember, StaffScore,
                                TierChange, TierPlan, TierPlanUpdate, Unit, Vote)

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
    "negative_manual": ("year", "org_kind", "org_code", "reason", "basis", "consequences", "adjustment_id",
                        "added_on", "revoked_on", "revoke_reason"),
}
#: The column that names a row in the payload and in findings (its code, or its organization's code).
ROW_LABEL = {"unit": "code", "branch": "code", "tier_change": "branch_code", "rectification": "org_code",
             "rectification_event": "item_id", "action": "unit_code", "tier_plan": "branch_code",
             "tier_plan_update": "plan_id", "rectification_tag": "item_id", "inspector": "code",
             "debrief": "org_code", "staff_member": "code", "staff_score": "staff_code",
             "doc_number": "number", "negative_manual": "org_code"}
ROW_MODELS = {"unit": Unit, "branch": Branch, "tier_change": TierChange, "rectification": Rectification,
              "rectification_event": RectificationEvent, "action": Action, "tier_plan": TierPlan,
              "tier_plan_update": TierPlanUpdate, "rectification_tag": RectificationTag, "inspector": Inspector,
              "debrief": Debrief, "staff_member": StaffMember, "staff_score": StaffScore,
              "doc_number": DocNumber, "negative_manual": NegativeManual}
ROW_WHAT = {"unit": "单位", "branch": "支部", "tier_change": "等次变动记录", "rectification": "整改事项",
            "rectification_event": "整改事项变动记录", "action": "问责措施", "tier_plan": "整改提升计划",
            "tier_plan_update": "整改提升计划进展", "rectification_tag": "整改事项分类", "inspector": "检查人员",
            "debrief": "述职评议记录", "staff_member": "工委干部名册记录", "staff_score": "工委干部月度考评记录",
            "doc_number": "发文字号", "negative_manual": "负面清单经研究列入条目"}
_IN_CHUNK = 500


def plain(v: Any) -> Any:
    """A column value as it goes into a row digest: dates and times as ISO text (times in UTC)."""
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def row_digest(values: Iterable[Any]) -> str:
    """Digest of one row's content columns: SHA-256 of their canonical JSON, first 32 hex digits (128 bits)."""
    return hashlib.sha256(canonical([plain(v) for v in values]).encode("utf-8")).hexdigest()[:32]


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
