"""Reading a month's task list from a workbook (任务编码, 任务名称, 分值, 过硬维度, 说明) or a TOML file."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from djctl.domain.scheme import MAX_DEPTH, MAX_TASKS, SchemeError, TaskDef, _limits, parse_tasks
from djctl.domain.tiers import DIMENSIONS
from djctl.errors import InputError, Problem, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.xlsx import Column, Workbook, find_table

TASK_COLUMNS = (
    Column("任务编码", ("code", "task_code", "编码")),
    Column("任务名称", ("name", "task", "任务", "考核指标")),
    Column("分值", ("points", "满分")),
    Column("过硬维度", ("dimension", "维度"), required=False),
    Column("说明", ("note", "备注", "考核要求"), required=False),
)


def read_tasks(path: Path) -> list[TaskDef]:
    if path.suffix.lower() == ".toml":
        return _read_toml(path)
    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        name = "任务清单" if wb.has_sheet("任务清单") else wb.sheetnames[0]
        data = wb.sheet(name)
    table = find_table(str(path), data, TASK_COLUMNS)
    refuse_merged(problems, data, table.header_row, table.columns)
    tasks: list[TaskDef] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, name, rownum, table, cells)
        code = r.code("任务编码")
        title = r.text("任务名称")
        pts = r.points("分值", lo=Decimal("0.1"), hi=Decimal(1000))
        dim = r.choice("过硬维度", DIMENSIONS, required=False)
        note = r.text("说明", required=False, max_len=1000)
        if code in seen:
            problems.add(f"任务编码「{code}」与第 {seen[code]} 行重复", name, rownum, "任务编码")
        elif code:
            seen[code] = rownum
        if r.ok and pts is not None:
            tasks.append(TaskDef(code, title, pts, dim, note))
    if not tasks and not problems:
        problems.add("没有任何任务", name)
    if len(tasks) > MAX_TASKS:
        problems.add(f"任务过多（{len(tasks)} 项，上限 {MAX_TASKS}：自评表最多能读回这么多行）", name)
    problems.raise_if_any("任务清单有错误，未导入")
    return tasks


def _read_toml(path: Path) -> list[TaskDef]:
    if not path.is_file():
        raise InputError("文件不存在" if not path.exists() else "不是文件", path=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InputError(f"文件无法读取（{exc.strerror or exc.__class__.__name__}）", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"不是有效的 TOML：{exc}", path=str(path)) from None
    except RecursionError:
        raise InputError(f"嵌套层数过深（上限 {MAX_DEPTH} 层）", path=str(path)) from None
    # every problem at once: limits, unknown keys and the tasks' own problems
    found = _limits(raw) + [(k, "未知的键（任务文件只能包含 [[tasks]]）") for k in sorted(set(raw) - {"tasks"})]
    try:
        tasks = parse_tasks(None, raw.get("tasks", []), "tasks")
    except SchemeError as exc:
        found += list(exc.problems)
        tasks = []
    if found:
        raise InputError("任务清单有错误，未导入", path=str(path),
                         problems=[Problem(f"{k}：{m}") for k, m in found])
    if not tasks:
        raise InputError("任务文件中没有 [[tasks]]", path=str(path))
    return tasks
