"""Pure functions behind the manifest filters: check and normalise the API's function manifest.

The manifest is one collection variable, a list of dicts, one per Lambda function
of the API::

    - name: list                  # function name = <name_prefix>-<name>
      handler: list_tasks.handler # module.function in the source directory
      method: GET
      path: /tasks
      dynamodb_actions: [dynamodb:Scan]
      dynamodb_indexes: []        # optional
      memory: 256                 # optional, MB
      timeout: 10                 # optional, seconds (at most 29: API Gateway's integration timeout)
      reserved_concurrency: null  # optional

Importable without Ansible so that unit tests exercise it directly; the filter
plugin in ``plugins/filter/manifest.py`` turns ``ValueError`` into
``AnsibleFilterError``.
"""

from __future__ import annotations

import re

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
REQUIRED_KEYS = ("name", "handler", "method", "path", "dynamodb_actions")
DEFAULTS = {"dynamodb_indexes": [], "memory": 256, "timeout": 10, "reserved_concurrency": None}
KEYS = (*REQUIRED_KEYS, *DEFAULTS)
MEMORY_RANGE = (128, 10240)
# Every function serves a route, and API Gateway stops waiting for an integration after 29 seconds:
# a longer Lambda timeout (Lambda allows 900) would only let the function run on after the client got a 504.
TIMEOUT_RANGE = (1, 29)
TIMEOUT_REASON = "API Gateway's integration timeout is 29 seconds"

# Matched with fullmatch: a "$" anchor would also accept a trailing newline.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,31}")
HANDLER_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
PATH_SEGMENT_PATTERN = re.compile(r"[A-Za-z0-9_-]+|\{(?P<param>[A-Za-z_][A-Za-z0-9_]*)\}")
ACTION_PATTERN = re.compile(r"dynamodb:[A-Z][A-Za-z]+")
INDEX_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def manifest_problems(functions: object) -> list[str]:
    """Return what is wrong with ``functions`` as a function manifest (empty when nothing is).

    Each problem names the entry (``functions[2] (get)``) and the offending value.
    """
    if not isinstance(functions, list):
        return [f"functions: expected a list of function entries, got {type(functions).__name__} {functions!r}"]
    if not functions:
        return ["functions: the manifest is empty; the API needs at least one function"]
    problems = []
    names: dict[str, str] = {}
    routes: dict[tuple[str, str], tuple[str, str]] = {}
    for index, entry in enumerate(functions):
        label = _label(index, entry)
        problems.extend(function_problems(entry, label))
        if not isinstance(entry, dict):
            continue
        name, method, path = entry.get("name"), entry.get("method"), entry.get("path")
        if isinstance(name, str):
            if name in names:
                problems.append(f"{label}: name {name!r} is already used by {names[name]}")
            else:
                names[name] = label
        if isinstance(method, str) and isinstance(path, str):
            route = (method, _route_shape(path))
            if route in routes:
                other_label, other_path = routes[route]
                same = "" if other_path == path else f" (parameter names do not make routes different: {other_path})"
                problems.append(f"{label}: route {method} {path} is already served by {other_label}{same}")
            else:
                routes[route] = (label, path)
    return problems


def normalize_manifest(functions: object) -> list[dict]:
    """Return the manifest's entries with defaults filled in; raise ``ValueError`` listing every problem.

    Entries keep their order; each has the keys of ``KEYS`` in that order, its
    ``dynamodb_actions`` and ``dynamodb_indexes`` sorted and without repeats.
    """
    problems = manifest_problems(functions)
    if problems:
        raise ValueError("; ".join(problems))
    return [_normalized(entry) for entry in functions]


def function_problems(entry: object, label: str = "function") -> list[str]:
    """Return what is wrong with one manifest entry on its own, each problem prefixed with ``label``."""
    if not isinstance(entry, dict):
        return [f"{label}: expected a dict with keys {', '.join(REQUIRED_KEYS)}, got {type(entry).__name__} {entry!r}"]
    problems = [f"missing required key {key!r}" for key in REQUIRED_KEYS if key not in entry]
    problems += [f"unknown key {key!r}; the keys are {', '.join(KEYS)}" for key in entry if key not in KEYS]
    checks = {
        "name": _name_problems,
        "handler": _handler_problems,
        "method": _method_problems,
        "path": _path_problems,
        "dynamodb_actions": _actions_problems,
        "dynamodb_indexes": _indexes_problems,
        "memory": lambda value: _whole_number_problems("memory", value, *MEMORY_RANGE),
        "timeout": lambda value: _whole_number_problems("timeout", value, *TIMEOUT_RANGE, TIMEOUT_REASON),
        "reserved_concurrency": _reserved_concurrency_problems,
    }
    for key, check in checks.items():
        if key in entry and not (key in DEFAULTS and entry[key] is None):
            problems += check(entry[key])
    return [f"{label}: {problem}" for problem in problems]


def normalize_function(entry: object, label: str = "function") -> dict:
    """Return one entry with defaults filled in; raise ``ValueError`` naming ``label`` when it is invalid."""
    problems = function_problems(entry, _label_with_name(label, entry))
    if problems:
        raise ValueError("; ".join(problems))
    return _normalized(entry)


def _normalized(entry: dict) -> dict:
    normalized = {}
    for key in KEYS:
        value = entry.get(key)
        if value is None and key in DEFAULTS:
            value = DEFAULTS[key]
        if key in ("dynamodb_actions", "dynamodb_indexes"):
            value = sorted(set(value))
        normalized[key] = value
    return normalized


def _label(index: int, entry: object) -> str:
    return _label_with_name(f"functions[{index}]", entry)


def _label_with_name(label: str, entry: object) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return f"{label} ({entry['name']})"
    return label


def _route_shape(path: str) -> str:
    """Return ``path`` with every ``{param}`` as ``{}``: API Gateway tells routes apart by shape only."""
    return re.sub(r"\{[^/]*\}", "{}", path)


def _name_problems(name: object) -> list[str]:
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name):
        return []
    return [
        f"name {name!r} is not a lowercase letter followed by up to 31 lowercase letters, digits or hyphens "
        f"(^{NAME_PATTERN.pattern}$)"
    ]


def _handler_problems(handler: object) -> list[str]:
    if isinstance(handler, str) and HANDLER_PATTERN.fullmatch(handler):
        return []
    return [f"handler {handler!r} is not module.function in the source directory, for example list_tasks.handler"]


def _method_problems(method: object) -> list[str]:
    if method in METHODS:
        return []
    return [f"method {method!r} is not one of {', '.join(METHODS)}"]


def _path_problems(path: object) -> list[str]:
    if not isinstance(path, str):
        return [f"path {path!r} is not a string like /tasks/{{id}}"]
    if not path.startswith("/"):
        return [f"path {path!r} does not start with /"]
    if path == "/":
        return []
    if path.endswith("/"):
        return [f"path {path!r} ends with /; only the root path / may"]
    segments = path[1:].split("/")
    if not all(PATH_SEGMENT_PATTERN.fullmatch(segment) for segment in segments):
        return [
            f"path {path!r} has a segment that is empty or neither letters, digits, - and _ nor a {{param}} "
            "(a letter or _, then letters, digits or _)"
        ]
    params = [PATH_SEGMENT_PATTERN.fullmatch(segment)["param"] for segment in segments]
    params = [param for param in params if param]
    repeated = sorted({param for param in params if params.count(param) > 1})
    if repeated:
        return [f"path {path!r} repeats the parameter(s) {', '.join('{' + p + '}' for p in repeated)}"]
    return []


def _actions_problems(actions: object) -> list[str]:
    if not isinstance(actions, list):
        return [f"dynamodb_actions {actions!r} is not a list (it may be empty) of actions like dynamodb:GetItem"]
    return [
        f"dynamodb_actions[{index}] {action!r} is not a single DynamoDB action like dynamodb:GetItem "
        f"(^{ACTION_PATTERN.pattern}$; no wildcards)"
        for index, action in enumerate(actions)
        if not (isinstance(action, str) and ACTION_PATTERN.fullmatch(action))
    ]


def _indexes_problems(indexes: object) -> list[str]:
    if not isinstance(indexes, list):
        return [f"dynamodb_indexes {indexes!r} is not a list of index names"]
    return [
        f"dynamodb_indexes[{index}] {name!r} is not a DynamoDB index name (3 to 255 letters, digits, _, - or .)"
        for index, name in enumerate(indexes)
        if not (isinstance(name, str) and INDEX_PATTERN.fullmatch(name))
    ]


def _whole_number_problems(key: str, value: object, low: int, high: int, reason: str = "") -> list[str]:
    if _is_whole_number(value) and low <= value <= high:
        return []
    because = f" ({reason})" if reason else ""
    return [f"{key} {value!r} is not a whole number from {low} to {high}{because}"]


def _reserved_concurrency_problems(value: object) -> list[str]:
    if _is_whole_number(value) and value >= 0:
        return []
    return [f"reserved_concurrency {value!r} is neither null nor a whole number of at least 0"]


def _is_whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
