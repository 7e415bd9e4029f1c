"""Self-assessment import throughput against a bare openpyxl read of the same files.

    python bench/import_throughput.py [--forms 1000] [--profile] [--keep DIR]

Builds a temporary store with N units, sets the month's tasks, writes the N forms with
`djctl selfeval forms` (the service), fills each as a unit would (openpyxl, like the demo), then times in the
same run (time.perf_counter):

  bare    openpyxl.load_workbook(read_only=True) and every row of every sheet, for every file
  import  djctl.services.selfeval.import_forms over the directory (guard, read, validate, one
          transaction with its audit event per file)

and prints both times and the ratio, then the time of importing the same directory again (all unchanged). With --profile (or when the ratio is above 2) the import is run again
under cProfile on a copy of the store as it was before the timed import, and the top costs are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

MONTH = "2024-03"


def build(root: Path, n: int) -> tuple[Path, Path]:
    """(store path, directory of filled forms)."""
    from openpyxl import Workbook

    from djctl.io.xlsx import wo_cell
    from djctl.services.demo.monthly import fill_form
    from djctl.services.roster import import_roster
    from djctl.services.selfeval import write_forms
    from djctl.services.setup import init_store
    from djctl.services.tasks import set_tasks
    from djctl.store.engine import open_store

    roster = root / "名册.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("单位")
    ws.append([wo_cell(ws, h) for h in ("单位编码", "单位名称", "组织类型", "分组", "书记", "党员人数")])
    for i in range(1, n + 1):
        ws.append([wo_cell(ws, v) for v in (f"U{i:05d}", f"测试单位{i}机关党委", "机关党委", f"第{i % 8 + 1}组", "张三", 20 + i % 50)])
    wb.save(str(roster))
    db = root / "djctl.db"
    store = open_store(db)
    try:
        init_store(store)
        rep = import_roster(store, roster, on_date=date(2024, 1, 1))
        if rep.file.status != "imported":
            raise SystemExit(f"roster refused: {rep.file.to_json()}")
        set_tasks(store, MONTH, None)
        forms = write_forms(store, MONTH, root / "下发")
    finally:
        store.dispose()
    back = root / "收回"
    rng = random.Random(20240301)
    for f in forms:
        fill_form(f, back / f.name, rng, rng.uniform(0.7, 0.98))
    return db, back


def bare_pass(files: list[Path]) -> int:
    import openpyxl

    cells = 0
    for f in files:
        wb = openpyxl.load_workbook(f, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


def run_import(db: Path, back: Path):
    from djctl.services.selfeval import import_forms
    from djctl.store.engine import open_store

    store = open_store(db)
    try:
        return import_forms(store, [back])
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=1000, help="number of units / forms (default 1000)")
    ap.add_argument("--profile", action="store_true", help="always profile the import")
    ap.add_argument("--keep", type=Path, default=None,
                    help="build in this directory and keep it (a later run with the same --forms reuses the build)")
    args = ap.parse_args(argv)

    root = args.keep or Path(tempfile.mkdtemp(prefix="djctl-bench-import-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        from djctl.store.engine import backup_sqlite

        pristine = root / "before-import.db"
        back = root / "收回"
        if args.keep and pristine.exists() and len(list(back.glob("*.xlsx"))) == args.forms:
            db = root / "djctl.db"  # a kept build of the same size: import again into a fresh copy
            backup_sqlite(pristine, db)
            print(f"reusing {args.forms} filled forms in {root}", file=sys.stderr)
        else:
            t0 = time.perf_counter()
            db, back = build(root, args.forms)
            print(f"built {args.forms} filled forms in {time.perf_counter() - t0:.1f} s ({root})", file=sys.stderr)
            backup_sqlite(db, pristine)
        files = sorted(back.glob("*.xlsx"))
        for f in files:  # the same warm page cache for both passes
            f.read_bytes()

        t = time.perf_counter()
        cells = bare_pass(files)
        bare = time.perf_counter() - t

        t = time.perf_counter()
        results = run_import(db, back)
        imported = time.perf_counter() - t

        statuses = {s: sum(1 for r in results if r.status == s) for s in {r.status for r in results}}
        if statuses != {"imported": len(files)}:
            bad = next(r for r in results if r.status != "imported")
            raise SystemExit(f"unexpected import result {statuses}: {bad.path}: {bad.message}")
        t = time.perf_counter()
        again = run_import(db, back)
        reimport = time.perf_counter() - t
        if {r.status for r in again} != {"unchanged"}:
            raise SystemExit("the second import changed something")
        n = len(files)
        ratio = imported / bare
        print(f"forms                     {n}")
        print(f"bare openpyxl read-only   {bare:8.2f} s  {bare / n * 1000:7.2f} ms/form  ({cells} cells)")
        print(f"djctl selfeval import     {imported:8.2f} s  {imported / n * 1000:7.2f} ms/form  ({sum(r.rows for r in results)} rows)")
        print(f"ratio import / bare       {ratio:8.2f}")
        print(f"same directory again      {reimport:8.2f} s  {reimport / n * 1000:7.2f} ms/form  (all unchanged)")

        if args.profile or ratio > 2:
            copy = root / "profile.db"
            backup_sqlite(pristine, copy)
            prof = cProfile.Profile()
            prof.enable()
            run_import(copy, back)
            prof.disable()
            for key in ("cumulative", "tottime"):
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(30)
                print(f"\n--- profile of the import, by {key} ---")
                print(buf.getvalue().split("\n", 4)[-1].rstrip())
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
