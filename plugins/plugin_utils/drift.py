"""Compare the settings a role wants with what AWS reports, for check-mode drift reports."""

from __future__ import annotations


def drifted_settings(desired: dict, actual: dict) -> list[dict]:
    """Return ``{setting, actual, desired}`` for each key of ``desired`` whose value ``actual`` does not have.

    Keys of ``actual`` that ``desired`` does not name are not compared; a key missing from
    ``actual`` counts as ``None``. Entries come in the order of ``desired``.
    """
    if not isinstance(desired, dict) or not isinstance(actual, dict):
        raise ValueError(f"expected two dictionaries, got {type(desired).__name__} and {type(actual).__name__}")
    return [
        {"setting": key, "actual": actual.get(key), "desired": value}
        for key, value in desired.items()
        if actual.get(key) != value
    ]
