"""Stored draws (抽签), shared by monthly spot checks and look-backs.

A draw is kept for ever as one `draw` row (the whole record as canonical JSON plus the columns people
search by: the population and every key are in it) and one `draw_entry` row per member that matters
(selected, mandatory or excluded: its key, whether and in which order it was selected, and the reasons it
was mandatory or excluded), written in one transaction with ONE audit event
whose payload carries the SHA-256 of the canonical record. Nothing here decides who is in the population:
the workflow (spotcheck_draw, lookback) builds the inputs, `djctl.domain.sampling.run_draw` draws, and this
module stores, loads, presents and verifies.

Verifying a stored draw checks three things: the record recomputes to itself (`verify_record`), the record
is the one the audit chain saw when the draw was made (digest), and the columns and `draw_entry` rows agree
with the record. An exported record file is verified on its own, without any store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Executable
from sqlmodel import select

from djctl.domain.sampling import DrawRecord, draw_label
from djctl.errors import DjctlError
from djctl.store.audit import AUDIT, canonical
from djctl.store.bulk import insert_rows
from djctl.store.compiled import exec_cached
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Draw, DrawEntry, Unit

DRAW = Draw.__table__

KINDS = ("sample", "lookback", "recheck")
#: Kinds whose draws of one period may form several series: `lookback:2024` and an ad-hoc `lookback:2024-专项`.
SERIES_KINDS = ("lookback",)
KIND_CN = {"sample": "月度抽查", "lookback": "回头看", "recheck": "整改回头看"}
STRATA_CN = {"sample": "分组", "lookback": "支部等次", "recheck": "问题类别"}
POPULATION_CN = {"sample": "在册考核单位", "lookback": "达标及以上党支部", "recheck": "本年度已销号整改事项"}
#: The command a kind's draws are shown and verified with (`djctl rectify recheck verify 12`).
COMMAND = {"sample": "sample", "lookback": "lookback", "recheck": "rectify recheck"}
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(DrawRecord))
ENTRY = DrawEntry.__table__

__all__ = [
    "StoredDraw",
    "active_draw",
    "draw_history",
    "draw_series",
    "exec_cached",
    "label_base",
    "find_active",
    "find_draw",
    "find_history",
    "latest_draw",
    "list_draws",
    "load_draw",
    "matter_codes",
    "next_seq",
    "record_sha256",
    "save_draw",
    "selected_codes",
    "series_label",
    "store_draw",
]


def record_sha256(record: DrawRecord | dict) -> str:
    """SHA-256 hex of the canonical JSON of the record (the digest the audit event carries)."""
    doc = record.to_json() if isinstance(record, DrawRecord) else {k: record[k] for k in RECORD_FIELDS if k in record}
    return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- statements compiled once


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown draw kind {kind!r}")


def label_base(label: str) -> str:
    """The series a label belongs to: the label without its redraw suffix (`lookback:2024-专项#2` → `lookback:2024-专项`)."""
    return str(label).split("#", 1)[0]


def _numbered(base: str, n: int) -> str:
    """The n-th draw of a series: the base for the first, `base#n` after (as `draw_label`)."""
    return base if n <= 1 else f"{base}#{int(n)}"


def series_label(kind: str, period: str, name: str | None = None, n: int = 1) -> str:
    """`lookback:2024` (name None) or `lookback:2024-专项`, with `#n` for the n-th draw of that series."""
    return draw_label(kind, period if not name else f"{period}-{name}", n)


def _base_ok(kind: str, period: str, base: str) -> bool:
    plain = f"{kind}:{period}"
    if base == plain:
        return True
    return kind in SERIES_KINDS and base.startswith(plain + "-") and len(base) > len(plain) + 1


def expected_label(kind: str, period: str, seq: int, label: str, earlier: list[Draw]) -> str | None:
    """The label a draw must carry: `kind:period` numbered by seq, or (series kinds) its series numbered by
    its position among the earlier draws of the same series in that period; None when the base is not allowed."""
    if kind not in SERIES_KINDS:
        try:
            return draw_label(kind, period, seq)
        except ValueError:
            return None
    base = label_base(label)
    if not _base_ok(kind, period, base):
        return None
    return _numbered(base, 1 + sum(1 for r in earlier if label_base(r.label) == base))


# --------------------------------------------------------------------------- the stored draw


@dataclass
class StoredDraw:
    """One stored draw with its parsed record and the names of the organizations it mentions."""

    id: int
    kind: str
    period: str
    seq: int
    label: str
    seed: str
    seed_generated: bool
    rate: str | None
    k: int
    population_hash: str
    reason: str
    active: bool
    created_at: datetime | None
    record: DrawRecord
    record_json: dict[str, Any]
    record_sha256: str
    names: dict[str, str] = field(default_factory=dict)
    unannounced: bool = False
    as_of: date | None = None  # business date of the draw

    @property
    def series(self) -> str:
        """The label without its redraw suffix (`lookback:2024-专项`)."""
        return label_base(self.label)

    @property
    def selected(self) -> list[str]:
        return list(self.record.selected)

    def how(self, code: str) -> str:
        """Why a selected code is in the selection: 必抽 (mandatory) or 随机 (by key order)."""
        return "必抽" if code in self.record.mandatory else "随机"

    def group(self, code: str) -> str:
        return (self.record.strata or {}).get(code, "")

    def to_json(self) -> dict[str, Any]:
        """The draw record (DESIGN §4 keys first) with the stored draw's id and context."""
        doc: dict[str, Any] = {"id": self.id}
        doc.update({k: self.record_json[k] for k in RECORD_FIELDS if k in self.record_json})
        doc.update({k: v for k, v in self.record_json.items() if k not in doc})
        mentioned = list(dict.fromkeys([*self.record.selected, *self.record.mandatory,
                                        *self.record.excluded_requested]))
        doc.update({
            "kind": self.kind,
            "period": self.period,
            "seq": self.seq,
            "reason": self.reason,
            "seed_generated": self.seed_generated,
            "unannounced": self.unannounced,
            "active": self.active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "record_sha256": self.record_sha256,
            "names": {c: self.names.get(c, "") for c in mentioned},
        })
        return doc


def _names(session, kind: str) -> dict[str, str]:
    # plain Core rows: a province has thousands of units and branches
    conn = session.connection()
    u, b = Unit.__table__, Branch.__table__
    units = dict(conn.execute(sa_select(u.c.code, u.c.name)).all())
    if kind == "sample":
        return units
    if kind == "recheck":  # members are rectification items (R12): named by their organization
        from djctl.services.rectify_recheck import item_names

        return item_names(session)
    branches = dict(conn.execute(sa_select(b.c.code, b.c.name)).all())
    return {**units, **branches}


def _stored(row: Draw, names: dict[str, str]) -> StoredDraw:
    try:
        doc = json.loads(row.record)
        record = DrawRecord.from_json(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DjctlError(f"抽签 #{row.id} 的记录已损坏，无法读取：{exc}",
                         hint=f"运行 djctl {row.kind} verify {row.id} 查看详情") from None
    return _make_stored(row, doc, record, hashlib.sha256(row.record.encode("utf-8")).hexdigest(), names)


def _make_stored(row: Draw, doc: dict[str, Any], record: DrawRecord, digest: str, names: dict[str, str]) -> StoredDraw:
    return StoredDraw(
        id=row.id, kind=row.kind, period=row.period, seq=row.seq, label=row.label, seed=row.seed,
        seed_generated=bool(row.seed_generated), rate=row.rate, k=row.k, population_hash=row.population_hash,
        reason=row.reason or "", active=bool(row.active), created_at=row.created_at, record=record,
        record_json=doc, record_sha256=digest,
        names={c: names[c] for c in record.population if c in names},
        unannounced=bool(getattr(row, "unannounced", False)),
        as_of=getattr(row, "as_of", None),
    )


class _NotPlain(Exception):
    pass


def _as_loaded(value: Any) -> Any:
    """What `json.loads(canonical(value))` gives, without writing and parsing the text: every dict with its
    keys sorted (as canonical writes them). Containers already so (a list of strings, a dict of strings by
    sorted keys) are reused, not copied: give it a value of your own (`DrawRecord.to_json()` makes one).
    Raises _NotPlain for anything JSON would change or refuse (a non-string key, a tuple, a float, an object)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is list:
        return value if set(map(type, value)) <= _STR else [_as_loaded(v) for v in value]
    if t is dict:
        keys = list(value)
        if not set(map(type, keys)) <= _STR:
            raise _NotPlain
        ordered = sorted(keys)
        if keys == ordered and set(map(type, value.values())) <= _STR:
            return value
        return {k: _as_loaded(value[k]) for k in ordered}
    raise _NotPlain


_STR = {str}


# --------------------------------------------------------------------------- inside a unit of work


def series_rows(uow: UnitOfWork, kind: str, period: str) -> list[Draw]:
    return list(uow.session.exec(select(Draw).where(Draw.kind == kind, Draw.period == period).order_by(Draw.seq)))


def next_seq(uow: UnitOfWork, kind: str, period: str) -> int:
    """1 for the first draw of a period, n for the (n − 1)-th redraw."""
    top = uow.session.exec(select(func.max(Draw.seq)).where(Draw.kind == kind, Draw.period == period)).first()
    return int(top or 0) + 1


def find_draw(uow: UnitOfWork, draw_id: int, kind: str | None = None) -> StoredDraw:
    """The draw with this id (of this kind, when given); a clear error when there is none."""
    row = uow.session.get(Draw, draw_id)
    if row is None:
        raise DjctlError(f"没有编号为 {draw_id} 的抽签", hint=f"用 djctl {COMMAND.get(kind or 'sample')} list 查看全部抽签")
    if kind is not None and row.kind != kind:
        raise DjctlError(f"抽签 #{draw_id} 是{KIND_CN.get(row.kind, row.kind)}抽签，不是{KIND_CN[kind]}抽签",
                         hint=f"用 djctl {COMMAND.get(row.kind, row.kind)} show {draw_id} 查看")
    return _stored(row, _names(uow.session, row.kind))


def find_active(uow: UnitOfWork, kind: str, period: str) -> StoredDraw | None:
    """The draw that counts for a period: the active one (the latest redraw), or None."""
    rows = [r for r in series_rows(uow, kind, period) if r.active]
    return _stored(rows[-1], _names(uow.session, kind)) if rows else None


def find_history(uow: UnitOfWork, kind: str, period: str) -> list[StoredDraw]:
    """Every draw of a period, first draw first, redraws after (inactive ones included)."""
    rows = series_rows(uow, kind, period)
    names = _names(uow.session, kind) if rows else {}
    return [_stored(r, names) for r in rows]


def _selected_query() -> Executable:
    # the active draw's id only: its record (the whole population as JSON) is not needed here
    active = (sa_select(DRAW.c.id)
              .where(DRAW.c.kind == bindparam("kind"), DRAW.c.period == bindparam("period"),
                     DRAW.c.active == True)  # noqa: E712
              .order_by(DRAW.c.seq.desc()).limit(1).scalar_subquery())
    return (sa_select(ENTRY.c.code).where(ENTRY.c.draw_id == active, ENTRY.c.selected == True)  # noqa: E712
            .order_by(ENTRY.c.order_no))


def selected_codes(uow: UnitOfWork, kind: str, period: str) -> list[str]:
    """The selection of the period's active draw in draw order ([] when there is no draw), from draw_entry."""
    return [code for (code,) in exec_cached(uow.conn, "draws.selected", _selected_query, kind=kind, period=period)]


def _series_query() -> Executable:
    return (sa_select(DRAW.c.id, DRAW.c.seq, DRAW.c.label, DRAW.c.active)
            .where(DRAW.c.kind == bindparam("kind"), DRAW.c.period == bindparam("period")).order_by(DRAW.c.seq))


def draw_series(uow: UnitOfWork, kind: str, period: str) -> list[Any]:
    """Every draw of a period as a light row (id, seq, label, active), first draw first: what deciding on a
    new draw needs, without loading the records (each the whole population as JSON)."""
    return exec_cached(uow.conn, "draws.series", _series_query, kind=kind, period=period).all()


ENTRY_COLUMNS = ("draw_id", "code", "key", "selected", "order_no", "mandatory_reason", "excluded_reason")


#: The audit payload key saying which members a draw's `draw_entry` rows cover. Events written before it (no
#: such key) covered every population member; the rows of the others were deleted by migration 0004 and
#: `audit verify` puts them back from the record (`djctl.store.content.draw_entry_full_rows`).
ENTRIES_SCOPE = "entries_scope"
ENTRIES_MATTER = "selected+mandatory+excluded"


def matter_codes(record: DrawRecord | Mapping[str, Any]) -> set[str]:
    """The members a draw keeps a draw_entry row for: selected, mandatory or excluded (DESIGN §3)."""
    if isinstance(record, DrawRecord):
        return {*record.selected, *record.mandatory, *record.excluded}
    return {str(c) for c in [*(record.get("selected") or []), *(record.get("mandatory") or {}),
                             *(record.get("excluded") or {})]}


def _entry_rows(draw_id: int, record: DrawRecord) -> list[tuple]:
    """The draw_entry rows of a record (ENTRY_COLUMNS): the members that matter, in population order.

    The record holds the whole population and every key; the other members' rows would only repeat it."""
    order = {c: i for i, c in enumerate(record.selected, start=1)}
    keys, mandatory, excluded = record.keys, record.mandatory, record.excluded
    codes = sorted(matter_codes(record))  # the population is sorted by code point: the same order
    return [(draw_id, c, keys[c], c in order, order.get(c), mandatory.get(c, ""), excluded.get(c, ""))
            for c in codes]


def _entries_fields(rows: list[tuple]) -> dict[str, Any]:
    """What a draw's audit payload says of its draw_entry rows: how many, their digest, which members."""
    return {"entries": len(rows), "entries_digest": _entries_digest(rows), ENTRIES_SCOPE: ENTRIES_MATTER}


def _entries_digest(rows: list[tuple]) -> str:
    """`rows_digest` of `_entry_rows` without their draw_id, the text of each row written directly.

    rows_digest writes each row with the canonical JSON encoder; for these rows (code, key, selected: bool,
    order_no: int or None, two reasons) that is each string through the encoder's own escaping function
    (`encode_basestring`), true/false, the integer or null, comma-separated in brackets: the same bytes
    (tests/test_draw_speed_equivalence.py), at about half the cost.
    """
    enc = encode_basestring
    reasons: dict[str, str] = {}  # reasons repeat (most are empty): each escaped once

    def reason(text: str) -> str:
        out = reasons.get(text)
        if out is None:
            out = reasons[text] = enc(text)
        return out

    lines = [f'[{enc(c)},{enc(key)},{"true" if sel else "false"},{"null" if no is None else no},'
             f'{reason(m)},{reason(x)}]' for _, c, key, sel, no, m, x in rows]
    lines.append("")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


DRAW_COLUMNS = ("kind", "period", "seq", "label", "algorithm", "seed", "seed_generated", "rate", "k", "population_hash",
                "record", "reason", "unannounced", "active", "created_at", "as_of")


def _insert_query() -> Executable:
    return DRAW.insert().values({c: bindparam(c, type_=DRAW.c[c].type) for c in DRAW_COLUMNS})


def _insert_draw(uow: UnitOfWork, **values: Any) -> Draw:
    """Insert the draw row (every column of DRAW_COLUMNS given); the row as an (unattached) `Draw`.

    The row goes in as an ORM flush would write it (the same bind processing, created_at included) through a
    statement compiled once per process (`exec_cached`); `find_draw` later in the transaction reads it back.
    """
    result = exec_cached(uow.conn, "draws.insert", _insert_query, **values)
    draw_id = result.lastrowid if uow.conn.dialect.name == "sqlite" else result.inserted_primary_key[0]
    return Draw(id=draw_id, **values)


@dataclass
class _Saved:
    row: Draw
    doc: dict[str, Any]  # record.to_json()
    text: str  # its canonical JSON, as stored
    digest: str  # SHA-256 of the text


def _draw_as_of(period: str, extra: dict[str, Any] | None) -> date:
    """The draw's business date: the `as_of` its caller gives (a look-back's tier date), else the period's end."""
    from djctl.domain.periods import parse_period

    given = (extra or {}).get("as_of")
    return date.fromisoformat(str(given)) if given else parse_period(period).last_day()


def _save(uow: UnitOfWork, record: DrawRecord, *, kind: str, period: str, seq: int, reason: str,
          seed_generated: bool, unannounced: bool, audit_extra: dict[str, Any] | None) -> _Saved:
    _check_kind(kind)
    rows = draw_series(uow, kind, period)
    want = expected_label(kind, period, seq, record.label, rows)
    if record.label != want:
        raise ValueError(f"draw label {record.label!r} != {want!r}")
    record_doc = record.to_json()
    text = canonical(record_doc)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    base = label_base(record.label)
    superseded = [r.id for r in rows if r.active and label_base(r.label) == base]
    if superseded:
        uow.session.execute(update(Draw).where(Draw.id.in_(superseded)).values(active=False))
    row = _insert_draw(uow, kind=kind, period=period, seq=seq, label=record.label, algorithm=record.algorithm,
                       seed=record.seed, seed_generated=seed_generated, rate=record.rate, k=record.k,
                       population_hash=record.population_hash, record=text, reason=reason, unannounced=unannounced,
                       active=True, created_at=now(), as_of=_draw_as_of(period, audit_extra))
    entries = _entry_rows(row.id, record)
    insert_rows(uow.conn, ENTRY, ENTRY_COLUMNS, entries)
    payload: dict[str, Any] = {
        "draw_id": row.id, "kind": kind, "period": period, "seq": seq, "label": record.label,
        "algorithm": record.algorithm, "seed": record.seed, "seed_generated": seed_generated,
        "rate": record.rate, "count": record.count, "k": record.k, "population": len(record.population),
        "population_hash": record.population_hash, "record_sha256": digest,
        "selected": list(record.selected), "mandatory": dict(record.mandatory), "excluded": dict(record.excluded),
        "excluded_waived": record.excluded_waived, "stratified": record.strata is not None,
        "reason": reason, "supersedes": superseded,
        **_entries_fields(entries),
    }
    if unannounced:
        payload["unannounced"] = True
    for key, value in (audit_extra or {}).items():
        payload.setdefault(key, value)
    uow.audit(f"{kind}.draw", payload)
    return _Saved(row, record_doc, text, digest)


def save_draw(uow: UnitOfWork, record: DrawRecord, *, kind: str, period: str, seq: int, reason: str = "",
              seed_generated: bool = False, unannounced: bool = False, audit_extra: dict[str, Any] | None = None) -> int:
    """Store a draw made by `run_draw`: the row, its entries (driver executemany) and ONE audit event.

    Earlier draws of the same kind, period and series are marked inactive (never deleted). The record's
    label must be `draw_label(kind, period, seq)`; for look-backs it may name a series of the period
    (`series_label`), numbered by its place in that series. `audit_extra` adds keys to the audit payload
    (never replacing the standard ones). Returns the new draw's id.
    """
    return _save(uow, record, kind=kind, period=period, seq=seq, reason=reason, seed_generated=seed_generated,
                 unannounced=unannounced, audit_extra=audit_extra).row.id


def store_draw(uow: UnitOfWork, record: DrawRecord, *, kind: str, period: str, seq: int, reason: str = "",
               seed_generated: bool = False, unannounced: bool = False, audit_extra: dict[str, Any] | None = None,
               names: Mapping[str, str] | None = None) -> StoredDraw:
    """`save_draw`, returning the stored draw as `find_draw` would read it back in the same transaction,
    built from what was just written instead of reading and parsing it again. `names` (code → name,
    covering the population) saves reading every organization's name when the caller has them."""
    saved = _save(uow, record, kind=kind, period=period, seq=seq, reason=reason, seed_generated=seed_generated,
                  unannounced=unannounced, audit_extra=audit_extra)
    try:
        doc = _as_loaded(saved.doc)
    except _NotPlain:
        doc = json.loads(saved.text)
    return _make_stored(saved.row, doc, DrawRecord.from_json(doc), saved.digest,
                        dict(names) if names is not None else _names(uow.session, kind))


def audit_payload(uow: UnitOfWork, kind: str, draw_id: int) -> dict[str, Any] | None:
    """The payload of the audit event written when the draw was made (None when there is none)."""
    q = sa_select(AUDIT.c.payload).where(AUDIT.c.action == f"{kind}.draw",
                                      AUDIT.c.payload.like(f'%"draw_id":{int(draw_id)},%'))
    for (payload,) in uow.conn.execute(q):
        try:
            doc = json.loads(payload)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("draw_id") == draw_id:
            return doc
    return None


# --------------------------------------------------------------------------- store-level reads


def load_draw(store: Store, draw_id: int, kind: str | None = None) -> StoredDraw:
    with store.read() as uow:
        return find_draw(uow, draw_id, kind)


def active_draw(store: Store, kind: str, period: str) -> StoredDraw | None:
    with store.read() as uow:
        return find_active(uow, kind, period)


def draw_history(store: Store, kind: str, period: str) -> list[StoredDraw]:
    with store.read() as uow:
        return find_history(uow, kind, period)


def latest_draw(store: Store, kind: str) -> StoredDraw | None:
    """The most recently made active draw of a kind (for `show` without an id)."""
    with store.read() as uow:
        row = uow.session.exec(select(Draw).where(Draw.kind == kind, Draw.active == True)  # noqa: E712
                               .order_by(Draw.period.desc(), Draw.seq.desc())).first()
        return _stored(row, _names(uow.session, kind)) if row is not None else None


def list_draws(store: Store, kind: str, year: int | None = None) -> list[dict[str, Any]]:
    """Every draw of a kind (redraws and inactive ones included), by period then seq."""
    _check_kind(kind)
    with store.read() as uow:
        q = select(Draw).where(Draw.kind == kind)
        if year is not None:
            q = q.where(Draw.period.like(f"{int(year):04d}%"))
        rows = list(uow.session.exec(q.order_by(Draw.period, Draw.seq)))
    out = []
    for r in rows:
        try:
            doc = json.loads(r.record)
            population, selected = len(doc.get("population") or []), list(doc.get("selected") or [])
        except (ValueError, AttributeError):
            population, selected = None, []
        out.append({"id": r.id, "label": r.label, "period": r.period, "seq": r.seq, "seed": r.seed,
                    "seed_generated": bool(r.seed_generated), "rate": r.rate, "k": r.k, "population": population,
                    "population_hash": r.population_hash, "selected": selected, "active": bool(r.active),
                    "reason": r.reason or "", "unannounced": bool(r.unannounced),
                    "created_at": r.created_at.isoformat() if r.created_at else None})
    return out


# --------------------------------------------------------------------------- the published text
