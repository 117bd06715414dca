# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

"""The tags a module's resource ends up with, from its O(tags) and O(purge_tags) options."""


def requested_tags(module):
    """O(tags) with every value as a string, or None when omitted."""
    tags = module.params["tags"]
    if tags is None:
        return None
    return {key: str(value) for key, value in tags.items()}


def desired_tags(module, current_tags):
    """The tags the resource ends up with: O(tags), with O(purge_tags) deciding about the other current tags."""
    return merged_tags(module.params["tags"], current_tags, module.params["purge_tags"])


def merged_tags(tags, current_tags, purge):
    """The tags a resource ends up with: ``tags`` (values as strings), ``purge`` deciding about the other current ones.

    Tags starting with ``aws:`` are kept when purging; the current tags are kept when ``tags`` is None. Modules
    that manage a list of resources call it with each resource's own tags.
    """
    if tags is None:
        return dict(current_tags)
    tags = {key: str(value) for key, value in tags.items()}
    if purge:
        return {**{key: value for key, value in current_tags.items() if key.startswith("aws:")}, **tags}
    return {**current_tags, **tags}
