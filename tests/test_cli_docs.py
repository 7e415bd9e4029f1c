"""Every command has Chinese help with an example; the README and docs/cli.md list them."""

from __future__ import annotations

from pathlib import Path

from djctl.cli import app
from djctl.cli._docs import render_markdown, walk

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_with_example():
    missing = []
    for path, cmd in walk(app):
        if not path or hasattr(cmd, "commands") and not getattr(cmd, "invoke_without_command", False):
            continue
        if "示例" not in (cmd.help or ""):
            missing.append(path)
    assert missing == []


def test_every_group_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    root = [p for p, _ in walk(app) if p and " " not in p]
    assert [p for p in root if f"djctl {p}" not in readme] == []


def test_docs_cli_md_is_current():
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render_markdown(app), "docs/cli.md is stale: run python scripts/gen_cli_docs.py"
