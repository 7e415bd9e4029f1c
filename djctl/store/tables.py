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
