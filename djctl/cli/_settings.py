"""Global options, kept as a small frozen object on ctx.obj (never a module-level mutable dict)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer


@dataclass(frozen=True)
class Settings:
    db: str | None = None
    quiet: bool = False
    yes: bool = False
    templates: Path | None = None
    allow_network_fs: bool = False
    # stores opened by this command, closed when it ends (the root context's close): no connection outlives
    # its command, so nothing of it (a WAL checkpoint on close, say) can happen later in the same process
    opened: list[Any] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # the store named for this command (even one not opened, e.g. by `org template --out`) is never an output
        from djctl.io.outfile import protect

        if "://" not in str(self.db or ""):
            protect(Path(self.db or "djctl.db").expanduser())

    def open_store(self, *, must_exist: bool = True, create: bool = False):
        """The store of this command. Only `init` passes create=True: every other command refuses a missing
        or zero-byte store (exit 3) instead of silently making an empty one."""
        from djctl.store.engine import open_store

        store = open_store(self.db, must_exist=must_exist and not create, allow_network_fs=self.allow_network_fs)
        self.opened.append(store)
        return store

    def close(self) -> None:
        while self.opened:
            self.opened.pop().dispose()

    @property
    def interactive(self) -> bool:
        return not self.yes and sys.stdin.isatty()


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()
