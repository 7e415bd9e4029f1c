"""Entry point: `djctl` and `python -m djctl`."""

from __future__ import annotations


def main() -> None:
    import os
    import sys

    from djctl.cli._output import safe_streams

    safe_streams()  # a GBK or ASCII console replaces what it cannot show instead of crashing
    try:
        from djctl.cli import app

        app(prog_name="djctl")
    except Exception as exc:  # a bug outside a command (parsing, loading a command): exit 4, never a traceback
        if os.environ.get("DJCTL_DEBUG") == "1":
            raise
        from djctl.cli._app import INTERNAL_ERROR, report_internal_error

        report_internal_error(exc)
        sys.exit(INTERNAL_ERROR)


if __name__ == "__main__":
    main()
