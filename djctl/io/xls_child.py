""".xls workbooks read by python-calamine in a child process of their own.

calamine trusts what a binary .xls says about itself: a DIMENSIONS record claiming a billion rows makes it
reserve 80 GB, and a cyclic sector chain in the OLE container makes it read without end; either way the
process aborts (no message, the whole import lost). An .xls is a format of the past, rare among returned
forms, and its container and records cannot be checked with a few byte patterns as .xlsx and .ods are. So
it is read in a child process (`python -m djctl.io.xls_child PATH`), with its memory and CPU time capped
where the system allows: the child sends back every sheet's size, merged ranges and values (sheets too
large to read only their size), and a child that dies is a refusal in Chinese. The result is served to
`Workbook` with the calamine calls it makes (`sheet_names`, `get_sheet_by_name`, `total_height` …).

In a read worker (io/read_workers.py), which is itself a child, the file is read in place: a worker that
dies hands its files back to the caller, which reads them here, in a child.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from djctl.errors import InputError

MEMORY_BYTES = 3 * 1024 ** 3   # address space of the child: a full .xls grid (65,536 × 256 cells) needs about 1 GB
CPU_SECONDS = 120
IN_WORKER = False  # set by io/read_workers.py in its workers: already a child of the caller


@dataclass
class Sheet:
    total_height: int
    total_width: int
    rows: list[list[Any]] | None  # None when the sheet is too large to read (the caller refuses it)
    merged_cell_ranges: list[Any] = field(default_factory=list)
    error: str | None = None  # calamine could not read this sheet (the caller refuses it by name)

    def to_python(self, skip_empty_area: bool = False) -> list[list[Any]]:
        return self.rows or []


@dataclass
class Book:
    sheet_names: list[str]
    sheets: dict[str, Sheet]

    def get_sheet_by_name(self, name: str) -> Sheet:
        sheet = self.sheets[name]
        if sheet.error is not None:
            raise RuntimeError(sheet.error)
        return sheet

    def close(self) -> None:
        pass


def open_xls(path: str) -> Any:
    """The .xls as calamine reads it: in place in a read worker, else in a child process."""
    from djctl.io.calamine_read import open_calamine
    from djctl.io.read_workers import child_env

    if IN_WORKER:
        return open_calamine(path, "xls")
    try:
        done = subprocess.run([sys.executable, "-m", "djctl.io.xls_child", path], capture_output=True, env=child_env(),
                              timeout=CPU_SECONDS * 2)
    except subprocess.TimeoutExpired:
        raise _died(path, "读取超时") from None
    except OSError as exc:  # no child processes here (a locked-down machine): read in place
        if exc.errno is None:
            raise
        return open_calamine(path, "xls")
    if done.returncode != 0:
        raise _died(path, f"退出码 {done.returncode}")
    kind, payload = pickle.loads(done.stdout)
    if kind == "refused":
        message, hint = payload
        raise InputError(message, path=path, hint=hint)
    return payload


def _died(path: str, why: str) -> InputError:
    from djctl.io.read_workers import CRASH_HINT

    return InputError(f"工作簿无法读取（读取 .xls 的进程异常结束：{why}）", path=path,
                      hint=CRASH_HINT)


def _limit() -> None:
    try:
        import resource
    except ImportError:  # Windows: no limits, the child still keeps a crash away from the caller
        return
    for what, value in ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_CPU, CPU_SECONDS)):
        try:
            soft, hard = resource.getrlimit(what)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(what, (cap, hard))
        except (ValueError, OSError):
            pass


def _read(path: str) -> tuple[str, Any]:
    from djctl.errors import DjctlError
    from djctl.io.calamine_read import MAX_CELLS, open_calamine

    try:
        wb = open_calamine(path, "xls")
        sheets = {}
        for name in wb.sheet_names:
            try:
                ws = wb.get_sheet_by_name(name)
                height, width = ws.total_height, ws.total_width
                small = height * width <= MAX_CELLS
                sheets[name] = Sheet(height, width, ws.to_python(skip_empty_area=False) if small else None,
                                     list(ws.merged_cell_ranges or []))
            except Exception as exc:  # noqa: BLE001 - calamine's errors, a Rust panic too: this sheet is unreadable
                sheets[name] = Sheet(0, 0, None, error=exc.__class__.__name__)
        return "read", Book(list(wb.sheet_names), sheets)
    except DjctlError as exc:
        return "refused", (exc.message, exc.hint)


if __name__ == "__main__":
    from djctl.io import xls_child  # the module under its own name: what is pickled must unpickle in the caller

    xls_child._limit()
    sys.stdout.buffer.write(pickle.dumps(xls_child._read(sys.argv[1]), protocol=pickle.HIGHEST_PROTOCOL))
