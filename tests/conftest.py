"""Every test runs the real CLI in-process against a throwaway store in its own directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("COLUMNS", "120")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--kills", type=int, default=None, help="number of SIGKILLs in the crash-safety test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp store, a temp working directory, a fixed terminal width and a known actor."""
    test_db = os.environ.get("DJCTL_TEST_DB")
    monkeypatch.setenv("DJCTL_DB", test_db or str(tmp_path / "djctl.db"))
    monkeypatch.setenv("DJCTL_USER", "tester")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("DJCTL_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def _command():
    """The click command tree, built once (building it costs ~0.3 s and grows with every group)."""
    import typer

    from djctl.cli import app

    return typer.main.get_command(app)


@pytest.fixture
def cli(_command, monkeypatch: pytest.MonkeyPatch):
    """Run djctl in-process: cli('org', 'list', '--json') -> Result."""
    import typer.testing
    from typer.testing import CliRunner

    from djctl.cli import app

    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False, prog_name="djctl")

    return run


@pytest.fixture
def store():
    from djctl.store.engine import open_store

    s = open_store()
    yield s
    s.dispose()
