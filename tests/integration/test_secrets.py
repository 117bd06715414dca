"""The API key's value (read back from its SSM parameter) never shows: not at -vvv, not in the outputs, not on failure.

Three runs on an emptied endpoint, every one at -vvv: the layers up to storage (the parameter and its generated
value are made), then the whole site while another API key already holds that value (API Gateway refuses it, so
the key task fails with the value in its arguments), then the whole site again once that key is gone (the key,
the usage plan and the outputs file are written, with --diff). Each run's standard output and error, its failure
messages and the outputs file are searched for the value.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playbook_runner import read_outputs, run_playbook

HUMAN = {"ANSIBLE_STDOUT_CALLBACK": "default"}  # what a person running the playbook reads
# The JSON callback of tools/playbook_runner.py (every result, failure_messages()); -vvv lines go to stderr,
# which is searched as well, so that standard output stays one JSON document.
JSON = {"ANSIBLE_VERBOSE_TO_STDERR": "1"}


def converge(endpoint, outputs, tags: str, callback: dict, *args: str):
    extra_vars = {"stack_outputs_dir": str(outputs)}
    return run_playbook(
        endpoint.url, "site.yml", "--tags", tags, "-vvv", *args, extra_vars=extra_vars, env_overrides=callback
    )


@pytest.fixture(scope="module")
def runs(local_endpoint, tmp_path_factory):
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    first = converge(local_endpoint, outputs, "network,iam,storage", HUMAN)
    assert first.returncode == 0, first.describe()
    parameter = read_outputs(outputs)["storage"]["api_key_parameter_name"]
    secret = local_endpoint.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
    value = secret["Parameter"]["Value"]
    assert len(value) >= 20
    apigateway = local_endpoint.client("apigateway")
    squatter = apigateway.create_api_key(name="squatter", value=value, enabled=True)["id"]
    failing = converge(local_endpoint, outputs, "all", JSON)
    apigateway.delete_api_key(apiKey=squatter)
    passing = converge(local_endpoint, outputs, "all", HUMAN, "--diff")
    return SimpleNamespace(value=value, outputs=outputs, first=first, failing=failing, passing=passing)


def test_the_failing_run_failed_on_the_key_and_shows_no_value(runs):
    assert runs.failing.returncode != 0
    # The task that holds the value, then the rescue that repeats its (value-free) message.
    assert runs.failing.failed_tasks() == [
        "Create or update the API key of the stage",
        "Say why the API key could not be given to API Gateway",
    ], runs.failing.describe()
    assert runs.value not in runs.failing.stdout + runs.failing.stderr
    messages = runs.failing.failure_messages()
    assert messages and not [message for message in messages if runs.value in message]


def test_the_failing_run_says_the_value_is_taken_and_names_the_variable(runs):
    reason = runs.failing.failure_messages()[-1]
    assert "already has" in reason and "storage_api_key" in reason, reason


@pytest.mark.parametrize("run", ["first", "passing"])
def test_a_run_at_vvv_shows_no_value(runs, run):
    result = getattr(runs, run)
    assert result.returncode == 0, result.describe()
    assert result.stdout and runs.value not in result.stdout + result.stderr


def test_the_outputs_file_holds_no_value(runs):
    text = (runs.outputs / "local.json").read_text()
    assert '"api_key_id"' in text and runs.value not in text
