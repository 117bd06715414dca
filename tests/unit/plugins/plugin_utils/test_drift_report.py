"""Unit tests of the drift report logic (plugins/plugin_utils/drift_report.py)."""

from ansible_collections.serverless.tasks_api.plugins.plugin_utils.drift_report import (
    NOT_REPORTED,
    entries_from_result,
    flatten_diff,
    resources,
    summary,
)

TASK = "Create or update each function"


def test_a_diff_of_dictionaries_gives_one_entry_per_differing_leaf():
    before = {"memory_size": 256, "tags": {"Environment": "local"}, "timeout": 10}
    after = {"memory_size": 128, "tags": {"Environment": "local", "Application": "tasks-api"}, "timeout": 10}
    assert flatten_diff(before, after) == [
        {"property": "memory_size", "expected": 128, "actual": 256},
        {"property": "tags.Application", "expected": "tasks-api", "actual": None},
    ]


def test_keys_only_the_actual_side_has_count_as_drift_too():
    assert flatten_diff({"a": 1, "extra": 2}, {"a": 1}) == [{"property": "extra", "expected": None, "actual": 2}]


def test_json_strings_are_compared_as_data_and_other_strings_whole():
    assert flatten_diff('{"period": 60}', '{"period": 300}') == [{"property": "period", "expected": 300, "actual": 60}]
    assert flatten_diff("old text", "new text") == [
        {"property": "(value)", "expected": "new text", "actual": "old text"}
    ]
    assert flatten_diff("{not json", "{not json") == []


def test_lists_are_compared_whole():
    assert flatten_diff({"ids": [1, 2]}, {"ids": [2, 1]}) == [{"property": "ids", "expected": [2, 1], "actual": [1, 2]}]


def test_changed_loop_items_are_named_by_their_label_and_unchanged_ones_left_out():
    result = {
        "changed": True,
        "results": [
            {"changed": False, "_ansible_item_label": "tasks-api-local-list"},
            {
                "changed": True,
                "_ansible_item_label": "tasks-api-local-get",
                "diff": {"before": {"memory_size": 256}, "after": {"memory_size": 128}},
            },
        ],
    }
    assert entries_from_result(TASK, result) == [
        {"resource": "tasks-api-local-get", "property": "memory_size", "expected": 128, "actual": 256, "task": TASK}
    ]


def test_a_list_of_diffs_is_flattened_in_order():
    result = {
        "changed": True,
        "invocation": {"module_args": {"name": "t"}},
        "diff": [{"before": {"a": 1}, "after": {"a": 2}}, {"before": {"b": 1}, "after": {"b": 3}}],
    }
    assert [entry["property"] for entry in entries_from_result("x", result)] == ["a", "b"]


def test_a_list_module_names_each_resource_by_its_diff_header():
    result = {
        "changed": True,
        "invocation": {"module_args": {"alarms": []}},
        "diff": [
            {"before_header": "a-5xx", "after_header": "a-5xx", "before": {"threshold": 7}, "after": {"threshold": 1}},
            {"before_header": "b-errors", "after_header": "b-errors", "before": {}, "after": {"period": 60}},
        ],
    }
    assert entries_from_result("Alarms", result) == [
        {"resource": "a-5xx", "property": "threshold", "expected": 1, "actual": 7, "task": "Alarms"},
        {"resource": "b-errors", "property": "period", "expected": 60, "actual": None, "task": "Alarms"},
    ]


def test_a_result_without_a_diff_still_names_its_resource_from_the_module_arguments():
    result = {"changed": True, "invocation": {"module_args": {"name": "tasks-api-local-vpc", "cidr_block": "10/16"}}}
    assert entries_from_result("Create or update the VPC", result) == [
        {
            "resource": "tasks-api-local-vpc",
            "property": NOT_REPORTED,
            "expected": None,
            "actual": None,
            "task": "Create or update the VPC",
        }
    ]


def test_without_a_name_the_task_is_the_resource_and_the_message_the_detail():
    result = {"changed": True, "msg": "Check mode: the alias would move."}
    (entry,) = entries_from_result("Report the alias", result)
    assert (entry["resource"], entry["property"], entry["detail"]) == (
        "Report the alias",
        NOT_REPORTED,
        "Check mode: the alias would move.",
    )


def test_a_drifted_settings_report_gives_one_entry_per_setting_leaf():
    result = {
        "changed": True,
        "_ansible_item_label": "/aws/lambda/tasks-api-local-list",
        "msg": [
            {"setting": "retention", "actual": 7, "desired": 30},
            {"setting": "tags", "actual": {"Environment": "local"}, "desired": {"Environment": "local", "A": "b"}},
        ],
    }
    assert entries_from_result("Report", result) == [
        {"resource": "/aws/lambda/tasks-api-local-list", "property": "retention", "expected": 30, "actual": 7,
         "task": "Report"},
        {"resource": "/aws/lambda/tasks-api-local-list", "property": "tags.A", "expected": "b", "actual": None,
         "task": "Report"},
    ]  # fmt: skip


def test_a_label_naming_its_changes_gives_one_entry_per_property():
    result = {"changed": True, "_ansible_item_label": "tasks-api-local-api-5xx: threshold 7 -> 1, description"}
    entries = entries_from_result("Alarms", result)
    assert [(e["resource"], e["property"], e["expected"], e["actual"]) for e in entries] == [
        ("tasks-api-local-api-5xx", "threshold", "1", "7"),
        ("tasks-api-local-api-5xx", "description", None, None),
    ]


def test_a_label_with_values_that_cannot_be_split_is_kept_whole():
    label = "tasks-api-local-api-5xx: actions alarm a, ok b -> alarm c, ok d"
    (entry,) = entries_from_result("Alarms", {"changed": True, "_ansible_item_label": label})
    assert (entry["resource"], entry["property"], entry["detail"]) == (
        "tasks-api-local-api-5xx",
        NOT_REPORTED,
        "actions alarm a, ok b -> alarm c, ok d",
    )


def test_unchanged_skipped_and_failed_results_give_nothing():
    assert entries_from_result("t", {"changed": False}) == []
    assert entries_from_result("t", {"changed": True, "skipped": True}) == []
    assert entries_from_result("t", {"changed": True, "failed": True}) == []
    assert entries_from_result("t", {"changed": False, "results": [{"changed": False}]}) == []


def test_resources_and_summary_count_each_resource_once():
    entries = [{"resource": "a"}, {"resource": "b"}, {"resource": "a"}]
    assert resources(entries) == ["a", "b"]
    assert summary(entries, "/o/local-drift.json") == "2 drifted resources: a, b; report at /o/local-drift.json"
    assert summary(entries[:1], "p") == "1 drifted resource: a; report at p"
    assert summary([], "p") == "No drift; report at p"
