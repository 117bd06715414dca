# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

"""The retry decorator of the collection's modules: AWSRetry.jittered_backoff, bounded, on throttling and 5xx.

``AWSRetry`` retries a few error codes by itself (RequestLimitExceeded, Throttling, TooManyRequestsException,
InternalError, InternalFailure, ServiceUnavailable, Unavailable). The JSON and REST services answer throttling and
server errors with other codes too; TRANSIENT_CODES adds those that botocore's own retry logic
(botocore/retries/standard.py) also classes as throttling or transient, so a call of ours is retried whatever the
service, on top of the retries of botocore's retry mode (AWS_RETRY_MODE, set by the stack role). Connection errors
are botocore's to retry: AWSRetry sees ClientError only.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

TRANSIENT_CODES = (
    "ThrottlingException",  # DynamoDB, CloudWatch Logs, SSM, KMS, EventBridge (JSON)
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
    "SlowDown",  # S3
    "EC2ThrottledException",
    "PriorRequestNotComplete",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",  # DynamoDB 500
    "InternalServerException",
    "ServiceException",  # Lambda 500
    "ServiceUnavailableException",  # API Gateway, Lambda 503
)
RETRIES = 10


def jittered_backoff(*extra_codes, retries=RETRIES):
    """AWSRetry.jittered_backoff over ``retries`` attempts, on TRANSIENT_CODES and ``extra_codes`` too.

    :param extra_codes: error codes of the operation that also mean "try again", such as ResourceInUseException.
    """
    return AWSRetry.jittered_backoff(retries=retries, catch_extra_error_codes=[*TRANSIENT_CODES, *extra_codes])
