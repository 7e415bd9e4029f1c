"""Concurrent writers on one SQLite store: real `python -m djctl` processes started together.

Each child imports djctl and its workflow first, then waits for a shared "go" file, so that all of them
reach the store within milliseconds of each other (Python start-up would otherwise spread them out).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.monthly_helpers import MONTH, fill_all, setup_month

ROOT = Path(__file__).resolve().parents[1]

STARTER = """
import sys, time
from pathlib import Path
import djctl.cli, djctl.services.selfeval, djctl.services.spotcheck_draw, djctl.store.engine  # start-up done
go = Path(sys.argv[1])
Path(sys.argv[2]).touch()
while not go.exists():
    time.sleep(0.002)
sys.argv = ["djctl", *sys.argv[3:]]
from djctl.__main__ import main
main()
"""

pytestmark = pytest.mark.sqlite_only


def run_together(tmp_path: Path, commands: list[list[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    """Start every command as `djctl ARGS`, release them at once, return (exit code, stdout, stderr) each."""
    go = tmp_path / f"go-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs, ready = [], []
    for i, args in enumerate(commands):
        flag = tmp_path / f"{go.name}-ready-{i}"
        ready.append(flag)
        procs.append(subprocess.Popen([sys.executable, "-c", STARTER, str(go), str(flag), *args], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    deadline = time.monotonic() + timeout
    while not all(f.exists() for f in ready):
        assert time.monotonic() < deadline, "children did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.01)
    go.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append((p.returncode, stdout, stderr))
    return out


def test_eight_importers_at_once_lose_nothing(cli, tmp_path):
    setup = setup_month(cli, tmp_path, units=8)
    files = fill_all(setup, tmp_path / "收回")
    units = sorted(files)
    assert len(units) == 8
    results = run_together(tmp_path, [["selfeval", "import", "--json", str(files[u])] for u in units])
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "locked" not in stderr and "锁定" not in stderr and "Traceback" not in stderr, stderr
        assert [f["status"] for f in json.loads(stdout)["files"]] == ["imported"]
    db = sqlite3.connect(os.environ["DJCTL_DB"])
    try:
        reported = [r[0] for r in db.execute(
            "SELECT unit_code FROM self_report WHERE month = ? AND active ORDER BY unit_code", (MONTH,))]
        events = [json.loads(p)["unit"] for (p,) in db.execute(
            "SELECT payload FROM audit_event WHERE action = 'selfeval.import' ORDER BY seq")]
        scores = db.execute("SELECT count(*) FROM self_score").fetchone()[0]
    finally:
        db.close()
    assert reported == units and sorted(events) == units
    assert scores == 8 * len(setup.tasks)
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["ok"], doc


def test_two_draws_of_one_month_at_once_one_wins(cli, tmp_path):
    setup_month(cli, tmp_path, units=10)
    for month in ("2024-03", "2024-04"):
        results = run_together(tmp_path, [["sample", "--month", month, "--seed", f"{month}-甲", "--json"],
                                          ["sample", "--month", month, "--seed", f"{month}-乙", "--json"]])
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        (_, win_out, _), = [r for r in results if r[0] == 0]
        (_, lose_out, lose_err), = [r for r in results if r[0] == 2]
        assert "已经抽签" in lose_err and "--redraw" in lose_err, lose_err
        assert "Traceback" not in lose_err and lose_out == ""
        winner = json.loads(win_out)
        db = sqlite3.connect(os.environ["DJCTL_DB"])
        try:
            draws = db.execute("SELECT id, seed FROM draw WHERE kind = 'sample' AND period = ?", (month,)).fetchall()
        finally:
            db.close()
        assert draws == [(winner["id"], winner["seed"])]
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["ok"], doc
