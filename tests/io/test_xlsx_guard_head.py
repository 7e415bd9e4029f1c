"""The guard reads each part's first bytes straight from the archive (`xlsx_guard._member_head`): the same
bytes zipfile gives, a small part's size and CRC checked as zipfile checks them, and anything unusual handed
to zipfile, so that every refusal stays what it was."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from djctl.errors import InputError, SecurityError
from djctl.io import xlsx_guard
from djctl.io.xlsx_guard import _FIRST_READ, _member_head, check_workbook_file
from tests import hostile as H


def _same_as_zipfile(path: Path) -> int:
    n = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            head = _member_head(zf, info)
            with zf.open(info) as fh:
                want = fh.read(min(info.file_size, _FIRST_READ))
            assert head == want, info.filename
            n += 1
    return n


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_every_part_reads_as_zipfile_reads_it(tmp_path, method):
    base = H.base_roster(tmp_path / "base.xlsx")
    big = b'<?xml version="1.0"?><worksheet>' + b"<row/>" * 2000 + b"</worksheet>"  # longer than the head
    path = tmp_path / "roster.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr("xl/big.xml", big)
    assert _same_as_zipfile(path) >= 8


def test_a_small_part_with_a_wrong_crc_goes_to_zipfile_and_is_refused(tmp_path):
    path = H.base_roster(tmp_path / "crc.xlsx")
    data = bytearray(path.read_bytes())
    name = b"[Content_Types].xml"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name.decode())
        assert info.file_size <= _FIRST_READ
        bad = (info.CRC ^ 0xFFFF).to_bytes(4, "little")
    central = next(i for i in range(len(data) - 46) if data[i:i + 4] == b"PK\x01\x02"
                   and data[i + 46:i + 46 + struct.unpack("<H", data[i + 28:i + 30])[0]] == name)
    data[info.header_offset + 14:info.header_offset + 18] = bad  # the local header's CRC
    data[central + 16:central + 20] = bad                        # the central directory's CRC
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert _member_head(zf, zf.getinfo("[Content_Types].xml")) is None
    with pytest.raises(InputError, match="损坏"):
        check_workbook_file(path)


def test_a_prolog_longer_than_the_head_is_read_on_by_zipfile(tmp_path):
    """3 KB of comments, then a DOCTYPE: the head alone ends inside a comment; it must not be taken for a
    DTD (a false refusal) nor let the DOCTYPE through."""
    comment = b"<!--" + b"a" * 3000 + b"-->"
    fine = b'<?xml version="1.0"?>' + comment + b"<worksheet/>"
    evil = b'<?xml version="1.0"?>' + comment + b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    ok = H._edit(tmp_path / "ok.xlsx", {}, {"xl/extra.xml": fine})
    check_workbook_file(ok)
    bad = H._edit(tmp_path / "bad.xlsx", {}, {"xl/extra.xml": evil})
    with pytest.raises(SecurityError):
        check_workbook_file(bad)


def test_the_zipfile_path_is_taken_when_the_head_is_unusable(tmp_path, monkeypatch):
    """With the direct read switched off every part goes through zipfile: the same verdicts."""
    monkeypatch.setattr(xlsx_guard, "_member_head", lambda *_: None)
    check_workbook_file(H.base_roster(tmp_path / "ok.xlsx"))
    with pytest.raises(SecurityError):
        check_workbook_file(H.xml_bomb(tmp_path / "bomb.xlsx"))
    with pytest.raises(InputError, match="损坏"):
        check_workbook_file(H.lying_size(tmp_path / "lie.xlsx"))


def test_a_local_header_that_is_not_one_is_left_to_zipfile(tmp_path):
    path = H.base_roster(tmp_path / "hdr.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[1]
    data[info.header_offset:info.header_offset + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert _member_head(zf, zf.infolist()[1]) is None
    with pytest.raises(InputError):
        check_workbook_file(path)
