"""API Gateway routes and invoke permissions derived from the function manifest.

Importable without Ansible; ``plugins/filter/api.py`` turns ``ValueError`` into ``AnsibleFilterError``.
"""

from __future__ import annotations

import re

AUTHORIZATIONS = ("API_KEY", "AWS_IAM", "NONE")
PATH_PARAMETER = re.compile(r"\{[^/{}]+\}")


def api_routes(functions: list[dict], alias_arns: dict, authorization: str) -> list[dict]:
    """One route per manifest entry: its method and path to its function's alias, with the API's authorization."""
    if authorization not in AUTHORIZATIONS:
        raise ValueError(f"authorization: expected one of {', '.join(AUTHORIZATIONS)}, got {authorization!r}")
    if not isinstance(functions, list) or not isinstance(alias_arns, dict):
        raise ValueError("expected the manifest (a list) and the alias ARNs by function name (a dict)")
    missing = [entry.get("name") for entry in functions if entry.get("name") not in alias_arns]
    if missing:
        raise ValueError(f"alias_arns: no alias ARN for the functions {', '.join(map(str, missing))}")
    return [_route(entry, alias_arns[entry["name"]], authorization) for entry in functions]


def _route(entry: dict, alias_arn: str, authorization: str) -> dict:
    return {
        "method": entry["method"],
        "path": entry["path"],
        "function_arn": alias_arn,
        "authorization_type": "AWS_IAM" if authorization == "AWS_IAM" else "NONE",
        "api_key_required": authorization == "API_KEY",
    }


def execute_api_source_arn(route: dict, api_id: str, region: str, account_id: str, partition: str = "aws") -> str:
    """The ``SourceArn`` that lets this API, on any stage, invoke the route's function (path parameters as ``*``)."""
    if not api_id:
        raise ValueError("api_id: expected the REST API's id")
    path = PATH_PARAMETER.sub("*", route["path"]).lstrip("/")
    return f"arn:{partition}:execute-api:{region}:{account_id}:{api_id}/*/{route['method']}/{path}"


def api_invoke_permissions(
    functions: list[dict],
    names: dict,
    alias_name: str,
    api_id: str,
    region: str,
    account_id: str,
    partition: str = "aws",
) -> list[dict]:
    """One Lambda permission per manifest entry: this API, on any stage, may invoke the alias for its route only.

    The list ``serverless.tasks_api.lambda_permissions`` takes: statement ``apigateway-<method>-<name>`` on the
    alias of the entry's function, scoped by :func:`execute_api_source_arn`.
    """
    if not isinstance(functions, list) or not isinstance(names, dict):
        raise ValueError("expected the manifest (a list) and the function names by manifest name (a dict)")
    if not alias_name:
        raise ValueError("alias_name: expected the name of the functions' alias")
    missing = [entry.get("name") for entry in functions if entry.get("name") not in names]
    if missing:
        raise ValueError(f"names: no function name for the functions {', '.join(map(str, missing))}")
    return [
        {
            "function_name": names[entry["name"]],
            "qualifier": alias_name,
            "statement_id": f"apigateway-{entry['method'].lower()}-{entry['name']}",
            "action": "lambda:InvokeFunction",
            "principal": "apigateway.amazonaws.com",
            "source_arn": execute_api_source_arn(entry, api_id, region, account_id, partition),
        }
        for entry in functions
    ]
