"""The collection as Galaxy ships it, and the action group its modules share.

`ansible-galaxy collection build` makes the artifact: its members are what an installed collection runs, and
none of the development files. Installed into a directory of its own, the artifact converges the whole stack
by FQCN (`ansible-playbook serverless.tasks_api.site`) from a directory outside the repository, with an
ansible.cfg that names that directory alone; a second run changes nothing.

One `module_defaults: group/serverless.tasks_api.aws:` block gives endpoint, region and credentials to our
module and to stock amazon.aws and community.aws ones; without it, the same calls never reach the endpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from aws_calls import recorded_calls
from playbook_runner import REPO_ROOT, PlaybookRun, playbook_env, run_playbook

GALAXY = Path(sys.executable).parent / "ansible-galaxy"
COLLECTION = "serverless.tasks_api"
HOST = "local-us-east-1"
# Directories the installed collection runs or documents: every file of theirs in the clone is in the artifact.
SHIPPED_DIRS = ("roles", "plugins", "playbooks", "lambda_src", "meta", "inventories", "docs", "changelogs")
SHIPPED_FILES = ("MANIFEST.json", "FILES.json", "README.md", "requirements.txt")
# What must never be in the artifact, by name, as a pattern on a member's path.
FORBIDDEN = {
    "tests/ (tests/sanity/ excepted)": r"^tests/(?!sanity(/|$))",
    "molecule/": r"^molecule/",
    "benchmarks/": r"^benchmarks/",
    "tools/": r"^tools/",
    ".venv": r"(^|/)\.venv(/|$)",
    "__pycache__": r"(^|/)__pycache__(/|$)",
    ".pytest_cache": r"(^|/)\.pytest_cache(/|$)",
    ".ruff_cache": r"(^|/)\.ruff_cache(/|$)",
    "outputs/": r"^outputs(/|$)",
    "collections/ (the development link)": r"^collections(/|$)",
    "*.zip": r"\.zip$",
    "*.tar.gz": r"\.tar\.gz$",
    "*.pyc": r"\.pyc$",
}
# Files a working clone has besides its sources (the .venv only when it is not a link already).
LEFT_BEHIND = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".pytest_cache/v/cache/lastfailed": "{}\n",
    ".ruff_cache/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n",
    "plugins/modules/__pycache__/dynamodb_table.cpython-311.pyc": "",
    "lambda_src/tasks_core/__pycache__/app.cpython-311.pyc": "",
    "roles/stack/tasks/settings.yml.pyc": "",
    "outputs/local.json": "{}\n",
    "lambda_src/package.zip": "",
    "serverless-tasks_api-0.0.1.tar.gz": "",
    "docs/old-build.tar.gz": "",
    "tests/sanity/ignore-2.19.txt": "",
}
# The ansible.cfg of a user of the installed collection: the test writes it into a directory of its own.
USER_CONFIG = """\
[defaults]
# The directory the artifact was installed into, and no other. amazon.aws and
# community.aws come from the `ansible` package's own collections (found on
# Python's path, collections_scan_sys_path), so --no-deps installs nothing more.
collections_path = {collections}
# No interpreter setting: the collection's inventories set
# ansible_connection=local and ansible_python_interpreter to
# {{{{ ansible_playbook_python }}}}, the Python that has boto3.
retry_files_enabled = false
"""
TASK_PATH = re.compile(r"^task path: (\S+?):\d+$", re.MULTILINE)
# The module_defaults playbook: a region other than the inventories' and moto's default us-east-1.
PROBE_PLAYBOOK = REPO_ROOT / "tests" / "integration" / "playbooks" / "module_defaults_group.yml"
PROBE_REGION = "eu-west-3"
PROBE_TASKS = (
    "Create the table with serverless.tasks_api.dynamodb_table",
    "Read the table with community.aws.dynamodb_table_info",
    "Create the bucket with amazon.aws.s3_bucket",
    "Read the bucket and its region with amazon.aws.s3_bucket_info",
)
# Why each of them fails without the block: the DynamoDB modules find no region; the S3 ones, which can do
# without a region, find no credentials.
FAILURES_WITHOUT_DEFAULTS = (
    "requires a region",
    "requires a region",
    "Unable to locate credentials",
    "Unable to locate credentials",
)


def galaxy(*args: str, cwd: Path, config: Path | None = None) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [str(GALAXY), *args],
        cwd=cwd,
        env=playbook_env(None, config),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def timed(action):
    started = time.monotonic()
    result = action()
    return result, round(time.monotonic() - started, 2)


def forbidden_members(names: set[str]) -> dict[str, list[str]]:
    """The names that FORBIDDEN forbids, by what they are."""
    found = {label: sorted(n for n in names if re.search(pattern, n)) for label, pattern in FORBIDDEN.items()}
    return {label: members for label, members in found.items() if members}


def shipped_from_clone() -> set[str]:
    """Every file under SHIPPED_DIRS in the clone, paths relative to it, but those FORBIDDEN (caches, builds)."""
    paths = (path for directory in SHIPPED_DIRS for path in (REPO_ROOT / directory).rglob("*") if path.is_file())
    relative = {path.relative_to(REPO_ROOT).as_posix() for path in paths}
    return relative - {name for names in forbidden_members(relative).values() for name in names}


@pytest.fixture(scope="module")
def figures():
    """Measured figures of the module's runs, printed at its end (pytest -s or -rP shows them)."""
    measured = {}
    yield measured
    print(f"\ncollection artifact figures: {json.dumps(measured)}")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A copy of the clone, as it is, with what working on it leaves behind: caches, outputs, an old build."""
    copy = tmp_path_factory.mktemp("clone") / "tasks_api"
    shutil.copytree(REPO_ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for path, content in LEFT_BEHIND.items():
        if not (copy / path.split("/")[0]).is_symlink():  # never write through the .venv link
            (copy / path).parent.mkdir(parents=True, exist_ok=True)
            (copy / path).write_text(content)
    return copy


@pytest.fixture(scope="module")
def artifact(clone, tmp_path_factory, figures):
    output = tmp_path_factory.mktemp("artifact")
    _, figures["build_seconds"] = timed(lambda: galaxy("collection", "build", "--output-path", str(output), cwd=clone))
    (tarball,) = output.glob("*.tar.gz")
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    files = {member.name for member in members if not member.isdir()}
    figures["artifact_bytes"], figures["artifact_files"] = tarball.stat().st_size, len(files)
    return SimpleNamespace(path=tarball, files=files, names={member.name for member in members})


@pytest.fixture(scope="module")
def installed(artifact, tmp_path_factory, figures):
    """The artifact installed as a user would, into a directory outside the repository."""
    user = tmp_path_factory.mktemp("user")
    collections = user / "collections"
    config = user / "ansible.cfg"
    config.write_text(USER_CONFIG.format(collections=collections))
    with pytest.MonkeyPatch.context() as patch:
        for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
            patch.delenv(name, raising=False)
        install = ("collection", "install", str(artifact.path), "-p", str(collections), "--no-deps")
        _, figures["install_seconds"] = timed(lambda: galaxy(*install, cwd=user, config=config))
        yield SimpleNamespace(
            user=user,
            config=config,
            collections=collections,
            root=collections / "ansible_collections" / "serverless" / "tasks_api",
        )


@pytest.fixture(scope="module")
def converged(installed, local_endpoint, figures):
    """The site playbook, by FQCN, from the installed copy: a first run on an empty account, then a second one.

    The second run is verbose (-vv) so that it prints the path of every task it runs.
    """
    local_endpoint.reset()

    def site(*args: str) -> PlaybookRun:
        inventory = str(installed.root / "inventories" / "local")
        return run_playbook(
            local_endpoint.url,
            f"{COLLECTION}.site",
            *args,
            inventory=inventory,
            cwd=installed.user,
            config=installed.config,
        )

    first, figures["first_converge_seconds"] = timed(site)
    second, figures["second_converge_seconds"] = timed(lambda: site("-vv"))
    return SimpleNamespace(first=first, second=second)


def test_the_artifact_leaves_out_development_files(artifact):
    found = forbidden_members(artifact.names)
    assert found == {}, f"the artifact holds {', '.join(found)}: {found}"
    assert "tests/sanity/ignore-2.19.txt" in artifact.files


def test_the_artifact_holds_what_an_installed_collection_runs(artifact):
    required = shipped_from_clone() | set(SHIPPED_FILES)
    roles = {path.name for path in (REPO_ROOT / "roles").iterdir()}
    modules = {path.name for path in (REPO_ROOT / "plugins" / "modules").glob("*.py")}
    handlers = {path.name for path in (REPO_ROOT / "lambda_src").glob("*_task*.py")}
    assert len(roles) >= 7 and len(modules) >= 15 and len(handlers) >= 5
    named = {
        "meta/runtime.yml",
        "playbooks/site.yml",
        "playbooks/teardown.yml",
        "lambda_src/tasks_core/app.py",
        *(f"roles/{role}/meta/argument_specs.yml" for role in roles),
        *(f"plugins/modules/{module}" for module in modules),
        *(f"lambda_src/{handler}" for handler in handlers),
    }
    assert named <= required
    assert sorted(required - artifact.files) == []


def test_the_manifest_lists_every_file_of_the_artifact(artifact):
    with tarfile.open(artifact.path) as tar:
        listed = json.load(tar.extractfile("FILES.json"))["files"]
    assert {entry["name"] for entry in listed if entry["ftype"] == "file"} == artifact.files - {
        "FILES.json",
        "MANIFEST.json",
    }


def test_ansible_finds_the_collection_in_the_install_directory_only(installed):
    listing = galaxy("collection", "list", COLLECTION, cwd=installed.user, config=installed.config).stdout
    locations = re.findall(r"^# (\S+)$", listing, re.MULTILINE)
    assert locations == [str(installed.collections / "ansible_collections")], listing
    assert (installed.root / "MANIFEST.json").is_file() and (installed.root / "lambda_src").is_dir()


def test_the_installed_site_playbook_converges_an_empty_account(converged, installed):
    recap = converged.first.recap()
    assert list(recap) == [HOST], converged.first.stdout[-3000:] + converged.first.stderr[-2000:]
    counts = recap[HOST]
    assert counts["failed"] == 0 and counts["unreachable"] == 0, converged.first.stdout[-3000:]
    assert counts["changed"] > 0 and converged.first.returncode == 0
    assert (installed.user / "outputs" / "local.json").is_file()


def test_a_second_run_of_the_installed_playbook_changes_nothing(converged):
    counts = converged.second.recap()[HOST]
    assert counts["failed"] == 0 and counts["unreachable"] == 0, converged.second.stdout[-3000:]
    assert counts["changed"] == 0, re.findall(r"^changed: .*$", converged.second.stdout, re.MULTILINE)
    assert converged.second.returncode == 0


def test_every_task_ran_from_the_installed_copy(converged, installed):
    paths = set(TASK_PATH.findall(converged.second.stdout))
    assert len(paths) > 20
    assert sorted(path for path in paths if not path.startswith(f"{installed.root}/")) == []
    assert {f"{installed.root}/playbooks/site.yml", f"{installed.root}/roles/stack/tasks/settings.yml"} <= paths


@pytest.fixture
def no_aws_environment(monkeypatch, tmp_path):
    """An environment without any AWS_ variable: no endpoint, region, credentials, profile or metadata service."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def run_probe(endpoint, tag: str, prefix: str) -> tuple[PlaybookRun, list]:
    """The module_defaults playbook limited to ``tag``, and the AWS calls that reached the endpoint meanwhile."""
    extra_vars = {"probe_endpoint_url": endpoint.url, "probe_region": PROBE_REGION, "probe_prefix": prefix}
    with recorded_calls(endpoint.url) as calls:
        run = run_playbook(None, str(PROBE_PLAYBOOK), "--tags", tag, extra_vars=extra_vars)
    return run, calls


def test_one_group_block_gives_endpoint_and_region_to_ours_and_the_stock_modules(fresh_endpoint, no_aws_environment):
    name = "group-defaults-with"
    run, calls = run_probe(fresh_endpoint, "with_group_defaults", "group-defaults")
    assert run.returncode == 0 and run.failed_tasks() == [], run.describe()
    assert {"dynamodb", "s3"} <= {call.service for call in calls}
    assert run.changed_tasks() == [PROBE_TASKS[0], PROBE_TASKS[2]]
    (table,) = run.results_of(PROBE_TASKS[1])
    assert table["table"]["table_arn"].startswith(f"arn:aws:dynamodb:{PROBE_REGION}:")
    (buckets,) = run.results_of(PROBE_TASKS[3])
    assert [bucket["name"] for bucket in buckets["buckets"]] == [name]
    assert buckets["buckets"][0]["bucket_location"]["LocationConstraint"] == PROBE_REGION
    assert name in fresh_endpoint.client("dynamodb", PROBE_REGION).list_tables()["TableNames"]
    assert name not in fresh_endpoint.client("dynamodb", "us-east-1").list_tables()["TableNames"]
    location = fresh_endpoint.client("s3").get_bucket_location(Bucket=name)["LocationConstraint"]
    assert location == PROBE_REGION


def test_without_the_block_the_same_calls_never_reach_the_endpoint(fresh_endpoint, no_aws_environment):
    run, calls = run_probe(fresh_endpoint, "without_group_defaults", "group-defaults")
    assert run.failed_tasks() == list(PROBE_TASKS), run.describe()
    messages = run.failure_messages()
    assert len(messages) == len(FAILURES_WITHOUT_DEFAULTS), messages
    assert all(why in message for why, message in zip(FAILURES_WITHOUT_DEFAULTS, messages, strict=True)), messages
    assert calls == []
    assert fresh_endpoint.client("s3").list_buckets()["Buckets"] == []
    for region in (PROBE_REGION, "us-east-1"):
        assert fresh_endpoint.client("dynamodb", region).list_tables()["TableNames"] == []
