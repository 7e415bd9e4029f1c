"""The root app: global options, then every command group added in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl import __version__
from djctl.cli import adjust, annual, audit, backup, bulletin, check, demo, lookback, negative, org, rectify, sample, score, selfeval, setup, store, tasks, tier, votes
from djctl.cli._app import make_app
from djctl.cli._settings import Settings

app = make_app(help="djctl：机关工委党建考核工具（月自评、月抽查、季通报、年总评、分类定级、回头看）。\n\n"
                    "示例：djctl demo --dir djctl-demo")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"djctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option("--db", envvar="DJCTL_DB", help="数据库路径或 SQLAlchemy URL（默认 ./djctl.db）")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只输出结果，不输出过程信息")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="不询问，直接执行")] = False,
    templates: Annotated[Optional[Path], typer.Option("--templates", help="自定义文书模板目录（按名称覆盖内置模板）")] = None,
    allow_network_fs: Annotated[bool, typer.Option("--allow-network-fs", help="允许把 SQLite 数据库放在网络共享目录（不推荐）")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本")] = False,
) -> None:
    """djctl：机关工委党建考核工具。"""
    ctx.obj = Settings(db=db, quiet=quiet, yes=yes, templates=templates, allow_network_fs=allow_network_fs)


app.add_typer(setup.app)
app.add_typer(setup.scheme_app, name="scheme")
app.add_typer(org.app, name="org")
app.add_typer(audit.app, name="audit")
app.add_typer(backup.app)
app.add_typer(tasks.app, name="tasks")
app.add_typer(selfeval.app, name="selfeval")
app.add_typer(score.app)
app.add_typer(votes.app, name="votes")
app.add_typer(adjust.app, name="adjust")
app.add_typer(sample.app, name="sample")
app.add_typer(check.app, name="check")
app.add_typer(lookback.app, name="lookback")
app.add_typer(tier.app, name="tier")
app.add_typer(rectify.app, name="rectify")
app.add_typer(negative.app)
app.add_typer(bulletin.app)
app.add_typer(annual.app)
app.add_typer(demo.app)
app.add_typer(store.app)
