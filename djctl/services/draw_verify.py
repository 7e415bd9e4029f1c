"""Verifying a stored draw (sample verify, lookback verify): its record recomputed, its member rows and its audit event compared; and a record file checked with no store at all."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select

from djctl.domain.sampling import verify_record
from djctl.errors import InputError
from djctl.io.outfile import write_text
from djctl.services.draws import (ENTRY, StoredDraw, audit_payload, expected_label, find_draw, matter_codes,
                                  record_sha256, series_rows)
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import Draw

MAX_ENTRY_DIFFS = 20


# --------------------------------------------------------------------------- verification


@dataclass
class DrawVerification:
    """The result of recomputing a draw: `differences` empty means identical."""

    draw_id: int | None
    label: str
    source: str  # "store" or the record file's path
    differences: list[str]
    selected: list[str]
    record_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"id": self.draw_id, "label": self.label, "source": self.source, "ok": self.ok,
                "differences": list(self.differences), "selected": list(self.selected),
                "record_sha256": self.record_sha256}


def _audit_digest(uow: UnitOfWork, kind: str, draw_id: int) -> str | None:
    doc = audit_payload(uow, kind, draw_id)
    return None if doc is None else doc.get("record_sha256")


def _entry_differences(doc: dict[str, Any], rows: list[Any]) -> list[str]:
    """Compare draw_entry rows with the record; every difference named by code.

    A draw keeps a row for each member that matters (selected, mandatory or excluded) and none for the
    others (their keys are in the record): a missing row, a row of a member that does not matter and a row
    that says otherwise than the record are all named."""
    population = [str(c) for c in doc.get("population") or []]
    keys = doc.get("keys") or {}
    selected = [str(c) for c in doc.get("selected") or []]
    order = {c: i for i, c in enumerate(selected, start=1)}
    mandatory = doc.get("mandatory") or {}
    excluded = doc.get("excluded") or {}
    matter = matter_codes(doc)
    diffs: list[str] = []
    seen: dict[str, Any] = {}
    for r in rows:
        if r.code in seen:
            diffs.append(f"抽签明细中编码「{r.code}」重复")
        seen[r.code] = r
    pop_set = set(population)
    for c in population:
        r = seen.get(c)
        if r is None:
            if c in matter:
                diffs.append(f"抽签明细缺少编码「{c}」（{'抽中' if c in order else '必抽或排除'}）")
            continue
        if c not in matter:
            diffs.append(f"抽签明细多出编码「{c}」：它未被抽中，也不是必抽或排除，不应有明细行")
            continue
        if r.key != keys.get(c):
            diffs.append(f"抽签明细中编码「{c}」的键值与记录不一致：明细为 {r.key}，记录为 {keys.get(c)}")
        if bool(r.selected) != (c in order):
            diffs.append(f"抽签明细中编码「{c}」{'标为抽中' if r.selected else '未标为抽中'}，"
                         f"记录中{'抽中' if c in order else '未抽中'}")
        elif r.order_no != order.get(c):
            diffs.append(f"抽签明细中编码「{c}」的抽取顺序为 {r.order_no}，记录为 {order.get(c)}")
        if (r.mandatory_reason or "") != str(mandatory.get(c, "")):
            diffs.append(f"抽签明细中编码「{c}」的必抽原因「{r.mandatory_reason}」与记录「{mandatory.get(c, '')}」不一致")
        if (r.excluded_reason or "") != str(excluded.get(c, "")):
            diffs.append(f"抽签明细中编码「{c}」的排除原因「{r.excluded_reason}」与记录「{excluded.get(c, '')}」不一致")
    diffs += [f"抽签明细多出不在总体中的编码「{c}」" for c in seen if c not in pop_set]
    if len(diffs) > MAX_ENTRY_DIFFS:
        diffs = diffs[:MAX_ENTRY_DIFFS] + [f"抽签明细另有 {len(diffs) - MAX_ENTRY_DIFFS} 处不一致（未逐条列出）"]
    return diffs


def verify_draw(store: Store, draw_id: int, kind: str | None = None) -> DrawVerification:
    """Recompute a stored draw from its record and check the audit digest, the columns and draw_entry."""
    with store.read() as uow:
        row = uow.session.get(Draw, draw_id)
        if row is None or (kind is not None and row.kind != kind):
            find_draw(uow, draw_id, kind)  # raises the clear error
        entries = list(uow.conn.execute(
            sa_select(ENTRY.c.code, ENTRY.c.key, ENTRY.c.selected, ENTRY.c.order_no, ENTRY.c.mandatory_reason,
                   ENTRY.c.excluded_reason).where(ENTRY.c.draw_id == draw_id).order_by(ENTRY.c.id)))
        audited = _audit_digest(uow, row.kind, draw_id)
        earlier = [r for r in series_rows(uow, row.kind, row.period) if r.seq < row.seq]
    diffs: list[str] = []
    digest = hashlib.sha256(row.record.encode("utf-8")).hexdigest()
    if audited is None:
        diffs.append("审计日志中找不到这次抽签的事件，无法确认记录未被改动")
    elif audited != digest:
        diffs.append(f"抽签记录的摘要与抽签时写入审计日志的不一致（记录被改动）：审计为 {audited}，现为 {digest}")
    try:
        doc = json.loads(row.record)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except ValueError:
        diffs.append("抽签记录不是有效的 JSON 对象，无法复算")
        return DrawVerification(draw_id, row.label, "store", diffs, [], digest)
    diffs += [f"记录：{d}" for d in verify_record(doc)]
    columns = [("label", row.label, "标签"), ("seed", row.seed, "种子"), ("rate", row.rate, "抽取比例"),
               ("k", row.k, "抽取数量 k"), ("population_hash", row.population_hash, "总体哈希"),
               ("algorithm", row.algorithm, "算法")]
    for key, value, cn in columns:
        if doc.get(key) != value:
            diffs.append(f"抽签表的{cn}「{value}」与记录「{doc.get(key)}」不一致")
    want = expected_label(row.kind, row.period, row.seq, row.label, earlier)
    if row.label != want:
        diffs.append(f"抽签标签「{row.label}」与类别、期间和序号应有的标签「{want}」不一致")
    diffs += _entry_differences(doc, entries)
    selected = [str(c) for c in doc.get("selected") or []]
    return DrawVerification(draw_id, row.label, "store", diffs, selected, digest)


def read_record_file(path: Path) -> dict[str, Any]:
    """A draw record file (`djctl sample show ID --json > FILE`), read without any store."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("抽签记录文件不存在", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取抽签记录文件：{exc}", path=str(path)) from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(f"抽签记录文件不是有效的 JSON：{exc}", path=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError("抽签记录文件应为一个 JSON 对象（djctl sample show 编号 --json 的输出）", path=str(path))
    missing = [k for k in ("algorithm", "label", "seed", "population", "population_hash", "k", "selected") if k not in doc]
    if missing:
        raise InputError("抽签记录缺少键：" + "、".join(missing), path=str(path),
                         hint="应为 djctl sample show 编号 --json 的输出")
    shapes = {"population": list, "selected": list, "keys": dict, "mandatory": dict, "excluded": dict,
              "excluded_requested": dict, "strata": dict, "quotas": dict}
    bad = [k for k, t in shapes.items() if doc.get(k) is not None and not isinstance(doc[k], t)]
    if bad:
        raise InputError("抽签记录中这些键的类型不对：" + "、".join(bad), path=str(path))
    return doc


def verify_record_file(path: Path) -> DrawVerification:
    """Recompute an exported record on its own (no store is opened)."""
    doc = read_record_file(path)
    diffs = list(verify_record(doc))
    digest = record_sha256(doc)
    if doc.get("record_sha256") is not None and doc["record_sha256"] != digest:
        diffs.append(f"记录摘要不一致：文件中为 {doc['record_sha256']}，按内容计算为 {digest}（文件被改动）")
    draw_id = doc.get("id") if isinstance(doc.get("id"), int) else None
    return DrawVerification(draw_id, str(doc.get("label")), str(path), diffs,
                            [str(c) for c in doc.get("selected") or []], digest)


def write_record_file(d: StoredDraw, path: Path) -> Path:
    """Write the record as `show --json` prints it (the file `verify --record` reads)."""
    write_text(path, json.dumps(d.to_json(), ensure_ascii=False, indent=2) + "\n")
    return path
