"""The modules' retry decorator retries throttling and 5xx codes of every protocol, a bounded number of times."""

import time

import pytest
from botocore.exceptions import ClientError

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import RETRIES, jittered_backoff


@pytest.fixture
def sleeps(monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


def failing_call(code, times, status=400):
    """A call that raises ClientError ``code`` ``times`` times, then answers "done"; calls[0] counts the calls."""
    calls = [0]

    def call():
        calls[0] += 1
        if calls[0] <= times:
            raise ClientError(
                {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
            )
        return "done"

    return call, calls


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("Throttling", 400),
        ("RequestLimitExceeded", 503),
        ("TooManyRequestsException", 429),
        ("SlowDown", 503),
        ("InternalFailure", 500),
        ("InternalServerError", 500),
        ("ServiceException", 500),
        ("ServiceUnavailableException", 503),
    ],
)
def test_throttling_and_server_errors_are_retried(sleeps, code, status):
    call, calls = failing_call(code, times=3, status=status)
    assert jittered_backoff()(call)() == "done"
    assert calls[0] == 4 and len(sleeps) == 3


def test_gives_up_after_the_bounded_attempts(sleeps):
    call, calls = failing_call("ThrottlingException", times=100)
    with pytest.raises(ClientError):
        jittered_backoff()(call)()
    assert calls[0] == RETRIES


def test_other_errors_fail_at_once_unless_named(sleeps):
    call, calls = failing_call("ResourceInUseException", times=1)
    with pytest.raises(ClientError):
        jittered_backoff()(call)()
    assert calls[0] == 1
    call, calls = failing_call("ResourceInUseException", times=1)
    assert jittered_backoff("ResourceInUseException")(call)() == "done"
