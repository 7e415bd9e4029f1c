"""Walk the command tree (for the generated docs/cli.md and the help tests)."""

from __future__ import annotations

from collections.abc import Iterator

from typing import Any

import typer


def walk(app: typer.Typer) -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)

    def rec(prefix: str, cmd: Any) -> Iterator[tuple[str, Any]]:
        yield prefix, cmd
        if hasattr(cmd, "commands"):
            for name in sorted(cmd.commands):
                yield from rec(f"{prefix} {name}".strip(), cmd.commands[name])

    yield from rec("", root)


def render_markdown(app: typer.Typer) -> str:
    lines = ["# djctl 命令参考", "", "由 `python scripts/gen_cli_docs.py` 生成，请勿手工编辑。", ""]
    for path, cmd in walk(app):
        if not path:
            continue
        lines.append(f"## djctl {path}")
        lines.append("")
        lines.append((cmd.help or "").strip())
        lines.append("")
        opts = []
        for p in cmd.params:
            if p.param_type_name == "option":
                opts.append(f"- `{', '.join(p.opts)}`：{p.help or ''}")
            elif p.param_type_name == "argument":
                opts.append(f"- `{p.name.upper()}`（参数）")
        if opts:
            lines.extend(opts)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
