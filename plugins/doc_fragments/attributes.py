# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""The modules' attributes: what check mode and diff mode do (like ansible-core's action_common_attributes).

A module extends exactly one of them:

- secureinfra.baseline.attributes: converges resources; full check mode, full diff;
- secureinfra.baseline.attributes.read_only: changes nothing; full check mode, no diff;
- secureinfra.baseline.attributes.delegated: runs another module, which decides both.
"""

from __future__ import annotations


class ModuleDocFragment:
    # A module that converges resources: in check mode it only reads and reports what it would
    # change; in diff mode it returns the managed state before and after.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Nothing is written, only read; C(changed) and the returned state are what a real run would report.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: What the module manages, before and after the run (predicted in check mode).
"""

    # A module that only reads or reports: check mode runs it unchanged, and it has no diff.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module changes nothing, so it runs the same in check mode and never reports a change.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: The module changes nothing, so it returns no diff.
"""

    # An action that runs another module: check mode and diff mode are that module's.
    DELEGATED = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: N/A
    details:
      - Check mode is passed to the wrapped module, which decides what it does (or is skipped without it).
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: Diff mode is passed to the wrapped module, whose diff is returned.
"""
