"""Audit: list events, verify the chain (optionally against an exported head), print the head."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from djctl.errors import InputError
from djctl.store import audit
from djctl.store.engine import Store


def log(store: Store, *, limit: int = 50, action: str | None = None) -> list[dict[str, Any]]:
    t = audit.AUDIT
    q = select(t).order_by(t.c.seq.desc()).limit(limit)
    if action:
        q = q.where(t.c.action.like(f"{action}%"))
    with store.read() as uow:
        rows = uow.conn.execute(q).all()
    return [{"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "hash": r.hash,
             "payload_chars": len(r.payload), "summary": summarize(r.payload)} for r in reversed(rows)]


def summarize(payload: str, width: int = 80) -> str:
    try:
        doc = json.loads(payload)
    except ValueError:
        return "（无效 JSON）"
    parts = []
    for k, v in doc.items():
        if isinstance(v, (list, dict)):
            v = f"[{len(v)}]"
        text = f"{k}={v}"
        parts.append(text if len(text) < 40 else text[:37] + "…")
    out = " ".join(parts)
    return out if len(out) <= width else out[: width - 1] + "…"


def head_doc(store: Store) -> dict[str, Any]:
    with store.read() as uow:
        seq, h = audit.head(uow.conn)
    return {"store": store.describe(), "seq": seq, "hash": h}


def read_head_file(path: Path) -> tuple[int, str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return int(doc["seq"]), str(doc["hash"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"链头文件无效（应为 djctl audit head --json 的输出）：{exc}", path=str(path)) from None


def verify(store: Store, against: Path | None = None) -> audit.VerifyResult:
    expected = read_head_file(against) if against else None
    with store.read() as uow:
        return audit.verify(uow.conn, expected)
