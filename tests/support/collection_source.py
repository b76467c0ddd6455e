"""The collection's source as git sees it, copied apart, for `ansible-galaxy collection build`.

galaxy.yml's manifest directives make ansible-galaxy list every file below the directory it
builds before it applies them, the git-ignored ones included: .nox's virtualenvs, which a matrix
lane writes while another test builds (CI runs them side by side), fail the listing ("No such
file or directory" for a .pyc being written). A copy of the files git tracks, and the untracked
ones it does not ignore (a change not committed yet), holds nothing that moves.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def collection_source(destination: Path) -> Path:
    """Copy the tracked and the untracked, not ignored, files of the checkout to destination."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if not source.is_file() and not source.is_symlink():
            continue  # deleted in the working tree, not yet in the index
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return destination
