# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

"""Lambda versions and aliases as the collection's modules read them.

The published versions of a function, and the highest one (below a given version). The markers that the
modules write at the end of an alias description, and read back:

``[previous version 4]``: the alias was moved away from version 4 by a completed traffic shift or a rollback, so a
rollback without a version goes back to 4. ``[rolled back version 5]``: traffic was moved away from version 5
because it was bad, so a deployment does not move the alias to 5 again unless asked to. The rest of the
description is the role's own text.
"""

import re

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

PREVIOUS = "previous version"
ROLLED_BACK = "rolled back version"
MARKER_PATTERN = re.compile(r"\s*\[(previous|rolled back) version (\d+)\]")


@jittered_backoff()
def list_versions(client, name):
    """Every version of function ``name`` ($LATEST included), each as ListVersionsByFunction returns it."""
    paginator = client.get_paginator("list_versions_by_function")
    return paginator.paginate(FunctionName=name).build_full_result()["Versions"]


def highest_version(versions, below=None):
    """The highest published version number (below ``below`` when given) as a string, or None when there is none."""
    numbers = [int(version["Version"]) for version in versions if version["Version"].isdigit()]
    if below is not None:
        numbers = [number for number in numbers if number < int(below)]
    return str(max(numbers)) if numbers else None


def compose_description(base, previous=None, rolled_back=None):
    """``base`` without its markers, followed by the markers of ``previous`` and ``rolled_back`` when given."""
    text = base_description(base)
    if previous is not None:
        text += f" [{PREVIOUS} {previous}]"
    if rolled_back is not None:
        text += f" [{ROLLED_BACK} {rolled_back}]"
    return text.strip()


def base_description(description):
    """The description without the markers."""
    return MARKER_PATTERN.sub("", description or "").strip()


def previous_version(description):
    """The version of the ``[previous version N]`` marker, as a string, or None."""
    return _marked(description, "previous")


def rolled_back_version(description):
    """The version of the ``[rolled back version N]`` marker, as a string, or None."""
    return _marked(description, "rolled back")


def _marked(description, kind):
    found = [number for marker, number in MARKER_PATTERN.findall(description or "") if marker == kind]
    return found[-1] if found else None
