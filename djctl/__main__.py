"""Entry point: `djctl` and `python -m djctl`."""

from __future__ import annotations


def main() -> None:
    from djctl.cli import app

    app(prog_name="djctl")


if __name__ == "__main__":
    main()
