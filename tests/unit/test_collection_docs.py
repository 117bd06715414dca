"""Documentation the collection promises: ansible-doc renders every plugin, specs mirror role defaults."""

import importlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = Path(sys.executable).parent / "ansible-doc"
FILTERS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "filter").glob("*.yml"))
MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
CALLBACKS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "callback").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.parent.parent.name for p in (REPO_ROOT / "roles").glob("*/meta/argument_specs.yml"))


def ansible_doc(plugin_type: str, name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg")}
    return subprocess.run(
        [str(ANSIBLE_DOC), "-t", plugin_type, f"serverless.tasks_api.{name}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("plugin_type", "name"),
    [("filter", f) for f in FILTERS] + [("module", m) for m in MODULES] + [("callback", c) for c in CALLBACKS],
)
def test_ansible_doc_renders(plugin_type, name):
    result = ansible_doc(plugin_type, name)
    assert result.returncode == 0, result.stderr
    assert f"serverless.tasks_api.{name}" in result.stdout
    assert "EXAMPLES" in result.stdout


def filters_by_entry_file() -> dict[str, list[str]]:
    """The filter names each plugins/filter/*.py entry file's FilterModule exposes."""
    names = {}
    for path in sorted((REPO_ROOT / "plugins" / "filter").glob("*.py")):
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"ansible_collections.serverless.tasks_api.plugins.filter.{path.stem}")
        names[path.name] = sorted(module.FilterModule().filters())
    return names


def test_every_filter_has_documentation():
    names = [name for file_names in filters_by_entry_file().values() for name in file_names]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    assert not repeated, f"filters defined by more than one entry file: {repeated}"
    assert sorted(names) == FILTERS


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_mirror_the_argument_spec(role):
    role_dir = REPO_ROOT / "roles" / role
    specs = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role_dir / "defaults" / "main.yml").read_text()) or {}
    assert set(defaults) == {name for name, spec in options.items() if not spec.get("required")}
    for name, value in defaults.items():
        assert options[name].get("default") == value, name
        assert options[name].get("description"), f"{name} has no description"


def test_role_docs_are_rendered_from_the_current_specs():
    import render_role_docs

    assert render_role_docs.main(["--check"]) == 0


def test_every_module_is_in_the_aws_action_group():
    """One module_defaults block (group/serverless.tasks_api.aws) must reach every module of ours."""
    runtime = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())
    group = [entry for entry in runtime["action_groups"]["aws"] if isinstance(entry, str)]
    assert sorted(group) == MODULES
