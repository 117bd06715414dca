"""Killing a playbook for good: SIGKILL its whole process tree, not only its process group."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def parent_pids() -> dict[int, int]:
    """The parent of every live process, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    parents = parent_pids()
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def kill_tree(root: int) -> None:
    """SIGKILL the playbook and everything it started, with the process groups they lead.

    A process group is not enough: each Ansible worker calls setsid(), so its module runs in a
    session of its own and would live on (and finish its AWS calls) after a killpg of the playbook.
    """
    tree = process_tree(root)
    own_group = os.getpgrp()
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGSTOP)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            group = os.getpgid(pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
