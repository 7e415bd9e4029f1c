"""The root command loads a command group only when it is used; its registry must match the real commands."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

import djctl.cli
from djctl.cli import app
from djctl.cli._lazy import DjctlGroup, LazyGroup, load


def _modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(djctl.cli.__path__) if not m.name.startswith("_")]


def _eager_app() -> typer.Typer:
    """The root wired the old way: every group added with add_typer (what the registry replaces)."""
    from djctl.cli._app import make_app

    eager = make_app(help=app.info.help, cls=DjctlGroup)  # the same formatting, without the laziness
    eager.callback()(app.registered_callback.callback)
    seen: set[tuple[str, str]] = set()
    for e in LazyGroup.REGISTRY:
        if e.group:
            eager.add_typer(e.typer_app(), name=e.name)
        elif (e.module, e.attr) not in seen:
            seen.add((e.module, e.attr))
            eager.add_typer(e.typer_app())
    return eager


def test_every_command_module_is_in_the_registry():
    by_app = {(e.module, e.attr) for e in LazyGroup.REGISTRY}
    names = {e.name for e in LazyGroup.REGISTRY if not e.group}
    for module in _modules():
        mod = importlib.import_module(f"djctl.cli.{module}")
        for attr, value in vars(mod).items():
            if not isinstance(value, typer.Typer):
                continue
            assert (module, attr) in by_app, f"djctl.cli.{module}.{attr} is not in the registry of djctl.cli"
            if not any(e.group for e in LazyGroup.REGISTRY if (e.module, e.attr) == (module, attr)):
                for info in value.registered_commands:
                    assert info.name in names, f"command {info.name} of djctl.cli.{module} is not in the registry"


@pytest.mark.parametrize("entry", LazyGroup.REGISTRY, ids=lambda e: e.name)
def test_registry_help_is_the_commands_own(entry):
    cmd = load(entry)
    assert cmd.name == entry.name
    for limit in (30, 45, 60, 80, 200, 10**6):
        assert djctl.cli._lazy.make_default_short_help(entry.help, limit) == cmd.get_short_help_str(limit), limit


def test_root_help_is_the_same_as_the_eager_tree():
    runner = CliRunner()
    lazy = runner.invoke(app, ["--help"], prog_name="djctl")
    eager = runner.invoke(_eager_app(), ["--help"], prog_name="djctl")
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.stdout == eager.stdout
    assert "negative-list" in lazy.stdout and "年度负面清单" in lazy.stdout


def test_root_help_loads_no_command_module():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "djctl", "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    for module in _modules():
        assert f"djctl.cli.{module}" not in loaded, f"djctl --help imported djctl.cli.{module}"


def test_a_command_loads_only_its_own_module():
    code = ("import sys\nfrom djctl.cli import app\nimport typer\n"
            "try:\n    app(['org', '--help'], prog_name='djctl')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('djctl.cli.') and not m.startswith('djctl.cli._')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "['djctl.cli.org']"


def test_a_mistyped_command_is_refused_with_a_suggestion(cli):
    result = cli("scor")
    assert result.exit_code == 2
    assert "score" in result.output
