"""`djctl negative-list`: built from crafted checks, tier changes and rectifications."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from tests.helpers import json_out, small_roster


def _checks(store) -> None:
    """Spot checks of 2024 (and one of 2023, one inactive), inserted directly."""
    from djctl.store.engine import now
    from djctl.store.tables import CheckReport, CheckScore, Draw, ImportFile, SelfReport, SelfScore, Task, TaskList

    t = now()
    with store.write() as uow:
        s = uow.session
        imp = ImportFile(kind="selfeval", path="x.xlsx", sha256="0" * 64, actor="tester", created_at=t)
        s.add(imp)
        s.flush()
        lists = {}
        for month in ("2023-12", "2024-03", "2024-04", "2024-05"):
            tl = TaskList(month=month, sha256=month, created_at=t)
            s.add(tl)
            s.flush()
            s.add(Task(task_list_id=tl.id, seq=1, code="T01", name="理论学习", points_x100=1000))
            s.add(Task(task_list_id=tl.id, seq=2, code="T02", name="三会一课", points_x100=1000))
            lists[month] = tl.id
        draws = {}
        for month in lists:
            d = Draw(kind="sample", period=month, label=f"sample:{month}", algorithm="djctl-draw-v1", seed="1", k=1,
                     population_hash="0" * 64, record="{}", created_at=t)
            s.add(d)
            s.flush()
            draws[month] = d.id

        def check(unit, month, scores, active=True):
            sr = SelfReport(unit_code=unit, month=month, task_list_id=lists[month], import_id=imp.id, created_at=t)
            s.add(sr)
            s.flush()
            cr = CheckReport(unit_code=unit, month=month, draw_id=draws[month], self_report_id=sr.id, import_id=imp.id,
                             active=active, created_at=t)
            s.add(cr)
            s.flush()
            for task, self_x100, verified, flag in scores:
                s.add(SelfScore(report_id=sr.id, task_code=task, points_x100=self_x100))
                s.add(CheckScore(report_id=cr.id, task_code=task, verified_x100=verified, false_flag=flag))

        check("U001", "2024-03", [("T01", 1000, 600, None), ("T02", 1000, 1000, None)])  # overclaim 4 > tolerance 0
        check("U002", "2024-03", [("T01", 800, 700, False), ("T02", 1000, 1000, None)])  # overclaim cleared by hand
        check("U003", "2024-05", [("T02", 500, 400, True)])  # marked false by the checker
        check("U004", "2023-12", [("T01", 1000, 500, True)])  # last year
        check("U005", "2024-04", [("T01", 1000, 500, True)], active=False)  # replaced check report
        uow.audit("test.checks", {"crafted": True})


def _tiers_and_items(store) -> dict[str, int]:
    from djctl.store.engine import now
    from djctl.store.tables import Rectification, RectificationEvent, TierChange

    t = now()
    ids = {}
    with store.write() as uow:
        s = uow.session
        for code, frm, to, day, basis in (
            ("U001-B01", "过硬", "达标", date(2024, 10, 15), "回头看"),   # rebound in 2024
            ("U002-B01", "达标", "未达标", date(2023, 10, 15), "回头看"),  # rebound last year
            ("U003-B01", "达标", "未达标", date(2024, 6, 1), "验收"),      # down, but not a look-back
            ("U004-B01", "达标", "过硬", date(2024, 6, 1), "回头看"),      # up
        ):
            s.add(TierChange(branch_code=code, from_tier=frm, to_tier=to, on_date=day, basis=basis, created_at=t))
        for key, org, kind, due, status, closed_on in (
            ("u3_open", "U003", "unit", date(2024, 6, 30), "open", None),               # overdue
            ("u4_closed", "U004", "unit", date(2024, 6, 30), "closed", date(2024, 6, 20)),
            ("u5_late", "U005", "unit", date(2024, 11, 30), "closed", date(2025, 1, 5)),  # not closed by year end
            ("u2_due_eoy", "U002", "unit", date(2024, 12, 31), "open", None),          # due on the last day
            ("b2_progress", "U002-B01", "branch", date(2024, 3, 1), "in_progress", None),  # overdue
            ("u1_next", "U001", "unit", date(2025, 1, 31), "open", None),
        ):
            found = date(2024, 1, 15)
            r = Rectification(org_code=org, org_kind=kind, problem=f"问题{key}", source="inspection", due=due,
                              status=status, closed_on=closed_on, found_on=found, created_at=t, updated_at=t)
            s.add(r)
            s.flush()
            ids[key] = r.id
            s.add(RectificationEvent(item_id=r.id, action="found", status="open", on_date=found, due=due, created_at=t))
            if status != "open":
                s.add(RectificationEvent(item_id=r.id, action="close" if closed_on else "progress", status=status,
                                         on_date=closed_on or found, due=due, created_at=t))
        uow.audit("test.items", {"crafted": True})
    return ids


@pytest.fixture
def crafted(cli, tmp_path, store):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=5)).exit_code == 0
    _checks(store)
    return _tiers_and_items(store)


def test_negative_list_build(cli, crafted, store):
    r = cli("negative-list", "--year", "2024")
    assert r.exit_code == 1 and "尚未生成" in r.output
    doc = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    assert doc["status"] == "built"
    got = {(e["kind"], e["org"]): e["reasons"] for e in doc["entries"]}
    assert list(got) == [("unit", "U001"), ("unit", "U003"), ("unit", "U005"),
                         ("branch", "U001-B01"), ("branch", "U002-B01")]
    assert doc["counts"] == {"unit": 3, "branch": 2, "total": 5}
    (u1,) = got[("unit", "U001")]
    assert u1.startswith("2024年3月抽查核查中自评得分虚假")
    assert "任务“理论学习”自评10分、核查6分，扣8分" in u1 and "T0" not in u1   # names, not codes
    u3 = got[("unit", "U003")]
    assert len(u3) == 2  # the May check, then the overdue item (by date)
    assert "2024年5月" in u3[0] and "任务“三会一课”自评5分、核查4分" in u3[0]
    assert "发现的问题“问题u3_open”" in u3[1] and "逾期" in u3[1]
    assert "2024年6月30日" in u3[1]
    assert "“问题u5_late”" in got[("unit", "U005")][0]
    assert got[("branch", "U001-B01")] == ["2024年10月“回头看”中不再符合过硬支部标准，由过硬支部降为达标支部（反弹）"]
    assert "“问题b2_progress”" in got[("branch", "U002-B01")][0]
    assert doc["entries"][0]["name"] == "测试单位1机关党委"

    from djctl.services.negative import negative_codes

    with store.read() as uow:
        units = negative_codes(uow.session, 2024, "unit")
        branches = negative_codes(uow.session, 2024, "branch")
        assert negative_codes(uow.session, 2023, "unit") == {}
    assert set(units) == {"U001", "U003", "U005"} and "逾期" in units["U003"] and "；" in units["U003"]
    assert set(branches) == {"U001-B01", "U002-B01"}


def test_rebuild_keeps_history(cli, crafted, store):
    from sqlmodel import select

    from djctl.store.tables import NegativeEntry

    assert json_out(cli("negative-list", "--year", "2024", "--build", "--json"))["status"] == "built"
    events = json_out(cli("audit", "verify", "--json"))["events"]
    again = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    assert again["status"] == "unchanged"
    assert json_out(cli("audit", "verify", "--json"))["events"] == events
    # U002-B01's overdue item is now recorded as closed on 30 December: it leaves the list on rebuild
    item = crafted["b2_progress"]
    assert cli("rectify", "close", str(item), "--feedback", "已整改", "--date", "2024-12-30").exit_code == 0
    doc = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    assert doc["status"] == "built" and [e["org"] for e in doc["entries"] if e["kind"] == "branch"] == ["U001-B01"]
    # a close recorded with a date after the year's end (U005's, 5 January) never took it off the 2024 list
    assert [e["org"] for e in doc["entries"] if e["kind"] == "unit"] == ["U001", "U003", "U005"]
    with store.read() as uow:
        rows = uow.session.exec(select(NegativeEntry).where(NegativeEntry.year == 2024)).all()
    assert len(rows) == 9 and sum(r.active for r in rows) == 4  # 5 old, 4 new
    assert "U002-B01" in {r.org_code for r in rows if not r.active} - {r.org_code for r in rows if r.active}
    stored = json_out(cli("negative-list", "--year", "2024", "--json"))
    assert stored["status"] == "stored" and stored["counts"]["total"] == 4
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_empty_list_is_built_once(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=2)).exit_code == 0
    assert json_out(cli("negative-list", "--year", "2024", "--build", "--json"))["status"] == "built"
    assert json_out(cli("negative-list", "--year", "2024", "--build", "--json"))["status"] == "unchanged"
    doc = json_out(cli("negative-list", "--year", "2024", "--json"))
    assert doc["status"] == "stored" and doc["entries"] == []


def test_documents(cli, crafted, tmp_path):
    from docx import Document

    r = cli("negative-list", "--year", "2024", "--build", "--format", "docx,xlsx,md", "--out", "文书")
    assert r.exit_code == 0, r.output
    out = tmp_path / "文书"
    assert sorted(p.name for p in out.iterdir()) == ["2024年度负面清单.docx", "2024年度负面清单.md", "2024年度负面清单.xlsx"]

    d = Document(str(out / "2024年度负面清单.docx"))
    paras = [p.text for p in d.paragraphs]
    assert "关于公布2024年度负面清单的通知" in paras[:3]
    assert any("3 个考核单位、2 个党支部" in p for p in paras) and "中共示范市直属机关工作委员会" in paras
    assert "一、考核单位" in paras and "二、党支部" in paras
    unit_rows = [[c.text for c in row.cells] for row in d.tables[0].rows]
    assert unit_rows[0] == ["序号", "名称", "列入原因"]
    assert unit_rows[1][1] == "测试单位1机关党委" and "虚假" in unit_rows[1][2]   # names, not codes
    assert unit_rows[2][2].startswith("1. 2024年5月") and "\n2. " in unit_rows[2][2]
    assert [row.cells[1].text for row in d.tables[1].rows][1:] == ["测试单位1第一支部", "测试单位2第一支部"]

    ws = load_workbook(out / "2024年度负面清单.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("序号", "类别", "编码", "名称", "问题数", "列入原因", "列入方式", "依据", "处理措施")
    assert {r[6] for r in rows[1:]} == {"规则认定"}
    assert [r[2] for r in rows[1:]] == ["U001", "U003", "U005", "U001-B01", "U002-B01"]
    assert rows[2][4] == 2

    md = (out / "2024年度负面清单.md").read_text(encoding="utf-8")
    assert md.startswith("# 关于公布2024年度负面清单的通知") and "| 1 | 测试单位1机关党委 |" in md
    assert "<br>2\\. " in md

    assert cli("negative-list", "--year", "2024", "--format", "pdf").exit_code == 2


def test_negative_demo_step(cli, crafted, store, tmp_path):
    from djctl.services.demo import DemoContext
    from djctl.services.demo.negative import demo_step

    ctx = DemoContext(dir=tmp_path / "demo")
    lines = demo_step(store, ctx)
    assert "3 个考核单位、2 个党支部" in lines[0]
    assert sorted(p.name for p in ctx.files) == ["2024年度负面清单.docx", "2024年度负面清单.xlsx"]
    assert all(p.parent == tmp_path / "demo" / "文书" and p.exists() for p in ctx.files)
    assert json_out(cli("audit", "verify", "--json"))["ok"]
