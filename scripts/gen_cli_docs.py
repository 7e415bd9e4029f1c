"""Regenerate docs/cli.md from the command tree (a test checks it is current)."""

from pathlib import Path

from djctl.cli import app
from djctl.cli._docs import render_markdown

out = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
out.parent.mkdir(exist_ok=True)
out.write_text(render_markdown(app), encoding="utf-8")
print(out)
