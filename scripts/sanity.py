"""Run `ansible-test` (sanity or units) on a copy of this checkout laid out as a collection.

ansible-test only works inside `.../ansible_collections/<namespace>/<name>/`. This checkout is not
such a path, so the script copies the files git knows about (tracked, plus untracked files that
.gitignore does not exclude; deleted files are skipped) into a fresh temporary
`ansible_collections/secureinfra/baseline/` and runs ansible-test there with `--local` (the
sanity requirements are pinned in requirements-dev.lock: ansible-test's own bootstrap downloads
from a host outside the registries this machine reaches).

The copy is not a git repository: ansible-test then lists every file under the collection root
(its "unversioned" source), which is exactly the copied set, so the run is deterministic.

    python scripts/sanity.py sanity [ansible-test sanity options...]
    python scripts/sanity.py units  [ansible-test units options...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import ansible
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
SITE_COLLECTIONS = Path(ansible.__file__).resolve().parents[1] / "ansible_collections"
# Tests that cannot run on this machine; each is written down in README.md ("Sanity tests").
DEFAULT_SKIPS: dict[str, tuple[str, ...]] = {
    "sanity": (),
    "units": (),
}


def collection_name() -> tuple[str, str]:
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    return str(galaxy["namespace"]), str(galaxy["name"])


def checkout_files() -> list[str]:
    """The files git tracks (the index: what a clean clone holds, plus staged additions)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    names = sorted({name for name in out.split("\0") if name})
    return [name for name in names if os.path.lexists(REPO_ROOT / name)]


def copy_checkout(dest: Path, names: list[str]) -> None:
    for name in names:
        src = REPO_ROOT / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)


def link_dependencies(collections_root: Path) -> None:
    """Make galaxy.yml's dependencies (shipped in the `ansible` package) visible beside the copy."""
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    for dependency in sorted(galaxy.get("dependencies") or {}):
        namespace, name = dependency.split(".")
        installed = SITE_COLLECTIONS / namespace / name
        if not installed.is_dir():
            raise SystemExit(f"dependency {dependency} is not installed under {SITE_COLLECTIONS}")
        link = collections_root / namespace / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(installed, target_is_directory=True)


def install_pip_bootstrap() -> None:
    """Put scripts/ansible_test_get_pip.py where ansible-test looks for its cached get-pip script."""
    from ansible_test._internal.python_requirements import get_venv_packages

    python = SimpleNamespace(version=f"{sys.version_info.major}.{sys.version_info.minor}")
    pip_version = get_venv_packages(python)["pip"]  # type: ignore[arg-type]
    cache = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_version.replace('.', '_')}.py"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / "scripts" / "ansible_test_get_pip.py", cache)


def ansible_test_command(command: str, extra: list[str]) -> list[str]:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    cmd = [str(BIN_DIR / "ansible-test"), command, "--local", "--python", python, "--color", "no"]
    for test in DEFAULT_SKIPS[command]:
        cmd += ["--skip-test", test]
    return cmd + extra


def run(command: str, extra: list[str], keep: bool) -> int:
    namespace, name = collection_name()
    workdir = Path(tempfile.mkdtemp(prefix="secureinfra-ansible-test-"))
    root = workdir / "ansible_collections" / namespace / name
    try:
        install_pip_bootstrap()
        copy_checkout(root, checkout_files())
        link_dependencies(root.parent.parent)
        env = dict(os.environ)
        env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
        # Nothing from this checkout's own configuration (ansible.cfg, collections/) leaks in.
        for var in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
            env.pop(var, None)
        cmd = ansible_test_command(command, extra)
        print(f"+ (cd {root} && {' '.join(cmd)})", flush=True)
        return subprocess.run(cmd, cwd=root, env=env, check=False).returncode
    finally:
        if keep:
            print(f"kept {root}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=sorted(DEFAULT_SKIPS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary collection copy")
    args, extra = parser.parse_known_args(argv)
    return run(args.command, extra, args.keep)


if __name__ == "__main__":
    sys.exit(main())
