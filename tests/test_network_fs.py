"""Shared folders: a SQLite store on NFS, SMB/CIFS or sshfs is refused (exit 3, PostgreSQL named) unless
--allow-network-fs."""

from __future__ import annotations

from pathlib import Path

import pytest

from djctl.store import engine
from tests.helpers import json_out

pytestmark = pytest.mark.sqlite_only  # the SQLite file on a network share


@pytest.fixture
def on(monkeypatch):
    """Pretend the store's directory is on a file system of the given type."""

    def set_type(fstype: str | None) -> None:
        monkeypatch.setattr(engine, "filesystem_type", lambda path, mounts_text=None: fstype)

    return set_type


@pytest.mark.parametrize("fstype", ["nfs4", "nfs", "cifs", "smb3", "fuse.sshfs"])
def test_a_new_store_on_a_share_is_refused(cli, on, tmp_path, fstype):
    on(fstype)
    r = cli("init")
    assert r.exit_code == 3, r.output
    assert f"网络共享目录（{fstype}）" in r.output
    assert "PostgreSQL" in r.output and "--allow-network-fs" in r.output
    assert not (tmp_path / "djctl.db").exists()  # nothing created


def test_an_existing_store_on_a_share_is_refused_for_reading_and_writing(cli, on, tmp_path):
    assert cli("init").exit_code == 0
    on("cifs")
    for args in (("org", "list"), ("audit", "verify"), ("backup", "--out", "b.db")):
        r = cli(*args)
        assert r.exit_code == 3, (args, r.output)
        assert "PostgreSQL" in r.output
    assert not (tmp_path / "b.db").exists()


def test_allow_network_fs_lets_it_through(cli, on, tmp_path):
    on("nfs4")
    r = cli("--allow-network-fs", "init")
    assert r.exit_code == 0, r.output
    assert json_out(cli("--allow-network-fs", "audit", "verify", "--json"))["ok"]


def test_local_file_systems_are_fine(cli, on):
    for fstype in ("ext4", "xfs", "btrfs", "tmpfs", "overlay", None):
        on(fstype)
        r = cli("init")
        assert r.exit_code == 0, (fstype, r.output)


def test_restore_onto_a_share_is_refused(cli, on, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("backup", "--out", "b.db").exit_code == 0
    on("fuse.sshfs")
    r = cli("restore", "b.db", "--yes")
    assert r.exit_code == 3 and "PostgreSQL" in r.output
    assert not list(tmp_path.glob("djctl.db.before-restore-*"))
    assert cli("--allow-network-fs", "restore", "b.db", "--yes").exit_code == 0


MOUNTS = """\
sysfs /sys sysfs rw,nosuid 0 0
/dev/sda1 / ext4 rw,relatime 0 0
server:/export /mnt/share nfs4 rw,relatime,vers=4.2 0 0
//nas/办公 /mnt/office\\040files cifs rw,relatime 0 0
user@host:/data /home/me/remote fuse.sshfs rw,nosuid,nodev 0 0
/dev/sdb1 /mnt/share/local ext4 rw 0 0
"""


@pytest.mark.parametrize("path,expected", [
    ("/home/me/work", "ext4"),
    ("/mnt/share/djctl", "nfs4"),
    ("/mnt/share", "nfs4"),
    ("/mnt/shared", "ext4"),              # a prefix of the name is not the mount point
    ("/mnt/share/local/x", "ext4"),       # the longest mount point wins
    ("/mnt/office files/党建", "cifs"),    # \040 in /proc/mounts is a space
    ("/home/me/remote/db", "fuse.sshfs"),
])
def test_filesystem_type_reads_mounts(path, expected):
    assert engine.filesystem_type(Path(path), MOUNTS) == expected
