"""Unit tests of lambda_package with a requirements.txt: pip installs for Lambda, the zip stays reproducible.

The wheels are built here by hand and found through ``--no-index --find-links``: no network.
"""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.package import FilterModule
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import package

LAMBDA_PACKAGE = FilterModule().filters()["lambda_package"]
PURE_TAG = "py3-none-any"


@pytest.fixture(autouse=True)
def pip_without_local_configuration(monkeypatch):
    """pip sees only what requirements.txt says: no config file, no find-links or index from the environment."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX", "PIP_TARGET"):
        monkeypatch.delenv(name, raising=False)


def record_line(path: str, content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode("ascii")
    return f"{path},sha256={digest},{len(content)}"


def make_wheel(wheels_dir: Path, name: str, files: dict[str, str], tag: str = PURE_TAG) -> Path:
    """Write ``<name>-0.1-<tag>.whl`` holding ``files`` and the dist-info pip needs, with a correct RECORD."""
    dist_info = f"{name}-0.1.dist-info"
    contents = {path: text.encode() for path, text in files.items()}
    contents[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n".encode()
    purelib = "true" if tag == PURE_TAG else "false"
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n".encode()
    )
    contents[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{name} = {name}:main\n".encode()
    record = [record_line(path, content) for path, content in contents.items()] + [f"{dist_info}/RECORD,,"]
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheels_dir.mkdir(parents=True, exist_ok=True)
    wheel = wheels_dir / f"{name}-0.1-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, content in contents.items():
            archive.writestr(path, content)
    return wheel


def make_tinypkg(wheels_dir: Path) -> Path:
    return make_wheel(wheels_dir, "tinypkg", {"tinypkg/__init__.py": "VALUE = 42\n\ndef main():\n    print(VALUE)\n"})


@pytest.fixture
def project(tmp_path):
    """``project/src`` requiring tinypkg from ``project/wheels`` (a relative path, resolved in src)."""
    make_tinypkg(tmp_path / "project" / "wheels")
    source = tmp_path / "project" / "src"
    source.mkdir()
    (source / "app.py").write_text("import tinypkg\n\ndef handler(event, context):\n    return tinypkg.VALUE\n")
    (source / "requirements.txt").write_text("--no-index\n--find-links ../wheels\ntinypkg==0.1\n")
    return source


def unzip(package_result: dict) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(package_result["zip_base64"])))


@pytest.fixture
def installed_trees(monkeypatch):
    """The files pip installed, as seen before the exclusions, one list per packaging."""
    trees = []
    original = package.dependency_files

    def spy(target: Path) -> list[Path]:
        trees.append(sorted(path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()))
        return original(target)

    monkeypatch.setattr(package, "dependency_files", spy)
    return trees


def test_requirements_are_installed_beside_the_sources(project, installed_trees):
    (project / "util.py").write_text("")  # sorts after the dependency: entries are sorted across both
    result = LAMBDA_PACKAGE(str(project), ["app.handler"])
    archive = unzip(result)
    names = archive.namelist()
    assert {"app.py", "util.py", "tinypkg/__init__.py", "tinypkg-0.1.dist-info/METADATA"} <= set(names)
    assert "requirements.txt" not in names
    assert "bin/tinypkg" in installed_trees[0] and "tinypkg-0.1.dist-info/RECORD" in installed_trees[0]
    assert not [name for name in names if name.startswith("bin/") or name.endswith("/RECORD")]
    assert names == sorted(names) == result["files"]
    assert result["dependencies"] == ["tinypkg-0.1"]
    for entry in archive.infolist():
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644
        assert entry.compress_type == zipfile.ZIP_DEFLATED


def test_the_dependency_imports_from_the_zip(project, tmp_path):
    zip_path = tmp_path / "package.zip"
    zip_path.write_bytes(base64.b64decode(LAMBDA_PACKAGE(str(project))["zip_base64"]))
    script = "import sys; sys.path.insert(0, sys.argv[1]); import app; print(app.handler(None, None))"
    result = subprocess.run(
        [sys.executable, "-I", "-c", script, str(zip_path)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.strip() == "42"


def test_two_copies_in_other_directories_build_the_same_package(project, tmp_path):
    copy = tmp_path / "elsewhere" / "deeper" / "project"
    shutil.copytree(project.parent, copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    first, second = LAMBDA_PACKAGE(str(project)), LAMBDA_PACKAGE(str(copy / "src"))
    assert first["sha256"] == second["sha256"]
    assert first["zip_base64"] == second["zip_base64"]


def test_a_wheel_given_by_path_leaves_no_machine_specific_metadata(project, tmp_path, installed_trees):
    (project / "requirements.txt").write_text("--no-index\n../wheels/tinypkg-0.1-py3-none-any.whl\n")
    copy = tmp_path / "other" / "project"
    shutil.copytree(project.parent, copy)
    first, second = LAMBDA_PACKAGE(str(project)), LAMBDA_PACKAGE(str(copy / "src"))
    assert "tinypkg-0.1.dist-info/direct_url.json" in installed_trees[0]
    assert "tinypkg-0.1.dist-info/direct_url.json" not in first["files"]
    assert first["sha256"] == second["sha256"]


@pytest.mark.parametrize(("architecture", "machine"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_the_architecture_selects_the_platform_wheel(project, architecture, machine):
    for wheel_machine in ("aarch64", "x86_64"):
        make_wheel(
            project.parent / "wheels",
            "tinynative",
            {"tinynative/__init__.py": f"MACHINE = {wheel_machine!r}\n"},
            tag=f"cp312-cp312-manylinux2014_{wheel_machine}",
        )
    (project / "requirements.txt").write_text("--no-index\n--find-links ../wheels\ntinynative==0.1\n")
    result = LAMBDA_PACKAGE(str(project), [], architecture)
    assert unzip(result).read("tinynative/__init__.py") == f"MACHINE = {machine!r}\n".encode()
    assert result["dependencies"] == ["tinynative-0.1"]


@pytest.mark.parametrize("matches", [True, False])
def test_hashes_in_requirements_are_checked_by_pip(project, matches):
    wheel = project.parent / "wheels" / "tinypkg-0.1-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest() if matches else "0" * 64
    (project / "requirements.txt").write_text(
        f"--no-index\n--find-links ../wheels\ntinypkg==0.1 --hash=sha256:{digest}\n"
    )
    if matches:
        assert LAMBDA_PACKAGE(str(project))["dependencies"] == ["tinypkg-0.1"]
    else:
        with pytest.raises(AnsibleFilterError, match=r"lambda_package: requirements\.txt: (?s:.*)HASHES"):
            LAMBDA_PACKAGE(str(project))


def test_an_unsatisfiable_requirement_is_reported_with_pip_s_message(project):
    (project / "requirements.txt").write_text("--no-index\nnosuchpkg==1.0\n")
    with pytest.raises(
        ValueError,
        match=r"^requirements\.txt: pip install failed (?s:.*)No matching distribution found for nosuchpkg==1\.0",
    ):
        package.lambda_package(str(project))
    with pytest.raises(AnsibleFilterError, match=r"^lambda_package: requirements\.txt: "):
        LAMBDA_PACKAGE(str(project))


@pytest.mark.parametrize("architecture", ["aarch64", "amd64", "", None])
def test_a_bad_architecture_is_named(project, architecture):
    with pytest.raises(ValueError, match=r"^architecture: expected one of arm64, x86_64"):
        package.lambda_package(str(project), [], architecture)
    with pytest.raises(AnsibleFilterError, match=r"^lambda_package: architecture: "):
        LAMBDA_PACKAGE(str(project), [], architecture)


def test_a_dependency_file_that_is_also_a_source_file_is_named(project):
    (project / "tinypkg").mkdir()
    (project / "tinypkg" / "__init__.py").write_text("VALUE = 0\n")
    with pytest.raises(ValueError, match=r"^requirements\.txt: .*tinypkg/__init__\.py"):
        package.lambda_package(str(project))
    with pytest.raises(AnsibleFilterError, match=r"tinypkg/__init__\.py"):
        LAMBDA_PACKAGE(str(project))


def pip_must_not_run(*args, **kwargs):
    raise AssertionError(f"pip ran: {args}")


def test_without_a_top_level_requirements_txt_pip_does_not_run(project, monkeypatch):
    monkeypatch.setattr(package.subprocess, "run", pip_must_not_run)
    (project / "vendor").mkdir()
    (project / "requirements.txt").rename(project / "vendor" / "requirements.txt")
    result = LAMBDA_PACKAGE(str(project))
    assert result["dependencies"] == []
    assert result["files"] == ["app.py", "vendor/requirements.txt"]


@pytest.mark.parametrize(
    ("architecture", "platform"), [("arm64", "manylinux2014_aarch64"), ("x86_64", "manylinux2014_x86_64")]
)
def test_pip_installs_for_the_lambda_platform_in_the_source_directory(project, monkeypatch, architecture, platform):
    calls = []

    def fake_run(command, **kwargs):
        calls.append((command, kwargs))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(package.subprocess, "run", fake_run)
    result = LAMBDA_PACKAGE(str(project), ["app.handler"], architecture)
    [(command, kwargs)] = calls
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[command.index("--requirement") + 1] == str(project / "requirements.txt")
    assert command[command.index("--platform") + 1] == platform
    for flag in ("--no-compile", "--disable-pip-version-check", "--no-input", "--only-binary=:all:"):
        assert flag in command
    assert [command[command.index(option) + 1] for option in ("--implementation", "--python-version", "--abi")] == [
        "cp",
        "3.12",
        "cp312",
    ]
    assert kwargs == {"cwd": project, "capture_output": True, "text": True, "check": False}
    assert result["files"] == ["app.py"] and result["dependencies"] == []


def test_machine_specific_and_run_time_useless_installed_files_are_left_out(tmp_path):
    installed = [
        "bin/tinypkg",
        "tinypkg/__init__.py",
        "tinypkg/__pycache__/__init__.cpython-312.pyc",
        "tinypkg/tests/test_value.py",
        "tinypkg/.hidden",
        "tinypkg-0.1.dist-info/METADATA",
        "tinypkg-0.1.dist-info/RECORD",
        "tinypkg-0.1.dist-info/direct_url.json",
        "tinypkg-0.1.dist-info/licenses/RECORD",
    ]
    for name in installed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    kept = [path.as_posix() for path in package.dependency_files(tmp_path)]
    assert kept == ["tinypkg-0.1.dist-info/METADATA", "tinypkg-0.1.dist-info/licenses/RECORD", "tinypkg/__init__.py"]
    assert package.installed_distributions(tmp_path) == ["tinypkg-0.1"]
