"""`selfeval import` writes forms in batches (one transaction, written together): a refused file in the
middle of a batch leaves nothing behind while its neighbours go in, results keep the order of the files,
a dry run keeps nothing, and a file twice in one batch is imported once."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from sqlalchemy import text

from djctl.errors import InputError
from djctl.services import selfeval, selfeval_store
from tests.helpers import json_out
from tests.monthly_helpers import active_scores, fill_all, import_json, query, setup_month, table_counts


@pytest.fixture
def five(cli, tmp_path, monkeypatch):
    setup = setup_month(cli, tmp_path, units=5)
    filled = fill_all(setup, tmp_path / "收回")
    monkeypatch.setattr(selfeval, "BATCH_FILES", 2)  # batches of 2, 2 and 1 over five files
    return setup, filled


def _overclaim(path):
    """A score above the task's points: found while storing (inside the file's savepoint), not while reading."""
    wb = openpyxl.load_workbook(path)
    ws = wb["自评表"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "自评得分":
                ws.cell(row=cell.row + 1, column=cell.column).value = 999
    wb.save(path)


@pytest.mark.parametrize("how", ["overclaim", "fails-after-writing"])
def test_a_refused_file_in_a_batch_leaves_only_itself_out(cli, five, monkeypatch, how):
    setup, filled = five
    if how == "overclaim":
        _overclaim(filled["U002"])
    else:  # its import_file and self_report rows are written when the failure comes: the batch's savepoint
        # takes them back, and the batch is written again a file at a time, each in its own savepoint
        real = selfeval_store.insert_rows

        def failing(conn, table, columns, rows):
            units = {conn.execute(text("SELECT unit_code FROM self_report WHERE id = :i"), {"i": r[0]}).scalar()
                     for r in rows}
            if "U002" in units:
                raise InputError("模拟写入中途失败")
            return real(conn, table, columns, rows)

        monkeypatch.setattr(selfeval_store, "insert_rows", failing)
    code, doc = import_json(cli, *sorted(filled.values()))
    assert code == 2
    statuses = [(Path(f["path"]).name.split("_")[1], f["status"]) for f in doc["files"]]
    assert statuses == [("U001", "imported"), ("U002", "refused"), ("U003", "imported"), ("U004", "imported"),
                        ("U005", "imported")]
    assert query("SELECT count(*) FROM self_report WHERE unit_code = 'U002'") == [(0,)]
    assert query("SELECT count(*) FROM import_file WHERE subject = 'U002'") == [(0,)]
    assert len(active_scores("U003")) == len(setup.tasks)
    assert json_out(cli("audit", "verify", "--json"))["ok"]
    events = [r[0] for r in query("SELECT payload FROM audit_event WHERE action = 'selfeval.import' ORDER BY seq")]
    assert len(events) == 4 and all('"unit":"U002"' not in e for e in events)


def test_dry_run_of_several_batches_keeps_nothing(cli, five):
    _, filled = five
    before = table_counts()
    code, doc = import_json(cli, "--dry-run", *sorted(filled.values()))
    assert code == 0
    assert [f["status"] for f in doc["files"]] == ["valid"] * 5
    assert table_counts() == before


def test_the_same_file_twice_in_one_batch_is_imported_once(cli, five, tmp_path):
    _, filled = five
    copy = tmp_path / "副本.xlsx"
    shutil.copy(filled["U001"], copy)
    code, doc = import_json(cli, filled["U001"], copy)
    assert code == 0
    assert [f["status"] for f in doc["files"]] == ["imported", "unchanged"]
    assert query("SELECT count(*) FROM self_report WHERE unit_code = 'U001'") == [(1,)]


@pytest.mark.parametrize("value,expected", [("", 64), ("1", 1), ("7", 7), ("0", 64), ("abc", 64), ("-3", 64)])
def test_batch_size_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("DJCTL_IMPORT_BATCH", value)
    assert selfeval._batch_files() == expected


def test_one_form_per_transaction_gives_the_same_store(cli, five, monkeypatch):
    _, filled = five
    monkeypatch.setenv("DJCTL_IMPORT_BATCH", "1")
    commits = []
    real_write = selfeval.Store.write

    def counting(store):
        commits.append(1)
        return real_write(store)

    monkeypatch.setattr(selfeval.Store, "write", counting)
    code, doc = import_json(cli, *sorted(filled.values()))
    assert code == 0 and [f["status"] for f in doc["files"]] == ["imported"] * 5
    assert len(commits) == 5


def _changed_copy(src, dest):
    """The same unit's form with another note: a different file for the same unit-month."""
    shutil.copy(src, dest)
    wb = openpyxl.load_workbook(dest)
    ws = wb["自评表"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "完成情况说明":
                ws.cell(row=cell.row + 1, column=cell.column).value = "另一份说明"
    wb.save(dest)
    return dest


@pytest.mark.parametrize("replace", [False, True])
def test_two_files_of_one_unit_month_in_one_batch(cli, five, tmp_path, replace):
    _, filled = five
    other = _changed_copy(filled["U001"], tmp_path / "另一份.xlsx")
    code, doc = import_json(cli, *(["--replace"] if replace else []), filled["U001"], other)
    statuses = [f["status"] for f in doc["files"]]
    if not replace:
        assert code == 2 and statuses == ["imported", "refused"]
        assert "已经报送过另一份自评表" in doc["files"][1]["message"]
        assert query("SELECT count(*) FROM self_report WHERE unit_code = 'U001'") == [(1,)]
    else:
        assert code == 0 and statuses == ["imported", "imported"]
        rows = query("SELECT active FROM self_report WHERE unit_code = 'U001' ORDER BY id")
        assert rows == [(0,), (1,)]  # the first kept as history, the second current
        notes = [n for (n,) in query("SELECT note FROM self_score s JOIN self_report r ON r.id = s.report_id "
                                     "WHERE r.unit_code = 'U001' AND r.active")]
        assert notes[0] == "另一份说明"  # the first task's note, changed in the second file
        assert query("SELECT count(*) FROM import_file WHERE subject = 'U001' AND active") == [(1,)]
    assert json_out(cli("audit", "verify", "--json"))["ok"]
