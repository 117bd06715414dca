"""Unit tests of the monitoring filters (plugins/filter/monitoring.py, plugins/plugin_utils/monitoring.py)."""

import copy
import itertools
import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.monitoring import FilterModule
from ansible_collections.serverless.tasks_api.plugins.modules import cloudwatch_metric_alarms
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import monitoring
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.function_manifest import normalize_manifest

REPO_ROOT = Path(__file__).resolve().parents[4]
# The default manifest, as the stack role ships it.
STACK_DEFAULTS = REPO_ROOT / "roles" / "stack" / "defaults" / "main.yml"
TASKS_MANIFEST = normalize_manifest(yaml.safe_load(STACK_DEFAULTS.read_text())["stack_functions"])
FILTERS = FilterModule().filters()
ALARMS = FILTERS["monitoring_alarms"]
DASHBOARD = FILTERS["monitoring_dashboard"]
COMPOSITE_RULE = FILTERS["monitoring_composite_rule"]
COMPOSITE_ALARMS = FILTERS["monitoring_composite_alarms"]
# The suboptions of cloudwatch_metric_alarms' alarms, by name and by alias: the role passes the definitions as they are.
ALARM_SUBOPTIONS = yaml.safe_load(cloudwatch_metric_alarms.DOCUMENTATION)["options"]["alarms"]["suboptions"]
ALARM_OPTIONS = {name: spec for option, spec in ALARM_SUBOPTIONS.items() for name in (option, *spec.get("aliases", []))}
PREFIX = "tasks-api-dev"
SETTINGS = {
    "name_prefix": PREFIX,
    "region": "eu-west-1",
    "api_name": PREFIX,
    "stage": "dev",
    "table_name": f"{PREFIX}-tasks",
}
FUNCTION_NAMES = ["list", "create", "get", "update", "delete"]
DEFAULT_ALARM_NAMES = [
    *(f"{PREFIX}-{name}-{kind}" for name in FUNCTION_NAMES for kind in ("errors", "throttles", "duration")),
    f"{PREFIX}-api-5xx",
    f"{PREFIX}-api-latency",
    f"{PREFIX}-table-read-throttles",
    f"{PREFIX}-table-write-throttles",
    # One per DynamoDB operation the manifest's actions allow (ConditionCheckItem: TransactWriteItems).
    f"{PREFIX}-table-system-errors-delete-item",
    f"{PREFIX}-table-system-errors-get-item",
    f"{PREFIX}-table-system-errors-put-item",
    f"{PREFIX}-table-system-errors-scan",
    f"{PREFIX}-table-system-errors-transact-write-items",
    f"{PREFIX}-table-system-errors-update-item",
]
SIXTH_FUNCTION = {
    "name": "complete",
    "handler": "complete_task.handler",
    "method": "POST",
    "path": "/tasks/{id}/complete",
    "dynamodb_actions": ["dynamodb:UpdateItem"],
    "timeout": 20,
}
ARNS = [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}" for name in DEFAULT_ALARM_NAMES]


def alarms(functions=TASKS_MANIFEST, **settings):
    return ALARMS(functions, {**SETTINGS, **settings})


def by_name(definitions):
    return {alarm["name"]: alarm for alarm in definitions}


def dashboard(functions=TASKS_MANIFEST, alarm_arns=None, **settings):
    return DASHBOARD(functions, {**SETTINGS, **settings}, alarm_arns)


def metric_widgets(body):
    return {widget["properties"]["title"]: widget for widget in body["widgets"] if widget["type"] == "metric"}


# Alarms


def test_the_default_manifest_gives_three_alarms_per_function_then_the_api_and_table_alarms():
    definitions = alarms()
    assert [alarm["name"] for alarm in definitions] == DEFAULT_ALARM_NAMES
    assert len(definitions) == 5 * 3 + 2 + 2 + 6
    kinds = [alarm["kind"] for alarm in definitions]
    assert kinds == [
        *["function_errors", "function_throttles", "function_duration"] * 5,
        "api_5xx",
        "api_latency",
        *["table_throttles"] * 2,
        *["table_system_errors"] * 6,
    ]


def test_every_definition_is_cloudwatch_metric_alarms_suboptions_plus_kind():
    for alarm in alarms(api_4xx_rate_threshold=0.05):
        options = {key: value for key, value in alarm.items() if key != "kind"}
        assert set(options) <= set(ALARM_OPTIONS), alarm["name"]
        assert ("statistic" in options) != ("extended_statistic" in options), alarm["name"]
        for key, value in options.items():
            assert value is not None, (alarm["name"], key)
            if "choices" in ALARM_OPTIONS[key]:
                assert value in ALARM_OPTIONS[key]["choices"], (alarm["name"], key, value)
        assert {"name", "namespace", "metric_name", "dimensions", "period", "evaluation_periods"} <= set(options)
        assert {"threshold", "comparison", "treat_missing_data", "datapoints_to_alarm"} <= set(options)
        assert isinstance(options["threshold"], float)
        assert options["datapoints_to_alarm"] <= options["evaluation_periods"]
        assert 0 < len(options["description"]) <= 1024


def test_function_alarms_watch_the_function_name_with_the_reference_errors_rule():
    named = by_name(alarms())
    errors = named[f"{PREFIX}-get-errors"]
    assert errors["namespace"] == "AWS/Lambda"
    assert errors["metric_name"] == "Errors"
    assert errors["dimensions"] == {"FunctionName": f"{PREFIX}-get"}
    assert (errors["statistic"], errors["comparison"], errors["threshold"]) == (
        "Sum",
        "GreaterThanOrEqualToThreshold",
        5.0,
    )
    assert (errors["period"], errors["evaluation_periods"], errors["datapoints_to_alarm"]) == (300, 1, 1)
    throttles = named[f"{PREFIX}-get-throttles"]
    assert (throttles["metric_name"], throttles["comparison"], throttles["threshold"]) == (
        "Throttles",
        "GreaterThanThreshold",
        0.0,
    )
    assert f"/aws/lambda/{PREFIX}-get" in errors["description"]


@pytest.mark.parametrize(("timeout", "ratio", "threshold"), [(10, 0.8, 8000.0), (3, 0.8, 2400.0), (20, 0.5, 10000.0)])
def test_the_duration_threshold_follows_each_function_timeout(timeout, ratio, threshold):
    manifest = [{**TASKS_MANIFEST[0], "timeout": timeout}, {**TASKS_MANIFEST[1], "timeout": 29}]
    named = by_name(alarms(manifest, duration_ratio=ratio))
    duration = named[f"{PREFIX}-list-duration"]
    assert duration["threshold"] == threshold
    assert named[f"{PREFIX}-create-duration"]["threshold"] == 29 * 1000 * ratio
    assert (duration["metric_name"], duration["extended_statistic"], duration["unit"]) == (
        "Duration",
        "p99",
        "Milliseconds",
    )
    assert duration["comparison"] == "GreaterThanThreshold"
    assert (duration["evaluation_periods"], duration["datapoints_to_alarm"]) == (3, 2)
    assert duration["evaluate_low_sample_count_percentile"] == "evaluate"
    assert f"{timeout} s timeout" in duration["description"]


def test_a_sixth_function_adds_exactly_its_three_alarms():
    before = alarms()
    after = alarms([*TASKS_MANIFEST, SIXTH_FUNCTION])
    added = [alarm for alarm in after if alarm not in before]
    assert [alarm["name"] for alarm in added] == [
        f"{PREFIX}-complete-errors",
        f"{PREFIX}-complete-throttles",
        f"{PREFIX}-complete-duration",
    ]
    assert len(after) == len(before) + 3
    assert [alarm for alarm in after if alarm not in added] == before
    assert by_name(after)[f"{PREFIX}-complete-duration"]["threshold"] == 16000.0


def test_a_function_calling_a_new_dynamodb_operation_adds_its_system_errors_alarm_too():
    searching = {**SIXTH_FUNCTION, "name": "search", "path": "/search", "dynamodb_actions": ["dynamodb:Query"]}
    names = {alarm["name"] for alarm in alarms([*TASKS_MANIFEST, searching])} - set(DEFAULT_ALARM_NAMES)
    assert names == {
        f"{PREFIX}-search-errors",
        f"{PREFIX}-search-throttles",
        f"{PREFIX}-search-duration",
        f"{PREFIX}-table-system-errors-query",
    }


def test_api_alarms_watch_the_stage():
    named = by_name(alarms())
    five_xx, latency = named[f"{PREFIX}-api-5xx"], named[f"{PREFIX}-api-latency"]
    for alarm in (five_xx, latency):
        assert alarm["namespace"] == "AWS/ApiGateway"
        assert alarm["dimensions"] == {"ApiName": PREFIX, "Stage": "dev"}
    assert (five_xx["metric_name"], five_xx["statistic"], five_xx["threshold"]) == ("5XXError", "Sum", 1.0)
    assert five_xx["comparison"] == "GreaterThanOrEqualToThreshold"
    assert (latency["metric_name"], latency["extended_statistic"], latency["threshold"]) == ("Latency", "p99", 2000.0)
    assert latency["unit"] == "Milliseconds"


def test_the_4xx_alarm_appears_only_when_its_rate_is_set():
    assert not [alarm for alarm in alarms() if alarm["kind"] == "api_4xx"]
    assert not [alarm for alarm in alarms(api_4xx_rate_threshold=None) if alarm["kind"] == "api_4xx"]
    with_4xx = alarms(api_4xx_rate_threshold=0.05)
    (four_xx,) = [alarm for alarm in with_4xx if alarm["kind"] == "api_4xx"]
    assert four_xx["name"] == f"{PREFIX}-api-4xx"
    assert (four_xx["metric_name"], four_xx["statistic"], four_xx["threshold"]) == ("4XXError", "Average", 0.05)
    assert (four_xx["evaluation_periods"], four_xx["datapoints_to_alarm"]) == (3, 3)
    assert [alarm for alarm in with_4xx if alarm is not four_xx] == alarms()
    assert "5%" in four_xx["description"]


def test_table_alarms_use_the_per_table_throttle_events_and_per_operation_system_errors():
    table_alarms = [alarm for alarm in alarms() if alarm["namespace"] == "AWS/DynamoDB"]
    throttles = [alarm for alarm in table_alarms if alarm["kind"] == "table_throttles"]
    assert [alarm["metric_name"] for alarm in throttles] == ["ReadThrottleEvents", "WriteThrottleEvents"]
    assert all(alarm["dimensions"] == {"TableName": f"{PREFIX}-tasks"} for alarm in throttles)
    assert "ThrottledRequests" not in {alarm["metric_name"] for alarm in table_alarms}
    system_errors = [alarm for alarm in table_alarms if alarm["kind"] == "table_system_errors"]
    assert {alarm["metric_name"] for alarm in system_errors} == {"SystemErrors"}
    assert [alarm["dimensions"]["Operation"] for alarm in system_errors] == [
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Scan",
        "TransactWriteItems",
        "UpdateItem",
    ]
    for alarm in table_alarms:
        assert (alarm["statistic"], alarm["comparison"], alarm["threshold"]) == ("Sum", "GreaterThanThreshold", 0.0)


def test_every_alarm_treats_no_data_as_healthy_and_percentiles_evaluate_few_samples():
    definitions = alarms(api_4xx_rate_threshold=0.05)
    assert {alarm["treat_missing_data"] for alarm in definitions} == {"notBreaching"}
    for alarm in definitions:
        assert ("evaluate_low_sample_count_percentile" in alarm) == ("extended_statistic" in alarm)
        assert list(alarm["dimensions"]) == sorted(alarm["dimensions"])


@pytest.mark.parametrize(
    ("key", "value", "changed"),
    [
        ("api_5xx_threshold", 3, f"{PREFIX}-api-5xx"),
        ("api_latency_p99_ms", 1500, f"{PREFIX}-api-latency"),
    ],
)
def test_changing_one_threshold_changes_exactly_one_definition(key, value, changed):
    before, after = alarms(), alarms(**{key: value})
    differing = [new["name"] for old, new in zip(before, after, strict=True) if old != new]
    assert differing == [changed]
    assert by_name(after)[changed]["threshold"] == float(value)


@pytest.mark.parametrize(
    ("key", "value", "suffix"),
    [
        ("errors_threshold", 10, "errors"),
        ("errors_period", 600, "errors"),
        ("throttles_threshold", 2, "throttles"),
        ("duration_ratio", 0.9, "duration"),
    ],
)
def test_a_function_setting_changes_that_alarm_of_each_function_only(key, value, suffix):
    before, after = alarms(), alarms(**{key: value})
    differing = [new["name"] for old, new in zip(before, after, strict=True) if old != new]
    assert differing == [f"{PREFIX}-{name}-{suffix}" for name in FUNCTION_NAMES]


def test_absent_and_null_settings_take_the_defaults():
    explicit = {**monitoring.DEFAULTS, **SETTINGS}
    assert alarms() == ALARMS(TASKS_MANIFEST, explicit)
    assert alarms() == alarms(errors_threshold=None, period=None)
    assert monitoring.DEFAULTS["errors_threshold"] == 5
    assert monitoring.DEFAULTS["errors_period"] == 300


def test_an_unnormalized_manifest_gets_the_default_timeout():
    entry = {key: TASKS_MANIFEST[0][key] for key in ("name", "handler", "method", "path", "dynamodb_actions")}
    assert by_name(alarms([entry]))[f"{PREFIX}-list-duration"]["threshold"] == 8000.0


def test_the_reserved_concurrency_shapes_the_throttles_description():
    manifest = [{**TASKS_MANIFEST[0], "reserved_concurrency": 0}, {**TASKS_MANIFEST[1], "reserved_concurrency": 7}]
    named = by_name(alarms(manifest))
    assert "switches the function off" in named[f"{PREFIX}-list-throttles"]["description"]
    assert "all 7 executions" in named[f"{PREFIX}-create-throttles"]["description"]


def test_the_alarms_do_not_change_their_inputs():
    manifest, settings = copy.deepcopy(TASKS_MANIFEST), {**SETTINGS, "api_4xx_rate_threshold": 0.05}
    kept = copy.deepcopy(settings)
    ALARMS(manifest, settings)
    DASHBOARD(manifest, settings, ARNS)
    assert (manifest, settings) == (TASKS_MANIFEST, kept)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"name_prefix": None}, "settings.name_prefix: required"),
        ({"api_name": None}, "settings.api_name: required"),
        ({"stage": None}, "settings.stage: required"),
        ({"table_name": None}, "settings.table_name: required"),
        ({"name_prefix": ""}, "settings.name_prefix: expected the function name prefix"),
        ({"stage": "dev stage"}, "settings.stage: expected a stage name"),
        ({"table_name": "t"}, "settings.table_name: expected a DynamoDB table name"),
        ({"region": "Ireland"}, "settings.region: expected an AWS region name"),
        ({"error_threshold": 5}, "settings.error_threshold: unknown key"),
        ({"errors_threshold": 0}, "settings.errors_threshold: expected a number more than 0, got 0"),
        ({"errors_threshold": -2}, "settings.errors_threshold: expected a number more than 0"),
        ({"errors_threshold": "5"}, "settings.errors_threshold: expected a number more than 0, got '5'"),
        ({"errors_threshold": True}, "settings.errors_threshold: expected a number"),
        ({"errors_threshold": float("nan")}, "settings.errors_threshold: expected a number"),
        ({"throttles_threshold": -1}, "settings.throttles_threshold: expected a number at least 0"),
        ({"duration_ratio": 0}, r"settings.duration_ratio: expected a number more than 0 and at most 1, got 0"),
        ({"duration_ratio": 1.2}, r"settings.duration_ratio: expected a number more than 0 and at most 1"),
        ({"api_5xx_threshold": 0}, "settings.api_5xx_threshold: expected a number more than 0"),
        ({"api_latency_p99_ms": -100}, "settings.api_latency_p99_ms: expected a number more than 0"),
        ({"api_4xx_rate_threshold": 0}, "settings.api_4xx_rate_threshold: expected a number more than 0"),
        ({"api_4xx_rate_threshold": 5}, "settings.api_4xx_rate_threshold: expected a number more than 0 and at most 1"),
        ({"table_throttles_threshold": -1}, "settings.table_throttles_threshold: expected a number at least 0"),
        ({"table_system_errors_threshold": "x"}, "settings.table_system_errors_threshold: expected a number"),
        ({"errors_period": 90}, "settings.errors_period: expected seconds, a multiple of 60 from 60 to 86400"),
        ({"errors_period": 0}, "settings.errors_period: expected seconds"),
        ({"period": 30}, "settings.period: expected seconds, a multiple of 60 from 60 to 28800"),
        ({"period": 86400}, "settings.period: expected seconds"),
        ({"period": 300.0}, "settings.period: expected seconds"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        monitoring.monitoring_alarms(TASKS_MANIFEST, {**SETTINGS, **settings})


def test_every_settings_problem_is_reported_at_once():
    with pytest.raises(ValueError) as error:
        monitoring.monitoring_alarms(TASKS_MANIFEST, {"name_prefix": PREFIX, "errors_threshold": 0, "colour": "red"})
    message = str(error.value)
    for part in ("settings.colour: unknown key", "settings.api_name: required", "settings.errors_threshold"):
        assert part in message


@pytest.mark.parametrize("settings", [None, [], "tasks-api-dev"])
def test_settings_must_be_a_dict(settings):
    with pytest.raises(ValueError, match="settings: expected a dict"):
        monitoring.monitoring_alarms(TASKS_MANIFEST, settings)


def test_a_bad_manifest_is_named():
    with pytest.raises(ValueError, match=r"functions\[1\] \(create\): timeout 0"):
        monitoring.monitoring_alarms([TASKS_MANIFEST[0], {**TASKS_MANIFEST[1], "timeout": 0}], SETTINGS)
    with pytest.raises(ValueError, match="functions: the manifest is empty"):
        monitoring.monitoring_alarms([], SETTINGS)
    with pytest.raises(ValueError, match="functions: expected a list"):
        monitoring.monitoring_alarms({"list": {}}, SETTINGS)


def test_function_names_longer_than_lambda_allows_are_named():
    with pytest.raises(ValueError, match=r"settings.name_prefix: the function names .* longer than the 64"):
        monitoring.monitoring_alarms(TASKS_MANIFEST, {**SETTINGS, "name_prefix": "p" * 60})


# Dashboard


def test_each_function_metric_has_one_widget_with_one_line_per_function():
    widgets = metric_widgets(dashboard())
    for title, metric_name, stat in [
        ("Lambda invocations", "Invocations", "Sum"),
        ("Lambda errors", "Errors", "Sum"),
        ("Lambda throttles", "Throttles", "Sum"),
        ("Lambda duration p99 (ms)", "Duration", "p99"),
    ]:
        properties = widgets[title]["properties"]
        assert properties["stat"] == stat
        assert properties["metrics"] == [
            ["AWS/Lambda", metric_name, "FunctionName", f"{PREFIX}-{name}", {"label": name}] for name in FUNCTION_NAMES
        ]
    assert sum(1 for widget in widgets.values() if widget["properties"]["metrics"][0][0] == "AWS/Lambda") == 4


def test_a_sixth_function_appears_as_a_line_in_each_function_widget():
    before, after = metric_widgets(dashboard()), metric_widgets(dashboard([*TASKS_MANIFEST, SIXTH_FUNCTION]))
    assert set(before) == set(after)
    for title, widget in after.items():
        lines = widget["properties"]["metrics"]
        if lines[0][0] == "AWS/Lambda":
            assert lines[:-1] == before[title]["properties"]["metrics"]
            assert lines[-1][3] == f"{PREFIX}-complete"
        else:
            assert widget == before[title]


def test_the_api_and_table_widgets():
    widgets = metric_widgets(dashboard())
    api_dimensions = ["ApiName", PREFIX, "Stage", "dev"]
    assert widgets["API requests"]["properties"]["metrics"] == [
        ["AWS/ApiGateway", "Count", *api_dimensions, {"label": "requests"}]
    ]
    assert widgets["API requests"]["properties"]["stat"] == "Sum"
    latency = widgets["API latency (ms)"]["properties"]
    assert [line[-1]["stat"] for line in latency["metrics"]] == ["p50", "p90", "p99"]
    assert latency["annotations"]["horizontal"] == [{"label": "p99 alarm", "value": 2000}]
    assert [line[1] for line in widgets["API errors"]["properties"]["metrics"]] == ["4XXError", "5XXError"]
    table = ["TableName", f"{PREFIX}-tasks"]
    assert [line[:4] for line in widgets["DynamoDB consumed read capacity"]["properties"]["metrics"]] == [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", *table]
    ]
    assert [line[:4] for line in widgets["DynamoDB consumed write capacity"]["properties"]["metrics"]] == [
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", *table]
    ]
    assert [line[1] for line in widgets["DynamoDB throttles"]["properties"]["metrics"]] == [
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    ]
    assert {widget["properties"]["region"] for widget in widgets.values()} == {"eu-west-1"}


def test_the_dashboard_is_deterministic_and_valid_json():
    first, second = dashboard(alarm_arns=ARNS), dashboard(alarm_arns=list(ARNS))
    assert first == second
    text = json.dumps(first, sort_keys=True)
    assert text == json.dumps(second, sort_keys=True)
    assert json.loads(text) == first


@pytest.mark.parametrize("alarm_arns", [None, []])
def test_no_alarm_widget_without_arns(alarm_arns):
    body = dashboard(alarm_arns=alarm_arns)
    assert "alarm" not in {widget["type"] for widget in body["widgets"]}
    assert body["widgets"][0]["y"] == 0


def test_the_alarm_widget_lists_the_arns_first():
    body = dashboard(alarm_arns=ARNS)
    alarm_widgets = [widget for widget in body["widgets"] if widget["type"] == "alarm"]
    assert alarm_widgets == [body["widgets"][0]]
    assert body["widgets"][0]["properties"]["alarms"] == ARNS
    assert (body["widgets"][0]["x"], body["widgets"][0]["y"], body["widgets"][0]["width"]) == (0, 0, 24)
    without = dashboard()
    shift = body["widgets"][0]["height"]
    assert [{**widget, "y": widget["y"] - shift} for widget in body["widgets"][1:]] == without["widgets"]


def test_the_alarm_widget_takes_any_iterable_of_arns():
    assert dashboard(alarm_arns=iter(ARNS)) == dashboard(alarm_arns=ARNS)


@pytest.mark.parametrize("functions", [TASKS_MANIFEST, [*TASKS_MANIFEST, SIXTH_FUNCTION], TASKS_MANIFEST[:1]])
def test_widgets_fit_the_24_column_grid_without_overlapping(functions):
    widgets = dashboard(functions, alarm_arns=ARNS)["widgets"]
    cells = set()
    for widget in widgets:
        assert set(widget) == {"type", "x", "y", "width", "height", "properties"}
        assert widget["x"] >= 0 and widget["y"] >= 0 and widget["width"] >= 1 and widget["height"] >= 1
        assert widget["x"] + widget["width"] <= 24
        covered = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not covered & cells, widget
        cells |= covered
    assert [(widget["y"], widget["x"]) for widget in widgets] == sorted((w["y"], w["x"]) for w in widgets)


def test_the_dashboard_takes_the_alarm_settings_and_draws_their_thresholds():
    widgets = metric_widgets(dashboard(api_latency_p99_ms=1500, errors_threshold=3, errors_period=600, period=60))
    assert widgets["API latency (ms)"]["properties"]["annotations"]["horizontal"][0]["value"] == 1500
    errors = widgets["Lambda errors"]["properties"]
    assert (errors["period"], errors["annotations"]["horizontal"][0]["value"]) == (600, 3)
    assert widgets["Lambda invocations"]["properties"]["period"] == 60


def generated_manifest(count):
    """``count`` functions fn00, fn01 ... cycling the default manifest's handlers, methods and actions."""
    return normalize_manifest(
        [
            {
                **{key: TASKS_MANIFEST[index % 5][key] for key in ("handler", "method", "dynamodb_actions")},
                "name": f"fn{index:02d}",
                "path": f"/fn{index:02d}" + ("/{id}" if "{id}" in TASKS_MANIFEST[index % 5]["path"] else ""),
            }
            for index in range(count)
        ]
    )


def alarm_widgets(body):
    return [widget for widget in body["widgets"] if widget["type"] == "alarm"]


@pytest.mark.parametrize(("count", "titles"), [(100, ["Alarms"]), (101, ["Alarms (1/2)", "Alarms (2/2)"])])
def test_alarms_beyond_100_go_to_another_alarm_widget(count, titles):
    arns = [f"{ARNS[0]}-{index}" for index in range(count)]
    body = dashboard(alarm_arns=arns)
    widgets = alarm_widgets(body)
    assert [widget["properties"]["title"] for widget in widgets] == titles
    assert [len(widget["properties"]["alarms"]) for widget in widgets] == [100, count - 100][: len(titles)]
    assert [arn for widget in widgets for arn in widget["properties"]["alarms"]] == arns
    assert widgets == body["widgets"][: len(widgets)]
    assert [(widget["x"], widget["y"], widget["width"]) for widget in widgets] == [
        (0, 6 * i, 24) for i in range(len(titles))
    ]
    assert {widget["properties"]["sortBy"] for widget in widgets} == {"stateUpdatedTimestamp"}


def test_the_alarms_of_64_functions_fill_three_alarm_widgets():
    functions = generated_manifest(64)
    names = [f"{PREFIX}-api-unhealthy"] + [alarm["name"] for alarm in alarms(functions)]
    arns = [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}" for name in names]
    assert len(arns) == 1 + 64 * 3 + 2 + 2 + 6
    body = dashboard(functions, alarm_arns=arns)
    widgets = alarm_widgets(body)
    assert [widget["properties"]["title"] for widget in widgets] == ["Alarms (1/3)", "Alarms (2/3)", "Alarms (3/3)"]
    assert [arn for widget in widgets for arn in widget["properties"]["alarms"]] == arns
    assert len(metric_widgets(body)["Lambda errors"]["properties"]["metrics"]) == 64
    assert len(json.dumps(body, sort_keys=True, separators=(",", ":"))) < monitoring.MAX_DASHBOARD_BODY / 10


def test_a_dashboard_body_over_1_mb_is_refused_with_its_size():
    # 255-character alarm names: 4000 ARNs make 40 alarm widgets and more than 1,000,000 bytes.
    arns = [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{index:0>255}" for index in range(4000)]
    with pytest.raises(
        ValueError,
        match=r"^functions: the dashboard body would be \d+ bytes \(4000 alarms\), more than the 1000000 bytes",
    ):
        monitoring.monitoring_dashboard(TASKS_MANIFEST, SETTINGS, arns)
    assert monitoring.monitoring_dashboard(TASKS_MANIFEST, SETTINGS, arns[:3000])["widgets"]


def test_a_dashboard_of_more_than_500_widgets_is_refused(monkeypatch):
    monkeypatch.setattr(monitoring, "MAX_DASHBOARD_WIDGETS", len(dashboard(alarm_arns=ARNS)["widgets"]))
    assert dashboard(alarm_arns=ARNS)
    with pytest.raises(ValueError, match=r"^functions: the dashboard would have 15 widgets \(101 alarms\)"):
        monitoring.monitoring_dashboard(TASKS_MANIFEST, SETTINGS, [f"{ARNS[0]}-{index}" for index in range(101)])


@pytest.mark.parametrize(
    ("settings", "alarm_arns", "message"),
    [
        ({"region": None}, None, "settings.region: required"),
        ({"table_name": None}, None, "settings.table_name: required"),
        ({"colour": "red"}, None, "settings.colour: unknown key"),
        ({}, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", "alarm_arns: expected a list"),
        ({}, ["arn:aws:sns:eu-west-1:123456789012:topic"], r"alarm_arns\[0\]: expected a CloudWatch alarm ARN"),
        ({}, [ARNS[0], ARNS[0]], r"alarm_arns\[1\]: .* is listed twice"),
    ],
)
def test_bad_dashboard_inputs_are_named(settings, alarm_arns, message):
    with pytest.raises(ValueError, match=message):
        monitoring.monitoring_dashboard(TASKS_MANIFEST, {**SETTINGS, **settings}, alarm_arns)


# Composite alarm rule


def test_the_composite_rule_quotes_each_name_in_order():
    assert COMPOSITE_RULE(["b", "a (old)", "c"]) == 'ALARM("b") OR ALARM("a (old)") OR ALARM("c")'
    assert COMPOSITE_RULE(["only"]) == 'ALARM("only")'


def test_the_composite_rule_of_every_alarm():
    names = [alarm["name"] for alarm in alarms()]
    rule = COMPOSITE_RULE(iter(names))
    assert rule.count("ALARM(") == len(names) == 25
    assert rule.startswith(f'ALARM("{PREFIX}-list-errors") OR ALARM("{PREFIX}-list-throttles")')


# Composite alarms: one, or groups and one over them

TOP = f"{PREFIX}-api-unhealthy"
# 52 names of 184 characters: 52 x (184 + len('ALARM("")')) + 51 x len(" OR ") = 10240, the longest AlarmRule.
FITTING = [f"{index:0>184}" for index in range(52)]


def composite_members(functions, prefix=PREFIX):
    definitions = alarms(functions, name_prefix=prefix, api_name=prefix)
    return [alarm["name"] for alarm in definitions if alarm["kind"].startswith(("api_", "function_"))]


def test_one_composite_alarm_when_the_rule_fits():
    names = composite_members(TASKS_MANIFEST)
    assert COMPOSITE_ALARMS(names, TOP) == [{"name": TOP, "rule": COMPOSITE_RULE(names)}]
    assert COMPOSITE_ALARMS(iter(["only"]), TOP) == [{"name": TOP, "rule": 'ALARM("only")'}]


def test_a_rule_of_exactly_10240_characters_is_one_alarm():
    (top,) = COMPOSITE_ALARMS(FITTING, TOP)
    assert len(top["rule"]) == 10240 == monitoring.MAX_ALARM_RULE
    assert top == {"name": TOP, "rule": COMPOSITE_RULE(FITTING)}


def test_one_more_member_makes_two_groups_and_the_alarm_over_them():
    names = [*FITTING, "one-more"]
    with pytest.raises(ValueError, match="group the alarms in more than one composite alarm"):
        monitoring.monitoring_composite_rule(names)
    plan = COMPOSITE_ALARMS(names, TOP)
    assert plan == [
        {"name": f"{TOP}-1", "rule": COMPOSITE_RULE(FITTING)},
        {"name": f"{TOP}-2", "rule": 'ALARM("one-more")'},
        {"name": TOP, "rule": f'ALARM("{TOP}-1") OR ALARM("{TOP}-2")'},
    ]


def members_of(rule):
    return [term[len('ALARM("') : -len('")')] for term in rule.split(" OR ")]


@pytest.mark.parametrize("prefix", [PREFIX, "tasks-api-integration-scale-check", "p" * 40])
def test_the_alarms_of_64_functions(prefix):
    names = composite_members(generated_manifest(64), prefix)
    assert len(names) == 64 * 3 + 2
    plan = COMPOSITE_ALARMS(names, f"{prefix}-api-unhealthy")
    *groups, top = plan
    assert top["name"] == f"{prefix}-api-unhealthy"
    assert all(len(alarm["rule"]) <= 10240 for alarm in plan)
    if len(" OR ".join(f'ALARM("{name}")' for name in names)) <= 10240:
        assert groups == [] and top["rule"] == COMPOSITE_RULE(names)
        return
    assert [group["name"] for group in groups] == [f"{top['name']}-{index}" for index in range(1, len(groups) + 1)]
    assert members_of(top["rule"]) == [group["name"] for group in groups]
    assert [name for group in groups for name in members_of(group["rule"])] == names
    # As few groups as fit: each but the last is full (its next member would not fit).
    for group, following in itertools.pairwise(groups):
        assert len(group["rule"]) + len(' OR ALARM("")') + len(members_of(following["rule"])[0]) > 10240


def test_the_64_functions_need_groups_only_with_long_names():
    assert len(COMPOSITE_ALARMS(composite_members(generated_manifest(64)), TOP)) == 1
    long_prefix = "tasks-api-integration-scale-check"
    assert len(COMPOSITE_ALARMS(composite_members(generated_manifest(64), long_prefix), f"{long_prefix}-x")) == 3


@pytest.mark.parametrize(
    ("alarm_names", "name", "message"),
    [
        (["a"], "", "name: expected a composite alarm name of 1 to 255 characters"),
        (["a"], None, "name: expected a composite alarm name"),
        (["a"], "x" * 256, "name: expected a composite alarm name"),
        (["a"], 'say "hi"', "name: expected a composite alarm name .* without a double quote"),
        ([], TOP, "alarm_names: expected a non-empty list"),
        (["a", "a"], TOP, r"alarm_names\[1\]: 'a' is listed twice"),
        ([*FITTING, f"{TOP}-1"], TOP, f"name: the group composite alarms {TOP}-1 of '{TOP}' would .* have the name"),
        ([*FITTING, "b"], "x" * 254, "name: the group composite alarms x+-1, x+-2 of .* longer than 255 characters"),
        (
            [f"{index:0>255}" for index in range(1500)],
            "x" * 250,
            r"alarm_names: the 1500 alarms take 40 group composite alarms, whose rule is \d+ characters, more than",
        ),
    ],
)
def test_bad_composite_alarm_inputs_are_named(alarm_names, name, message):
    with pytest.raises(ValueError, match=message):
        monitoring.monitoring_composite_alarms(alarm_names, name)


@pytest.mark.parametrize(
    ("alarm_names", "message"),
    [
        ([], r"alarm_names: expected a non-empty list of alarm names, got \[\]"),
        (None, "alarm_names: expected a non-empty list"),
        ("a", "alarm_names: expected a non-empty list"),
        (["a", ""], r"alarm_names\[1\]: expected an alarm name of 1 to 255 characters"),
        (["a", 3], r"alarm_names\[1\]: expected an alarm name"),
        (["a" * 256], r"alarm_names\[0\]: expected an alarm name of 1 to 255 characters"),
        (['say "hi"'], r"alarm_names\[0\]: .* has a double quote"),
        (["a\nb"], r"alarm_names\[0\]: .* control character"),
        (["a", "b", "a"], r"alarm_names\[2\]: 'a' is listed twice"),
        ([f"{index:0>250}" for index in range(50)], "alarm_names: the rule for 50 alarms is .* more than the 10240"),
    ],
)
def test_bad_alarm_names_are_named(alarm_names, message):
    with pytest.raises(ValueError, match=message):
        monitoring.monitoring_composite_rule(alarm_names)


# Filter errors


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("monitoring_alarms", (TASKS_MANIFEST, {**SETTINGS, "name_prefix": None}), "settings.name_prefix: required"),
        ("monitoring_alarms", ([], SETTINGS), "functions: the manifest is empty"),
        ("monitoring_dashboard", (TASKS_MANIFEST, {**SETTINGS, "region": None}), "settings.region: required"),
        ("monitoring_dashboard", (TASKS_MANIFEST, SETTINGS, ["x"]), r"alarm_arns\[0\]"),
        ("monitoring_composite_rule", ([],), "alarm_names: expected a non-empty list"),
        ("monitoring_composite_alarms", (["a"], ""), "name: expected a composite alarm name"),
    ],
)
def test_filters_raise_ansible_filter_errors_named_after_the_filter(name, args, message):
    with pytest.raises(AnsibleFilterError, match=f"^{name}: {message}"):
        FILTERS[name](*args)


# monitoring_function_alarm_names

FUNCTION_ALARM_NAMES = FILTERS["monitoring_function_alarm_names"]


def test_function_alarm_names_are_those_of_the_alarms_created():
    names = FUNCTION_ALARM_NAMES(TASKS_MANIFEST, PREFIX)

    created = [alarm["name"] for alarm in ALARMS(TASKS_MANIFEST, SETTINGS) if alarm["kind"].startswith("function_")]
    assert list(names) == FUNCTION_NAMES
    assert [name for function in FUNCTION_NAMES for name in names[function]] == created
    assert names["list"] == [f"{PREFIX}-list-errors", f"{PREFIX}-list-throttles", f"{PREFIX}-list-duration"]


@pytest.mark.parametrize("prefix", ["", "bad prefix", None])
def test_function_alarm_names_reject_a_bad_prefix(prefix):
    with pytest.raises(AnsibleFilterError, match="name_prefix"):
        FUNCTION_ALARM_NAMES(TASKS_MANIFEST, prefix)
