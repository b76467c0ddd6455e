"""In-process moto with scripts/moto_security_services.py's additions, for one test.

Everything it adds or wraps is undone when the context ends (mock.patch), so the rest of the unit
suite keeps plain moto. `strict=True` also turns strict mode on (rules 21-25) for the context, with
the given settings, and restores the settings after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from scripts import moto_security_services, strict_aws


@contextmanager
def security_services_moto(strict: bool = False, **settings: Any) -> Iterator[None]:
    saved = strict_aws.CONFIG.as_dict()
    with ExitStack() as stack:
        for owner, name, wrapper in moto_security_services.PATCHES:
            stack.enter_context(mock.patch.object(owner, name, wrapper(getattr(owner, name))))
        for owner, name, method in moto_security_services.ADDITIONS:
            if not hasattr(owner, name):
                stack.enter_context(mock.patch.object(owner, name, method, create=True))
        for target, additions in moto_security_services.DICT_ADDITIONS:
            stack.enter_context(
                mock.patch.dict(target, {k: v for k, v in additions.items() if k not in target})
            )
        for target, entry in moto_security_services.LIST_ADDITIONS:
            if entry not in target:
                target.append(entry)
                stack.callback(target.remove, entry)
        stack.callback(strict_aws.CONFIG.update, saved)
        strict_aws.CONFIG.update({"enabled": strict, **settings})
        yield
