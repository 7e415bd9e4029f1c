"""Small parts of a zip package read straight from the archive, and remembered by their bytes.

A month's forms come from one template, and whoever fills them in saves them with the same program: most
parts of one form (theme, styles, relationships, the workbook part, content types) are byte for byte the
parts of the last form. A part is known by its key: compression method, CRC and size from the central
directory, and its stored (compressed) bytes themselves. Two parts with the same key have the same content,
so what was read or checked for one holds for the other: its decompressed bytes (`read_part`), and that it
passed the guard (`PASSED`, io/xlsx_guard.py). Nothing is keyed by a CRC alone, which anyone can forge; a
part that is not the same to the byte is read and checked again.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import OrderedDict
from typing import Any

MAX_STORED = 64 * 1024          # parts up to this many stored bytes are keyed (a form's parts are a few KB)
MAX_CACHED_BYTES = 8 * 1024 * 1024

PartKey = tuple[int, int, int, bytes]


def stored_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int | None = None) -> bytes | None:
    """The part's stored bytes (at most `limit`), read after its local header; None when the part is
    encrypted, uses another method than stored or deflated, or its local header is not one (zipfile then
    reads it, and refuses what is wrong with it)."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        return None
    fp = zf.fp
    if fp is None:
        return None
    try:
        fp.seek(info.header_offset)
        local = fp.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            return None
        skip = int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        fp.seek(info.header_offset + 30 + skip)
        want = info.compress_size if limit is None else min(info.compress_size, limit)
        raw = fp.read(want)
    except (OSError, ValueError):
        return None
    return raw if len(raw) == want else None


def part_key(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> PartKey | None:
    """The part's key, or None for a part too large to key (or one zipfile must read)."""
    if info.compress_size > MAX_STORED:
        return None
    raw = stored_bytes(zf, info)
    return None if raw is None else (info.compress_type, info.CRC, info.file_size, raw)


class _Bounded:
    """A mapping that forgets its oldest entries beyond MAX_CACHED_BYTES of keys and values."""

    def __init__(self) -> None:
        self._d: OrderedDict[Any, Any] = OrderedDict()
        self._bytes = 0

    def get(self, key: Any) -> Any:
        hit = self._d.get(key)
        if hit is not None:
            try:
                self._d.move_to_end(key)
            except KeyError:  # forgotten meanwhile by another thread: still a hit for this caller
                pass
        return hit

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def put(self, key: Any, value: Any, size: int) -> None:
        if key in self._d:
            return
        self._d[key] = (value, size)
        self._bytes += size
        while self._bytes > MAX_CACHED_BYTES and self._d:
            _, (_, dropped) = self._d.popitem(last=False)
            self._bytes -= dropped

    def value(self, key: Any) -> Any:
        hit = self.get(key)
        return None if hit is None else hit[0]

    def clear(self) -> None:
        self._d.clear()
        self._bytes = 0


#: keys of parts that passed the guard's prolog checks in this process
PASSED = _Bounded()
_CONTENT = _Bounded()


def passed(key: PartKey | None) -> bool:
    return key is not None and key in PASSED


def mark_passed(key: PartKey | None) -> None:
    if key is not None:
        PASSED.put(key, True, len(key[3]) + 64)


def _inflated(raw: bytes, method: int, limit: int) -> bytes:
    """At most `limit` bytes of a part's content from its stored bytes (raises zlib.error)."""
    return raw[:limit] if method == zipfile.ZIP_STORED else zlib.decompressobj(-15).decompress(raw, limit)


def inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes | None = None) -> bytes | None:
    """The part's bytes from its stored bytes (read here unless given), or None when they do not inflate to
    the size and CRC the directory gives (zipfile then reads the part, and refuses it). Never more than one
    byte beyond the size the directory gives is inflated."""
    if raw is None:
        if info.compress_size > MAX_STORED:
            return None
        raw = stored_bytes(zf, info)
        if raw is None:
            return None
    try:
        data = _inflated(raw, info.compress_type, info.file_size + 1)
    except zlib.error:
        return None
    return data if len(data) == info.file_size and zlib.crc32(data) == info.CRC else None


def head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int, raw: bytes | None = None) -> bytes | None:
    """The part's first `n` bytes, as zf.open gives them first, from its stored bytes (at most 16 KB of them
    read here unless given). A part of at most `n` bytes is read whole, its size and CRC checked as zf.open
    checks them at its end. None for anything else (encrypted, another method, an odd local header, a size
    or CRC that does not hold, fewer bytes than the part should give): zipfile must read it."""
    if info.file_size <= n:
        return inflate(zf, info, raw)
    if raw is None:
        raw = stored_bytes(zf, info, 16384)
        if raw is None:
            return None
    try:
        data = _inflated(raw, info.compress_type, n)
    except zlib.error:
        return None
    return data if len(data) == n else None


def read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    """zf.read(name): the same bytes, or the same error, without decompressing a part already read in this
    process. A part whose stored bytes do not inflate to its size and CRC is read by zipfile, which refuses it."""
    info = zf.getinfo(name)
    key = part_key(zf, info)
    if key is None:
        return zf.read(name)
    data = _CONTENT.value(key)
    if data is not None:
        return data
    data = inflate(zf, info, key[3])
    if data is None:
        return zf.read(name)
    _CONTENT.put(key, data, len(key[3]) + len(data) + 64)
    return data


def clear() -> None:
    """Forget every part (tests)."""
    PASSED.clear()
    _CONTENT.clear()
