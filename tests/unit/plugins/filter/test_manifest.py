"""Unit tests of the manifest filters (plugins/filter/manifest.py, plugins/plugin_utils/function_manifest.py)."""

import copy
import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.manifest import FilterModule
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import function_manifest

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]

# The default five-function tasks manifest.
TASKS_MANIFEST = [
    {"name": "list", "handler": "list_tasks.handler", "method": "GET", "path": "/tasks",
     "dynamodb_actions": ["dynamodb:Scan"]},
    {"name": "create", "handler": "create_task.handler", "method": "POST", "path": "/tasks",
     "dynamodb_actions": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:ConditionCheckItem"]},
    {"name": "get", "handler": "get_task.handler", "method": "GET", "path": "/tasks/{id}",
     "dynamodb_actions": ["dynamodb:GetItem"]},
    {"name": "update", "handler": "update_task.handler", "method": "PUT", "path": "/tasks/{id}",
     "dynamodb_actions": ["dynamodb:UpdateItem"]},
    {"name": "delete", "handler": "delete_task.handler", "method": "DELETE", "path": "/tasks/{id}",
     "dynamodb_actions": ["dynamodb:DeleteItem"]},
]  # fmt: skip


def manifest_with(index, **changes):
    """The tasks manifest with entry ``index`` changed (a value of ... removes the key)."""
    functions = copy.deepcopy(TASKS_MANIFEST)
    for key, value in changes.items():
        if value is ...:
            del functions[index][key]
        else:
            functions[index][key] = value
    return functions


def test_the_default_tasks_manifest_is_valid():
    assert FILTERS["function_manifest_problems"](TASKS_MANIFEST) == []


def test_the_stack_role_ships_the_default_tasks_manifest():
    defaults = yaml.safe_load((REPO_ROOT / "roles" / "stack" / "defaults" / "main.yml").read_text())
    assert FILTERS["function_manifest"](defaults["stack_functions"]) == FILTERS["function_manifest"](TASKS_MANIFEST)


def test_function_manifest_fills_defaults_and_sorts_actions():
    functions = FILTERS["function_manifest"](TASKS_MANIFEST)
    assert [f["name"] for f in functions] == ["list", "create", "get", "update", "delete"]
    assert functions[1] == {
        "name": "create",
        "handler": "create_task.handler",
        "method": "POST",
        "path": "/tasks",
        "dynamodb_actions": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"],
        "dynamodb_indexes": [],
        "memory": 256,
        "timeout": 10,
        "reserved_concurrency": None,
    }
    assert all(list(f) == list(function_manifest.KEYS) for f in functions)


def test_function_manifest_keeps_given_settings_and_drops_repeats():
    functions = manifest_with(
        0,
        dynamodb_actions=["dynamodb:Query", "dynamodb:Scan", "dynamodb:Query"],
        dynamodb_indexes=["by-status", "by-owner", "by-status"],
        memory=512,
        timeout=29,
        reserved_concurrency=0,
    )
    entry = FILTERS["function_manifest"](functions)[0]
    assert entry["dynamodb_actions"] == ["dynamodb:Query", "dynamodb:Scan"]
    assert entry["dynamodb_indexes"] == ["by-owner", "by-status"]
    assert (entry["memory"], entry["timeout"], entry["reserved_concurrency"]) == (512, 29, 0)


def test_null_optional_settings_mean_the_defaults():
    functions = manifest_with(0, memory=None, timeout=None, reserved_concurrency=None, dynamodb_indexes=None)
    entry = FILTERS["function_manifest"](functions)[0]
    assert (entry["memory"], entry["timeout"], entry["reserved_concurrency"], entry["dynamodb_indexes"]) == (
        256,
        10,
        None,
        [],
    )


def test_function_manifest_does_not_change_its_input():
    functions = copy.deepcopy(TASKS_MANIFEST)
    FILTERS["function_manifest"](functions)
    assert functions == TASKS_MANIFEST


def test_function_manifest_is_idempotent_and_stable_as_json():
    once = FILTERS["function_manifest"](TASKS_MANIFEST)
    assert FILTERS["function_manifest"](once) == once
    assert json.dumps(once) == json.dumps(FILTERS["function_manifest"](TASKS_MANIFEST))


def test_an_empty_action_list_is_valid():
    assert FILTERS["function_manifest_problems"](manifest_with(0, dynamodb_actions=[])) == []


@pytest.mark.parametrize("path", ["/", "/tasks", "/tasks/{id}", "/v1/task_lists/{list_id}/items-2/{item}"])
def test_valid_paths(path):
    assert FILTERS["function_manifest_problems"](manifest_with(1, path=path)) == []


@pytest.mark.parametrize(
    ("index", "changes", "expected"),
    [
        (2, {"method": "FETCH"}, "functions[2] (get): method 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE"),
        (2, {"method": "get"}, "functions[2] (get): method 'get' is not one of"),
        (0, {"path": "tasks"}, "functions[0] (list): path 'tasks' does not start with /"),
        (0, {"path": "/tasks/"}, "functions[0] (list): path '/tasks/' ends with /"),
        (0, {"path": "/tasks//x"}, "functions[0] (list): path '/tasks//x' has a segment"),
        (0, {"path": "/tasks/{id"}, "functions[0] (list): path '/tasks/{id' has a segment"),
        (0, {"path": "/tasks/a b"}, "functions[0] (list): path '/tasks/a b' has a segment"),
        (0, {"path": "/a/{id}/b/{id}"}, "functions[0] (list): path '/a/{id}/b/{id}' repeats the parameter(s) {id}"),
        (0, {"path": 5}, "functions[0] (list): path 5 is not a string"),
        (3, {"dynamodb_actions": ["dynamodb:*"]}, "functions[3] (update): dynamodb_actions[0] 'dynamodb:*' is not"),
        (3, {"dynamodb_actions": ["dynamodb:Get*"]}, "functions[3] (update): dynamodb_actions[0] 'dynamodb:Get*'"),
        (3, {"dynamodb_actions": ["s3:GetObject"]}, "functions[3] (update): dynamodb_actions[0] 's3:GetObject'"),
        (
            3,
            {"dynamodb_actions": ["dynamodb:GetItem", "dynamodb:getItem"]},
            "functions[3] (update): dynamodb_actions[1] 'dynamodb:getItem'",
        ),
        (3, {"dynamodb_actions": "dynamodb:Scan"}, "functions[3] (update): dynamodb_actions 'dynamodb:Scan' is not a"),
        (3, {"dynamodb_actions": ...}, "functions[3] (update): missing required key 'dynamodb_actions'"),
        (1, {"handler": "create_task"}, "functions[1] (create): handler 'create_task' is not module.function"),
        (1, {"handler": "create-task.handler"}, "functions[1] (create): handler 'create-task.handler'"),
        (1, {"handler": "create_task.handler\n"}, "functions[1] (create): handler 'create_task.handler\\n'"),
        (1, {"handler": ...}, "functions[1] (create): missing required key 'handler'"),
        (4, {"memory": 64}, "functions[4] (delete): memory 64 is not a whole number from 128 to 10240"),
        (4, {"memory": 10241}, "functions[4] (delete): memory 10241 is not a whole number"),
        (4, {"memory": "256"}, "functions[4] (delete): memory '256' is not a whole number"),
        (4, {"memory": True}, "functions[4] (delete): memory True is not a whole number"),
        (4, {"timeout": 0}, "functions[4] (delete): timeout 0 is not a whole number from 1 to 29"),
        (
            4,
            {"timeout": 30},
            "functions[4] (delete): timeout 30 is not a whole number from 1 to 29 (API Gateway's integration timeout",
        ),
        (4, {"timeout": 900}, "functions[4] (delete): timeout 900 is not a whole number"),
        (4, {"timeout": 1.5}, "functions[4] (delete): timeout 1.5 is not a whole number"),
        (4, {"reserved_concurrency": -1}, "functions[4] (delete): reserved_concurrency -1 is neither null nor"),
        (0, {"dynamodb_indexes": "by-status"}, "functions[0] (list): dynamodb_indexes 'by-status' is not a list"),
        (0, {"dynamodb_indexes": ["ix"]}, "functions[0] (list): dynamodb_indexes[0] 'ix' is not a DynamoDB index"),
        (0, {"memroy": 512}, "functions[0] (list): unknown key 'memroy'"),
        (0, {"name": "List"}, "functions[0] (List): name 'List' is not a lowercase letter"),
        (0, {"name": "a" * 33}, f"functions[0] ({'a' * 33}): name '{'a' * 33}' is not"),
        (0, {"name": 7}, "functions[0]: name 7 is not"),
        (0, {"name": ...}, "functions[0]: missing required key 'name'"),
    ],
)
def test_manifest_problems_name_the_entry_and_the_value(index, changes, expected):
    problems = FILTERS["function_manifest_problems"](manifest_with(index, **changes))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected)


def test_duplicate_name_names_both_entries():
    problems = FILTERS["function_manifest_problems"](manifest_with(4, name="get"))
    assert problems == ["functions[4] (get): name 'get' is already used by functions[2] (get)"]


def test_duplicate_route_names_both_entries():
    problems = FILTERS["function_manifest_problems"](manifest_with(3, method="GET"))
    assert problems == ["functions[3] (update): route GET /tasks/{id} is already served by functions[2] (get)"]


def test_routes_differing_only_in_parameter_names_are_duplicates():
    problems = FILTERS["function_manifest_problems"](manifest_with(3, method="GET", path="/tasks/{taskId}"))
    assert len(problems) == 1
    assert problems[0].startswith("functions[3] (update): route GET /tasks/{taskId} is already served by functions[2]")


def test_same_path_with_other_methods_is_fine():
    functions = [*TASKS_MANIFEST, {**TASKS_MANIFEST[0], "name": "options", "method": "OPTIONS"}]
    assert FILTERS["function_manifest_problems"](functions) == []


def test_every_problem_is_reported():
    functions = manifest_with(2, method="FETCH", memory=1, handler="x")
    problems = FILTERS["function_manifest_problems"](functions)
    assert len(problems) == 3
    assert all(problem.startswith("functions[2] (get): ") for problem in problems)


@pytest.mark.parametrize(
    ("functions", "expected"),
    [
        ({"name": "list"}, "functions: expected a list of function entries, got dict"),
        ("list", "functions: expected a list of function entries, got str"),
        (None, "functions: expected a list of function entries, got NoneType"),
        ([], "functions: the manifest is empty"),
        ([*TASKS_MANIFEST, "oops"], "functions[5]: expected a dict"),
    ],
)
def test_manifest_problems_for_malformed_manifests(functions, expected):
    problems = FILTERS["function_manifest_problems"](functions)
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_function_manifest_raises_filter_error_with_every_problem():
    functions = manifest_with(2, method="FETCH")
    functions[4]["timeout"] = 0
    with pytest.raises(AnsibleFilterError) as raised:
        FILTERS["function_manifest"](functions)
    message = str(raised.value)
    assert message.startswith("function_manifest: ")
    assert "functions[2] (get): method 'FETCH'" in message
    assert "functions[4] (delete): timeout 0" in message


def test_normalize_manifest_raises_value_error_without_ansible():
    with pytest.raises(ValueError, match=r"functions\[0\] \(list\): path 'tasks'"):
        function_manifest.normalize_manifest(manifest_with(0, path="tasks"))
