"""Crash safety of `check import`: killed with SIGKILL at random moments while it imports the check
worksheets of a month (some with tasks found false, which become rectification items in the same
transaction). After every kill each worksheet is wholly in the store (its import_file row, its check_report
with every check_score row, one rectification per false task, its audit event) or wholly absent, no orphan
rows, `PRAGMA integrity_check` ok and `audit verify` (chain and content) passes.

The default run kills 4 times; `--kills N` sets the number (with `-s` the counts are printed).
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.check_helpers import COL, FIRST, SHEET
from tests.helpers import json_out
from tests.monthly_helpers import fill_all, setup_month
from tests.test_integrity_crash import ROOT, Tally, _seed, spawn

pytestmark = pytest.mark.sqlite_only

UNITS = 24


def build(cli, root: Path) -> tuple[Path, dict[str, tuple[str, int]]]:
    """Every unit reports, all are drawn, every worksheet filled: every third unit has its first task false.
    Returns the folder of filled worksheets and sha256 -> (unit, false tasks)."""
    import openpyxl

    from djctl.services.importing import file_sha256

    setup = setup_month(cli, root, units=UNITS)
    r = cli("selfeval", "import", *[str(p) for p in fill_all(setup, root / "自评收回").values()])
    assert r.exit_code == 0, r.output
    drawn = json_out(cli("sample", "--month", setup.month, "--seed", "crash", "--count", str(UNITS), "--json"))
    assert len(drawn["selected"]) == UNITS
    doc = json_out(cli("check", "forms", "--month", setup.month, "--out", str(root / "核查表"), "--json"))
    out = root / "核查收回"
    out.mkdir()
    files: dict[str, tuple[str, int]] = {}
    for n, blank in enumerate(sorted(Path(p) for p in doc["files"])):
        unit = blank.name.split("_")[1]
        wb = openpyxl.load_workbook(blank)
        ws = wb[SHEET]
        row, false = FIRST, 0
        while ws.cell(row, COL["任务编码"]).value:
            self_score = ws.cell(row, COL["自评得分"]).value
            lie = n % 3 == 0 and row == FIRST and float(self_score) >= 2
            ws.cell(row, COL["核查得分"]).value = float(self_score) - 2 if lie else self_score
            ws.cell(row, COL["是否虚假"]).value = "是" if lie else "否"
            ws.cell(row, COL["核查人"]).value = "王明"
            false += lie
            row += 1
        wb.save(out / blank.name)
        files[file_sha256(out / blank.name)] = (unit, false)
    assert sum(f for _, f in files.values()) >= UNITS // 3 - 1
    return out, files


def observe(db: Path, files: dict[str, tuple[str, int]], tally: Tally) -> int:
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        one = lambda q, *a: c.execute(q, a).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM check_score WHERE report_id NOT IN (SELECT id FROM check_report)") == 0
        assert one("SELECT count(*) FROM check_report WHERE import_id NOT IN (SELECT id FROM import_file)") == 0
        assert one("SELECT count(*) FROM import_file WHERE kind = 'check' "
                   "AND id NOT IN (SELECT import_id FROM check_report)") == 0
        events = {json.loads(p)["sha256"] for (p,) in c.execute(
            "SELECT payload FROM audit_event WHERE action = 'check.import'")}
        tasks = one("SELECT count(*) FROM task")
        n_in = 0
        for sha, (unit, false) in files.items():
            imports = c.execute("SELECT id FROM import_file WHERE kind = 'check' AND sha256 = ?", (sha,)).fetchall()
            rect = one("SELECT count(*) FROM rectification WHERE org_code = ? AND source = 'spotcheck'", unit)
            if not imports:
                assert sha not in events and rect == 0, f"{unit}: an event or rectification without its worksheet"
                tally.files_absent += 1
                continue
            reports = c.execute("SELECT id FROM check_report WHERE import_id = ?", imports[0]).fetchall()
            whole = (len(imports) == 1 and len(reports) == 1 and sha in events and rect == false
                     and one("SELECT count(*) FROM check_score WHERE report_id = ?", reports[0][0]) == tasks)
            if not whole:
                tally.partial += 1
                pytest.fail(f"{unit}'s worksheet is partly in: imports={imports} reports={reports} rect={rect}")
            tally.files_in += 1
            n_in += 1
        assert len(events) == n_in
    finally:
        c.close()
    tally.observations += 1
    return n_in


def test_sigkill_during_check_import_leaves_whole_worksheets_only(cli, tmp_path, pytestconfig):
    import os

    from djctl.store.engine import backup_sqlite, restore_sqlite

    kills = pytestconfig.getoption("--kills") or 4
    seed = _seed()
    rng = random.Random(seed)
    db = Path(os.environ["DJCTL_DB"])
    done, files = build(cli, tmp_path)
    base = tmp_path / "base.db"
    backup_sqlite(db, base)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import djctl.cli, djctl.services.spotcheck, djctl.io.check_form"],
                   check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    low = (time.monotonic() - started) / 2
    bound = low * 3 + 1.0
    tally = Tally()
    n_in = 0
    while tally.kills < kills:
        before = n_in
        child = spawn(["check", "import", str(done)])
        started = time.monotonic()
        killed = False
        try:
            child.wait(timeout=rng.uniform(low, bound))
            tally.finished += 1
            bound = max(low * 2, (time.monotonic() - started) * 1.1)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            tally.kills += 1
            killed = True
        err = child.stderr.read().decode("utf-8", "replace")
        child.stderr.close()
        assert child.returncode in (0, -signal.SIGKILL), err
        assert "Traceback" not in err and "locked" not in err, err
        n_in = observe(db, files, tally)
        r = cli("audit", "verify", "--json")
        assert r.exit_code == 0, r.output
        if killed and n_in == before:
            bound = min(bound * 1.25, 120.0)
        if n_in == len(files):
            restore_sqlite(base, db)
            tally.resets += 1
            n_in = 0
    proc = spawn(["check", "import", str(done)])
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    assert observe(db, files, tally) == len(files)
    r = cli("check", "import", str(done), "--json")
    assert {f["status"] for f in json.loads(r.stdout)["files"]} == {"unchanged"}
    assert tally.partial == 0
    print(f"\ncheck-import crash run ({len(files)} worksheets, seed {seed}): {tally.line()}")
    assert tally.kills == kills
