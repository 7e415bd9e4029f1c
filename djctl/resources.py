"""Files shipped inside the package: the default scheme, the demo city, the built-in templates."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_dir(name: str) -> Path:
    return Path(str(resources.files("djctl") / name))


def data_path(name: str) -> Path:
    return package_dir("data") / name


def template_path(name: str) -> Path:
    return package_dir("templates") / name


DEFAULT_SCHEME = "scheme-2024.toml"
