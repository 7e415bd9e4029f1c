"""Runs that write several documents: one snapshot per run, whole or absent (issue 14); the audit chain's guard."""

from __future__ import annotations

import errno
import json
import os
from decimal import Decimal

import pytest

from tests.helpers import json_out
from tests.test_yearend import year  # noqa: F401  (the fixture: a complete year 2024)

DATE = "2025-01-10"


def _manifest(tmp_path, name):
    return json.loads((tmp_path / name / "manifest.json").read_text(encoding="utf-8"))


def test_an_adjustment_landing_during_year_end_is_in_no_document(cli, year, tmp_path, monkeypatch):  # noqa: F811
    """`adjust add --veto` commits (from another connection) after the four bulletins and before the ranking:
    the run's manifest head and every one of its documents are those of the state before the veto."""
    import djctl.services.ranking_docs as ranking_docs
    from djctl.services.adjust import DEDUCTION, add_adjustment
    from djctl.store.engine import open_store

    before = json_out(cli("year-end", "--year", "2024", "--out", "y0", "--date", DATE, "--json"))
    real = ranking_docs.write_ranking
    fired: list[int] = []

    def racing(store, *args, **kwargs):
        if not fired:
            other = open_store()
            try:
                add_adjustment(other, "U1", year=2024, kind=DEDUCTION, points=Decimal(0), reason="违反廉洁纪律",
                               basis="示纪发〔2024〕1号", veto=True)
            finally:
                other.dispose()
            fired.append(1)
        return real(store, *args, **kwargs)

    monkeypatch.setattr(ranking_docs, "write_ranking", racing)
    raced = json_out(cli("year-end", "--year", "2024", "--out", "y1", "--date", DATE, "--json"))
    assert fired
    m0, m1 = _manifest(tmp_path, "y0"), _manifest(tmp_path, "y1")
    assert m1["audit_head"] == m0["audit_head"]
    assert raced["files"] == before["files"]  # every document byte for byte the state of the manifest's head
    for f in m1["files"]:
        import hashlib

        assert hashlib.sha256((tmp_path / "y1" / f["name"]).read_bytes()).hexdigest() == f["sha256"]

    monkeypatch.setattr(ranking_docs, "write_ranking", real)
    after = json_out(cli("year-end", "--year", "2024", "--out", "y2", "--date", DATE, "--json"))
    m2 = _manifest(tmp_path, "y2")
    assert m2["audit_head"]["seq"] == m0["audit_head"]["seq"] + 1  # the veto did land ...
    changed = {f["name"] for f in after["files"]} - {(f["name"]) for f in before["files"]} | {
        a["name"] for a, b in zip(after["files"], before["files"]) if a["sha256"] != b["sha256"]}
    assert "2024_年度考核结果通报.xlsx" in changed  # ... and shows in the documents of a later run


def test_a_full_disk_during_year_end_leaves_no_half_set(cli, year, tmp_path, monkeypatch):  # noqa: F811
    import djctl.io.outfile as outfile

    real = os.write
    calls = [0]

    def write(fd, data):
        calls[0] += 1
        if calls[0] > 12:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(outfile.os, "write", write)
    r = cli("year-end", "--year", "2024", "--out", "y", "--date", DATE)
    assert r.exit_code == 2, r.output
    assert "磁盘已满" in r.output and "Word" not in r.output
    assert not (tmp_path / "y").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]

    (tmp_path / "y").mkdir()  # an existing folder keeps what it had, and gets nothing of the failed run
    (tmp_path / "y" / "说明.txt").write_text("mine", encoding="utf-8")
    calls[0] = 0
    r = cli("year-end", "--year", "2024", "--out", "y", "--date", DATE)
    assert r.exit_code == 2, r.output
    assert sorted(p.name for p in (tmp_path / "y").iterdir()) == ["说明.txt"]

    monkeypatch.setattr(outfile.os, "write", real)
    doc = json_out(cli("year-end", "--year", "2024", "--out", "y", "--date", DATE, "--json"))
    assert (tmp_path / "y" / "manifest.json").exists() and (tmp_path / "y" / "说明.txt").exists()
    assert all((tmp_path / "y" / f["name"]).exists() for f in doc["files"])


def test_bulletin_formats_are_written_all_or_none(cli, year, tmp_path, monkeypatch):  # noqa: F811
    import djctl.io.outfile as outfile

    real = os.write
    calls = [0]

    def write(fd, data):
        calls[0] += 1
        if calls[0] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(outfile.os, "write", write)
    r = cli("bulletin", "--quarter", "2024Q1", "--format", "docx,md,html,xlsx", "--out", "b", "--date", DATE)
    assert r.exit_code == 2, r.output
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").iterdir())


# ----------------------------------------------------------------------------- the chain's guard


def _drop_guard(store):
    from sqlalchemy import text

    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))


def test_audit_verify_reports_a_dropped_guard_and_a_head_file_catches_truncation(cli, store, tmp_path):
    from sqlalchemy import text

    assert cli("init").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
    r = cli("audit", "head", "--out", "链头.json")
    assert r.exit_code == 0, r.output
    head = json.loads((tmp_path / "链头.json").read_text(encoding="utf-8"))
    assert head["seq"] >= 1 and len(head["hash"]) == 64

    _drop_guard(store)
    r = cli("audit", "verify")
    assert r.exit_code == 1, r.output
    assert "audit_event_no_delete" in r.output or "audit_event_append_only" in r.output
    assert "--against" in r.output
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["guard"]["ok"] is False and doc["ok"] is False

    with store.engine.begin() as conn:  # the last event deleted: the chain alone still looks whole
        conn.execute(text("DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)"))
    r = cli("audit", "verify", "--against", "链头.json")
    assert r.exit_code == 1 and "截断" in r.output, r.output


@pytest.mark.sqlite_only
def test_an_altered_sqlite_guard_is_reported(cli, store):
    from sqlalchemy import text

    assert cli("init").exit_code == 0
    with store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event WHEN 0 "
                          "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"))
    r = cli("audit", "verify")
    assert r.exit_code == 1 and "已被改动" in r.output, r.output


@pytest.mark.sqlite_only
def test_backup_writes_the_head_file(cli, tmp_path):
    assert cli("init").exit_code == 0
    doc = json_out(cli("backup", "--out", "b.db", "--json"))
    head = json.loads((tmp_path / "b.db.head.json").read_text(encoding="utf-8"))
    assert doc["head_file"].endswith("b.db.head.json")
    assert head["seq"] == doc["head"]["seq"] and head["hash"] == doc["head"]["hash"]
    assert cli("audit", "verify", "--against", "b.db.head.json").exit_code == 0
