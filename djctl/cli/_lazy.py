"""A root command group that imports and converts a command group only when it is used.

`djctl --help` needs only the names and one-line helps of the top-level commands; converting all ~80
Typer commands into click commands (parsing every parameter annotation) cost more than importing typer
itself (see bench/README.md). The registry in `djctl.cli` gives each top-level command its module and
its one-line help; tests/test_cli_lazy.py checks the registry against the loaded commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from gettext import gettext as _

import typer
from typer.core import TyperGroup

try:  # typer ≥ 0.26 carries its own click
    from typer._click.utils import make_default_short_help
except ImportError:  # pragma: no cover - older typer on the real click
    from click.utils import make_default_short_help


@dataclass(frozen=True)
class Entry:
    """One top-level command: `group` names a Typer added with a name, otherwise one command of a nameless Typer."""

    name: str
    module: str  # under djctl.cli
    attr: str  # the Typer instance in that module
    group: bool
    help: str  # the first paragraph of its help, as shown in `djctl --help`

    def typer_app(self) -> typer.Typer:
        return getattr(importlib.import_module(f"djctl.cli.{self.module}"), self.attr)


_converted: dict[tuple[str, str], Any] = {}


def load(entry: Entry) -> Any:
    """The click command of one registry entry (a nameless Typer is converted once for all its commands)."""
    key = (entry.module, entry.attr)
    if entry.group:
        cmd = typer.main.get_group(entry.typer_app())
        cmd.name = entry.name
        return cmd
    if key not in _converted:
        _converted[key] = typer.main.get_command(entry.typer_app())
    cmd = _converted[key]
    if hasattr(cmd, "commands"):  # several commands: a group whose commands are merged into the root
        return cmd.commands[entry.name]
    return cmd  # a Typer with one command converts to that command


class LazyCommands(MutableMapping[str, Any]):
    """The root's command mapping: names in registry order; a command is loaded when first looked up."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = {e.name: e for e in entries}
        self._loaded: dict[str, Any] = {}
        self._order = list(self.entries)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = load(self.entries[name])  # KeyError for an unknown name, as a dict would
        return self._loaded[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        if name not in self._order:
            self._order.append(name)
        self._loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        self._order.remove(name)
        self._loaded.pop(name, None)
        self.entries.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def short_help(self, name: str, limit: int) -> str | None:
        """The help line without loading the command (None: it is loaded, ask the command)."""
        if name in self._loaded or name not in self.entries:
            return None
        return make_default_short_help(self.entries[name].help, limit)


FULL = 10_000  # the root help shows each command's whole first paragraph, wrapped, never cut with "..."


class DjctlGroup(TyperGroup):
    """A root group in Chinese: global options anywhere, parser errors and help translated (cli/_zh.py), and
    each command's whole first paragraph in the command list (wrapped, never cut with "...")."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Global options anywhere on the line; parser errors and help in Chinese (see cli/_zh.py)."""
        import sys

        from djctl.cli import _zh

        _zh.install()
        if not standalone_mode:
            args = _zh.move_global_options(sys.argv[1:] if args is None else args)
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            args = _zh.move_global_options(sys.argv[1:] if args is None else args)
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _zh._ce.ClickException as exc:
            _zh.show_usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("已取消。\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        lazy = self.commands
        names = self.list_commands(ctx)
        if not names:
            return
        limit = FULL
        rows = []
        for name in names:
            text = lazy.short_help(name, limit) if isinstance(lazy, LazyCommands) else None
            if text is None:
                cmd = self.get_command(ctx, name)
                if cmd is None or cmd.hidden:
                    continue
                text = cmd.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


class LazyGroup(DjctlGroup):
    """The root group; `REGISTRY` is set by `djctl.cli` before the group is built."""

    REGISTRY: list[Entry] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        lazy = LazyCommands(self.REGISTRY)
        for name, cmd in self.commands.items():  # anything added eagerly stays
            lazy[name] = cmd
        self.commands = lazy

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)
