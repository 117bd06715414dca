"""The OpenAPI reference derived from the function manifest: valid, complete, the deployed API's routes."""

import copy
from pathlib import Path

import pytest
import render_openapi
import yaml
from ansible.errors import AnsibleFilterError
from openapi_spec_validator import validate

from ansible_collections.serverless.tasks_api.plugins.filter.openapi import FilterModule
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import api_routes, function_manifest, openapi

REPO_ROOT = Path(__file__).resolve().parents[4]
MANIFEST = yaml.safe_load((REPO_ROOT / "roles" / "stack" / "defaults" / "main.yml").read_text())["stack_functions"]
API_AUTHORIZATION = yaml.safe_load((REPO_ROOT / "roles" / "api" / "defaults" / "main.yml").read_text())[
    "api_authorization"
]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


@pytest.mark.parametrize("authorization", ["API_KEY", "AWS_IAM", "NONE"])
def test_the_document_of_the_default_manifest_is_valid_openapi(authorization):
    document = openapi.openapi_document(MANIFEST, authorization=authorization)
    validate(document)
    assert document["openapi"].startswith("3.0.")


def test_every_manifest_route_is_an_operation_named_after_its_function():
    found = operations(openapi.openapi_document(MANIFEST))
    assert len(found) == len(MANIFEST)
    for entry in MANIFEST:
        assert found[(entry["method"], entry["path"])]["operationId"] == entry["name"]


@pytest.mark.parametrize("authorization", ["API_KEY", "AWS_IAM", "NONE"])
def test_operations_are_the_routes_and_authorization_the_api_role_creates(authorization):
    """The api role's routes come from the api_routes filter: the reference must have exactly those."""
    functions = function_manifest.normalize_manifest(MANIFEST)
    aliases = {entry["name"]: f"arn:aws:lambda:us-east-1:1:function:p-{entry['name']}:live" for entry in functions}
    routes = api_routes.api_routes(functions, aliases, authorization)
    document = openapi.openapi_document(MANIFEST, authorization=authorization)
    found = operations(document)
    assert set(found) == {(route["method"], route["path"]) for route in routes}
    for route in routes:
        security = found[(route["method"], route["path"])]["security"]
        assert (security == [{"api_key": []}]) == route["api_key_required"]
        assert (security == [{"sigv4": []}]) == (route["authorization_type"] == "AWS_IAM")
        assert (security == []) == (authorization == "NONE")
    assert ("403" in found[("GET", "/tasks")]["responses"]) == (authorization != "NONE")


def test_the_api_role_derives_its_routes_with_the_api_routes_filter():
    """What the test above compares with is what the role deploys."""
    role_vars = yaml.safe_load((REPO_ROOT / "roles" / "api" / "vars" / "main.yml").read_text())
    assert "serverless.tasks_api.api_routes(functions.alias_arns, api_authorization)" in role_vars["api__routes"]
    rest_api = (REPO_ROOT / "roles" / "api" / "tasks" / "rest_api.yml").read_text()
    assert 'routes: "{{ api__routes }}"' in rest_api


def test_task_routes_carry_their_bodies_parameters_and_statuses():
    found = operations(openapi.openapi_document(MANIFEST))
    create = found[("POST", "/tasks")]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TaskCreate"}
    assert {"201", "400", "409", "413", "403", "429", "500"} <= set(create["responses"])
    assert create["responses"]["201"]["headers"]["Location"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in create["parameters"]
    assert found[("GET", "/tasks")]["parameters"] == [
        {"$ref": "#/components/parameters/Limit"},
        {"$ref": "#/components/parameters/NextToken"},
    ]
    for method in ("GET", "PUT", "DELETE"):
        operation = found[(method, "/tasks/{id}")]
        assert operation["parameters"][0] == {"$ref": "#/components/parameters/TaskId"}
        assert {"400", "404"} <= set(operation["responses"])
    assert "content" not in found[("DELETE", "/tasks/{id}")]["responses"]["204"]
    assert "409" in found[("PUT", "/tasks/{id}")]["responses"]


def test_the_error_envelope_is_the_handlers():
    components = openapi.openapi_document(MANIFEST)["components"]
    error = components["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "request_id"]
    assert components["responses"]["NotFound"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert components["parameters"]["TaskId"]["name"] == "id"
    assert components["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": components["securitySchemes"]["api_key"]["description"],
    }


def test_a_function_with_another_handler_gets_a_generic_operation():
    manifest = [
        *MANIFEST,
        {
            "name": "archive",
            "handler": "archive.handler",
            "method": "POST",
            "path": "/tasks/{id}/archive/{reason}",
            "dynamodb_actions": [],
        },
    ]
    document = openapi.openapi_document(manifest)
    validate(document)
    operation = operations(document)[("POST", "/tasks/{id}/archive/{reason}")]
    assert operation["operationId"] == "archive"
    assert [parameter["name"] for parameter in operation["parameters"]] == ["id", "reason"]
    assert "default" in operation["responses"] and "requestBody" not in operation


def test_a_bad_manifest_is_refused_naming_the_entry():
    manifest = copy.deepcopy(MANIFEST)
    manifest[2]["path"] = "tasks/{id}"
    with pytest.raises(ValueError, match=r"function manifest is invalid: functions\[2\] \(get\): path 'tasks/\{id\}'"):
        openapi.openapi_document(manifest)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"authorization": "COGNITO"}, "authorization: expected one of API_KEY, AWS_IAM, NONE, got 'COGNITO'"),
        ({"stage": ""}, "stage: expected a non-empty string"),
        ({"title": None}, "title: expected a non-empty string"),
    ],
)
def test_bad_options_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        openapi.openapi_document(MANIFEST, **arguments)


def test_the_filter_raises_a_filter_error_named_after_it():
    document = FilterModule().filters()["openapi_document"]
    assert document(MANIFEST, "Tasks", "2.0.0", "prod")["servers"][0]["variables"]["stage"]["default"] == "prod"
    with pytest.raises(AnsibleFilterError, match=r"^openapi_document: the function manifest is invalid: functions:"):
        document({"name": "list"})


def test_docs_api_openapi_yaml_is_rendered_from_the_default_manifest():
    assert render_openapi.main(["--check"]) == 0
    committed = yaml.safe_load((REPO_ROOT / "docs" / "api" / "openapi.yaml").read_text())
    validate(committed)
    assert set(operations(committed)) == {(entry["method"], entry["path"]) for entry in MANIFEST}
    security = {name for operation in operations(committed).values() for item in operation["security"] for name in item}
    assert security == ({"api_key"} if API_AUTHORIZATION == "API_KEY" else security)


def test_check_fails_when_the_manifest_changes(monkeypatch):
    changed = [entry for entry in MANIFEST if entry["name"] != "delete"]
    original = render_openapi.defaults

    def defaults(role):
        values = original(role)
        return {**values, "stack_functions": changed} if role == "stack" else values

    monkeypatch.setattr(render_openapi, "defaults", defaults)
    assert render_openapi.main(["--check"]) == 1
