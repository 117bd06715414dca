"""The api role against a private local endpoint: the API from the manifest, deployments only on change, key, plan."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from aws_calls import recorded_calls, writes
from playbook_runner import converge_site, read_outputs, rerun_and_dry_run, role_defaults

PREFIX = "tasks-api-local"
ROUTES = {
    ("/tasks", "GET"): "list",
    ("/tasks", "POST"): "create",
    ("/tasks/{id}", "GET"): "get",
    ("/tasks/{id}", "PUT"): "update",
    ("/tasks/{id}", "DELETE"): "delete",
}


@pytest.fixture(scope="module")
def deployed(local_endpoint, tmp_path_factory):
    """The whole stack converged once, after a dry run on the empty account."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    dry_run = converge_site(local_endpoint.url, outputs, "all", "--check")
    assert dry_run.returncode == 0, dry_run.describe()
    assert local_endpoint.client("apigateway").get_rest_apis()["items"] == []
    first = converge_site(local_endpoint.url, outputs, "all")
    assert first.returncode == 0, first.describe()
    api = read_outputs(outputs)["api"]
    return SimpleNamespace(endpoint=local_endpoint, outputs=outputs, dry_run=dry_run, api=api)


def methods(apigateway, api_id) -> dict:
    found = {}
    for resource in apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]:
        for verb in resource.get("resourceMethods", {}):
            found[(resource["path"], verb)] = apigateway.get_method(
                restApiId=api_id, resourceId=resource["id"], httpMethod=verb
            )
    return found


def test_check_mode_on_an_empty_account_reports_the_api(deployed):
    assert "Report the API that check mode would create" in deployed.dry_run.changed_tasks()


def test_the_api_routes_every_manifest_entry_to_its_alias_with_an_api_key(deployed):
    apigateway = deployed.endpoint.client("apigateway")
    (api,) = apigateway.get_rest_apis()["items"]
    assert (api["id"], api["name"], api["endpointConfiguration"]["types"]) == (deployed.api["id"], PREFIX, ["REGIONAL"])
    assert api["tags"]["Environment"] == "local"
    found = methods(apigateway, api["id"])
    assert set(found) == set(ROUTES)
    for route, name in ROUTES.items():
        method = found[route]
        assert method["apiKeyRequired"] is True and method["authorizationType"] == "NONE"
        integration = method["methodIntegration"]
        assert integration["type"] == "AWS_PROXY" and integration["httpMethod"] == "POST"
        assert f":function:{PREFIX}-{name}:live/invocations" in integration["uri"]


def test_the_stage_traces_logs_and_throttles(deployed):
    apigateway = deployed.endpoint.client("apigateway")
    stage = apigateway.get_stage(restApiId=deployed.api["id"], stageName="local")
    assert stage["deploymentId"] == deployed.api["deployment_id"]
    assert stage["tracingEnabled"] is True
    assert stage["accessLogSettings"]["destinationArn"].endswith(":log-group:/aws/apigateway/tasks-api-local")
    json.loads(stage["accessLogSettings"]["format"])  # one JSON object per request
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingBurstLimit"], settings["throttlingRateLimit"]) == (100, 50.0)
    assert settings["metricsEnabled"] is True and settings["loggingLevel"] == "ERROR"
    groups = deployed.endpoint.client("logs").describe_log_groups(logGroupNamePrefix="/aws/apigateway/")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [("/aws/apigateway/tasks-api-local", 30)]


def test_the_key_holds_the_parameter_s_value_and_the_plan_binds_it_to_the_stage(deployed):
    apigateway = deployed.endpoint.client("apigateway")
    secret = deployed.endpoint.client("ssm").get_parameter(Name="/tasks-api/local/api-key", WithDecryption=True)
    key = apigateway.get_api_key(apiKey=deployed.api["api_key_id"], includeValue=True)
    assert key["value"] == secret["Parameter"]["Value"] and key["enabled"] is True
    plan = apigateway.get_usage_plan(usagePlanId=deployed.api["usage_plan_id"])
    assert plan["apiStages"] == [{"apiId": deployed.api["id"], "stage": "local"}]
    assert plan["throttle"]["burstLimit"] == 100 and plan["quota"]["period"] == "MONTH"
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["id"] for k in keys] == [key["id"]]


def test_the_outputs_never_hold_the_key_value(deployed):
    secret = deployed.endpoint.client("ssm").get_parameter(Name="/tasks-api/local/api-key", WithDecryption=True)
    assert secret["Parameter"]["Value"] not in (deployed.outputs / "local.json").read_text()


def test_each_alias_lets_only_its_route_of_this_api_invoke_it(deployed):
    lambda_ = deployed.endpoint.client("lambda")
    for (path, verb), name in ROUTES.items():
        policy = json.loads(lambda_.get_policy(FunctionName=f"{PREFIX}-{name}", Qualifier="live")["Policy"])
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source == f"arn:aws:execute-api:us-east-1:123456789012:{deployed.api['id']}/*/{verb}/" + path.replace(
            "{id}", "*"
        ).lstrip("/")


def test_a_rerun_and_a_dry_run_write_nothing(deployed):
    """The api role again, then dry-run: no change, no write call."""
    calls = rerun_and_dry_run(deployed.endpoint.url, deployed.outputs, "api")
    assert any(call.service == "apigateway" for call in calls)
    assert writes(calls) == []


def test_a_new_route_makes_exactly_one_deployment_and_then_none(deployed):
    search = {
        "name": "search",
        "handler": "list_tasks.handler",
        "method": "GET",
        "path": "/tasks/search",
        "dynamodb_actions": ["dynamodb:Scan"],
    }
    manifest = [*role_defaults("stack")["stack_functions"], search]
    with recorded_calls(deployed.endpoint.url) as calls:
        added = converge_site(deployed.endpoint.url, deployed.outputs, "all", stack_functions=manifest)
    assert added.returncode == 0, added.describe()
    assert [str(call) for call in calls if call.is_write and call.path.endswith("/deployments")] == [
        f"apigateway POST /restapis/{deployed.api['id']}/deployments"
    ]
    stage = deployed.endpoint.client("apigateway").get_stage(restApiId=deployed.api["id"], stageName="local")
    assert (
        stage["deploymentId"] == read_outputs(deployed.outputs)["api"]["deployment_id"] != deployed.api["deployment_id"]
    )

    with recorded_calls(deployed.endpoint.url) as calls:
        again = converge_site(deployed.endpoint.url, deployed.outputs, "all", stack_functions=manifest)
    assert again.changed == 0 and writes(calls) == [], again.changed_tasks()


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        ({"api_authorization": "NONE"}, "api_authorization is NONE"),
        ({"api_access_log_retention_days": 31}, "api_access_log_retention_days is 31"),
        ({"api_stage_name": "bad stage"}, "api_stage_name is 'bad stage'"),
        ({"api_throttling_rate_limit": 0}, "Every throttling and quota limit must be above 0"),
    ],
)
def test_bad_input_fails_naming_it_before_any_write(deployed, extra_vars, named):
    with recorded_calls(deployed.endpoint.url) as calls:
        run = converge_site(deployed.endpoint.url, deployed.outputs, "api", **extra_vars)
    assert run.returncode != 0
    assert any(named in message for message in run.failure_messages()), run.failure_messages()
    assert writes(calls) == []
