"""Fixtures shared by the module tests: record every AWS call, run a module's main() in-process, fake AWS faults."""

import json
import time

import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import CREDENTIALS, REGION


@pytest.fixture
def api_calls(monkeypatch):
    """Every AWS operation called, with its parameters, as (name, params)."""
    calls = []
    make_api_call = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append((operation_name, api_params))
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture
def run_main(api_calls, capsys):
    """Run ``main`` with ``module_args``; return the JSON result it printed (api_calls: this run's calls only)."""

    def run(main, module_args):
        api_calls.clear()
        with patch_module_args(module_args), pytest.raises(SystemExit):
            main()
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto's in-process mock of every AWS service, with the test credentials and REGION in the environment."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def module_runner(run_main):
    """``module_runner(main, **defaults)``: a ``run(check_mode=False, diff=False, **args)`` for one module.

    ``run`` calls ``main`` with the test credentials and REGION, the ``defaults``, and ``args`` over them; an
    argument given as None is omitted. It returns the module's JSON result; api_calls holds that run's calls only.
    """

    def bind(main, **defaults):
        def run(check_mode=False, diff=False, **args):
            module_args = {
                **CREDENTIALS,
                **defaults,
                "_ansible_check_mode": check_mode,
                "_ansible_diff": diff,
                **args,
            }
            return run_main(main, {key: value for key, value in module_args.items() if value is not None})

        return run

    return bind


@pytest.fixture
def sleeps(monkeypatch):
    """Replace time.sleep, recording the pauses."""
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


@pytest.fixture
def failing(monkeypatch, api_calls, sleeps):
    """``failing(operation, code, message, times=None, status=400)``: make ``operation`` raise that ClientError.

    The first ``times`` calls fail (None: every call), each recorded in api_calls as it is made; the others go
    through. Returns the count of the calls made to each operation made to fail. Time does not pass (sleeps).
    """
    seen = {}

    def inject(operation, code, message, times=None, status=400):
        recording = BaseClient._make_api_call
        seen[operation] = 0

        def faulty(self, operation_name, api_params):
            if operation_name == operation:
                seen[operation] += 1
                if times is None or seen[operation] <= times:
                    api_calls.append((operation_name, api_params))
                    raise client_error(operation_name, code, message, status)
            return recording(self, operation_name, api_params)

        monkeypatch.setattr(BaseClient, "_make_api_call", faulty)
        return seen

    return inject


def client_error(operation_name, code, message, status):
    error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(error, operation_name)
