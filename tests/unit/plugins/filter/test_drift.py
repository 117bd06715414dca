"""Unit tests of the drifted_settings filter."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.drift import FilterModule

DRIFTED_SETTINGS = FilterModule().filters()["drifted_settings"]


def test_no_drift_when_every_wanted_setting_matches():
    assert DRIFTED_SETTINGS({"a": 1, "b": {"c": [1]}}, {"a": 1, "b": {"c": [1]}, "extra": "ignored"}) == []


def test_reports_each_difference_in_the_wanted_order():
    desired = {"versioning": "Enabled", "tags": {"Environment": "prod"}, "ownership": "BucketOwnerEnforced"}
    actual = {"ownership": "ObjectWriter", "versioning": "Enabled", "tags": {}}
    assert DRIFTED_SETTINGS(desired, actual) == [
        {"setting": "tags", "actual": {}, "desired": {"Environment": "prod"}},
        {"setting": "ownership", "actual": "ObjectWriter", "desired": "BucketOwnerEnforced"},
    ]


def test_a_missing_actual_setting_counts_as_null():
    assert DRIFTED_SETTINGS({"kms_key": "arn"}, {}) == [{"setting": "kms_key", "actual": None, "desired": "arn"}]


def test_rejects_non_dictionaries():
    with pytest.raises(AnsibleFilterError, match="drifted_settings: expected two dictionaries"):
        DRIFTED_SETTINGS(["a"], {})
