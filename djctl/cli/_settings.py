"""Global options, kept as a small frozen object on ctx.obj (never a module-level mutable dict)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import typer


@dataclass(frozen=True)
class Settings:
    db: str | None = None
    quiet: bool = False
    yes: bool = False
    templates: Path | None = None
    allow_network_fs: bool = False

    def open_store(self, *, must_exist: bool = False):
        from djctl.store.engine import open_store

        return open_store(self.db, must_exist=must_exist, allow_network_fs=self.allow_network_fs)

    @property
    def interactive(self) -> bool:
        return not self.yes and sys.stdin.isatty()


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()
