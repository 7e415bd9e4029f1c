"""Offline install (issue 16, item 7): scripts/wheelhouse builds a folder from which a fresh environment
installs djctl with `pip install --no-index --find-links` and runs it.

Building the folder downloads about 26 wheels and creating a venv takes a while: the test runs when
DJCTL_WHEELHOUSE_TEST=1 (CI runs it once, not in each database pass), or against a ready folder given in
DJCTL_WHEELHOUSE (made by `python scripts/wheelhouse --out DIR --platform linux`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not (os.environ.get("DJCTL_WHEELHOUSE_TEST") == "1" or os.environ.get("DJCTL_WHEELHOUSE")),
                                reason="set DJCTL_WHEELHOUSE_TEST=1 (or DJCTL_WHEELHOUSE=DIR) to build and install a wheelhouse")


def test_a_fresh_environment_installs_from_the_wheelhouse_alone(tmp_path):
    house = Path(os.environ["DJCTL_WHEELHOUSE"]) if os.environ.get("DJCTL_WHEELHOUSE") else tmp_path / "wheelhouse"
    if not os.environ.get("DJCTL_WHEELHOUSE"):
        py = f"{sys.version_info.major}.{sys.version_info.minor}"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "wheelhouse"), "--out", str(house), "--platform", "linux",
                        "--python", py], check=True, capture_output=True, timeout=1200)
    readme = (house / "README.txt").read_text(encoding="utf-8")
    assert "--no-index --find-links" in readme and "djctl" in readme
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "DJCTL_"))}
    clean["PIP_CONFIG_FILE"] = os.devnull  # no index, no find-links, no constraints from this machine
    p = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--no-index", "--find-links", str(house), "djctl"],
                       env=clean, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([str(bindir / "djctl"), "--help"], env=clean, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("用法：djctl"), p.stdout + p.stderr
    db = tmp_path / "offline.db"
    p = subprocess.run([str(bindir / "djctl"), "--db", str(db), "init"], env=clean, capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
