"""Every test runs the real CLI in-process against a throwaway store in its own directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("COLUMNS", "120")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--kills", type=int, default=None, help="number of SIGKILLs in the crash-safety test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: needs the SQLite file store (skipped when DJCTL_TEST_DB is set)")
    config.addinivalue_line("markers", "real_migrations: new SQLite stores run every migration (no template copy)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = None if config.getoption("--runslow") else pytest.mark.skip(reason="slow: run with --runslow")
    skip_sqlite = pytest.mark.skip(reason="SQLite only (DJCTL_TEST_DB is set)") if os.environ.get("DJCTL_TEST_DB") else None
    for item in items:
        if skip_slow is not None and "slow" in item.keywords:
            item.add_marker(skip_slow)
        if skip_sqlite is not None and "sqlite_only" in item.keywords:
            item.add_marker(skip_sqlite)


class ServerDatabases:
    """Databases on the DJCTL_TEST_DB server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres).

    Every test gets a database of its own: a clone of a template migrated once per session (migrating a
    fresh store costs about a second, cloning a fraction of that), created one test ahead in the background
    and dropped in the background after its test."""

    def __init__(self, url: str) -> None:
        import itertools
        import secrets
        from concurrent.futures import ThreadPoolExecutor

        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with self.admin.connect() as conn:  # PostgreSQL 15+: copying the files beats WAL-logging every page
            modern = conn.exec_driver_sql("SHOW server_version_num").scalar_one()
        self._strategy = " STRATEGY FILE_COPY" if int(modern) >= 150000 else ""
        self._names = (f"djctl_test_{secrets.token_hex(4)}_{n}" for n in itertools.count(1))
        self.template = self._create()
        self._migrate(self.template)
        self._jobs = ThreadPoolExecutor(1, thread_name_prefix="djctl-test-db")
        self._ahead = self._jobs.submit(self._create, self.template)

    def url(self, name: str) -> str:
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def store(self) -> tuple[str, Callable[[], None]]:
        """A migrated store of its own: (URL, drop)."""
        name = self._ahead.result()
        self._ahead = self._jobs.submit(self._create, self.template)
        return self.url(name), lambda: self._jobs.submit(self._drop, name)  # dropped while the next test runs

    def empty(self) -> tuple[str, Callable[[], None]]:
        """A new, empty database: (URL, drop)."""
        name = self._create()
        return self.url(name), lambda: self._drop(name)

    def close(self) -> None:
        self._jobs.shutdown(wait=True)
        self._drop(self._ahead.result())
        self._drop(self.template)
        self.admin.dispose()

    def _create(self, template: str | None = None) -> str:
        from sqlalchemy import text

        name = next(self._names)
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"{self._strategy}' if template else "")))
        return name

    def _drop(self, name: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _migrate(self, name: str) -> None:
        from djctl.store.engine import open_store

        before = os.environ.get("DJCTL_USER")
        os.environ["DJCTL_USER"] = "tester"  # the actor of the migration event, as in every test's store
        try:
            open_store(self.url(name)).dispose()
        finally:
            if before is None:
                del os.environ["DJCTL_USER"]
            else:
                os.environ["DJCTL_USER"] = before


@pytest.fixture(scope="session")
def _server():
    """The DJCTL_TEST_DB server, or None when the suite runs on SQLite files."""
    url = os.environ.get("DJCTL_TEST_DB")
    if not url:
        yield None
        return
    server = ServerDatabases(url)
    yield server
    server.close()


@pytest.fixture
def server_db(_server, request: pytest.FixtureRequest):
    """new() -> the URL of another new, empty database on the DJCTL_TEST_DB server (dropped after the
    test); skips the test when no server is configured."""
    if _server is None:
        pytest.skip("needs DJCTL_TEST_DB (a PostgreSQL server)")

    def new() -> str:
        url, drop = _server.empty()
        request.addfinalizer(drop)
        return url

    return new


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """An empty SQLite store migrated once per session (migrating a new store costs about 0.4 s, copying it a
    tenth of that): `_isolated` makes a new SQLite store of a test a copy of it (issue 21)."""
    from djctl.store.engine import open_store

    path = tmp_path_factory.mktemp("migrated") / "djctl.db"
    before = os.environ.get("DJCTL_USER")
    os.environ["DJCTL_USER"] = "tester"  # the actor of the migration event, as in every test's store
    try:
        open_store(path).dispose()
    finally:
        if before is None:
            del os.environ["DJCTL_USER"]
        else:
            os.environ["DJCTL_USER"] = before
    return path


def _copy_new_stores(monkeypatch: pytest.MonkeyPatch, template: Path) -> None:
    """Opening a new, empty SQLite store in this process copies the migrated template instead of running every
    migration (the same schema and the same `store.migrate` event; stores that are not new still migrate)."""
    from djctl.store import engine

    real = engine._upgrade

    def upgrade(store, current, target):
        if current is None and store.path is not None and target == engine.known_revisions()[-1]:
            store.engine.dispose()
            engine.backup_sqlite(template, store.path)
            return None
        return real(store, current, target)

    monkeypatch.setattr(engine, "_upgrade", upgrade)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, _server,
              _migrated_template) -> Path:
    """A temp store (a file in tmp_path, or a fresh database on the DJCTL_TEST_DB server), a temp
    working directory, a fixed terminal width and a known actor. A test marked `real_migrations` creates its
    SQLite stores by running the migrations rather than copying the session's migrated template."""
    if "real_migrations" not in request.keywords:
        _copy_new_stores(monkeypatch, _migrated_template)
    if _server is not None and "sqlite_only" not in request.keywords:
        url, drop = _server.store()
        request.addfinalizer(drop)
        monkeypatch.setenv("DJCTL_DB", url)
    else:
        monkeypatch.setenv("DJCTL_DB", str(tmp_path / "djctl.db"))
    monkeypatch.setenv("DJCTL_USER", "tester")
    monkeypatch.setenv("DJCTL_LOG_DIR", str(tmp_path / "logs"))  # crash logs of a test stay in its folder
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
