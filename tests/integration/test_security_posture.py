"""Security posture: the deployed stack, read back with boto3, against the AWS FSBP controls that apply.

The whole site.yml converges once on a private endpoint (and once more, which must change nothing); each
test then reads the deployed resources named by the outputs file and holds them to one control. The checks
are plain functions ``(aws, outputs) -> [failure, ...]``: each failure names the resource and the control,
and the last tests break a control by hand to show that its check reports it.

Not applicable here (see the report of issue 9):
- EC2.6 (VPC flow logs): the design (docs/DESIGN, "The stack, resource by resource") has no flow logs.
- S3.1 (account-level public access block): an account setting, not a resource of this stack; the bucket's
  own block (S3.8) is checked.
- DynamoDB.6 (deletion protection): the design asks for it in prod only; the local environment has it off.
- APIGateway.4 (WAF web ACL), APIGateway.2 (backend client certificate), APIGateway.5 (cache encryption): no
  WAF in the design; the integrations are Lambda proxies, not HTTP backends; the stage has no cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from playbook_runner import converge_site, read_outputs

# FSBP Lambda.2's supported runtimes (Security Hub's list, early 2026), the languages this design could use.
SUPPORTED_RUNTIMES = {
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "nodejs22.x",
    "nodejs20.x",
    "java21",
    "java17",
    "java11",
    "dotnet8",
    "ruby3.4",
    "ruby3.3",
}
PUBLIC_PRINCIPALS = ("*", {"AWS": "*"})
LOGGED_LEVELS = ("ERROR", "INFO")


@pytest.fixture(scope="module")
def deployed(local_endpoint, tmp_path_factory):
    """The whole stack converged on an empty account, then converged again without a change."""
    local_endpoint.reset()
    outputs_dir = tmp_path_factory.mktemp("outputs")
    first = converge_site(local_endpoint.url, outputs_dir, "all")
    assert first.returncode == 0, first.describe()
    again = converge_site(local_endpoint.url, outputs_dir, "all")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, again.changed_tasks()
    return SimpleNamespace(aws=local_endpoint.client, outputs=read_outputs(outputs_dir))


# --- reading helpers ------------------------------------------------------------------------------------------


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def as_document(policy) -> dict:
    """A policy document whether the API returned it parsed or as JSON text."""
    return json.loads(policy) if isinstance(policy, str) else policy


def function_names(outputs) -> list[str]:
    return list(outputs["functions"]["names"].values())


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def stack_roles(aws, outputs) -> list[str]:
    """The functions' execution roles and the role API Gateway logs with (from the account settings)."""
    logging_role = aws("apigateway").get_account().get("cloudwatchRoleArn")
    arns = list(outputs["iam"]["role_arns"].values()) + ([logging_role] if logging_role else [])
    return [role_name(arn) for arn in arns]


def role_policies(aws, role: str) -> dict[str, dict]:
    """Every policy document on a role, inline and attached, by a label naming the policy."""
    iam = aws("iam")
    documents = {
        f"inline policy {name} of role {role}": as_document(
            iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        )
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]
        documents[f"attached policy {attached['PolicyArn']} of role {role}"] = as_document(document["Document"])
    return documents


def stack_log_groups(aws, outputs) -> list[dict]:
    """Every log group whose name carries the stack's prefix or its API's id."""
    marks = (outputs["name_prefix"], outputs["api"]["id"])
    paginator = aws("logs").get_paginator("describe_log_groups")
    groups = [group for page in paginator.paginate() for group in page["logGroups"]]
    return [group for group in groups if any(mark in group["logGroupName"] for mark in marks)]


def default_security_group(aws, outputs) -> dict:
    filters = [
        {"Name": "vpc-id", "Values": [outputs["network"]["vpc_id"]]},
        {"Name": "group-name", "Values": ["default"]},
    ]
    (group,) = aws("ec2").describe_security_groups(Filters=filters)["SecurityGroups"]
    return group


def api_methods(aws, api_id: str) -> dict[str, dict]:
    """Every method of the API, by ``VERB /path``."""
    apigateway = aws("apigateway")
    paginator = apigateway.get_paginator("get_resources")
    resources = [resource for page in paginator.paginate(restApiId=api_id) for resource in page["items"]]
    return {
        f"{verb} {resource['path']}": apigateway.get_method(
            restApiId=api_id, resourceId=resource["id"], httpMethod=verb
        )
        for resource in resources
        for verb in resource.get("resourceMethods", {})
    }


def stage(aws, outputs) -> dict:
    return aws("apigateway").get_stage(restApiId=outputs["api"]["id"], stageName=outputs["api"]["stage_name"])


def referenced_kms_keys(aws, outputs) -> dict[str, str]:
    """The KMS keys the stack's resources name, by a label naming the resource."""
    storage = outputs["storage"]
    bucket_rule = aws("s3").get_bucket_encryption(Bucket=storage["bucket_name"])["ServerSideEncryptionConfiguration"]
    table = aws("dynamodb").describe_table(TableName=storage["table_name"])["Table"]
    (parameter,) = aws("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [storage["api_key_parameter_name"]]}]
    )["Parameters"]
    topic = aws("sns").get_topic_attributes(TopicArn=outputs["monitoring"]["topic_arn"])["Attributes"]
    keys = {
        f"bucket {storage['bucket_name']}": bucket_rule["Rules"][0]["ApplyServerSideEncryptionByDefault"].get(
            "KMSMasterKeyID"
        ),
        f"table {storage['table_name']}": table.get("SSEDescription", {}).get("KMSMasterKeyArn"),
        f"parameter {storage['api_key_parameter_name']}": parameter.get("KeyId"),
        f"topic {outputs['monitoring']['topic_arn']}": topic.get("KmsMasterKeyId"),
    }
    keys |= {f"log group {g['logGroupName']}": g.get("kmsKeyId") for g in stack_log_groups(aws, outputs)}
    return {label: key for label, key in keys.items() if key}


def customer_managed_keys(aws, outputs) -> dict[str, dict]:
    """The customer managed keys among the referenced ones (AWS managed keys rotate on their own), by label."""
    kms, found = aws("kms"), {}
    for label, key in referenced_kms_keys(aws, outputs).items():
        if key.startswith("alias/aws/"):
            continue
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
        if metadata["KeyManager"] == "CUSTOMER":
            found[label] = metadata
    return found


# --- the checks: (aws, outputs) -> a list of failures, each naming the resource and the control -------------


def s3_tls_only_failures(aws, outputs) -> list[str]:
    """S3.5: the bucket policy denies every request not made over TLS, on the bucket and its objects."""
    bucket, bucket_arn = outputs["storage"]["bucket_name"], outputs["storage"]["bucket_arn"]
    try:
        policy = json.loads(aws("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    except aws("s3").exceptions.from_code("NoSuchBucketPolicy"):
        return [f"bucket {bucket} fails S3.5: it has no bucket policy"]
    denies_plain_http = [
        statement
        for statement in as_list(policy.get("Statement", []))
        if statement.get("Effect") == "Deny"
        and statement.get("Principal") in PUBLIC_PRINCIPALS
        and "s3:*" in as_list(statement.get("Action"))
        and {bucket_arn, f"{bucket_arn}/*"} <= set(as_list(statement.get("Resource")))
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    return [] if denies_plain_http else [f"bucket {bucket} fails S3.5: no statement denies s3:* without TLS"]


def s3_public_access_block_failures(aws, outputs) -> list[str]:
    """S3.8: the bucket blocks public ACLs and policies, all four settings on."""
    bucket = outputs["storage"]["bucket_name"]
    try:
        block = aws("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except aws("s3").exceptions.from_code("NoSuchPublicAccessBlockConfiguration"):
        return [f"bucket {bucket} fails S3.8: it has no public access block"]
    settings = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    return [
        f"bucket {bucket} fails S3.8: {setting} is not on" for setting in settings if block.get(setting) is not True
    ]


def s3_versioning_failures(aws, outputs) -> list[str]:
    """S3.14: the bucket keeps versions."""
    bucket = outputs["storage"]["bucket_name"]
    status = aws("s3").get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    return [] if status == "Enabled" else [f"bucket {bucket} fails S3.14: versioning is {status}"]


def s3_default_encryption_failures(aws, outputs) -> list[str]:
    """S3.4 (and S3.17 with KMS): the bucket encrypts new objects by default."""
    bucket = outputs["storage"]["bucket_name"]
    try:
        rules = aws("s3").get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except aws("s3").exceptions.from_code("ServerSideEncryptionConfigurationNotFoundError"):
        return [f"bucket {bucket} fails S3.4: no default encryption"]
    algorithms = [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules]
    encrypted = any(algorithm in ("aws:kms", "aws:kms:dsse", "AES256") for algorithm in algorithms)
    return [] if encrypted else [f"bucket {bucket} fails S3.4: default encryption is {algorithms}"]


def dynamodb_pitr_failures(aws, outputs) -> list[str]:
    """DynamoDB.2: the table has point-in-time recovery."""
    table = outputs["storage"]["table_name"]
    backups = aws("dynamodb").describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "absent")
    return [] if status == "ENABLED" else [f"table {table} fails DynamoDB.2: point-in-time recovery is {status}"]


def dynamodb_encryption_failures(aws, outputs) -> list[str]:
    """DynamoDB encryption at rest with a KMS key (the design's SSE, beyond the AWS owned key)."""
    table = outputs["storage"]["table_name"]
    sse = aws("dynamodb").describe_table(TableName=table)["Table"].get("SSEDescription", {})
    if (sse.get("Status"), sse.get("SSEType")) == ("ENABLED", "KMS"):
        return []
    return [f"table {table} fails KMS encryption at rest: SSEDescription is {sse or 'absent (AWS owned key)'}"]


def default_security_group_failures(aws, outputs) -> list[str]:
    """EC2.2: the VPC's default security group allows no traffic in or out."""
    group = default_security_group(aws, outputs)
    where = f"default security group {group['GroupId']} of {outputs['network']['vpc_id']}"
    return [
        f"{where} fails EC2.2: it has {direction} rules {rules}"
        for direction, rules in (("ingress", group["IpPermissions"]), ("egress", group["IpPermissionsEgress"]))
        if rules
    ]


def lambda_in_vpc_failures(aws, outputs) -> list[str]:
    """Lambda.3: each function runs in the stack's private subnets behind its security group."""
    network, failures = outputs["network"], []
    for name in function_names(outputs):
        config = aws("lambda").get_function_configuration(FunctionName=name).get("VpcConfig", {})
        subnets, groups = set(config.get("SubnetIds", [])), set(config.get("SecurityGroupIds", []))
        if not subnets or not subnets <= set(network["private_subnet_ids"]):
            failures.append(f"function {name} fails Lambda.3: subnets {sorted(subnets)} are not the private ones")
        if network["lambda_security_group_id"] not in groups:
            failures.append(f"function {name} fails Lambda.3: security groups {sorted(groups)} lack the stack's")
    return failures


def lambda_runtime_failures(aws, outputs) -> list[str]:
    """Lambda.2: each function uses a supported runtime."""
    runtimes = {
        name: aws("lambda").get_function_configuration(FunctionName=name)["Runtime"] for name in function_names(outputs)
    }
    return [
        f"function {name} fails Lambda.2: runtime {runtime} is not supported"
        for name, runtime in runtimes.items()
        if runtime not in SUPPORTED_RUNTIMES
    ]


def lambda_public_access_failures(aws, outputs) -> list[str]:
    """Lambda.1: no function (or alias) policy lets anyone invoke it; API Gateway's grants name the source."""
    lambda_client, failures = aws("lambda"), []
    for alias_arn in outputs["functions"]["alias_arns"].values():
        try:
            policy = json.loads(lambda_client.get_policy(FunctionName=alias_arn)["Policy"])
        except lambda_client.exceptions.ResourceNotFoundException:
            continue
        for statement in as_list(policy.get("Statement", [])):
            public = statement.get("Principal") in PUBLIC_PRINCIPALS
            unscoped = "aws:sourcearn" not in json.dumps(statement.get("Condition", {})).lower()  # AWS: "AWS:SourceArn"
            if public or unscoped:
                failures.append(f"function {alias_arn} fails Lambda.1: statement {statement.get('Sid')} is open")
    return failures


def api_execution_logging_failures(aws, outputs) -> list[str]:
    """APIGateway.1: the stage logs (execution logs at ERROR or INFO) and writes access logs to its log group."""
    found, where, failures = (
        stage(aws, outputs),
        f"stage {outputs['api']['stage_name']} of API {outputs['api']['id']}",
        [],
    )
    level = found.get("methodSettings", {}).get("*/*", {}).get("loggingLevel", "OFF")
    if level not in LOGGED_LEVELS:
        failures.append(f"{where} fails APIGateway.1: execution logging level is {level}")
    destination = found.get("accessLogSettings", {}).get("destinationArn", "")
    if not destination.endswith(f":log-group:{outputs['api']['access_log_group']}"):
        failures.append(f"{where} fails APIGateway.1: access logs go to {destination or 'nowhere'}")
    return failures


def api_tracing_failures(aws, outputs) -> list[str]:
    """APIGateway.3: the stage traces requests with X-Ray."""
    where = f"stage {outputs['api']['stage_name']} of API {outputs['api']['id']}"
    return [] if stage(aws, outputs).get("tracingEnabled") else [f"{where} fails APIGateway.3: X-Ray tracing is off"]


def api_authorization_failures(aws, outputs) -> list[str]:
    """Every method asks for an API key or an authorizer (no open method)."""
    methods = api_methods(aws, outputs["api"]["id"])
    open_methods = [
        route
        for route, method in methods.items()
        if not method.get("apiKeyRequired") and method.get("authorizationType", "NONE") == "NONE"
    ]
    failures = [
        f"method {route} of API {outputs['api']['id']} is open: no API key, no authorizer" for route in open_methods
    ]
    return failures if methods else [f"API {outputs['api']['id']} has no methods to check"]


def sns_encryption_failures(aws, outputs) -> list[str]:
    """SNS.1: the alarm topic is encrypted with a KMS key."""
    topic = outputs["monitoring"]["topic_arn"]
    key = aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId")
    return [] if key else [f"topic {topic} fails SNS.1: no KMS key"]


def kms_rotation_failures(aws, outputs) -> list[str]:
    """KMS.4: every customer managed key the stack's resources use rotates."""
    keys, kms = customer_managed_keys(aws, outputs), aws("kms")
    if not keys:
        return ["no customer managed key found: the alarm topic's own key should be one"]
    return [
        f"key {metadata['KeyId']} (used by {label}) fails KMS.4: rotation is off"
        for label, metadata in keys.items()
        if not kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"]
    ]


def log_retention_failures(aws, outputs) -> list[str]:
    """CloudWatch Logs: every log group the stack owns exists and keeps its events for a set time.

    The groups Lambda and API Gateway would create themselves, with no retention, among them: one per function
    and the stage's execution log group (``API-Gateway-Execution-Logs_<api id>/<stage>``, whenever it logs).
    """
    groups = {group["logGroupName"]: group for group in stack_log_groups(aws, outputs)}
    api_groups = [outputs["api"]["access_log_group"], outputs["api"]["execution_log_group"]]
    expected = [f"/aws/lambda/{name}" for name in function_names(outputs)] + [group for group in api_groups if group]
    missing = [
        f"log group {name} is missing (created by Lambda or API Gateway, it keeps events forever)"
        for name in expected
        if name not in groups
    ]
    unbounded = [
        f"log group {name} has no retention" for name, group in groups.items() if not group.get("retentionInDays")
    ]
    return missing + unbounded


def wildcard_actions(document: dict) -> list[str]:
    """The ``*`` and ``service:*`` actions a policy allows (and any NotAction, which allows all the rest)."""
    found = []
    for statement in as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        found += [action for action in as_list(statement.get("Action", [])) if action == "*" or action.endswith(":*")]
        found += [f"NotAction {action}" for action in as_list(statement.get("NotAction", []))]
    return found


def iam_wildcard_failures(aws, outputs) -> list[str]:
    """IAM.1/IAM.21: no policy on the stack's roles allows ``*`` or ``service:*``."""
    return [
        f"{label} allows {actions} (IAM.1/IAM.21: no wildcard actions)"
        for role in stack_roles(aws, outputs)
        for label, document in role_policies(aws, role).items()
        if (actions := wildcard_actions(document))
    ]


def ssm_secure_string_failures(aws, outputs) -> list[str]:
    """The API key parameter is a SecureString (encrypted with KMS)."""
    name = outputs["storage"]["api_key_parameter_name"]
    kind = aws("ssm").get_parameter(Name=name, WithDecryption=False)["Parameter"]["Type"]
    return [] if kind == "SecureString" else [f"parameter {name} is a {kind}, not a SecureString"]


# --- one test per control ---------------------------------------------------------------------------------------


def test_s3_5_the_bucket_denies_requests_without_tls(deployed):
    failures = s3_tls_only_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_s3_8_the_bucket_blocks_public_access(deployed):
    failures = s3_public_access_block_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_s3_14_the_bucket_keeps_versions(deployed):
    failures = s3_versioning_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_s3_4_the_bucket_encrypts_by_default(deployed):
    failures = s3_default_encryption_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_dynamodb_2_the_table_has_point_in_time_recovery(deployed):
    failures = dynamodb_pitr_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_the_table_is_encrypted_with_kms(deployed):
    failures = dynamodb_encryption_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_ec2_2_the_default_security_group_has_no_rules(deployed):
    failures = default_security_group_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_lambda_3_every_function_runs_in_the_private_subnets(deployed):
    failures = lambda_in_vpc_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_lambda_2_every_function_uses_a_supported_runtime(deployed):
    failures = lambda_runtime_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_lambda_1_no_function_may_be_invoked_by_anyone(deployed):
    failures = lambda_public_access_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_apigateway_1_the_stage_logs_execution_and_access(deployed):
    failures = api_execution_logging_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_apigateway_3_the_stage_traces_with_x_ray(deployed):
    failures = api_tracing_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_every_api_method_requires_a_key_or_an_authorizer(deployed):
    failures = api_authorization_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_sns_1_the_alarm_topic_is_encrypted_with_kms(deployed):
    failures = sns_encryption_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_kms_4_every_customer_managed_key_rotates(deployed):
    failures = kms_rotation_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_every_log_group_of_the_stack_has_a_retention(deployed):
    failures = log_retention_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_iam_1_no_role_policy_allows_a_wildcard_action(deployed):
    failures = iam_wildcard_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


def test_the_api_key_parameter_is_a_secure_string(deployed):
    failures = ssm_secure_string_failures(deployed.aws, deployed.outputs)
    assert not failures, failures


# --- the checks can fail: break a control by hand, see it reported, put it back -------------------------------


def open_default_security_group(aws, outputs) -> Callable[[], None]:
    group_id = default_security_group(aws, outputs)["GroupId"]
    rule = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    aws("ec2").authorize_security_group_ingress(GroupId=group_id, IpPermissions=rule)
    return lambda: aws("ec2").revoke_security_group_ingress(GroupId=group_id, IpPermissions=rule)


def turn_off_point_in_time_recovery(aws, outputs) -> Callable[[], None]:
    table = outputs["storage"]["table_name"]

    def set_recovery(enabled: bool):
        aws("dynamodb").update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
        )

    set_recovery(False)
    return lambda: set_recovery(True)


def delete_bucket_policy(aws, outputs) -> Callable[[], None]:
    bucket = outputs["storage"]["bucket_name"]
    policy = aws("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    aws("s3").delete_bucket_policy(Bucket=bucket)
    return lambda: aws("s3").put_bucket_policy(Bucket=bucket, Policy=policy)


def drop_a_log_retention(aws, outputs) -> Callable[[], None]:
    group = f"/aws/lambda/{function_names(outputs)[0]}"
    days = aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"]
    aws("logs").delete_retention_policy(logGroupName=group)
    return lambda: aws("logs").put_retention_policy(logGroupName=group, retentionInDays=days)


def grant_a_wildcard_action(aws, outputs) -> Callable[[], None]:
    role = role_name(next(iter(outputs["iam"]["role_arns"].values())))
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
    aws("iam").put_role_policy(RoleName=role, PolicyName="posture-test", PolicyDocument=json.dumps(document))
    return lambda: aws("iam").delete_role_policy(RoleName=role, PolicyName="posture-test")


@pytest.mark.parametrize(
    ("breaks", "check", "reported"),
    [
        (open_default_security_group, default_security_group_failures, "fails EC2.2: it has ingress rules"),
        (
            turn_off_point_in_time_recovery,
            dynamodb_pitr_failures,
            "fails DynamoDB.2: point-in-time recovery is DISABLED",
        ),
        (delete_bucket_policy, s3_tls_only_failures, "fails S3.5: it has no bucket policy"),
        (drop_a_log_retention, log_retention_failures, "has no retention"),
        (grant_a_wildcard_action, iam_wildcard_failures, "allows ['dynamodb:*']"),
    ],
    ids=["EC2.2", "DynamoDB.2", "S3.5", "log-retention", "IAM.1"],
)
def test_a_control_broken_by_hand_is_reported_then_passes_once_restored(deployed, breaks, check, reported):
    restore = breaks(deployed.aws, deployed.outputs)
    try:
        failures = check(deployed.aws, deployed.outputs)
    finally:
        restore()
    assert len(failures) == 1 and reported in failures[0], failures
    assert check(deployed.aws, deployed.outputs) == []
