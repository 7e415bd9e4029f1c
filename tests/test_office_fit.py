"""Office fit (issue 16): output for pipes and consoles, exit codes, Chinese parser, demo safety, a new year.

Each test is one fault an office user met, run the way they ran it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monthly_helpers import MONTH, fill_all, fill_form, setup_month, setup_store

# --------------------------------------------------------------------------- helpers


def run_main(monkeypatch, args: list[str], encoding: str) -> tuple[int, str, str]:
    """Run the real entry point (djctl.__main__.main) with stdout/stderr in `encoding`, strict: what a
    GBK console, a redirect under LANG=C or PYTHONIOENCODING gives."""
    from djctl.__main__ import main

    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding=encoding, errors="strict", write_through=True)
    err = io.TextIOWrapper(err_b, encoding=encoding, errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "argv", ["djctl", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out.flush()
    err.flush()
    # Click itself writes UTF-8 to a stream that claims ASCII (it takes that for a misconfigured locale)
    errors = "replace" if encoding == "ascii" else "strict"
    return code, out_b.getvalue().decode(encoding, errors), err_b.getvalue().decode(encoding, errors)


def drawn_month(cli, tmp_path: Path):
    s = setup_month(cli, tmp_path, units=5)
    fill_all(s, tmp_path / "收回", ["U001", "U002", "U003", "U004", "U005"])
    r = cli("selfeval", "import", str(tmp_path / "收回"))
    assert r.exit_code == 0, r.output
    r = cli("sample", "--month", MONTH, "--seed", "2024-03 福彩开奖号码 01 05 12 19 23 31 + 07")
    assert r.exit_code == 0, r.output
    return s


# --------------------------------------------------------------------------- 1. pipes and consoles


def test_piped_output_is_never_wrapped_or_cut(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # a narrow console setting must not matter for a pipe or a file
    drawn_month(cli, tmp_path)
    r = cli("sample", "show")
    assert r.exit_code == 0, r.output
    doc = json.loads(cli("sample", "show", "--json").stdout)
    lines = r.stdout.splitlines()
    assert any(doc["population_hash"] in line for line in lines), r.stdout  # the hash whole on one line
    assert any(doc["seed"] in line for line in lines)
    r = cli("sample", "list")
    assert any(doc["seed"] in line for line in r.stdout.splitlines()), r.stdout  # a table cell is not cut
    assert "…" not in r.stdout
    r = cli("org", "list")
    assert any("测试单位5机关党委" in line and "U005" in line for line in r.stdout.splitlines()), r.stdout


def test_quiet_drops_decoration_but_prints_results_and_refusals(cli, tmp_path):
    s = drawn_month(cli, tmp_path)
    for args in (["score", "--month", MONTH], ["explain", "U001", "--month", MONTH], ["org", "list"]):
        r = cli("-q", *args)
        assert r.exit_code == 0, r.output
        assert "U001" in r.stdout, (args, r.stdout)
    r = cli("-q", "score", "--month", MONTH)
    assert r.stdout.splitlines()[0].split("\t")[:2] == ["编码", "单位"] or "\t" in r.stdout  # plain rows for scripts
    assert "┃" not in r.stdout and "━" not in r.stdout
    bad = fill_form(s.forms["U001"], tmp_path / "坏" / "bad.xlsx", [99] + [1] * 8)
    r = cli("-q", "selfeval", "import", str(bad), "--replace")
    assert r.exit_code == 2
    assert "拒绝" in r.stdout and "bad.xlsx" in r.stdout, r.output


def test_every_console_encoding_prints_without_crashing(cli, tmp_path, monkeypatch):
    drawn_month(cli, tmp_path)
    for encoding in ("gbk", "ascii"):
        _all_commands(monkeypatch, encoding)
    for encoding in ("gb18030", "cp936", "latin-1"):
        code, out, err = run_main(monkeypatch, ["explain", "U001", "--month", MONTH], encoding)
        assert code == 0 and "U001" in out, err


def _all_commands(monkeypatch, encoding: str) -> None:
    commands = [
        (["explain", "U001", "--month", MONTH], 0),
        (["score", "--month", MONTH], 0),
        (["org", "list"], 0),
        (["sample", "show"], 0),
        (["sample", "verify", "1"], 0),
        (["audit", "verify"], 0),
        (["selfeval", "status", "--month", MONTH], 0),
        (["tasks", "show", "--month", MONTH], 0),
        (["--help"], 0),
        (["score", "--mnth", "3"], 2),
    ]
    for args, want in commands:
        code, out, err = run_main(monkeypatch, args, encoding)
        assert code == want, (args, out, err)
        assert "UnicodeEncodeError" not in out + err and "内部错误" not in err, (args, err)
        assert out or err
    code, out, err = run_main(monkeypatch, ["explain", "U001", "--month", MONTH], encoding)
    assert "U001" in out


def test_gbk_console_in_a_real_process(cli, tmp_path):
    setup_store(cli, tmp_path)
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "LANG": "C", "LC_ALL": "C"}
    p = subprocess.run([sys.executable, "-m", "djctl", "explain", "U001", "--month", MONTH], env=env,
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode("gbk", "replace")
    assert "得分率".encode("gbk") in p.stdout
    assert b"Traceback" not in p.stderr


def test_sample_show_writes_the_publication_to_a_file(cli, tmp_path):
    drawn_month(cli, tmp_path)
    doc = json.loads(cli("sample", "show", "--json").stdout)
    r = cli("sample", "show", "--out", "公示.txt")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "公示.txt").read_text(encoding="utf-8")
    assert not text.startswith("\ufeff")
    assert doc["population_hash"] in text and "抽签结果公示" in text
    for code in doc["selected"]:
        assert any(line.split("\t")[1:2] == [code] and doc["keys"][code] in line for line in text.splitlines())
    r = cli("sample", "show", "--out", "公示-记事本.txt", "--bom")
    assert r.exit_code == 0, r.output
    raw = (tmp_path / "公示-记事本.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert raw[3:].decode("utf-8").replace("\r\n", "\n") == text


# --------------------------------------------------------------------------- 2. exit codes


def test_exit_codes_by_class(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    assert cli("org", "list").exit_code == 0                               # 0 done
    r = cli("selfeval", "status", "--month", MONTH)
    assert r.exit_code == 1 and "未报送" in r.output                        # 1 done, units missing
    assert cli("score", "--month", "2024-13").exit_code == 2               # 2 usage refused
    assert cli("tasks", "set", "--month", "2031-03").exit_code == 2        # 2 no scheme for the year
    bad = tmp_path / "not-a-store.db"
    bad.write_bytes(b"this is no database" * 100)
    r = cli("--db", str(bad), "org", "list")
    assert r.exit_code == 3, r.output                                      # 3 store damaged or foreign
    fill_all(s, tmp_path / "收回")
    assert cli("selfeval", "import", str(tmp_path / "收回")).exit_code == 0
    assert cli("selfeval", "status", "--month", MONTH).exit_code == 0      # nobody missing: 0


def test_a_batch_with_a_refused_file_names_what_went_in_and_what_did_not(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回", ["U001", "U003"])
    fill_form(s.forms["U002"], tmp_path / "收回" / s.forms["U002"].name, [99] + [1] * 8)
    r = cli("selfeval", "import", str(tmp_path / "收回"))
    assert r.exit_code == 2
    done = next(line for line in r.stdout.splitlines() if line.startswith("已导入："))
    refused = next(line for line in r.stdout.splitlines() if line.startswith("被拒绝"))
    assert s.forms["U001"].name in done and s.forms["U003"].name in done and s.forms["U002"].name not in done
    assert s.forms["U002"].name in refused


def test_a_dry_run_says_what_would_be_imported(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回")
    r = cli("selfeval", "import", str(tmp_path / "收回"), "--dry-run")
    assert r.exit_code == 0, r.output
    assert "将导入 3" in r.stdout and "未写入" in r.stdout
    assert not re.search(r"(?<!将)导入 \d", r.stdout), r.stdout


def test_an_internal_error_exits_4_names_the_log_and_claims_no_rollback(cli, tmp_path, monkeypatch):
    setup_month(cli, tmp_path)
    import djctl.services.selfeval as selfeval

    def broken(*_a, **_k):
        raise RuntimeError("计算出错")

    monkeypatch.setattr(selfeval, "status", broken)
    r = cli("selfeval", "status", "--month", MONTH)
    assert r.exit_code == 4, r.output
    assert "内部错误" in r.output and "请报告" in r.output
    assert "回滚" not in r.output  # nothing was being written
    logs = list((tmp_path / "logs").glob("djctl-error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in r.output.replace("\n", "")
    text = logs[0].read_text(encoding="utf-8")
    assert "RuntimeError: 计算出错" in text and "Traceback" in text


def test_an_internal_error_inside_a_write_says_it_was_rolled_back(cli, tmp_path, monkeypatch):
    setup_store(cli, tmp_path)
    import djctl.store.audit as audit

    def broken(*_a, **_k):
        raise RuntimeError("审计写入出错")

    monkeypatch.setattr(audit, "append", broken)
    r = cli("tasks", "set", "--month", "2024-04")
    assert r.exit_code == 4, r.output
    assert "本次写入已回滚" in r.output and "请报告" in r.output
    monkeypatch.undo()


# --------------------------------------------------------------------------- 3. Chinese throughout

ALLOWED_WORDS = {
    # names of things the user types or sees in files
    "djctl", "json", "toml", "xlsx", "xls", "ods", "docx", "html", "md", "csv", "txt", "sha", "utf", "bom", "url",
    "sqlalchemy", "sqlite", "postgresql", "psycopg", "excel", "word", "wps", "libreoffice", "markdown", "windows",
    "rfc", "djctl_db", "djctl_debug", "djctl_import_batch", "pg_dump", "db", "demo", "scheme", "year", "id",
    "sampling", "rate", "stratify", "annual", "weights", "grades", "tiers", "targets", "lookback", "spot_check",
    "false_multiplier", "tolerance", "min_count", "exclude_recent_months", "include_negative_list", "fail_below",
    "bonus_cap", "deduction_cap", "rectify_days", "documents", "head", "wal", "shm", "ceil", "draw", "label",
    "sample", "inspect", "before", "restore", "manifest", "pdf", "png", "rate_scope", "branches", "organisations",
    # values the user types (codes of sources, states, kinds) and JSON keys scripts read
    "spotcheck", "inspection", "open", "in_progress", "submitted", "closed", "unit", "branch", "rate_standard", "rate_strong",
    "example",
}


def _english_words(text: str) -> set[str]:
    text = re.sub(r"--?[a-z][a-z0-9-]*", " ", text)             # option names
    text = re.sub(r"\b[A-Z]+\d+\b|\b\d{4}Q\d\b|\b[a-z]+:\d{4}[-\w#]*", " ", text)  # codes, periods, labels
    text = re.sub(r"\b[\w.-]+\.(?:xlsx|xls|ods|toml|json|db|txt|docx|md|html)\b", " ", text)  # file names
    text = re.sub(r"\bdjctl(?: [a-z-]+)+", " ", text)           # command lines in examples
    text = re.sub(r"\bDJCTL_[A-Z_]+\b", " ", text)                # environment variable names
    return {w for w in re.findall(r"[A-Za-z_]{2,}", text) if w.lower() not in ALLOWED_WORDS}


def _paths(cmd, prefix=()):
    yield prefix
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


def test_every_help_is_chinese(cli, _command):
    found: dict[str, set[str]] = {}
    names = {n.lower() for path in _paths(_command) for part in path for n in part.split("-")}  # command names
    for path in _paths(_command):
        r = cli(*path, "--help")
        assert r.exit_code == 0, (path, r.output)
        assert r.stdout.startswith("用法：djctl"), r.stdout[:80]
        words = {w for w in _english_words(r.stdout) if w.lower() not in names}
        if words:
            found[" ".join(path) or "(root)"] = words
    assert not found, found


PARSER_ERRORS = [
    (["score", "--mnth", "2024-03"], "没有这个选项"),                  # unknown option
    (["explain"], "缺少参数"),                                          # missing argument
    (["selfeval", "status"], "缺少选项"),                               # missing option
    (["sample", "--month", "2024-03", "--count", "abc"], "值无效"),     # bad value
    (["adjust", "revoke", "x"], "值无效"),
    (["nosuchcommand"], "没有这个命令"),
    (["sco"], "您是否想用：score"),
    (["sample", "--stratify=3"], "不接受值"),
    (["score", "--month"], "需要一个值"),
    (["tier", "set", "B1"], "缺少参数"),
    (["org", "list", "extra"], "多余的参数"),
    (["org", "list", "--db"], "需要一个值"),                            # a global option after the command
]


@pytest.mark.parametrize("args,fragment", PARSER_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else a)
def test_parser_errors_are_chinese(cli, _command, args, fragment):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert fragment in r.output, r.output
    assert "错误：" in r.output and "Error" not in r.output and "Usage" not in r.output
    typed = {w for a in args for w in re.findall(r"[A-Za-z_]{2,}", a)}  # what the user typed is echoed back
    typed |= {n for path in _paths(_command) for n in path}  # and a command name suggested for it
    assert not {w for w in _english_words(r.output) if w not in typed}, r.output


def test_global_options_before_or_after_the_subcommand(cli, tmp_path):
    setup_store(cli, tmp_path)
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "init").exit_code == 0
    after = cli("org", "list", "--db", str(other), "--json")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["units"] == []  # the other store, not DJCTL_DB
    before = cli("--json", "org", "list")
    assert before.exit_code == 0 and len(json.loads(before.stdout)["units"]) == 3
    quiet = cli("org", "list", "-q")
    assert quiet.exit_code == 0 and "U001" in quiet.stdout and "━" not in quiet.stdout
    assert cli("tasks", "show", "--month", MONTH, "--yes").exit_code == 0


def test_root_help_has_no_cut_descriptions(cli):
    r = cli("--help")
    commands = r.stdout.split("命令：", 1)[1]
    assert "..." not in commands and "…" not in commands
    flat = "".join(line.strip() for line in r.stdout.splitlines())
    assert "年度（日常考核、民主测评、加减分、总分、排名、等次）" in flat
    assert "指定 --date 时重复运行得到逐字节相同的文件" in flat


# --------------------------------------------------------------------------- 4. the demo keeps other stores


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_refuses_a_folder_holding_a_real_store(cli, tmp_path):
    real = tmp_path / "m_copy"
    real.mkdir()
    assert cli("--db", str(real / "djctl.db"), "init").exit_code == 0
    before = _sha(real / "djctl.db")
    r = cli("demo", "--dir", str(real))
    assert r.exit_code == 2, r.output
    assert "不是示范程序生成的" in r.output and "--force" in r.output
    assert _sha(real / "djctl.db") == before
    assert sorted(p.name for p in real.iterdir()) == ["djctl.db"]


def test_demo_force_backs_up_first_and_its_own_store_is_rebuilt_freely(cli, tmp_path):
    from djctl.services.demo import guard as demo_guard
    from djctl.services.backup import inspect_backup

    real = tmp_path / "m_copy"
    real.mkdir()
    assert cli("--db", str(real / "djctl.db"), "init").exit_code == 0
    line = demo_guard.guard(real, force=True)
    backups = list((real / "备份").glob("djctl-*.db"))
    assert len(backups) == 1 and str(backups[0]) in line
    assert inspect_backup(backups[0]).ok
    # a store the demo left (its mark equals the store's audit head) needs no --force ...
    demo_guard.mark(real)
    assert demo_guard.guard(real, force=False) is None
    # ... until something is written to it after the demo
    assert cli("--db", str(real / "djctl.db"), "tasks", "set", "--month", "2024-05").exit_code == 0
    with pytest.raises(Exception, match="示范之后又写入过"):
        demo_guard.guard(real, force=False)


# --------------------------------------------------------------------------- 5. a new year


def test_a_new_year_starts_with_scheme_new_and_init(cli, tmp_path):
    setup_store(cli, tmp_path)
    r = cli("tasks", "set", "--month", "2025-03")
    assert r.exit_code == 2, r.output
    assert "djctl scheme new --year 2025" in r.output
    r = cli("scheme", "new", "--year", "2025", "--from", "2024", "--out", "方案2025.toml")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "方案2025.toml").read_text(encoding="utf-8")
    assert re.search(r"^year = 2025$", text, re.M) and "2025年度" in text and text.count("\n#") > 3
    assert cli("scheme", "check", "方案2025.toml").exit_code == 0
    r = cli("scheme", "new", "--year", "2025", "--out", "方案2025.toml")
    assert r.exit_code == 2 and "已存在" in r.output  # never overwritten
    r = cli("init", "--scheme", "方案2025.toml")
    assert r.exit_code == 0, r.output
    assert cli("tasks", "set", "--month", "2025-03").exit_code == 0
    assert cli("tasks", "set", "--month", "2024-04").exit_code == 0  # 2024 untouched
    r = cli("scheme", "new", "--year", "2026", "--out", "x.toml")    # from the built-in scheme
    assert r.exit_code == 0 and "内置" in r.output
    r = cli("scheme", "new", "--year", "2026", "--from", "2019", "--out", "y.toml")
    assert r.exit_code == 2 and "djctl scheme new --year 2019" in r.output


# --------------------------------------------------------------------------- 7. explanations name their rules


def test_explain_names_the_rules_of_the_scheme(cli, tmp_path):
    from tests.check_helpers import check_forms, fill_check, import_check, setup_checks

    setup_checks(cli, tmp_path)
    forms = check_forms(cli, tmp_path / "核查表")
    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"})
    assert import_check(cli, tmp_path / "收回")[0] == 0
    r = cli("explain", "U001", "--month", MONTH)
    assert r.exit_code == 0, r.output
    assert "虚假自评扣分倍数 2" in r.stdout and "见考核方案" in r.stdout
    assert "核查容差 0" in r.stdout
    r = cli("explain", "U001", "--year", "2024")
    assert "日常考核权重 0.7、民主测评权重 0.3，见考核方案" in r.stdout
    assert "虚假自评扣分倍数 2" in r.stdout
    assert "DESIGN" not in r.stdout


def test_a_form_of_another_kind_is_named_in_words_not_code_names(cli, tmp_path):
    from tests.check_helpers import set_meta

    s = setup_month(cli, tmp_path)
    wrong = fill_form(s.forms["U001"], tmp_path / "错表.xlsx", edit=set_meta("kind", "check"))
    r = cli("selfeval", "import", str(wrong))
    assert r.exit_code == 2
    assert "这是抽查核查表，不是月度自评表" in r.stdout, r.stdout
    assert "check" not in r.stdout and "selfeval" not in r.stdout


def test_unit_codes_match_after_nfkc_and_case_folding(cli, tmp_path):
    drawn_month(cli, tmp_path)
    for typed in ("u001", "Ｕ００１", " U001 "):
        r = cli("explain", typed, "--month", MONTH)
        assert r.exit_code == 0 and r.stdout.startswith("U001 测试单位1机关党委"), (typed, r.output)
    r = cli("org", "show", "u002", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["code"] == "U002"
    assert cli("explain", "u999", "--month", MONTH).exit_code == 2
