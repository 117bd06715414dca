"""Unit tests of the lambda_package filter: reproducible, selective, and strict about bad input."""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.package import FilterModule

LAMBDA_PACKAGE = FilterModule().filters()["lambda_package"]
REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "src"
    (root / "core").mkdir(parents=True)
    (root / "list_tasks.py").write_text("def handler(event, context):\n    return {}\n")
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "store.py").write_text("TABLE = 'x'\n")
    return root


def unzip(package: dict) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(package["zip_base64"])))


def test_package_holds_the_sources_with_fixed_metadata(source):
    package = LAMBDA_PACKAGE(str(source), ["list_tasks.handler"])
    archive = unzip(package)
    assert archive.namelist() == ["core/__init__.py", "core/store.py", "list_tasks.py"]
    for entry in archive.infolist():
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644
    assert archive.read("core/store.py") == b"TABLE = 'x'\n"
    raw = base64.b64decode(package["zip_base64"])
    assert package["sha256"] == hashlib.sha256(raw).hexdigest()
    assert base64.b64decode(package["code_sha256"]) == hashlib.sha256(raw).digest()
    assert package["size"] == len(raw)


def test_caches_hidden_files_and_tests_are_left_out(source):
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "list_tasks.cpython-312.pyc").write_bytes(b"\0")
    (source / "core" / "store.pyc").write_bytes(b"\0")
    (source / ".env").write_text("SECRET=1\n")
    (source / "tests").mkdir()
    (source / "tests" / "helper.py").write_text("")
    (source / "test_list.py").write_text("")
    assert LAMBDA_PACKAGE(str(source))["files"] == ["core/__init__.py", "core/store.py", "list_tasks.py"]


def test_same_source_in_another_directory_with_other_timestamps_gives_the_same_hash(source, tmp_path):
    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(source, copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        if path.is_file():
            path.chmod(0o600)
    assert LAMBDA_PACKAGE(str(copy))["sha256"] == LAMBDA_PACKAGE(str(source))["sha256"]


def test_a_one_byte_change_changes_the_hash(source):
    before = LAMBDA_PACKAGE(str(source))["sha256"]
    (source / "core" / "store.py").write_text("TABLE = 'y'\n")
    assert LAMBDA_PACKAGE(str(source))["sha256"] != before


def test_two_clones_of_the_repository_build_the_same_package(tmp_path):
    """The zip built on two checkouts in different directories has the same sha256."""
    if not (REPO_ROOT / ".git").exists() or not list((REPO_ROOT / "lambda_src").glob("*.py")):
        pytest.skip("needs a git checkout with lambda_src/")
    hashes = []
    for name in ("one", "two/nested"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
        script = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from ansible_collections.serverless.tasks_api.plugins.plugin_utils import package; "
            "print(package.lambda_package(sys.argv[2])['sha256'])"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, str(clone / "collections"), str(clone / "lambda_src")],
            capture_output=True,
            text=True,
            check=True,
            cwd=clone,
        )
        hashes.append(result.stdout.strip())
    assert hashes[0] == hashes[1] and len(hashes[0]) == 64


@pytest.mark.parametrize(
    ("make_source", "handlers", "expected"),
    [
        (lambda root: root / "missing", [], "is not a directory"),
        (lambda root: root, [], "holds no Python file"),
        (lambda root: (root / "README.md").write_text("x") and root, [], "holds no Python file"),
    ],
)
def test_bad_source_directories_are_named(tmp_path, make_source, handlers, expected):
    source_dir = make_source(tmp_path)
    with pytest.raises(AnsibleFilterError, match=f"lambda_package: source_dir: .*{expected}"):
        LAMBDA_PACKAGE(str(source_dir), handlers)


def test_a_missing_handler_module_is_named(source):
    with pytest.raises(AnsibleFilterError, match=r"handlers: no module file .* for get_task\.handler"):
        LAMBDA_PACKAGE(str(source), ["list_tasks.handler", "get_task.handler"])


def test_a_handler_without_a_function_is_rejected(source):
    with pytest.raises(AnsibleFilterError, match=r"not of the form module\.function"):
        LAMBDA_PACKAGE(str(source), ["list_tasks"])


@pytest.fixture
def fixed_tree(tmp_path):
    """A small tree whose zip holds stored, fixed and dynamic Huffman blocks."""
    root = tmp_path / "fixed"
    (root / "core").mkdir(parents=True)
    (root / "handler.py").write_text(
        "".join(f"def handler_{n}(event, context):\n    return {{'statusCode': {200 + n % 3}}}\n\n" for n in range(40))
    )
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "x.py").write_text("X = 1\n")
    (root / "core" / "noise.bin").write_bytes(b"".join(hashlib.sha256(bytes([n])).digest() for n in range(8)))
    return root


def test_entries_are_deflated_and_read_back_equal(fixed_tree):
    package = LAMBDA_PACKAGE(str(fixed_tree))
    archive = unzip(package)
    assert archive.testzip() is None
    assert archive.namelist() == ["core/__init__.py", "core/noise.bin", "core/x.py", "handler.py"]
    for entry in archive.infolist():
        assert entry.compress_type == zipfile.ZIP_DEFLATED
        assert (entry.date_time, entry.create_system, entry.external_attr >> 16) == ((1980, 1, 1, 0, 0, 0), 3, 0o100644)
        assert archive.read(entry) == (fixed_tree / entry.filename).read_bytes()
    assert archive.getinfo("handler.py").compress_size < archive.getinfo("handler.py").file_size / 4


def test_the_zip_of_a_fixed_tree_is_pinned(fixed_tree):
    """The same bytes on every controller: the deflate encoder is ours, not the local zlib build."""
    first, second = LAMBDA_PACKAGE(str(fixed_tree)), LAMBDA_PACKAGE(str(fixed_tree))
    assert first["zip_base64"] == second["zip_base64"]
    assert first["sha256"] == "5f88897717bd0e95b874279331c076e33e73c1add343e6c2a2affa33e11f0a9f"


def test_the_lambda_src_package_is_at_most_20_kib():
    if not list((REPO_ROOT / "lambda_src").glob("*.py")):
        pytest.skip("needs lambda_src/")
    started = time.perf_counter()
    package = LAMBDA_PACKAGE(str(REPO_ROOT / "lambda_src"))
    elapsed = time.perf_counter() - started
    sources = sum((REPO_ROOT / "lambda_src" / name).stat().st_size for name in package["files"])
    print(f"lambda_src: {sources} bytes of sources, zip {package['size']} bytes, built in {elapsed * 1000:.0f} ms")
    assert package["size"] <= 20_480
    assert unzip(package).testzip() is None


def test_a_non_ascii_name_is_flagged_utf8(source):
    (source / "données.txt").write_text("é\n")
    archive = unzip(LAMBDA_PACKAGE(str(source)))
    entry = archive.getinfo("données.txt")
    assert entry.flag_bits & 0x800
    assert archive.read(entry) == "é\n".encode()
    assert not archive.getinfo("list_tasks.py").flag_bits & 0x800
