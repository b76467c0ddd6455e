"""secureinfra.baseline.template: what ansible.builtin.template renders, without its deep copy."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.secureinfra.baseline.plugins.lookup.template import LookupModule, _CopiedAtTopLevel

REPO_ROOT = Path(__file__).resolve().parents[4]
# The checkout's collections/ link, or the collection-shaped copy of `ansible-test units`.
COLLECTIONS = (
    REPO_ROOT.parents[2] if REPO_ROOT.parents[1].name == "ansible_collections" else REPO_ROOT / "collections"
)

TEMPLATE = """{
  "name": "{{ name }}",
  "path": "{{ template_path | basename }}",
  {# a comment #}
  "extra": {{ extra | default('none') | to_json }},
{% for item in items %}
  "{{ item.key }}": {{ item.value | to_json }},
{% endfor %}
  "host": "{{ inventory_hostname }}"
}
"""

PLAYBOOK = """
- hosts: h1
  connection: local
  gather_facts: false
  vars:
    name: "{{ 'baseline' | upper }}"
    items: [{key: a, value: [1, 2]}, {key: b, value: {c: d}}]
  tasks:
    - name: Both lookups
      ansible.builtin.set_fact:
        builtin: "{{ lookup('ansible.builtin.template', 'doc.json.j2') }}"
        ours: "{{ lookup('secureinfra.baseline.template', 'doc.json.j2') }}"
        builtin_vars: "{{ lookup('ansible.builtin.template', 'doc.json.j2', template_vars={'extra': 5}) }}"
        ours_vars: "{{ lookup('secureinfra.baseline.template', 'doc.json.j2', template_vars={'extra': 5}) }}"
        builtin_trim: >-
          {{ lookup('ansible.builtin.template', 'doc.json.j2', trim_blocks=false,
                    comment_start_string='[#', comment_end_string='#]') }}
        ours_trim: >-
          {{ lookup('secureinfra.baseline.template', 'doc.json.j2', trim_blocks=false,
                    comment_start_string='[#', comment_end_string='#]') }}
    - name: The caller's variables unchanged
      ansible.builtin.assert:
        that:
          - extra is not defined
          - template_path is not defined
"""


def test_it_renders_what_the_builtin_renders(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "doc.json.j2").write_text(TEMPLATE)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.yml").write_text(
        f"all:\n  hosts:\n    h1:\n  vars:\n    ansible_python_interpreter: {sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {COLLECTIONS}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "hosts.yml", "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    facts = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["h1"]["ansible_facts"]
    assert facts["ours"] == facts["builtin"]
    rendered = json.loads(facts["ours"])
    assert rendered["name"] == "BASELINE" and rendered["b"] == {"c": "d"} and rendered["host"] == "h1"
    assert rendered["path"] == "doc.json.j2" and rendered["extra"] == "none"
    assert facts["ours_vars"] == facts["builtin_vars"] and json.loads(facts["ours_vars"])["extra"] == 5
    assert facts["ours_trim"] == facts["builtin_trim"]
    assert "a comment" in facts["ours_trim"]  # {# #} is no comment with other delimiters


class _CopyCounter:
    """A variable's value that counts how often it is deep-copied."""

    copies = 0

    def __deepcopy__(self, memo: dict) -> _CopyCounter:
        _CopyCounter.copies += 1
        return self


def test_the_variables_are_copied_at_the_top_level_only() -> None:
    value = _CopyCounter()
    variables = _CopiedAtTopLevel({"deep": {"value": value}, "top": 1})
    copied = copy.deepcopy(variables)
    assert copied == variables and copied is not variables and type(copied) is dict
    copied["added"] = True
    assert "added" not in variables
    assert copied["deep"] is variables["deep"]
    assert _CopyCounter.copies == 0
    copy.deepcopy({"deep": {"value": value}})  # what the builtin lookup does to them
    assert _CopyCounter.copies == 1


def test_it_is_the_builtin_lookup_otherwise() -> None:
    from ansible.plugins.lookup.template import LookupModule as Builtin

    assert issubclass(LookupModule, Builtin)
    assert LookupModule.run is not Builtin.run


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
