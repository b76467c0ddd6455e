"""Find a Python interpreter of a given minor version on this machine (pyenv's, or on PATH).

pyenv installs every version under $(pyenv root)/versions/<version>/, but only the active one
answers through its shims (`python3.12` says "command not found" unless 3.12 is selected), so
the interpreter is taken from there first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def _runs(candidate: str, version: str) -> bool:
    probe = subprocess.run(
        [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == version


def find_python(version: str) -> str | None:
    """The path of a working `python<version>` (e.g. "3.12"), or None."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted((root / "versions").glob(f"{version}.*/bin/python{version}"), reverse=True)
    on_path = shutil.which(f"python{version}")
    for candidate in [*map(str, candidates), *([on_path] if on_path else [])]:
        if _runs(candidate, version):
            return candidate
    return None
