"""Audit: list events, verify the chain (optionally against an exported head), print the head."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from djctl.errors import InputError
from djctl.store import audit
from djctl.store.content import ContentResult
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


def write_head_file(store: Store, out: Path) -> dict[str, Any]:
    """`audit head --out FILE`: the head file to keep elsewhere (read back by `verify --against`)."""
    from djctl.io.outfile import write_text

    doc = head_doc(store)
    write_text(out, json.dumps(audit.head_file_doc(doc["seq"], doc["hash"], doc["store"]), ensure_ascii=False,
                               indent=2) + "\n")
    return doc


def read_head_file(path: Path) -> tuple[int, str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return int(doc["seq"]), str(doc["hash"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"链头文件无效（应为 djctl audit head --json 的输出）：{exc}", path=str(path)) from None


@dataclass
class Verification:
    """The chain check, then (unless skipped) the content check, over one read snapshot."""

    chain: audit.VerifyResult
    content: ContentResult | None = None
    guard: list[str] = field(default_factory=list)  # the append-only triggers: missing or altered
    against: bool = False

    @property
    def ok(self) -> bool:
        return self.chain.ok and (self.content is None or self.content.ok) and not self.guard

    @property
    def problems(self) -> list[str]:
        out = list(self.guard)
        if self.guard and not self.against:
            out.append(audit.GUARD_HINT)
        out += [] if self.chain.ok else [self.chain.problem or "审计链校验失败"]
        if self.content is not None:
            out += [p.text() for p in self.content.problems]
            if self.content.more:
                out.append(f"另有 {self.content.more} 处不一致（未逐条列出）")
        return out

    @property
    def count(self) -> int:
        """How many problems in all (listed or not)."""
        content = 0 if self.content is None else len(self.content.problems) + self.content.more
        return len(self.guard) + (0 if self.chain.ok else 1) + content

    def to_json(self) -> dict[str, Any]:
        c = self.chain
        first = self.content.problems[0] if self.content is not None and self.content.problems else None
        return {"ok": self.ok, "events": c.events, "head": {"seq": c.head_seq, "hash": c.head},
                "problem": c.problem if not c.ok else (first.text() if first else None),
                "bad_seq": c.bad_seq if not c.ok else (first.seq if first else None),
                "chain": {"ok": c.ok, "problem": c.problem, "bad_seq": c.bad_seq},
                "guard": {"ok": not self.guard, "problems": self.guard,
                          "note": audit.GUARD_HINT if self.guard else None},
                "content": self.content.to_json() if self.content is not None else None}


def verify(store: Store, against: Path | None = None, *, content: bool = True) -> Verification:
    """Recompute the chain (against an exported head if given), then compare the rows with the events."""
    from djctl.store.content import check

    expected = read_head_file(against) if against else None
    with store.read() as uow:
        chain = audit.verify(uow.conn, expected)
        guard = audit.guard_problems(uow.conn)
        if not content:
            return Verification(chain, None, guard, against=expected is not None)
        result = check(uow.conn)
        _check_results(uow, result)
        return Verification(chain, result, guard, against=expected is not None)


def _check_results(uow, result: ContentResult) -> None:
    """Every active report's stored month result (rate, final points, check) against the same result computed
    from its rows (`scores.recompute_results`, the rule in domain/): each disagreement is a problem."""
    from djctl.domain.scheme import parse_scheme
    from djctl.services.scores import result_json, stored_results, recompute_results
    from djctl.store.content import MAX_PROBLEMS, RECOMPUTED, ContentProblem
    from djctl.store.tables import Scheme

    stored = stored_results(uow.conn)
    schemes = {y: parse_scheme(t) for y, t in uow.conn.execute(select(Scheme.__table__.c.year, Scheme.__table__.c.toml))}
    by_year: dict[int, list[int]] = {}
    for rid, (month, _unit, _res) in stored.items():
        by_year.setdefault(int(month[:4]), []).append(rid)
    for year, ids in sorted(by_year.items()):
        scheme = schemes.get(year)
        if scheme is None:
            continue
        again = recompute_results(uow.conn, scheme, ids)
        for rid in ids:
            month, unit, have = stored[rid]
            want = again.get(rid)
            if want is None or result_json(want) == have:
                continue
            diffs = "；".join(f"{k} 为 {have[k]}，按得分行应为 {v}" for k, v in result_json(want).items() if have[k] != v)
            p = ContentProblem("self_report", [rid], f"{unit} {month} 存储的月度结果与按得分行重算的不一致：{diffs}",
                               None, RECOMPUTED)
            if len(result.problems) < MAX_PROBLEMS:
                result.problems.append(p)
            else:
                result.more += 1
