"""Run ``ansible-test sanity`` and ``ansible-test units`` on this collection, offline from Ansible's CI hosts.

``make sanity`` runs this script with no arguments: every sanity test that applies, then the plugin unit tests.

Why the detours:

* ansible-test wants the collection at ``.../ansible_collections/serverless/tasks_api`` and resolves the physical
  working directory, so the repository's symlinked layout under ``collections/`` does not do. The working tree's
  tracked and new (not git-ignored) files that galaxy.yml's build_ignore keeps, the content of the built collection,
  are copied to a temporary ``ansible_collections/serverless/tasks_api``; ``amazon.aws``, which the modules import,
  is linked beside it from the installed ``ansible`` package.
* ansible-test creates a virtual environment per sanity test and bootstraps pip into it with a get-pip script that
  it downloads from ci-files.testing.ansible.com, a host this project cannot reach (only the package registries are;
  https://github.com/ansible/ansible/issues/77304). It skips the download when the script lies in its cache, so a
  stand-in is written there (``write_pip_bootstrap``): it runs the pip wheel that the standard library's
  ``ensurepip`` bundles and, like get-pip, has it ``install --upgrade --force-reinstall`` the pip version that
  ansible-test asks for, from the package index pip is configured with.
* ansible-test keeps those virtual environments and that cache under ``~/.ansible/test``. It runs here with HOME set to
  the git-ignored ``.cache/ansible-test`` of the repository, so a user's own ``~/.ansible`` is left alone and a second
  run reuses the environments of the first.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
NAMESPACE, NAME = "serverless", "tasks_api"
PYTHON_VERSION = "3.11"
TEST_HOME = REPO_ROOT / ".cache" / "ansible-test"
ANSIBLE_TEST = Path(sys.executable).parent / "ansible-test"
# Collections our plugins import or take doc fragments from, as installed with the ``ansible`` package.
DEPENDENCIES = (("amazon", "aws"),)
# The pip version ansible-test 2.19 bootstraps (ansible_test/_internal/python_requirements.py, get_venv_packages).
BOOTSTRAP_PIP_VERSIONS = ("24.2",)
BOOTSTRAP_MARKER = "# serverless.tasks_api stand-in for get-pip.py"

# Sanity tests skipped on purpose, each with its reason. Everything else ansible-test has for a collection runs.
SKIPPED_SANITY_TESTS = {
    # The collection has no PowerShell; the test needs pwsh and its modules from the PowerShell Gallery.
    "pslint": "no PowerShell content; needs pwsh, which is not installed",
}

# What sanity tests: the Ansible content (plugins, meta, roles, playbooks, docs, changelogs) and the plugins' unit
# tests. Left out is the repository's Python that Ansible never loads, linted by ruff in `make lint` instead:
# developer tools and benchmarks (run as scripts, hence their shebangs, which the shebang test refuses outside
# modules), the Lambda handler's source (it runs in AWS Lambda), and the tests of those (pytest fixtures imported
# into conftest.py read as unused imports to pylint). --whole-collection runs sanity on every file anyway.
NOT_ANSIBLE_CODE = ("benchmarks", "lambda_src", "tests", "tools")
ANSIBLE_TESTS = ("tests/sanity/", "tests/unit/plugins/")

# The unit tests ansible-test units runs by default: about 400 tests, 25 s. The module tests
# (tests/unit/plugins/modules/, 540 tests against moto's in-process emulator) take 5 to 6 minutes on 2 workers, in
# ansible-test as in plain pytest; `make unit` runs them already, so they join only with --all-units.
UNIT_TESTS = tuple(f"tests/unit/plugins/{kind}/" for kind in ("callback", "filter", "module_utils", "plugin_utils"))
ALL_UNIT_TESTS = ("tests/unit/plugins/",)
# pytest-xdist workers for ansible-test units (its default, "auto", takes every core).
UNIT_WORKERS = int(os.environ.get("TEST_WORKERS", "2"))

PIP_BOOTSTRAP_SCRIPT = f'''{BOOTSTRAP_MARKER} (written by tools/ansible_test.py).
"""Install pip the way get-pip.py does, from the pip wheel that ensurepip bundles with the standard library.

ansible-test runs this file as __main__ with get-pip's arguments: pip install options and requirements, and
get-pip's own --no-setuptools / --no-wheel. The bundled pip runs from its wheel (as ensurepip runs it) and installs
"install --upgrade --force-reinstall <arguments> pip", the command get-pip.py runs with its embedded pip.
"""
import glob
import os
import sys

import ensurepip


def bundled_pip_wheel():
    directories = [os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")]
    directories += [d for d in [getattr(ensurepip, "_WHEEL_PKG_DIR", None)] if d]
    wheels = [w for d in directories for w in sorted(glob.glob(os.path.join(d, "pip-*.whl")))]
    if not wheels:
        sys.exit("ensurepip bundles no pip wheel with " + sys.executable)
    return wheels[-1]


def pip_install_arguments(argv):
    own_options = {{"--no-setuptools", "--no-wheel"}}
    args = [a for a in argv if a not in own_options]
    extras = [] if sys.version_info >= (3, 12) else [
        name for name in ("setuptools", "wheel") if "--no-" + name not in argv
    ]
    return ["install", "--upgrade", "--force-reinstall"] + args + ["pip"] + extras


if __name__ == "__main__":
    sys.path.insert(0, bundled_pip_wheel())
    from pip._internal.cli.main import main as pip_main

    sys.exit(pip_main(pip_install_arguments(sys.argv[1:])))
'''


def write_pip_bootstrap(home: Path) -> None:
    """Put the stand-in get-pip script where ansible-test looks before it downloads; keep a real one found there."""
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in BOOTSTRAP_PIP_VERSIONS:
        script = cache / f"get_pip_{version.replace('.', '_')}.py"
        if script.exists() and not script.read_text().startswith(BOOTSTRAP_MARKER):
            continue
        script.write_text(PIP_BOOTSTRAP_SCRIPT)


def collection_files() -> list[str]:
    """The working tree's tracked and new, not git-ignored files that galaxy.yml's build_ignore keeps, and the tests.

    The collection that is built and sanity-tested is the same; build_ignore also drops ``collections/``, whose
    symlink back to the repository root would make the staged copy contain itself. The artifact leaves the tests
    out, but ansible-test reads ``tests/sanity/`` and runs ``tests/unit/`` (whose conftest imports ``tools/``), so they
    are staged.
    """
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    ignored = build_ignore_patterns()
    paths = {path for path in listing.split("\0") if path and os.path.lexists(REPO_ROOT / path)}
    return sorted(path for path in paths if path.startswith(STAGED_TESTS) or not is_build_ignored(path, ignored))


# The artifact leaves these out; ansible-test needs them (tests/conftest.py imports from tools/).
STAGED_TESTS = ("tests/", "tools/")


def build_ignore_patterns() -> list[str]:
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    return list(galaxy.get("build_ignore") or [])


def is_build_ignored(path: str, patterns: list[str]) -> bool:
    """Whether ansible-galaxy leaves ``path`` out: a pattern matches the path or one of the folders above it."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def stage_collection(root: Path) -> Path:
    """Copy the collection to ``root/ansible_collections/<namespace>/<name>`` and link its dependencies beside it."""
    destination = root / "ansible_collections" / NAMESPACE / NAME
    for path in collection_files():
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / path, target, follow_symlinks=False)
    for namespace, name in DEPENDENCIES:
        link = root / "ansible_collections" / namespace / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(installed_collection(namespace, name), target_is_directory=True)
    return destination


def installed_collection(namespace: str, name: str) -> Path:
    import ansible_collections  # the namespace package of the collections the ``ansible`` package installs

    for base in ansible_collections.__path__:
        candidate = Path(base) / namespace / name
        if (candidate / "plugins").is_dir():
            return candidate
    raise SystemExit(f"{namespace}.{name} is not installed: run make venv")


def test_environment() -> dict[str, str]:
    env = dict(os.environ, HOME=str(TEST_HOME))
    env["PATH"] = os.pathsep.join([str(ANSIBLE_TEST.parent), env.get("PATH", "")])
    env.pop("ANSIBLE_CONFIG", None)  # the repository's ansible.cfg is for its playbooks, not for ansible-test
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    return env


def sanity_targets(collection: Path) -> list[str]:
    """The top-level files and folders of the staged collection that hold Ansible content, and its Ansible tests."""
    top_level = sorted(entry for entry in collection.iterdir() if entry.name not in NOT_ANSIBLE_CODE)
    targets = [entry.name + "/" if entry.is_dir() else entry.name for entry in top_level]
    return targets + [path for path in ANSIBLE_TESTS if (collection / path).is_dir()]


def sanity_command(tests: list[str], targets: list[str]) -> list[str]:
    command = [str(ANSIBLE_TEST), "sanity", "--python", PYTHON_VERSION, "--local", "--color", "no"]
    if tests:
        command += [arg for test in tests for arg in ("--test", test)]
    else:
        command += [arg for test in SKIPPED_SANITY_TESTS for arg in ("--skip-test", test)]
    return command + targets


def units_command(all_units: bool) -> list[str]:
    command = [str(ANSIBLE_TEST), "units", "--python", PYTHON_VERSION, "--local", "--color", "no"]
    return [*command, "--num-workers", str(UNIT_WORKERS), *(ALL_UNIT_TESTS if all_units else UNIT_TESTS)]


def run_step(label: str, command: list[str], collection: Path, verbose: int) -> int:
    command = command + ["-v"] * verbose
    print(f"== {label}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    returncode = subprocess.run(command, cwd=collection, env=test_environment(), check=False).returncode
    outcome = "passed" if returncode == 0 else f"FAILED (exit {returncode})"
    print(f"== {label} {outcome} in {time.monotonic() - started:.0f} s", flush=True)
    return returncode


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="ansible-test sanity and units on a staged copy of the collection (see the module docstring).",
    )
    parser.add_argument(
        "step",
        nargs="?",
        choices=("all", "sanity", "units"),
        default="all",
        help="what to run (default: all, sanity then units)",
    )
    parser.add_argument(
        "--test",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this sanity test (repeatable); implies the sanity step",
    )
    parser.add_argument(
        "--whole-collection",
        action="store_true",
        help="sanity-test every file, the developer tooling outside the Ansible content too (see NOT_ANSIBLE_CODE)",
    )
    parser.add_argument(
        "--all-units", action="store_true", help="units: the module tests too (5 to 6 minutes more, see UNIT_TESTS)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the staged copy to debug a failure (path printed)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="pass -v to ansible-test (repeatable)")
    parser.add_argument("--list-skipped", action="store_true", help="print the skipped sanity tests and why, and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_skipped:
        for test, reason in SKIPPED_SANITY_TESTS.items():
            print(f"{test}: {reason}")
        return 0
    steps = ["sanity"] if args.test else (["sanity", "units"] if args.step == "all" else [args.step])
    write_pip_bootstrap(TEST_HOME)
    staging = Path(tempfile.mkdtemp(prefix="ansible-test-"))
    try:
        collection = stage_collection(staging)
        commands = {
            "sanity": sanity_command(args.test, [] if args.whole_collection else sanity_targets(collection)),
            "units": units_command(args.all_units),
        }
        failures = [step for step in steps if run_step(step, commands[step], collection, args.verbose)]
    finally:
        if args.keep:
            print(f"staged collection kept at {staging}")
        else:
            shutil.rmtree(staging)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
