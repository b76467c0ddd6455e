# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Lookup plugin secureinfra.baseline.template: ansible.builtin.template without its deep copy."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: template
short_description: ansible.builtin.template's lookup, without a deep copy of every variable per call
version_added: 0.3.0
description:
  - Returns the contents of each template file after templating it with Jinja2, exactly as the
    lookup C(ansible.builtin.template) does, with the same options, search path and template
    variables (C(template_path), C(template_fullpath), C(ansible_managed), ...).
  - C(ansible.builtin.template) deep-copies the task's variables for each file, the values of
    every role default and fact in scope included, to add a few variables for the template. That
    copy was a tenth of the controller's CPU in a no-op run of the site. This lookup copies the
    top level only; the template gets the same variables, and it cannot change the caller's
    variables (a template only reads them).
author:
  - Secureinfra Platform Team (@secureinfra)
options:
  _terms:
    description:
      - The template files, found as C(ansible.builtin.template) finds them (the role's
        C(templates) directory first).
  variable_start_string:
    description: The string marking the beginning of a print statement.
    default: '{{'
    type: str
  variable_end_string:
    description: The string marking the end of a print statement.
    default: '}}'
    type: str
  template_vars:
    description: A dictionary, the keys become additional variables available for templating.
    default: {}
    type: dict
  comment_start_string:
    description: The string marking the beginning of a comment statement.
    type: str
    default: '{#'
  comment_end_string:
    description: The string marking the end of a comment statement.
    type: str
    default: '#}'
  trim_blocks:
    description: Whether the first newline after a block is removed (block, not variable tag).
    type: bool
    default: true
seealso:
  - plugin: ansible.builtin.template
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: A key policy from the role's templates/key_policy.json.j2
  ansible.builtin.set_fact:
    encryption_key_policy: "{{ lookup('secureinfra.baseline.template', 'key_policy.json.j2') | from_json }}"
"""

RETURN = r"""
_raw:
  description: Each file's contents after templating.
  type: list
  elements: raw
"""

from typing import Any  # noqa: E402

from ansible.plugins.lookup.template import LookupModule as _BuiltinTemplate  # noqa: E402


class _CopiedAtTopLevel(dict):
    """The variables handed to the builtin lookup: its deepcopy(variables) copies the top level."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


class LookupModule(_BuiltinTemplate):
    """ansible.builtin.template, its variables copied at the top level only."""

    def run(self, terms: list, variables: Any = None, **kwargs: Any) -> list:
        return super().run(terms, variables=_CopiedAtTopLevel(variables or {}), **kwargs)
