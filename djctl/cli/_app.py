"""One app factory so every command group behaves the same, and errors map to exit codes in one place."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from djctl.errors import DjctlError, InputError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def report_error(exc: DjctlError) -> None:
    """One line (plus the problems of a file) and a hint on stderr; never a traceback."""
    from djctl.cli._output import err_console

    text = str(exc) if isinstance(exc, InputError) else exc.message
    err_console().print(f"[bold red]错误：[/]{_escape(text)}", highlight=False, soft_wrap=True)
    if exc.hint:
        err_console().print(f"[yellow]提示：[/]{_escape(exc.hint)}", highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map djctl's typed errors to exit codes inside the command chain (CliRunner never sees main())."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DjctlError as exc:
            if os.environ.get("DJCTL_DEBUG") == "1":
                raise
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: one line, exit 1, never a traceback unless asked
            if os.environ.get("DJCTL_DEBUG") == "1" or _is_click_exception(exc):
                raise
            named = _named_failure(exc)  # disk full, read-only, no permission, a locked or damaged store
            if named is not None:
                report_error(named)
                raise typer.Exit(named.exit_code) from None
            from djctl.cli._output import err_console

            err_console().print(f"[bold red]djctl 内部错误：[/]{_escape(exc.__class__.__name__)}: {_escape(_no_sql(exc)[:500])}",
                                highlight=False, soft_wrap=True)
            err_console().print("[yellow]提示：[/]本次写入已回滚；设置 DJCTL_DEBUG=1 可显示详细信息，请把它报告给维护者",
                                highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            print("已中断，本次未完成的写入已回滚。", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper


def _named_failure(exc: Exception) -> DjctlError | None:
    """An OSError (an output or input path: exit 2) or a database failure (the store: exit 3) named for what it
    is, in Chinese, without SQL or parameters; None for anything else (a bug)."""
    if isinstance(exc, OSError):
        from djctl.io.outfile import os_failure

        return os_failure(exc, exc.filename or "文件", what="读写")
    if exc.__class__.__module__.startswith("sqlalchemy") or exc.__class__.__module__.startswith("sqlite3"):
        from djctl.store.engine import sqlite_failure

        return sqlite_failure(exc, None)
    return None


def _no_sql(exc: Exception) -> str:
    """A database error's own message, without the statement and parameters SQLAlchemy appends."""
    orig = getattr(exc, "orig", None)
    return str(orig).splitlines()[0] if orig is not None and str(orig) else str(exc).split("\n[SQL:")[0]


def _os_reason(exc: OSError) -> str:
    import errno

    reasons = {errno.EISDIR: "这是一个目录", errno.ENOTDIR: "路径中有一段不是目录", errno.ENOENT: "不存在",
               errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.EEXIST: "已存在", errno.ENOSPC: "磁盘已满",
               errno.EROFS: "只读文件系统", errno.EIO: "输入输出错误"}
    return reasons.get(exc.errno, exc.strerror or exc.__class__.__name__)


def _is_click_exception(exc: Exception) -> bool:
    return exc.__class__.__module__.startswith(("click", "typer"))


class DjctlTyper(typer.Typer):
    """A Typer whose commands and callbacks always pass through `handle_errors`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        decorator = super().command(*args, **kwargs)

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            decorator(handle_errors(func))
            return func

        return register

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        decorator = super().callback(*args, **kwargs)

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            decorator(handle_errors(func))
            return func

        return register


def make_app(help: str | None = None, **kwargs: Any) -> DjctlTyper:
    kwargs.setdefault("no_args_is_help", True)
    if help is not None:  # passing help=None would hide a group callback's docstring
        kwargs["help"] = help
    return DjctlTyper(
        add_completion=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,  # plain help: rich_utils costs ~200 ms at start-up (see bench)
        context_settings=CONTEXT_SETTINGS,
        **kwargs,
    )
