"""Unit tests of the api_routes and execute_api_source_arn filters."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.api import FilterModule

FILTERS = FilterModule().filters()
API_ROUTES = FILTERS["api_routes"]
SOURCE_ARN = FILTERS["execute_api_source_arn"]
MANIFEST = [
    {"name": "list", "method": "GET", "path": "/tasks"},
    {"name": "get", "method": "GET", "path": "/tasks/{id}"},
]
ALIASES = {
    "list": "arn:aws:lambda:us-east-1:1:function:p-list:live",
    "get": "arn:aws:lambda:us-east-1:1:function:p-get:live",
}


def test_routes_follow_the_manifest_with_an_api_key_by_default():
    assert API_ROUTES(MANIFEST, ALIASES) == [
        {
            "method": "GET",
            "path": "/tasks",
            "function_arn": ALIASES["list"],
            "authorization_type": "NONE",
            "api_key_required": True,
        },
        {
            "method": "GET",
            "path": "/tasks/{id}",
            "function_arn": ALIASES["get"],
            "authorization_type": "NONE",
            "api_key_required": True,
        },
    ]


@pytest.mark.parametrize(("authorization", "type_", "key"), [("AWS_IAM", "AWS_IAM", False), ("NONE", "NONE", False)])
def test_other_authorizations(authorization, type_, key):
    routes = API_ROUTES(MANIFEST, ALIASES, authorization)
    assert {(route["authorization_type"], route["api_key_required"]) for route in routes} == {(type_, key)}


def test_a_function_without_an_alias_is_named():
    with pytest.raises(AnsibleFilterError, match="api_routes: alias_arns: no alias ARN for the functions get"):
        API_ROUTES(MANIFEST, {"list": ALIASES["list"]})


def test_an_unknown_authorization_is_named():
    with pytest.raises(
        AnsibleFilterError, match="authorization: expected one of API_KEY, AWS_IAM, NONE, got 'COGNITO'"
    ):
        API_ROUTES(MANIFEST, ALIASES, "COGNITO")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/tasks", "tasks"), ("/tasks/{id}", "tasks/*"), ("/a/{x}/b/{y}", "a/*/b/*"), ("/", "")],
)
def test_source_arn_is_stage_agnostic_with_parameters_as_wildcards(path, expected):
    route = {"method": "PUT", "path": path}
    arn = SOURCE_ARN(route, "abc123", "eu-west-1", "123456789012")
    assert arn == f"arn:aws:execute-api:eu-west-1:123456789012:abc123/*/PUT/{expected}"


def test_source_arn_needs_the_api_id():
    with pytest.raises(AnsibleFilterError, match="execute_api_source_arn: api_id"):
        SOURCE_ARN({"method": "GET", "path": "/tasks"}, "", "us-east-1", "1")


INVOKE_PERMISSIONS = FILTERS["api_invoke_permissions"]
NAMES = {"list": "p-list", "get": "p-get"}


def test_invoke_permissions_follow_the_manifest():
    assert INVOKE_PERMISSIONS(MANIFEST, NAMES, "live", "abc123", "eu-west-1", "123456789012", "aws-cn") == [
        {
            "function_name": "p-list",
            "qualifier": "live",
            "statement_id": "apigateway-get-list",
            "action": "lambda:InvokeFunction",
            "principal": "apigateway.amazonaws.com",
            "source_arn": "arn:aws-cn:execute-api:eu-west-1:123456789012:abc123/*/GET/tasks",
        },
        {
            "function_name": "p-get",
            "qualifier": "live",
            "statement_id": "apigateway-get-get",
            "action": "lambda:InvokeFunction",
            "principal": "apigateway.amazonaws.com",
            "source_arn": "arn:aws-cn:execute-api:eu-west-1:123456789012:abc123/*/GET/tasks/*",
        },
    ]


def test_invoke_permission_statement_ids_have_the_method_in_lower_case():
    manifest = [{"name": "create", "method": "POST", "path": "/tasks"}]
    (permission,) = INVOKE_PERMISSIONS(manifest, {"create": "p-create"}, "live", "abc123", "us-east-1", "1")
    assert permission["statement_id"] == "apigateway-post-create"
    assert permission["source_arn"] == "arn:aws:execute-api:us-east-1:1:abc123/*/POST/tasks"


def test_invoke_permissions_name_the_functions_without_a_name():
    with pytest.raises(
        AnsibleFilterError, match="api_invoke_permissions: names: no function name for the functions get"
    ):
        INVOKE_PERMISSIONS(MANIFEST, {"list": "p-list"}, "live", "abc123", "us-east-1", "1")


@pytest.mark.parametrize(("alias_name", "api_id", "named"), [("", "abc123", "alias_name"), ("live", "", "api_id")])
def test_invoke_permissions_need_the_alias_and_the_api_id(alias_name, api_id, named):
    with pytest.raises(AnsibleFilterError, match=f"api_invoke_permissions: {named}"):
        INVOKE_PERMISSIONS(MANIFEST, NAMES, alias_name, api_id, "us-east-1", "1")
