"""Tests of the version reading and alias description markers shared by lambda_functions and lambda_traffic_shift."""

import pytest

from ansible_collections.serverless.tasks_api.plugins.module_utils.lambda_alias import (
    base_description,
    compose_description,
    highest_version,
    previous_version,
    rolled_back_version,
)

BASE = "Serves API traffic: the version the functions role last published"


def test_a_completed_shift_marks_the_previous_version():
    description = compose_description(BASE, previous="4")

    assert description == f"{BASE} [previous version 4]"
    assert previous_version(description) == "4"
    assert rolled_back_version(description) is None


def test_a_rollback_marks_the_bad_version():
    description = compose_description(BASE, rolled_back="5")

    assert description == f"{BASE} [rolled back version 5]"
    assert rolled_back_version(description) == "5"
    assert previous_version(description) is None


def test_composing_replaces_the_markers_already_there():
    old = compose_description(BASE, previous="3", rolled_back="4")

    assert compose_description(old, previous="5") == f"{BASE} [previous version 5]"


@pytest.mark.parametrize("description", [None, "", BASE, "rolled back version 5", "[previous version x]"])
def test_a_description_without_markers_has_no_versions(description):
    assert previous_version(description) is None
    assert rolled_back_version(description) is None


def test_the_base_is_the_description_without_markers():
    assert base_description(f"{BASE} [previous version 12] [rolled back version 13]") == BASE
    assert base_description(None) == ""


def test_markers_alone_make_a_description_without_base():
    assert compose_description("", rolled_back="7") == "[rolled back version 7]"


VERSIONS = [{"Version": "$LATEST"}, {"Version": "2"}, {"Version": "10"}, {"Version": "9"}]


@pytest.mark.parametrize(
    ("below", "expected"),
    [(None, "10"), ("10", "9"), ("9", "2"), ("2", None)],
)
def test_the_highest_version_compares_numbers_and_skips_latest(below, expected):
    assert highest_version(VERSIONS, below=below) == expected


def test_no_published_version_has_no_highest():
    assert highest_version([{"Version": "$LATEST"}]) is None
