"""Every module declares its check_mode and diff_mode support (plugins/doc_fragments/attributes.py),
and the declaration is true to its code.

The documentation is read as ansible-doc reads it: the module's DOCUMENTATION merged with its
fragments (read_docstring + add_fragments). The code is read without running it: the
`supports_check_mode=` of its AnsibleModule, whether it ever sets a `diff` in diff mode
(`module._diff`), or, for an action plugin (plugins/action/<name>.py), the action's
`_supports_check_mode` (True unless the class sets it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from ansible.parsing.plugin_docs import read_docstring
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import add_fragments

REPO = Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
FRAGMENT = "secureinfra.baseline.attributes"


def merged_doc(name: str) -> tuple[list[str], dict]:
    """The module's own fragment list, and its DOCUMENTATION merged with every fragment."""
    path = str(REPO / "plugins" / "modules" / f"{name}.py")
    doc = read_docstring(path)["doc"]
    fragments = list(doc.get("extends_documentation_fragment") or [])
    add_fragments(doc, path, fragment_loader, is_module=True)
    return fragments, doc


def supports_check_mode(source: str) -> bool:
    """The `supports_check_mode=` keyword of the AnsibleModule / AnsibleAWSModule call (default False)."""
    values = [
        kw.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "supports_check_mode"
    ]
    assert len(values) <= 1, "more than one supports_check_mode="
    if not values:
        return False
    assert isinstance(values[0], ast.Constant), "supports_check_mode= is not a literal"
    return bool(values[0].value)


def action_supports_check_mode(source: str) -> bool:
    """An action plugin's `_supports_check_mode` class attribute (ActionBase's default: True)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_supports_check_mode" for t in node.targets
        ):
            assert isinstance(node.value, ast.Constant)
            return bool(node.value.value)
    return True


def returns_diff(source: str) -> bool:
    """Whether the module reads diff mode (`module._diff`), where it builds its `diff`."""
    return any(
        isinstance(node, ast.Attribute) and node.attr == "_diff" for node in ast.walk(ast.parse(source))
    )


def expected(name: str) -> tuple[set[str], set[str]]:
    """The check_mode and diff_mode support values the code allows."""
    action = REPO / "plugins" / "action" / f"{name}.py"
    if action.is_file():
        check = action_supports_check_mode(action.read_text())
        # An action plugin can hand both modes to what it runs (N/A: that module decides).
        return ({"full", "partial", "N/A"} if check else {"none"}), {"full", "partial", "none", "N/A"}
    source = (REPO / "plugins" / "modules" / f"{name}.py").read_text()
    check = {"full", "partial"} if supports_check_mode(source) else {"none"}
    diff = {"full", "partial"} if returns_diff(source) else {"none"}
    return check, diff


def test_there_are_modules() -> None:
    assert len(MODULES) >= 20


@pytest.mark.parametrize("name", MODULES)
def test_module_extends_the_attributes_fragment(name: str) -> None:
    fragments, _ = merged_doc(name)
    ours = [f for f in fragments if f == FRAGMENT or f.startswith(FRAGMENT + ".")]
    assert len(ours) == 1, fragments


@pytest.mark.parametrize("name", MODULES)
def test_declared_support_is_true_to_the_code(name: str) -> None:
    _, doc = merged_doc(name)
    attributes = doc.get("attributes") or {}
    check, diff = expected(name)
    assert "check_mode" in attributes and "diff_mode" in attributes, attributes
    assert attributes["check_mode"]["support"] in check
    assert attributes["diff_mode"]["support"] in diff
    for attribute in ("check_mode", "diff_mode"):
        assert attributes[attribute]["description"], attribute


def test_a_false_declaration_is_caught() -> None:
    """The readers the test relies on see what the code says."""
    assert supports_check_mode("m = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)")
    assert not supports_check_mode("m = AnsibleModule(argument_spec={})")
    assert not supports_check_mode("m = AnsibleModule(argument_spec={}, supports_check_mode=False)")
    assert returns_diff("if module._diff:\n    result['diff'] = {}")
    assert not returns_diff("result = {'changed': False}")
    assert not action_supports_check_mode("class ActionModule:\n    _supports_check_mode = False")
    assert action_supports_check_mode("class ActionModule:\n    pass")
    # baseline_controls only reads: check mode yes, diff no.
    assert expected("baseline_controls") == ({"full", "partial"}, {"none"})
