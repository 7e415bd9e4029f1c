"""The benchmark (bench/run.py) runs end to end in its quick mode, and the product changes it led to keep
their contracts: the fast `rows_digest` gives the defined digest, `insert_rows` stores what Core stores,
`write_form(scores=...)` writes forms that import, header matching is unchanged."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STEPS = ["help", "forms", "import", "store", "sample", "score", "bulletin", "year-end", "total"]


def _table(stdout: str) -> dict[str, list[str]]:
    """step -> the cells of its row in the printed table."""
    rows = {}
    for line in stdout.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and (cells[0] in STEPS or cells[0] == "import:calamine"):
            rows[cells[0]] = cells
    return rows


def test_quick_benchmark_prints_every_step_with_numbers(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "DJCTL_DB"}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--json", str(out),
                           "--keep", str(tmp_path / "work")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    rows = _table(proc.stdout)
    # with python-calamine installed the import step has a second baseline, in a row of its own
    calamine = importlib.util.find_spec("python_calamine") is not None
    steps = STEPS[:3] + ["import:calamine"] * calamine + STEPS[3:]
    assert list(rows) == steps, proc.stdout
    for step, cells in rows.items():
        djctl_s, peak, base_s, base_mb, ratio = (float(cells[i]) for i in (2, 3, 5, 6, 7))
        assert djctl_s > 0 and base_s >= 0 and peak > 0 and base_mb > 0, (step, cells)
        assert math.isfinite(ratio) and ratio > 0, (step, cells)
    assert rows["help"][8] == "≤ 1.5" and rows["bulletin"][8] == "report"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [s["step"] for s in doc[0]["steps"]] == steps[:-1]
    if calamine:
        extra = next(s for s in doc[0]["steps"] if s["step"] == "import:calamine")
        assert extra["djctl"] == next(s for s in doc[0]["steps"] if s["step"] == "import")["djctl"]
        assert extra["baseline"]["detail"]["files"] == doc[0]["config"]["units"]
    assert doc[0]["config"]["quick"] is True
    store_step = next(s for s in doc[0]["steps"] if s["step"] == "store")
    cfg = doc[0]["config"]
    assert store_step["djctl"]["detail"]["rows"] == cfg["units"] * cfg["tasks"] * cfg["months"]
    # the filled forms were imported by djctl, every one of them
    imp = next(s for s in doc[0]["steps"] if s["step"] == "import")
    assert imp["djctl"]["detail"]["files"] == cfg["units"]


def test_unknown_step_is_refused() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--steps", "forms,nope"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "nope" in proc.stderr


# --------------------------------------------------------------------------- rows_digest


def _reference_digest(rows) -> str:
    """The digest as defined: SHA-256 of canonical(list(row)) + newline, row after row."""
    from djctl.store.audit import canonical

    h = hashlib.sha256()
    for row in rows:
        h.update(canonical(list(row)).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@pytest.mark.parametrize("n", [0, 1, 4095, 4096, 4097, 9000])
def test_rows_digest_is_the_defined_digest(n: int) -> None:
    from djctl.store.audit import rows_digest

    values = [None, True, False, 0, -7, 10 ** 20, 1.5, float("nan"), float("inf"), "", "中文 \"引号\" \\ 斜杠",
              "\x00\x1f\u2028", Decimal("1.50"), date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5),
              {"b": 1, "a": [1, {"z": None, "y": "q"}]}, [1, 2], (3, 4)]
    rows = [tuple(values[(i * 7 + j) % len(values)] for j in range(i % 6)) for i in range(n)]
    assert rows_digest(rows) == _reference_digest(rows)
    assert rows_digest([list(r) for r in rows]) == _reference_digest(rows)


def test_rows_digest_changes_with_any_value() -> None:
    from djctl.store.audit import rows_digest

    rows = [(1, "T01", 450, "完成"), (1, "T02", 500, "")]
    assert rows_digest(rows) != rows_digest([(1, "T01", 451, "完成"), (1, "T02", 500, "")])
    assert rows_digest(rows) != rows_digest(list(reversed(rows)))


# --------------------------------------------------------------------------- insert_rows


def test_insert_rows_stores_what_core_stores(store) -> None:
    from sqlalchemy import select

    from djctl.store.bulk import insert_rows
    from djctl.store.tables import SelfScore, Unit

    table = SelfScore.__table__
    unit = Unit.__table__
    with store.write() as uow:  # parents for the foreign keys, through Core
        from djctl.store.engine import now
        from djctl.store.tables import ImportFile, SelfReport, TaskList

        uow.conn.execute(unit.insert(), [{"code": "U1", "name": "单位", "kind": "机关党委", "updated_at": now()}])
        tl = TaskList(month="2024-01", sha256="x", created_at=now())
        imp = ImportFile(kind="selfeval", path="a.xlsx", sha256="y", actor="t", created_at=now())
        uow.session.add_all([tl, imp])
        uow.session.flush()
        reports = [SelfReport(unit_code="U1", month="2024-01", task_list_id=tl.id, import_id=imp.id, created_at=now())
                   for _ in range(2)]
        uow.session.add_all(reports)
        uow.session.flush()
        a, b = reports[0].id, reports[1].id
        rows = [("T01", 450, "完成"), ("T02", 0, ""), ("T03", 1000, "中文'\"; DROP TABLE x; --")]
        assert insert_rows(uow.conn, table, ("report_id", "task_code", "points_x100", "note"),
                           [(a, c, p, n) for c, p, n in rows]) == 3
        uow.conn.execute(table.insert(), [{"report_id": b, "task_code": c, "points_x100": p, "note": n} for c, p, n in rows])
        assert insert_rows(uow.conn, table, ("report_id", "task_code", "points_x100", "note"), []) == 0
        uow.audit("test.rows", {"rows": 6})
    with store.read() as uow:
        got = {rid: [tuple(r) for r in uow.conn.execute(
            select(table.c.task_code, table.c.points_x100, table.c.note).where(table.c.report_id == rid)
            .order_by(table.c.id))] for rid in (a, b)}
    assert got[a] == got[b] == rows


def test_insert_rows_refuses_values_it_would_not_convert(store) -> None:
    from djctl.store.bulk import insert_rows
    from djctl.store.tables import SelfScore

    table = SelfScore.__table__
    with pytest.raises(TypeError, match="Decimal"):
        with store.write() as uow:
            insert_rows(uow.conn, table, ("report_id", "task_code", "points_x100", "note"), [(1, "T01", Decimal("4.5"), "")])
    with pytest.raises(KeyError):
        with store.write() as uow:
            insert_rows(uow.conn, table, ("report_id", "nope"), [(1, "x")])


# --------------------------------------------------------------------------- forms written already filled in


def test_write_form_with_scores_reads_back(tmp_path: Path) -> None:
    from djctl.io.selfeval_form import FormTask, read_form, write_form

    tasks = [FormTask("T01", "任务一", "政治统领", Decimal("10")), FormTask("T02", "任务二", "班子履职", Decimal("5.5"))]
    filled = write_form(tmp_path / "a.xlsx", unit_code="U1", unit_name="单位", month="2024-03", month_label="2024年3月",
                        task_hash="h", tasks=tasks, scores={"T01": (Decimal("9.5"), "完成"), "T02": (Decimal("0"), "未做")})
    form = read_form(filled)
    assert not form.problems
    assert [(r.code, r.score, r.note) for r in form.rows] == [("T01", Decimal("9.5"), "完成"), ("T02", Decimal("0"), "未做")]
    blank = read_form(write_form(tmp_path / "b.xlsx", unit_code="U1", unit_name="单位", month="2024-03",
                                 month_label="2024年3月", task_hash="h", tasks=tasks))
    assert [(r.code, r.score, r.note) for r in blank.rows] == [("T01", None, ""), ("T02", None, "")]


# --------------------------------------------------------------------------- header matching, month bounds


def test_header_matching_is_unchanged() -> None:
    from djctl.io.xlsx import Column, norm_header

    col = Column("自评得分", ("self_score", "score", "得分"))
    assert col.matches("自评得分") and col.matches(" 自评得分 ") and col.matches("Score") and col.matches("得 分")
    assert col.matches("自评得分：") and col.matches("＊自评得分")
    assert not col.matches("自评得分说明") and not col.matches("") and not col.matches(None)
    long = "（" + "任务编码" * 100 + "）"
    assert norm_header(long) == "任务编码" * 100  # long texts are normalised the same way, just not cached


def test_month_active_still_refuses_a_bad_month() -> None:
    from djctl.domain.periods import month_active

    assert month_active("2024-03", None, None)
    assert month_active("2024-03", date(2024, 3, 31), None) and not month_active("2024-03", date(2024, 4, 1), None)
    assert month_active("2024-03", None, date(2024, 3, 1)) and not month_active("2024-03", None, date(2024, 2, 29))
    with pytest.raises(ValueError):
        month_active("2024-13", None, None)
