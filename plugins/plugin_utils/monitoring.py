"""CloudWatch alarms, dashboard and composite alarm rule derived from the function manifest.

Importable without Ansible; ``plugins/filter/monitoring.py`` turns ``ValueError`` into ``AnsibleFilterError``.

Every alarm definition is a dict whose keys are suboptions of the ``alarms`` of the collection's
``cloudwatch_metric_alarms`` module (``comparison`` its alias of ``comparison_operator``, the option name of
``amazon.aws.cloudwatch_metric_alarm``), plus ``kind``, which the monitoring role drops before the call. The
choices behind them:

- Lambda metrics by ``FunctionName`` alone, the aggregate of every version and alias. The API invokes the
  function's alias, so the alias's ``Resource`` dimension would see the same requests, but it would also
  need the alias name here, would stop matching the day the alias is renamed, and would miss invocations
  of any other qualifier (a direct test call). One alias per function makes the aggregate the alias.
- DynamoDB throttles by ``ReadThrottleEvents`` and ``WriteThrottleEvents`` per ``TableName``.
  ``ThrottledRequests`` exists only per ``TableName`` *and* ``Operation``: an alarm on ``TableName`` alone
  would watch a metric nobody publishes and stay OK forever. The throttle events cover the on-demand table
  (throttled above twice its previous peak, or on a hot key) without an alarm per operation; they count
  the table, not its global secondary indexes (the stack's table has none).
- DynamoDB ``SystemErrors`` also exists only per ``TableName`` and ``Operation``, so there is one alarm per
  operation the manifest's actions allow (``OPERATIONS_BY_ACTION``). A metric-math alarm summing them would
  be one alarm, but ``cloudwatch_metric_alarms`` manages single metric alarms only (and the stock
  ``cloudwatch_metric_alarm`` reports every alarm defined by ``metrics`` as changed on every run).
- ``treat_missing_data`` is ``notBreaching`` everywhere, for the same reason each time: these metrics have
  no data point when nothing happened (no invocation, no request, no throttle, no DynamoDB error), and
  nothing happening is healthy. ``missing`` would leave a quiet stack in INSUFFICIENT_DATA (grey on the
  dashboard, never ALARM in the composite) and ``breaching`` would page for a quiet night.
- Percentile alarms set ``evaluate_low_sample_count_percentile: evaluate``. ``ignore`` would hold a p99
  alarm still below 10 / (1 - 0.99) = 1000 samples per period, which is all of a small API's traffic; a
  2-of-3 datapoint rule absorbs the noise of a p99 over few samples (one cold start) instead.
- Dimensions are given sorted by name, as CloudWatch hands them back, so the module's comparison of the
  alarm it reads back with the one it is given does not see a change in a reordering.
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.serverless.tasks_api.plugins.plugin_utils.function_manifest import normalize_manifest

GRID_WIDTH = 24
MAX_FUNCTION_NAME = 64
MAX_DASHBOARD_ALARMS = 100
MAX_ALARM_NAME = 255
MAX_DESCRIPTION = 1024  # AlarmDescription; only a name of hundreds of characters makes one longer
MAX_ALARM_RULE = 10240
MAX_DASHBOARD_WIDGETS = 500
# PutDashboard takes a body of up to 1 MB; measured as the compact JSON the cloudwatch_dashboard module sends,
# against 1,000,000 bytes rather than 1 MiB so that "1 MB" read either way is kept.
MAX_DASHBOARD_BODY = 1_000_000
MAX_PERIOD_TIMES_EVALUATIONS = 86400
TREAT_MISSING_DATA = "notBreaching"

# The settings both filters take (the monitoring role passes one dict to each); None means "use the default".
NAME_SETTINGS = ("name_prefix", "region", "api_name", "stage", "table_name")
DEFAULTS = {
    "errors_threshold": 5,
    "errors_period": 300,
    "throttles_threshold": 0,
    "duration_ratio": 0.8,
    "period": 300,
    "api_5xx_threshold": 1,
    "api_latency_p99_ms": 2000,
    "api_4xx_rate_threshold": None,
    "table_throttles_threshold": 0,
    "table_system_errors_threshold": 0,
}
SETTINGS = (*NAME_SETTINGS, *DEFAULTS)
ALARMS_REQUIRE = ("name_prefix", "api_name", "stage", "table_name")
DASHBOARD_REQUIRES = ("name_prefix", "region", "api_name", "stage", "table_name")

# (evaluation_periods, datapoints_to_alarm): a percentile over few samples is noisy, so 2 of 3; a 4XX rate
# is the callers' doing, so only a sustained one (3 of 3); a count of failures fires at once.
AT_ONCE = (1, 1)
TWO_OF_THREE = (3, 2)
THREE_OF_THREE = (3, 3)
# The most evaluation periods an alarm on each period setting uses: period x evaluations <= one day.
EVALUATIONS_BY_PERIOD = {"errors_period": AT_ONCE[0], "period": TWO_OF_THREE[0]}

# The DynamoDB operations (the Operation dimension of SystemErrors) each IAM action of the manifest allows.
# ConditionCheckItem exists only inside TransactWriteItems. A transaction made with PutItem, UpdateItem or
# DeleteItem rights alone is not watched; its DynamoDB faults still reach the function's Errors alarm.
OPERATIONS_BY_ACTION = {
    "dynamodb:BatchGetItem": ("BatchGetItem",),
    "dynamodb:BatchWriteItem": ("BatchWriteItem",),
    "dynamodb:ConditionCheckItem": ("TransactWriteItems",),
    "dynamodb:DeleteItem": ("DeleteItem",),
    "dynamodb:GetItem": ("GetItem",),
    "dynamodb:PutItem": ("PutItem",),
    "dynamodb:Query": ("Query",),
    "dynamodb:Scan": ("Scan",),
    "dynamodb:UpdateItem": ("UpdateItem",),
}

# Matched with fullmatch: a "$" anchor would also accept a trailing newline.
NAME_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
REGION_PATTERN = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
STAGE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
TABLE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,255}")
ALARM_ARN_PATTERN = re.compile(r"arn:aws(?:-[a-z]+)*:cloudwatch:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:alarm:.+")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def monitoring_alarms(functions: object, settings: object) -> list[dict]:
    """The metric alarms of the stack: three per function, two or three for the API, the table's after them."""
    entries = _manifest(functions)
    config = _settings(settings, ALARMS_REQUIRE)
    _check_function_names(entries, config["name_prefix"])
    alarms = []
    for entry in entries:
        alarms += _function_alarms(entry, config)
    alarms += _api_alarms(config)
    alarms += _table_alarms(entries, config)
    return alarms


def monitoring_function_alarm_names(functions: object, name_prefix: object) -> dict[str, list[str]]:
    """{manifest function name: the names of its alarms}, named as monitoring_alarms names them."""
    entries = _manifest(functions)
    problem = CHECKS["name_prefix"]("name_prefix", name_prefix)
    if problem:
        raise ValueError(f"name_prefix: {problem}, got {name_prefix!r}")
    config = {**DEFAULTS, "name_prefix": name_prefix}
    return {entry["name"]: [alarm["name"] for alarm in _function_alarms(entry, config)] for entry in entries}


def monitoring_dashboard(functions: object, settings: object, alarm_arns: object = None) -> dict:
    """The dashboard body: alarm status (when given ARNs), then the API, the functions and the table."""
    entries = _manifest(functions)
    config = _settings(settings, DASHBOARD_REQUIRES)
    _check_function_names(entries, config["name_prefix"])
    arns = _alarm_arns(alarm_arns)
    sections = []
    if arns:
        sections.append(_alarm_widgets(arns))
    sections.append(_api_widgets(config))
    sections.append(_function_widgets(entries, config))
    sections.append(_table_widgets(config))
    body = {"widgets": _layout(sections)}
    _check_dashboard_size(body, len(arns))
    return body


def monitoring_composite_rule(alarm_names: object) -> str:
    """The AlarmRule of a composite alarm in ALARM when any of ``alarm_names`` is: ``ALARM("a") OR ALARM("b")``."""
    names = _alarm_names(alarm_names)
    rule = _any_alarm_rule(names)
    if len(rule) > MAX_ALARM_RULE:
        raise ValueError(
            f"alarm_names: the rule for {len(names)} alarms is {len(rule)} characters, more than the "
            f"{MAX_ALARM_RULE} an AlarmRule may have; group the alarms in more than one composite alarm"
        )
    return rule


def monitoring_composite_alarms(alarm_names: object, name: object) -> list[dict]:
    """The composite alarms that make ``name`` ALARM when any of ``alarm_names`` is, each ``{name, rule}``.

    One alarm, ``name`` with the rule of ``monitoring_composite_rule``, when that rule fits in an AlarmRule.
    Otherwise the names are grouped, in their order, into as few group composite alarms ``<name>-1``,
    ``<name>-2``, ... as fit (each rule at most ``MAX_ALARM_RULE`` characters), and ``name`` comes last with
    the rule ``ALARM("<name>-1") OR ALARM("<name>-2") ...``: the groups must exist before the alarm naming them.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_ALARM_NAME or '"' in name or _has_control(name):
        raise ValueError(
            f"name: expected a composite alarm name of 1 to {MAX_ALARM_NAME} characters without a double quote "
            f"or a control character, got {name!r}"
        )
    names = _alarm_names(alarm_names)
    rule = _any_alarm_rule(names)
    if len(rule) <= MAX_ALARM_RULE:
        return [{"name": name, "rule": rule}]
    groups = [[]]
    length = 0
    for member in names:
        term = len(_any_alarm_rule([member]))
        if groups[-1] and length + len(" OR ") + term > MAX_ALARM_RULE:
            groups.append([])
            length = 0
        length += term + (len(" OR ") if len(groups[-1]) else 0)
        groups[-1].append(member)
    plan = [{"name": f"{name}-{index}", "rule": _any_alarm_rule(group)} for index, group in enumerate(groups, 1)]
    clashes = [group["name"] for group in plan if group["name"] in names or len(group["name"]) > MAX_ALARM_NAME]
    if clashes:
        raise ValueError(
            f"name: the group composite alarms {', '.join(clashes)} of {name!r} would be longer than "
            f"{MAX_ALARM_NAME} characters or have the name of one of the alarms they watch; choose another name"
        )
    top = _any_alarm_rule([group["name"] for group in plan])
    if len(top) > MAX_ALARM_RULE:
        raise ValueError(
            f"alarm_names: the {len(names)} alarms take {len(plan)} group composite alarms, whose rule is "
            f"{len(top)} characters, more than the {MAX_ALARM_RULE} an AlarmRule may have"
        )
    return [*plan, {"name": name, "rule": top}]


def _alarm_names(alarm_names: object) -> list[str]:
    """``alarm_names`` as a list, each a name an AlarmRule can quote, none twice; the problem names its index."""
    names = _as_list(alarm_names)
    if not names:
        raise ValueError(f"alarm_names: expected a non-empty list of alarm names, got {alarm_names!r}")
    seen = set()
    for index, name in enumerate(names):
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_ALARM_NAME:
            raise ValueError(
                f"alarm_names[{index}]: expected an alarm name of 1 to {MAX_ALARM_NAME} characters, got {name!r}"
            )
        if '"' in name or _has_control(name):
            raise ValueError(
                f"alarm_names[{index}]: {name!r} has a double quote or a control character, which an AlarmRule "
                "cannot quote"
            )
        if name in seen:
            raise ValueError(f"alarm_names[{index}]: {name!r} is listed twice")
        seen.add(name)
    return names


def _has_control(name: str) -> bool:
    return CONTROL_CHARACTERS.search(name) is not None


def _any_alarm_rule(names: list[str]) -> str:
    return " OR ".join(f'ALARM("{name}")' for name in names)


# Settings and inputs


def _manifest(functions: object) -> list[dict]:
    """The manifest with its defaults (a function's timeout sets its duration alarm); problems name the entry."""
    return normalize_manifest(functions)


def _settings(settings: object, required: tuple[str, ...]) -> dict:
    """``settings`` with defaults filled in; a ``ValueError`` listing every problem, each naming its key."""
    if not isinstance(settings, dict):
        raise ValueError(f"settings: expected a dict with the keys {', '.join(required)}, got {settings!r}")
    problems = [
        f"settings.{key}: unknown key; the keys are {', '.join(SETTINGS)}" for key in settings if key not in SETTINGS
    ]
    problems += [f"settings.{key}: required" for key in required if settings.get(key) is None]
    config = {key: settings.get(key) for key in NAME_SETTINGS}
    config.update({key: default if settings.get(key) is None else settings[key] for key, default in DEFAULTS.items()})
    for key, check in CHECKS.items():
        if config[key] is not None:
            problem = check(key, config[key])
            if problem:
                problems.append(f"settings.{key}: {problem}, got {config[key]!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return config


def _pattern_check(pattern: re.Pattern, expected: str):
    def check(_key: str, value: object) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) else f"expected {expected}"

    return check


def _api_name_check(_key: str, value: object) -> str | None:
    if isinstance(value, str) and 1 <= len(value) <= 1024 and not CONTROL_CHARACTERS.search(value):
        return None
    return "expected the REST API's name (1 to 1024 characters)"


def _number_check(low: float, low_inclusive: bool, high: float | None = None):
    def check(_key: str, value: object) -> str | None:
        if _is_number(value) and (value >= low if low_inclusive else value > low) and (high is None or value <= high):
            return None
        bound = f"at least {low:g}" if low_inclusive else f"more than {low:g}"
        return f"expected a number {bound}" + (f" and at most {high:g}" if high is not None else "")

    return check


def _period_check(key: str, value: object) -> str | None:
    longest = MAX_PERIOD_TIMES_EVALUATIONS // EVALUATIONS_BY_PERIOD[key]
    if _is_whole(value) and value % 60 == 0 and 60 <= value <= longest:
        return None
    return f"expected seconds, a multiple of 60 from 60 to {longest}"


CHECKS = {
    "name_prefix": _pattern_check(NAME_PREFIX_PATTERN, "the function name prefix (letters, digits, - and _)"),
    "region": _pattern_check(REGION_PATTERN, "an AWS region name such as us-east-1"),
    "api_name": _api_name_check,
    "stage": _pattern_check(STAGE_PATTERN, "a stage name (1 to 128 letters, digits, - and _)"),
    "table_name": _pattern_check(TABLE_PATTERN, "a DynamoDB table name (3 to 255 letters, digits, _, - and .)"),
    "errors_threshold": _number_check(0, low_inclusive=False),
    "errors_period": _period_check,
    "throttles_threshold": _number_check(0, low_inclusive=True),
    "duration_ratio": _number_check(0, low_inclusive=False, high=1),
    "period": _period_check,
    "api_5xx_threshold": _number_check(0, low_inclusive=False),
    "api_latency_p99_ms": _number_check(0, low_inclusive=False),
    "api_4xx_rate_threshold": _number_check(0, low_inclusive=False, high=1),
    "table_throttles_threshold": _number_check(0, low_inclusive=True),
    "table_system_errors_threshold": _number_check(0, low_inclusive=True),
}


def _check_function_names(entries: list[dict], prefix: str) -> None:
    too_long = [_function_name(prefix, entry) for entry in entries]
    too_long = [name for name in too_long if len(name) > MAX_FUNCTION_NAME]
    if too_long:
        raise ValueError(
            f"settings.name_prefix: the function names {', '.join(too_long)} are longer than the "
            f"{MAX_FUNCTION_NAME} characters Lambda allows"
        )


def _alarm_arns(alarm_arns: object) -> list[str]:
    if alarm_arns is None:
        return []
    arns = _as_list(alarm_arns)
    if arns is None:
        raise ValueError(f"alarm_arns: expected a list of CloudWatch alarm ARNs, got {alarm_arns!r}")
    alarm_arns = arns
    seen = set()
    for index, arn in enumerate(alarm_arns):
        if not (isinstance(arn, str) and ALARM_ARN_PATTERN.fullmatch(arn)):
            raise ValueError(
                f"alarm_arns[{index}]: expected a CloudWatch alarm ARN "
                f"(arn:aws:cloudwatch:<region>:<account>:alarm:<name>), got {arn!r}"
            )
        if arn in seen:
            raise ValueError(f"alarm_arns[{index}]: {arn!r} is listed twice")
        seen.add(arn)
    return list(alarm_arns)


def _as_list(value: object) -> list | None:
    """``value`` as a list when it is a list or another iterable but a string or dict (Jinja's map gives one)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
        return None
    return list(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Alarms


def _function_name(prefix: str, entry: dict) -> str:
    return f"{prefix}-{entry['name']}"


def _alarm(
    kind: str,
    name: str,
    description: str,
    metric: tuple[str, str, dict],
    statistic: str,
    period: int,
    evaluation: tuple[int, int],
    threshold: float,
    comparison: str,
    unit: str | None = None,
) -> dict:
    namespace, metric_name, dimensions = metric
    percentile = re.fullmatch(r"p\d+(\.\d+)?", statistic) is not None
    alarm = {
        "kind": kind,
        "name": name,
        "description": description[:MAX_DESCRIPTION],
        "namespace": namespace,
        "metric_name": metric_name,
        "dimensions": dict(sorted(dimensions.items())),
        "extended_statistic" if percentile else "statistic": statistic,
        "period": period,
        "evaluation_periods": evaluation[0],
        "datapoints_to_alarm": evaluation[1],
        "threshold": float(threshold),
        "comparison": comparison,
        "treat_missing_data": TREAT_MISSING_DATA,
    }
    if percentile:
        alarm["evaluate_low_sample_count_percentile"] = "evaluate"
    if unit:
        alarm["unit"] = unit
    return alarm


def _function_alarms(entry: dict, config: dict) -> list[dict]:
    prefix = config["name_prefix"]
    function = _function_name(prefix, entry)
    log_group = f"/aws/lambda/{function}"
    errors, errors_period = config["errors_threshold"], config["errors_period"]
    throttles, period = config["throttles_threshold"], config["period"]
    ratio, timeout = config["duration_ratio"], entry["timeout"]
    duration_ms = max(1, round(timeout * 1000 * ratio))  # whole milliseconds
    quiet = "No invocations count as OK."
    return [
        _alarm(
            "function_errors",
            f"{function}-errors",
            f"Lambda function {function} failed {_n(errors)} or more times in {errors_period} s (Errors, Sum: "
            "unhandled exceptions, timeouts, out of memory; the 4XX answers the handler returns are not errors). "
            f"API clients got 5XX for these requests. Look at the ERROR lines and stack traces in the log group "
            f"{log_group} and at the function's X-Ray traces; if the errors began with a deployment, compare the "
            f"version its alias points to with the previous one. {quiet}",
            ("AWS/Lambda", "Errors", {"FunctionName": function}),
            "Sum",
            errors_period,
            AT_ONCE,
            errors,
            "GreaterThanOrEqualToThreshold",
        ),
        _alarm(
            "function_throttles",
            f"{function}-throttles",
            f"Lambda throttled {function} (Throttles, Sum > {_n(throttles)} in {period} s): "
            f"{_concurrency(entry['reserved_concurrency'])} API clients got 5XX for these requests. Look at the "
            "function's Invocations and Duration on the dashboard (a traffic spike, or slow calls holding "
            "executions) and at the account's ConcurrentExecutions in the Lambda console; raise "
            f"reserved_concurrency in the manifest or the account's concurrency quota. {quiet}",
            ("AWS/Lambda", "Throttles", {"FunctionName": function}),
            "Sum",
            period,
            AT_ONCE,
            throttles,
            "GreaterThanThreshold",
        ),
        _alarm(
            "function_duration",
            f"{function}-duration",
            f"The slowest 1% of {function}'s invocations (Duration p99) took more than {duration_ms} ms, "
            f"{_n(ratio * 100)}% of its {timeout} s timeout, in 2 of 3 periods of {period} s: it is close to timing "
            "out, and a timeout is an error clients see as 5XX. Look at the slowest X-Ray traces (DynamoDB calls, "
            f"cold starts) and the REPORT lines in {log_group} (Duration, Max Memory Used); more memory also "
            f"gives more CPU. Raise memory or timeout in the manifest if the work is legitimate. {quiet}",
            ("AWS/Lambda", "Duration", {"FunctionName": function}),
            "p99",
            period,
            TWO_OF_THREE,
            duration_ms,
            "GreaterThanThreshold",
            unit="Milliseconds",
        ),
    ]


def _concurrency(reserved: int | None) -> str:
    if reserved is None:
        return "it has no reserved concurrency, and the account's unreserved concurrency was used up."
    if reserved == 0:
        return "its reserved concurrency is 0, which switches the function off."
    return f"all {reserved} executions of its reserved concurrency were busy."


def _api_alarms(config: dict) -> list[dict]:
    prefix, api, stage, period = config["name_prefix"], config["api_name"], config["stage"], config["period"]
    dimensions = {"ApiName": api, "Stage": stage}
    where = f"API {api} (stage {stage})"
    access_log = f"/aws/apigateway/{prefix}"
    quiet = "No requests count as OK."
    five_xx, latency, four_xx = (
        config["api_5xx_threshold"],
        config["api_latency_p99_ms"],
        config["api_4xx_rate_threshold"],
    )
    alarms = [
        _alarm(
            "api_5xx",
            f"{prefix}-api-5xx",
            f"{where} answered {_n(five_xx)} or more requests with 5XX in {period} s (5XXError, Sum). If a "
            "function's errors or throttles alarm fired too, start there. If none did, the request failed in API "
            "Gateway itself (integration or invoke permission error, Lambda unavailable): the stage's access log, "
            f"log group {access_log}, has each request's status and integration error. {quiet}",
            ("AWS/ApiGateway", "5XXError", dimensions),
            "Sum",
            period,
            AT_ONCE,
            five_xx,
            "GreaterThanOrEqualToThreshold",
        ),
        _alarm(
            "api_latency",
            f"{prefix}-api-latency",
            f"The slowest 1% of requests to {where} took more than {_n(latency)} ms (Latency p99, the whole "
            f"request in API Gateway) in 2 of 3 periods of {period} s. Compare the functions' Duration on the "
            "dashboard: if one is slow too, the time goes there (DynamoDB calls, cold starts after a deployment "
            "or a scale-up); if none is, it goes in API Gateway or the integration (IntegrationLatency). "
            f"{quiet}",
            ("AWS/ApiGateway", "Latency", dimensions),
            "p99",
            period,
            TWO_OF_THREE,
            latency,
            "GreaterThanThreshold",
            unit="Milliseconds",
        ),
    ]
    if four_xx is not None:
        alarms.append(
            _alarm(
                "api_4xx",
                f"{prefix}-api-4xx",
                f"More than {_n(four_xx * 100)}% of the requests to {where} got 4XX in each of 3 periods of "
                f"{period} s (4XXError, Average: the share of requests). Usually the callers: 403 for a missing or "
                "rotated API key, 429 for the usage plan's throttle or quota, 400/404/409 for requests a client or "
                f"an API change broke. The stage's access log, log group {access_log}, shows each request's status. "
                f"{quiet}",
                ("AWS/ApiGateway", "4XXError", dimensions),
                "Average",
                period,
                THREE_OF_THREE,
                four_xx,
                "GreaterThanThreshold",
            )
        )
    return alarms


def _table_alarms(entries: list[dict], config: dict) -> list[dict]:
    prefix, table, period = config["name_prefix"], config["table_name"], config["period"]
    throttles, system_errors = config["table_throttles_threshold"], config["table_system_errors_threshold"]
    alarms = []
    for access, capacity in (("read", "ConsumedReadCapacityUnits"), ("write", "ConsumedWriteCapacityUnits")):
        metric_name = f"{access.capitalize()}ThrottleEvents"
        alarms.append(
            _alarm(
                "table_throttles",
                f"{prefix}-table-{access}-throttles",
                f"DynamoDB throttled {access}s on table {table} ({metric_name}, Sum > {_n(throttles)} in {period} s; "
                "the table, not its indexes). On an on-demand table this is traffic above "
                "twice its previous peak, or a hot partition key. The SDK retries, so clients see slower answers "
                f"first, then 5XX. Look at {capacity} on the dashboard and, for hot keys, at CloudWatch Contributor "
                f"Insights for the table. No throttled {access}s count as OK.",
                ("AWS/DynamoDB", metric_name, {"TableName": table}),
                "Sum",
                period,
                AT_ONCE,
                throttles,
                "GreaterThanThreshold",
            )
        )
    for operation in _operations(entries):
        alarms.append(
            _alarm(
                "table_system_errors",
                f"{prefix}-table-system-errors-{_kebab(operation)}",
                f"DynamoDB answered {operation} requests on table {table} with HTTP 500 (SystemErrors, Sum > "
                f"{_n(system_errors)} in {period} s). The fault is on the AWS side; the SDK "
                "retries, and what still fails reaches clients through the functions' errors alarms. Check the AWS "
                "Health Dashboard for DynamoDB in the region; nothing in the stack needs to change unless it "
                "persists. No errors count as OK.",
                ("AWS/DynamoDB", "SystemErrors", {"TableName": table, "Operation": operation}),
                "Sum",
                period,
                AT_ONCE,
                system_errors,
                "GreaterThanThreshold",
            )
        )
    return alarms


def _operations(entries: list[dict]) -> list[str]:
    """The DynamoDB operations the manifest's actions allow, sorted."""
    actions = {action for entry in entries for action in entry["dynamodb_actions"]}
    return sorted({operation for action in actions for operation in OPERATIONS_BY_ACTION.get(action, ())})


def _kebab(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", operation).lower()


def _n(number: float) -> str:
    """A number as a person writes it: 5, 0.05, 2000 (not 5.0 or 2e+03)."""
    return str(int(number)) if float(number).is_integer() else f"{number:.10g}"


# Dashboard


def _widget(type_: str, width: int, height: int, properties: dict) -> dict:
    return {"type": type_, "width": width, "height": height, "properties": properties}


def _text(markdown: str) -> dict:
    return _widget("text", GRID_WIDTH, 1, {"markdown": markdown})


def _graph(config: dict, title: str, metrics: list[list], stat: str, width: int, **extra) -> dict:
    properties = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "region": config["region"],
        "stat": stat,
        "period": config["period"],
        "metrics": metrics,
        "yAxis": {"left": {"min": 0}},
    }
    properties.update(extra)
    return _widget("metric", width, 6, properties)


def _alarm_widgets(arns: list[str]) -> list[dict]:
    """Alarm status widgets of at most ``MAX_DASHBOARD_ALARMS`` alarms each: "Alarms", or "Alarms (1/3)" ..."""
    chunks = [arns[start : start + MAX_DASHBOARD_ALARMS] for start in range(0, len(arns), MAX_DASHBOARD_ALARMS)]
    return [
        _widget(
            "alarm",
            GRID_WIDTH,
            6,
            {
                "title": "Alarms" if len(chunks) == 1 else f"Alarms ({index}/{len(chunks)})",
                "alarms": chunk,
                "sortBy": "stateUpdatedTimestamp",
            },
        )
        for index, chunk in enumerate(chunks, 1)
    ]


def _check_dashboard_size(body: dict, alarm_count: int) -> None:
    """Fail with the numbers when the body has more widgets, or more bytes, than PutDashboard takes."""
    widgets = len(body["widgets"])
    if widgets > MAX_DASHBOARD_WIDGETS:
        raise ValueError(
            f"functions: the dashboard would have {widgets} widgets ({alarm_count} alarms), more than the "
            f"{MAX_DASHBOARD_WIDGETS} a CloudWatch dashboard may have"
        )
    # The text the cloudwatch_dashboard module sends: compact JSON with sorted keys.
    size = len(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    if size > MAX_DASHBOARD_BODY:
        raise ValueError(
            f"functions: the dashboard body would be {size} bytes ({alarm_count} alarms), more than the "
            f"{MAX_DASHBOARD_BODY} bytes (1 MB) CloudWatch takes; split the functions over more than one stack"
        )


def _api_widgets(config: dict) -> list[dict]:
    api = ["AWS/ApiGateway"]
    dimensions = ["ApiName", config["api_name"], "Stage", config["stage"]]
    latency = config["api_latency_p99_ms"]
    return [
        _text(f"## API {config['api_name']}, stage {config['stage']}"),
        _graph(config, "API requests", [[*api, "Count", *dimensions, {"label": "requests"}]], "Sum", 8),
        _graph(
            config,
            "API latency (ms)",
            [[*api, "Latency", *dimensions, {"stat": stat, "label": stat}] for stat in ("p50", "p90", "p99")],
            "p99",
            8,
            annotations={"horizontal": [{"label": "p99 alarm", "value": latency}]},
        ),
        _graph(
            config,
            "API errors",
            [[*api, f"{code}Error", *dimensions, {"label": code}] for code in ("4XX", "5XX")],
            "Sum",
            8,
        ),
    ]


def _function_widgets(entries: list[dict], config: dict) -> list[dict]:
    prefix = config["name_prefix"]

    def lines(metric_name: str) -> list[list]:
        return [
            ["AWS/Lambda", metric_name, "FunctionName", _function_name(prefix, entry), {"label": entry["name"]}]
            for entry in entries
        ]

    return [
        _text(f"## Functions {prefix}-*"),
        _graph(config, "Lambda invocations", lines("Invocations"), "Sum", 12),
        _graph(
            config,
            "Lambda errors",
            lines("Errors"),
            "Sum",
            12,
            period=config["errors_period"],
            annotations={"horizontal": [{"label": "errors alarm", "value": config["errors_threshold"]}]},
        ),
        _graph(config, "Lambda throttles", lines("Throttles"), "Sum", 12),
        _graph(config, "Lambda duration p99 (ms)", lines("Duration"), "p99", 12),
    ]


def _table_widgets(config: dict) -> list[dict]:
    table = ["TableName", config["table_name"]]
    return [
        _text(f"## Table {config['table_name']}"),
        _graph(
            config,
            "DynamoDB consumed read capacity",
            [["AWS/DynamoDB", "ConsumedReadCapacityUnits", *table, {"label": "read units"}]],
            "Sum",
            8,
        ),
        _graph(
            config,
            "DynamoDB consumed write capacity",
            [["AWS/DynamoDB", "ConsumedWriteCapacityUnits", *table, {"label": "write units"}]],
            "Sum",
            8,
        ),
        _graph(
            config,
            "DynamoDB throttles",
            [
                ["AWS/DynamoDB", f"{access}ThrottleEvents", *table, {"label": f"{access.lower()} throttles"}]
                for access in ("Read", "Write")
            ],
            "Sum",
            8,
        ),
    ]


def _layout(sections: list[list[dict]]) -> list[dict]:
    """The widgets with x and y on the 24-column grid: left to right, wrapping, each section on a new row."""
    placed = []
    y = 0
    for section in sections:
        x = row_height = 0
        for widget in section:
            if x + widget["width"] > GRID_WIDTH:
                y, x, row_height = y + row_height, 0, 0
            placed.append(
                {
                    "type": widget["type"],
                    "x": x,
                    "y": y,
                    "width": widget["width"],
                    "height": widget["height"],
                    "properties": widget["properties"],
                }
            )
            x += widget["width"]
            row_height = max(row_height, widget["height"])
        y += row_height
    return placed
