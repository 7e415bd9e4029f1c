"""The end of the demo year: a verified backup beside the documents."""

from __future__ import annotations

from typing import Any

from djctl.services.backup import backup, sidecar_path
from djctl.store.engine import Store


def demo_step(store: Store, ctx: Any) -> list[str]:
    """The end of the demo year: a verified backup of the store, with its sidecar, beside the documents."""
    folder = ctx.dir / "备份"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "djctl-demo.db"  # the demo starts from an empty store each run: its backup is replaced too
    for old in (target, sidecar_path(target)):
        old.unlink(missing_ok=True)
    info = backup(store, target)
    return [f"备份：{info.path}（{info.rows} 行数据，审计链头 #{info.head_seq}，已核对完整性、行数与审计链），"
            f"说明文件 {sidecar_path(info.path).name}；恢复：djctl restore {info.path}"]
