#!/usr/bin/env bash
# The real clients tests/test_clients.py runs, from outside Python: Debian's newsboat and
# Chromium (plus a CJK font for the screenshot), Go with Debian's gofeed sources (a Go feed
# reader, built by the test), and Node.js + npm for the npm readers
# pinned in tests/clients/package-lock.json. Installs only what is missing; needs root or
# sudo for apt-get. Used by `make test` and `.ci/run`.
set -euo pipefail

packages=(newsboat chromium chromium-driver fonts-wqy-microhei golang-go golang-github-mmcdole-gofeed-dev)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0

if ! command -v apt-get >/dev/null; then
    echo "test clients missing (${missing[*]}) and no apt-get: install them yourself, or the client tests will fail and name them" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
        echo "test clients missing (${missing[*]}): run as root or install sudo; the client tests will fail and name them" >&2
        exit 0
    fi
fi
echo "installing the test clients: ${missing[*]} (Debian packages, for tests/test_clients.py)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
