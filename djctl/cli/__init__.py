"""The root app: global options, then every top-level command in one registry, loaded when used.

A new command group: write `djctl/cli/NAME.py` with `app = make_app(help=...)`, add one `Entry` below
(its help is the first paragraph shown by `djctl --help`; tests/test_cli_lazy.py checks it), list it in
README and regenerate docs/cli.md with `python scripts/gen_cli_docs.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl import __version__
from djctl.cli._app import make_app
from djctl.cli._lazy import Entry, LazyGroup
from djctl.cli._settings import Settings


def _group(name: str, module: str, help: str, attr: str = "app") -> Entry:
    return Entry(name, module, attr, True, help)


def _command(name: str, module: str, help: str) -> Entry:
    return Entry(name, module, "app", False, help)


LazyGroup.REGISTRY = [
    _command("init", "setup", "初始化数据库并载入考核方案（每个年度一个方案）。"),
    _group("scheme", "setup", "考核方案：查看、校验、为新年度生成方案。", attr="scheme_app"),
    _group("org", "org", "单位与支部名册：导入、查看、模板。"),
    _group("audit", "audit", "审计日志：每次写入都追加一条带哈希链的事件。"),
    _command("backup", "backup", "备份数据库：用 SQLite 备份接口复制一份一致的副本，核对完整性、各表行数与审计链后才保留。"),
    _command("restore", "backup", "从备份恢复数据库：先核对备份（完整性、审计链、与说明文件一致），确认后替换当前数据库。"),
    _group("tasks", "tasks", "月度任务清单：设置、查看。"),
    _group("selfeval", "selfeval", "月自评：下发自评表、导入各单位报送的自评表、查看报送情况。"),
    _command("score", "score",
             "计算并显示得分：月度（自评、核查扣分、最终得分、得分率），季度（各月得分率、季度得分、排名）， 年度（日常考核、民主测评、加减分、总分、排名、等次）。"),
    _command("explain", "score",
             "说明一个单位的得分是怎样算出来的：某月逐项的自评、核查与扣分公式；或全年从各月得分率、 季度、日常考核、民主测评、加减分到总分与等次的每一步。"),
    _group("votes", "votes", "民主测评：生成测评票数汇总表、导入票数、查看得分。"),
    _group("adjust", "adjust", "加分项与减分项（含一票否决）：逐项录入或批量导入，按方案封顶计入年度总分。"),
    _group("sample", "sample",
             "月度抽查抽签：按比例随机抽取本月抽查单位，记录种子、总体与规则，可由任何人复算核验。"),
    _group("check", "check", "月抽查核查：为抽中单位生成核查表、导入核查结果（虚假双倍扣分并生成整改事项）、查看核查情况。"),
    _group("lookback", "lookback",
             "回头看抽签：从达标及以上等次的党支部中按等次分层随机抽取，记录种子与总体，可由任何人复算核验。"),
    _group("tier", "tier", "党支部分类定级：设定等次、导入验收结果、查看历史与达标率/过硬率统计。"),
    _group("rectify", "rectify", "问题整改：登记整改事项与问题类别、整改反馈函与台账回收、审核销号、逾期提醒、整改率统计、整改“回头看”抽签复查。"),
    _group("negative-list", "negative",
           "年度负面清单：自评虚假的单位、“回头看”中反弹的支部、出现重复问题或整改逾期的单位或支部，逐条列明原因；也可经研究列入（add）或撤销（revoke）。"),
    _command("bulletin", "bulletin",
             "生成季度考核通报（公文格式的 Word，及 Markdown、HTML、Excel），数字全部来自数据库。"),
    _command("schedule", "bulletin",
             "生成季度调度会材料：报送情况、抽签与核查、得分下降较多的单位、整改事项、支部定级进展。"),
    _command("ranking", "annual",
             "生成年度考核结果通报（公文格式）和排名表（含各单位 12 个月的得分率）。"),
    _command("year-end", "annual",
             "年终一键运行：检查全年任务、报送、抽查、核查、测评是否齐全，列出每处缺口； 齐全时生成四个季度通报、年度结果通报与排名表、定级统计、回头看报告、负面清单和文件清单（含 SHA-256 与审计链头）。 指定 --date 时重复运行得到逐字节相同的文件。"),
    _command("demo", "demo",
             "运行示范年度：建库、载入方案与名册，并依次执行已有的全部考核环节，生成真实文书。"),
    _command("migrate-store", "store",
             "把当前数据库（--db）的全部数据连同审计链原样复制到一个新建的空数据库，并核对每张表的行数与审计链头。"),
    _group("action", "action", "问责措施：提醒谈话、约谈、通报批评、责令整改、诫勉谈话、问责，逐项录入或批量导入，按日期统计。"),
    _group("inspector", "inspector", "检查人员库（双随机）：导入、查看。"),
    _command("publish", "publish",
             "生成公示网站：首页、每次抽签的公示页（种子及来源、规则、完整总体及哈希、抽中名单、重抽原因、检查人员）、 季度得分与排名（含图表）、年度排名和负面清单。"),
    _group("debrief", "debrief", "书记抓党建述职评议：生成评议汇总表、导入述职日期与评议票、查看评议结果、生成结果通报。"),
    _command("combined", "combined",
             "党建工作在本机关综合考核中的赋分：每个单位的党建考核结果按方案 [combined] 的权重（默认三分之一）折算到综合考核分值； 给出业务工作得分表时，再算出综合考核得分与排名。--xlsx 导出报送目标绩效办公室的表格（每个单位一行，不含公式）。"),
    _command("eligibility", "combined",
             "评先评优资格：按方案 [eligibility] 的规则（考核等次为差、一票否决、列入负面清单、书记述职评议为差、未参加排名）， 逐个单位给出是否具备资格及原因。"),
    _group("staff", "staff", "工委干部月度考评：名册、月度考评表下发与导入、月度与年度得分和排名、月度考评通报。"),
]

app = make_app(cls=LazyGroup, help="djctl：机关工委党建考核工具（月自评、月抽查、季通报、年总评、分类定级、回头看）。\n\n"
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
    from djctl.cli._output import safe_streams

    safe_streams()
    ctx.obj = Settings(db=db, quiet=quiet, yes=yes, templates=templates, allow_network_fs=allow_network_fs)
    ctx.call_on_close(ctx.obj.close)


