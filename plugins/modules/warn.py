#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: warn
short_description: Show a message as an Ansible warning
version_added: 0.2.0
description:
  - Shows O(msg) as a C([WARNING]) line in the run output, the way modules report warnings,
    instead of a C(debug) line that reads like any other task output. Changes nothing.
  - Use it with C(when) for a condition the run does not fail on but the operator must see,
    such as an alarm topic that nobody receives.
  - This is an action plugin; it runs on the controller and makes no AWS call.
options:
  msg:
    description: The warning.
    type: str
    required: true
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - secureinfra.baseline.attributes.read_only
"""

EXAMPLES = r"""
- name: Say that alarms reach nobody
  secureinfra.baseline.warn:
    msg: The alarm topic has no confirmed subscriber; set monitoring_subscriptions.
  when: confirmed | length == 0
"""

RETURN = r"""
msg:
  description: The warning shown.
  returned: always
  type: str
"""
