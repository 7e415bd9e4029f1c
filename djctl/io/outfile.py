"""The one way djctl writes a file (DESIGN §7).

Every output (workbooks, Word, HTML/Markdown, PNG figures, manifests, draw records, backups' side files,
templates) goes through `write_bytes` (or its helpers `write_text`, `save_workbook`, `save_docx`):

- the target is checked first (`check_target`): never the store, its -wal/-shm/-journal, a backup of it
  or any other SQLite database; never a link (refused, the same everywhere); never a directory, a device or
  a read-only file; and, with `inside=`, never outside the folder the user asked for;
- the bytes go to a temporary file in the same folder, are synced, and the file is renamed into place
  (and the folder synced); on any failure the temporary file is removed and what was there stays;
- every output gets the same mode: 0666 less the umask (0644 with the usual umask).

Multi-file runs use `staged_dir`: the files are written into a temporary folder next to `--out` and
moved into place only when every one of them was written, so a run's output is whole or absent.
Failures are named (disk full, read-only, no permission) by `os_failure`, exit code 2 (an output path).
"""

from __future__ import annotations

import contextvars
import errno
import io
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from djctl.errors import InputError

SQLITE_MAGIC = b"SQLite format 3\x00"
STORE_SUFFIXES = ("-wal", "-shm", "-journal")
_PROTECTED: set[str] = set()
# inside staged_dir: the per-file fsync is replaced by one sync of the whole folder before it moves into place
_DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar("djctl_outfile_deferred", default=False)  # resolved store paths of this process (the --db of the command, open stores)


class OutputError(InputError):
    """An output path refused or a write that failed: exit code 2, nothing (new) left behind."""


def protect(path: str | os.PathLike) -> None:
    """Name a store path that no output may ever replace (called for --db and every store opened)."""
    try:
        _PROTECTED.add(os.path.realpath(path))
    except (OSError, ValueError):
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode of every file djctl writes: 0666 less the umask."""
    return 0o666 & ~_umask()


def _is_sqlite_file(path: str) -> bool:
    # only for files this process has no connection to (protected paths are matched before): closing a
    # descriptor drops this process's POSIX locks on the file, which would break an open SQLite connection
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _is_store(real: str) -> bool:
    if real in _PROTECTED:
        return True
    for p in _PROTECTED:
        try:
            if os.path.exists(p) and os.path.exists(real) and os.path.samefile(p, real):
                return True
        except OSError:
            continue
    return os.path.isfile(real) and _is_sqlite_file(real)


def check_target(path: str | os.PathLike, *, inside: str | os.PathLike | None = None) -> Path:
    """Refuse an output path djctl must not write; return it as a Path."""
    p = Path(path)
    name = p.name
    if not name or name in (".", ".."):
        raise OutputError("输出路径不是文件名", path=str(p))
    if inside is not None:
        base = os.path.realpath(inside)
        real_parent = os.path.realpath(p.parent)
        if os.path.commonpath([base, real_parent]) != base:
            raise OutputError("输出文件会落在指定的输出目录之外，拒绝写入", path=str(p),
                              hint="文件名来自单位、支部或任务编码；请检查编码中是否有路径字符")
    if os.path.islink(p):
        raise OutputError("输出路径是一个符号链接，拒绝写入（不跟随链接，也不替换它）", path=str(p),
                          hint="请删除这个链接或换一个输出路径")
    real = os.path.realpath(p)
    if _is_store(real):
        raise OutputError("输出路径是 djctl 数据库（或它的备份），拒绝覆盖", path=str(p),
                          hint="请换一个输出文件名；数据库只由 djctl 自己写入")
    for suffix in STORE_SUFFIXES:
        if name.endswith(suffix):
            base = real[: -len(suffix)]
            if _is_store(base) or os.path.exists(base):
                raise OutputError(f"输出路径是数据库的 {suffix} 附属文件，拒绝写入", path=str(p),
                                  hint="请换一个输出文件名")
    if os.path.lexists(p):
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            raise OutputError("输出路径是一个目录，不能写成文件", path=str(p), hint="请指定文件名")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError("输出路径不是普通文件（是设备、管道或套接字），拒绝写入", path=str(p))
        if not os.access(p, os.W_OK):
            raise OutputError("输出文件是只读的，不会覆盖", path=str(p), hint="请先去掉只读属性，或换一个文件名")
    return p


def os_failure(exc: OSError, path: str | os.PathLike, *, written: list[Path] | None = None,
               what: str = "写入") -> OutputError:
    """An OSError while writing `path`, named for what it is (Chinese), as an exit-2 error."""
    reason = os_reason(exc)
    hint = {errno.ENOSPC: "请清理磁盘空间后重试；没有留下写了一半的文件",
            errno.EDQUOT: "请清理磁盘空间后重试；没有留下写了一半的文件",
            errno.EFBIG: "请清理磁盘空间或放宽文件大小限制后重试；没有留下写了一半的文件",
            errno.EROFS: "请换一个可写的输出位置",
            errno.EACCES: "请换一个有写权限的输出位置，或检查文件夹权限",
            errno.EPERM: "请换一个有写权限的输出位置，或检查文件夹权限"}.get(exc.errno)
    if hint is None and exc.errno in (errno.EBUSY, errno.ETXTBSY):
        hint = "文件可能正在 Word/Excel 中打开，请关闭后重试"
    msg = f"无法{what}文件：{reason}"
    if written:
        msg += "；此前已写成的文件：" + "、".join(str(w) for w in written)
    return OutputError(msg, path=str(path), hint=hint)


def os_reason(exc: OSError) -> str:
    reasons = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已用完", errno.EFBIG: "超出文件大小限制（磁盘空间不足）",
               errno.EROFS: "只读文件系统", errno.EACCES: "没有权限", errno.EPERM: "没有权限",
               errno.EISDIR: "这是一个目录", errno.ENOTDIR: "路径中有一段不是目录", errno.ENOENT: "路径不存在",
               errno.EEXIST: "已存在", errno.EIO: "输入输出错误", errno.ENAMETOOLONG: "文件名太长",
               errno.ELOOP: "链接层数过多"}
    return reasons.get(exc.errno, exc.strerror or exc.__class__.__name__)


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_dir(folder: str | os.PathLike) -> Path:
    """Create an output folder (and its parents); a failure named for what it is."""
    f = Path(folder)
    if os.path.islink(f) and not f.is_dir():
        raise OutputError("输出目录是一个失效的符号链接", path=str(f))
    try:
        f.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError("输出目录的位置已有一个同名文件", path=str(f)) from exc
    except OSError as exc:
        raise OutputError(f"无法创建输出目录：{os_reason(exc)}", path=str(f)) from exc
    return f


def write_bytes(path: str | os.PathLike, data: bytes, *, inside: str | os.PathLike | None = None,
                written: list[Path] | None = None) -> Path:
    """Write `data` to `path` atomically (temp file in the same folder, fsync, rename); see the module doc."""
    p = check_target(path, inside=inside)
    ensure_dir(p.parent)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".djctl-", suffix=".tmp", dir=p.parent)
        try:
            _write_fd(fd, data)
        finally:
            os.close(fd)
        check_target(p, inside=inside)  # nothing put a link or the store there meanwhile
        os.replace(tmp, p)
        tmp = None
        if not _DEFERRED.get():
            _fsync_dir(str(p.parent))
    except OSError as exc:
        raise os_failure(exc, p, written=written) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return p


def _write_fd(fd: int, data: bytes) -> None:
    """The bytes, the output mode, then fsync: a short write or a full disk raises OSError."""
    os.fchmod(fd, file_mode())
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    if not _DEFERRED.get():
        os.fsync(fd)


def write_text(path: str | os.PathLike, text: str, **kw: Any) -> Path:
    return write_bytes(path, text.encode("utf-8"), **kw)


def save_workbook(wb: Any, path: str | os.PathLike, **kw: Any) -> Path:
    """An openpyxl workbook, saved in memory first (no half-written zip, no ZipFile noise on a full disk)."""
    check_target(path, inside=kw.get("inside"))
    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes(path, buf.getvalue(), **kw)


def save_docx(doc: Any, path: str | os.PathLike, **kw: Any) -> Path:
    """A python-docx / docxtpl document, saved in memory first."""
    check_target(path, inside=kw.get("inside"))
    buf = io.BytesIO()
    doc.save(buf)
    return write_bytes(path, buf.getvalue(), **kw)


# ---------------------------------------------------------------------------- file names

_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f]')


def safe_part(text: str, *, limit: int = 80) -> str:
    """A piece of a file name from a code or a name: NFKC, no controls, bidi or zero-width characters, no
    separators or reserved characters, no leading dots; never empty."""
    from djctl.domain.textclean import strip_invisible

    s = strip_invisible(unicodedata.normalize("NFKC", str(text)))
    s = _UNSAFE_NAME.sub("", s).strip().lstrip(".")
    s = s.replace("..", "_")
    return (s[:limit].rstrip() or "_")


def inside(out_dir: str | os.PathLike, name: str) -> Path:
    """`out_dir / name`, refused (exit 2) unless it resolves inside `out_dir`."""
    target = Path(out_dir) / name
    base = os.path.realpath(out_dir)
    real = os.path.realpath(target)
    if os.path.commonpath([base, real]) != base or real == base:
        raise OutputError("生成的文件名会落在输出目录之外，拒绝写入", path=str(target),
                          hint="文件名来自单位、支部或任务编码；请检查编码中是否有路径字符")
    return target


# ---------------------------------------------------------------------------- multi-file runs


class Staging:
    """A temporary folder next to the final one; `final(path)` maps a staged path to where it will land."""

    def __init__(self, out_dir: Path, tmp: Path) -> None:
        self.out_dir = out_dir
        self.dir = tmp

    def final(self, staged: Path) -> Path:
        return self.out_dir / Path(staged).relative_to(self.dir)


@contextmanager
def staged_dir(out_dir: str | os.PathLike, *, last: str | None = None) -> Iterator[Staging]:
    """Write a multi-file run into a temporary folder beside `out_dir`; move it into place when the block ends.

    When `out_dir` does not exist, the whole folder is renamed into place (atomic). When it exists, each
    file is renamed into it (same file system: a rename cannot fail for lack of space), the file named
    `last` (the manifest) at the very end. On any failure the temporary folder is removed: nothing of the
    run is left behind.
    """
    out = Path(out_dir)
    if os.path.islink(out) and not out.is_dir():
        raise OutputError("输出目录是一个失效的符号链接", path=str(out))
    if out.exists() and not out.is_dir():
        raise OutputError("输出目录的位置已有一个同名文件", path=str(out))
    parent = out.parent if str(out.parent) else Path(".")
    ensure_dir(parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{safe_part(out.name, limit=40)}.djctl-", dir=parent))
    except OSError as exc:
        if not out.is_dir():
            raise os_failure(exc, out, what="创建输出目录") from exc
        try:  # the folder exists but its parent is not writable: stage inside it (files move in the same way)
            tmp = Path(tempfile.mkdtemp(prefix=".djctl-", dir=out))
        except OSError as exc2:
            raise os_failure(exc2, out, what="写入输出目录") from exc2
    token = _DEFERRED.set(True)  # files in the staging folder: one sync for all of them before they move in
    try:
        staging = Staging(out, tmp)
        try:
            yield staging
        finally:
            _DEFERRED.reset(token)
        os.sync()
        _move_into_place(tmp, out, last)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, out: Path, last: str | None) -> None:
    if not out.exists():
        os.chmod(tmp, 0o777 & ~_umask())
        os.rename(tmp, out)
        _fsync_dir(str(out.parent))
        return
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.relative_to(tmp).as_posix() == last)
    moves = [(src, check_target(out / src.relative_to(tmp))) for src in files]  # every target checked first
    for _, dest in moves:
        ensure_dir(dest.parent)
    for src, dest in moves:
        os.replace(src, dest)
    for d in {out / p.parent.relative_to(tmp) for p in files}:
        _fsync_dir(str(d))


def write_many(out_dir: Path, outputs: list[tuple[str, bytes]]) -> list[Path]:
    """Several files into `out_dir`, all or none: each is written to a temporary file first (a full disk
    then leaves nothing new), and only when every one is written are they renamed into place."""
    ensure_dir(out_dir)
    targets = [check_target(inside(out_dir, name), inside=out_dir) for name, _ in outputs]
    temps: list[str] = []
    try:
        for target, (_, data) in zip(targets, outputs):
            try:
                fd, tmp = tempfile.mkstemp(prefix=".djctl-", suffix=".tmp", dir=target.parent)
                temps.append(tmp)
                try:
                    _write_fd(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise os_failure(exc, target) from exc
        for target, tmp in zip(targets, temps):
            check_target(target, inside=out_dir)
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise os_failure(exc, target) from exc
        _fsync_dir(str(out_dir))
    finally:
        for tmp in temps:
            if os.path.exists(tmp):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
    return targets
