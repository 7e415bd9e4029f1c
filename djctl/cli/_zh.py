"""Everything the parser prints, in Chinese: usage lines, help sections, metavars, parser errors.

Click (vendored by Typer) writes its help and errors in English with no translation hook. djctl formats
them itself: `ZhHelpFormatter` (set as the context's `formatter_class`) translates headings, usage prefixes,
metavars and the bracketed notes of the option list, and measures CJK text by display width;
`show_usage_error` prints a parser error as 用法 / 提示 / 错误 lines. `move_global_options` lets the global
options (--db, -q/--quiet, --yes, --allow-network-fs, --json) stand before or after the subcommand.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer

from djctl.domain.textclean import display_width

try:  # typer ≥ 0.26 carries its own click; its HelpFormatter is not re-exported under a public name
    from typer._click import Context as _Context
    from typer._click import exceptions as _ce
    from typer._click.formatting import HelpFormatter as _HelpFormatter
except ImportError:  # pragma: no cover - older typer on the real click
    from click import Context as _Context  # type: ignore[no-redef]
    from click import exceptions as _ce  # type: ignore[no-redef]
    from click.formatting import HelpFormatter as _HelpFormatter  # type: ignore[no-redef]

HEADINGS = {"Options": "选项", "Arguments": "参数", "Commands": "命令"}
TYPES = {"int": "整数", "integer": "整数", "str": "文本", "text": "文本", "float": "数字", "decimal": "数字",
         "path": "路径", "file": "文件", "bool": "是或否", "boolean": "是或否", "date": "日期", "datetime": "日期时间",
         "list[path]": "文件…", "list[str]": "文本…", "choice": "选项值"}
ARGUMENTS = {"files": "文件或目录", "file": "文件", "draw_id": "抽签编号", "unit": "单位编码", "item_id": "编号",
             "id": "编号", "code": "编码", "org": "单位或支部编码", "branch": "支部编码", "tier": "等次"}
PHRASES = [
    (re.compile(r"Show this message and exit\.?"), "显示本帮助并退出"),
    (re.compile(r"\[env var: ([^\];]+)(; )?"), r"[环境变量：\1\2"),
    (re.compile(r"default: "), "默认："),
    (re.compile(r"\brequired\b"), "必填"),
    (re.compile(r"\(dynamic\)"), "（按情况）"),
    (re.compile(r"\[OPTIONS\]"), "[选项]"),
    (re.compile(r"COMMAND \[ARGS\]\.\.\."), "命令 [参数]…"),
    (re.compile(r"\.\.\.$"), "…"),
]


def _metavar(match: re.Match[str]) -> str:
    inner = match.group(1)
    return f"<{TYPES.get(inner.lower(), TYPES.get(inner.lower().split('[')[0], '值'))}>"


def argument_name(name: str) -> str:
    return ARGUMENTS.get(name.lower(), name)


def translate(text: str, argument_term: bool = False) -> str:
    """Translate the English words Click and Typer put into help text; djctl's own words pass unchanged."""
    text = re.sub(r"<([A-Za-z_][A-Za-z0-9_\[\], ]*)>", _metavar, text)
    text = re.sub(r"([\[{])([A-Za-z_]+)([\]}])", lambda m: m.group(1) + argument_name(m.group(2)) + m.group(3), text)
    if argument_term:  # the first column of the 参数 section: the argument's name
        text = re.sub(r"^([A-Za-z_]+)(?=\.\.\.| |$)", lambda m: argument_name(m.group(1)), text)
    for pattern, repl in PHRASES:
        text = pattern.sub(repl, text)
    return text.replace("...", "…")


NO_LINE_START = set("，。、；：）》」』］】！？,.;:)]%")


_TOKEN = re.compile(r"[!-~]+|\s+|.", re.S)  # a run of ASCII (a word, an option, a path) never breaks


def wrap(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` display columns: between CJK characters anywhere, ASCII
    words only where they end; a closing mark never starts a line (it may overhang by one character)."""
    lines: list[str] = []
    line, w = "", 0
    for tok in _TOKEN.findall(text):
        tw = display_width(tok)
        if w + tw > width and line.strip() and tok[0] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, w = "", 0
            if tok.isspace():
                continue
        line += tok
        w += tw
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class ZhHelpFormatter(_HelpFormatter):
    """Click's help formatter with Chinese words and CJK-aware column widths."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        self.write(f"用法：{prog} {translate(args)}".rstrip() + "\n")

    _heading = ""

    def write_heading(self, heading: str) -> None:
        self._heading = heading
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(translate(a, self._heading == "Arguments"), translate(b)) for a, b in rows]
        if not rows:
            return
        first = min(max(display_width(a) for a, _ in rows), col_max)
        indent = " " * self.current_indent
        pad = " " * (first + col_spacing)
        room = max(20, (self.width or 80) - self.current_indent - first - col_spacing)
        for term, text in rows:
            w = display_width(term)
            text = re.sub(r"(?<=[，。；：、）」])\s+", "", " ".join(text.split()))  # no space after CJK punctuation
            lines = wrap(text, room) if text else []
            if not lines:
                self.write(f"{indent}{term}\n")
                continue
            if w <= first:
                self.write(f"{indent}{term}{' ' * (first - w + col_spacing)}{lines[0]}\n")
            else:
                self.write(f"{indent}{term}\n{indent}{pad}{lines[0]}\n")
            for more in lines[1:]:
                self.write(f"{indent}{pad}{more}\n")


def install() -> None:
    """Make every context format help with `ZhHelpFormatter` (Context.formatter_class is Click's hook for it)."""
    _Context.formatter_class = ZhHelpFormatter


# --------------------------------------------------------------------------- errors

_VALUE_MESSAGES = [
    (r"Input should be a valid integer.*", "应为整数"),
    (r"Input should be a valid number.*", "应为数字"),
    (r"Input should be a valid decimal.*", "应为数字"),
    (r"Input should be a valid boolean.*", "应为是或否"),
    (r"Input should be a valid date.*", "应为日期，如 2024-03-31"),
    (r"Input should be greater than or equal to (\S+)", r"应不小于 \1"),
    (r"Input should be greater than (\S+)", r"应大于 \1"),
    (r"Input should be less than or equal to (\S+)", r"应不大于 \1"),
    (r"Input should be less than (\S+)", r"应小于 \1"),
    (r"Value (.+) is not a valid (\w+)\.", r"\1 不是有效的值"),
    (r"(.+) is not one of (.+)\.", r"\1 不是可选值之一（可选：\2）"),
    (r"(?:Path|File|Directory) (.+) does not exist\.", r"\1 不存在"),
    (r"(?:Path|File|Directory) (.+) is a directory\.", r"\1 是一个目录"),
    (r"(?:Path|File|Directory) (.+) is a file\.", r"\1 是一个文件，应为目录"),
    (r"(?:Path|File|Directory) (.+) is not readable\.", r"\1 无法读取"),
    (r"(?:Path|File|Directory) (.+) is not writable\.", r"\1 无法写入"),
    (r"(.+) is not in the range (.+)\.", r"\1 超出范围 \2"),
]
_USAGE_MESSAGES = [
    (r"No such command '(.+)'\. Did you mean '(.+)'\?", r"没有这个命令：\1（您是否想用：\2）"),
    (r"No such command '(.+)'\.", r"没有这个命令：\1"),
    (r"Missing command\.", "缺少命令"),
    (r"Got unexpected extra arguments?(?:\(s\))? \((.+)\)", r"多余的参数：\1"),
    (r"Option '(.+)' requires an argument\.", r"选项 \1 需要一个值"),
    (r"Option '(.+)' requires (\d+) arguments\.", r"选项 \1 需要 \2 个值"),
    (r"Option '(.+)' does not take a value\.", r"选项 \1 不接受值"),
    (r"Argument '(.+)' takes (\d+) values\.", r"参数 \1 需要 \2 个值"),
    (r"No such option: (.+)", r"没有这个选项：\1"),
]


def _sub_first(message: str, table: Iterable[tuple[str, str]]) -> str:
    for pattern, repl in table:
        new, n = re.subn(pattern, repl, message)
        if n:
            return new
    return message


def _hint(exc: Any) -> str:
    _join_param_hints = _ce._join_param_hints  # the hint text Click builds for a parameter

    if exc.param_hint is not None:
        hint = exc.param_hint
    elif exc.param is not None:
        hint = exc.param.get_error_hint()
    else:
        return ""
    text = _join_param_hints(hint).replace("'", "")
    return " / ".join(argument_name(part.strip()) if part.strip().isidentifier() else translate(part.strip())
                      for part in text.split("/"))


def error_message(exc: Any) -> str:
    """The Chinese text of a Click usage error."""
    ce = _ce
    if isinstance(exc, ce.MissingParameter):
        what = {"option": "选项", "argument": "参数"}.get(getattr(exc, "param_type", None) or
                                                           getattr(exc.param, "param_type_name", ""), "参数")
        hint = _hint(exc)
        return f"缺少{what} {hint}".rstrip() + (f"：{exc.message}" if exc.message else "")
    if isinstance(exc, ce.NoSuchOption):
        text = f"没有这个选项：{exc.option_name}"
        if exc.possibilities:
            text += "（您是否想用：" + "、".join(sorted(exc.possibilities)) + "）"
        return text
    if isinstance(exc, ce.BadParameter):
        hint = _hint(exc)
        reason = _sub_first(exc.message, _VALUE_MESSAGES)
        return f"{hint} 的值无效：{reason}" if hint else f"值无效：{reason}"
    if isinstance(exc, ce.UsageError):
        return _sub_first(exc.message, _USAGE_MESSAGES)
    return _sub_first(exc.format_message(), _USAGE_MESSAGES)


def show_usage_error(exc: Any) -> None:
    """用法 line, where to look for help, then 错误：… — all on stderr."""
    from djctl.cli._output import safe_streams

    safe_streams()
    err = sys.stderr
    if isinstance(exc, getattr(_ce, "NoArgsIsHelpError", ())):  # a group called bare: its help, as Click does
        err.write(exc.format_message() + "\n")
        err.flush()
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        err.write(ctx.get_usage() + "\n")
        if ctx.command.get_help_option(ctx) is not None:
            err.write(f"查看帮助：{ctx.command_path} {ctx.help_option_names[0]}\n")
        err.write("\n")
    err.write(f"错误：{error_message(exc)}\n")
    err.flush()


# --------------------------------------------------------------------------- global options anywhere

ROOT_VALUE_OPTIONS = ("--db",)
ROOT_FLAGS = ("-q", "--quiet", "--yes", "--allow-network-fs")


def move_global_options(args: Sequence[str]) -> list[str]:
    """Root options written after the subcommand go in front of it; --json written before it goes after.

    `djctl score --month 2024-03 --db x.db -q` is then `djctl --db x.db -q score --month 2024-03`, and
    `djctl --json org list` is `djctl org list --json`. Parsing stops at `--`."""
    front: list[str] = []
    rest: list[str] = []
    json_first = False
    seen_command = False
    i = 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a in ROOT_VALUE_OPTIONS:
            if i + 1 >= len(args):
                raise _ce.BadOptionUsage(a, f"Option '{a}' requires an argument.")
            front += [a, args[i + 1]]
            i += 2
            continue
        if any(a.startswith(o + "=") for o in ROOT_VALUE_OPTIONS) or a in ROOT_FLAGS:
            front.append(a)
        elif a == "--json" and not seen_command:
            json_first = True
        else:
            if not a.startswith("-"):
                seen_command = True
            rest.append(a)
        i += 1
    if json_first and "--json" not in rest:
        stop = rest.index("--") if "--" in rest else len(rest)
        rest.insert(stop, "--json")
    return front + rest
