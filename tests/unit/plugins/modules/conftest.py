"""Fixtures shared by the module tests: record every AWS call, run a module's main() in-process."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.client import BaseClient


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
