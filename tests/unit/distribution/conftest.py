"""The collection is built once per session for every test here (collection_build.py)."""

from __future__ import annotations

import pytest
from ansible_collections.secureinfra.baseline.tests.unit.distribution.collection_build import (
    BuiltCollection,
    build_collection,
)


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory: pytest.TempPathFactory) -> BuiltCollection:
    return build_collection(tmp_path_factory)
