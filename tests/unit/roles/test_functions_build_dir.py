"""functions_build_dir (roles/functions/defaults): two checkouts never share a build directory.

The default is rendered by Ansible's own templar from the role's defaults file, as a play would.
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[3] / "roles" / "functions"


def _build_dir(code_dir: Path, region: str = "us-east-1", home: str = "/home/ops") -> str:
    loader = DataLoader()
    defaults = loader.load_from_file(str(ROLE / "defaults" / "main.yml"))
    variables = {
        **defaults,
        "functions_code_dir": str(code_dir),
        "baseline_region": region,
        "role_path": str(ROLE),
    }
    templar = Templar(loader=loader, variables=variables)
    with mock.patch.dict(os.environ, {"HOME": home}):
        return str(templar.template(trust_as_template(defaults["functions_build_dir"]))).strip()


def _checkout(root: Path, name: str) -> Path:
    code = root / name / "files" / "lambda"
    code.mkdir(parents=True)
    return code


def test_two_checkouts_get_two_build_dirs(tmp_path):
    first = _build_dir(_checkout(tmp_path, "checkout-a"))
    second = _build_dir(_checkout(tmp_path, "checkout-b"))
    assert first != second
    for built in (first, second):
        assert built.startswith("/home/ops/.cache/secureinfra-baseline/lambda/")
        assert built.endswith("/us-east-1")


def test_same_checkout_is_stable_and_followed_through_links(tmp_path):
    code = _checkout(tmp_path, "checkout")
    link = tmp_path / "link-to-checkout"
    link.symlink_to(tmp_path / "checkout")
    assert _build_dir(code) == _build_dir(code)
    assert _build_dir(code) == _build_dir(link / "files" / "lambda")


def test_regions_stay_apart(tmp_path):
    code = _checkout(tmp_path, "checkout")
    assert _build_dir(code, "us-east-1") != _build_dir(code, "us-west-1")
