#!/usr/bin/env python3
"""The optional Mitogen strategy: the environment that switches ansible-playbook to it.

    eval "$(.venv/bin/python tools/mitogen_strategy.py)"     # this shell's runs use Mitogen
    make deploy MITOGEN=1                                    # one make target with Mitogen

Mitogen (``mitogen`` on PyPI, pinned in requirements-dev.txt) runs modules in long-lived interpreters
that keep their imports, instead of one new Python process per module invocation; against AWS most of
a module invocation is that start and boto3's import (docs/performance.md has the figures). The
default stays Ansible's own ``linear`` strategy: nothing in the collection needs Mitogen.
"""

from __future__ import annotations

import os
import shlex
import sys

STRATEGY = "mitogen_linear"


def strategy_env() -> dict[str, str]:
    """ANSIBLE_STRATEGY_PLUGINS (where Mitogen's strategies are installed) and ANSIBLE_STRATEGY."""
    import ansible_mitogen.plugins.strategy as strategies

    return {"ANSIBLE_STRATEGY_PLUGINS": os.path.dirname(strategies.__file__), "ANSIBLE_STRATEGY": STRATEGY}


def main() -> int:
    try:
        env = strategy_env()
    except ImportError:
        print("mitogen is not installed in this Python: run make venv", file=sys.stderr)
        return 1
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
