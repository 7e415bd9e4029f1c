"""The audit chain: every write appends one event in the same transaction.

hash = SHA-256 of "djctl-audit-v1\n" + prev_hash + "\n" + canonical JSON of
{"seq", "at", "actor", "action", "payload"} (payload itself canonical JSON: sorted keys, no spaces,
UTF-8). Changing any stored field of any event, deleting or reordering events breaks the chain.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from djctl.store.tables import AuditEvent

VERSION_TAG = "djctl-audit-v1"
GENESIS = "0" * 64
AUDIT = AuditEvent.__table__


def canonical(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _row_encoder() -> Any:
    """The C encoder `canonical` uses, built once: json.dumps builds a new one per call, which is most of
    the cost of digesting a million rows (bench/run.py, step store). None where the C speedups are missing."""
    from json.encoder import c_make_encoder, encode_basestring

    if c_make_encoder is None:
        return None
    # the arguments json.JSONEncoder.iterencode passes for canonical()'s settings (markers None: rows of
    # plain values cannot be circular)
    return c_make_encoder(None, str, encode_basestring, None, ":", ",", True, False, True)


_ROW_ENCODER = _row_encoder()
_DIGEST_BATCH = 4096


def rows_digest(rows: list[tuple] | list[list]) -> str:
    """SHA-256 over bulk rows in canonical JSON, so payloads cover content without carrying it.

    Digest = SHA-256 of canonical(list(row)) + "\n" for each row, in order.
    """
    h = hashlib.sha256()
    enc = _ROW_ENCODER
    if enc is None:
        for row in rows:
            h.update(canonical(list(row)).encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()
    batch: list[str] = []
    for row in rows:
        batch.append("".join(enc(list(row), 0)))
        if len(batch) >= _DIGEST_BATCH:
            h.update(("\n".join(batch) + "\n").encode("utf-8"))
            batch.clear()
    if batch:
        h.update(("\n".join(batch) + "\n").encode("utf-8"))
    return h.hexdigest()


def actor() -> str:
    who = os.environ.get("DJCTL_USER")
    if who:
        return who
    try:
        return getpass.getuser()
    except Exception:  # no user database (containers)
        return "unknown"


def event_hash(prev_hash: str, seq: int, at: str, who: str, action: str, payload: str) -> str:
    body = canonical({"seq": seq, "at": at, "actor": who, "action": action, "payload": payload})
    return hashlib.sha256(f"{VERSION_TAG}\n{prev_hash}\n{body}".encode("utf-8")).hexdigest()


def append(conn, action: str, payload: dict) -> tuple[int, str]:
    """Append one event on `conn` (inside the caller's write transaction). Returns (seq, hash)."""
    return append_many(conn, [(action, payload)])[0]


def append_many(conn, events: list[tuple[str, dict]]) -> list[tuple[int, str]]:
    """Append events (action, payload) in order, as `append` would one by one, in one executemany: a batch
    of imported files keeps one event per file. Returns each event's (seq, hash)."""
    if not events:
        return []
    last = conn.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).first()
    seq = last.seq if last else 0
    prev = last.hash if last else GENESIS
    who = actor()
    rows, out = [], []
    for action, payload in events:
        seq += 1
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        body = canonical(payload)
        h = event_hash(prev, seq, at, who, action, body)
        rows.append({"seq": seq, "at": at, "actor": who, "action": action, "payload": body, "prev_hash": prev,
                     "hash": h})
        out.append((seq, h))
        prev = h
    conn.execute(AUDIT.insert(), rows)
    return out


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head: str
    head_seq: int
    problem: str | None = None
    bad_seq: int | None = None


def verify(conn, against: tuple[int, str] | None = None) -> VerifyResult:
    """Recompute the chain; name the first bad event. `against` = (seq, hash) exported earlier."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    seen_against = False
    for row in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)):
        if row.seq != expected_seq:
            return VerifyResult(False, count, prev, expected_seq - 1,
                                f"审计事件序号不连续：应为 {expected_seq}，实际为 {row.seq}（有事件被删除或插入）", row.seq)
        if row.prev_hash != prev:
            return VerifyResult(False, count, prev, row.seq - 1, f"第 {row.seq} 号事件的前序哈希与链不符（事件被删除、重排或篡改）", row.seq)
        h = event_hash(prev, row.seq, row.at, row.actor, row.action, row.payload)
        if h != row.hash:
            return VerifyResult(False, count, prev, row.seq - 1,
                                f"第 {row.seq} 号事件（{row.action}）的内容与哈希不符（事件被篡改）", row.seq)
        try:
            json.loads(row.payload)
        except ValueError:
            return VerifyResult(False, count, prev, row.seq - 1, f"第 {row.seq} 号事件的内容不是有效 JSON", row.seq)
        if against and row.seq == against[0]:
            seen_against = True
            if row.hash != against[1]:
                return VerifyResult(False, count, prev, row.seq - 1,
                                    f"第 {row.seq} 号事件的哈希与外部保存的链头不符（审计链被截断后重算）", row.seq)
        prev = row.hash
        expected_seq += 1
        count += 1
    if against and not seen_against:
        return VerifyResult(False, count, prev, count,
                            f"外部保存的链头（第 {against[0]} 号事件）不在库中：审计链被截断", None)
    return VerifyResult(True, count, prev, count)


def head(conn) -> tuple[int, str]:
    last = conn.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


HEAD_FORMAT = "djctl-audit-head-v1"


def head_file_doc(seq: int, hash_: str, store: str | None = None) -> dict[str, Any]:
    """The exported head (`audit head --out`, beside every backup) that `audit verify --against` reads."""
    doc: dict[str, Any] = {"format": HEAD_FORMAT, "seq": seq, "hash": hash_}
    if store is not None:
        doc["store"] = store
    return doc


GUARD_HINT = "追加保护被去掉后，删除最近的审计事件（截断）只能与另行保存的链头比对才能发现：请用 djctl audit verify --against 链头文件"
_SQLITE_GUARDS = {
    f"audit_event_no_{verb.lower()}": f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                                      "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    for verb in ("UPDATE", "DELETE")
}


def guard_problems(conn) -> list[str]:
    """What is wrong with the store's append-only guard of the audit chain (triggers), [] when intact."""
    from sqlalchemy import text

    if conn.dialect.name == "sqlite":
        found = {r[0]: r[1] for r in conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"))}
        out = []
        for name, sql in _SQLITE_GUARDS.items():
            if name not in found:
                out.append(f"审计表的追加保护触发器 {name} 已被删除")
            elif " ".join((found[name] or "").split()) != sql:
                out.append(f"审计表的追加保护触发器 {name} 已被改动")
        return out
    rows = conn.execute(text(
        "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), p.prosrc FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = 'audit_event'::regclass AND NOT t.tgisinternal")).all()
    guard = [r for r in rows if r[0] == "audit_event_append_only"]
    if not guard:
        return ["审计表的追加保护触发器 audit_event_append_only 已被删除"]
    name, enabled, definition, body = guard[0]
    problems = []
    if enabled == "D":
        problems.append("审计表的追加保护触发器 audit_event_append_only 已被停用")
    d = (definition or "").upper()
    if not all(w in d for w in ("BEFORE", "UPDATE", "DELETE", "TRUNCATE", "FOR EACH STATEMENT")) \
            or "RAISE EXCEPTION" not in (body or "").upper():
        problems.append("审计表的追加保护触发器 audit_event_append_only 已被改动")
    if conn.execute(text("SELECT count(*) FROM pg_rules WHERE tablename = 'audit_event'")).scalar():
        problems.append("审计表上有改写规则（RULE），追加保护可能被绕过")
    return problems
