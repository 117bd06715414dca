"""The OpenAPI 3.0 reference of the tasks API, derived from the function manifest.

One path item per manifest path, one operation per entry (its ``operationId`` is the entry's name), with the
API's authorization as the security requirement of every operation, as ``api_routes`` gives API Gateway.
The request and response shapes are those of the handlers in ``lambda_src/`` (``tasks_core/validation.py``,
``errors.py``, ``responses.py``), looked up by the handler's module (``create_task`` for
``create_task.handler``); an entry whose handler is not one of them gets an operation with the error
answers only, since its bodies are its own.

Importable without Ansible; ``plugins/filter/openapi.py`` turns ``ValueError`` into ``AnsibleFilterError``.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import function_manifest
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.api_routes import AUTHORIZATIONS

OPENAPI_VERSION = "3.0.3"
PATH_PARAMETER = re.compile(r"\{([^/{}]+)\}")
# The limits of lambda_src/tasks_core/validation.py and config.py.
STATUSES = ["todo", "in_progress", "done"]
TITLE_MAX, DESCRIPTION_MAX = 200, 2000
LIMIT_DEFAULT, LIMIT_MAX = 20, 100
VERSION_MAX = 2**53
IDEMPOTENCY_KEY_MAX = 128
TOKEN_MAX = 1024
BODY_MAX_BYTES = 64 * 1024
ERROR_CODES = [
    "bad_request",
    "validation_error",
    "not_found",
    "conflict",
    "payload_too_large",
    "method_not_allowed",
    "internal_error",
]
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": _ref("schemas", schema_name)}}


def _writable_properties() -> dict:
    return {
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX, "default": ""},
        "status": {"type": "string", "enum": STATUSES, "default": "todo"},
        "due_date": {"type": "string", "format": "date", "nullable": True, "default": None},
    }


def _schemas() -> dict:
    timestamp = {"type": "string", "format": "date-time", "example": "2026-11-26T10:00:00.000Z"}
    return {
        "Task": {
            "type": "object",
            "description": "A stored task. `version` starts at 1 and grows by one with each replacement.",
            "required": ["id", "title", "description", "status", "due_date", "created_at", "updated_at", "version"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                **{
                    name: {k: v for k, v in spec.items() if k != "default"}
                    for name, spec in _writable_properties().items()
                },
                "created_at": timestamp,
                "updated_at": timestamp,
                "version": {"type": "integer", "minimum": 1, "maximum": VERSION_MAX},
            },
        },
        "TaskCreate": {
            "type": "object",
            "description": "The body of a create: the writable fields; no other field is accepted.",
            "required": ["title"],
            "additionalProperties": False,
            "properties": _writable_properties(),
            "example": {"title": "Write the docs", "status": "todo", "due_date": "2026-12-31"},
        },
        "TaskReplace": {
            "type": "object",
            "description": (
                "The body of a replacement: the writable fields (those left out take their defaults) and the "
                "`version` last read (optimistic locking). The read-only fields of a task may be sent back as "
                "read; `created_at` and `updated_at` are ignored, `id` must be the id of the path."
            ),
            "required": ["title", "version"],
            "additionalProperties": False,
            "properties": {
                **_writable_properties(),
                "version": {"type": "integer", "minimum": 1, "maximum": VERSION_MAX},
                "id": {"type": "string", "format": "uuid"},
                "created_at": {"type": "string"},
                "updated_at": {"type": "string"},
            },
            "example": {"title": "Write the docs", "status": "done", "due_date": None, "version": 1},
        },
        "TaskPage": {
            "type": "object",
            "required": ["items", "next_token"],
            "properties": {
                "items": {"type": "array", "items": _ref("schemas", "Task"), "maxItems": LIMIT_MAX},
                "next_token": {
                    "type": "string",
                    "nullable": True,
                    "description": "Pass as `next_token` for the next page; null on the last page.",
                },
            },
        },
        "Error": {
            "type": "object",
            "description": "The error envelope of every answer of the functions that is not a success.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "request_id"],
                    "properties": {
                        "code": {"type": "string", "enum": ERROR_CODES},
                        "message": {"type": "string", "description": "For people; do not parse."},
                        "request_id": {"type": "string", "description": "The `X-Request-Id` of the answer."},
                    },
                }
            },
            "example": {"error": {"code": "not_found", "message": "task not found", "request_id": "c0ffee00-0000"}},
        },
        "GatewayError": {
            "type": "object",
            "description": "An answer of API Gateway itself (the request did not reach a function, or it failed).",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
            "example": {"message": "Forbidden"},
        },
    }


def _parameters() -> dict:
    return {
        "TaskId": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "The task's id, a UUID (any case; answered in lower case).",
            "schema": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"The page size, 1 to {LIMIT_MAX}.",
            "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
        },
        "NextToken": {
            "name": "next_token",
            "in": "query",
            "required": False,
            "description": "The `next_token` of the previous page; a token this table did not issue is a 400.",
            "schema": {"type": "string", "maxLength": TOKEN_MAX, "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": (
                "Makes the create safe to retry: for 24 hours (the functions' `IDEMPOTENCY_TTL_SECONDS`), the same "
                "key with the same body gets the first answer again (same task, same status), another body a 409."
            ),
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX, "pattern": "^[ -~]+$"},
        },
    }


def _headers() -> dict:
    return {
        "RequestId": {"description": "The request's id, also in error bodies.", "schema": {"type": "string"}},
        "Location": {"description": "The path of the created task, `/tasks/{id}`.", "schema": {"type": "string"}},
    }


def _error(description: str, schema: str = "Error") -> dict:
    return {
        "description": description,
        "headers": {"X-Request-Id": _ref("headers", "RequestId")},
        "content": _json(schema),
    }


def _gateway_error(description: str) -> dict:
    return {"description": description, "content": _json("GatewayError")}


def _responses(authorization: str) -> dict:
    responses = {
        "BadRequest": _error(
            "`bad_request`: a path id that is not a UUID, a body that is missing, not UTF-8, not JSON or not an "
            "object, a `next_token` this table did not issue; `validation_error`: a field, query parameter or "
            "header outside its schema, or an unknown field."
        ),
        "NotFound": _error("`not_found`: no task has this id."),
        "PayloadTooLarge": _error(
            f"`payload_too_large`: the body is over {BODY_MAX_BYTES} bytes (API Gateway itself refuses bodies over "
            '10 MB with `{"message": "Request Too Long"}`).'
        ),
        "InternalError": _error("`internal_error`: an unexpected error in the function (logged with the request id)."),
        "TooManyRequests": _gateway_error(
            "API Gateway: the stage's or the usage plan's throttling limit, or the usage plan's quota, was reached."
        ),
        "BadGateway": _gateway_error("API Gateway: the function failed or gave an invalid answer."),
        "GatewayTimeout": _gateway_error("API Gateway: the function did not answer within its timeout (at most 29 s)."),
    }
    if authorization == "API_KEY":
        responses["Forbidden"] = _gateway_error(
            "API Gateway: no `x-api-key` header, or a key that is not in a usage plan of this stage (`Forbidden`)."
        )
    elif authorization == "AWS_IAM":
        responses["Forbidden"] = _gateway_error(
            "API Gateway: the request is not signed (SigV4) by a principal allowed `execute-api:Invoke` on it."
        )
    return responses


def _security_schemes(authorization: str) -> dict:
    if authorization == "API_KEY":
        return {
            "api_key": {
                "type": "apiKey",
                "in": "header",
                "name": "x-api-key",
                "description": "The key of the stage's usage plan; its value is the storage role's SSM parameter.",
            }
        }
    if authorization == "AWS_IAM":
        return {
            "sigv4": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "AWS Signature Version 4 of an IAM principal allowed `execute-api:Invoke`.",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        }
    return {}


def _common_errors(authorization: str) -> dict:
    errors = {"403": _ref("responses", "Forbidden")} if authorization != "NONE" else {}
    return {
        **errors,
        "429": _ref("responses", "TooManyRequests"),
        "500": _ref("responses", "InternalError"),
        "502": _ref("responses", "BadGateway"),
        "504": _ref("responses", "GatewayTimeout"),
    }


def _success(status: str, description: str, schema: str | None = None, location: bool = False) -> dict:
    headers = {"X-Request-Id": _ref("headers", "RequestId")}
    if location:
        headers["Location"] = _ref("headers", "Location")
    response = {"description": description, "headers": headers}
    if schema:
        response["content"] = _json(schema)
    return {status: response}


# The handlers of lambda_src/, by module: what each reads and answers besides the common errors.
CONTRACTS = {
    "list_tasks": {
        "summary": "List tasks, a page at a time",
        "parameters": [_ref("parameters", "Limit"), _ref("parameters", "NextToken")],
        "responses": {
            **_success("200", "A page of tasks (possibly short, even empty, before the last one).", "TaskPage"),
            "400": _ref("responses", "BadRequest"),
        },
    },
    "create_task": {
        "summary": "Create a task",
        "parameters": [_ref("parameters", "IdempotencyKey")],
        "requestBody": {"required": True, "content": _json("TaskCreate")},
        "responses": {
            **_success("201", "The created task (or, for a repeated Idempotency-Key, the first answer).", "Task", True),
            "400": _ref("responses", "BadRequest"),
            "409": _error(
                "`conflict`: the Idempotency-Key was used with another body, or its first request is still running."
            ),
            "413": _ref("responses", "PayloadTooLarge"),
        },
    },
    "get_task": {
        "summary": "Read a task",
        "responses": {
            **_success("200", "The task.", "Task"),
            "400": _ref("responses", "BadRequest"),
            "404": _ref("responses", "NotFound"),
        },
    },
    "update_task": {
        "summary": "Replace a task's writable fields (optimistic locking on `version`)",
        "requestBody": {"required": True, "content": _json("TaskReplace")},
        "responses": {
            **_success("200", "The task as replaced, its `version` one higher.", "Task"),
            "400": _ref("responses", "BadRequest"),
            "404": _ref("responses", "NotFound"),
            "409": _error("`conflict`: the task was changed since it was read (its version is not `version`)."),
            "413": _ref("responses", "PayloadTooLarge"),
        },
    },
    "delete_task": {
        "summary": "Delete a task",
        "responses": {
            **_success("204", "Deleted; no body."),
            "400": _ref("responses", "BadRequest"),
            "404": _ref("responses", "NotFound"),
        },
    },
}


def _path_parameters(path: str, known: bool) -> list[dict]:
    parameters = []
    for name in PATH_PARAMETER.findall(path):
        if known and name == "id":
            parameters.append(_ref("parameters", "TaskId"))
        else:
            parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    return parameters


def _operation(entry: dict, authorization: str) -> dict:
    module = entry["handler"].rsplit(".", 1)[0]
    contract = copy.deepcopy(CONTRACTS.get(module))
    if contract is None:
        contract = {
            "summary": f"{entry['method']} {entry['path']}",
            "description": f"Served by `{entry['handler']}`, not one of the tasks handlers: its bodies are its own.",
            "responses": {"default": {"description": "The function's answer."}},
        }
    operation = {"operationId": entry["name"], "summary": contract.pop("summary"), "tags": ["tasks"]}
    operation["x-function"] = {"name": entry["name"], "handler": entry["handler"], "timeout": entry["timeout"]}
    parameters = _path_parameters(entry["path"], module in CONTRACTS) + contract.pop("parameters", [])
    if parameters:
        operation["parameters"] = parameters
    operation.update(contract)
    operation["responses"] = {**operation["responses"], **_common_errors(authorization)}
    operation["security"] = [{name: []} for name in _security_schemes(authorization)] or []
    return operation


def _servers(stage: str, region: str) -> list[dict]:
    return [
        {
            "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
            "description": "The deployed stage (the `api.invoke_url` of the outputs file).",
            "variables": {
                "api_id": {"default": "API_ID", "description": "The REST API's id (`api.id` of the outputs)."},
                "region": {"default": region},
                "stage": {"default": stage},
            },
        },
        {
            "url": "http://127.0.0.1:{port}/{stage}",
            "description": "The local API front that `make deploy` starts (tools/local_api.py).",
            "variables": {"port": {"default": "3000"}, "stage": {"default": stage}},
        },
    ]


def _check_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def openapi_document(
    functions: object,
    title: str = "Tasks API",
    version: str = "1.0.0",
    stage: str = "local",
    region: str = "us-east-1",
    authorization: str = "API_KEY",
) -> dict:
    """The OpenAPI 3.0 document of the API the manifest ``functions`` gives; ``ValueError`` naming what is wrong."""
    for name, value in (("title", title), ("version", version), ("stage", stage), ("region", region)):
        _check_text(name, value)
    if authorization not in AUTHORIZATIONS:
        raise ValueError(f"authorization: expected one of {', '.join(AUTHORIZATIONS)}, got {authorization!r}")
    try:
        entries = function_manifest.normalize_manifest(functions)
    except ValueError as error:
        raise ValueError(f"the function manifest is invalid: {error}") from None
    paths: dict[str, dict] = {}
    for entry in entries:
        paths.setdefault(entry["path"], {})[entry["method"].lower()] = _operation(entry, authorization)
    components = {
        "schemas": _schemas(),
        "parameters": _parameters(),
        "headers": _headers(),
        "responses": _responses(authorization),
    }
    schemes = _security_schemes(authorization)
    if schemes:
        components["securitySchemes"] = schemes
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Generated from the function manifest (`stack_functions`) by the "
                "`serverless.tasks_api.openapi_document` filter; one operation per manifest entry, "
                f"authorization `{authorization}`."
            ),
        },
        "servers": _servers(stage, region),
        "tags": [{"name": "tasks", "description": "The tasks of the API"}],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
