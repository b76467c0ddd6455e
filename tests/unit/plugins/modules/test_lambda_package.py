"""secureinfra.baseline.lambda_package: deterministic zips on the local filesystem (no AWS)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.secureinfra.baseline.plugins.modules import lambda_package as mod


class Exit(Exception):
    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise Exit(kwargs, failed=False)


def _fail_json(self, msg, **kwargs):
    raise Exit({**kwargs, "msg": msg, "failed": True}, failed=True)


def run(args: dict[str, Any], check_mode=False, diff=False, expect_failure=False) -> dict[str, Any]:
    """Like the shared `run_module` fixture, but without the AWS connection arguments."""
    full = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with (
        patch_module_args(full),
        mock.patch.multiple(basic.AnsibleModule, exit_json=_exit_json, fail_json=_fail_json),
        pytest.raises(Exit) as exc,
    ):
        mod.main()
    assert exc.value.failed is expect_failure, exc.value.result
    return exc.value.result


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (src / "lib" / "util.py").write_text("X = 1\n")
    (src / "bin").mkdir()
    (src / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "bin" / "run.sh").chmod(0o700)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00pyc")
    (src / "lib" / "util.pyc").write_bytes(b"\x00pyc")
    (src / "tests").mkdir()
    (src / "tests" / "test_handler.py").write_text("def test(): pass\n")
    (src / ".env").write_text("SECRET=1\n")
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return src


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "out" / "fn.zip"


def _args(src: Path, dest: Path, **extra: Any) -> dict[str, Any]:
    dest.parent.mkdir(exist_ok=True)
    return {"src": str(src), "dest": str(dest), **extra}


def test_creates_expected_archive(tree, dest):
    result = run(_args(tree, dest))
    assert result["changed"] is True
    data = dest.read_bytes()
    assert result["files"] == ["bin/run.sh", "handler.py", "lib/util.py"]
    assert result["size"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["code_sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == result["files"]
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        modes = {i.filename: i.external_attr >> 16 for i in infos}
        assert modes == {"bin/run.sh": 0o755, "handler.py": 0o644, "lib/util.py": 0o644}
        assert archive.read("lib/util.py") == b"X = 1\n"


def test_rerun_is_idempotent_and_byte_identical(tree, dest, tmp_path):
    first = run(_args(tree, dest))
    data = dest.read_bytes()
    mtime = dest.stat().st_mtime_ns
    second = run(_args(tree, dest))
    assert second["changed"] is False
    assert second["sha256"] == first["sha256"]
    assert dest.read_bytes() == data
    assert dest.stat().st_mtime_ns == mtime  # not rewritten
    # an independent build of the same tree elsewhere gives the same bytes
    other = tmp_path / "other.zip"
    run(_args(tree, other))
    assert other.read_bytes() == data


def test_mtime_only_change_is_not_a_change(tree, dest):
    run(_args(tree, dest))
    data = dest.read_bytes()
    os.utime(tree / "handler.py", (1_000_000_000, 1_000_000_000))
    os.utime(tree / "lib" / "util.py", None)
    assert run(_args(tree, dest))["changed"] is False
    assert dest.read_bytes() == data


def test_content_change_and_new_file(tree, dest):
    first = run(_args(tree, dest))
    (tree / "lib" / "util.py").write_text("X = 2\n")
    second = run(_args(tree, dest), diff=True)
    assert second["changed"] is True
    assert second["sha256"] != first["sha256"]
    assert second["diff"]["before"]["sha256"] == first["sha256"]
    assert second["diff"]["after"]["sha256"] == second["sha256"]
    with zipfile.ZipFile(dest) as archive:
        assert archive.read("lib/util.py") == b"X = 2\n"
    (tree / "lib" / "new.py").write_text("Y = 1\n")
    third = run(_args(tree, dest), diff=True)
    assert third["changed"] is True
    assert "lib/new.py" in third["files"]
    assert "lib/new.py" not in third["diff"]["before"]["files"]
    assert "lib/new.py" in third["diff"]["after"]["files"]


def test_mode_change_is_a_change(tree, dest):
    run(_args(tree, dest))
    (tree / "handler.py").chmod(0o755)
    assert run(_args(tree, dest))["changed"] is True
    with zipfile.ZipFile(dest) as archive:
        assert archive.getinfo("handler.py").external_attr >> 16 == 0o755


def test_excluded_files_absent(tree, dest):
    result = run(_args(tree, dest))
    with zipfile.ZipFile(dest) as archive:
        names = archive.namelist()
    for name in names:
        assert "__pycache__" not in name
        assert not name.endswith(".pyc")
        assert not name.startswith(("tests/", ".env", ".git/"))
        assert not name.endswith("/")  # no directory entries
    assert names == result["files"]


def test_custom_exclude(tree, dest):
    result = run(_args(tree, dest, exclude=["bin", "lib/*.py"]))
    assert "tests/test_handler.py" in result["files"]
    assert ".env" in result["files"]
    assert "bin/run.sh" not in result["files"]
    assert "lib/util.py" not in result["files"]
    assert "lib/util.pyc" in result["files"]


def test_dest_inside_src_is_not_archived(tree):
    dest = tree / "build.zip"
    first = run({"src": str(tree), "dest": str(dest)})
    assert "build.zip" not in first["files"]
    assert run({"src": str(tree), "dest": str(dest)})["changed"] is False


def test_check_mode_on_absent_writes_nothing(tree, dest):
    result = run(_args(tree, dest), check_mode=True, diff=True)
    assert result["changed"] is True
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []
    assert result["diff"]["before"] == {}
    # the reported checksum is the one a real run then writes
    assert run(_args(tree, dest))["sha256"] == result["sha256"]


def test_check_mode_on_present_keeps_old_bytes(tree, dest):
    run(_args(tree, dest))
    data = dest.read_bytes()
    assert run(_args(tree, dest), check_mode=True)["changed"] is False
    (tree / "handler.py").write_text("changed\n")
    result = run(_args(tree, dest), check_mode=True)
    assert result["changed"] is True
    assert dest.read_bytes() == data
    assert list(dest.parent.iterdir()) == [dest]  # no temp file left behind


def test_replaces_a_corrupt_archive(tree, dest):
    dest.parent.mkdir()
    dest.write_bytes(b"not a zip")
    result = run(_args(tree, dest), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["files"] == []
    assert zipfile.is_zipfile(dest)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "does not exist"),
        ("file", "is not a directory"),
        ("empty", "no files to package"),
        ("all_excluded", "no files to package"),
        ("no_dest_dir", "directory of dest"),
        ("dest_is_dir", "is a directory"),
    ],
)
def test_bad_input(tmp_path, case, message):
    src = tmp_path / "src"
    src.mkdir()
    dest = tmp_path / "fn.zip"
    if case == "missing":
        src = tmp_path / "nope"
    elif case == "file":
        src = tmp_path / "a_file"
        src.write_text("x")
    elif case == "all_excluded":
        (src / "__pycache__").mkdir()
        (src / "__pycache__" / "a.pyc").write_bytes(b"x")
        (src / ".hidden").write_text("x")
    elif case == "no_dest_dir":
        (src / "a.py").write_text("x")
        dest = tmp_path / "missing" / "fn.zip"
    elif case == "dest_is_dir":
        (src / "a.py").write_text("x")
        dest.mkdir()
    result = run({"src": str(src), "dest": str(dest)}, expect_failure=True)
    assert message in result["msg"]
    if case != "dest_is_dir":
        assert not dest.exists()


def test_dest_dir_mode_creates_the_directory(tree, tmp_path):
    dest = tmp_path / "build" / "deep" / "fn.zip"
    first = run({"src": str(tree), "dest": str(dest), "dest_dir_mode": "0700"})
    assert first["changed"] is True and zipfile.is_zipfile(dest)
    assert dest.parent.stat().st_mode & 0o7777 == 0o700
    again = run({"src": str(tree), "dest": str(dest), "dest_dir_mode": "0700"})
    assert again["changed"] is False
    dest.parent.chmod(0o755)
    fixed = run({"src": str(tree), "dest": str(dest), "dest_dir_mode": "0700"})
    assert fixed["changed"] is True and dest.parent.stat().st_mode & 0o7777 == 0o700


def test_dest_dir_mode_in_check_mode_creates_nothing(tree, tmp_path):
    dest = tmp_path / "build" / "fn.zip"
    result = run({"src": str(tree), "dest": str(dest), "dest_dir_mode": "0700"}, check_mode=True)
    assert result["changed"] is True and not dest.parent.exists()


@pytest.mark.parametrize("mode", ["rwx", "99999", "-1"])
def test_dest_dir_mode_must_be_octal(tree, tmp_path, mode):
    dest = tmp_path / "build" / "fn.zip"
    result = run({"src": str(tree), "dest": str(dest), "dest_dir_mode": mode}, expect_failure=True)
    assert f"dest_dir_mode={mode!r}" in result["msg"] and "octal" in result["msg"]
    assert not dest.parent.exists()
