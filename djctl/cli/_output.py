"""One output sink: human (rich) / json / quiet. Results on stdout; progress, warnings, errors on stderr.

Output that is not a terminal (a pipe, a file) is never wrapped or cut: a hash or a name stays on one line
for grep and copy. No console encoding makes a command crash: characters the encoding lacks are replaced.
-q drops progress and decoration (table titles, frames); results and refusals always print.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

RICH_TABLE_MAX_ROWS = 300  # a rich Table costs ~1.5 ms a row; longer tables print as plain text


UNWRAPPED_WIDTH = 100_000  # "no wrapping" for a pipe: rich needs a width, and pads nothing to it


def safe_streams() -> None:
    """Make stdout/stderr replace what their encoding cannot hold (GBK, ASCII, LANG=C) instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot change any more
                pass


@lru_cache(maxsize=None)
def _console(stderr: bool, stream_id: int):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if tty:
        return Console(stderr=stderr, highlight=False, soft_wrap=False)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=UNWRAPPED_WIDTH, no_color=True)


def is_terminal() -> bool:
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def out_console():
    return _console(False, id(sys.stdout))


def err_console():
    return _console(True, id(sys.stderr))


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


class Output:
    """Presents results according to --json / -q."""

    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        self.json = json_mode
        self.quiet = quiet

    # stderr side
    def info(self, message: str) -> None:
        if not self.quiet:
            err_console().print(message, highlight=False, markup=False)

    def warn(self, message: str) -> None:
        err_console().print(f"[yellow]注意：[/]{_esc(message)}", highlight=False)

    # stdout side
    def doc(self, doc: Any) -> None:
        print_json(doc)

    def line(self, message: str = "") -> None:
        """A result line: printed with or without -q (never in --json, whose stdout is the document)."""
        if not self.json:
            self._write(message)

    def note(self, message: str = "") -> None:
        """Decoration on stdout (a heading, a blank line, a hint what to run next): dropped by -q."""
        if not self.json and not self.quiet:
            self._write(message)

    def _write(self, message: str) -> None:  # never wrapped by us: a terminal wraps for the eye, a pipe not at all
        sys.stdout.write(message + "\n")

    def result(self, message: str) -> None:
        """A one-line result that even -q prints (e.g. a path or a hash a script needs)."""
        if not self.json:
            sys.stdout.write(message + "\n")

    def files(self, paths: Sequence[Any], summary: str) -> None:
        """Files a command wrote: {"files": [...]} in JSON, else one path a line and the summary."""
        if self.json:
            self.doc({"files": [str(p) for p in paths]})
            return
        for p in paths:
            self.result(str(p))
        self.info(summary)

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]],
              *, justify: Sequence[str] | None = None, caption: str | None = None) -> None:
        if self.json:
            return
        if self.quiet:  # the rows a script wants, tab-separated, without title, caption or frame
            self._plain(None, columns, rows, None)
            return
        if len(rows) > RICH_TABLE_MAX_ROWS or not is_terminal() and len(rows) > 100:
            self._plain(title, columns, rows, caption)
            return
        from rich.table import Table

        t = Table(title=_esc(title) if title else None, caption=_esc(caption) if caption else None,
                  show_lines=False, header_style="bold")
        for i, c in enumerate(columns):
            t.add_column(_esc(str(c)), justify=(justify[i] if justify else "left"))  # type: ignore[arg-type]
        from rich.text import Text

        for r in rows:  # cells are data, never markup: a unit named "[/y]" must print as it is
            t.add_row(*[Text("" if v is None else str(v)) for v in r])
        out_console().print(t)

    def _plain(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None) -> None:
        w = sys.stdout.write
        if title:
            w(title + "\n")
        w("\t".join(str(c) for c in columns) + "\n")
        for r in rows:
            w("\t".join("" if v is None else str(v) for v in r) + "\n")
        if caption:
            w(caption + "\n")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
