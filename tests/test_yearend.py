"""The scripted year-end run: gaps named and exit 1; a complete year gives the same files twice."""

from __future__ import annotations

import json

import pytest

from tests.helpers import json_out
from tests.store_builder import Builder


@pytest.fixture
def year(cli, store):
    assert cli("init").exit_code == 0
    b = Builder(store)
    b.units([("U1", "甲组"), ("U2", "甲组"), ("U3", "乙组")])
    for m in range(1, 13):
        month = f"2024-{m:02d}"
        b.tasks(month, {"A": 60, "B": 40})
        for i, u in enumerate(("U1", "U2", "U3")):
            if (u, m) != ("U3", 5):  # one missing report: named, counted 0, not a gap
                b.report(u, month, {"A": 6000 - 500 * i, "B": 3000 + 100 * m})
        b.draw(month)
    for u, v in (("U1", (9, 1, 0, 0)), ("U2", (5, 5, 0, 0)), ("U3", (2, 4, 3, 1))):
        b.votes(2024, u, *v)
    assert cli("negative-list", "--year", "2024", "--build").exit_code == 0
    return b


def test_year_end_twice_gives_identical_files(cli, year, tmp_path):
    r1 = cli("year-end", "--year", "2024", "--out", "y1", "--date", "2025-01-10", "--json")
    doc1 = json_out(r1)
    assert doc1["written"] and doc1["gaps"] == []
    assert doc1["missing_reports"] == [{"period": "2024-05", "unit": "U3", "name": "单位U3"}]
    names = {f["name"] for f in doc1["files"]}
    for q in range(1, 5):
        assert f"季度通报/2024Q{q}_季度考核通报.docx" in names
    assert "2024_年度考核结果通报.docx" in names and "2024_年度考核结果通报.xlsx" in names
    doc2 = json_out(cli("year-end", "--year", "2024", "--out", "y1", "--date", "2025-01-10", "--json"))
    assert doc2["files"] == doc1["files"]
    m1 = (tmp_path / "y1" / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(m1)["audit_head"]["seq"] > 0
    cli("year-end", "--year", "2024", "--out", "y2", "--date", "2025-01-10")
    m2 = json.loads((tmp_path / "y2" / "manifest.json").read_text(encoding="utf-8"))
    assert m2["files"] == json.loads(m1)["files"]  # a different directory, byte-identical files


def test_year_end_names_gaps_and_writes_nothing(cli, year, store, tmp_path):
    from sqlmodel import select

    from djctl.store.tables import TaskList

    with store.write() as uow:  # the committee never set May's tasks
        tl = uow.session.exec(select(TaskList).where(TaskList.month == "2024-05")).one()
        tl.active = False
        uow.session.add(tl)
        uow.audit("test.unset", {"month": "2024-05"})
    r = cli("year-end", "--year", "2024", "--out", "y3", "--date", "2025-01-10")
    assert r.exit_code == 1, r.output
    assert "2024-05 没有任务清单" in r.output
    assert not (tmp_path / "y3" / "manifest.json").exists()
    allowed = cli("year-end", "--year", "2024", "--out", "y3", "--date", "2025-01-10", "--allow-gaps", "--json")
    doc = json.loads(allowed.stdout)
    assert doc["written"] and doc["gaps"][0]["kind"] == "tasks"
