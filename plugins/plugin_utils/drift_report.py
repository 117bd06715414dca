"""Turn the changed results of a check-mode run into property-level drift entries.

Plain Python, no Ansible: the ``drift_report`` callback feeds it each changed task result and writes
what it returns. An entry is ``{resource, property, expected, actual, task}``; ``expected`` is what a
real run would set, ``actual`` what AWS holds now. Where a result says what would change, the entry
names the property:

- a module's ``diff`` (``{before, after}`` dictionaries, or JSON strings) gives one entry per differing
  leaf, nested keys joined with dots (``tags.Environment``); a module that manages a list of resources in
  one call returns a list of diffs, each naming its resource in ``after_header`` (or ``before_header``);
- a check-mode report of the ``drifted_settings`` filter (a list of ``{setting, actual, desired}``)
  gives one entry per setting (dictionaries again split into their leaves);
- a loop label of the form ``<resource>: <property> <actual> -> <expected>, <property>`` (the monitoring
  role's alarms) gives one entry per property; a bare property has no values.

Anything else still names the resource, with the property ``(not reported by module)``.
"""

from __future__ import annotations

import json
import re

NOT_REPORTED = "(not reported by module)"
NAME_ARGUMENTS = ("name", "log_group_name", "function_name", "alarm_name", "table_name", "bucket", "topic_arn")
LABEL_CHANGE = re.compile(r"^(?P<property>[A-Za-z_][\w.]*) (?P<actual>\S+) -> (?P<expected>\S+)$")
LABEL_BARE = re.compile(r"^[A-Za-z_][\w.]*$")


def entries_from_result(task: str, result: dict) -> list[dict]:
    """The drift entries of one changed task result (every changed item of a loop)."""
    items = result.get("results")
    if isinstance(items, list):
        return [entry for item in items if _changed(item) for entry in _item_entries(task, item)]
    return _item_entries(task, result) if _changed(result) else []


def resources(entries: list[dict]) -> list[str]:
    """The distinct resources of ``entries``, in the order they first appear."""
    return list(dict.fromkeys(entry["resource"] for entry in entries))


def summary(entries: list[dict], path: str) -> str:
    """One line for people and CI logs: how many resources drifted, which, and where the report is."""
    names = resources(entries)
    if not names:
        return f"No drift; report at {path}"
    return f"{len(names)} drifted resource{'s' if len(names) != 1 else ''}: {', '.join(names)}; report at {path}"


def flatten_diff(before, after, prefix: str = "") -> list[dict]:
    """``{property, expected, actual}`` for each leaf where ``after`` (wanted) differs from ``before`` (actual)."""
    before, after = _parsed(before), _parsed(after)
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(dict.fromkeys([*after, *before]))
        return [change for key in keys for change in flatten_diff(before.get(key), after.get(key), _join(prefix, key))]
    if before == after:
        return []
    return [{"property": prefix or "(value)", "expected": after, "actual": before}]


def _changed(result: dict) -> bool:
    return bool(result.get("changed")) and not result.get("skipped") and not result.get("failed")


def _item_entries(task: str, result: dict) -> list[dict]:
    label = result.get("_ansible_item_label")
    label = "" if label is None else str(label)
    resource, _separator, details = label.partition(": ") if label else (_resource_name(task, result), "", "")
    headed = _headed_diff_entries(task, result)
    if headed:
        return headed
    changes = _diff_changes(result) or _settings_changes(result.get("msg")) or _label_changes(details)
    if not changes:
        fallback = {"property": NOT_REPORTED, "expected": None, "actual": None}
        detail = details or _message(result.get("msg"))
        changes = [{**fallback, "detail": detail} if detail else fallback]
    return [{"resource": resource, **change, "task": task} for change in changes]


def _resource_name(task: str, result: dict) -> str:
    arguments = (result.get("invocation") or {}).get("module_args") or {}
    for key in NAME_ARGUMENTS:
        if isinstance(arguments.get(key), str) and arguments[key]:
            return arguments[key]
    return task


def _diff_changes(result: dict) -> list[dict]:
    diffs = result.get("diff")
    diffs = diffs if isinstance(diffs, list) else [diffs]
    return [
        change
        for diff in diffs
        if isinstance(diff, dict) and ("before" in diff or "after" in diff)
        for change in flatten_diff(diff.get("before"), diff.get("after"))
    ]


def _headed_diff_entries(task: str, result: dict) -> list[dict]:
    """The entries of a list of diffs whose every entry names its resource (a module managing a list)."""
    diffs = result.get("diff")
    if not isinstance(diffs, list) or not diffs or not all(_header(diff) for diff in diffs):
        return []
    return [
        {"resource": _header(diff), **change, "task": task}
        for diff in diffs
        for change in flatten_diff(diff.get("before"), diff.get("after"))
    ]


def _header(diff) -> str:
    if not isinstance(diff, dict):
        return ""
    return str(diff.get("after_header") or diff.get("before_header") or "")


def _settings_changes(message) -> list[dict]:
    if not isinstance(message, list) or not message:
        return []
    if not all(isinstance(entry, dict) and {"setting", "actual", "desired"} <= set(entry) for entry in message):
        return []
    return [
        change for entry in message for change in flatten_diff(entry["actual"], entry["desired"], str(entry["setting"]))
    ]


def _label_changes(details: str) -> list[dict]:
    if not details:
        return []
    changes = []
    for token in details.split(", "):
        matched = LABEL_CHANGE.match(token)
        if matched:
            changes.append({key: matched.group(key) for key in ("property", "expected", "actual")})
        elif LABEL_BARE.match(token):
            changes.append({"property": token, "expected": None, "actual": None})
        else:
            return []  # a value with spaces or commas: not parsed, the label is kept whole as the detail
    return changes


def _message(message) -> str:
    if isinstance(message, list):
        return " ".join(str(line) for line in message)
    return "" if message is None else str(message)


def _parsed(value):
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _join(prefix: str, key) -> str:
    return f"{prefix}.{key}" if prefix else str(key)
