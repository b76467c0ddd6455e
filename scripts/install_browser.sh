#!/usr/bin/env bash
# Headless Chromium from Debian's packages, for the browser test of the verify report
# (tests/integration/test_verify_browser.py). Playwright for Python drives it through
# executable_path: Playwright's own browser downloads are not used.
#   scripts/install_browser.sh        install unless a chromium is already on PATH
# Needs root (apt-get); prints the browser's version at the end.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  chromium --version
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_browser.sh: chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
chromium --version
