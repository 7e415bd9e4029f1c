"""A reading function for tests of io/read_workers: what it does depends on the file's name."""

from __future__ import annotations

from pathlib import Path

from djctl.errors import InputError, Problem


def read(path: Path) -> dict:
    name = path.name
    if "refuse" in name:
        raise InputError("拒绝：" + name, path=str(path), problems=[Problem("第一格有误", "表", 3, "得分")], hint="改好再报")
    if "boom" in name:
        raise RuntimeError("a bug in the reader: " + name)
    if "abort" in name:  # as calamine did on some hostile files: the process ends at once, no exception
        import os

        os.abort()
    return {"name": name, "size": path.stat().st_size}
