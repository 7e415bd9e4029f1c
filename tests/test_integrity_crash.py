"""Crash safety: `python -m djctl selfeval import DIR` (and, at the same time, `org import` of a changed roster)
killed with SIGKILL at random moments, again and again, on one store. Each child writes the forms one per
transaction, 7 or 64 per transaction (DJCTL_IMPORT_BATCH, a savepoint per file), chosen at random.

After every kill each returned form is either wholly in the store (its import_file row, its self_report
with all its self_score rows, and its audit event) or wholly absent; no orphan rows; the roster is wholly
one version; `PRAGMA integrity_check` says ok and `djctl audit verify` (chain and content) passes. When
every form is in, the store is put back to its state before the imports and the kills go on.

The default run kills 8 times; `--kills N` sets the number (a long run: `--kills 500 -s`). The slow test
(`--runslow`) does the same over 200 forms.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import workbook
from tests.monthly_helpers import fill_form, setup_store, write_forms

ROOT = Path(__file__).resolve().parents[1]
MONTHS = ("2024-03", "2024-04")
ROSTER_HEADER = ["单位编码", "单位名称", "组织类型", "分组", "书记", "党员人数"]

pytestmark = pytest.mark.sqlite_only


@dataclass
class Tally:
    kills: int = 0
    finished: int = 0          # children that ended on their own before the kill
    resets: int = 0
    observations: int = 0
    files_in: int = 0          # summed over observations
    files_absent: int = 0
    partial: int = 0
    landed: int = 0            # kills after which some forms of that run were in and others absent
    roster_versions: set = field(default_factory=set)

    def line(self) -> str:
        return (f"kills={self.kills} finished-before-kill={self.finished} resets={self.resets} "
                f"observations={self.observations} files-in={self.files_in} files-absent={self.files_absent} "
                f"partial={self.partial} landed-mid-import={self.landed} roster-versions-seen={len(self.roster_versions)}")


def build(cli, root: Path, units: int) -> tuple[Path, dict[str, Path]]:
    """A store with roster and tasks for two months, and one filled form per unit and month."""
    setup_store(cli, root, units=units, month=MONTHS[0])
    assert cli("tasks", "set", "--month", MONTHS[1]).exit_code == 0
    done = root / "收回"
    for month in MONTHS:
        for blank in write_forms(cli, root / "下发" / month, month).values():
            fill_form(blank, done / month / blank.name)
    from djctl.services.importing import file_sha256

    shas = {file_sha256(p): p for p in sorted(done.rglob("*.xlsx"))}
    assert len(shas) == units * len(MONTHS)
    return done, shas


def roster_version(root: Path, units: int, v: int) -> Path:
    """The roster with every unit's 党员人数 = 100 × v + its number (names, groups unchanged)."""
    rows = [ROSTER_HEADER] + [[f"U{i:03d}", f"测试单位{i}机关党委", "机关党委", f"第{(i - 1) % 2 + 1}组", "张三", 100 * v + i]
                              for i in range(1, units + 1)]
    return workbook(root / "名册" / f"名册-{v}.xlsx", {"单位": rows})


def spawn(args: list[str], batch: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if batch is not None:  # forms per transaction (selfeval import): per file, small batches or the default
        env["DJCTL_IMPORT_BATCH"] = str(batch)
    return subprocess.Popen([sys.executable, "-m", "djctl", "-q", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=os.getcwd())


def observe(db: Path, shas: dict[str, Path], tally: Tally) -> int:
    """Check every invariant on the store as a killed child left it; returns how many forms are in."""
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        one = lambda q, *a: c.execute(q, a).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM self_score WHERE report_id NOT IN (SELECT id FROM self_report)") == 0
        assert one("SELECT count(*) FROM self_report WHERE import_id NOT IN (SELECT id FROM import_file)") == 0
        assert one("SELECT count(*) FROM import_file WHERE kind = 'selfeval' "
                   "AND id NOT IN (SELECT import_id FROM self_report)") == 0
        events = {}
        for (payload,) in c.execute("SELECT payload FROM audit_event WHERE action = 'selfeval.import'"):
            doc = json.loads(payload)
            events[doc["sha256"]] = doc
        tasks = dict(c.execute("SELECT task_list_id, count(*) FROM task GROUP BY task_list_id").fetchall())
        n_in = 0
        for sha, path in shas.items():
            files = c.execute("SELECT id FROM import_file WHERE kind = 'selfeval' AND sha256 = ?", (sha,)).fetchall()
            if not files:
                assert sha not in events, f"{path.name}: an audit event without its rows"
                tally.files_absent += 1
                continue
            ok = len(files) == 1
            reports = c.execute("SELECT id, task_list_id FROM self_report WHERE import_id = ?", files[0]).fetchall()
            ok = ok and len(reports) == 1
            if ok:
                rid, tl = reports[0]
                ok = one("SELECT count(*) FROM self_score WHERE report_id = ?", rid) == tasks[tl] and \
                    events.get(sha, {}).get("report_id") == rid and events[sha]["import_id"] == files[0][0]
            if not ok:
                tally.partial += 1
                pytest.fail(f"{path.name} is partly in the store: files={files} reports={reports}")
            tally.files_in += 1
            n_in += 1
        assert len(events) == n_in
        versions = {m - int(code[1:]) for code, m in c.execute("SELECT code, members FROM unit")}
        assert len(versions) == 1, f"units of different roster versions: {sorted(versions)}"
        tally.roster_versions |= versions
        assert one("SELECT count(*) FROM import_file WHERE kind = 'roster'") == \
            one("SELECT count(*) FROM audit_event WHERE action = 'org.import'")
    finally:
        c.close()
    tally.observations += 1
    return n_in


def run_kills(cli, root: Path, units: int, kills: int, seed: int) -> Tally:
    from djctl.store.engine import backup_sqlite, restore_sqlite

    db = Path(os.environ["DJCTL_DB"])
    done, shas = build(cli, root, units)
    base = root / "base.db"
    backup_sqlite(db, base)
    rng = random.Random(seed)
    tally = Tally()
    # the kill comes at uniform(low, bound) seconds after the start, `low` half the time a child needs to load
    # djctl; `bound` adapts so that kills land while files go in (later after a kill that found nothing new in,
    # to the length of a whole run when one ends on its own)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import djctl.cli, djctl.services.selfeval, djctl.io.selfeval_form"],
                   check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    low = (time.monotonic() - started) / 2
    bound = low * 3 + 1.0
    version = 0
    n_in = 0
    # Go on past `kills` (up to four times as many) until at least one kill has landed in the middle of an
    # import, so that a run cannot pass by killing only before or after the imports.
    while tally.kills < kills or (tally.landed == 0 and tally.kills < kills * 4):
        before = n_in
        children = [spawn(["selfeval", "import", str(done)], batch=rng.choice((1, 7, 64)))]
        if rng.random() < 0.3:
            version += 1
            children.append(spawn(["org", "import", str(roster_version(root, units, version))]))
        started = time.monotonic()
        delay = rng.uniform(low, bound)
        killed = False
        try:
            children[0].wait(timeout=delay)
            tally.finished += 1
            bound = max(low * 2, (time.monotonic() - started) * 1.1)  # the whole run fits in this
        except subprocess.TimeoutExpired:
            tally.kills += 1
            killed = True
        for ch in children:
            if ch.poll() is None:
                ch.send_signal(signal.SIGKILL)
            ch.wait()
            err = ch.stderr.read().decode("utf-8", "replace")
            ch.stderr.close()
            assert ch.returncode in (0, -signal.SIGKILL), err
            assert "Traceback" not in err and "locked" not in err, err
        n_in = observe(db, shas, tally)
        r = cli("audit", "verify", "--json")
        assert r.exit_code == 0, r.output
        if killed and before < n_in < len(shas):
            tally.landed += 1
        if killed and n_in == before:
            bound = min(bound * 1.25, 120.0)  # killed before anything went in: aim later next time
        if n_in == len(shas):
            restore_sqlite(base, db)
            tally.resets += 1
            n_in = 0
    # after all that, the store still works: a run to the end imports everything, a second changes nothing
    proc = spawn(["selfeval", "import", str(done)])
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    assert observe(db, shas, tally) == len(shas)
    r = cli("selfeval", "import", str(done), "--json")
    assert {f["status"] for f in json.loads(r.stdout)["files"]} == {"unchanged"}
    assert json.loads(cli("audit", "verify", "--json").stdout)["ok"]
    assert tally.partial == 0
    return tally


def _seed() -> int:
    return int(os.environ.get("DJCTL_CRASH_SEED") or time.time_ns() % 1_000_000)


def test_sigkill_during_imports_leaves_whole_files_only(cli, tmp_path, pytestconfig):
    kills = pytestconfig.getoption("--kills") or 8
    seed = _seed()
    tally = run_kills(cli, tmp_path, units=30, kills=kills, seed=seed)
    print(f"\ncrash run (60 forms, seed {seed}): {tally.line()}")
    assert tally.kills >= kills
    assert tally.landed >= 1, tally.line()  # some kills stopped an import half-way: files in and files absent


@pytest.mark.slow
def test_sigkill_during_imports_of_200_forms(cli, tmp_path, pytestconfig):
    kills = pytestconfig.getoption("--kills") or 60
    seed = _seed()
    tally = run_kills(cli, tmp_path, units=100, kills=kills, seed=seed)
    print(f"\ncrash run (200 forms, seed {seed}): {tally.line()}")
    assert tally.kills >= kills
    assert tally.landed >= 1, tally.line()
