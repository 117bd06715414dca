"""Preflight: what users see when AWS does not answer, before anything is changed."""

from free_port import free_port
from playbook_runner import run_playbook


def test_local_inventory_without_an_endpoint_says_to_start_one(tmp_path):
    dead_endpoint = f"http://127.0.0.1:{free_port()}"
    run = run_playbook(dead_endpoint, "site.yml", extra_vars={"stack_outputs_dir": str(tmp_path)})
    assert run.returncode != 0
    message = run.failure_messages()[-1]  # the first is the STS error the preflight rescues
    assert "Preflight: no AWS identity for environment 'local'" in message
    assert "make local-up" in message
    assert "Nothing was changed" in message
    assert run.stats["changed"] == 0


def test_real_aws_inventory_without_credentials_fails_in_preflight(tmp_path):
    """No credentials anywhere: botocore stops before sending anything (instance metadata is off)."""
    isolated = {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
    }
    # AWS_ENDPOINT_URL (set by the runner) points at a closed loopback port, so even a call that
    # slipped through could only reach this machine.
    run = run_playbook(
        f"http://127.0.0.1:{free_port()}",
        "site.yml",
        "--check",
        inventory="inventories/dev",
        extra_vars={"stack_outputs_dir": str(tmp_path)},
        env_overrides=isolated,
    )
    assert run.returncode != 0
    message = run.failure_messages()[-1]  # the first is the STS error the preflight rescues
    assert "Preflight: no AWS identity for environment 'dev'" in message
    assert "AWS_PROFILE" in message
    assert run.stats["changed"] == 0


def test_wrong_account_is_refused(local_endpoint, tmp_path):
    run = run_playbook(
        local_endpoint.url,
        "site.yml",
        extra_vars={"stack_outputs_dir": str(tmp_path), "stack_aws_account_id": "210987654321"},
    )
    assert run.returncode != 0
    assert any("belong to account 123456789012" in message for message in run.failure_messages())
    assert run.stats["changed"] == 0
