"""tools/ansible_test.py: what it stages for ansible-test, and the stand-in for get-pip it writes."""

import ansible_test
import pytest


@pytest.fixture(scope="module")
def staged_files():
    return ansible_test.collection_files()


@pytest.mark.parametrize(
    "path",
    ["galaxy.yml", "meta/runtime.yml", "plugins/modules/lambda_functions.py", "roles/functions/tasks/main.yml"],
)
def test_the_collection_content_is_staged(staged_files, path):
    assert path in staged_files


@pytest.mark.parametrize("path", ["tests/sanity/ignore-2.19.txt", "tests/conftest.py", "tools/free_port.py"])
def test_the_tests_and_the_tools_their_conftest_imports_are_staged(staged_files, path):
    assert path in staged_files


@pytest.mark.parametrize("prefix", ["molecule/", "benchmarks/", "collections/", ".ci/", "Makefile"])
def test_what_the_artifact_leaves_out_is_not_staged(staged_files, prefix):
    assert not [path for path in staged_files if path.startswith(prefix)]


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("molecule/default/molecule.yml", True),
        ("roles/stack/__pycache__/x.pyc", True),
        ("tests/output/junit/a.xml", True),
        ("plugins/modules/dynamodb_table.py", False),
    ],
)
def test_build_ignore_matches_a_path_or_a_folder_above_it(path, ignored):
    patterns = ["molecule", "**/__pycache__", "tests/output"]
    assert ansible_test.is_build_ignored(path, patterns) is ignored


def test_the_pip_stand_in_is_written_once_and_a_real_get_pip_is_kept(tmp_path):
    ansible_test.write_pip_bootstrap(tmp_path)
    scripts = list((tmp_path / ".ansible" / "test" / "cache").glob("get_pip_*.py"))
    assert scripts, "no stand-in get-pip script written"
    assert all(script.read_text().startswith(ansible_test.BOOTSTRAP_MARKER) for script in scripts)
    scripts[0].write_text("# a real get-pip.py\n")
    ansible_test.write_pip_bootstrap(tmp_path)
    assert scripts[0].read_text() == "# a real get-pip.py\n"


def test_the_pip_stand_in_runs_the_install_get_pip_would(tmp_path):
    namespace = {}
    source = ansible_test.PIP_BOOTSTRAP_SCRIPT.replace('if __name__ == "__main__":', "if False:")
    exec(compile(source, "get_pip_stand_in", "exec"), namespace)
    arguments = namespace["pip_install_arguments"](
        ["--disable-pip-version-check", "pip==24.2", "--no-setuptools", "--no-wheel"]
    )
    assert arguments[:3] == ["install", "--upgrade", "--force-reinstall"]
    assert "--no-setuptools" not in arguments and "--no-wheel" not in arguments
    assert "pip==24.2" in arguments and "setuptools" not in arguments
