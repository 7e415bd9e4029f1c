"""Forms read by worker processes (io/read_workers.py) are taken exactly as if read in the importing process:
same answers in the same order, refusals with their positions, a worker that dies or fails handing its files
back, and `selfeval import` giving the same store and report with and without workers."""

from __future__ import annotations

import json
import shutil

import pytest

from djctl.errors import InputError
from djctl.io import read_workers
from djctl.io.read_workers import ReadPool, read_file, workers_for
from tests.monthly_helpers import active_scores, fill_all, fill_form, import_json, query, setup_month

SPEC = "tests.io.read_worker_reader:read"


def _files(tmp_path, names):
    out = []
    for i, name in enumerate(names):
        p = tmp_path / name
        p.write_bytes(b"x" * (i + 1))
        out.append(str(p))
    return out


def test_answers_come_back_in_order_with_refusals(tmp_path):
    names = [f"f{i:03d}.xlsx" if i % 7 else f"refuse{i:03d}.xlsx" for i in range(70)]
    paths = _files(tmp_path, names)
    with ReadPool(SPEC, 3) as pool:
        assert len(pool.procs) == 3
        got = list(pool.read(paths))
        # the workers read every file: a refusal travels back as it is (it used to unpickle as __main__.Refusal,
        # fail, and send every later file back to the caller)
        assert not pool.broken and pool.restarts == 0
    assert got == [read_file(SPEC, p) for p in paths]
    form, refusal = got[0]
    assert refusal.message == "拒绝：refuse000.xlsx" and refusal.hint == "改好再报"
    err = refusal.error()
    assert isinstance(err, InputError) and err.problems[0].row == 3 and err.problems[0].column == "得分"
    assert got[1] == ({"name": "f001.xlsx", "size": 2}, None)


def test_a_reader_bug_is_raised_by_the_caller_as_without_workers(tmp_path):
    paths = _files(tmp_path, ["a.xlsx", "boom.xlsx", "c.xlsx"])
    with ReadPool(SPEC, 2) as pool:
        answers = pool.read(paths)
        assert next(answers) == ({"name": "a.xlsx", "size": 1}, None)
        with pytest.raises(RuntimeError, match="a bug in the reader: boom.xlsx"):
            next(answers)


def test_dead_workers_hand_their_files_back(tmp_path, monkeypatch):
    monkeypatch.setattr(read_workers, "CHUNK", 4)  # each file of a failed chunk starts a process: keep chunks small
    paths = _files(tmp_path, [f"f{i:03d}.xlsx" for i in range(40)])
    with ReadPool(SPEC, 2) as pool:
        for p in pool.procs:
            p.kill()
            p.wait()
        got = list(pool.read(paths))
        assert pool.restarts == 1
    assert got == [read_file(SPEC, p) for p in paths]


def test_a_worker_dying_midway_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(read_workers, "CHUNK", 4)  # each file of a failed chunk starts a process: keep chunks small
    paths = _files(tmp_path, [f"f{i:03d}.xlsx" for i in range(200)])
    with ReadPool(SPEC, 2) as pool:
        answers = pool.read(paths)
        first = [next(answers) for _ in range(20)]
        pool.procs[1].kill()
        got = first + list(answers)
    assert got == [read_file(SPEC, p) for p in paths]


def test_a_file_that_kills_its_reader_is_refused_and_nothing_else_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(read_workers, "CHUNK", 4)  # each file of a failed chunk starts a process: keep chunks small
    """The files of the chunk a worker died on are read one per process: only the killer is refused; fresh
    workers read the rest (the caller never reads the killer itself, which would end it too)."""
    names = [f"f{i:03d}.xlsx" for i in range(100)]
    names[37] = "abort037.xlsx"
    names[90] = "abort090.xlsx"
    paths = _files(tmp_path, names)
    with ReadPool(SPEC, 2) as pool:
        got = list(pool.read(paths))
        assert pool.restarts == 2
    for i, (form, refusal) in enumerate(got):
        if "abort" in names[i]:
            assert form is None and "程序异常结束" in refusal.message and "另存为" in refusal.hint
        else:
            assert (form, refusal) == read_file(SPEC, paths[i])


@pytest.mark.parametrize("value,files,expected", [("", 10, 1), ("", 5000, None), ("1", 5000, 1), ("3", 2, 3),
                                                  ("abc", 10, 1), ("0", 10, 1)])
def test_how_many_workers(monkeypatch, value, files, expected):
    monkeypatch.setenv("DJCTL_IMPORT_WORKERS", value)
    got = workers_for(files)
    if expected is None:
        assert 1 <= got <= 4
    else:
        assert got == expected


def _import_all(cli, monkeypatch, workers, setup, folder):
    monkeypatch.setenv("DJCTL_IMPORT_WORKERS", str(workers))
    return import_json(cli, folder)


@pytest.mark.sqlite_only
def test_selfeval_import_is_the_same_with_and_without_workers(cli, tmp_path, monkeypatch):
    """One folder of good, refused and broken forms imported twice into two stores: the same report, file by
    file, and the same stored scores."""
    setup = setup_month(cli, tmp_path, units=6)
    folder = tmp_path / "收回"
    filled = fill_all(setup, folder, units=setup.units[:4])
    fill_form(setup.forms[setup.units[4]], folder / "超分.xlsx", scores=[999] * len(setup.tasks))
    (folder / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not a zip at all")
    shutil.copy(filled[setup.units[0]], folder / "副本.xlsx")
    db = tmp_path / "djctl.db"
    shutil.copy(db, tmp_path / "before.db")
    docs, scores = [], []
    pools: list[int] = []
    real_init = ReadPool.__init__

    def counting(self, spec, workers):
        real_init(self, spec, workers)
        pools.append(len(self.procs))

    monkeypatch.setattr(ReadPool, "__init__", counting)
    for workers in (1, 2):
        shutil.copy(tmp_path / "before.db", db)
        for extra in tmp_path.glob("djctl.db-*"):
            extra.unlink()
        code, doc = _import_all(cli, monkeypatch, workers, setup, folder)
        assert code == 2
        docs.append(json.dumps(doc["files"], ensure_ascii=False, sort_keys=True))
        scores.append([active_scores(u) for u in setup.units])
        assert query("SELECT count(*) FROM self_report") == [(4,)]
    assert pools == [2]  # the second run read through two workers, the first in the process
    assert docs[0] == docs[1]
    assert scores[0] == scores[1]
    statuses = [f["status"] for f in json.loads(docs[1])]
    assert statuses.count("imported") == 4 and statuses.count("refused") == 2 and statuses.count("unchanged") == 1
