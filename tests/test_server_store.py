"""A store on a database server (--db URL): unusable addresses, values the server refuses, concurrent writers.

The server tests run when DJCTL_TEST_DB names a PostgreSQL server (as the second CI pass does)."""

from __future__ import annotations

import os
import threading

import pytest

from tests.helpers import json_out, small_roster


@pytest.mark.parametrize("url, words", [
    ("nosuchdialect://u@h/db", "无法使用数据库地址"),
    ("postgresql+nosuchdriver://u@h/db", "无法使用数据库地址"),
    ("postgresql+psycopg://u:pw@127.0.0.1:notaport/db", "无法使用数据库地址"),
])
def test_an_unusable_address_is_a_store_error(cli, url, words):
    r = cli("--db", url, "org", "list")
    assert r.exit_code == 3, r.output
    assert words in r.output and "内部错误" not in r.output
    assert "pw" not in r.output  # a password in the address is not echoed


def test_a_server_that_does_not_answer_is_a_store_error(cli, unused_port):
    pytest.importorskip("psycopg")
    r = cli("--db", f"postgresql+psycopg://djctl@127.0.0.1:{unused_port}/djctl", "org", "list")
    assert r.exit_code == 3, r.output
    assert "无法打开数据库" in r.output and "请检查数据库地址" in r.output


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_number_the_column_cannot_hold_is_refused_and_nothing_is_written(cli, tmp_path):
    """SQLite keeps any integer; PostgreSQL's INTEGER stops at 2^31 − 1. Either way: no crash, and a refusal
    writes nothing."""
    assert cli("init").exit_code == 0
    head = json_out(cli("audit", "head", "--json"))
    roster = small_roster(tmp_path / "r.xlsx", units=2, extra_units=[["U009", "大单位机关党委", "机关党委", "第1组", "张三", 3_000_000_000]])
    r = cli("org", "import", roster)
    assert "内部错误" not in r.output
    if not os.environ.get("DJCTL_TEST_DB"):  # SQLite stores the number as it is
        assert r.exit_code == 0, r.output
        assert {u["code"]: u["members"] for u in json_out(cli("org", "list", "--json"))["units"]}["U009"] == 3_000_000_000
        return
    assert r.exit_code == 2, r.output
    assert "超出范围" in r.output
    assert json_out(cli("audit", "head", "--json")) == head
    assert json_out(cli("org", "list", "--json"))["units"] == []


def test_ids_past_the_column_range_are_usage_errors_not_crashes(cli):
    assert cli("init").exit_code == 0
    for args in (["rectify", "show", "99999999999"], ["sample", "show", "99999999999999999999999"],
                 ["adjust", "revoke", "9999999999", "--reason", "x"]):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "内部错误" not in r.output, (args, r.output)


def test_concurrent_writers_on_a_server_keep_one_unbroken_chain(store):
    """Two writers at once: the advisory lock taken at the start of each write serialises audit appends."""
    if store.is_sqlite:
        pytest.skip("the server's advisory lock (SQLite writers are covered by the process tests)")
    from djctl.store.audit import verify

    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(15):
                with store.write() as uow:
                    uow.audit("test.write", {"writer": name, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ABC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with store.read() as uow:
        result = verify(uow.conn)
    assert result.ok, result.problem
    assert result.events == 1 + 3 * 15  # the migration's event, then every write
