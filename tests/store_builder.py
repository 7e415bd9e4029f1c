"""Build a store's facts directly (for score tests): units, task lists, self reports, checks, votes, items."""

from __future__ import annotations

from datetime import date, datetime, timezone

from djctl.store.tables import (Adjustment, CheckReport, CheckScore, Draw, ImportFile, SelfReport, SelfScore, Task,
                                TaskList, Unit, Vote)

NOW = datetime(2024, 12, 31, tzinfo=timezone.utc)


class Builder:
    def __init__(self, store) -> None:
        self.store = store
        self.n = 0

    def _imp(self, s, kind: str, subject: str = "", period: str = "") -> int:
        self.n += 1
        imp = ImportFile(kind=kind, path=f"test-{self.n}.xlsx", sha256=f"{self.n:064d}", subject=subject,
                         period=period, rows=0, actor="test", created_at=NOW)
        s.add(imp)
        s.flush()
        return imp.id

    def units(self, specs: list[tuple[str, str]], active_from: dict[str, date] | None = None,
              active_to: dict[str, date] | None = None) -> None:
        with self.store.write() as uow:
            for code, group in specs:
                uow.session.add(Unit(code=code, name=f"单位{code}", kind="机关党委", group_name=group, members=10,
                                     active_from=(active_from or {}).get(code), active_to=(active_to or {}).get(code),
                                     updated_at=NOW))
            uow.audit("test.units", {"units": [c for c, _ in specs]})

    def tasks(self, month: str, points: dict[str, int]) -> int:
        """points in whole points; returns the task list id."""
        with self.store.write() as uow:
            s = uow.session
            tl = TaskList(month=month, version=1, sha256=f"tl-{month}", source="test", active=True, created_at=NOW)
            s.add(tl)
            s.flush()
            for i, (code, p) in enumerate(points.items(), 1):
                s.add(Task(task_list_id=tl.id, seq=i, code=code, name=f"任务{code}", points_x100=p * 100))
            uow.audit("test.tasks", {"month": month})
            return tl.id

    def report(self, unit: str, month: str, scores_x100: dict[str, int]) -> int:
        with self.store.write() as uow:
            s = uow.session
            tl = s.exec(__import__("sqlmodel").select(TaskList).where(TaskList.month == month)).first()
            rep = SelfReport(unit_code=unit, month=month, task_list_id=tl.id,
                             import_id=self._imp(s, "selfeval", unit, month), created_at=NOW)
            s.add(rep)
            s.flush()
            for code, v in scores_x100.items():
                s.add(SelfScore(report_id=rep.id, task_code=code, points_x100=v))
            uow.audit("test.report", {"unit": unit, "month": month})
            return rep.id

    def check(self, unit: str, month: str, report_id: int, verified_x100: dict[str, tuple[int, bool | None]]) -> None:
        with self.store.write() as uow:
            s = uow.session
            d = s.exec(__import__("sqlmodel").select(Draw).where(Draw.period == month, Draw.kind == "sample")).first()
            if d is None:
                d = Draw(kind="sample", period=month, seq=1, label=f"sample:{month}", algorithm="djctl-draw-v1",
                         seed="test", rate="0.2", k=1, population_hash="x", record="{}", created_at=NOW)
                s.add(d)
                s.flush()
            cr = CheckReport(unit_code=unit, month=month, draw_id=d.id, self_report_id=report_id,
                             import_id=self._imp(s, "check", unit, month), created_at=NOW)
            s.add(cr)
            s.flush()
            for code, (v, false) in verified_x100.items():
                s.add(CheckScore(report_id=cr.id, task_code=code, verified_x100=v, false_flag=false))
            uow.audit("test.check", {"unit": unit, "month": month})

    def draw(self, month: str, selected: list[str] | None = None) -> None:
        """A minimal stored draw for a month (for gap checks; not a verifiable record)."""
        import json

        with self.store.write() as uow:
            uow.session.add(Draw(kind="sample", period=month, seq=1, label=f"sample:{month}", algorithm="djctl-draw-v1",
                                 seed="test", rate="0.2", k=len(selected or []), population_hash="x",
                                 record=json.dumps({"population": [], "selected": selected or []}), created_at=NOW))
            uow.audit("test.draw", {"month": month})

    def votes(self, year: int, unit: str, good: int, fairly: int, avg: int, poor: int) -> None:
        with self.store.write() as uow:
            s = uow.session
            s.add(Vote(year=year, unit_code=unit, good=good, fairly_good=fairly, average=avg, poor=poor,
                       import_id=self._imp(s, "votes", "", str(year)), created_at=NOW))
            uow.audit("test.votes", {"unit": unit})

    def item(self, year: int, unit: str, kind: str, points_x100: int, veto: bool = False) -> None:
        with self.store.write() as uow:
            uow.session.add(Adjustment(year=year, unit_code=unit, kind=kind, points_x100=points_x100, reason="测试",
                                       basis="测试文件", veto=veto, created_at=NOW))
            uow.audit("test.item", {"unit": unit})
