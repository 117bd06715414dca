"""Write generated files, or (``--check``) say which differ from what would be written.

The one step the doc generators share (render_role_docs.py, render_architecture.py, render_openapi.py): each
renders ``{path relative to root: text}`` and hands it here.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(root: Path, files: dict[Path, str], check: bool, tool: str) -> int:
    """Write each file under ``root``; with ``check``, write nothing and return 1 when one is missing or stale."""
    stale = []
    for relative, text in files.items():
        target = root / relative
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(relative))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if stale:
        print(f"out of date (run tools/{tool}): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0
