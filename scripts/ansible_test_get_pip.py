"""Stand-in for ansible-test's get-pip bootstrap script: pip from ensurepip, then from the index.

ansible-test creates each sanity test's virtual environment without pip and runs a cached
`get-pip.py` (`~/.ansible/test/cache/get_pip_<version>.py`) that it downloads from a host outside
the package registries this machine reaches. scripts/sanity.py installs this file in that cache
slot instead (when it is empty). ansible-test runs it as `get-pip.py [pip options] pip==<version>
[--no-setuptools] [--no-wheel]`: it bootstraps the pip wheel bundled with Python (ensurepip, no
network), then installs the requested pip from the configured package index (PyPI).
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, capture_output=True)
    args = [arg for arg in argv if arg not in GET_PIP_ONLY]
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
