"""Make .docx/.xlsx files byte-for-byte reproducible: fixed zip timestamps and document dates."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

from djctl.io.outfile import write_bytes

_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalize_zip(path: Path, on: date) -> None:
    stamp = (max(on.year, 1980), on.month, on.day, 0, 0, 0)
    iso = f"{on.isoformat()}T00:00:00Z".encode()
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m.group(1) + iso + m.group(3), data)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            out.writestr(zi, data)
    write_bytes(path, buf.getvalue())
