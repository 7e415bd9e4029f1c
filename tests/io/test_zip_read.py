"""Parts read straight from the archive and remembered by their bytes (io/zip_read.py): the same bytes and the
same errors as zipfile, and nothing taken from memory for a part that is not the same to the byte, even
when its directory entry (CRC and size) says it is."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from djctl.errors import InputError, SecurityError
from djctl.io import zip_read
from djctl.io.xlsx_guard import check_workbook_file
from tests import hostile as H


@pytest.fixture(autouse=True)
def _forget():
    zip_read.clear()
    yield
    zip_read.clear()


def _set_directory(path: Path, name: str, crc: int, size: int) -> None:
    """Write `crc` and `size` (uncompressed) into both the local header and the central directory of `name`."""
    data = bytearray(path.read_bytes())
    raw = name.encode()
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo(name).header_offset
    central = next(i for i in range(len(data) - 46) if data[i:i + 4] == b"PK\x01\x02"
                   and data[i + 46:i + 46 + struct.unpack("<H", data[i + 28:i + 30])[0]] == raw)
    data[offset + 14:offset + 18] = crc.to_bytes(4, "little")
    data[offset + 22:offset + 26] = size.to_bytes(4, "little")
    data[central + 16:central + 20] = crc.to_bytes(4, "little")
    data[central + 24:central + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_every_part_reads_as_zipfile_reads_it_first_and_second_time(tmp_path, method):
    base = H.base_roster(tmp_path / "base.xlsx")
    path = tmp_path / "roster.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    with zipfile.ZipFile(path) as zf:
        for _ in range(2):  # the second time from memory
            for info in zf.infolist():
                assert zip_read.read_part(zf, info.filename) == zf.read(info.filename), info.filename


def test_a_part_whose_bytes_do_not_match_its_crc_is_refused_as_zipfile_refuses_it(tmp_path):
    path = H.base_roster(tmp_path / "crc.xlsx")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/workbook.xml")
    _set_directory(path, "xl/workbook.xml", info.CRC ^ 0xFFFF, info.file_size)
    with zipfile.ZipFile(path) as zf:
        with pytest.raises(zipfile.BadZipFile):
            zf.read("xl/workbook.xml")
        with pytest.raises(zipfile.BadZipFile):
            zip_read.read_part(zf, "xl/workbook.xml")


def test_a_hostile_part_claiming_the_crc_and_size_of_a_part_that_passed_is_still_checked(tmp_path):
    good = H.base_roster(tmp_path / "good.xlsx")
    check_workbook_file(good)  # every part of it passed, and is remembered
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/styles.xml")
        styles = zf.read("xl/styles.xml")
    assert zip_read.passed(zip_read.part_key(zipfile.ZipFile(good), info))
    evil = b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "b">]><styleSheet/>'
    evil += b" " * (len(styles) - len(evil))  # the same size as the part that passed
    bad = H.rewrite(good, tmp_path / "bad.xlsx", {"xl/styles.xml": evil})
    _set_directory(bad, "xl/styles.xml", info.CRC, info.file_size)  # and the same CRC in its directory
    for _ in range(2):  # refused, and a refused part is not remembered either
        with pytest.raises((SecurityError, InputError)):
            check_workbook_file(bad)


def test_the_same_hostile_part_is_refused_every_time(tmp_path):
    bad = H.xxe(tmp_path / "xxe.xlsx")
    for _ in range(3):
        with pytest.raises(SecurityError):
            check_workbook_file(bad)


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(zip_read, "MAX_CACHED_BYTES", 1000)
    cache = zip_read._Bounded()
    for i in range(50):
        cache.put(i, b"x", 100)
    assert cache._bytes <= 1000
    assert 49 in cache and 0 not in cache


def test_a_small_workbook_is_read_once_checks_and_reader_see_the_same_bytes(tmp_path):
    """Read into memory before the guard: replacing the file afterwards changes nothing of what is read."""
    from djctl.io.xlsx import Workbook

    path = H.base_roster(tmp_path / "roster.xlsx")
    other = H.base_roster(tmp_path / "other.xlsx", units=1)
    with Workbook(path) as wb:
        sheet = wb.sheetnames[0]
        path.write_bytes(other.read_bytes())  # swapped on disk between the check and the read
        rows = wb.sheet(sheet).rows
    with Workbook(tmp_path / "other.xlsx") as wb:
        fewer = wb.sheet(sheet).rows
    assert len(rows) > len(fewer)
