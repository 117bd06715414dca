"""module_utils/tagging.py: the tags a resource ends up with."""

from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import merged_tags


def test_purge_keeps_the_tags_aws_sets():
    current = {"aws:cloudformation:stack-name": "other", "Owner": "someone"}

    assert merged_tags({"A": 1}, current, purge=True) == {"aws:cloudformation:stack-name": "other", "A": "1"}
    assert merged_tags({"A": 1}, current, purge=False) == {**current, "A": "1"}


def test_without_tags_the_current_ones_are_kept():
    current = {"Owner": "someone"}

    assert merged_tags(None, current, purge=True) == current
