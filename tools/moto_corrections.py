"""Corrections to moto, applied by the local endpoint launcher before it serves.

Each correction names the moto (5.2.5) behaviour it corrects and what real AWS
does instead.  They exist so that the roles can stay exactly what real AWS
needs: no role, module or filter of the collection knows about them.

Keep each one small, and cover it in ``tests/unit/tools/test_moto_corrections.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

# AWS's DescribeTags resource types for the two EC2 id prefixes moto gets wrong.
# moto reports "vpc-elastic-ip" and "nat-gateway"; AWS uses "elastic-ip" and
# "natgateway" (see the ResourceType enum of the EC2 API reference).
AWS_TAG_RESOURCE_TYPES = {
    "eipalloc": "elastic-ip",
    "nat": "natgateway",
}


def correct_ec2_tag_resource_types() -> None:
    """Report Elastic IP and NAT gateway tags under AWS's resource types.

    moto answers ``DescribeTags`` with ``resource-type`` ``vpc-elastic-ip`` and
    ``nat-gateway`` and filters on those names.  amazon.aws (``ec2_eip``,
    ``ec2_vpc_nat_gateway``) reads tags with ``resource-type=elastic-ip`` and
    ``natgateway``, as AWS names them, finds none, and so re-applies the tags
    on every run: the play is never idempotent locally.
    """
    from moto.ec2 import utils as ec2_utils

    ec2_utils.EC2_PREFIX_TO_RESOURCE.update(AWS_TAG_RESOURCE_TYPES)


def correct_s3_secure_transport_conditions() -> None:
    """Evaluate bucket-policy conditions the way S3 does for TLS requests.

    moto applies any ``Deny`` with ``Principal: "*"`` to object calls whatever
    its ``Condition`` says: an unmet condition returns DENIED even for a Deny
    statement, and it never supplies ``aws:SecureTransport``.  A TLS-only bucket
    policy (``Deny`` when ``aws:SecureTransport`` is ``"false"``) therefore
    makes every ``PutObject``/``GetObject`` fail with 403.

    On AWS a statement whose condition does not hold is neutral, and the
    loopback endpoint stands for AWS's TLS endpoints, so every request here
    carries ``aws:SecureTransport = "true"``.
    """
    from moto.iam import access_control

    statement_class = access_control.IAMPolicyStatement
    original = statement_class.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        condition_values = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        if self._statement.get("Condition") and not _conditions_hold(self._statement["Condition"], condition_values):
            return access_control.PermissionResult.NEUTRAL
        return original(self, action, resource, principal, condition_values)

    statement_class.is_action_permitted = is_action_permitted


def _conditions_hold(conditions: dict, context: dict[str, str]) -> bool:
    """Return whether every ``Bool``/``StringEquals``-family condition holds.

    Operators this evaluator does not know are left to moto's own check.
    """
    evaluators = {
        "Bool": _equals_ignoring_case,
        "StringEquals": _equals,
        "StringEqualsIgnoreCase": _equals_ignoring_case,
        "StringNotEquals": lambda actual, expected: not _equals(actual, expected),
    }
    for operator, clauses in conditions.items():
        evaluate = evaluators.get(operator)
        if evaluate is None:
            continue
        for key, expected in clauses.items():
            expected_values = expected if isinstance(expected, list) else [expected]
            if not evaluate(context.get(key), [str(value) for value in expected_values]):
                return False
    return True


def _equals(actual: str | None, expected: list[str]) -> bool:
    return actual is not None and actual in expected


def _equals_ignoring_case(actual: str | None, expected: list[str]) -> bool:
    return actual is not None and actual.lower() in [value.lower() for value in expected]


def correct_lambda_code_location(endpoint_url: str) -> None:
    """Make ``GetFunction``'s ``Code.Location`` a URL that downloads the package.

    On AWS, ``Code.Location`` is a presigned URL, valid for ten minutes, from
    which anyone holding it downloads the function's deployment package.  moto
    5.2.5 answers with ``https://awslambda-REGION-tasks.s3.REGION.amazonaws.com/KEY``,
    a bucket nothing serves.  For a function whose code came from S3, answer
    with a presigned URL of that object on this endpoint instead, so that tools
    read deployed code the way they would on AWS.

    A published version must keep its own package: moto copies the function
    shallowly on ``PublishVersion``, so a later ``UpdateFunctionCode`` also
    rewrites the S3 key that the versions remember.  Each version gets its own
    copy of the code specification here.
    """
    import boto3
    from moto.awslambda.models import LambdaFunction, LambdaStorage

    original_publish = LambdaStorage.publish_version

    def publish_version(self, name_or_arn, description=""):
        version = original_publish(self, name_or_arn, description)
        if version is not None:
            version.code = dict(version.code)
        return version

    LambdaStorage.publish_version = publish_version

    original = LambdaFunction.get_code
    presigners = {}

    def presigned_location(region: str, bucket: str, key: str) -> str:
        if region not in presigners:
            presigners[region] = boto3.client(
                "s3",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id="local-endpoint",
                aws_secret_access_key="local-endpoint",
            )
        params = {"Bucket": bucket, "Key": key}
        return presigners[region].generate_presigned_url("get_object", Params=params, ExpiresIn=600)

    def get_code(self):
        response = original(self)
        bucket, key = self.code.get("S3Bucket"), self.code.get("S3Key")
        if bucket and key and "Location" in response.get("Code", {}):
            response["Code"]["Location"] = presigned_location(self.region, bucket, key)
        return response

    LambdaFunction.get_code = get_code


# UpdateMethod patch paths naming one attribute of moto's Method, and those naming one entry of a map of it.
METHOD_ATTRIBUTES = {
    "/authorizationType": "authorization_type",
    "/authorizerId": "authorizer_id",
    "/operationName": "operation_name",
    "/requestValidatorId": "request_validator_id",
}
METHOD_MAPS = {"requestParameters": "request_parameters", "requestModels": "request_models"}


def correct_apigateway_update_method() -> None:
    """Answer ``UpdateMethod`` as API Gateway does.

    moto 5.2.5 has no ``UpdateMethod``: the server answers HTTP 500 (``NotImplementedError``), so a change of a
    method's authorization or API key requirement can never be applied.  AWS applies the patch operations and
    answers with the method, as ``GetMethod`` does.  Supported here: ``replace`` of ``/authorizationType``,
    ``/apiKeyRequired`` (``"true"``/``"false"``), ``/authorizerId``, ``/operationName`` and
    ``/requestValidatorId``, and ``add``/``replace``/``remove`` of ``/requestParameters/NAME`` and
    ``/requestModels/CONTENT-TYPE``; any other path is a ``BadRequestException``, as on AWS.
    """
    from moto.apigateway.responses import APIGatewayResponse

    def update_method(self):
        _, _, api_id, _, resource_id, _, http_method = self.path.split("/")[:7]
        method = self.backend.get_method(api_id, resource_id, http_method)
        for operation in self._get_param("patchOperations") or []:
            _patch_method(method, operation)
        return json.dumps(method.to_json())

    APIGatewayResponse.update_method = update_method


def _patch_method(method, operation: dict) -> None:
    from moto.apigateway.exceptions import BadRequestException

    op, path, value = operation["op"], operation["path"], operation.get("value")
    _, field, *key = path.split("/", 2)
    if op == "replace" and path == "/apiKeyRequired":
        method.api_key_required = str(value).lower() == "true"
    elif op == "replace" and path in METHOD_ATTRIBUTES:
        setattr(method, METHOD_ATTRIBUTES[path], value)
    elif op in ("add", "replace", "remove") and field in METHOD_MAPS and key:
        entries = getattr(method, METHOD_MAPS[field]) or {}
        name = key[0].replace("~1", "/").replace("~0", "~")
        if op == "remove":
            entries.pop(name, None)
        else:
            entries[name] = str(value).lower() == "true" if field == "requestParameters" else value
        setattr(method, METHOD_MAPS[field], entries)
    else:
        raise BadRequestException(f"Invalid patch path '{path}' specified for op '{op}'")


# What TagResource, UntagResource and GetTags name, besides the stages moto knows: REST APIs, API keys, usage plans.
TAGGED_RESOURCE_URL = (
    "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/"
    "(?P<resource_type>restapis|apikeys|usageplans)/(?P<resource_id>[^/]+)$"
)
TAGGED_RESOURCE_ARN = re.compile(r"arn:[^:]+:apigateway:[^:]*::/(restapis|apikeys|usageplans)/([^/]+)")


def correct_apigateway_tags() -> None:
    """Tag REST APIs, API keys and usage plans, not only stages.

    moto 5.2.5 routes ``/tags/ARN`` only for stage ARNs, and its ``TagResource``, ``UntagResource`` and
    ``GetTags`` read every ARN as a stage's: the server answers 404 for
    ``arn:aws:apigateway:REGION::/restapis/ID``, ``.../apikeys/ID`` and ``.../usageplans/ID`` (in-process, where
    the ARN stays percent-encoded, ``NotFoundException``).  AWS tags those resources, and ``GetRestApi``,
    ``GetApiKey`` and ``GetUsagePlan`` report the tags.  moto's models keep a ``tags`` dict that those calls
    already report; the server gets a route for these ARNs, and the three calls read and write that dict.
    """
    from moto.apigateway import urls
    from moto.apigateway.responses import APIGatewayResponse

    urls.url_paths[TAGGED_RESOURCE_URL] = APIGatewayResponse.dispatch
    stage_tag, stage_untag = APIGatewayResponse.tag_resource, APIGatewayResponse.untag_resource
    stage_tags = APIGatewayResponse.get_tags

    def tag_resource(self):
        resource = _tagged_resource(self)
        if resource is None:
            return stage_tag(self)
        resource.tags = {**(resource.tags or {}), **(self._get_param("tags") or {})}
        return "{}"

    def untag_resource(self):
        resource = _tagged_resource(self)
        if resource is None:
            return stage_untag(self)
        keys = self.querystring.get("tagKeys") or []
        resource.tags = {key: value for key, value in (resource.tags or {}).items() if key not in keys}
        return "{}"

    def get_tags(self):
        resource = _tagged_resource(self)
        return stage_tags(self) if resource is None else json.dumps({"tags": resource.tags or {}})

    APIGatewayResponse.tag_resource = tag_resource
    APIGatewayResponse.untag_resource = untag_resource
    APIGatewayResponse.get_tags = get_tags


def _tagged_resource(response):
    """The REST API, API key or usage plan a tags request names; None for any other ARN (left to moto)."""
    match = TAGGED_RESOURCE_ARN.fullmatch(unquote(response.path.split("/tags/", 1)[1]))
    if match is None:
        return None
    resource_type, resource_id = match.groups()
    backend = response.backend
    getters = {"restapis": backend.get_rest_api, "apikeys": backend.get_api_key, "usageplans": backend.get_usage_plan}
    return getters[resource_type](resource_id)


def correct_apigateway_deleted_api_keys() -> None:
    """Detach a deleted API key from its usage plans.

    moto 5.2.5 ``DeleteApiKey`` forgets the key but leaves it in every usage plan it was attached to:
    ``GetUsagePlanKeys`` still lists it and ``GetUsagePlans(keyId=...)`` still finds its plans.  On AWS a deleted
    key is in no usage plan any more.
    """
    from moto.apigateway.models import APIGatewayBackend

    original = APIGatewayBackend.delete_api_key

    def delete_api_key(self, api_key_id):
        original(self, api_key_id)
        for plan_keys in self.usage_plan_keys.values():
            plan_keys.pop(api_key_id, None)

    APIGatewayBackend.delete_api_key = delete_api_key


def correct_apigateway_fractional_rate_limit() -> None:
    """Keep a usage plan's ``throttle.rateLimit`` a double.

    moto 5.2.5 ``UpdateUsagePlan`` converts ``/throttle/rateLimit`` with ``int()``: ``"12.5"`` makes the server
    answer HTTP 500 (``ValueError``) and ``"10"`` becomes the integer 10.  On AWS ``rateLimit`` is a double
    (requests per second), so 12.5 is a valid rate, set as it is.
    """
    from moto.apigateway.models import UsagePlan

    original = UsagePlan.apply_patch_operations

    def apply_patch_operations(self, patch_operations):
        for operation in patch_operations:
            if operation["path"] == "/throttle/rateLimit" and operation["op"] in ("add", "replace"):
                self.throttle["rateLimit"] = float(operation["value"])
            else:
                original(self, [operation])

    UsagePlan.apply_patch_operations = apply_patch_operations


# DescribeAlarms' AlarmTypes and the list each type is answered in; without AlarmTypes AWS answers metric alarms only.
ALARM_TYPE_LISTS = {"MetricAlarm": "MetricAlarms", "CompositeAlarm": "CompositeAlarms"}
# PutCompositeAlarm's action suppression settings and the attributes DescribeAlarms reports them from.
ACTIONS_SUPPRESSION = {
    "ActionsSuppressor": "actions_suppressor",
    "ActionsSuppressorWaitPeriod": "actions_suppressor_wait_period",
    "ActionsSuppressorExtensionPeriod": "actions_suppressor_extension_period",
}


def correct_cloudwatch_composite_alarms() -> None:
    """Answer ``PutCompositeAlarm``, and describe only the alarm types ``DescribeAlarms`` asks for.

    moto 5.2.5 has no ``PutCompositeAlarm`` (in-process ``NotImplementedError``, from the server HTTP 500), though
    its store of alarms takes an alarm with a rule as composite: ``DescribeAlarms`` reports it under
    ``CompositeAlarms`` and its ARN can be tagged.  AWS creates or updates the composite alarm; an update replaces
    the whole configuration (rule, description, actions, whether they are enabled, action suppression) and ignores
    ``Tags``, which count only on creation.  Here the call stores the alarm in moto's store, so ``DescribeAlarms``,
    ``ListTagsForResource``, ``TagResource``, ``UntagResource`` and ``DeleteAlarms`` work on it as they are; a
    created alarm has only the tags it was created with, not those moto kept from a deleted alarm of that name.

    moto's ``DescribeAlarms`` also ignores ``AlarmTypes`` and answers every alarm whatever is asked.  AWS answers the
    types listed, and metric alarms only when ``AlarmTypes`` is omitted; the other list is empty.
    """
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult, EmptyResult

    def put_composite_alarm(self):
        backend = self.cloudwatch_backend
        name = self._get_param("AlarmName")
        created = name not in backend.alarms
        alarm = backend.put_metric_alarm(
            name=name,
            namespace=None,
            metric_name=None,
            comparison_operator=None,
            evaluation_periods=None,
            period=None,
            threshold=None,
            statistic=None,
            description=self._get_param("AlarmDescription"),
            dimensions=[],
            alarm_actions=self._get_param("AlarmActions", []),
            ok_actions=self._get_param("OKActions", []),
            insufficient_data_actions=self._get_param("InsufficientDataActions", []),
            actions_enabled=self._get_bool_param("ActionsEnabled"),
            rule=self._get_param("AlarmRule"),
        )
        for key, attribute in ACTIONS_SUPPRESSION.items():
            setattr(alarm, attribute, self._get_param(key))
        if created:
            backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
            backend.tagger.tag_resource(alarm.alarm_arn, self._get_param("Tags", []))
        return EmptyResult()

    original_describe = CloudWatchResponse.describe_alarms

    def describe_alarms(self):
        answer = dict(original_describe(self).result)
        wanted = {ALARM_TYPE_LISTS.get(alarm_type) for alarm_type in self._get_param("AlarmTypes") or ["MetricAlarm"]}
        for alarm_list in ALARM_TYPE_LISTS.values():
            if alarm_list not in wanted:
                answer[alarm_list] = []
        return ActionResult(answer)

    CloudWatchResponse.put_composite_alarm = put_composite_alarm
    CloudWatchResponse.describe_alarms = describe_alarms


def correct_kms_key_state_calls_by_arn() -> None:
    """Accept a key ARN in ``ScheduleKeyDeletion``, ``CancelKeyDeletion``, ``EnableKey`` and ``DisableKey``.

    AWS takes the key ID or the key ARN as ``KeyId`` of these calls.  moto 5.2.5 looks the ``KeyId`` up as given
    among its key IDs: a key ARN raises ``KeyError`` and the server answers HTTP 500.  amazon.aws ``kms_key``
    addresses the key by its ARN, so a ``state: absent`` (teardown) fails, and so does a converge that brings
    back a key pending deletion (cancel, then enable).  Here the ARN is reduced to the key ID first, as moto
    already does for ``DescribeKey``.
    """
    from moto.kms.models import KmsBackend

    def by_key_id(original):
        def call(self, key_id, *args):
            return original(self, self.get_key_id(key_id), *args)

        return call

    for name in ("schedule_key_deletion", "cancel_key_deletion", "enable_key", "disable_key"):
        setattr(KmsBackend, name, by_key_id(getattr(KmsBackend, name)))


def correct_dynamodb_default_key_manager() -> None:
    """Make the key DynamoDB encrypts a table with by default an AWS managed key, which rotates.

    A table created with SSE (KMS) and no key of its own is encrypted under ``alias/aws/dynamodb``, an AWS
    managed key: DescribeKey reports ``KeyManager: AWS`` and AWS rotates it every year (GetKeyRotationStatus
    answers true).  moto 5.2.5 (``Table._get_default_encryption_key``) creates that key as an ordinary
    customer managed key with rotation off, so a posture check of KMS.4 (customer managed keys rotate) blames
    the stack for a key it does not own.  Here the key moto creates is marked AWS managed and rotating.
    """
    from moto.dynamodb.models.table import Table
    from moto.kms import kms_backends

    original = Table._get_default_encryption_key

    def aws_managed_default_key(self, account_id: str, region: str) -> str:
        arn = original(self, account_id, region)
        key = kms_backends[account_id][region].describe_key(arn)
        key.key_manager, key.key_rotation_status = "AWS", True
        return arn

    Table._get_default_encryption_key = aws_managed_default_key


CORRECTIONS: tuple[Callable[[], None], ...] = (
    correct_ec2_tag_resource_types,
    correct_s3_secure_transport_conditions,
    correct_apigateway_update_method,
    correct_apigateway_tags,
    correct_apigateway_deleted_api_keys,
    correct_apigateway_fractional_rate_limit,
    correct_cloudwatch_composite_alarms,
    correct_kms_key_state_calls_by_arn,
    correct_dynamodb_default_key_manager,
)


def apply_all(endpoint_url: str) -> None:
    """Apply every correction; called once, before the server at ``endpoint_url`` starts."""
    for correction in CORRECTIONS:
        correction()
    correct_lambda_code_location(endpoint_url)
