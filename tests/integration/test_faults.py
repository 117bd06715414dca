"""The whole site converged on a fresh endpoint through the fault proxy, one kind of fault per test: then the stack is
checked complete (playbooks/smoke.yml, and the API's routes and stage read back with boto3) and a re-run through a
proxy without faults must report changed=0.

The matrix is marked ``faults`` (make test-faults); test_every_kind_of_fault_in_one_converge is not, so every
``make test`` injects each kind once. Each test prints its figures (run with -s): calls, writes, injected faults by
kind and the converge's seconds. Set FAULT_PROXY_SEED to replay the faults of a failure (the seed is in its message).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from fault_proxy import KINDS, FaultProxy
from playbook_runner import PlaybookRun, converge_site, read_outputs, role_defaults, run_playbook

PREFIX = "tasks-api-local"
ROUTES = {("/tasks", "GET"), ("/tasks", "POST"), *(("/tasks/{id}", verb) for verb in ("GET", "PUT", "DELETE"))}
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
CONFLICT = "The operation cannot be performed at this time. An update is in progress for resource: "


@dataclass
class FaultedConverge:
    run: PlaybookRun
    seconds: float
    proxy: FaultProxy

    def figures(self, name: str) -> str:
        kinds = ", ".join(f"{kind} {self.proxy.injected_kinds[kind]}" for kind in KINDS)
        return (
            f"\n[faults] {name}: {self.proxy.calls} calls, {self.proxy.writes} writes, injected: {kinds}; "
            f"converge {self.seconds:.0f} s (seed {self.proxy.seed})"
        )


def converge_through(proxy: FaultProxy, outputs, **extra_vars) -> FaultedConverge:
    """site.yml, every role, through the proxy, timed."""
    started = time.monotonic()
    run = converge_site(proxy.url, outputs, "all", **extra_vars)
    return FaultedConverge(run, time.monotonic() - started, proxy)


def assert_converged(converge: FaultedConverge) -> None:
    assert converge.run.returncode == 0, f"{converge.proxy.summary()}\n{converge.run.describe()}"


def assert_complete(endpoint, outputs) -> None:
    """The smoke checks of every layer but the API's calls (no front here), and the API read back with boto3."""
    smoke = run_playbook(
        endpoint.url, "playbooks/smoke.yml", "--skip-tags", "api", extra_vars={"stack_outputs_dir": str(outputs)}
    )
    assert smoke.returncode == 0, smoke.describe()
    api = read_outputs(outputs)["api"]
    apigateway = endpoint.client("apigateway")
    (rest_api,) = [item for item in apigateway.get_rest_apis()["items"] if item["name"] == PREFIX]
    assert rest_api["id"] == api["id"]
    resources = apigateway.get_resources(restApiId=api["id"], embed=["methods"])["items"]
    routes = {(resource["path"], verb) for resource in resources for verb in resource.get("resourceMethods", {})}
    assert routes == ROUTES
    stage = apigateway.get_stage(restApiId=api["id"], stageName=api["stage_name"])
    assert stage["deploymentId"] == api["deployment_id"]
    parameter = endpoint.client("ssm").get_parameter(Name=api["api_key_parameter_name"])["Parameter"]
    assert parameter["Type"] == "SecureString"


def assert_re_run_changes_nothing(endpoint, outputs, **extra_vars) -> None:
    """site.yml again through a proxy that injects nothing."""
    with FaultProxy(endpoint.url) as clean:
        again = converge_site(clean.url, outputs, "all", **extra_vars)
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, again.changed_tasks()
    assert sum(clean.injected_kinds.values()) == 0


def refuse_the_role_three_times(proxy: FaultProxy) -> None:
    """The first three CreateFunction calls fail as when IAM has not propagated the new role to Lambda yet."""
    proxy.fail("lambda", "CreateFunction", times=3, code="InvalidParameterValueException", message=ROLE_NOT_ASSUMABLE)


def converge_verify_and_re_run(endpoint, outputs, proxy: FaultProxy, name: str) -> FaultedConverge:
    converge = converge_through(proxy, outputs)
    print(converge.figures(name))
    assert_converged(converge)
    assert_complete(endpoint, outputs)
    assert_re_run_changes_nothing(endpoint, outputs)
    return converge


def test_every_kind_of_fault_in_one_converge(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.throttle(0.10)
        proxy.internal_errors(0.02)
        proxy.resets(0.01)
        proxy.latency(0.05)
        refuse_the_role_three_times(proxy)
        converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "every kind")
    assert all(proxy.injected_kinds[kind] > 0 for kind in KINDS), proxy.summary()
    assert proxy.injected[("lambda", "CreateFunction")] >= 3


@pytest.mark.faults
def test_twenty_percent_throttling_on_every_service(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.throttle(0.20)
        converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "20% throttling")
    assert proxy.injected_kinds["throttle"] > 0, proxy.summary()
    throttled_services = {service for service, _ in proxy.injected}
    assert {"ec2", "iam", "lambda", "apigateway", "s3", "dynamodb", "monitoring"} <= throttled_services, proxy.summary()


@pytest.mark.faults
def test_five_percent_internal_errors(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.internal_errors(0.05)
        converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "5% internal errors")
    assert proxy.injected_kinds["internal"] > 0, proxy.summary()


@pytest.mark.faults
def test_the_role_not_yet_assumable_by_lambda_on_the_first_three_create_function_calls(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        refuse_the_role_three_times(proxy)
        converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "IAM propagation on CreateFunction")
    assert proxy.injected_kinds["scripted"] == 3, proxy.summary()
    assert proxy.counts[("lambda", "CreateFunction")] == 3 + 5  # every function created once the role is assumable


@pytest.mark.faults
def test_two_hundred_milliseconds_on_every_call(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.latency(0.2)
        converge = converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "200 ms latency")
    assert proxy.calls > 0 and converge.seconds > 0.2 * proxy.calls, proxy.summary()


@pytest.mark.faults
def test_three_percent_connection_resets(fresh_endpoint, tmp_path):
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.resets(0.03)
        converge_verify_and_re_run(fresh_endpoint, tmp_path, proxy, "3% connection resets")
    assert proxy.injected_kinds["reset"] > 0, proxy.summary()


@pytest.mark.faults
def test_an_update_in_progress_on_update_function_configuration(fresh_endpoint, tmp_path):
    """Converge, then change every function's memory through a proxy that refuses the first updates as in progress."""
    first = converge_site(fresh_endpoint.url, tmp_path, "all")
    assert first.returncode == 0, first.describe()
    more_memory = {
        "stack_functions": [{**function, "memory": 512} for function in role_defaults("stack")["stack_functions"]]
    }
    with FaultProxy(fresh_endpoint.url) as proxy:
        proxy.fail(
            "lambda",
            "UpdateFunctionConfiguration",
            times=3,
            code="ResourceConflictException",
            message=CONFLICT + "arn:aws:lambda:us-east-1:123456789012:function:tasks-api-local-list",
            status=409,
        )
        converge = converge_through(proxy, tmp_path, **more_memory)
        print(converge.figures("ResourceConflictException on UpdateFunctionConfiguration"))
        assert_converged(converge)
    assert proxy.injected_kinds["scripted"] == 3, proxy.summary()
    memory = fresh_endpoint.client("lambda").get_function_configuration(FunctionName=f"{PREFIX}-list")["MemorySize"]
    assert memory == 512
    assert_complete(fresh_endpoint, tmp_path)
    assert_re_run_changes_nothing(fresh_endpoint, tmp_path, **more_memory)
