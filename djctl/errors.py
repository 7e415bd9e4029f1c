"""Typed errors with Chinese messages; the CLI maps them to exit codes in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


class DjctlError(Exception):
    """A problem the user can understand and fix. Exit code 2 unless a subclass says otherwise."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One refused value in one file: where it is and why (Chinese)."""

    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"「{self.column}」列")
        return "".join(parts)

    def to_json(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        w = self.where()
        return f"{w}：{self.message}" if w else self.message


class InputError(DjctlError):
    """Bad input: a file, sheet, row, column and reason. Exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, problems: list[Problem] | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.path = path
        self.problems = list(problems or [])

    def __str__(self) -> str:
        head = f"{self.path}：{self.message}" if self.path else self.message
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ActionNeeded(DjctlError):
    """The work found something the user must act on (e.g. units missing). Exit code 1."""

    exit_code = 1


class NoScheme(ActionNeeded):
    """The store has no scheme for the year a command needs: usage refused (exit 2). A subclass of ActionNeeded
    so that code which treats a missing scheme as 'not there yet' (last year's grades, say) still catches it."""

    exit_code = 2


def no_scheme(year: int | None = None) -> DjctlError:
    """A command needs a year's scheme and the store has none: usage refused (exit 2), naming what to run."""
    if year is None:
        return NoScheme("数据库中还没有考核方案", hint="先运行 djctl init（载入内置方案），或 djctl init --scheme 方案文件")
    return NoScheme(f"数据库中没有 {year} 年度的考核方案",
                      hint=f"先生成并载入：djctl scheme new --year {year} --out 方案{year}.toml，"
                           f"按需修改后运行 djctl init --scheme 方案{year}.toml")


class StoreError(DjctlError):
    """The store is locked, damaged or newer than this djctl. Exit code 3."""

    exit_code = 3


class SecurityError(InputError):
    """A file or template tried something it must not (formula, entity, sandbox escape). Exit code 2."""


@dataclass
class ProblemList:
    """Collects problems while reading one file, then raises them together."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the report must say but does not refuse (a formula read at its value)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def add(self, message: str, sheet: str | None = None, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(message, sheet, row, column))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self, message: str = "文件有错误，未导入") -> None:
        if self.problems:
            raise InputError(message, path=self.path, problems=self.problems)
