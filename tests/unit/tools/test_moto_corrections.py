"""The launcher's corrections to moto: each defect is shown in plain moto and shown fixed behind the launcher.

If a "plain moto" test starts failing after a moto upgrade, moto fixed the defect:
drop the correction from tools/moto_corrections.py.
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

TLS_ONLY_POLICY_TEMPLATE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::{bucket}", "arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def tls_only_policy(bucket: str, secure_transport: str = "false") -> str:
    text = json.dumps(TLS_ONLY_POLICY_TEMPLATE).replace("{bucket}", bucket)
    return text.replace('"aws:SecureTransport": "false"', f'"aws:SecureTransport": "{secure_transport}"')


def tagged_eip_and_nat(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "eip"}]}]
    )["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "nat"}]}],
    )["NatGateway"]["NatGatewayId"]
    return allocation, nat


def tags_of_type(ec2, resource_id: str, resource_type: str) -> list[dict]:
    filters = [{"Name": "resource-id", "Values": [resource_id]}, {"Name": "resource-type", "Values": [resource_type]}]
    return ec2.describe_tags(Filters=filters)["Tags"]


@mock_aws
def test_plain_moto_files_eip_and_nat_tags_under_the_wrong_resource_types():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    allocation, nat = tagged_eip_and_nat(ec2)
    assert tags_of_type(ec2, allocation, "elastic-ip") == []
    assert tags_of_type(ec2, nat, "natgateway") == []


@pytest.mark.parametrize(("index", "resource_type"), [(0, "elastic-ip"), (1, "natgateway")])
def test_launcher_reports_eip_and_nat_tags_under_aws_resource_types(fresh_endpoint, index, resource_type):
    ec2 = fresh_endpoint.client("ec2")
    resource_id = tagged_eip_and_nat(ec2)[index]
    tags = tags_of_type(ec2, resource_id, resource_type)
    assert [(tag["Key"], tag["Value"], tag["ResourceType"]) for tag in tags] == [
        ("Name", "eip" if index == 0 else "nat", resource_type)
    ]


@mock_aws
def test_plain_moto_denies_every_object_call_under_a_tls_only_policy():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="plain")
    s3.put_bucket_policy(Bucket="plain", Policy=tls_only_policy("plain"))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="plain", Key="k", Body=b"v")


def test_launcher_allows_object_calls_under_a_tls_only_policy(fresh_endpoint):
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="packages")
    s3.put_bucket_policy(Bucket="packages", Policy=tls_only_policy("packages"))
    s3.put_object(Bucket="packages", Key="k", Body=b"v")
    assert s3.get_object(Bucket="packages", Key="k")["Body"].read() == b"v"


def test_launcher_still_denies_when_the_condition_holds(fresh_endpoint):
    """The loopback endpoint stands for TLS: a Deny on SecureTransport=true must apply."""
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="denied")
    s3.put_bucket_policy(Bucket="denied", Policy=tls_only_policy("denied", secure_transport="true"))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="denied", Key="k", Body=b"v")


def test_launcher_still_denies_an_unconditional_deny(fresh_endpoint):
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="locked")
    policy = json.loads(tls_only_policy("locked"))
    del policy["Statement"][0]["Condition"]
    s3.put_bucket_policy(Bucket="locked", Policy=json.dumps(policy))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="locked", Key="k", Body=b"v")


def lambda_package(body: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", body)
    return buffer.getvalue()


def function_from_s3(client_for, suffix: str):
    """A function whose first and second packages are S3 objects; returns (lambda client, packages)."""
    iam, s3, lambda_ = client_for("iam"), client_for("s3"), client_for("lambda")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName=f"code-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    bucket = f"packages-{suffix}"
    s3.create_bucket(Bucket=bucket)
    packages = {key: lambda_package(f"VALUE = {key!r}\n") for key in ("v1.zip", "v2.zip")}
    for key, body in packages.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    lambda_.create_function(
        FunctionName=f"code-{suffix}",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "v1.zip"},
    )
    return lambda_, packages


@mock_aws
def test_plain_moto_gives_a_code_location_nothing_serves_and_versions_forget_their_key():
    lambda_, _ = function_from_s3(lambda service: boto3.client(service, region_name="us-east-1"), "plain")
    location = lambda_.get_function(FunctionName="code-plain")["Code"]["Location"]
    assert location.startswith("https://awslambda-us-east-1-tasks.s3.")

    lambda_.publish_version(FunctionName="code-plain")
    lambda_.update_function_code(FunctionName="code-plain", S3Bucket="packages-plain", S3Key="v2.zip")
    version_1 = lambda_.get_function(FunctionName="code-plain", Qualifier="1")["Code"]["Location"]
    assert version_1.endswith("/v2.zip")  # AWS serves version 1's own package, v1.zip


def test_launcher_code_location_downloads_each_version_s_package(fresh_endpoint):
    import urllib.request

    lambda_, packages = function_from_s3(fresh_endpoint.client, "served")
    lambda_.publish_version(FunctionName="code-served")
    lambda_.update_function_code(FunctionName="code-served", S3Bucket="packages-served", S3Key="v2.zip")
    lambda_.publish_version(FunctionName="code-served")

    for qualifier, key in (("1", "v1.zip"), ("2", "v2.zip"), ("$LATEST", "v2.zip")):
        location = lambda_.get_function(FunctionName="code-served", Qualifier=qualifier)["Code"]["Location"]
        assert location.startswith(fresh_endpoint.url)
        with urllib.request.urlopen(location, timeout=10) as response:
            assert response.read() == packages[key], qualifier


def method_on_root(apigateway) -> dict:
    """A GET method on the root of a new REST API, without authorization or API key; returns its identifiers."""
    api = apigateway.create_rest_api(name="methods")
    method = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "GET"}
    apigateway.put_method(**method, authorizationType="NONE", apiKeyRequired=False)
    return method


AUTHORIZATION_PATCHES = [
    {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
    {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
]


@mock_aws
def test_plain_moto_has_no_update_method():
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    method = method_on_root(apigateway)
    with pytest.raises(NotImplementedError):
        apigateway.update_method(**method, patchOperations=AUTHORIZATION_PATCHES)


def test_launcher_updates_a_method_and_answers_with_it(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    method = method_on_root(apigateway)

    updated = apigateway.update_method(**method, patchOperations=AUTHORIZATION_PATCHES)

    described = apigateway.get_method(**method)
    for answer in (updated, described):
        assert (answer["authorizationType"], answer["apiKeyRequired"]) == ("AWS_IAM", True)
    patches = [{"op": "replace", "path": "/apiKeyRequired", "value": "false"}]
    assert apigateway.update_method(**method, patchOperations=patches)["apiKeyRequired"] is False


def test_launcher_patches_a_method_s_operation_name_and_request_parameters(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    method = method_on_root(apigateway)
    header, query = "method.request.header.X-Trace", "method.request.querystring.page"

    apigateway.update_method(
        **method,
        patchOperations=[
            {"op": "replace", "path": "/operationName", "value": "ListTasks"},
            {"op": "add", "path": f"/requestParameters/{header}", "value": "true"},
            {"op": "add", "path": f"/requestParameters/{query}", "value": "false"},
        ],
    )
    apigateway.update_method(**method, patchOperations=[{"op": "remove", "path": f"/requestParameters/{header}"}])

    described = apigateway.get_method(**method)
    assert (described["operationName"], described["requestParameters"]) == ("ListTasks", {query: False})


def test_launcher_refuses_a_method_patch_path_aws_does_not_know(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    method = method_on_root(apigateway)
    with pytest.raises(ClientError, match="BadRequestException"):
        apigateway.update_method(**method, patchOperations=[{"op": "replace", "path": "/color", "value": "red"}])


# For each kind of resource: create it with tags, return its id; describe it by its id.
TAGGABLE = {
    "restapis": (
        lambda apigateway, tags: apigateway.create_rest_api(name="tagged", tags=tags)["id"],
        lambda apigateway, resource_id: apigateway.get_rest_api(restApiId=resource_id),
    ),
    "apikeys": (
        lambda apigateway, tags: apigateway.create_api_key(name="tagged", tags=tags)["id"],
        lambda apigateway, resource_id: apigateway.get_api_key(apiKey=resource_id),
    ),
    "usageplans": (
        lambda apigateway, tags: apigateway.create_usage_plan(name="tagged", tags=tags)["id"],
        lambda apigateway, resource_id: apigateway.get_usage_plan(usagePlanId=resource_id),
    ),
}


def tagged(apigateway, kind: str) -> tuple[str, str]:
    """A resource of the kind tagged Env=test and Team=api; returns (its id, its ARN)."""
    resource_id = TAGGABLE[kind][0](apigateway, {"Env": "test", "Team": "api"})
    return resource_id, f"arn:aws:apigateway:us-east-1::/{kind}/{resource_id}"


@pytest.mark.parametrize("kind", sorted(TAGGABLE))
@mock_aws
def test_plain_moto_tags_only_stages(kind):
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    _, arn = tagged(apigateway, kind)
    with pytest.raises(ClientError, match="NotFoundException"):
        apigateway.tag_resource(resourceArn=arn, tags={"Env": "prod"})


@pytest.mark.parametrize("kind", sorted(TAGGABLE))
def test_launcher_tags_rest_apis_api_keys_and_usage_plans(fresh_endpoint, kind):
    apigateway = fresh_endpoint.client("apigateway")
    resource_id, arn = tagged(apigateway, kind)

    apigateway.untag_resource(resourceArn=arn, tagKeys=["Team"])
    apigateway.tag_resource(resourceArn=arn, tags={"Env": "prod", "Owner": "ops"})

    assert apigateway.get_tags(resourceArn=arn)["tags"] == {"Env": "prod", "Owner": "ops"}
    assert TAGGABLE[kind][1](apigateway, resource_id)["tags"] == {"Env": "prod", "Owner": "ops"}


def test_launcher_still_tags_stages_and_refuses_unknown_resources(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    method = method_on_root(apigateway)
    apigateway.put_integration(**method, type="MOCK")
    deployment = apigateway.create_deployment(restApiId=method["restApiId"])["id"]
    apigateway.create_stage(restApiId=method["restApiId"], stageName="prod", deploymentId=deployment)
    stage_arn = f"arn:aws:apigateway:us-east-1::/restapis/{method['restApiId']}/stages/prod"

    apigateway.tag_resource(resourceArn=stage_arn, tags={"Env": "prod"})

    assert apigateway.get_tags(resourceArn=stage_arn)["tags"] == {"Env": "prod"}
    for kind in sorted(TAGGABLE):
        with pytest.raises(ClientError, match="NotFoundException"):
            apigateway.tag_resource(resourceArn=f"arn:aws:apigateway:us-east-1::/{kind}/missing123", tags={"a": "b"})


def plan_with_two_keys(apigateway) -> tuple[str, list[str]]:
    """A usage plan with two API keys attached; returns (plan id, key ids)."""
    plan = apigateway.create_usage_plan(name="clients")["id"]
    keys = [apigateway.create_api_key(name=f"client-{index}", enabled=True)["id"] for index in range(2)]
    for key in keys:
        apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    return plan, keys


def plan_key_ids(apigateway, plan: str) -> list[str]:
    return [key["id"] for key in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]]


@mock_aws
def test_plain_moto_keeps_a_deleted_api_key_in_its_usage_plans():
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    plan, keys = plan_with_two_keys(apigateway)
    apigateway.delete_api_key(apiKey=keys[0])
    assert keys[0] in plan_key_ids(apigateway, plan)


def test_launcher_detaches_a_deleted_api_key_from_its_usage_plans(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    plan, keys = plan_with_two_keys(apigateway)

    apigateway.delete_api_key(apiKey=keys[0])

    assert plan_key_ids(apigateway, plan) == [keys[1]]
    assert apigateway.get_usage_plans(keyId=keys[0])["items"] == []
    assert [item["id"] for item in apigateway.get_usage_plans(keyId=keys[1])["items"]] == [plan]


RATE_PATCH = [{"op": "replace", "path": "/throttle/rateLimit", "value": "12.5"}]


@mock_aws
def test_plain_moto_refuses_a_fractional_usage_plan_rate_limit():
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    plan = apigateway.create_usage_plan(name="throttled", throttle={"burstLimit": 5, "rateLimit": 2.5})["id"]
    with pytest.raises(ValueError):
        apigateway.update_usage_plan(usagePlanId=plan, patchOperations=RATE_PATCH)


def test_launcher_sets_a_fractional_usage_plan_rate_limit(fresh_endpoint):
    apigateway = fresh_endpoint.client("apigateway")
    plan = apigateway.create_usage_plan(name="throttled", throttle={"burstLimit": 5, "rateLimit": 2.5})["id"]
    burst_patch = {"op": "replace", "path": "/throttle/burstLimit", "value": "7"}

    updated = apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[*RATE_PATCH, burst_patch])

    assert updated["throttle"] == {"burstLimit": 7, "rateLimit": 12.5}
    assert apigateway.get_usage_plan(usagePlanId=plan)["throttle"] == {"burstLimit": 7, "rateLimit": 12.5}


CHILD_ALARMS = ("tasks-errors", "tasks-throttles")
COMPOSITE = "tasks-unhealthy"
COMPOSITE_ARN = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{COMPOSITE}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:tasks-alarms"


def child_alarms(cloudwatch) -> None:
    """The metric alarms a composite rule refers to."""
    for name in CHILD_ALARMS:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )


def alarm_names(cloudwatch, **request) -> dict[str, list[str]]:
    answer = cloudwatch.describe_alarms(**request)
    return {key: [alarm["AlarmName"] for alarm in answer.get(key, [])] for key in ("MetricAlarms", "CompositeAlarms")}


def composite_alarm(cloudwatch) -> dict:
    return cloudwatch.describe_alarms(AlarmNames=[COMPOSITE], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]


def tags_of_alarm(cloudwatch) -> dict[str, str]:
    tags = cloudwatch.list_tags_for_resource(ResourceARN=COMPOSITE_ARN)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


@mock_aws
def test_plain_moto_has_no_put_composite_alarm():
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    child_alarms(cloudwatch)
    with pytest.raises(NotImplementedError):
        cloudwatch.put_composite_alarm(AlarmName=COMPOSITE, AlarmRule=f'ALARM("{CHILD_ALARMS[0]}")')


@mock_aws
def test_plain_moto_describes_metric_alarms_when_only_composite_alarms_are_asked_for():
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    child_alarms(cloudwatch)
    assert alarm_names(cloudwatch, AlarmTypes=["CompositeAlarm"])["MetricAlarms"] == list(CHILD_ALARMS)


def test_launcher_creates_describes_updates_tags_and_deletes_a_composite_alarm(fresh_endpoint):
    cloudwatch = fresh_endpoint.client("cloudwatch")
    child_alarms(cloudwatch)
    rule = f'ALARM("{CHILD_ALARMS[0]}") OR ALARM("{CHILD_ALARMS[1]}")'

    cloudwatch.put_composite_alarm(
        AlarmName=COMPOSITE,
        AlarmRule=rule,
        AlarmDescription="The tasks API fails",
        AlarmActions=[TOPIC],
        OKActions=[TOPIC],
        Tags=[{"Key": "Env", "Value": "test"}, {"Key": "Team", "Value": "api"}],
    )

    composite_only = alarm_names(cloudwatch, AlarmTypes=["CompositeAlarm"])
    assert composite_only == {"MetricAlarms": [], "CompositeAlarms": [COMPOSITE]}
    assert alarm_names(cloudwatch) == {"MetricAlarms": list(CHILD_ALARMS), "CompositeAlarms": []}
    both = alarm_names(cloudwatch, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert both == {"MetricAlarms": list(CHILD_ALARMS), "CompositeAlarms": [COMPOSITE]}
    alarm = composite_alarm(cloudwatch)
    assert (alarm["AlarmArn"], alarm["AlarmRule"]) == (COMPOSITE_ARN, rule)
    assert alarm["AlarmDescription"] == "The tasks API fails"
    assert (alarm["ActionsEnabled"], alarm["AlarmActions"], alarm["OKActions"]) == (True, [TOPIC], [TOPIC])
    assert tags_of_alarm(cloudwatch) == {"Env": "test", "Team": "api"}

    # An update replaces the whole configuration and ignores Tags.
    narrower = f'ALARM("{CHILD_ALARMS[0]}")'
    cloudwatch.put_composite_alarm(
        AlarmName=COMPOSITE, AlarmRule=narrower, ActionsEnabled=False, Tags=[{"Key": "Env", "Value": "prod"}]
    )

    alarm = composite_alarm(cloudwatch)
    assert (alarm["AlarmRule"], alarm.get("AlarmDescription"), alarm["ActionsEnabled"]) == (narrower, None, False)
    assert (alarm["AlarmActions"], alarm["OKActions"]) == ([], [])
    assert tags_of_alarm(cloudwatch) == {"Env": "test", "Team": "api"}

    cloudwatch.untag_resource(ResourceARN=COMPOSITE_ARN, TagKeys=["Team"])
    cloudwatch.tag_resource(ResourceARN=COMPOSITE_ARN, Tags=[{"Key": "Env", "Value": "prod"}])
    assert tags_of_alarm(cloudwatch) == {"Env": "prod"}

    cloudwatch.delete_alarms(AlarmNames=[COMPOSITE])

    assert alarm_names(cloudwatch, AlarmTypes=["CompositeAlarm"]) == {"MetricAlarms": [], "CompositeAlarms": []}
    assert alarm_names(cloudwatch)["MetricAlarms"] == list(CHILD_ALARMS)

    # Created again, it has only the tags it is created with.
    cloudwatch.put_composite_alarm(AlarmName=COMPOSITE, AlarmRule=rule)
    assert tags_of_alarm(cloudwatch) == {}
    cloudwatch.tag_resource(ResourceARN=COMPOSITE_ARN, Tags=[{"Key": "Env", "Value": "test"}])
    assert tags_of_alarm(cloudwatch) == {"Env": "test"}


@mock_aws
def test_plain_moto_cannot_schedule_the_deletion_of_a_key_named_by_its_arn():
    kms = boto3.client("kms", region_name="us-east-1")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(KeyError):
        kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)


@mock_aws
def test_plain_moto_cannot_enable_a_key_named_by_its_arn():
    kms = boto3.client("kms", region_name="us-east-1")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(KeyError):
        kms.enable_key(KeyId=arn)


def test_launcher_schedules_cancels_enables_and_disables_a_key_named_by_its_arn(fresh_endpoint):
    kms = fresh_endpoint.client("kms")
    arn = kms.create_key()["KeyMetadata"]["Arn"]

    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    kms.cancel_key_deletion(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"

    kms.enable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"

    kms.disable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"


def default_key_of_an_encrypted_table(dynamodb, kms) -> dict:
    dynamodb.create_table(
        TableName="encrypted",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
    )
    arn = dynamodb.describe_table(TableName="encrypted")["Table"]["SSEDescription"]["KMSMasterKeyArn"]
    return kms.describe_key(KeyId=arn)["KeyMetadata"]


@mock_aws
def test_plain_moto_makes_the_table_s_default_key_customer_managed_without_rotation():
    dynamodb, kms = boto3.client("dynamodb", region_name="us-east-1"), boto3.client("kms", region_name="us-east-1")
    key = default_key_of_an_encrypted_table(dynamodb, kms)
    assert key["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False


def test_launcher_makes_the_table_s_default_key_aws_managed_and_rotating(fresh_endpoint):
    dynamodb, kms = fresh_endpoint.client("dynamodb"), fresh_endpoint.client("kms")
    key = default_key_of_an_encrypted_table(dynamodb, kms)
    assert key["KeyManager"] == "AWS"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/dynamodb"]
    assert alias["TargetKeyId"] == key["KeyId"]
