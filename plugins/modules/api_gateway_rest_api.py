#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: api_gateway_rest_api
version_added: 1.0.0
short_description: Converge an API Gateway REST API whose routes invoke Lambda functions, and deploy it once per change
description:
  - Creates, updates or deletes one API Gateway REST API (v1), found by its name and, when several APIs share the
    name, by its tags.
  - Each route becomes a resource (with its parents), a method and a C(AWS_PROXY) integration that invokes a Lambda
    function or alias. Only what differs from the API as it is gets written, so a run with the same input makes no
    write call at all.
  - Unlike M(community.aws.api_gateway), the module never creates a second API of the same name, reports a change
    only when something changed, and makes a deployment only when the definition has not been deployed before.
  - The module makes deployments but no stage; point a stage at RV(deployment_id).
  - Authorizers, models, request validators, method responses, gateway responses, resource policies and the other
    settings not listed here are left alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the REST API.
    required: true
    type: str
  description:
    description:
      - The description of the REST API.
    type: str
    default: ""
  endpoint_type:
    description:
      - The endpoint type of the REST API.
    type: str
    choices: ["REGIONAL", "EDGE"]
    default: REGIONAL
  routes:
    description:
      - The methods of the API, each with the path of its resource and the Lambda function it invokes.
      - Resources along each path are created as needed. Each method gets an C(AWS_PROXY) integration that calls
        C(Invoke) with C(POST) on O(routes[].function_arn), in that function's partition and region.
      - When omitted, the routes of an existing API are left alone, whatever O(purge_routes) says.
      - Every route is checked before any AWS call; a bad route fails the module, naming it.
    type: list
    elements: dict
    suboptions:
      method:
        description:
          - The HTTP method, one of V(GET), V(POST), V(PUT), V(PATCH), V(DELETE), V(HEAD), V(OPTIONS) or V(ANY),
            in any case.
          - A method and path may appear once in O(routes).
        type: str
        required: true
      path:
        description:
          - The path of the resource, V(/) or segments each of letters, digits, C(.), C(_), C(-), or a path
            parameter such as C({id}), for example V(/tasks/{id}). No trailing slash.
        type: str
        required: true
      function_arn:
        description:
          - The ARN of the Lambda function or alias the method invokes, for example
            V(arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-get:live).
          - The module does not grant API Gateway permission to invoke it;
            use M(serverless.tasks_api.lambda_permissions).
        type: str
        required: true
      authorization_type:
        description:
          - How callers are authorized. V(AWS_IAM) requires requests signed with AWS credentials.
        type: str
        choices: ["NONE", "AWS_IAM"]
        default: NONE
      api_key_required:
        description:
          - Whether callers must present an API key of a usage plan that includes the stage.
        type: bool
        default: true
  purge_routes:
    description:
      - Whether methods of the API that are not in O(routes) are deleted, and with them the resources left with no
        method and no child resource. The root resource V(/) is never deleted.
      - With V(false), the other methods are kept and are part of what a deployment covers.
    type: bool
    default: true
  deploy:
    description:
      - Whether to make sure a deployment of the current definition exists, creating one when none does.
      - See the notes for how an existing deployment is recognised.
      - An API without any method cannot be deployed, so none is made for it and RV(deployment_id) is null.
    type: bool
    default: true
  tags:
    description:
      - A dictionary of tags to set on the REST API.
      - When omitted, the tags of an existing API are left alone.
      - When several APIs have O(name), the one whose tags include all of these is managed.
      - With O(state=absent), only an API whose tags include all of these is deleted.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing API that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the API, V(absent) deletes it with its stages and deployments.
      - With V(absent), an API that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The API is found by listing the REST APIs of the region (C(GetRestApis)) and keeping those named O(name). When
    several have that name, those whose tags include all of O(tags) are kept; if that does not leave exactly one,
    the module fails listing their ids and changes nothing, rather than guess or create one more. A single API
    named O(name) is managed whatever its tags, and gets O(tags), except that O(state=absent) deletes an API only
    when its tags include all of O(tags).
  - The definition of the API is the sorted list of its routes (path, method, authorization type, whether an API key
    is required, and the type, URI and HTTP method of the integration) and its endpoint type. The module writes it
    as canonical JSON and hashes it with SHA-256 (RV(definition_sha256)). A deployment of that definition is one
    whose description is exactly C(serverless.tasks_api definition sha256:<hex>). When such a deployment exists its
    id is returned and nothing is deployed; otherwise a deployment (without a stage) is created with that
    description. So a run that changes nothing makes no deployment, a real change makes exactly one, and going back
    to an earlier definition reuses the deployment made for it.
  - A deployment is a snapshot; changes made to the API outside this module, and not undone by it, are recognised
    only through the definition above. Deleting a deployment that a stage uses is refused by API Gateway.
  - The module reads with C(GetRestApis), C(GetResources) (methods embedded) and C(GetDeployments); the credentials
    need these permissions even when nothing changes.
  - C(TooManyRequestsException) and C(ConflictException) are retried with backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the tasks REST API and deploy it when its definition changed
  serverless.tasks_api.api_gateway_rest_api:
    name: tasks-api-prod
    description: Tasks API
    routes:
      - method: GET
        path: /tasks
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list:live
      - method: POST
        path: /tasks
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-create:live
      - method: GET
        path: /tasks/{id}
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-get:live
      - method: PUT
        path: /tasks/{id}
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-update:live
      - method: DELETE
        path: /tasks/{id}
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-delete:live
    tags:
      Environment: prod
      Application: tasks-api
  register: tasks_api

- name: Point the prod stage at the deployment of the current definition
  ansible.builtin.debug:
    msg: "Deployment {{ tasks_api.deployment_id }} of definition {{ tasks_api.definition_sha256 }}"

- name: Require signed requests on one route and keep methods made elsewhere
  serverless.tasks_api.api_gateway_rest_api:
    name: tasks-api-prod
    tags:
      Environment: prod
    purge_routes: false
    routes:
      - method: get
        path: /admin/report
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-report
        authorization_type: AWS_IAM
        api_key_required: false

- name: Delete the API of the prod environment, its stages and deployments
  serverless.tasks_api.api_gateway_rest_api:
    name: tasks-api-prod
    tags:
      Environment: prod
    state: absent
"""

RETURN = r"""
rest_api:
  description:
    - The REST API as API Gateway describes it after the module ran, with its tags.
    - In check mode, the API as it is, or for an API that would be created, what would be created with a null C(id).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The id of the API.
      returned: when the API exists
      type: str
      sample: a1b2c3d4e5
    name:
      description: The name of the API.
      returned: when the API exists or would be created
      type: str
      sample: tasks-api-prod
    description:
      description: The description of the API.
      returned: when the API has one
      type: str
      sample: Tasks API
    endpoint_configuration:
      description: The endpoint types of the API.
      returned: when the API exists or would be created
      type: dict
      sample: {"types": ["REGIONAL"]}
    root_resource_id:
      description: The id of the root resource V(/).
      returned: when the API exists
      type: str
      sample: f6g7h8i9j0
    created_date:
      description: When the API was created.
      returned: when the API exists
      type: str
    tags:
      description: The tags of the API.
      returned: when the API exists or would be created
      type: dict
      sample: {"Environment": "prod"}
routes:
  description:
    - The routes of the API after the module ran, sorted by path and method. Without O(purge_routes), routes made
      elsewhere are listed too.
    - Empty when O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path of the resource.
      type: str
      sample: /tasks/{id}
    method:
      description: The HTTP method.
      type: str
      sample: GET
    resource_id:
      description: The id of the resource; null in check mode for a resource that would be created.
      type: str
      sample: k1l2m3n4o5
    authorization_type:
      description: How callers are authorized.
      type: str
      sample: NONE
    api_key_required:
      description: Whether callers must present an API key.
      type: bool
      sample: true
    function_arn:
      description: The Lambda function or alias invoked, or null for another kind of integration.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-get:live
    integration:
      description: The type, URI and HTTP method of the integration, or null for a method without one.
      type: dict
      sample:
        type: AWS_PROXY
        http_method: POST
        uri: >-
          arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-get:live/invocations
definition_sha256:
  description:
    - The SHA-256 (hex) of the canonical definition of the API; see the notes.
    - Null when O(state=absent).
  returned: always
  type: str
  sample: 5f1c0e0f9a7b3e6d2c4a8b1e0d9f7c6b5a4e3d2c1b0a9f8e7d6c5b4a3e2d1c0f
deployment_id:
  description:
    - The id of the deployment of the current definition, created by this run or reused.
    - Null with O(deploy=false), for an API without methods, when O(state=absent), and in check mode when a
      deployment would be created.
  returned: always
  type: str
  sample: x9y8z7w6v5
deployment_created:
  description: Whether this run created a deployment (in check mode, whether a real run would).
  returned: always
  type: bool
  sample: true
diff:
  description:
    - The managed properties before and after; C(before) is empty for a creation, C(after) for a deletion.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      description: Tasks API
      endpoint_type: REGIONAL
      tags: {"Environment": "prod"}
      routes:
        - path: /tasks
          method: GET
          authorization_type: NONE
          api_key_required: true
          integration:
            type: AWS_PROXY
            http_method: POST
            uri: >-
              arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list:live/invocations
"""

import hashlib
import json
import re

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.api_gateway import (
    PAGE_SIZE,
    apigateway_arn,
    apigateway_client,
    apigateway_retry,
    aws_call,
    call_or_fail,
    delete_unless_gone,
    exit_with_diff,
    plain_tags,
    snake_dict_with_tags,
    update_tags,
)
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
PATH_PATTERN = re.compile(r"^(/|(/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\}))+)$")
FUNCTION_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
LAMBDA_URI = "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
LAMBDA_URI_PATTERN = re.compile(
    r"^arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$"
)
DEPLOYMENT_DESCRIPTION = "serverless.tasks_api definition sha256:{}"


@apigateway_retry()
def list_rest_apis(client):
    paginator = client.get_paginator("get_rest_apis")
    return paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}).build_full_result().get("items", [])


@apigateway_retry()
def list_resources(client, api_id):
    paginator = client.get_paginator("get_resources")
    pages = paginator.paginate(restApiId=api_id, embed=["methods"], PaginationConfig={"PageSize": PAGE_SIZE})
    return pages.build_full_result().get("items", [])


@apigateway_retry()
def list_deployments(client, api_id):
    paginator = client.get_paginator("get_deployments")
    pages = paginator.paginate(restApiId=api_id, PaginationConfig={"PageSize": PAGE_SIZE})
    return pages.build_full_result().get("items", [])


# Routes as given


def route_label(index, route):
    return f"routes[{index}] ({route.get('method')} {route.get('path')})"


def route_problem(route):
    """What is wrong with one route as given, or None."""
    if route["method"].upper() not in METHODS:
        return f"method {route['method']} is not one of {', '.join(METHODS)}"
    if not PATH_PATTERN.match(route["path"]):
        return (
            f"path {route['path']} must be / or /-separated segments of letters, digits, '.', '_', '-', or a"
            " parameter such as {id}, without a trailing slash"
        )
    if not FUNCTION_ARN_PATTERN.match(route["function_arn"]):
        return (
            f"function_arn {route['function_arn']} is not the ARN of a Lambda function or alias, such as"
            " arn:aws:lambda:us-east-1:123456789012:function:my-function:live"
        )
    return None


def lambda_integration(function_arn):
    arn = FUNCTION_ARN_PATTERN.match(function_arn)
    uri = LAMBDA_URI.format(partition=arn["partition"], region=arn["region"], function_arn=function_arn)
    return {"type": "AWS_PROXY", "uri": uri, "http_method": "POST"}


def desired_route(given):
    return {
        "path": given["path"],
        "method": given["method"].upper(),
        "authorization_type": given["authorization_type"],
        "api_key_required": given["api_key_required"],
        "integration": lambda_integration(given["function_arn"]),
    }


def route_key(route):
    return (route["path"], route["method"])


def desired_routes(module):
    """The routes as given, checked and normalized and sorted; None when omitted. Fails naming a bad route."""
    if module.params["routes"] is None:
        return None
    routes, seen = {}, {}
    for index, given in enumerate(module.params["routes"]):
        problem = route_problem(given)
        if problem:
            module.fail_json(msg=f"{route_label(index, given)}: {problem}")
        route = desired_route(given)
        key = route_key(route)
        if key in seen:
            module.fail_json(
                msg=f"{route_label(index, given)} repeats routes[{seen[key]}]; give each method and path once"
            )
        seen[key] = index
        routes[key] = route
    return [routes[key] for key in sorted(routes)]


# Paths


def path_prefixes(path):
    """The paths of the resources from the root's child down to the path itself: /a/b gives /a and /a/b."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:length]) for length in range(1, len(parts) + 1)]


def path_depth(path):
    return len([part for part in path.split("/") if part])


def needed_paths(routes):
    return {prefix for route in routes for prefix in path_prefixes(route["path"])}


# The API as it is


def tags_include(api, tags):
    current = api.get("tags") or {}
    return all(current.get(key) == str(value) for key, value in tags.items())


def fail_on_namesakes(module, namesakes):
    ids = sorted(api["id"] for api in namesakes)
    module.fail_json(
        msg=(
            f"{len(ids)} REST APIs are named {module.params['name']} ({', '.join(ids)}) and their tags do not tell"
            " which one to manage; give tags that only one of them has, or delete the others"
        ),
        rest_api_ids=ids,
    )


def find_rest_api(client, module):
    """The API named name (told apart by tags when several are); None when none is; fails when ambiguous."""
    name, tags = module.params["name"], module.params["tags"]
    apis = call_or_fail(module, f"Failed to list the REST APIs to find {name}", list_rest_apis, client)
    namesakes = [api for api in apis if api.get("name") == name]
    if module.params["state"] == "absent" and tags:
        namesakes = [api for api in namesakes if tags_include(api, tags)]
    if len(namesakes) <= 1:
        return namesakes[0] if namesakes else None
    matching = [api for api in namesakes if tags_include(api, tags)] if tags else []
    if len(matching) == 1:
        return matching[0]
    fail_on_namesakes(module, matching or namesakes)


def read_resources(client, module, api_id):
    msg = f"Failed to read the resources and methods of REST API {api_id}"
    return call_or_fail(module, msg, list_resources, client, api_id)


def integration_state(integration):
    if not integration:
        return None
    return {
        "type": integration.get("type"),
        "uri": integration.get("uri"),
        "http_method": integration.get("httpMethod"),
    }


def read_integration(client, module, api_id, resource, method):
    """The integration of a method whose embedded description left it out; None when it has none."""
    try:
        integration = client.get_integration(
            aws_retry=True, restApiId=api_id, resourceId=resource["id"], httpMethod=method
        )
    except is_boto3_error_code("NotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the integration of {method} {resource['path']}")
    return integration_state({key: value for key, value in integration.items() if key != "ResponseMetadata"})


def current_route(client, module, api_id, resource, method, details):
    if "methodIntegration" in details:
        integration = integration_state(details["methodIntegration"])
    else:
        integration = read_integration(client, module, api_id, resource, method)
    return {
        "path": resource["path"],
        "method": method,
        "authorization_type": details.get("authorizationType", "NONE"),
        "api_key_required": bool(details.get("apiKeyRequired")),
        "integration": integration,
    }


def current_routes(client, module, api_id, resources):
    """The methods of the API, by (path, method)."""
    return {
        (resource["path"], method): current_route(client, module, api_id, resource, method, details)
        for resource in resources
        for method, details in (resource.get("resourceMethods") or {}).items()
    }


def endpoint_type(api):
    return ((api.get("endpointConfiguration") or {}).get("types") or ["EDGE"])[0]


def api_state(api, routes):
    """The managed properties of an API, as shown in the diff."""
    return {
        "description": api.get("description") or "",
        "endpoint_type": endpoint_type(api),
        "tags": plain_tags(api),
        "routes": sorted(routes, key=route_key),
    }


# Writes


def create_api(client, module, tags):
    """Create the API; in check mode return what would be created, with a null id."""
    params = module.params
    request = {
        "name": params["name"],
        "description": params["description"],
        "endpointConfiguration": {"types": [params["endpoint_type"]]},
    }
    if tags:
        request["tags"] = tags
    if module.check_mode:
        return {**request, "id": None, "rootResourceId": None, "tags": tags}
    return aws_call(module, f"create REST API {params['name']}", client.create_rest_api, **request)


def add_resource(client, module, api_id, parent_id, path):
    created = aws_call(
        module,
        f"create resource {path} of REST API {api_id}",
        client.create_resource,
        restApiId=api_id,
        parentId=parent_id,
        pathPart=path.rsplit("/", 1)[1],
    )
    return created["id"]


def add_method(client, module, api_id, resource_id, route):
    aws_call(
        module,
        f"add method {route['method']} {route['path']} to REST API {api_id}",
        client.put_method,
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=route["method"],
        authorizationType=route["authorization_type"],
        apiKeyRequired=route["api_key_required"],
    )


def update_method(client, module, api_id, resource_id, route, operations):
    aws_call(
        module,
        f"update the authorization of method {route['method']} {route['path']} of REST API {api_id}",
        client.update_method,
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=route["method"],
        patchOperations=operations,
    )


def put_integration(client, module, api_id, resource_id, route):
    integration = route["integration"]
    aws_call(
        module,
        f"set the integration of method {route['method']} {route['path']} of REST API {api_id} to {integration['uri']}",
        client.put_integration,
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=route["method"],
        type=integration["type"],
        integrationHttpMethod=integration["http_method"],
        uri=integration["uri"],
    )


def delete_method(client, module, api_id, resource_id, route):
    aws_call(
        module,
        f"delete method {route['method']} {route['path']} of REST API {api_id}",
        client.delete_method,
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=route["method"],
    )


def delete_resource(client, module, api_id, resource_id, path):
    aws_call(
        module,
        f"delete resource {path} of REST API {api_id}",
        client.delete_resource,
        restApiId=api_id,
        resourceId=resource_id,
    )


# Converging


def create_missing_resources(client, module, api_id, resource_ids, routes):
    """Create the resources along the routes' paths that are missing, parents first; record their ids."""
    missing = sorted((path for path in needed_paths(routes) if path not in resource_ids), key=path_depth)
    for path in missing:
        parent = path.rsplit("/", 1)[0] or "/"
        resource_ids[path] = (
            None if module.check_mode else add_resource(client, module, api_id, resource_ids[parent], path)
        )
    return bool(missing)


def method_patch_operations(current, desired):
    operations = []
    if current["authorization_type"] != desired["authorization_type"]:
        operations.append({"op": "replace", "path": "/authorizationType", "value": desired["authorization_type"]})
    if current["api_key_required"] != desired["api_key_required"]:
        operations.append(
            {"op": "replace", "path": "/apiKeyRequired", "value": str(desired["api_key_required"]).lower()}
        )
    return operations


def converge_method(client, module, api_id, resource_id, current, route):
    """Add the method of a route, or bring its authorization and integration to the route; return whether changed."""
    if current is None:
        if not module.check_mode:
            add_method(client, module, api_id, resource_id, route)
            put_integration(client, module, api_id, resource_id, route)
        return True
    operations = method_patch_operations(current, route)
    new_integration = current["integration"] != route["integration"]
    if not module.check_mode:
        if operations:
            update_method(client, module, api_id, resource_id, route, operations)
        if new_integration:
            put_integration(client, module, api_id, resource_id, route)
    return bool(operations) or new_integration


def purge_other_routes(client, module, api_id, resource_ids, current, routes):
    """Delete the methods not in routes, then the resources no route needs, deepest first."""
    wanted = {route_key(route) for route in routes}
    others = [route for key, route in sorted(current.items()) if key not in wanted]
    for route in others:
        if not module.check_mode:
            delete_method(client, module, api_id, resource_ids[route["path"]], route)
    needed = needed_paths(routes) | {"/"}
    unneeded = sorted((path for path in resource_ids if path not in needed), key=path_depth, reverse=True)
    for path in unneeded:
        if not module.check_mode:
            delete_resource(client, module, api_id, resource_ids[path], path)
        del resource_ids[path]
    return bool(others or unneeded)


def converge_routes(client, module, api_id, resource_ids, current, routes):
    """Bring the methods of the API to routes; return (changed, the routes of the API afterwards)."""
    if routes is None:
        return False, sorted(current.values(), key=route_key)
    changed = create_missing_resources(client, module, api_id, resource_ids, routes)
    for route in routes:
        key = route_key(route)
        changed |= converge_method(client, module, api_id, resource_ids[route["path"]], current.get(key), route)
    if module.params["purge_routes"]:
        changed |= purge_other_routes(client, module, api_id, resource_ids, current, routes)
        return changed, list(routes)
    wanted = {route_key(route) for route in routes}
    kept = [route for key, route in current.items() if key not in wanted]
    return changed, sorted(routes + kept, key=route_key)


def api_patch_operations(api, desired):
    operations = []
    if (api.get("description") or "") != desired["description"]:
        operations.append({"op": "replace", "path": "/description", "value": desired["description"]})
    if endpoint_type(api) != desired["endpoint_type"]:
        operations.append(
            {
                "op": "replace",
                "path": f"/endpointConfiguration/types/{endpoint_type(api)}",
                "value": desired["endpoint_type"],
            }
        )
    return operations


def converge_api_settings(client, module, api):
    operations = api_patch_operations(api, module.params)
    if operations and not module.check_mode:
        aws_call(
            module,
            f"update the description or endpoint type of REST API {api['id']}",
            client.update_rest_api,
            restApiId=api["id"],
            patchOperations=operations,
        )
    return bool(operations)


def rest_api_arn(client, api_id):
    return apigateway_arn(client, f"/restapis/{api_id}")


def update_api_tags(client, module, api):
    return update_tags(client, module, rest_api_arn(client, api["id"]), api.get("tags") or {}, f"REST API {api['id']}")


# Deployment


def definition_sha256(endpoint, routes):
    """The SHA-256 (hex) of the canonical JSON of the endpoint type and the sorted routes."""
    definition = {"endpoint_type": endpoint, "routes": sorted(routes, key=route_key)}
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def created_at(deployment):
    created = deployment.get("createdDate")
    return created.timestamp() if hasattr(created, "timestamp") else 0


def find_deployment(client, module, api_id, description):
    """The id of the newest deployment with this description, or None."""
    msg = f"Failed to list the deployments of REST API {api_id}"
    deployments = call_or_fail(module, msg, list_deployments, client, api_id)
    matching = [deployment for deployment in deployments if deployment.get("description") == description]
    return max(matching, key=created_at)["id"] if matching else None


def converge_deployment(client, module, api_id, routes, sha256):
    """Find or create the deployment of the definition; return (deployment id, whether one is created)."""
    if not module.params["deploy"] or not routes:
        return None, False
    description = DEPLOYMENT_DESCRIPTION.format(sha256)
    existing = find_deployment(client, module, api_id, description) if api_id else None
    if existing or module.check_mode:
        return existing, existing is None
    deployment = aws_call(
        module,
        f"deploy REST API {api_id}; every method needs an integration",
        client.create_deployment,
        restApiId=api_id,
        description=description,
    )
    return deployment["id"], True


# Results


def function_arn(integration):
    match = LAMBDA_URI_PATTERN.match((integration or {}).get("uri") or "")
    return match["arn"] if match else None


def route_result(route, resource_ids):
    return {**route, "resource_id": resource_ids.get(route["path"]), "function_arn": function_arn(route["integration"])}


def snake_result(api):
    """An API as the module returns it: snake_case keys, tags as a dict."""
    return snake_dict_with_tags(api)


def describe_result(client, module, api_id):
    api = aws_call(module, f"describe REST API {api_id}", client.get_rest_api, restApiId=api_id)
    return snake_result(api)


def read_api_routes(client, module, api):
    """The resource ids by path and the current routes by (path, method) of an existing API."""
    resources = read_resources(client, module, api["id"])
    resource_ids = {resource["path"]: resource["id"] for resource in resources}
    return resource_ids, current_routes(client, module, api["id"], resources)


def converge_api(client, module, api):
    """Create the API, or bring its settings and tags to the parameters.

    Return (the API, whether it changed, its managed state before, its resource ids by path, its routes by key).
    """
    if api is None:
        api = create_api(client, module, desired_tags(module, {}))
        return api, True, {}, {"/": api["rootResourceId"]}, {}
    resource_ids, current = read_api_routes(client, module, api)
    changed = converge_api_settings(client, module, api)
    changed |= update_api_tags(client, module, api)
    return api, changed, api_state(api, current.values()), resource_ids, current


def desired_state(module, before, routes):
    return {
        "description": module.params["description"],
        "endpoint_type": module.params["endpoint_type"],
        "tags": desired_tags(module, before.get("tags", {})),
        "routes": routes,
    }


def ensure_present(client, module, api, routes):
    """Return (changed, result, before, after)."""
    api, changed, before, resource_ids, current = converge_api(client, module, api)
    routes_changed, final_routes = converge_routes(client, module, api["id"], resource_ids, current, routes)
    sha256 = definition_sha256(module.params["endpoint_type"], final_routes)
    deployment_id, deployment_created = converge_deployment(client, module, api["id"], final_routes, sha256)
    changed = changed or routes_changed or deployment_created
    fresh = changed and not module.check_mode
    result = {
        "rest_api": describe_result(client, module, api["id"]) if fresh else snake_result(api),
        "routes": [route_result(route, resource_ids) for route in final_routes],
        "definition_sha256": sha256,
        "deployment_id": deployment_id,
        "deployment_created": deployment_created,
    }
    return changed, result, before, desired_state(module, before, final_routes)


def remove_api(client, module, api):
    """Delete the API; return False when it was already gone."""
    if module.check_mode:
        return True
    msg = f"Failed to delete REST API {api['id']} ({api['name']})"
    return delete_unless_gone(module, msg, client.delete_rest_api, aws_retry=True, restApiId=api["id"])


def ensure_absent(client, module, api):
    """Return (changed, result, before, after)."""
    result = {
        "rest_api": {},
        "routes": [],
        "definition_sha256": None,
        "deployment_id": None,
        "deployment_created": False,
    }
    if api is None:
        return False, result, {}, {}
    before = {}
    if module._diff:
        before = api_state(api, read_api_routes(client, module, api)[1].values())
    return remove_api(client, module, api), result, before, {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        endpoint_type=dict(type="str", choices=["REGIONAL", "EDGE"], default="REGIONAL"),
        routes=dict(
            type="list",
            elements="dict",
            options=dict(
                method=dict(type="str", required=True),
                path=dict(type="str", required=True),
                function_arn=dict(type="str", required=True),
                authorization_type=dict(type="str", choices=["NONE", "AWS_IAM"], default="NONE"),
                api_key_required=dict(type="bool", default=True, no_log=False),
            ),
        ),
        purge_routes=dict(type="bool", default=True),
        deploy=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    routes = desired_routes(module)

    client = apigateway_client(module)

    api = find_rest_api(client, module)
    if module.params["state"] == "present":
        changed, result, before, after = ensure_present(client, module, api, routes)
    else:
        changed, result, before, after = ensure_absent(client, module, api)

    exit_with_diff(module, before, after, changed=changed, **result)


if __name__ == "__main__":
    main()
