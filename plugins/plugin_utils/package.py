"""Reproducible Lambda deployment packages: the same source gives the same zip, byte for byte.

Importable without Ansible; the filter in ``plugins/filter/package.py`` turns ``ValueError``
into ``AnsibleFilterError``.

What makes the zip reproducible:

- entries sorted by their path (``/``-separated, relative to the source directory);
- every entry dated 1980-01-01 00:00:00 (the zip epoch), made on "unix", mode 0644;
- no directory entries, no ``__pycache__``, compiled files, hidden files or tests;
- entries stored, not deflated: deflate output differs between zlib builds (zlib, zlib-ng),
  stored bytes do not. Handler code is small, so the package stays small.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXCLUDED_DIRECTORIES = {"__pycache__", "tests", "test"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def package_files(source_dir: Path) -> list[Path]:
    """Return the files that go into the package, sorted by their relative path."""
    files = []
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if not path.is_file() or _excluded(relative):
            continue
        files.append(relative)
    return sorted(files, key=lambda relative: relative.as_posix())


def _excluded(relative: Path) -> bool:
    parts = relative.parts
    if any(part.startswith(".") for part in parts) or any(part in EXCLUDED_DIRECTORIES for part in parts[:-1]):
        return True
    name = parts[-1]
    return relative.suffix in EXCLUDED_SUFFIXES or name.startswith("test_") or name.endswith("_test.py")


def handler_file(handler: str) -> Path:
    """``tasks.list.handler`` -> ``tasks/list.py``."""
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise ValueError(f"handlers: '{handler}' is not of the form module.function")
    return Path(*module.split(".")).with_suffix(".py")


def build_zip(source_dir: Path, files: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for relative in files:
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=FIXED_DATE_TIME)
            entry.create_system = 3
            entry.external_attr = FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, (source_dir / relative).read_bytes())
    return buffer.getvalue()


def lambda_package(source_dir: str, handlers: list[str] | None = None) -> dict:
    """Zip ``source_dir`` reproducibly; return base64 content, sha256 (hex and base64), size and file list.

    ``handlers`` (``module.function`` strings) must each have their module file in the package.
    """
    if not isinstance(source_dir, str) or not source_dir:
        raise ValueError(f"source_dir: expected a directory path, got {source_dir!r}")
    root = Path(source_dir)
    if not root.is_dir():
        raise ValueError(f"source_dir: '{source_dir}' is not a directory")
    files = package_files(root)
    if not any(relative.suffix == ".py" for relative in files):
        raise ValueError(f"source_dir: '{source_dir}' holds no Python file to package")
    missing = [handler for handler in handlers or [] if handler_file(handler) not in files]
    if missing:
        raise ValueError(f"handlers: no module file in '{source_dir}' for {', '.join(missing)}")
    content = build_zip(root, files)
    digest = hashlib.sha256(content).digest()
    return {
        "zip_base64": base64.b64encode(content).decode("ascii"),
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode("ascii"),
        "size": len(content),
        "files": [relative.as_posix() for relative in files],
    }
