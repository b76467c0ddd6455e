"""Shared pytest setup: make `ansible_collections.secureinfra.baseline` importable from this checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ansible

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / "collections"
_SITE_COLLECTIONS = Path(ansible.__file__).resolve().parents[1]  # site-packages (holds ansible_collections/)


def _link_collection() -> None:
    """collections/ansible_collections/secureinfra/baseline -> the checkout, as `make venv` makes it."""
    link = COLLECTIONS_DIR / "ansible_collections" / "secureinfra" / "baseline"
    if not os.path.lexists(link):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("../../..")


def _install_collection_loader() -> None:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    if any(type(f).__name__ == "_AnsibleCollectionFinder" for f in sys.meta_path):
        return
    finder = _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR), str(_SITE_COLLECTIONS)])
    finder._install()


_link_collection()
_install_collection_loader()
# scripts/ (emulator helpers) and tests/support/ (`support.*`) for the tests. pytest's default
# import mode puts tests/ on sys.path by itself; `ansible-test units` (make ansible-test-units)
# imports test modules through the collection loader and does not.
for _path in (REPO_ROOT, REPO_ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
