"""Creating the store and keeping one scheme per year."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from djctl.domain.scheme import Scheme, SchemeError, parse_scheme
from djctl.errors import InputError, Problem, no_scheme
from djctl.resources import DEFAULT_SCHEME, data_path
from djctl.store.engine import Store, now
from djctl.store.tables import Scheme as SchemeRow


def read_scheme_file(path: Path | None) -> tuple[str, Scheme, str]:
    """(text, scheme, name) from a file, or the default scheme shipped in the package."""
    p = path or data_path(DEFAULT_SCHEME)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("方案文件不存在", path=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("方案文件不是 UTF-8 编码的文本", path=str(p)) from None
    except OSError as exc:  # a directory, no permission, a device
        raise InputError(f"方案文件无法读取（{exc.strerror or exc.__class__.__name__}）", path=str(p)) from None
    return text, check_scheme_text(text, str(p)), str(p)


def check_scheme_text(text: str, name: str) -> Scheme:
    try:
        return parse_scheme(text)
    except SchemeError as exc:
        raise InputError("考核方案有错误", path=name,
                         problems=[Problem(f"{key}：{msg}") for key, msg in exc.problems]) from None


@dataclass
class InitResult:
    store: str
    year: int
    scheme: str
    status: str  # created / unchanged / replaced


def init_store(store: Store, scheme_path: Path | None = None, *, replace: bool = False) -> InitResult:
    text, scheme, name = read_scheme_file(scheme_path)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with store.write() as uow:
        row = uow.session.exec(select(SchemeRow).where(SchemeRow.year == scheme.year)).first()
        if row is not None and row.sha256 == sha:
            return InitResult(store.describe(), scheme.year, scheme.name, "unchanged")
        if row is not None and not replace:
            raise InputError(f"{scheme.year} 年度已有考核方案「{row.name}」，与该文件不同", path=name,
                             hint="确需替换请加 --replace（旧方案保留在审计日志中）")
        if row is None:
            uow.session.add(SchemeRow(year=scheme.year, name=scheme.name, toml=text, sha256=sha, created_at=now()))
            status = "created"
            old = None
        else:
            old = {"sha256": row.sha256, "toml": row.toml}
            row.name, row.toml, row.sha256, row.created_at = scheme.name, text, sha, now()
            uow.session.add(row)
            status = "replaced"
        payload = {"year": scheme.year, "sha256": sha, "toml": text, "previous": old}
        if old is not None:  # the spot-check rules may have changed: the checked months' stored results follow
            from djctl.services.scores import refresh_checked_results

            payload["results_refreshed"] = refresh_checked_results(uow.conn, scheme)
        uow.audit("scheme.set", payload)
    return InitResult(store.describe(), scheme.year, scheme.name, status)


def load_scheme(session, year: int) -> Scheme:
    row = session.exec(select(SchemeRow).where(SchemeRow.year == year)).first()
    if row is None:
        raise no_scheme(year)
    return parse_scheme(row.toml)


def scheme_years(session) -> list[int]:
    return [r.year for r in session.exec(select(SchemeRow).order_by(SchemeRow.year))]


def show_scheme(store: Store, year: int | None) -> Scheme:
    with store.read() as uow:
        years = scheme_years(uow.session)
        if not years:
            raise no_scheme()
        return load_scheme(uow.session, year or years[-1])


def _stored_scheme_text(store: Store, year: int) -> str:
    with store.read() as uow:
        row = uow.session.exec(select(SchemeRow).where(SchemeRow.year == year)).first()
    if row is None:
        raise no_scheme(year)
    return row.toml


def new_scheme_text(year: int, base_text: str, base_year: int, source: str) -> str:
    """A scheme for `year` made from another year's text: its comments kept, the year and the names moved on."""
    import re

    if year == base_year:
        raise InputError(f"新方案的年度与来源方案相同（{year}）", hint="用 --year 给出新的年度，如下一年")
    lines = base_text.splitlines()
    out: list[str] = []
    section = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped
        if section == "[scheme]" and re.match(r"^\s*year\s*=", line):
            line = re.sub(r"=\s*\d+", f"= {year}", line, count=1)
        elif stripped.startswith("#") or (section == "[scheme]" and re.match(r"^\s*name\s*=", line)):
            line = line.replace(f"{base_year}年度", f"{year}年度").replace(f"{base_year} 年度", f"{year} 年度")
        out.append(line)
    head = [f"# 由 djctl scheme new 从{source}生成，供 {year} 年度修改使用。",
            "# 改完后：djctl scheme check 本文件（校验）→ djctl init --scheme 本文件（载入数据库，已有的年度不受影响）。",
            ""]
    text = "\n".join(head + out) + "\n"
    check_scheme_text(text, f"{year} 年度新方案")
    return text


def write_new_scheme(store_or_none, year: int, from_year: int | None, out: Path) -> tuple[Path, str]:
    """Write a commented scheme for `year` to `out` (refusing to overwrite); from the stored `from_year`'s
    scheme, or the built-in one. Returns (path, description of the source)."""
    import os

    if out.exists():
        raise InputError("文件已存在，不会覆盖", path=str(out), hint="请换一个文件名，或先删除旧文件")
    if from_year is None:
        base = data_path(DEFAULT_SCHEME).read_text(encoding="utf-8")
        base_year = parse_scheme(base).year
        source = f"内置的 {base_year} 年度方案"
    else:
        if store_or_none is None:
            raise no_scheme(from_year)
        base = _stored_scheme_text(store_or_none, from_year)
        base_year = from_year
        source = f"数据库中的 {from_year} 年度方案"
    text = new_scheme_text(year, base, base_year, source)
    tmp = out.with_name(out.name + ".partial")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return out, source
