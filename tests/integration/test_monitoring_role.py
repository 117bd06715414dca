"""The monitoring role against a private local endpoint: alarms from the manifest, their topic, composite, dashboard."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from aws_calls import recorded_calls, writes
from playbook_runner import converge_site, read_outputs, rerun_and_dry_run

PREFIX = "tasks-api-local"
ACCOUNT = "123456789012"
FUNCTIONS = ("list", "create", "get", "update", "delete")
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PREFIX}-alarms"
ALARM_ARN_PREFIX = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
COMPOSITE = f"{PREFIX}-api-unhealthy"
ALARM_TASK = "Create or update each metric alarm, notifying the alarm topic"
# What the default manifest's DynamoDB actions allow, as SystemErrors' Operation dimension.
OPERATIONS = ("DeleteItem", "GetItem", "PutItem", "Scan", "TransactWriteItems", "UpdateItem")
FUNCTION_ALARMS = [f"{PREFIX}-{name}-{kind}" for name in FUNCTIONS for kind in ("errors", "throttles", "duration")]
API_ALARMS = [f"{PREFIX}-api-5xx", f"{PREFIX}-api-latency"]
TABLE_ALARMS = [f"{PREFIX}-table-read-throttles", f"{PREFIX}-table-write-throttles"] + [
    f"{PREFIX}-table-system-errors-{kebab}"
    for kebab in ("delete-item", "get-item", "put-item", "scan", "transact-write-items", "update-item")
]
ALARMS = FUNCTION_ALARMS + API_ALARMS + TABLE_ALARMS


@pytest.fixture(scope="module")
def deployed(local_endpoint, tmp_path_factory):
    """The whole stack converged once, after a dry run on the empty account."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    dry_run = converge_site(local_endpoint.url, outputs, "all", "--check", "--diff")
    assert dry_run.returncode == 0, dry_run.describe()
    assert local_endpoint.client("sns").list_topics()["Topics"] == []
    assert local_endpoint.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    first = converge_site(local_endpoint.url, outputs, "all")
    assert first.returncode == 0, first.describe()
    monitoring = read_outputs(outputs)["monitoring"]
    return SimpleNamespace(endpoint=local_endpoint, outputs=outputs, dry_run=dry_run, monitoring=monitoring)


def metric_alarms(endpoint) -> dict:
    found = endpoint.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{PREFIX}-")["MetricAlarms"]
    return {alarm["AlarmName"]: alarm for alarm in found}


def composite_alarm(endpoint) -> dict:
    cloudwatch = endpoint.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[COMPOSITE], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    return alarm


def alarm_task_result(run) -> dict:
    """The result of the one call that converges every metric alarm."""
    tasks = [task for play in run.output.get("plays", []) for task in play["tasks"]]
    (task,) = [task for task in tasks if task["task"]["name"].split(" : ", 1)[-1] == ALARM_TASK]
    (result,) = task["hosts"].values()
    return result


def changed_alarms(run) -> list[str]:
    """The alarms the alarm task changed (or, in check mode, would change), by its per-alarm result."""
    return [name for name, alarm in alarm_task_result(run)["alarms"].items() if alarm["changed"]]


def alarm_changes(run) -> dict[str, dict[str, tuple]]:
    """Each alarm of the alarm task's --diff with its differing settings, as (before, after)."""
    return {
        entry["after_header"]: {
            key: (entry["before"].get(key), value)
            for key, value in entry["after"].items()
            if entry["before"].get(key) != value
        }
        for entry in alarm_task_result(run)["diff"]
    }


def dimensions(alarm) -> dict:
    return {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]}


def test_check_mode_on_an_empty_account_reports_the_topic_and_every_alarm(deployed):
    assert "Report the alarm topic that check mode would create or encrypt" in deployed.dry_run.changed_tasks()
    diff = alarm_task_result(deployed.dry_run)["diff"]
    assert [(entry["before_header"], entry["after_header"], entry["before"]) for entry in diff] == [
        (name, name, {}) for name in ALARMS
    ]
    assert sorted(changed_alarms(deployed.dry_run)) == sorted(ALARMS)
    assert {entry["after"]["threshold"] for entry in diff if entry["after_header"] == f"{PREFIX}-api-5xx"} == {1.0}


def test_the_outputs_name_the_topic_alarms_composite_and_dashboard(deployed):
    assert deployed.monitoring == {
        "topic_arn": TOPIC,
        "topic_kms_key": f"alias/{PREFIX}-alarms",
        "alarm_names": ALARMS,
        "composite_alarm_name": COMPOSITE,
        "dashboard_name": PREFIX,
        "dashboard_url": f"https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name={PREFIX}",
    }


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use(deployed):
    sns, kms = deployed.endpoint.client("sns"), deployed.endpoint.client("kms")
    attributes = sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == f"alias/{PREFIX}-alarms"]
    key = kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]
    assert attributes["KmsMasterKeyId"] == key["Arn"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    key_policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    (cloudwatch,) = [s for s in key_policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_only_this_stack_s_alarms_may_publish_to_the_topic(deployed):
    sns = deployed.endpoint.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "sns:Publish", TOPIC)
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"{ALARM_ARN_PREFIX}{PREFIX}-*"},
    }
    tags = {tag["Key"]: tag["Value"] for tag in sns.list_tags_for_resource(ResourceArn=TOPIC)["Tags"]}
    assert tags["Environment"] == "local" and tags["ManagedBy"] == "ansible"


def test_every_function_has_its_three_alarms_notifying_the_topic(deployed):
    alarms = metric_alarms(deployed.endpoint)
    assert sorted(alarms) == sorted(ALARMS)
    for name in FUNCTIONS:
        errors, throttles, duration = (
            alarms[f"{PREFIX}-{name}-{kind}"] for kind in ("errors", "throttles", "duration")
        )
        for alarm in (errors, throttles, duration):
            assert alarm["Namespace"] == "AWS/Lambda" and dimensions(alarm) == {"FunctionName": f"{PREFIX}-{name}"}
        assert (errors["MetricName"], errors["Statistic"], errors["Threshold"], errors["Period"]) == (
            "Errors",
            "Sum",
            5.0,
            300,
        )
        assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert (throttles["MetricName"], throttles["Threshold"]) == ("Throttles", 0.0)
        # 80% of the manifest's default timeout of 10 s, over 2 of 3 periods.
        assert (duration["ExtendedStatistic"], duration["Threshold"], duration["Unit"]) == (
            "p99",
            8000.0,
            "Milliseconds",
        )
        assert (duration["DatapointsToAlarm"], duration["EvaluationPeriods"]) == (2, 3)
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmDescription"]


def test_the_api_and_the_table_have_their_alarms(deployed):
    alarms = metric_alarms(deployed.endpoint)
    for name in API_ALARMS:
        assert alarms[name]["Namespace"] == "AWS/ApiGateway"
        assert dimensions(alarms[name]) == {"ApiName": PREFIX, "Stage": "local"}
    assert (alarms[f"{PREFIX}-api-5xx"]["MetricName"], alarms[f"{PREFIX}-api-5xx"]["Threshold"]) == ("5XXError", 1.0)
    assert (alarms[f"{PREFIX}-api-latency"]["ExtendedStatistic"], alarms[f"{PREFIX}-api-latency"]["Threshold"]) == (
        "p99",
        2000.0,
    )
    assert f"{PREFIX}-api-4xx" not in alarms  # only with monitoring_api_4xx_rate_threshold
    table = {"TableName": f"{PREFIX}-tasks"}
    assert dimensions(alarms[f"{PREFIX}-table-read-throttles"]) == table
    assert alarms[f"{PREFIX}-table-write-throttles"]["MetricName"] == "WriteThrottleEvents"
    operations = sorted(
        dimensions(alarm)["Operation"] for alarm in alarms.values() if alarm["MetricName"] == "SystemErrors"
    )
    assert operations == list(OPERATIONS)


def test_the_composite_alarm_fires_on_any_api_or_function_alarm(deployed):
    alarm = composite_alarm(deployed.endpoint)
    assert alarm["AlarmRule"] == " OR ".join(f'ALARM("{name}")' for name in FUNCTION_ALARMS + API_ALARMS)
    assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC] and alarm["ActionsEnabled"] is True
    tags = deployed.endpoint.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert {"Key": "Environment", "Value": "local"} in tags


def test_the_dashboard_shows_the_alarms_api_functions_and_table(deployed):
    dashboard = deployed.endpoint.client("cloudwatch").get_dashboard(DashboardName=PREFIX)
    widgets = json.loads(dashboard["DashboardBody"])["widgets"]
    (status,) = [widget for widget in widgets if widget["type"] == "alarm"]
    assert status["properties"]["alarms"] == [ALARM_ARN_PREFIX + name for name in [COMPOSITE, *ALARMS]]
    graphs = [widget["properties"] for widget in widgets if widget["type"] == "metric"]
    namespaces = {line[0] for graph in graphs for line in graph["metrics"]}
    assert namespaces == {"AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB"}
    (invocations,) = [graph for graph in graphs if graph["title"] == "Lambda invocations"]
    assert {line[3] for line in invocations["metrics"]} == {f"{PREFIX}-{name}" for name in FUNCTIONS}
    assert all(widget["x"] + widget["width"] <= 24 for widget in widgets)


def test_a_rerun_and_a_dry_run_write_nothing(deployed):
    """The whole site again, then dry-run: no change, no write call of any service."""
    calls = rerun_and_dry_run(deployed.endpoint.url, deployed.outputs, "all")
    assert {call.service for call in calls} >= {"monitoring", "sns", "kms"}
    assert writes(calls) == []


def test_one_threshold_changes_exactly_its_alarm_and_a_dry_run_shows_it_first(deployed):
    with recorded_calls(deployed.endpoint.url) as calls:
        check = converge_site(
            deployed.endpoint.url, deployed.outputs, "monitoring", "--check", "--diff", monitoring_api_5xx_threshold=5
        )
    assert check.returncode == 0, check.describe()
    assert check.changed_tasks() == [ALARM_TASK]
    changes = alarm_changes(check)
    assert list(changes) == [f"{PREFIX}-api-5xx"] and changed_alarms(check) == [f"{PREFIX}-api-5xx"]
    assert sorted(changes[f"{PREFIX}-api-5xx"]) == ["description", "threshold"]
    assert changes[f"{PREFIX}-api-5xx"]["threshold"] == (1.0, 5.0)
    assert writes(calls) == []

    try:
        with recorded_calls(deployed.endpoint.url) as calls:
            applied = converge_site(
                deployed.endpoint.url, deployed.outputs, "monitoring", monitoring_api_5xx_threshold=5
            )
        assert applied.returncode == 0, applied.describe()
        assert writes(calls) == ["monitoring PutMetricAlarm"]
        assert metric_alarms(deployed.endpoint)[f"{PREFIX}-api-5xx"]["Threshold"] == 5.0
    finally:
        restored = converge_site(deployed.endpoint.url, deployed.outputs, "monitoring")
    assert restored.changed == 1 and changed_alarms(restored) == [f"{PREFIX}-api-5xx"]


def test_the_optional_4xx_alarm_joins_the_composite_alarm_and_the_dashboard(deployed):
    name = f"{PREFIX}-api-4xx"
    try:
        with recorded_calls(deployed.endpoint.url) as calls:
            run = converge_site(
                deployed.endpoint.url, deployed.outputs, "monitoring", monitoring_api_4xx_rate_threshold=0.05
            )
        assert run.returncode == 0, run.describe()
        assert writes(calls) == ["monitoring PutMetricAlarm", "monitoring PutCompositeAlarm", "monitoring PutDashboard"]
        alarm = metric_alarms(deployed.endpoint)[name]
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("4XXError", "Average", 0.05)
        assert f'ALARM("{name}")' in composite_alarm(deployed.endpoint)["AlarmRule"]
    finally:
        restored = converge_site(deployed.endpoint.url, deployed.outputs, "monitoring")
        # The role never deletes an alarm a user did not ask it to: the 4XX alarm stays until removed by hand.
        deployed.endpoint.client("cloudwatch").delete_alarms(AlarmNames=[name])
    assert restored.returncode == 0, restored.describe()
    assert f'ALARM("{name}")' not in composite_alarm(deployed.endpoint)["AlarmRule"]


def test_subscriptions_are_added_kept_and_removed_only_with_purge(deployed):
    sns = deployed.endpoint.client("sns")
    email = {"protocol": "email", "endpoint": "oncall@example.com"}
    hook = {"protocol": "https", "endpoint": "https://hooks.example.com/alarms"}

    def subscribed():
        found = sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
        return sorted((s["Protocol"], s["Endpoint"]) for s in found)

    try:
        added = converge_site(
            deployed.endpoint.url, deployed.outputs, "monitoring", monitoring_subscriptions=[email, hook]
        )
        assert added.returncode == 0, added.describe()
        assert subscribed() == [("email", email["endpoint"]), ("https", hook["endpoint"])]

        with recorded_calls(deployed.endpoint.url) as calls:
            kept = converge_site(
                deployed.endpoint.url, deployed.outputs, "monitoring", monitoring_subscriptions=[email]
            )
        assert kept.changed == 0 and writes(calls) == [], kept.changed_tasks()
        assert len(subscribed()) == 2

        with recorded_calls(deployed.endpoint.url) as calls:
            purged = converge_site(
                deployed.endpoint.url,
                deployed.outputs,
                "monitoring",
                monitoring_subscriptions=[email],
                monitoring_purge_subscriptions=True,
            )
        assert purged.changed == 1 and writes(calls) == ["sns Unsubscribe"]
        assert subscribed() == [("email", email["endpoint"])]
    finally:
        converge_site(
            deployed.endpoint.url,
            deployed.outputs,
            "monitoring",
            monitoring_subscriptions=[],
            monitoring_purge_subscriptions=True,
        )
    assert subscribed() == []


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        ({"monitoring_errors_threshold": 0}, "monitoring_errors_threshold: expected a number more than 0"),
        ({"monitoring_period": 90}, "monitoring_period: expected seconds, a multiple of 60"),
        ({"monitoring_api_4xx_rate_threshold": 5}, "monitoring_api_4xx_rate_threshold: expected a number more than 0"),
        ({"monitoring_topic_kms_key_arn": "alias/aws/sns"}, "monitoring_topic_kms_key_arn is 'alias/aws/sns'"),
        (
            {"monitoring_subscriptions": [{"protocol": "email", "endpoint": "oncall"}]},
            "monitoring_subscriptions has endpoints that do not fit their protocol: ['oncall']",
        ),
        (
            {"monitoring_subscriptions": [{"protocol": "sms", "endpoint": "+15555550100"}]},
            "value of protocol must be one of: email, https, got: sms found in monitoring_subscriptions",
        ),
    ],
)
def test_bad_input_fails_naming_it_before_any_write(deployed, extra_vars, named):
    with recorded_calls(deployed.endpoint.url) as calls:
        run = converge_site(deployed.endpoint.url, deployed.outputs, "monitoring", **extra_vars)
    assert run.returncode != 0
    assert any(named in message for message in run.failure_messages()), run.failure_messages()
    assert writes(calls) == []
