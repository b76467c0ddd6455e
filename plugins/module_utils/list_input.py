# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Input rules shared by the modules that take a list of resources (sqs_queues, log groups, ...).

Each returns messages naming the option and what AWS accepts, so that a module can refuse bad input
before its first call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def tag_errors(where: str, tags: dict[str, Any] | None, max_tags: int = 50) -> list[str]:
    """AWS's tag rules: at most `max_tags`, keys of 1-128 characters not starting with 'aws:', values of
    at most 256 characters."""
    tags = tags or {}
    errors = []
    if len(tags) > max_tags:
        errors.append(f"{where}: at most {max_tags} tags, got {len(tags)}")
    for key, value in tags.items():
        if (
            not 1 <= len(str(key)) <= 128
            or str(key).startswith("aws:")
            or value is None
            or len(str(value)) > 256
        ):
            errors.append(
                f"{where}: '{key}' needs a key of 1-128 characters not starting with 'aws:' "
                "and a value of at most 256 characters"
            )
    return errors


def duplicate_errors(where: str, names: Iterable[str]) -> list[str]:
    """One message naming the names listed more than once, if any."""
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        return [f"{where}: each name once, got {', '.join(duplicates)} more than once"]
    return []


def list_result(key: str, entries: list[dict[str, Any]], diff_mode: bool) -> dict[str, Any]:
    """A list module's result: `changed`, the entries under `key` (each with its name, `changed`, and
    a `diff` (before, after) that is taken out), and in diff mode the before/after of the changed
    entries by name."""
    diffs = {entry["name"]: entry.pop("diff") for entry in entries}
    result: dict[str, Any] = {"changed": any(entry["changed"] for entry in entries), key: entries}
    if diff_mode:
        changed = [entry["name"] for entry in entries if entry["changed"]]
        result["diff"] = {
            "before": {name: diffs[name][0] for name in changed},
            "after": {name: diffs[name][1] for name in changed},
        }
    return result
