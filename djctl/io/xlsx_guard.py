"""Checks a workbook file before openpyxl opens it: size, zip structure, expansion, XML prolog.

Workbooks come from many offices; a hostile or broken one must be refused quickly with a clear
Chinese message, never parsed into memory exhaustion or entity expansion.
"""

from __future__ import annotations

import io
import os
import re
import sys
import zipfile
import zlib
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from xml.parsers import expat

from defusedxml import EntitiesForbidden, ExternalReferenceForbidden

from djctl.errors import InputError, SecurityError
from djctl.io import zip_read

MAX_FILE_BYTES = 50 * 1024 * 1024          # a returned form is a few KB; a roster a few MB
MAX_MEMBERS = 2_000
MAX_TOTAL_UNCOMPRESSED = 400 * 1024 * 1024
MAX_MEMBER_UNCOMPRESSED = 300 * 1024 * 1024
MAX_RATIO = 150                             # uncompressed / compressed for members above 1 MB
PROLOG_SCAN = 64 * 1024
IN_MEMORY_BYTES = 1024 * 1024            # files up to this size are read once, into memory
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _assert_defusedxml() -> None:
    """openpyxl parses with defusedxml. Until something has imported openpyxl (the reference reader
    does, io/xlsx_openpyxl.py, and checks again before it opens a workbook), the conditions openpyxl
    will decide it by at import are checked instead: a worker that reads with calamine only never pays for
    importing openpyxl (a tenth of a second)."""
    if "openpyxl" not in sys.modules:
        if os.environ.get("OPENPYXL_DEFUSEDXML", "True") != "True":
            raise SecurityError("openpyxl 未启用 defusedxml，拒绝读取外来表格",
                                hint="请安装 defusedxml 并勿设置 OPENPYXL_DEFUSEDXML=False")
        return  # defusedxml itself is imported by this module
    xml, strings, reader = _openpyxl_parsers()
    if not xml.DEFUSEDXML or not all(getattr(m.iterparse, "__module__", "").startswith("defusedxml")
                                     for m in (strings, reader)):
        raise SecurityError("openpyxl 未启用 defusedxml，拒绝读取外来表格", hint="请安装 defusedxml 并勿设置 OPENPYXL_DEFUSEDXML=False")


_PARSER_MODULES: tuple[Any, Any, Any] | None = None


def _openpyxl_parsers() -> tuple[Any, Any, Any]:
    """openpyxl.xml and the modules whose bound iterparse reads sheets and shared strings (imported once;
    the check above reads their attributes every time)."""
    global _PARSER_MODULES
    if _PARSER_MODULES is None:
        import openpyxl.xml
        from openpyxl.reader import strings
        from openpyxl.worksheet import _reader

        _PARSER_MODULES = (openpyxl.xml, strings, _reader)
    return _PARSER_MODULES


def spreadsheet_format(path: str | os.PathLike) -> str:
    """Check a workbook before it is parsed and say which reader takes it: "xlsx", "ods" or "xls".

    .xlsx and .ods (zip + XML) pass the same size, zip and XML-prolog checks; .xls (binary, no XML) only the
    size check, then calamine, whose failure on an encrypted or damaged file is refused with a message."""
    fmt, zf = open_spreadsheet(path)
    if zf is not None:
        zf.close()
    return fmt


def open_spreadsheet(path: str | os.PathLike) -> tuple[str, zipfile.ZipFile | None]:
    """`spreadsheet_format`, keeping the checked zip open for the reader (the caller closes it)."""
    p = Path(path)
    try:
        size = p.stat().st_size if p.is_file() else 0
    except OSError:
        size = 0
    if 0 < size <= MAX_FILE_BYTES:
        try:
            # a small file (a returned form is a few KB) is read once: the checks below and the reader then see
            # the same bytes, without opening the file again
            data = p.read_bytes() if size <= IN_MEMORY_BYTES else None
            if data is not None:
                head = data[:8]
            else:
                with open(p, "rb") as fh:
                    head = fh.read(8)
        except OSError:
            data, head = None, b""
        if head == _OLE_MAGIC and p.suffix.lower() != ".xlsx":  # an OLE ".xlsx" is a password-protected one
            return "xls", None
        if head.startswith(b"PK\x03\x04"):
            from djctl.io.calamine_read import ODS_MIME

            try:
                zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else p)
            except (zipfile.BadZipFile, OSError, EOFError):
                zf = None  # refused below with the guard's message
            if zf is not None:
                try:
                    ods = "mimetype" in zf.NameToInfo and zf.read("mimetype").strip() == ODS_MIME
                except Exception:  # noqa: BLE001 - as is_ods: not an .ods
                    ods = False
                try:
                    check_workbook_file(path, ods=ods, zf=zf, _seen=(len(data), head) if data is not None else None)
                except BaseException:
                    zf.close()
                    raise
                return ("ods" if ods else "xlsx"), zf
    check_workbook_file(path)
    return "xlsx", None


def check_workbook_file(path: str | os.PathLike, *, ods: bool = False, zf: zipfile.ZipFile | None = None,
                        _seen: tuple[int, bytes] | None = None) -> None:
    """Refuse anything that is not a plain, reasonably sized .xlsx (or .ods), before it is parsed.
    `zf`: the file already opened as a zip (left open)."""
    _assert_defusedxml()
    p = Path(path)
    name = str(path)
    if _seen is not None:  # `zf` holds the file's bytes, read whole: their size and first bytes
        size, head = _seen
    else:
        if not p.is_file():
            raise InputError("文件不存在", path=name)
        size = p.stat().st_size
        head = b""
    if size == 0:
        raise InputError("文件为空（0 字节），不是有效的 .xlsx 工作簿", path=name)
    if size > MAX_FILE_BYTES:
        raise InputError(f"文件过大（{size // (1024 * 1024)} MB，上限 {MAX_FILE_BYTES // (1024 * 1024)} MB）", path=name)
    if _seen is None:
        with open(p, "rb") as fh:
            head = fh.read(8)
    if head == _OLE_MAGIC:
        raise InputError("文件是加密的工作簿或旧版 .xls 格式，无法读取",
                         path=name, hint="请取消文件密码，或在 Excel 中「另存为」.xlsx 后再导入")
    if zf is None and not zipfile.is_zipfile(p):  # an open `zf` is a zip already
        suffix = p.suffix.lower()
        hint = "请在 Excel 中「另存为」Excel 工作簿（.xlsx）后再导入"
        if head.startswith(b"PK\x03\x04"):
            raise InputError("工作簿不完整（zip 文件被截断，可能未完整传输或下载）", path=name,
                             hint="请让报送单位重新发送原文件")
        if suffix == ".csv":
            raise InputError("文件是 .csv，不是 .xlsx 工作簿", path=name, hint=hint)
        raise InputError("文件不是有效的 .xlsx 工作簿（不是 zip 格式，可能已损坏）", path=name, hint=hint)
    try:
        with (nullcontext(zf) if zf is not None else zipfile.ZipFile(p)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise SecurityError(f"工作簿内部文件过多（{len(infos)} 个，上限 {MAX_MEMBERS}），拒绝读取", path=name)
            total = 0
            names = set()
            for info in infos:
                names.add(info.filename)
                total += info.file_size
                if info.file_size > MAX_MEMBER_UNCOMPRESSED or total > MAX_TOTAL_UNCOMPRESSED:
                    raise SecurityError("工作簿解压后体积过大（疑似压缩炸弹），拒绝读取", path=name)
                if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise SecurityError(
                        f"工作簿内部文件「{info.filename}」压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍，疑似压缩炸弹），拒绝读取", path=name)
                if info.flag_bits & 0x1:
                    raise InputError("工作簿内部文件已加密，无法读取", path=name)
            if ods:
                from djctl.io.calamine_read import check_ods_zip

                check_ods_zip(zf, name)
            elif "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise InputError("文件是 zip 但不是 Excel 工作簿（缺少 xl/ 内容）", path=name,
                                 hint="请确认上传的是 .xlsx 文件，而不是 .docx 或其他压缩包")
            else:
                for info in infos:
                    if info.filename.lower().rpartition("/")[2] == "sharedstrings.xml":
                        _check_string_count(zf, info, name)
            for info in infos:  # every part but images: content types may give an XML part any name
                if not info.is_dir() and not info.filename.startswith("xl/media/") \
                        and not info.filename.lower().endswith(_IMAGE_SUFFIXES):
                    # a part the same to the byte as one that passed already (io/zip_read.py) passes
                    key = zip_read.part_key(zf, info)
                    if zip_read.passed(key):
                        continue
                    _check_part(zf, info, name, key[3] if key else None)
                    zip_read.mark_passed(key)
    except zipfile.BadZipFile as exc:
        raise InputError(f"工作簿已损坏（zip 结构错误：{exc}）", path=name,
                         hint="文件可能未完整传输，请让报送单位重新发送") from exc
    except EOFError as exc:
        raise InputError("工作簿已损坏（内容被截断）", path=name, hint="文件可能未完整传输，请让报送单位重新发送") from exc
    except zlib.error as exc:
        raise InputError("工作簿已损坏（内部数据无法解压）", path=name, hint="文件可能未完整传输，请让报送单位重新发送") from exc
    except NotImplementedError as exc:  # zipfile: an unknown compression method or flag (patched data, …)
        raise InputError(f"工作簿已损坏或使用了不支持的压缩方式（{exc}）", path=name,
                         hint="请在 Excel 中「另存为」Excel 工作簿（.xlsx）后再导入") from exc


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, raw: bytes | None) -> None:
    """One part's prolog: no DTD or entity declaration before its root element (raises). `raw`: the part's
    stored bytes when already read."""
    head = _member_head(zf, info, raw)
    if head is not None and _reaches_root(head):
        # the usual case: its first bytes settle it (the bytes zf.open gives first)
        _check_prolog(zf, info, name, head)
        if _defused_prolog(_EMPTY, head, name):
            return
    with zf.open(info) as fh:
        chunk = _prolog_bytes(fh)
        _check_prolog(zf, info, name, chunk)
        _defused_prolog(fh, chunk, name)


_FIRST_READ = 2048

#: a uniqueCount attribute (any quoting, spaces around "=") and its number
_UNIQUE_COUNT = re.compile(rb"uniqueCount\s*=\s*[\"']\+?0*([0-9]+)[\"']")
STRING_COUNT_SLACK = 100_000


def _check_string_count(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """calamine reserves room for as many strings as the shared-string table's uniqueCount says before it
    reads one: a small part claiming 10^12 strings made it ask for 24 TB and abort the process. A count
    beyond what the part can hold (two per "si" in it, and some slack for writers that miscount) is refused.
    The whole part is read (in chunks), as calamine reads it."""
    declared, elements = 0, 0
    with zf.open(info) as fh:
        first = fh.read(_FIRST_READ)
        utf16 = first.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"))
        if utf16:  # a UTF-16 part (rare): searched as UTF-8 text
            chunks: Any = iter([_as_utf8(first + fh.read())])
        else:
            chunks = _chunked(fh, first)
        for chunk in chunks:
            elements += chunk.count(b"si")
            for value in _UNIQUE_COUNT.findall(chunk):
                declared = max(declared, int(value) if len(value) <= 18 else 10 ** 18)
    if declared > 2 * elements + STRING_COUNT_SLACK:
        raise SecurityError(f"工作簿内部文件「{info.filename}」声明了 {declared} 个共享字符串，与其内容不符，拒绝读取",
                            path=name, hint="文件可能被改动过或已损坏；请在办公软件中打开并「另存为」后再导入")


def _chunked(fh: Any, first: bytes, size: int = 1 << 20) -> Any:
    """The part in chunks that overlap by 64 bytes, so that no attribute is split between two."""
    carry = b""
    chunk = first
    while chunk:
        buf = carry + chunk
        yield buf
        carry = buf[-64:]
        chunk = fh.read(size)


def _reaches_root(chunk: bytes) -> bool:
    """Whether `chunk` gets past the prolog (declaration, comments, processing instructions) to what follows
    it: a root element's start, or something that is not XML at all."""
    text = _as_utf8(chunk)
    rest = text[_PROLOG_MISC.match(text).end():]
    return len(rest) >= 2 and not rest.startswith((b"<!", b"<?"))


def _prolog_bytes(fh: Any) -> bytes:
    """A part's first bytes, enough to reach its root element: 2 KB, more (up to PROLOG_SCAN) only while
    declarations, comments or processing instructions fill what was read (the sheet XML of a form is tens of
    KB; decompressing all of it for its prolog was most of the guard's time)."""
    chunk = fh.read(_FIRST_READ)
    while len(chunk) < PROLOG_SCAN:
        if _reaches_root(chunk):
            break  # a root element's start (or not XML at all): the scan and expat need nothing more
        more = fh.read(min(len(chunk), PROLOG_SCAN - len(chunk)))
        if not more:
            break
        chunk += more
    return chunk


def _check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, chunk: bytes) -> None:
    """No DTD, no entity declarations before the root element (XXE and billion-laughs).

    Comments and processing instructions are skipped as a whole (a comment may contain "<a"), and a
    UTF-16 part is decoded first, so neither hides a DOCTYPE from this scan. `chunk`: the part's first bytes.
    """
    text = _as_utf8(chunk)
    rest = text[_PROLOG_MISC.match(text).end():]
    if not rest and len(chunk) >= PROLOG_SCAN:
        raise SecurityError(f"工作簿内部文件「{info.filename}」开头异常（超长声明），拒绝读取", path=name)
    if rest.startswith(b"<!"):
        raise SecurityError(f"工作簿内部文件「{info.filename}」含有 DTD/实体声明（可能是 XML 炸弹或外部实体攻击），拒绝读取", path=name)


_PROLOG_MISC = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_UTF16 = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"))


def _as_utf8(chunk: bytes) -> bytes:
    """The scanned bytes as UTF-8 (BOM dropped); UTF-16 parts are decoded."""
    if chunk.startswith(b"\xef\xbb\xbf"):
        return chunk[3:]
    for bom, codec in _UTF16:
        if chunk.startswith(bom):
            body = chunk[2:] if bom[0] in (0xFF, 0xFE) else chunk
            return body[: len(body) // 2 * 2].decode(codec, errors="replace").encode("utf-8")
    return chunk


def _defused_prolog(fh: Any, chunk: bytes, name: str) -> bool:
    """The second wall, independent of the byte scan above: the part goes through expat with defusedxml's
    refusals (entity declarations, external references) up to its root element; declarations can stand
    nowhere else, so nothing after it needs parsing. Not-XML parts (printer settings, VBA) are skipped.
    False when `fh` ran out before the root element (nothing refused, nothing settled either)."""
    if not chunk.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00").startswith(b"<"):
        return True

    def entity(name_: str, is_pe: bool, value: Any, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
        raise EntitiesForbidden(name_, value, base, sysid, pubid, notation)

    def unparsed(name_: str, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
        raise EntitiesForbidden(name_, None, base, sysid, pubid, notation)

    def external(context: Any, base: Any, sysid: Any, pubid: Any) -> None:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    def root(*_: Any) -> None:
        raise _RootReached

    parser = expat.ParserCreate()
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = unparsed
    parser.ExternalEntityRefHandler = external
    parser.StartElementHandler = root
    try:
        while chunk:
            parser.Parse(chunk, False)
            chunk = fh.read(PROLOG_SCAN)
    except _RootReached:
        return True
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise SecurityError("工作簿含有不安全的 XML 内容（DTD/实体声明），拒绝读取", path=name) from exc
    except expat.ExpatError:
        return True  # not well-formed: the reader refuses it with its own message
    return False


class _Empty:
    """A part with nothing more to read (`_defused_prolog` on the first bytes alone)."""

    @staticmethod
    def read(_size: int = -1) -> bytes:
        return b""


_EMPTY = _Empty()


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes | None = None) -> bytes | None:
    """A part's first bytes (up to _FIRST_READ) straight from the archive, without zipfile's ZipExtFile (a tenth
    of a millisecond a part, ten parts a form): `zip_read.head`. None: the caller reads the part through
    zf.open, which refuses what is wrong with it."""
    return zip_read.head(zf, info, _FIRST_READ, raw)


class _RootReached(Exception):
    pass
