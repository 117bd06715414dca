"""Reproducible Lambda deployment packages: the same source gives the same zip, byte for byte.

Importable without Ansible; the filter in ``plugins/filter/package.py`` turns ``ValueError``
into ``AnsibleFilterError``.

What makes the zip reproducible:

- entries sorted by their archive path (``/``-separated), sources and dependencies together;
- every entry dated 1980-01-01 00:00:00 (the zip epoch), made on "unix", mode 0644;
- no directory entries, no ``__pycache__``, compiled files, hidden files or tests;
- entries deflated by ``deflate.py``, a DEFLATE encoder in plain Python whose every choice (matches,
  blocks, Huffman codes) is fixed, not by zlib: zlib's output differs between builds and versions
  (zlib, zlib-ng such as Fedora's zlib-ng-compat or CPython 3.14 on Windows), so two controllers would
  build other bytes, another ``CodeSha256``, and redeploy each other's functions. Python's ``zipfile``
  only deflates through zlib, so the archive (local headers, central directory, end record) is written
  here: no extra fields, no data descriptors, no Zip64 (a package past 4 GiB or 65535 files is an error),
  CRC-32 from ``zlib.crc32`` (a checksum, the same on every build).

Dependencies: a top-level ``requirements.txt`` in the source directory is installed with
``python -m pip install --target <temporary directory>`` for the Lambda platform
(``--platform manylinux2014_aarch64`` or ``manylinux2014_x86_64``, ``--implementation cp``,
``--python-version 3.12``, ``--abi cp312``, ``--only-binary=:all:``: wheels only, nothing is built
on this machine), run in the source directory so that relative paths in the file resolve there.
The file goes to pip unchanged and is not packaged: its options (``--no-index``, ``--find-links``,
``--hash``) are pip's business, and pinned versions with hashes make the dependencies reproducible.
Left out of the installed tree, on top of the exclusions above, is what differs between machines
or is useless at run time: ``bin/`` (console scripts carry the local interpreter's path),
``*.dist-info/RECORD`` and ``*.dist-info/direct_url.json``. A dependency file whose archive path is
also a source file's is an error, not a silent overwrite.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import deflate

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
# The zip fields of FIXED_DATE_TIME (MS-DOS format), the "unix" system and the version that knows deflate.
DOS_DATE = (FIXED_DATE_TIME[0] - 1980) << 9 | FIXED_DATE_TIME[1] << 5 | FIXED_DATE_TIME[2]
DOS_TIME = FIXED_DATE_TIME[3] << 11 | FIXED_DATE_TIME[4] << 5 | FIXED_DATE_TIME[5] // 2
UNIX = 3
ZIP_VERSION = 20
DEFLATED = 8
UTF8_FLAG = 0x800
LOCAL_SIGNATURE = 0x04034B50
CENTRAL_SIGNATURE = 0x02014B50
END_SIGNATURE = 0x06054B50
ZIP_MAX_SIZE = 0xFFFFFFFF
ZIP_MAX_ENTRIES = 0xFFFF
EXCLUDED_DIRECTORIES = {"__pycache__", "tests", "test"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}

REQUIREMENTS_FILE = Path("requirements.txt")
LAMBDA_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_ABI = "cp312"
EXCLUDED_DIST_INFO_FILES = {"RECORD", "direct_url.json"}
PIP_ERROR_LINES = 10

# (path in the archive, file on disk)
Entry = tuple[str, Path]


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
    module, _dot, function = handler.rpartition(".")
    if not module or not function:
        raise ValueError(f"handlers: '{handler}' is not of the form module.function")
    return Path(*module.split(".")).with_suffix(".py")


def lambda_platform(architecture: str) -> str:
    """``arm64`` -> ``manylinux2014_aarch64``, the pip platform tag of the Lambda architecture."""
    if architecture not in LAMBDA_PLATFORMS:
        raise ValueError(f"architecture: expected one of {', '.join(LAMBDA_PLATFORMS)}, got {architecture!r}")
    return LAMBDA_PLATFORMS[architecture]


def pip_install_command(requirements: Path, target: Path, platform: str) -> list[str]:
    return [
        sys.executable,
        *("-m", "pip", "install", "--target", str(target), "--requirement", str(requirements)),
        *("--no-compile", "--disable-pip-version-check", "--no-input", "--only-binary=:all:"),
        *("--platform", platform, "--implementation", "cp"),
        *("--python-version", LAMBDA_PYTHON_VERSION, "--abi", LAMBDA_ABI),
    ]


def install_requirements(source_dir: Path, target: Path, platform: str) -> None:
    """Install ``source_dir/requirements.txt`` into ``target`` for ``platform``, running pip in ``source_dir``."""
    command = pip_install_command(source_dir / REQUIREMENTS_FILE, target, platform)
    result = subprocess.run(command, cwd=source_dir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_lines = "\n".join(result.stderr.strip().splitlines()[-PIP_ERROR_LINES:])
        status = result.returncode
        raise ValueError(f"requirements.txt: pip install failed for {platform} (exit {status}):\n{last_lines}")


def dependency_files(target: Path) -> list[Path]:
    """The installed files that go into the package, sorted by their path relative to ``target``."""
    return [relative for relative in package_files(target) if not _machine_specific(relative)]


def _machine_specific(relative: Path) -> bool:
    parts = relative.parts
    if parts[0] == "bin":
        return True
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in EXCLUDED_DIST_INFO_FILES


def installed_distributions(target: Path) -> list[str]:
    """``name-version`` of each distribution installed in ``target``, from its ``*.dist-info`` directory."""
    return sorted(path.name.removesuffix(".dist-info") for path in target.glob("*.dist-info") if path.is_dir())


def entries(root: Path, files: list[Path]) -> list[Entry]:
    return [(relative.as_posix(), root / relative) for relative in files]


def merged_entries(sources: list[Entry], dependencies: list[Entry]) -> list[Entry]:
    """Sources and dependencies sorted together by archive path; a path in both is an error."""
    source_paths = {path for path, _file in sources}
    clashes = sorted(path for path, _file in dependencies if path in source_paths)
    if clashes:
        raise ValueError(f"requirements.txt: dependencies install files the source also holds: {', '.join(clashes)}")
    return sorted(sources + dependencies, key=lambda entry: entry[0])


def build_zip(archive_entries: list[Entry]) -> bytes:
    """Deflate each ``(archive path, file)`` in that order into a zip with fixed date, system and mode."""
    local_parts = []
    central_parts = []
    offset = 0
    for archive_path, file in archive_entries:
        content = file.read_bytes()
        member = ZipMember(archive_path, content, deflate.compress(content), offset)
        local = member.local_header() + member.compressed
        local_parts.append(local)
        central_parts.append(member.central_header())
        offset += len(local)
    central = b"".join(central_parts)
    count = len(archive_entries)
    if count > ZIP_MAX_ENTRIES or offset + len(central) > ZIP_MAX_SIZE:
        raise ValueError(f"package: {count} files in {offset + len(central)} bytes need Zip64, which is not written")
    end = struct.pack("<IHHHHIIH", END_SIGNATURE, 0, 0, count, count, len(central), offset, 0)
    return b"".join(local_parts) + central + end


class ZipMember:
    """One deflated file of the zip: its local header and its central directory header (APPNOTE 4.3.7, 4.3.12)."""

    def __init__(self, archive_path: str, content: bytes, compressed: bytes, offset: int) -> None:
        self.name = archive_path.encode("utf-8")
        # Bit 11: the name is UTF-8, set only when it is not ASCII (as zipfile does).
        self.flags = 0 if archive_path.isascii() else UTF8_FLAG
        self.crc = zlib.crc32(content)
        self.size = len(content)
        self.compressed = compressed
        self.offset = offset
        if max(self.size, len(compressed), offset) > ZIP_MAX_SIZE:
            raise ValueError(f"package: {archive_path} ({self.size} bytes) needs Zip64, which is not written")

    def _common(self) -> bytes:
        """Version needed to extract .. file name length, the fields both headers share."""
        return struct.pack(
            "<HHHHHIIIH",
            ZIP_VERSION,
            self.flags,
            DEFLATED,
            DOS_TIME,
            DOS_DATE,
            self.crc,
            len(self.compressed),
            self.size,
            len(self.name),
        )

    def local_header(self) -> bytes:
        return struct.pack("<I", LOCAL_SIGNATURE) + self._common() + struct.pack("<H", 0) + self.name

    def central_header(self) -> bytes:
        made_by = struct.pack("<IH", CENTRAL_SIGNATURE, UNIX << 8 | ZIP_VERSION)
        # Extra field and comment lengths, disk number, internal and external attributes, local header offset.
        tail = struct.pack("<HHHHII", 0, 0, 0, 0, FILE_MODE << 16, self.offset)
        return made_by + self._common() + tail + self.name


def checked_source_dir(source_dir: str) -> Path:
    if not isinstance(source_dir, str) or not source_dir:
        raise ValueError(f"source_dir: expected a directory path, got {source_dir!r}")
    root = Path(source_dir)
    if not root.is_dir():
        raise ValueError(f"source_dir: '{source_dir}' is not a directory")
    return root


def checked_source_files(root: Path, handlers: list[str] | None) -> list[Path]:
    """The source files to package (``requirements.txt`` aside), holding Python and every handler's module."""
    files = [relative for relative in package_files(root) if relative != REQUIREMENTS_FILE]
    if not any(relative.suffix == ".py" for relative in files):
        raise ValueError(f"source_dir: '{root}' holds no Python file to package")
    missing = [handler for handler in handlers or [] if handler_file(handler) not in files]
    if missing:
        raise ValueError(f"handlers: no module file in '{root}' for {', '.join(missing)}")
    return files


def zip_with_dependencies(root: Path, sources: list[Entry], platform: str) -> tuple[bytes, list[Entry], list[str]]:
    """Install ``requirements.txt`` in a temporary directory and zip it with ``sources``."""
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as temporary:
        target = Path(temporary)
        install_requirements(root, target, platform)
        archive_entries = merged_entries(sources, entries(target, dependency_files(target)))
        return build_zip(archive_entries), archive_entries, installed_distributions(target)


def package_result(content: bytes, archive_entries: list[Entry], dependencies: list[str]) -> dict:
    digest = hashlib.sha256(content).digest()
    return {
        "zip_base64": base64.b64encode(content).decode("ascii"),
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode("ascii"),
        "size": len(content),
        "files": [archive_path for archive_path, _file in archive_entries],
        "dependencies": dependencies,
    }


def lambda_package(source_dir: str, handlers: list[str] | None = None, architecture: str = "arm64") -> dict:
    """Zip ``source_dir`` and its ``requirements.txt`` dependencies reproducibly.

    Return base64 content, sha256 (hex and base64), size, file list and installed distributions.
    ``handlers`` (``module.function`` strings) must each have their module file in the source;
    ``architecture`` (``arm64`` or ``x86_64``) selects the platform the dependencies are installed for.
    """
    root = checked_source_dir(source_dir)
    platform = lambda_platform(architecture)
    sources = entries(root, checked_source_files(root, handlers))
    if not (root / REQUIREMENTS_FILE).is_file():
        return package_result(build_zip(sources), sources, [])
    return package_result(*zip_with_dependencies(root, sources, platform))
