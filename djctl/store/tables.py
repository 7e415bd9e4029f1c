"""All tables of the store. Points are integer hundredths (`*_x100`); dates are ISO dates.

Rows are never overwritten silently: replaced imports keep their rows with `active = False`, and every
write appends an audit event in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Scheme(SQLModel, table=True):
    """The year's rules (考核方案), as the TOML text that was loaded."""

    __tablename__ = "scheme"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True, unique=True)
    name: str
    toml: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str
    created_at: datetime


class Unit(SQLModel, table=True):
    """考核单位（直属党组织）."""

    __tablename__ = "unit"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)
    name: str
    kind: str  # 机关党委 / 党总支 / 党支部
    group_name: str = ""
    secretary: str = ""
    members: int = 0
    active_from: date | None = None
    active_to: date | None = None
    updated_at: datetime


class Branch(SQLModel, table=True):
    """党支部; holds a tier."""

    __tablename__ = "branch"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)
    name: str
    unit_code: str = Field(foreign_key="unit.code", index=True)
    members: int = 0
    tier: str = "未达标"
    tier_date: date | None = None
    active: bool = True
    updated_at: datetime


class TierChange(SQLModel, table=True):
    """Every change of a branch's tier, with its basis (验收、回头看、申报、导入)."""

    __tablename__ = "tier_change"
    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(foreign_key="branch.code", index=True)
    from_tier: str | None = None
    to_tier: str
    on_date: date
    basis: str
    note: str = ""
    source_ref: str = ""
    created_at: datetime


class ImportFile(SQLModel, table=True):
    """One imported file: its SHA-256, what it was for, and whether it is the current one."""

    __tablename__ = "import_file"
    __table_args__ = (Index("ix_import_file_kind_key", "kind", "subject", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # roster / tasks / selfeval / check / votes / adjust / tier / lookback
    path: str
    sha256: str = Field(index=True)
    subject: str = ""  # unit or branch code the file is about ('' for whole-store files)
    period: str = ""  # 2024-03 / 2024 / ''
    rows: int = 0
    active: bool = True
    replaced_by: int | None = None
    actor: str
    created_at: datetime


class TaskList(SQLModel, table=True):
    """A month's task list (月度任务清单); a changed list is a new version, the old one kept."""

    __tablename__ = "task_list"
    __table_args__ = (UniqueConstraint("month", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(index=True)
    version: int = 1
    sha256: str
    source: str = ""
    active: bool = True
    created_at: datetime


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("task_list_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    task_list_id: int = Field(foreign_key="task_list.id", index=True)
    seq: int
    code: str
    name: str
    points_x100: int
    dimension: str = ""
    note: str = ""


class SelfReport(SQLModel, table=True):
    """One unit's self-assessment of one month (月自评), from one imported workbook."""

    __tablename__ = "self_report"
    __table_args__ = (Index("ix_self_report_month_unit", "month", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="unit.code")
    month: str
    task_list_id: int = Field(foreign_key="task_list.id")
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime
    total_x100: int | None = None  # sum of its self_score rows, stored at import (NULL: sum the rows)
    # the month's result (domain.scoring.month_result), written with the report and again by the check that
    # changes it (migration 0004); NULL: computed from the rows when read
    final_x100: int | None = None
    rate_x100: int | None = None  # the monthly rate in hundredths (85.17 -> 8517)
    deduction_x100: int | None = None
    checked: bool | None = None
    false_tasks: str | None = None  # JSON array of the task codes found false


class SelfScore(SQLModel, table=True):
    """Bulk rows: written through Core executemany."""

    __tablename__ = "self_score"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="self_report.id", index=True)
    task_code: str
    points_x100: int
    note: str = ""


class Draw(SQLModel, table=True):
    """One random selection (抽签), kept for ever with its whole record."""

    __tablename__ = "draw"
    __table_args__ = (UniqueConstraint("kind", "period", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # sample / lookback
    period: str
    seq: int = 1  # 1 = first draw, 2 = first redraw ...
    label: str
    algorithm: str
    seed: str
    seed_generated: bool = False
    rate: str | None = None
    k: int
    population_hash: str
    record: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of the draw record
    reason: str = ""
    unannounced: bool = False
    active: bool = True
    created_at: datetime
    as_of: date | None = None  # business date of the draw (the day its population is taken as of)


class DrawEntry(SQLModel, table=True):
    """Bulk rows: every population member of a draw with its key."""

    __tablename__ = "draw_entry"
    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="draw.id", index=True)
    code: str
    key: str
    selected: bool = False
    order_no: int | None = None
    mandatory_reason: str = ""
    excluded_reason: str = ""


class CheckReport(SQLModel, table=True):
    """The committee's verification of a drawn unit's month (抽查核查)."""

    __tablename__ = "check_report"
    __table_args__ = (Index("ix_check_report_month_unit", "month", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="unit.code")
    month: str
    draw_id: int = Field(foreign_key="draw.id")
    self_report_id: int = Field(foreign_key="self_report.id")
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime
    checked_on: date | None = None  # 核查日期: the check's business date (the worksheet's, else the month's end)


class CheckScore(SQLModel, table=True):
    """Bulk rows: verified points per task."""

    __tablename__ = "check_score"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="check_report.id", index=True)
    task_code: str
    verified_x100: int
    false_flag: bool | None = None  # None: decided by the scheme's tolerance rule
    note: str = ""
    checker: str = ""


class Vote(SQLModel, table=True):
    """Democratic evaluation (民主测评) counts of one unit in one year."""

    __tablename__ = "vote"
    __table_args__ = (Index("ix_vote_year_unit", "year", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    unit_code: str = Field(foreign_key="unit.code")
    good: int = 0
    fairly_good: int = 0
    average: int = 0
    poor: int = 0
    voters: int | None = None
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime
    decided_on: date | None = None  # the day the votes were counted


class Adjustment(SQLModel, table=True):
    """A bonus (加分项) or deduction (减分项) item; revoked items stay with their reason."""

    __tablename__ = "adjustment"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    unit_code: str = Field(foreign_key="unit.code")
    kind: str  # bonus / deduction
    points_x100: int
    reason: str
    basis: str = ""
    veto: bool = False
    revoked_at: datetime | None = None
    revoke_reason: str = ""
    import_id: int | None = Field(default=None, foreign_key="import_file.id")
    created_at: datetime
    decided_on: date | None = None  # the day the item was decided


class LookbackResult(SQLModel, table=True):
    """One checklist item of a look-back (回头看) of one branch."""

    __tablename__ = "lookback_result"
    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="draw.id", index=True)
    branch_code: str = Field(foreign_key="branch.code")
    tier: str
    item_code: str
    item: str
    passed: bool
    problem: str = ""
    checker: str = ""
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    checked_on: date | None = None  # 核查日期 of the look-back


class Rectification(SQLModel, table=True):
    """整改事项: a problem with owner, deadline, status and feedback."""

    __tablename__ = "rectification"
    id: int | None = Field(default=None, primary_key=True)
    org_code: str = Field(index=True)
    org_kind: str  # unit / branch
    problem: str = Field(sa_column=Column(Text, nullable=False))
    source: str  # spotcheck / lookback / inspection
    source_ref: str = ""
    due: date
    status: str = "open"  # open / in_progress / closed
    feedback: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    closed_on: date | None = None
    created_at: datetime
    updated_at: datetime
    found_on: date | None = None  # the day the problem was found (business date; always set since 0003)


class NegativeEntry(SQLModel, table=True):
    """One organization on a year's negative list (负面清单), with its reasons (JSON list)."""

    __tablename__ = "negative_entry"
    __table_args__ = (Index("ix_negative_entry_year_org", "year", "org_code"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    org_code: str
    org_kind: str
    reasons: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    created_at: datetime
    decided_on: date | None = None  # the day the list was decided (its as-of date)


class NegativeManual(SQLModel, table=True):
    """An organization put on a year's negative list by decision (经研究列入), with its reason, basis and
    consequences (JSON list of the scheme's `[negative]` words). Never deleted: a revocation sets its date,
    reason and time once (an entry is revoked at most once); lists as of earlier dates still show it."""

    __tablename__ = "negative_manual"
    __table_args__ = (Index("ix_negative_manual_year_org", "year", "org_code"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    org_kind: str  # unit / branch
    org_code: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    basis: str
    consequences: str = "[]"
    adjustment_id: int | None = Field(default=None, foreign_key="adjustment.id")  # the 扣分 item, if any
    added_on: date  # business date of the decision
    created_at: datetime
    revoked_on: date | None = None
    revoke_reason: str = ""
    revoked_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """The append-only audit chain; the store refuses updates and deletes of these rows."""

    __tablename__ = "audit_event"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str
    actor: str
    action: str = Field(index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str
    hash: str


class Action(SQLModel, table=True):
    """问责措施: a measure (提醒谈话 … 问责) taken against a unit or its secretary on a business date.

    Never deleted: a measure recorded by mistake is revoked with a date and a reason and stays listed."""

    __tablename__ = "action"
    __table_args__ = (Index("ix_action_unit_date", "unit_code", "on_date"),)
    id: int | None = Field(default=None, primary_key=True)
    on_date: date = Field(index=True)
    kind: str  # one of the scheme's accountability.kinds
    target: str  # unit / secretary
    unit_code: str = Field(foreign_key="unit.code")
    person: str = ""  # the secretary's name when target = secretary
    reason: str = Field(sa_column=Column(Text, nullable=False))
    basis: str = ""
    taken_by: str = ""
    items: str = "[]"  # JSON list of the rectification item ids it answers
    adjustment_id: int | None = Field(default=None, foreign_key="adjustment.id")
    revoked_on: date | None = None
    revoke_reason: str = ""
    import_id: int | None = Field(default=None, foreign_key="import_file.id")
    created_at: datetime


class TierPlan(SQLModel, table=True):
    """整改提升计划 of a branch rated 未达标: who, what, by when; its progress is in tier_plan_update."""

    __tablename__ = "tier_plan"
    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(foreign_key="branch.code", index=True)
    on_date: date  # the day the plan was set
    responsible: str
    measures: str = Field(sa_column=Column(Text, nullable=False))
    target_date: date
    created_at: datetime


class TierPlanUpdate(SQLModel, table=True):
    """One progress report of a 整改提升计划 on a business date; `done` marks it completed."""

    __tablename__ = "tier_plan_update"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="tier_plan.id", index=True)
    on_date: date
    progress: str = Field(sa_column=Column(Text, nullable=False))
    done: bool = False
    created_at: datetime


class RectificationEvent(SQLModel, table=True):
    """One change of a rectification item, effective on its business date (`on_date`): found, progress,
    close, reopen, extend. The item's status and deadline on any day D are those of its last event dated on or
    before D (events of one day in id order), so "open / overdue at D" can be answered for every D.
    `detail` (JSON text, '' when empty) carries what later kinds of change need (category, feedback form).
    """

    __tablename__ = "rectification_event"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="rectification.id", index=True)
    action: str  # found / progress / close / reopen / extend
    status: str  # the item's status from on_date on: open / in_progress / closed
    on_date: date
    due: date  # the deadline from on_date on
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime  # audit time (wall clock), never read by a report


class RectificationTag(SQLModel, table=True):
    """The category (问题类别) and severity of a rectification item, set on a business date; the latest row
    of an item counts, older ones stay as its history."""

    __tablename__ = "rectification_tag"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="rectification.id", index=True)
    category: str
    severity: str = ""
    on_date: date
    note: str = ""
    created_at: datetime


class Inspector(SQLModel, table=True):
    """A member of the inspector pool (检查人员, 双随机). A new pool file keeps the old rows with active = False."""

    __tablename__ = "inspector"
    __table_args__ = (Index("ix_inspector_code_active", "code", "active"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str
    name: str
    unit_code: str = ""  # the unit the inspector works in ('' for the committee's own staff)
    group_name: str = ""
    role: str = ""
    served: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON [[unit_code, last_year], ...]
    import_id: int | None = None
    active: bool = True
    created_at: datetime


# --------------------------------------------------------------------------- people (issue 19; migration 0005)


class Debrief(SQLModel, table=True):
    """One secretary's 述职评议 of one year: who, when (business date), the votes per level (好/较好/一般/差).

    The rating is not stored: the year's scheme computes it from the votes (`domain.people.debrief_rating`).
    A replaced import keeps its rows with `active = False`."""

    __tablename__ = "debrief"
    __table_args__ = (Index("ix_debrief_year_org", "year", "org_code"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    org_code: str
    org_kind: str  # unit / branch
    level: str  # 机关党委 / 党总支 / 党支部
    secretary: str
    reported_on: date | None = None  # 述职日期; None: did not report
    good: int = 0
    fairly_good: int = 0
    average: int = 0
    poor: int = 0
    voters: int = 0
    note: str = ""
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime


class StaffMember(SQLModel, table=True):
    """工委干部: one version of a staff member's roster row; a changed row is a new version (old kept inactive)."""

    __tablename__ = "staff_member"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True)
    name: str
    position: str = ""
    department: str = ""
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime


class StaffScore(SQLModel, table=True):
    """One staff member's monthly evaluation: the three dimensions in hundredths of a point."""

    __tablename__ = "staff_score"
    __table_args__ = (Index("ix_staff_score_month_code", "month", "staff_code"),)
    id: int | None = Field(default=None, primary_key=True)
    month: str
    staff_code: str
    work_x100: int  # 工作实绩
    conduct_x100: int  # 作风表现
    overall_x100: int  # 综合测评
    note: str = ""
    import_id: int = Field(foreign_key="import_file.id")
    active: bool = True
    created_at: datetime


class DocNumber(SQLModel, table=True):
    """A 发文字号 given to one document (kind + subject, e.g. bulletin 2024Q2): the counter of its year of
    issue. Numbers are never reused; a document issued again keeps its number."""

    __tablename__ = "doc_number"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_doc_number_year_seq"),
                      UniqueConstraint("kind", "subject", name="uq_doc_number_kind_subject"))
    id: int | None = Field(default=None, primary_key=True)
    year: int
    seq: int
    number: str
    kind: str
    subject: str
    title: str
    issued_on: date
