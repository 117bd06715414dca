"""The one place where filter entry files turn ``ValueError`` into ``AnsibleFilterError``.

The pure modules beside this one raise ``ValueError`` naming the bad argument, so
that unit tests import them without Ansible; the thin filter entry files wrap
their functions with :func:`as_filter_error` so that a playbook sees a filter
error prefixed with the filter's name.
"""

from __future__ import annotations

import functools

from ansible.errors import AnsibleFilterError


def as_filter_error(function):
    """Return ``function`` raising ``AnsibleFilterError("<name>: <message>")`` where it raised ``ValueError``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            raise AnsibleFilterError(f"{function.__name__}: {error}") from error

    return wrapper
