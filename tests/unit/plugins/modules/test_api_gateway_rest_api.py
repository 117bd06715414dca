"""Tests of the api_gateway_rest_api module against moto's in-process emulator (mock_aws)."""

import hashlib
import json
import re
from types import SimpleNamespace
from urllib.parse import unquote

import boto3
import pytest
from moto.apigateway.responses import APIGatewayResponse

from ansible_collections.serverless.tasks_api.plugins.modules import api_gateway_rest_api
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    writes,
)

ACCOUNT = "123456789012"
NAME = "tasks-api-test"
TAGS = {"Environment": "test", "Application": "tasks-api"}
DEPLOYMENT_PREFIX = "serverless.tasks_api definition sha256:"
MOTO_LACKS_UPDATE_METHOD = "moto 5.2.5 has no UpdateMethod (NotImplementedError)"
MOTO_TAGS_ONLY_STAGES = "moto 5.2.5 TagResource/UntagResource accept stage ARNs only; a REST API ARN gives NotFound"
REST_API_ARN = re.compile(r"arn:[^:]+:apigateway:[^:]+::/restapis/([^/]+)")


def function_arn(name, qualifier="live"):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tasks-api-test-{name}:{qualifier}"


def lambda_uri(arn):
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


LIST = {"method": "GET", "path": "/tasks", "function_arn": function_arn("list")}
CREATE = {"method": "POST", "path": "/tasks", "function_arn": function_arn("create")}
GET = {"method": "GET", "path": "/tasks/{id}", "function_arn": function_arn("get")}
DELETE = {"method": "DELETE", "path": "/tasks/{id}", "function_arn": function_arn("delete")}
ROUTES = [LIST, CREATE, GET]


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service, with a boto3 API Gateway client for the test's own checks."""
    return SimpleNamespace(apigateway=boto3.client("apigateway", region_name=REGION))


@pytest.fixture
def moto_gaps_filled(monkeypatch):
    """Answer the two calls moto 5.2.5 lacks as AWS does: UpdateMethod, and tags on a REST API ARN."""

    def update_method(self):
        # /restapis/{api_id}/resources/{resource_id}/methods/{http_method}
        api_id, resource_id, http_method = self.path.split("/")[2:7:2]
        method = self.backend.get_method(api_id, resource_id, http_method)
        for operation in self._get_param("patchOperations"):
            if (operation["op"], operation["path"]) == ("replace", "/authorizationType"):
                method.authorization_type = operation["value"]
            elif (operation["op"], operation["path"]) == ("replace", "/apiKeyRequired"):
                method.api_key_required = operation["value"] == "true"
            else:
                raise NotImplementedError(f"UpdateMethod {operation}")
        return json.dumps(method.to_json())

    def tagged_rest_api(self):
        match = REST_API_ARN.fullmatch(unquote(self.path.split("/tags/")[1]))
        return self.backend.get_rest_api(match[1]) if match else None

    stage_tag, stage_untag = APIGatewayResponse.tag_resource, APIGatewayResponse.untag_resource

    def tag_resource(self):
        api = tagged_rest_api(self)
        if api is None:
            return stage_tag(self)
        api.tags = {**api.tags, **self._get_param("tags")}
        return "{}"

    def untag_resource(self):
        api = tagged_rest_api(self)
        if api is None:
            return stage_untag(self)
        keys = self.querystring.get("tagKeys") or []
        api.tags = {key: value for key, value in api.tags.items() if key not in keys}
        return "{}"

    monkeypatch.setattr(APIGatewayResponse, "update_method", update_method, raising=False)
    monkeypatch.setattr(APIGatewayResponse, "tag_resource", tag_resource)
    monkeypatch.setattr(APIGatewayResponse, "untag_resource", untag_resource)


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() with the given args (ROUTES and TAGS by default); return its JSON result."""
    return module_runner(api_gateway_rest_api.main, name=NAME, routes=ROUTES, tags=TAGS)


def rest_apis(aws):
    return aws.apigateway.get_rest_apis()["items"]


def the_api(aws):
    (api,) = rest_apis(aws)
    return api


def resources(aws, api_id=None):
    """The resources of the API by path, methods embedded."""
    items = aws.apigateway.get_resources(restApiId=api_id or the_api(aws)["id"], embed=["methods"])["items"]
    return {resource["path"]: resource for resource in items}


def methods(aws, api_id=None):
    """The methods of the API by (path, method)."""
    return {
        (path, method): details
        for path, resource in resources(aws, api_id).items()
        for method, details in resource.get("resourceMethods", {}).items()
    }


def deployments(aws, api_id=None):
    items = aws.apigateway.get_deployments(restApiId=api_id or the_api(aws)["id"])["items"]
    return {deployment["id"]: deployment["description"] for deployment in items}


def with_changes(route, **changes):
    return {**route, **changes}


def definition_route(route, **overrides):
    """A route as the module describes it in the definition and the diff."""
    return {
        "path": route["path"],
        "method": route["method"],
        "authorization_type": "NONE",
        "api_key_required": True,
        "integration": {"type": "AWS_PROXY", "uri": lambda_uri(route["function_arn"]), "http_method": "POST"},
        **overrides,
    }


def definition_routes(routes):
    return sorted((definition_route(route) for route in routes), key=lambda route: (route["path"], route["method"]))


# Creation


def test_create_builds_a_regional_tagged_api_with_resources_methods_and_integrations(run, aws, api_calls):
    result = run()

    assert result["changed"] is True
    api = the_api(aws)
    assert api["name"] == NAME
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert api["tags"] == TAGS
    assert calls_of(api_calls, "CreateRestApi") == [
        {"name": NAME, "description": "", "endpointConfiguration": {"types": ["REGIONAL"]}, "tags": TAGS}
    ]
    assert set(resources(aws)) == {"/", "/tasks", "/tasks/{id}"}
    assert set(methods(aws)) == {("/tasks", "GET"), ("/tasks", "POST"), ("/tasks/{id}", "GET")}
    for route in ROUTES:
        method = methods(aws)[(route["path"], route["method"])]
        assert method["authorizationType"] == "NONE"
        assert method["apiKeyRequired"] is True
        integration = method["methodIntegration"]
        assert (integration["type"], integration["httpMethod"]) == ("AWS_PROXY", "POST")
        assert integration["uri"] == lambda_uri(route["function_arn"])
    assert writes(api_calls) == [
        "CreateRestApi",
        "CreateResource",
        "CreateResource",
        *["PutMethod", "PutIntegration"] * 3,
        "CreateDeployment",
    ]


def test_create_makes_one_deployment_described_by_the_definition_hash(run, aws, api_calls):
    result = run()

    sha256 = result["definition_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", sha256)
    assert deployments(aws) == {result["deployment_id"]: DEPLOYMENT_PREFIX + sha256}
    assert calls_of(api_calls, "CreateDeployment") == [
        {"restApiId": the_api(aws)["id"], "description": DEPLOYMENT_PREFIX + sha256}
    ]
    assert result["deployment_created"] is True


def test_definition_sha256_is_the_hash_of_the_canonical_definition(run):
    result = run(routes=[with_changes(GET, authorization_type="AWS_IAM", api_key_required=False), LIST])

    definition = {
        "endpoint_type": "REGIONAL",
        "routes": [
            definition_route(LIST),
            definition_route(GET, authorization_type="AWS_IAM", api_key_required=False),
        ],
    }
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    assert result["definition_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_create_returns_the_api_and_its_routes(run, aws):
    result = run()

    api = the_api(aws)
    returned = result["rest_api"]
    assert returned["id"] == api["id"]
    assert returned["name"] == NAME
    assert returned["endpoint_configuration"] == {"types": ["REGIONAL"]}
    assert returned["root_resource_id"] == api["rootResourceId"]
    assert returned["tags"] == TAGS
    ids = {path: resource["id"] for path, resource in resources(aws).items()}
    assert result["routes"] == [
        {**definition_route(route), "resource_id": ids[route["path"]], "function_arn": route["function_arn"]}
        for route in (LIST, CREATE, GET)
    ]


def test_nested_route_alone_creates_its_parent_resources_first(run, aws, api_calls):
    run(routes=[GET])

    created = calls_of(api_calls, "CreateResource")
    assert [call["pathPart"] for call in created] == ["tasks", "{id}"]
    assert created[0]["parentId"] == the_api(aws)["rootResourceId"]
    assert created[1]["parentId"] == resources(aws)["/tasks"]["id"]


def test_root_route_uses_the_root_resource(run, aws, api_calls):
    run(routes=[{"method": "GET", "path": "/", "function_arn": function_arn("list")}])

    assert calls_of(api_calls, "CreateResource") == []
    assert set(methods(aws)) == {("/", "GET")}


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    first = run()

    second = run()

    assert second["changed"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["GetRestApis", "GetResources", "GetDeployments"]
    assert second["deployment_id"] == first["deployment_id"]
    assert second["deployment_created"] is False
    assert second["definition_sha256"] == first["definition_sha256"]
    assert second["routes"] == first["routes"]
    assert second["rest_api"] == first["rest_api"]
    assert len(deployments(aws)) == 1


def test_route_order_and_method_case_do_not_matter(run, api_calls):
    run()

    result = run(routes=[with_changes(route, method=route["method"].lower()) for route in reversed(ROUTES)])

    assert result["changed"] is False
    assert writes(api_calls) == []


# Changes, one kind at a time


def test_adding_a_route_creates_it_and_exactly_one_deployment(run, aws, api_calls):
    first = run()

    added = run(routes=[*ROUTES, DELETE])

    assert added["changed"] is True
    assert writes(api_calls) == ["PutMethod", "PutIntegration", "CreateDeployment"]
    assert calls_of(api_calls, "PutMethod") == [
        {
            "restApiId": the_api(aws)["id"],
            "resourceId": resources(aws)["/tasks/{id}"]["id"],
            "httpMethod": "DELETE",
            "authorizationType": "NONE",
            "apiKeyRequired": True,
        }
    ]
    assert added["deployment_id"] != first["deployment_id"]
    assert added["deployment_created"] is True
    assert set(deployments(aws)) == {first["deployment_id"], added["deployment_id"]}
    again = run(routes=[*ROUTES, DELETE])
    assert again["changed"] is False
    assert writes(api_calls) == []
    assert again["deployment_id"] == added["deployment_id"]


def test_removing_a_route_deletes_its_method_and_emptied_resource_and_deploys_once(run, aws, api_calls):
    first = run()
    item_id = resources(aws)["/tasks/{id}"]["id"]

    removed = run(routes=[LIST, CREATE])

    assert removed["changed"] is True
    assert writes(api_calls) == ["DeleteMethod", "DeleteResource", "CreateDeployment"]
    assert calls_of(api_calls, "DeleteMethod")[0]["resourceId"] == item_id
    assert calls_of(api_calls, "DeleteResource")[0]["resourceId"] == item_id
    assert set(resources(aws)) == {"/", "/tasks"}
    assert set(methods(aws)) == {("/tasks", "GET"), ("/tasks", "POST")}
    assert len(deployments(aws)) == 2
    assert removed["deployment_id"] != first["deployment_id"]
    assert run(routes=[LIST, CREATE])["changed"] is False


def test_removing_a_branch_deletes_its_resources_deepest_first(run, aws, api_calls):
    history = {"method": "GET", "path": "/tasks/{id}/history", "function_arn": function_arn("history")}
    run(routes=[LIST, history])
    ids = {path: resource["id"] for path, resource in resources(aws).items()}

    run(routes=[LIST])

    assert writes(api_calls) == ["DeleteMethod", "DeleteResource", "DeleteResource", "CreateDeployment"]
    assert [call["resourceId"] for call in calls_of(api_calls, "DeleteResource")] == [
        ids["/tasks/{id}/history"],
        ids["/tasks/{id}"],
    ]
    assert set(resources(aws)) == {"/", "/tasks"}


def test_without_purge_other_methods_are_kept_and_deployed(run, aws, api_calls):
    run()

    result = run(routes=[DELETE], purge_routes=False)

    assert result["changed"] is True
    assert writes(api_calls) == ["PutMethod", "PutIntegration", "CreateDeployment"]
    assert len(methods(aws)) == 4
    assert [(route["path"], route["method"]) for route in result["routes"]] == [
        ("/tasks", "GET"),
        ("/tasks", "POST"),
        ("/tasks/{id}", "DELETE"),
        ("/tasks/{id}", "GET"),
    ]
    assert run(routes=[*ROUTES, DELETE])["deployment_id"] == result["deployment_id"]
    assert writes(api_calls) == []


def test_omitted_routes_leave_the_methods_alone(run, aws, api_calls):
    first = run()

    result = run(routes=None)

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert result["routes"] == first["routes"]
    assert result["deployment_id"] == first["deployment_id"]


@pytest.mark.usefixtures("moto_gaps_filled")
def test_api_key_change_updates_the_method(run, aws, api_calls):
    run()

    result = run(routes=[LIST, CREATE, with_changes(GET, api_key_required=False)])

    assert result["changed"] is True
    assert calls_of(api_calls, "UpdateMethod") == [
        {
            "restApiId": the_api(aws)["id"],
            "resourceId": resources(aws)["/tasks/{id}"]["id"],
            "httpMethod": "GET",
            "patchOperations": [{"op": "replace", "path": "/apiKeyRequired", "value": "false"}],
        }
    ]
    assert writes(api_calls) == ["UpdateMethod", "CreateDeployment"]
    assert methods(aws)[("/tasks/{id}", "GET")]["apiKeyRequired"] is False
    assert run(routes=[LIST, CREATE, with_changes(GET, api_key_required=False)])["changed"] is False


@pytest.mark.usefixtures("moto_gaps_filled")
def test_authorization_change_updates_the_method(run, aws, api_calls):
    run()

    result = run(routes=[with_changes(LIST, authorization_type="AWS_IAM"), CREATE, GET])

    assert result["changed"] is True
    assert [call["patchOperations"] for call in calls_of(api_calls, "UpdateMethod")] == [
        [{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}]
    ]
    assert writes(api_calls) == ["UpdateMethod", "CreateDeployment"]
    assert methods(aws)[("/tasks", "GET")]["authorizationType"] == "AWS_IAM"
    assert run(routes=[with_changes(LIST, authorization_type="AWS_IAM"), CREATE, GET])["changed"] is False


@pytest.mark.xfail(reason=MOTO_LACKS_UPDATE_METHOD, strict=True, raises=NotImplementedError)
def test_moto_updates_a_method(run, aws):
    run()

    run(routes=[LIST, CREATE, with_changes(GET, api_key_required=False)])

    assert methods(aws)[("/tasks/{id}", "GET")]["apiKeyRequired"] is False


def test_function_arn_change_puts_the_integration(run, aws, api_calls):
    run()
    v2 = function_arn("get", "v2")

    result = run(routes=[LIST, CREATE, with_changes(GET, function_arn=v2)])

    assert result["changed"] is True
    assert writes(api_calls) == ["PutIntegration", "CreateDeployment"]
    assert calls_of(api_calls, "PutIntegration") == [
        {
            "restApiId": the_api(aws)["id"],
            "resourceId": resources(aws)["/tasks/{id}"]["id"],
            "httpMethod": "GET",
            "type": "AWS_PROXY",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(v2),
        }
    ]
    assert methods(aws)[("/tasks/{id}", "GET")]["methodIntegration"]["uri"] == lambda_uri(v2)
    assert result["routes"][2]["function_arn"] == v2


def test_integration_uri_follows_the_partition_and_region_of_the_function(run, aws):
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:tasks-api-test-list"

    run(routes=[with_changes(LIST, function_arn=arn)])

    uri = methods(aws)[("/tasks", "GET")]["methodIntegration"]["uri"]
    assert uri == f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/invocations"


def test_a_method_that_lost_its_integration_gets_it_back_and_the_old_deployment(run, aws, api_calls):
    first = run()
    api_id, resource_id = the_api(aws)["id"], resources(aws)["/tasks"]["id"]
    aws.apigateway.delete_integration(restApiId=api_id, resourceId=resource_id, httpMethod="POST")

    result = run()

    assert result["changed"] is True
    assert "GetIntegration" in operations(api_calls)
    assert writes(api_calls) == ["PutIntegration"]
    assert methods(aws)[("/tasks", "POST")]["methodIntegration"]["uri"] == lambda_uri(CREATE["function_arn"])
    assert result["deployment_id"] == first["deployment_id"]


def test_description_change_updates_the_api_without_deploying(run, aws, api_calls):
    run()

    result = run(description="Tasks API")

    assert result["changed"] is True
    assert calls_of(api_calls, "UpdateRestApi") == [
        {
            "restApiId": the_api(aws)["id"],
            "patchOperations": [{"op": "replace", "path": "/description", "value": "Tasks API"}],
        }
    ]
    assert writes(api_calls) == ["UpdateRestApi"]
    assert the_api(aws)["description"] == "Tasks API"
    assert result["rest_api"]["description"] == "Tasks API"
    assert result["deployment_created"] is False
    assert run(description="Tasks API")["changed"] is False


def test_endpoint_type_change_updates_the_api_and_deploys(run, aws, api_calls):
    first = run()

    result = run(endpoint_type="EDGE")

    assert result["changed"] is True
    assert [call["patchOperations"] for call in calls_of(api_calls, "UpdateRestApi")] == [
        [{"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "EDGE"}]
    ]
    assert writes(api_calls) == ["UpdateRestApi", "CreateDeployment"]
    assert the_api(aws)["endpointConfiguration"]["types"] == ["EDGE"]
    assert result["rest_api"]["endpoint_configuration"] == {"types": ["EDGE"]}
    assert result["definition_sha256"] != first["definition_sha256"]
    assert run(endpoint_type="EDGE")["changed"] is False


@pytest.mark.usefixtures("moto_gaps_filled")
def test_tags_are_purged_added_and_kept(run, aws, api_calls):
    run()
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{the_api(aws)['id']}"

    purged = run(tags={"Environment": "prod"})

    assert purged["changed"] is True
    assert calls_of(api_calls, "UntagResource") == [{"resourceArn": arn, "tagKeys": ["Application"]}]
    assert calls_of(api_calls, "TagResource") == [{"resourceArn": arn, "tags": {"Environment": "prod"}}]
    assert writes(api_calls) == ["UntagResource", "TagResource"]
    assert the_api(aws)["tags"] == {"Environment": "prod"}
    assert purged["rest_api"]["tags"] == {"Environment": "prod"}
    assert purged["deployment_created"] is False

    kept = run(tags={"Owner": "me"}, purge_tags=False)
    assert kept["changed"] is True
    assert writes(api_calls) == ["TagResource"]
    assert the_api(aws)["tags"] == {"Environment": "prod", "Owner": "me"}

    assert run(tags={"Owner": "me"}, purge_tags=False)["changed"] is False
    assert run(tags={})["changed"] is True
    assert the_api(aws)["tags"] == {}


def test_omitted_tags_are_left_alone(run, aws, api_calls):
    run()

    result = run(tags=None)

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert the_api(aws)["tags"] == TAGS


@pytest.mark.xfail(reason=MOTO_TAGS_ONLY_STAGES, strict=True)
def test_moto_tags_a_rest_api(run, aws):
    run()

    result = run(tags={"Environment": "prod"})

    assert "failed" not in result
    assert the_api(aws)["tags"] == {"Environment": "prod"}


# Deployments


def test_returning_to_a_deployed_definition_reuses_its_deployment(run, aws, api_calls):
    first = run()
    second = run(routes=[*ROUTES, DELETE])

    back = run()

    assert back["changed"] is True
    assert writes(api_calls) == ["DeleteMethod"]
    assert back["deployment_id"] == first["deployment_id"]
    assert back["deployment_created"] is False
    assert back["definition_sha256"] == first["definition_sha256"]
    assert set(deployments(aws)) == {first["deployment_id"], second["deployment_id"]}


def test_deploy_false_makes_no_deployment_until_asked(run, aws, api_calls):
    result = run(deploy=False)

    assert "CreateDeployment" not in writes(api_calls)
    assert result["deployment_id"] is None
    assert result["deployment_created"] is False
    assert deployments(aws) == {}

    deployed = run()
    assert deployed["changed"] is True
    assert writes(api_calls) == ["CreateDeployment"]
    assert deployed["definition_sha256"] == result["definition_sha256"]


def test_an_api_without_routes_is_not_deployed(run, aws, api_calls):
    result = run(routes=[])

    assert result["changed"] is True
    assert writes(api_calls) == ["CreateRestApi"]
    assert result["deployment_id"] is None
    assert result["deployment_created"] is False
    assert result["routes"] == []


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    checked = run(check_mode=True)

    assert checked["changed"] is True
    assert writes(api_calls) == []
    assert rest_apis(aws) == []
    assert checked["rest_api"]["id"] is None
    assert checked["rest_api"]["tags"] == TAGS
    assert checked["deployment_id"] is None
    assert checked["deployment_created"] is True
    assert [route["resource_id"] for route in checked["routes"]] == [None, None, None]
    assert checked["definition_sha256"] == run()["definition_sha256"]


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    first = run()
    before = (the_api(aws), methods(aws), deployments(aws))

    checked = run(
        check_mode=True,
        routes=[with_changes(LIST, api_key_required=False), with_changes(GET, function_arn=function_arn("x")), DELETE],
        description="new",
        endpoint_type="EDGE",
        tags={"Environment": "prod"},
    )

    assert checked["changed"] is True
    assert writes(api_calls) == []
    assert (the_api(aws), methods(aws), deployments(aws)) == before
    assert checked["deployment_id"] is None
    assert checked["deployment_created"] is True
    assert checked["definition_sha256"] != first["definition_sha256"]


def test_check_mode_of_a_converged_api_is_unchanged(run, api_calls):
    first = run()

    checked = run(check_mode=True)

    assert checked["changed"] is False
    assert writes(api_calls) == []
    assert checked["deployment_id"] == first["deployment_id"]
    assert checked["deployment_created"] is False


def test_check_mode_finds_the_deployment_of_an_earlier_definition(run, api_calls):
    first = run()
    run(routes=[*ROUTES, DELETE])

    checked = run(check_mode=True)

    assert checked["changed"] is True
    assert writes(api_calls) == []
    assert checked["deployment_id"] == first["deployment_id"]
    assert checked["deployment_created"] is False


def test_check_mode_delete_writes_nothing(run, aws, api_calls):
    run()

    result = run(state="absent", check_mode=True)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert len(rest_apis(aws)) == 1


# Diff


def test_diff_on_create(run):
    result = run(diff=True, description="Tasks API")

    assert result["diff"] == {
        "before": {},
        "after": {
            "description": "Tasks API",
            "endpoint_type": "REGIONAL",
            "tags": TAGS,
            "routes": definition_routes(ROUTES),
        },
    }


def test_diff_on_update(run):
    run()
    v2 = function_arn("list", "v2")

    result = run(diff=True, routes=[with_changes(LIST, function_arn=v2), GET], endpoint_type="EDGE")

    assert result["diff"] == {
        "before": {"description": "", "endpoint_type": "REGIONAL", "tags": TAGS, "routes": definition_routes(ROUTES)},
        "after": {
            "description": "",
            "endpoint_type": "EDGE",
            "tags": TAGS,
            "routes": definition_routes([with_changes(LIST, function_arn=v2), GET]),
        },
    }


def test_diff_of_a_no_op_has_equal_sides(run):
    run()

    result = run(diff=True)

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["diff"]["before"]["routes"] == definition_routes(ROUTES)


def test_diff_on_delete(run):
    run()

    result = run(diff=True, state="absent")

    assert result["diff"] == {
        "before": {"description": "", "endpoint_type": "REGIONAL", "tags": TAGS, "routes": definition_routes(ROUTES)},
        "after": {},
    }


# APIs sharing a name


def namesakes(aws, *tag_sets):
    """Create one API named NAME per tag set; return their ids."""
    return [aws.apigateway.create_rest_api(name=NAME, tags=tags)["id"] for tags in tag_sets]


def test_namesakes_are_told_apart_by_tags(run, aws, api_calls):
    test_id, prod_id = namesakes(aws, TAGS, {**TAGS, "Environment": "prod"})

    result = run(tags={"Environment": "prod"}, purge_tags=False)

    assert result["changed"] is True
    assert result["rest_api"]["id"] == prod_id
    assert "CreateRestApi" not in writes(api_calls)
    assert len(methods(aws, prod_id)) == 3
    assert methods(aws, test_id) == {}
    assert len(rest_apis(aws)) == 2


@pytest.mark.parametrize(
    "tags",
    [None, {"Application": "tasks-api"}, {"Environment": "staging"}],
    ids=["no tags", "tags of both", "tags of neither"],
)
def test_ambiguous_namesakes_fail_listing_their_ids_and_change_nothing(run, aws, api_calls, tags):
    ids = namesakes(aws, TAGS, {**TAGS, "Environment": "prod"})

    result = run(tags=tags)

    assert result["failed"] is True
    assert f"2 REST APIs are named {NAME} ({', '.join(sorted(ids))})" in result["msg"]
    assert result["rest_api_ids"] == sorted(ids)
    assert writes(api_calls) == []
    assert len(rest_apis(aws)) == 2


def test_absent_deletes_only_the_matched_api(run, aws, api_calls):
    test_id, prod_id = namesakes(aws, TAGS, {**TAGS, "Environment": "prod"})
    other_id = aws.apigateway.create_rest_api(name="other", tags=TAGS)["id"]

    result = run(state="absent", tags={"Environment": "prod"})

    assert result["changed"] is True
    assert calls_of(api_calls, "DeleteRestApi") == [{"restApiId": prod_id}]
    assert {api["id"] for api in rest_apis(aws)} == {test_id, other_id}

    again = run(state="absent", tags={"Environment": "prod"})
    assert again["changed"] is False
    assert writes(api_calls) == []
    assert {api["id"] for api in rest_apis(aws)} == {test_id, other_id}


def test_absent_deletes_then_is_unchanged(run, aws, api_calls):
    run()

    deleted = run(state="absent")

    assert deleted["changed"] is True
    assert deleted["rest_api"] == {}
    assert deleted["deployment_id"] is None
    assert writes(api_calls) == ["DeleteRestApi"]
    assert rest_apis(aws) == []
    again = run(state="absent")
    assert again["changed"] is False
    assert "failed" not in again


# Bad input


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (with_changes(DELETE, method="FETCH"), "routes[1] (FETCH /tasks/{id}): method FETCH is not one of"),
        (with_changes(DELETE, path="tasks"), "routes[1] (DELETE tasks): path tasks must be /"),
        (with_changes(DELETE, path="/tasks/"), "routes[1] (DELETE /tasks/): path /tasks/ must be /"),
        (with_changes(DELETE, path="/tasks/{id+}"), "routes[1] (DELETE /tasks/{id+}): path"),
        (with_changes(DELETE, path="/tasks//x"), "routes[1] (DELETE /tasks//x): path"),
        (
            with_changes(DELETE, function_arn="arn:aws:lambda:us-east-1:123456789012:layer:deps"),
            "routes[1] (DELETE /tasks/{id}): function_arn arn:aws:lambda:us-east-1:123456789012:layer:deps is not",
        ),
        (with_changes(LIST, method="get"), "routes[1] (get /tasks) repeats routes[0]"),
    ],
    ids=["method", "relative path", "trailing slash", "greedy parameter", "empty segment", "arn", "duplicate"],
)
def test_bad_route_fails_naming_it_before_any_call(run, aws, api_calls, bad, message):
    result = run(routes=[LIST, bad])

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls == []


# Faults only real AWS shows


def test_throttled_write_is_retried(run, aws, failing, sleeps):
    seen = failing("PutIntegration", "TooManyRequestsException", "Too Many Requests", times=2, status=429)

    result = run()

    assert result["changed"] is True
    assert seen["PutIntegration"] == 5
    assert len(sleeps) == 2
    assert all("methodIntegration" in method for method in methods(aws).values())


def test_conflict_is_retried(run, aws, failing, sleeps):
    seen = failing("CreateDeployment", "ConflictException", "Another deployment is in progress", times=1, status=429)

    result = run()

    assert result["changed"] is True
    assert seen["CreateDeployment"] == 2
    assert len(deployments(aws)) == 1


def test_throttled_listing_is_retried(run, failing, sleeps):
    seen = failing("GetRestApis", "TooManyRequestsException", "Too Many Requests", times=1, status=429)

    result = run()

    assert result["changed"] is True
    assert seen["GetRestApis"] == 2


def test_lasting_throttling_fails_naming_the_call(run, aws, failing, sleeps):
    seen = failing("CreateDeployment", "TooManyRequestsException", "Too Many Requests", status=429)

    result = run()

    assert result["failed"] is True
    assert f"Failed to deploy REST API {the_api(aws)['id']}" in result["msg"]
    assert seen["CreateDeployment"] == 10
    assert deployments(aws) == {}
