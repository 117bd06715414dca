"""The execution environment: `ansible-builder create` makes a context with the runtime requirements only.

No container engine runs here, so `ansible-builder build` is out of reach; these tests check what it would build
from: the generated Containerfile and _build/ requirements, the collection artifact in the context, and what
ansible-builder's introspection reads from the installed collection (meta/execution-environment.yml).
"""

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE_FILE = REPO_ROOT / "execution-environment.yml"
COLLECTION = "serverless.tasks_api"
# Test tooling that must never reach the image (requirements-dev.txt adds more, checked too).
TEST_PACKAGES = {"pytest", "pytest-xdist", "moto", "molecule", "ansible-lint", "ruff", "yamllint"}
FROM_COLLECTION = re.compile(r"^(?P<requirement>.+?)\s+# from collection (?P<collection>\S+)$")


def run_tool(tool: str, arguments: str, *paths: Path | str, cwd: Path) -> str:
    """Run a venv tool with space-separated arguments followed by paths; fail the test when it fails."""
    command = [str(BIN / tool), *arguments.split(), *map(str, paths)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def galaxy_metadata() -> dict:
    return read_yaml(REPO_ROOT / "galaxy.yml")


def artifact_name() -> str:
    metadata = galaxy_metadata()
    return f"{metadata['namespace']}-{metadata['name']}-{metadata['version']}.tar.gz"


def requirement_lines(path: Path) -> list[str]:
    """A pip requirements file's requirements, without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def requirement_names(lines: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in lines}


def dev_only_packages() -> set[str]:
    return requirement_names(requirement_lines(REPO_ROOT / "requirements-dev.txt")) - requirement_names(
        requirement_lines(REPO_ROOT / "requirements.txt")
    )


def bundled_collection_version(fqcn: str) -> str:
    """The version of a collection the venv's ansible package bundles, the one make test runs against."""
    manifest = Path(sysconfig.get_paths()["purelib"], "ansible_collections", *fqcn.split("."), "MANIFEST.json")
    return json.loads(manifest.read_text())["collection_info"]["version"]


def galaxy_requirements(context: Path) -> list[dict]:
    return read_yaml(context / "_build" / "requirements.yml")["collections"]


def file_requirements(context: Path) -> list[dict]:
    return [entry for entry in galaxy_requirements(context) if entry.get("type") == "file"]


def copy_ee_definition(workspace: Path) -> dict:
    """Copy execution-environment.yml and the requirement files it names into workspace, as laid out in the repo."""
    definition = read_yaml(EE_FILE)
    shutil.copy2(EE_FILE, workspace / EE_FILE.name)
    for kind in ("python", "system"):
        if isinstance(name := definition["dependencies"].get(kind), str):
            shutil.copy2(REPO_ROOT / name, workspace / name)
    return definition


def build_artifacts(workspace: Path, definition: dict) -> None:
    """Build the collection artifact where additional_build_files expects it, as the documented steps do."""
    for entry in definition.get("additional_build_files", []):
        source = Path(entry["src"])
        if source.name.endswith(".tar.gz"):
            output_dir = workspace / source.parent
            output_dir.mkdir(parents=True, exist_ok=True)
            run_tool("ansible-galaxy", "collection build --output-path", output_dir, REPO_ROOT, cwd=workspace)
            assert (workspace / source).is_file(), f"{source} names no artifact; galaxy.yml builds {artifact_name()}"


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("ee")
    definition = copy_ee_definition(workspace)
    build_artifacts(workspace, definition)
    create = "create --output-filename Containerfile -c context -f"
    run_tool("ansible-builder", create, workspace / EE_FILE.name, cwd=workspace)
    return workspace / "context"


@pytest.fixture(scope="module")
def installed_collections(context, tmp_path_factory) -> Path:
    """Our artifact installed from the context as the galaxy stage does, beside the venv's amazon.aws, community.aws."""
    target = tmp_path_factory.mktemp("collections")
    own = target / "own-requirements.yml"
    own.write_text(yaml.safe_dump({"collections": file_requirements(context)}))
    install = "collection install --force --no-deps --offline -p"
    run_tool("ansible-galaxy", install, target, "-r", own, cwd=context / "_build")
    for fqcn in galaxy_metadata()["dependencies"]:
        namespace, name = fqcn.split(".")
        (target / "ansible_collections" / namespace).mkdir(exist_ok=True)
        bundled = Path(sysconfig.get_paths()["purelib"], "ansible_collections", namespace, name)
        (target / "ansible_collections" / namespace / name).symlink_to(bundled)
    return target


@pytest.fixture(scope="module")
def introspection(installed_collections) -> dict:
    """What ansible-builder's introspection of the installed collections would install, by collection."""
    output = run_tool("ansible-builder", "introspect --sanitize", installed_collections, cwd=installed_collections)
    data = yaml.safe_load(output) or {}
    by_collection: dict = {"python": {}, "system": {}}
    for kind in by_collection:
        for line in data.get(kind) or []:
            match = FROM_COLLECTION.match(line)
            assert match, f"unexpected introspection line: {line}"
            by_collection[kind].setdefault(match["collection"], []).append(match["requirement"])
    return by_collection


def test_containerfile_builds_from_the_base_image(context):
    containerfile = (context / "Containerfile").read_text()
    base_image = read_yaml(EE_FILE)["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base_image}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    assert re.fullmatch(r"[a-z0-9.-]+\.[a-z]+/[\w./-]+:[\w.-]+", base_image), "a registry-qualified image"
    assert not base_image.endswith(":latest"), "pin the base image's tag"


def test_containerfile_installs_the_tested_ansible_core(context):
    dev_pins = requirement_lines(REPO_ROOT / "requirements-dev.txt")
    ansible_core_pin = next(line for line in dev_pins if canonicalize_name(Requirement(line).name) == "ansible-core")
    install_refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', (context / "Containerfile").read_text(), re.M)
    assert install_refs, "the Containerfile installs no ansible-core"
    refs = install_refs[1].split()
    assert ansible_core_pin in refs
    assert any(re.fullmatch(r"ansible-runner==[\d.]+", ref) for ref in refs), refs


def test_context_python_requirements_are_the_runtime_requirements(context):
    context_lines = requirement_lines(context / "_build" / "requirements.txt")
    assert context_lines == requirement_lines(REPO_ROOT / "requirements.txt")
    assert requirement_names(context_lines) == {"boto3", "botocore"}
    assert all("==" in line for line in context_lines), context_lines


def test_context_python_requirements_hold_no_test_package(context):
    names = requirement_names(requirement_lines(context / "_build" / "requirements.txt"))
    assert dev_only_packages() >= TEST_PACKAGES, "requirements-dev.txt no longer lists the test tooling"
    assert not names & dev_only_packages()


def test_galaxy_requirements_pin_the_tested_dependency_versions(context):
    pinned = {entry["name"]: str(entry["version"]) for entry in galaxy_requirements(context) if "version" in entry}
    bounds = galaxy_metadata()["dependencies"]
    assert set(bounds) == {"amazon.aws", "community.aws"}
    assert set(bounds) <= set(pinned)
    for fqcn, bound in bounds.items():
        assert pinned[fqcn] in SpecifierSet(bound), f"{fqcn} {pinned[fqcn]} outside galaxy.yml's {bound}"
        assert pinned[fqcn] == bundled_collection_version(fqcn), f"{fqcn}: pin the version make test runs"


def test_galaxy_requirements_install_our_artifact_from_the_context(context):
    entries = file_requirements(context)
    assert [Path(entry["name"]).name for entry in entries] == [artifact_name()]
    assert (context / "_build" / entries[0]["name"]).is_file(), "the galaxy stage runs in /build, the context's _build"


def test_artifact_in_the_context_installs_with_its_ee_metadata(installed_collections):
    collection = installed_collections / "ansible_collections" / Path(*COLLECTION.split("."))
    manifest = json.loads((collection / "MANIFEST.json").read_text())["collection_info"]
    assert manifest["version"] == galaxy_metadata()["version"]
    assert read_yaml(collection / "meta" / "execution-environment.yml") == read_yaml(
        REPO_ROOT / "meta" / "execution-environment.yml"
    )


def test_introspection_finds_our_runtime_requirements(introspection):
    assert introspection["python"].get(COLLECTION) == requirement_lines(REPO_ROOT / "requirements.txt")


def test_introspection_installs_no_test_package(introspection):
    every_requirement = [line for lines in introspection["python"].values() for line in lines]
    assert every_requirement, "introspection found no Python requirement"
    assert not requirement_names(every_requirement) & (TEST_PACKAGES | dev_only_packages())


def test_introspection_installs_no_system_package(introspection):
    """The collections' bindep entries are all [test] profile, which the final stage does not install."""
    assert COLLECTION not in introspection["system"]
    for collection, lines in introspection["system"].items():
        assert all(re.search(r"\[.*\btest\b.*\]", line) for line in lines), f"{collection}: {lines}"
