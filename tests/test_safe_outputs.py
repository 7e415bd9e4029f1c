"""Safe outputs (issue 14): one way to write a file, names that stay inside --out, whole-or-absent runs.

Full disk is simulated two ways, both without root: a child process with RLIMIT_FSIZE (SIGXFSZ ignored, so
a write past the limit fails with EFBIG, as a full disk fails with ENOSPC), and `os.write` monkeypatched to
raise ENOSPC after a number of calls (for in-process runs that write many files).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import UNIT_HEADER, workbook

sqlite_only = pytest.mark.sqlite_only


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _disk_full_after(monkeypatch, calls: int) -> list[int]:
    """os.write in the one writer fails with ENOSPC after `calls` successful calls."""
    import djctl.io.outfile as outfile

    real = os.write
    count = [0]

    def write(fd, data):
        count[0] += 1
        if count[0] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(outfile.os, "write", write)
    return count


# ----------------------------------------------------------------------------- the store is never an output


@sqlite_only
def test_report_and_templates_never_overwrite_the_store(cli, tmp_path):
    from tests.helpers import small_roster

    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx")).exit_code == 0
    store = tmp_path / "djctl.db"
    for args in (["score", "--year", "2024", "--xlsx", store], ["org", "template", "--out", store],
                 ["adjust", "template", "--out", store], ["votes", "template", "--year", "2024", "--out", store],
                 ["org", "template", "--out", f"{store}-wal"], ["org", "template", "--out", f"{store}-shm"]):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "拒绝" in r.output
    assert _is_sqlite(store)
    assert cli("org", "list").exit_code == 0


@sqlite_only
def test_a_backup_of_the_store_is_never_an_output(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("backup", "--out", "b.db").exit_code == 0
    r = cli("org", "template", "--out", "b.db")
    assert r.exit_code == 2 and "数据库" in r.output, r.output
    assert _is_sqlite(tmp_path / "b.db")


def test_the_store_named_by_db_is_refused_even_when_the_command_does_not_open_it(cli, tmp_path):
    r = cli("--db", "other.db", "org", "template", "--out", "other.db")
    assert r.exit_code == 2, r.output


# ----------------------------------------------------------------------------- links


def test_a_link_as_output_is_refused_and_its_target_untouched(cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "out.xlsx").symlink_to(victim)
    r = cli("org", "template", "--out", "out.xlsx")
    assert r.exit_code == 2, r.output
    assert "符号链接" in r.output
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "out.xlsx").is_symlink()


def test_a_link_named_like_a_form_inside_out_is_refused(cli, tmp_path):
    from tests.store_builder import Builder
    from djctl.store.engine import open_store

    assert cli("init").exit_code == 0
    store = open_store()
    try:
        b = Builder(store)
        b.units([("U1", "甲组")])
        b.tasks("2024-03", {"A": 60, "B": 40})
    finally:
        store.dispose()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "2024-03_U1_单位U1.xlsx").symlink_to(victim)
    r = cli("selfeval", "forms", "--month", "2024-03", "--out", "forms")
    assert r.exit_code == 2, r.output
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging folder left


def test_word_html_and_workbook_writers_share_the_link_policy(tmp_path):
    from djctl.io.outfile import OutputError, save_workbook, write_many, write_text
    from openpyxl import Workbook

    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    for name in ("a.html", "a.docx", "a.xlsx", "a.json"):
        (tmp_path / name).symlink_to(victim)
    with pytest.raises(OutputError):
        write_many(tmp_path, [("a.html", b"<p>x</p>")])
    with pytest.raises(OutputError):
        write_many(tmp_path, [("a.docx", b"PK")])
    with pytest.raises(OutputError):
        save_workbook(Workbook(), tmp_path / "a.xlsx")
    with pytest.raises(OutputError):
        write_text(tmp_path / "a.json", "{}")
    assert victim.read_text(encoding="utf-8") == "keep"


# ----------------------------------------------------------------------------- names that stay inside


@pytest.mark.parametrize("code", ["../../elsewhere/evil", "a/b", "a\\b", "..", ".hidden", "a..b", "甲\u202e乙",
                                  "U1\x85", "U1\x7f", "U\u200b1", "U 1", "U1:2", "U1*"])
def test_bad_codes_are_refused(code):
    from djctl.domain.textclean import code_problem

    import unicodedata

    assert code_problem(unicodedata.normalize("NFKC", code)) is not None


@pytest.mark.parametrize("code", ["U001", "U001-B01", "甲_1.2", "ＵＡ１", "हिन्दी1", "Ünit.3"])
def test_good_codes_pass(code):
    import unicodedata

    from djctl.domain.textclean import code_problem

    assert code_problem(unicodedata.normalize("NFKC", code)) is None


def test_a_traversing_unit_code_is_refused_at_import_with_row_and_column(cli, tmp_path):
    assert cli("init").exit_code == 0
    rows = [UNIT_HEADER, ["U001", "正常单位", "机关党委", "第1组", "张三", 20],
            ["../../elsewhere/evil", "甲", "机关党委", "第1组", "李四", 10]]
    path = workbook(tmp_path / "r.xlsx", {"单位": rows})
    r = cli("org", "import", path)
    assert r.exit_code == 2, r.output
    assert "第 3 行" in r.output and "单位编码" in r.output
    assert "../../elsewhere/evil" in r.output
    assert cli("org", "list", "--json").stdout.count('"code"') == 0  # nothing imported


def test_file_names_from_a_bad_code_already_in_the_store_stay_inside_out(cli, tmp_path):
    """A store written before codes were checked: the forms still land inside --out, named harmlessly."""
    from tests.store_builder import Builder
    from djctl.store.engine import open_store

    assert cli("init").exit_code == 0
    store = open_store()
    try:
        b = Builder(store)
        b.units([("../../elsewhere/evil", "甲组"), ("U2", "甲组")])
        b.tasks("2024-03", {"A": 60, "B": 40})
    finally:
        store.dispose()
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.chdir(tmp_path / "a" / "b")
    r = cli("selfeval", "forms", "--month", "2024-03", "--out", "safe_out")
    assert r.exit_code == 0, r.output
    out = tmp_path / "a" / "b" / "safe_out"
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and all("/" not in n and not n.startswith(".") for n in names)
    assert not (tmp_path / "elsewhere").exists()
    assert not list((tmp_path / "a").glob("*evil*")) and not list(tmp_path.glob("*evil*"))


def test_inside_refuses_names_that_leave_the_folder(tmp_path):
    from djctl.io.outfile import OutputError, inside, safe_part

    with pytest.raises(OutputError):
        inside(tmp_path, "../x.xlsx")
    with pytest.raises(OutputError):
        inside(tmp_path, "/etc/x.xlsx")
    assert inside(tmp_path, safe_part("../../evil") + ".xlsx").parent == tmp_path
    assert safe_part("正常\u202e名称gpj.exe") == "正常名称gpj.exe"
    assert "\n" not in safe_part("a\nb") and safe_part("...") == "_"


# ----------------------------------------------------------------------------- atomic writes, full disk


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    from djctl.io.outfile import OutputError, write_bytes

    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old content")
    _disk_full_after(monkeypatch, 0)
    with pytest.raises(OutputError) as info:
        write_bytes(target, b"x" * 100_000)
    assert "磁盘已满" in info.value.message
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_every_output_gets_the_same_mode(tmp_path):
    from djctl.io.outfile import file_mode, write_bytes, write_many

    old = os.umask(0o022)
    try:
        a = write_bytes(tmp_path / "a.json", b"{}")
        b, = write_many(tmp_path, [("b.html", b"<p/>")])
    finally:
        os.umask(old)
    assert file_mode() == 0o644
    assert (a.stat().st_mode & 0o777) == (b.stat().st_mode & 0o777) == 0o644


_CHILD = r"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from djctl.cli import app
sys.argv = ["djctl"] + sys.argv[2:]
app(prog_name="djctl")
"""


def test_full_disk_in_a_child_process_leaves_the_old_template(tmp_path):
    """RLIMIT_FSIZE of 2,000 bytes: the roster template (~10 kB) cannot be written (EFBIG, as on a full disk)."""
    target = tmp_path / "名册.xlsx"
    target.write_bytes(b"previous template")
    env = {**os.environ, "DJCTL_DB": str(tmp_path / "djctl.db")}
    p = subprocess.run([sys.executable, "-c", _CHILD, "2000", "org", "template", "--out", str(target)],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "磁盘空间" in p.stderr or "磁盘已满" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
    assert target.read_bytes() == b"previous template"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["名册.xlsx"]


def test_full_disk_during_forms_leaves_no_half_set(cli, tmp_path, monkeypatch):
    from tests.store_builder import Builder
    from djctl.store.engine import open_store

    assert cli("init").exit_code == 0
    store = open_store()
    try:
        b = Builder(store)
        b.units([(f"U{i}", "甲组") for i in range(1, 6)])
        b.tasks("2024-03", {"A": 60, "B": 40})
    finally:
        store.dispose()
    _disk_full_after(monkeypatch, 3)
    r = cli("selfeval", "forms", "--month", "2024-03", "--out", "forms")
    assert r.exit_code == 2, r.output
    assert "磁盘已满" in r.output and ".xlsx" in r.output
    assert not (tmp_path / "forms").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------------------- failures named


@sqlite_only
def test_a_zero_byte_or_missing_store_is_refused_except_by_init(cli, tmp_path):
    (tmp_path / "zero.db").write_bytes(b"")
    for args in (["org", "list"], ["audit", "verify"], ["org", "import", "x.xlsx"], ["tasks", "set", "--month", "2024-03", "x.toml"]):
        r = cli("--db", "zero.db", *args)
        assert r.exit_code == 3, (args, r.output)
    assert (tmp_path / "zero.db").stat().st_size == 0
    r = cli("--db", "missing.db", "org", "list")
    assert r.exit_code == 3 and "djctl init" in r.output, r.output
    assert not (tmp_path / "missing.db").exists()
    assert cli("--db", "zero.db", "init").exit_code == 0
    assert cli("--db", "zero.db", "org", "list").exit_code == 0


@sqlite_only
def test_a_directory_as_store_is_named(cli, tmp_path):
    (tmp_path / "dir.db").mkdir()
    r = cli("--db", "dir.db", "org", "list")
    assert r.exit_code == 3 and "目录" in r.output, r.output


def _patch_engine(monkeypatch, pragma):
    """Every connection of djctl's engine runs `pragma(dbapi_conn)` first."""
    from sqlalchemy import event

    import djctl.store.engine as engine

    real = engine.make_engine

    def make_engine(url):
        e = real(url)
        event.listen(e, "connect", lambda dbapi_conn, _record: pragma(dbapi_conn))
        return e

    monkeypatch.setattr(engine, "make_engine", make_engine)


@sqlite_only
def test_a_read_only_store_is_named_without_sql(cli, tmp_path, monkeypatch):
    """PRAGMA query_only makes SQLite answer every write with SQLITE_READONLY, as a read-only file or folder
    does (chmod cannot be used: the tests may run as root)."""
    from tests.helpers import small_roster

    assert cli("init").exit_code == 0
    _patch_engine(monkeypatch, lambda c: c.execute("PRAGMA query_only = ON"))
    r = cli("org", "import", small_roster(tmp_path / "r.xlsx"))
    assert r.exit_code == 3, r.output
    assert "只读" in r.output
    for leak in ("INSERT", "[SQL", "restore", "恢复", "内部错误", "tester"):
        assert leak not in r.output, r.output


@sqlite_only
def test_a_full_disk_under_the_store_is_named_without_sql_or_restore_advice(cli, tmp_path, monkeypatch):
    """SQLite's max_page_count makes every write that needs a new page fail with SQLITE_FULL, as a full disk."""
    assert cli("init").exit_code == 0

    def full(c):
        n = c.execute("PRAGMA page_count").fetchone()[0]
        c.execute(f"PRAGMA max_page_count = {n}")

    _patch_engine(monkeypatch, full)
    rows = [UNIT_HEADER] + [[f"U{i:03d}", f"单位{i}" + "很长的名称" * 20, "机关党委", "第1组", "张三", 20] for i in range(300)]
    r = cli("org", "import", workbook(tmp_path / "r.xlsx", {"单位": rows}))
    assert r.exit_code == 3, r.output
    assert "磁盘已满" in r.output
    for leak in ("INSERT", "[SQL", "parameters", "restore", "恢复", "内部错误"):
        assert leak not in r.output, r.output


def test_sqlite_failures_are_named():
    from djctl.errors import StoreError
    from djctl.store.engine import sqlite_failure

    for msg, word in (("database or disk is full", "磁盘已满"), ("attempt to write a readonly database", "只读"),
                      ("unable to open database file", "权限"), ("database is locked", "锁定")):
        e = sqlite_failure(sqlite3.OperationalError(msg), None)
        assert isinstance(e, StoreError) and word in e.message and "restore" not in (e.hint or "")
    out = sqlite_failure(sqlite3.OperationalError("database or disk is full"), None, output=Path("b.db"))
    assert out.exit_code == 2


@sqlite_only
def test_a_full_disk_during_backup_is_not_called_damage(cli, tmp_path, monkeypatch):
    import djctl.services.backup as backup

    assert cli("init").exit_code == 0

    def full(src, dest):
        Path(dest).write_bytes(b"SQLite format 3\x00half")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup, "backup_sqlite", full)
    r = cli("backup", "--out", "b.db")
    assert r.exit_code == 2, r.output
    assert "磁盘已满" in r.output and "损坏" not in r.output and "restore" not in r.output
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "b.db.partial").exists()


# ----------------------------------------------------------------------------- text cleaned at the door


def test_hidden_characters_are_stripped_from_names_and_refused_in_codes(cli, tmp_path):
    assert cli("init").exit_code == 0
    rows = [UNIT_HEADER, ["U001", "正常\u202e名称gpj.exe\u200b", "机关党委", "第1\x9b组", "张\x7f三\n", 20]]
    assert cli("org", "import", workbook(tmp_path / "r.xlsx", {"单位": rows})).exit_code == 0
    import json

    unit = json.loads(cli("org", "list", "--json").stdout)["units"][0]
    assert unit["name"] == "正常名称gpj.exe"
    assert unit["group"] == "第1组"
    bad = [UNIT_HEADER, ["U\u202e002", "乙", "机关党委", "第1组", "张三", 20]]
    r = cli("org", "import", workbook(tmp_path / "bad.xlsx", {"单位": bad}))
    assert r.exit_code == 2 and "第 2 行" in r.output and "U+202E" in r.output, r.output
    assert "\u202e" not in r.output


def test_long_text_keeps_lines_but_loses_controls():
    from djctl.domain.textclean import clean_long_text, clean_name

    assert clean_long_text("第一行\r\n第二行\t\x00\u202e\u200b尾") == "第一行\n第二行\t尾"
    assert clean_name("甲\n乙\t丙\x9b") == "甲 乙 丙"


# ----------------------------------------------------------------------------- limits on schemes


def test_a_deeply_nested_scheme_is_refused_with_exit_2(cli, tmp_path):
    (tmp_path / "deep.toml").write_text("[scheme]\nyear = 2024\nx = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    r = cli("scheme", "check", "deep.toml")
    assert r.exit_code == 2, r.output
    assert "嵌套" in r.output and "RecursionError" not in r.output
    r = cli("init", "--scheme", "deep.toml")
    assert r.exit_code == 2, r.output


def test_too_many_tasks_and_long_strings_are_refused_with_the_key_path(cli, tmp_path):
    from djctl.domain.scheme import MAX_TASKS

    tasks = "".join(f"[[tasks]]\ncode = \"T{i}\"\nname = \"任务{i}\"\npoints = 1\n" for i in range(MAX_TASKS + 1))
    (tmp_path / "many.toml").write_text("[scheme]\nyear = 2024\n" + tasks, encoding="utf-8")
    r = cli("scheme", "check", "many.toml")
    assert r.exit_code == 2 and "tasks" in r.output and "任务过多" in r.output, r.output[-500:]
    (tmp_path / "long.toml").write_text("[scheme]\nyear = 2024\nname = \"" + "长" * 5000 + "\"\n", encoding="utf-8")
    r = cli("scheme", "check", "long.toml")
    assert r.exit_code == 2 and "scheme.name" in r.output and "过长" in r.output, r.output


@sqlite_only
def test_a_full_disk_while_restore_keeps_the_old_store_leaves_no_half_copy(cli, tmp_path, monkeypatch):
    import djctl.services.backup as backup

    assert cli("init").exit_code == 0
    assert cli("backup", "--out", "b.db").exit_code == 0

    def full(src, dest):
        Path(dest).write_bytes(b"SQLite format 3\x00half")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup, "backup_sqlite", full)
    r = cli("restore", "b.db", "--yes")
    assert r.exit_code == 2, r.output
    assert "磁盘已满" in r.output and "损坏" not in r.output
    assert not list(tmp_path.glob("djctl.db.before-restore-*"))
    assert cli("audit", "verify").exit_code == 0  # the store was not touched
