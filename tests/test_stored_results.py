"""Each self report keeps its month's result (issue 21): written by the import, the check and a scheme change,
read by the scores, recomputed by `audit verify`, filled in by migration 0004 for older stores.

The scores read from stored results are compared with the scores of the same store whose results were
cleared (NULL: computed from the rows, the path every score took before)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.check_helpers import MONTH, check_forms, fill_check, import_check, setup_checks
from tests.helpers import json_out
from tests.monthly_helpers import fast_cli, query

RESULT_COLUMNS = ("final_x100", "rate_x100", "deduction_x100", "checked", "false_tasks")


@pytest.fixture
def cli(monkeypatch):
    return fast_cli(monkeypatch)


@pytest.fixture
def checked(cli, tmp_path):
    """March reported by U001–U004; U001 checked (T02: 10 self, 6 verified, false; T01 14.5 for 15 self)."""
    setup_checks(cli, tmp_path)
    forms = check_forms(cli, tmp_path / "下发")
    path = fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6, "T01": 14.5}, {"T02": "是"})
    code, doc = import_check(cli, path)
    assert code == 0, doc
    return tmp_path


def stored() -> dict[str, tuple]:
    rows = query("SELECT unit_code, final_x100, rate_x100, deduction_x100, checked, false_tasks FROM self_report "
                 "WHERE active")
    return {r[0]: (r[1], r[2], r[3], bool(r[4]), json.loads(r[5])) for r in rows}


def scores(cli) -> list[dict]:
    return [json_out(cli("score", *args, "--json")) for args in (("--month", MONTH), ("--quarter", "2024Q1"),
                                                                  ("--year", "2024"))]


def scores_from_rows(cli) -> list[dict]:
    """The scores with every stored result cleared (computed from the rows), then the results put back."""
    from djctl.store.engine import open_store

    store = open_store(None)
    try:
        with store.write() as uow:
            saved = uow.conn.exec_driver_sql(f"SELECT id, {', '.join(RESULT_COLUMNS)} FROM self_report").all()
            uow.conn.exec_driver_sql("UPDATE self_report SET " + ", ".join(f"{c} = NULL" for c in RESULT_COLUMNS))
    finally:
        store.dispose()
    try:
        return scores(cli)
    finally:
        store = open_store(None)
        try:
            with store.write() as uow:
                from sqlalchemy import text

                for row in saved:
                    uow.conn.execute(text("UPDATE self_report SET " + ", ".join(f"{c} = :{c}" for c in RESULT_COLUMNS)
                                          + " WHERE id = :id"), {"id": row[0], **dict(zip(RESULT_COLUMNS, row[1:]))})
        finally:
            store.dispose()


def test_import_and_check_store_the_month_result(cli, checked):
    got = stored()
    # U001: 95.5 self; T01 14.5 for 15 (overclaim 0.5 > tolerance 0: false, 15 − 2 × 0.5 = 14), T02 10 → 2
    assert got["U001"] == (8650, 8650, 900, True, ["T01", "T02"])
    assert got["U002"] == (10000, 10000, 0, False, [])
    month, quarter, year = scores(cli)
    assert {r["unit"]: r["rate"] for r in month["rows"]}["U001"] == 86.5
    assert scores_from_rows(cli) == [month, quarter, year]
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True


def test_a_replaced_scheme_refreshes_the_checked_months(cli, checked):
    from djctl.resources import data_path

    text = data_path("scheme-2024.toml").read_text(encoding="utf-8")
    custom = checked / "方案.toml"
    custom.write_text(text.replace("tolerance = 0 ", "tolerance = 0.5 "), encoding="utf-8")
    assert cli("init", "--scheme", custom, "--replace").exit_code == 0
    # T01's overclaim of 0.5 is now within the tolerance: verified 14.5 counts, only T02 is false
    assert stored()["U001"] == (8700, 8700, 850, True, ["T02"])
    event = json.loads(query("SELECT payload FROM audit_event WHERE action = 'scheme.set' ORDER BY seq DESC")[0][0])
    assert event["results_refreshed"] == 1
    assert scores_from_rows(cli) == scores(cli)
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True


@pytest.mark.sqlite_only
@pytest.mark.parametrize("change", ["rate_x100 = rate_x100 + 1", "checked = 0", "false_tasks = '[]'",
                                    "final_x100 = 9000, rate_x100 = 9000"])
def test_a_stored_result_changed_behind_djctl_is_named(cli, checked, change):
    c = sqlite3.connect(Path(checked) / "djctl.db")
    c.execute(f"UPDATE self_report SET {change} WHERE unit_code = 'U001' AND active")
    c.commit()
    rid = c.execute("SELECT id FROM self_report WHERE unit_code = 'U001' AND active").fetchone()[0]
    c.close()
    r = cli("audit", "verify", "--json")
    assert r.exit_code == 1, r.output
    [p] = json.loads(r.stdout)["content"]["problems"]
    assert (p["table"], p["rows"], p["action"]) == ("self_report", [rid], "recompute")
    assert "U001 2024-03 存储的月度结果与按得分行重算的不一致" in p["message"]
    assert "按得分行重算" in cli("audit", "verify").output


@pytest.mark.sqlite_only
def test_migration_0004_fills_the_results_of_an_older_store(cli, checked):
    before, results = scores(cli), stored()
    c = sqlite3.connect(Path(checked) / "djctl.db")
    for column in RESULT_COLUMNS:
        c.execute(f"ALTER TABLE self_report DROP COLUMN {column}")
    from tests.test_migration_0004 import _tables_after_0004

    for table in _tables_after_0004():  # and the tables of the migrations after it: a store at 0003
        c.execute(f'DROP TABLE "{table}"')
    c.execute("UPDATE alembic_version SET version_num = '0003'")
    c.commit()
    c.close()
    assert scores(cli) == before  # opening migrates
    assert stored() == results
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True
