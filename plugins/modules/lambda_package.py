#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lambda_package
short_description: Package a directory into a deterministic zip for AWS Lambda
version_added: 0.1.0
description:
  - Zips the files of a directory into a byte-for-byte reproducible archive, so that the same
    source tree always gives the same C(CodeSha256) and a Lambda function is only updated when its
    code really changed.
  - Files are added sorted by relative path, with a fixed timestamp (1980-01-01 00:00:00), fixed
    permissions (C(0644), or C(0755) for files with an execute bit), C(ZIP_DEFLATED) at a fixed
    compression level, and without directory entries. Modification times and ownership are ignored.
  - The archive is built in memory and compared with the bytes of O(dest); O(dest) is only
    (atomically) rewritten when they differ.
  - Runs on the controller or any host with Python; it makes no AWS call.
options:
  src:
    description: Directory to package. Its contents are stored at the root of the archive.
    type: path
    required: true
  dest:
    description:
      - Path of the zip file to write. Its directory must exist, unless O(dest_dir_mode) is set.
      - If O(dest) lies inside O(src) it is never added to the archive.
    type: path
    required: true
  dest_dir_mode:
    description:
      - When set, the directory of O(dest) is created (with its parents) when it does not exist,
        and gets this mode, an octal string such as C('0700'). In check mode nothing is created, and
        a missing directory is reported as a change.
      - Unset, a missing directory is an error.
    type: str
    version_added: 0.3.0
  exclude:
    description:
      - Glob patterns (C(fnmatch) syntax) of files and directories to leave out.
      - A pattern is matched against every component of a file's relative path (so C(tests)
        drops every C(tests) directory and C(.*) every hidden file or directory) and against the
        whole relative path (so C(docs/*.md) works).
    type: list
    elements: str
    default: ['__pycache__', '*.pyc', 'tests', '.*']
notes:
  - Symbolic links to files are archived as the content they point to; symbolic links to
    directories are not followed.
  - The compressed bytes depend on the zlib library, so hosts with different zlib builds may produce
    different (equally valid) archives from the same tree.
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Package the function source
  secureinfra.baseline.lambda_package:
    src: "{{ role_path }}/files/rotate_keys"
    dest: "{{ build_dir }}/rotate_keys.zip"
  delegate_to: localhost
  register: package

- name: Deploy only when the code changed
  amazon.aws.lambda:
    name: rotate-keys
    zip_file: "{{ package.dest }}"
    # ...
  when: package.changed
"""

RETURN = r"""
dest:
  description: Path of the archive.
  returned: always
  type: str
  sample: /tmp/build/rotate_keys.zip
sha256:
  description: Hex SHA-256 of the archive bytes.
  returned: always
  type: str
  sample: 50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c
code_sha256:
  description: Base64 of the raw SHA-256 digest of the archive, as AWS Lambda reports it in C(CodeSha256).
  returned: always
  type: str
  sample: UNhY4JhezH9gQYqvDMWrWH9CwlcKiECVqejMrND2VFw=
size:
  description: Size of the archive in bytes.
  returned: always
  type: int
  sample: 2048
files:
  description: Relative paths of the archived files, in archive order.
  returned: always
  type: list
  elements: str
  sample: ["handler.py", "lib/util.py"]
"""

import base64
import fnmatch
import hashlib
import io
import os
import stat
import tempfile
import zipfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 9
FILE_MODE = 0o644
EXEC_MODE = 0o755
UNIX_SYSTEM = 3


def is_excluded(rel_path: str, patterns: list[str]) -> bool:
    """True if the relative path or any of its components matches a pattern."""
    parts = rel_path.split("/")
    return any(
        fnmatch.fnmatchcase(rel_path, pattern) or any(fnmatch.fnmatchcase(part, pattern) for part in parts)
        for pattern in patterns
    )


def collect_files(src: str, patterns: list[str], skip: str) -> list[tuple[str, str]]:
    """(relative posix path, absolute path) of every file to archive, sorted by relative path."""
    found: list[tuple[str, str]] = []
    for root, dirs, names in os.walk(src):
        rel_root = os.path.relpath(root, src)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
        dirs[:] = [d for d in dirs if not is_excluded(rel_root + d, patterns)]
        for name in names:
            rel = rel_root + name
            full = os.path.join(root, name)
            if is_excluded(rel, patterns) or os.path.realpath(full) == skip or not os.path.isfile(full):
                continue
            found.append((rel, full))
    return sorted(found)


def zip_entry(rel_path: str, full_path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(rel_path, date_time=FIXED_DATE_TIME)
    info.create_system = UNIX_SYSTEM
    executable = os.stat(full_path).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    info.external_attr = (EXEC_MODE if executable else FILE_MODE) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_archive(files: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel_path, full_path in files:
            with open(full_path, "rb") as handle:
                data = handle.read()
            archive.writestr(
                zip_entry(rel_path, full_path),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
                compresslevel=COMPRESS_LEVEL,
            )
    return buffer.getvalue()


def read_existing(module: AnsibleModule, dest: str) -> bytes | None:
    if not os.path.lexists(dest):
        return None
    if os.path.isdir(dest):
        module.fail_json(msg=f"dest {dest} is a directory, expected a zip file path")
    try:
        with open(dest, "rb") as handle:
            return handle.read()
    except OSError as e:
        module.fail_json(msg=f"Cannot read the existing archive {dest}: {e}")


def archive_names(data: bytes | None) -> list[str]:
    """File names in an existing archive, for the diff; empty if absent or not a zip."""
    if data is None:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except zipfile.BadZipFile:
        return []


def describe(data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {}
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "files": archive_names(data)}


def write_atomically(module: AnsibleModule, dest: str, data: bytes) -> None:
    fd, tmp_path = tempfile.mkstemp(prefix=".lambda_package-", suffix=".zip", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        module.atomic_move(tmp_path, dest)
    except OSError as e:
        module.fail_json(msg=f"Cannot write the archive {dest}: {e}")
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)


def validate(module: AnsibleModule, src: str, dest: str, dir_mode: int | None) -> None:
    if not os.path.exists(src):
        module.fail_json(msg=f"src {src} does not exist")
    if not os.path.isdir(src):
        module.fail_json(msg=f"src {src} is not a directory")
    dest_dir = os.path.dirname(dest)
    if not os.path.isdir(dest_dir) and dir_mode is None:
        module.fail_json(msg=f"The directory of dest ({dest_dir}) does not exist")


def parse_mode(module: AnsibleModule, value: str | None) -> int | None:
    """dest_dir_mode as a number: an octal string of permission bits."""
    if value is None:
        return None
    try:
        mode = int(str(value), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg=f"dest_dir_mode={value!r} is not an octal mode such as '0700'")
    return mode


def ensure_dir(module: AnsibleModule, path: str, mode: int) -> bool:
    """The directory of dest, created or given `mode`; whether it changed."""
    changed = False
    try:
        if not os.path.isdir(path):
            os.makedirs(path, mode=mode)
            changed = True
        if os.stat(path).st_mode & 0o7777 != mode:
            os.chmod(path, mode)
            changed = True
    except OSError as e:
        module.fail_json(msg=f"Cannot create the directory of dest ({path}) with mode {mode:04o}: {e}")
    return changed


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "dest_dir_mode": {"type": "str"},
            "exclude": {
                "type": "list",
                "elements": "str",
                "default": ["__pycache__", "*.pyc", "tests", ".*"],
            },
        },
        supports_check_mode=True,
    )
    src = module.params["src"]
    dest = os.path.abspath(module.params["dest"])
    dir_mode = parse_mode(module, module.params["dest_dir_mode"])
    validate(module, src, dest, dir_mode)
    files = collect_files(src, module.params["exclude"], os.path.realpath(dest))
    if not files:
        module.fail_json(msg=f"src {src} contains no files to package (after exclude)")
    data = build_archive(files)
    dir_changed = False
    if dir_mode is not None and not module.check_mode:
        dir_changed = ensure_dir(module, os.path.dirname(dest), dir_mode)
    existing = read_existing(module, dest)
    changed = existing != data
    if changed and not module.check_mode:
        write_atomically(module, dest, data)
    changed = changed or dir_changed
    digest = hashlib.sha256(data).digest()
    result: dict[str, Any] = {
        "changed": changed,
        "dest": dest,
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode("ascii"),
        "size": len(data),
        "files": [rel for rel, _content in files],
    }
    if module._diff:
        result["diff"] = {
            "before_header": dest,
            "after_header": dest,
            "before": describe(existing),
            "after": describe(data),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
