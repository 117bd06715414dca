"""Corrections to moto, applied by the local endpoint launcher before it serves.

Each correction names the moto (5.2.5) behaviour it corrects and what real AWS
does instead.  They exist so that the roles can stay exactly what real AWS
needs: no role, module or filter of the collection knows about them.

Keep each one small, and cover it in ``tests/unit/tools/test_moto_corrections.py``.
"""

from __future__ import annotations

from collections.abc import Callable

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


CORRECTIONS: tuple[Callable[[], None], ...] = (
    correct_ec2_tag_resource_types,
    correct_s3_secure_transport_conditions,
)


def apply_all(endpoint_url: str) -> None:
    """Apply every correction; called once, before the server at ``endpoint_url`` starts."""
    for correction in CORRECTIONS:
        correction()
    correct_lambda_code_location(endpoint_url)
