"""Bench lever only (bench_runs.py puts this directory on PYTHONPATH for one run): share botocore's
loaded service models between sessions of one interpreter.

Every AWS module creates a new boto3 session, and a new session loads (decompresses and parses)
the service model, paginators and endpoint rules again: 0.1-0.5 s of CPU per client. Under
mitogen all modules of a host run in one interpreter, so a cache keyed by the search paths and
the name would load each file once per host and run. Not used by the site: it patches botocore.
"""

from __future__ import annotations

import contextlib
from typing import Any

with contextlib.suppress(ImportError):
    from botocore import loaders

    _cache: dict[tuple[Any, ...], Any] = {}
    _load = loaders.Loader.load_data_with_path

    def _cached(self: loaders.Loader, name: str) -> Any:
        key = (tuple(self.search_paths), name)
        if key not in _cache:
            _cache[key] = _load(self, name)
        return _cache[key]

    loaders.Loader.load_data_with_path = _cached  # type: ignore[method-assign]
